"""What is searched: the article's grid, configurations as keys and labels, and their checks.

Tuning varies the article's Seq2Seq, built by ``build_tunable_seq2seq`` on chapter 07's page
(:mod:`checkin_traj.pages.tuning`): its ``num_layers`` counts every LSTM layer, the decoder
included (the article's "three LSTM layers" is ``num_layers=3``; at least :data:`MIN_LAYERS`).
A grid or a space may name that builder's keywords (:func:`hyperparameter_names`).
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np

from ..checks import check_choice, check_fraction, check_int, check_positive

#: The article's search space: hidden size x dropout x LSTM layers x activation (81
#: configurations). The article reports its best, not its whole grid; these values bracket
#: it (:data:`ARTICLE_BEST`) with one smaller and one larger value on each numeric axis.
#: ``num_layers`` counts LSTM layers in the article's form (decoder included, >= 2).
ARTICLE_GRID = {"num_hiddens": [32, 64, 128], "dropout": [0.0, 0.2, 0.5], "num_layers": [2, 3, 4],
                "activation": ["tanh", "sigmoid", "relu"]}

#: The article's best configuration, "64 units, dropout 0.5, three LSTM layers, sigmoid"
#: (its reported scores are ``checkin_traj.metrics.ARTICLE_SCORES["tuned Seq2Seq"]``).
ARTICLE_BEST = {"num_hiddens": 64, "dropout": 0.5, "num_layers": 3, "activation": "sigmoid"}

#: The fewest LSTM layers of the tuned form: an encoder layer and the decoder.
MIN_LAYERS = 2

#: Cell activations a grid may try (Keras' names; the article's grid: tanh, sigmoid, relu).
ACTIVATIONS = ("tanh", "sigmoid", "relu", "elu", "softsign", "linear")

#: The builder's arguments that the data sets, not the search (the number of features).
SHAPE_ARGUMENTS = ("input_size",)

#: Hyperparameters in words, for tables and figures.
HYPERPARAMETER_LABELS = {"num_hiddens": "hidden units", "dropout": "dropout", "num_layers": "LSTM layers",
                         "activation": "cell activation", "learning_rate": "learning rate"}


def hyperparameter_names() -> tuple:
    """The hyperparameters a grid or a space may name: the keywords of the builder on chapter 07's page
    but the input size (read from its signature, so a keyword added there can be searched at once)."""
    import inspect

    from ..pages.tuning import build_tunable_seq2seq

    parameters = inspect.signature(build_tunable_seq2seq).parameters
    return tuple(name for name in parameters if name not in SHAPE_ARGUMENTS)


def check_value(name, value):
    """One hyperparameter value, checked and converted to a plain Python type (``grid[name]`` named)."""
    where = f"grid[{name!r}] values"
    if name in ("num_hiddens", "num_heads"):
        return check_int(where, value, minimum=1)
    if name == "num_layers":
        return check_int(f"{where} (article form: LSTM layers)", value, minimum=MIN_LAYERS)
    if name == "dropout":
        return check_fraction(where, value)
    if name == "learning_rate":
        return check_positive(where, value)
    if name == "activation":
        return check_choice(where, value, ACTIVATIONS)
    if isinstance(value, bool) or not isinstance(value, (str, int, float, np.generic)):
        raise ValueError(f"{where} must be numbers or strings, got {value!r}")
    return value.item() if isinstance(value, np.generic) else value


def check_names(names, *, what):
    """Reject hyperparameter names the builder does not take, naming ``what`` held them."""
    reserved = sorted(set(names) & set(SHAPE_ARGUMENTS))
    if reserved:
        raise ValueError(f"{what} must not set {reserved}: they are taken from the data")
    known = hyperparameter_names()
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"{what}: unknown hyperparameter(s) {unknown}; build_tunable_seq2seq accepts {list(known)}")


def _shrink(grid, max_configs):
    """Drop values (the last first, never the article's best) from the longest axis until the product is <= max_configs."""
    grid = {name: list(values) for name, values in grid.items()}
    while math.prod(len(values) for values in grid.values()) > max_configs:
        name = max(grid, key=lambda key: len(grid[key]))  # first longest axis in key order
        if len(grid[name]) == 1:
            break
        keep = ARTICLE_BEST.get(name)
        droppable = [index for index, value in enumerate(grid[name]) if value != keep]
        del grid[name][droppable[-1]]
    return grid


def grid_space(grid=ARTICLE_GRID, *, max_configs=None) -> dict:
    """Check a grid (hyperparameter name -> values to try, e.g. :data:`ARTICLE_GRID`), optionally shrunk.

    ``max_configs``: most configurations to keep. The grid stays a full product (so every
    heatmap cell is filled): values are dropped from the longest axis first, the last value
    first, never the article's best value (:data:`ARTICLE_BEST`). Returns the grid, values as
    Python ``int``, ``float`` or ``str``, in the given order. ``ValueError`` names the bad
    hyperparameter or value: unknown names, empty or repeated values, values the builder
    would reject (e.g. ``num_layers`` 1), or ``max_configs < 1``.
    """
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"grid must be a non-empty dict of hyperparameter name to values, got {grid!r}")
    if max_configs is not None:
        max_configs = check_int("max_configs", max_configs, minimum=1)
    check_names(grid, what="grid")
    checked = {}
    for name, values in grid.items():
        if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
            raise ValueError(f"grid[{name!r}] must be a list of values, got {values!r}")
        values = [check_value(name, value) for value in values]
        if not values:
            raise ValueError(f"grid[{name!r}] is empty: give at least one value")
        if len(set(values)) != len(values):
            raise ValueError(f"grid[{name!r}] repeats a value: {values}")
        checked[name] = values
    return _shrink(checked, max_configs) if max_configs is not None else checked


def grid_configurations(grid) -> list:
    """Every configuration of a (checked) grid, as dicts, the last hyperparameter varying fastest."""
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*grid.values())]


def config_key(config) -> str:
    """A configuration as canonical JSON (sorted keys), the identity of a grid trial."""
    return json.dumps({name: config[name] for name in sorted(config)}, sort_keys=True)


def config_label(config, *, names=None) -> str:
    """A short label such as ``"64 / 0.5 / 3 / sigmoid"`` (values in ``names`` order)."""
    names = list(config) if names is None else names
    return " / ".join(_format_value(config[name]) for name in names)


def _format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.1f}" if value.is_integer() else f"{value:.3g}"
    return str(value)


def space_json(space) -> dict:
    """A sampler's space as JSON-able dicts (what a study records of it)."""
    from optuna.distributions import distribution_to_json

    return {name: json.loads(distribution_to_json(distribution)) for name, distribution in space.items()}


def check_space(space) -> dict:
    """A sampler's space (chapter 07's ``SEARCH_SPACE``): a non-empty dict of known names to optuna
    Int/Float/Categorical distributions."""
    import optuna

    if not isinstance(space, dict) or not space:
        raise ValueError(f"space must be a non-empty dict of hyperparameter name to optuna distribution, got {space!r}")
    space = dict(space)
    check_names(space, what="space")
    distributions = optuna.distributions
    kinds = (distributions.IntDistribution, distributions.FloatDistribution, distributions.CategoricalDistribution)
    for name, distribution in space.items():
        if not isinstance(distribution, kinds):
            raise ValueError(
                f"space[{name!r}] must be an optuna IntDistribution, FloatDistribution or CategoricalDistribution, "
                f"got {distribution!r}"
            )
    if "num_layers" in space and isinstance(space["num_layers"], distributions.IntDistribution):
        check_value("num_layers", space["num_layers"].low)
    return space
