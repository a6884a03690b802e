"""What is searched: the article's grid, the sampler's space, and configurations as keys.

Tuning varies the **article's form** of the Seq2Seq model
(``checkin_traj.models.build_model("seq2seq", variant="article")``): its ``num_layers``
counts every LSTM layer, the decoder included, so the article's "three LSTM layers" is
``num_layers=3`` (two stacked encoder layers and the decoder) and the form needs at least 2
(see ``checkin_traj.models.VARIANT_DIFFERENCES``). Nothing here imports TensorFlow or Optuna
until a function needs them.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np

from ..checks import check_choice, check_fraction, check_int, check_positive

MODEL = "seq2seq"
#: The model form every trial trains (``checkin_traj.models.VARIANTS``).
VARIANT = "article"

#: The article's search space: hidden size x dropout x LSTM layers x activation (81
#: configurations). The article reports its best, not its whole grid; these values bracket
#: it (:data:`ARTICLE_BEST`) with one smaller and one larger value on each numeric axis.
#: ``num_layers`` counts LSTM layers in the article's form (decoder included, >= 2).
ARTICLE_GRID = {
    "num_hiddens": [32, 64, 128],
    "dropout": [0.0, 0.2, 0.5],
    "num_layers": [2, 3, 4],
    "activation": ["tanh", "sigmoid", "relu"],
}

#: The article's best configuration, "64 units, dropout 0.5, three LSTM layers, sigmoid"
#: (its reported scores are ``checkin_traj.metrics.ARTICLE_SCORES["tuned Seq2Seq"]``).
ARTICLE_BEST = {"num_hiddens": 64, "dropout": 0.5, "num_layers": 3, "activation": "sigmoid"}

def min_layers(variant=VARIANT) -> int:
    """The fewest ``num_layers`` a form accepts: 2 in the article's (encoder and decoder), 1 in the book's.

    (``build_article_seq2seq`` counts every LSTM layer, the decoder included; ``build_seq2seq``
    counts encoder layers. The builders reject fewer; this names it before any training.)
    """
    from ..models import VARIANTS

    return 2 if check_choice("variant", variant, VARIANTS) == "article" else 1


def search_space(variant=VARIANT):
    """The sampler's search space: the grid's ranges, filled in, plus the learning rate.

    Returns
    -------
    dict of str to optuna.distributions.BaseDistribution
        ``num_hiddens`` any integer in 16..128 (log scale), ``dropout`` any number in
        0..0.6, ``num_layers`` the grid's 2..4 LSTM layers (article form; 1..3 encoder
        layers in the book's), ``activation`` tanh/sigmoid/relu, and Adam's
        ``learning_rate`` 1e-4..1e-2 (log scale), which the article kept fixed. The ranges
        stop where the grid's do, so no trial costs more than the grid's largest model.
    """
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    low = min_layers(variant)
    return {
        "num_hiddens": IntDistribution(16, 128, log=True),
        "dropout": FloatDistribution(0.0, 0.6),
        "num_layers": IntDistribution(low, low + 2),
        "activation": CategoricalDistribution(("tanh", "sigmoid", "relu")),
        "learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
    }


def check_value(name, value, *, variant=VARIANT):
    """One hyperparameter value, checked and converted to a plain Python type (``grid[name]`` named)."""
    from ..models import LSTM_ACTIVATIONS

    where = f"grid[{name!r}] values"
    if name in ("num_hiddens", "num_heads"):
        return check_int(where, value, minimum=1)
    if name == "num_layers":
        return check_int(f"{where} ({variant} form: LSTM layers)", value, minimum=min_layers(variant))
    if name == "dropout":
        return check_fraction(where, value)
    if name == "learning_rate":
        return check_positive(where, value)
    if name == "activation":
        return check_choice(where, value, LSTM_ACTIVATIONS)
    if isinstance(value, bool) or not isinstance(value, (str, int, float, np.generic)):
        raise ValueError(f"{where} must be numbers or strings, got {value!r}")
    return value.item() if isinstance(value, np.generic) else value


def known_hyperparameters(variant=VARIANT):
    """The Seq2Seq builder's hyperparameters in ``variant`` form (its keywords minus the shape ones)."""
    from ..models import hyperparameter_names

    return hyperparameter_names(MODEL, variant)


def check_names(names, *, what, variant=VARIANT):
    """Reject hyperparameter names the builder does not take, naming ``what`` held them."""
    known = known_hyperparameters(variant)
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"{what}: unknown hyperparameter(s) {unknown}; the {variant} form of {MODEL} accepts {known}")


def _shrink(grid, max_configs):
    """Drop values, from the longest axis first, until the product is <= max_configs.

    The article's best value on an axis is kept; otherwise the last value goes first.
    """
    grid = {name: list(values) for name, values in grid.items()}
    while math.prod(len(values) for values in grid.values()) > max_configs:
        name = max(grid, key=lambda key: len(grid[key]))  # first longest axis in key order
        if len(grid[name]) == 1:
            break
        keep = ARTICLE_BEST.get(name)
        droppable = [index for index, value in enumerate(grid[name]) if value != keep]
        del grid[name][droppable[-1]]
    return grid


def grid_space(grid=ARTICLE_GRID, *, max_configs=None, variant=VARIANT) -> dict:
    """Check a grid and optionally shrink it to a budget.

    Parameters
    ----------
    grid : dict of str to sequence
        Hyperparameter name (a keyword of the Seq2Seq builder in ``variant`` form) to the
        values to try, e.g. :data:`ARTICLE_GRID`.
    max_configs : int, optional
        Most configurations to keep. The grid stays a full product (so every heatmap cell
        is filled): values are dropped from the longest axis first, the last value first,
        never the article's best value (:data:`ARTICLE_BEST`).
    variant : {"article", "book"}
        The model form the grid is for (:data:`VARIANT` by default).

    Returns
    -------
    dict of str to list
        The grid, values as Python ``int``, ``float`` or ``str``, in the given order.

    Raises
    ------
    ValueError
        Naming the bad hyperparameter or value: unknown names, empty or repeated values,
        values the builder would reject (e.g. ``num_layers`` 1 in the article's form), or
        ``max_configs < 1``.
    """
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"grid must be a non-empty dict of hyperparameter name to values, got {grid!r}")
    if max_configs is not None:
        max_configs = check_int("max_configs", max_configs, minimum=1)
    from ..models import SHAPE_ARGUMENTS

    reserved = sorted(set(grid) & set(SHAPE_ARGUMENTS))
    if reserved:
        raise ValueError(f"grid must not set {reserved}: they are taken from the data")
    check_names(grid, what="grid", variant=variant)
    checked = {}
    for name, values in grid.items():
        if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
            raise ValueError(f"grid[{name!r}] must be a list of values, got {values!r}")
        values = [check_value(name, value, variant=variant) for value in values]
        if not values:
            raise ValueError(f"grid[{name!r}] is empty: give at least one value")
        if len(set(values)) != len(values):
            raise ValueError(f"grid[{name!r}] repeats a value: {values}")
        checked[name] = values
    return _shrink(checked, max_configs) if max_configs is not None else checked


def check_config(config, *, variant=VARIANT) -> dict:
    """One configuration (hyperparameter to value), checked as a one-point grid."""
    if not isinstance(config, dict) or not config:
        raise ValueError(f"config must be a non-empty dict of hyperparameters, got {config!r}")
    grid = grid_space({name: [value] for name, value in config.items()}, variant=variant)
    return {name: values[0] for name, values in grid.items()}


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


def check_space(space, *, variant=VARIANT) -> dict:
    """A sampler's space: a non-empty dict of known names to optuna Int/Float/Categorical distributions."""
    import optuna

    space = search_space(variant) if space is None else dict(space)
    if not space:
        raise ValueError("space must name at least one hyperparameter")
    check_names(space, what="space", variant=variant)
    distributions = optuna.distributions
    kinds = (distributions.IntDistribution, distributions.FloatDistribution, distributions.CategoricalDistribution)
    for name, distribution in space.items():
        if not isinstance(distribution, kinds):
            raise ValueError(
                f"space[{name!r}] must be an optuna IntDistribution, FloatDistribution or CategoricalDistribution, "
                f"got {distribution!r}"
            )
    if "num_layers" in space and isinstance(space["num_layers"], distributions.IntDistribution):
        check_value("num_layers", space["num_layers"].low, variant=variant)
    return space
