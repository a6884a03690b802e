"""Hyperparameter search over the Seq2Seq model with Optuna: the article's grid and a sampler beyond it.

Every trial trains :func:`checkin_traj.models.build_seq2seq` with
:func:`checkin_traj.training.train_model` and is scored on the **validation** split
(RMSE on the scaled targets, the article's number); the test split is touched only by
:func:`score_on_test`, once, for the configuration chosen on validation.

Trials live in an Optuna storage, so a search survives interruptions and can be shared:

- ``sqlite:///path/tuning.db`` (or a plain path to a ``.db`` file), the default: one file,
  several processes on one machine. Every transaction takes SQLite's write lock
  (``BEGIN IMMEDIATE``) and waits up to ``timeout_s`` for it, so two processes never claim
  the same trial.
- ``postgresql://user:password@host:5432/db`` (driver ``psycopg2-binary``, the
  ``postgres`` extra): several machines on one study. Nothing else changes.

How the grid is run. Each configuration of the grid is put in Optuna's queue
(:meth:`optuna.study.Study.enqueue_trial`) as a ``WAITING`` trial, and each worker takes
the next one; the storage hands a waiting trial to exactly one worker. Before running,
:func:`run_study` queues only the configurations that have no ``COMPLETE``, ``WAITING`` or
``RUNNING`` trial, so a repeated call resumes: completed configurations are not trained
again, and one whose trial failed (an exception, Ctrl-C) or was left ``RUNNING`` by a
worker that died (no heartbeat for ``2 * heartbeat_s`` seconds) is trained again. If two
workers queue the same configuration at the same moment, the trial with the higher number
is skipped without training (state ``PRUNED``, user attribute ``skipped``). Optuna's own
:class:`~optuna.samplers.GridSampler` is not used because it may run a configuration twice
when workers run concurrently, never retries a failed configuration, and re-runs one when
an exhausted study is optimized again.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import numbers
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

MODEL = "seq2seq"

#: The article's search space: hidden size x dropout x LSTM layers x activation (81
#: configurations). The article reports its best, not its whole grid; these values bracket
#: it (:data:`ARTICLE_BEST`) with one smaller and one larger value on each numeric axis.
ARTICLE_GRID = {
    "num_hiddens": [32, 64, 128],
    "dropout": [0.0, 0.2, 0.5],
    "num_layers": [1, 2, 3],
    "activation": ["tanh", "sigmoid", "relu"],
}

#: The article's best configuration (its reported scores are
#: ``checkin_traj.metrics.ARTICLE_SCORES["tuned Seq2Seq"]``).
ARTICLE_BEST = {"num_hiddens": 64, "dropout": 0.5, "num_layers": 3, "activation": "sigmoid"}

SAMPLERS = ("grid", "tpe")
TARGET_MODES = ("absolute", "offset")
STORAGE_DIALECTS = ("sqlite", "postgresql", "mysql")
DEFAULT_STORAGE = "sqlite:///tuning.db"
#: Study settings that must match when a study is loaded again (else its trials would mix).
STUDY_SETTINGS = ("sampler", "space", "epochs", "batch_size", "patience", "seed", "target_mode", "data")

#: Completed trials from which :func:`hyperparameter_importance` uses fANOVA (else eta squared).
FANOVA_MIN_TRIALS = 16

_LSTM_ACTIVATIONS = ("tanh", "sigmoid", "relu", "elu", "softsign", "linear")
_RESERVED = ("window", "n_features", "n_targets")
_TRAINED = "trained"  # user attribute set on trials that trained a model
_SKIPPED = "skipped"  # user attribute set on trials skipped without training
_CONFIG = "config"  # user attribute: the configuration as canonical JSON


# --------------------------------------------------------------------------- search spaces


def _default_search_space():
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    return {
        "num_hiddens": IntDistribution(16, 128, log=True),
        "dropout": FloatDistribution(0.0, 0.6),
        "num_layers": IntDistribution(1, 3),
        "activation": CategoricalDistribution(("tanh", "sigmoid", "relu")),
        "learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
    }


def search_space():
    """The sampler's search space: the grid's ranges, filled in, plus the learning rate.

    Returns
    -------
    dict of str to optuna.distributions.BaseDistribution
        ``num_hiddens`` any integer in 16..128 (log scale), ``dropout`` any number in
        0..0.6, ``num_layers`` 1..3, ``activation`` tanh/sigmoid/relu, and Adam's
        ``learning_rate`` 1e-4..1e-2 (log scale), which the article kept fixed. The ranges
        stop where the grid's do, so no trial costs more than the grid's largest model.
    """
    return _default_search_space()


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_value(name, value):
    if name in ("num_hiddens", "num_layers", "num_heads"):
        if not _is_int(value) or value < 1:
            raise ValueError(f"grid[{name!r}] values must be integers >= 1, got {value!r}")
        return int(value)
    if name == "dropout":
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) < 1.0:
            raise ValueError(f"grid['dropout'] values must be numbers in [0, 1), got {value!r}")
        return float(value)
    if name == "learning_rate":
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 < float(value) < math.inf:
            raise ValueError(f"grid['learning_rate'] values must be positive numbers, got {value!r}")
        return float(value)
    if name == "activation":
        if value not in _LSTM_ACTIVATIONS:
            raise ValueError(f"grid['activation'] values must be among {_LSTM_ACTIVATIONS}, got {value!r}")
        return value
    if not isinstance(value, (str, numbers.Real)) or isinstance(value, bool):
        raise ValueError(f"grid[{name!r}] values must be numbers or strings, got {value!r}")
    return value.item() if isinstance(value, np.generic) else value


def _known_hyperparameters():
    """The Seq2Seq builder's hyperparameters (its keywords minus the shape ones)."""
    from .models import hyperparameter_names

    return hyperparameter_names(MODEL)


def _check_names(names, *, what):
    known = _known_hyperparameters()
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"{what}: unknown hyperparameter(s) {unknown}; build_seq2seq accepts {known}")


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


def grid_space(grid=ARTICLE_GRID, *, max_configs=None) -> dict:
    """Check a grid and optionally shrink it to a budget.

    Parameters
    ----------
    grid : dict of str to sequence
        Hyperparameter name (a keyword of :func:`checkin_traj.models.build_seq2seq`) to the
        values to try, e.g. :data:`ARTICLE_GRID`.
    max_configs : int, optional
        Most configurations to keep. The grid stays a full product (so every heatmap cell
        is filled): values are dropped from the longest axis first, the last value first,
        never the article's best value (:data:`ARTICLE_BEST`).

    Returns
    -------
    dict of str to list
        The grid, values as Python ``int``, ``float`` or ``str``, in the given order.

    Raises
    ------
    ValueError
        Naming the bad hyperparameter or value: unknown names, empty or repeated values,
        values the builder would reject, or ``max_configs < 1``.
    """
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"grid must be a non-empty dict of hyperparameter name to values, got {grid!r}")
    if max_configs is not None and (not _is_int(max_configs) or max_configs < 1):
        raise ValueError(f"max_configs must be an integer >= 1 or None, got {max_configs!r}")
    reserved = sorted(set(grid) & set(_RESERVED))
    if reserved:
        raise ValueError(f"grid must not set {reserved}: they are taken from the data")
    _check_names(grid, what="grid")
    checked = {}
    for name, values in grid.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise ValueError(f"grid[{name!r}] must be a list of values, got {values!r}")
        values = [_check_value(name, value) for value in values]
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


# --------------------------------------------------------------------------- storage


def default_storage(workdir) -> str:
    """The default storage of a run: ``sqlite:///WORKDIR/results/tuning.db`` (absolute path)."""
    return f"sqlite:///{(Path(workdir) / 'results' / 'tuning.db').resolve()}"


def storage_url(storage) -> str:
    """Turn a path or URL into a checked SQLAlchemy URL string.

    Parameters
    ----------
    storage : str or Path
        ``sqlite:///relative.db``, ``sqlite:////absolute.db``, a path to a ``.db`` file, or
        a ``postgresql://`` (or ``mysql://``) URL.

    Raises
    ------
    ValueError
        For an unparsable URL, an unsupported dialect, an in-memory SQLite database (it
        cannot be resumed or shared) or a missing database driver.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if isinstance(storage, Path) or (isinstance(storage, str) and "://" not in storage):
        if not str(storage) or str(storage) == ":memory:":
            raise ValueError(f"storage must be a database URL or a .db file path, got {storage!r}")
        return f"sqlite:///{Path(storage).resolve()}"
    if not isinstance(storage, str):
        raise ValueError(f"storage must be a URL string or a path, got {type(storage).__name__}")
    try:
        url = make_url(storage)
    except ArgumentError as error:
        raise ValueError(f"storage {storage!r} is not a database URL such as 'sqlite:///tuning.db': {error}") from None
    dialect = url.get_backend_name()
    if dialect not in STORAGE_DIALECTS:
        raise ValueError(f"storage dialect must be one of {STORAGE_DIALECTS}, got {dialect!r} in {redact(storage)!r}")
    if dialect == "sqlite" and url.database in (None, "", ":memory:"):
        raise ValueError(
            f"storage {storage!r} is an in-memory SQLite database: it can be neither resumed nor shared; "
            "give a file, e.g. 'sqlite:///results/tuning.db'"
        )
    if dialect == "postgresql" and url.get_driver_name() == "psycopg2":
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            raise ValueError("a postgresql:// storage needs psycopg2: pip install 'checkin-traj[postgres]'") from None
    return storage


def redact(storage) -> str:
    """The storage URL with any password replaced by ``***`` (safe to print or save)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(str(storage)).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable storage URL>"


def _serialise_sqlite(engine):
    """Make every SQLite transaction take the write lock at BEGIN (``BEGIN IMMEDIATE``).

    pysqlite starts a transaction only at the first write, so two processes can both read a
    trial as WAITING and both mark it RUNNING. With ``BEGIN IMMEDIATE`` the read and the
    write happen under one lock, and the busy timeout makes the second process wait.
    """
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine.dispose()  # connections opened before the listeners would not use them


def open_storage(storage=DEFAULT_STORAGE, *, timeout_s=120.0, heartbeat_s=30):
    """An Optuna RDB storage with heartbeats, safe for several processes.

    Parameters
    ----------
    storage : str or Path
        See :func:`storage_url`. The folder of a SQLite file is created.
    timeout_s : float
        Seconds a process waits for SQLite's lock before failing (SQLite only).
    heartbeat_s : int
        Seconds between a running trial's heartbeats; a ``RUNNING`` trial without one for
        ``2 * heartbeat_s`` seconds belongs to a dead worker and is failed, then retried.

    Returns
    -------
    optuna.storages.RDBStorage
    """
    import optuna
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import IntegrityError, OperationalError

    url = storage_url(storage)
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, numbers.Real) or not timeout_s > 0:
        raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
    if not _is_int(heartbeat_s) or heartbeat_s < 1:
        raise ValueError(f"heartbeat_s must be an integer >= 1 (seconds), got {heartbeat_s!r}")
    sqlite = url.startswith("sqlite")
    if sqlite:
        Path(make_url(url).database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine_kwargs = {"connect_args": {"timeout": float(timeout_s)}}
    else:
        engine_kwargs = {"pool_pre_ping": True}
    for attempt in range(3):  # two processes creating the tables at once: the loser retries (tables exist then)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeat arguments
                rdb = optuna.storages.RDBStorage(
                    url,
                    engine_kwargs=engine_kwargs,
                    heartbeat_interval=int(heartbeat_s),
                    grace_period=2 * int(heartbeat_s),
                )
            break
        except (OperationalError, IntegrityError):
            if attempt == 2:
                raise
            time.sleep(0.5 * (attempt + 1))
    if sqlite:
        _serialise_sqlite(rdb.engine)
    return rdb


# --------------------------------------------------------------------------- the objective


def _train_model(name, data, **kwargs):
    """The default trainer: :func:`checkin_traj.training.train_model` on a fresh Keras session."""
    import keras

    from .training import train_model

    keras.backend.clear_session()
    return train_model(name, data, **kwargs)


def _evaluate(data, y_pred_scaled, *, split):
    from .metrics import evaluate

    return evaluate(data, y_pred_scaled, split=split)


def _numbers(scores) -> dict:
    """The real-number entries of a metrics dict as Python floats (JSON-able); others dropped."""
    flat = {}
    for key, value in scores.items():
        if isinstance(value, (numbers.Real, np.generic)) and not isinstance(value, bool):
            flat[key] = float(value)
    return flat


def _suggest(trial, name, distribution):
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(name, list(distribution.choices))
    if isinstance(distribution, IntDistribution):
        low, high, step, log = distribution.low, distribution.high, distribution.step, distribution.log
        return trial.suggest_int(name, low, high, step=step, log=log)
    if isinstance(distribution, FloatDistribution):
        low, high, step, log = distribution.low, distribution.high, distribution.step, distribution.log
        return trial.suggest_float(name, low, high, step=step, log=log)
    raise ValueError(f"search_space[{name!r}] must be an optuna Int, Float or Categorical distribution")


def _duplicate_of(trial, key):
    """The number of an earlier live trial of the same configuration, or None."""
    from optuna.trial import TrialState

    live = (TrialState.WAITING, TrialState.RUNNING, TrialState.COMPLETE)
    for other in trial.study.get_trials(deepcopy=False, states=live):
        if other.number < trial.number and other.user_attrs.get(_CONFIG) == key:
            return other.number
    return None


class _Objective:
    """Train one configuration, return its validation RMSE; metrics go to user attributes."""

    def __init__(self, data, *, sampler, grid, space, trainer, train_kwargs, verbose):
        self.data = data
        self.sampler = sampler
        self.grid = grid
        self.space = space
        self.trainer = trainer
        self.train_kwargs = train_kwargs
        self.verbose = verbose
        self.trained = 0

    def __call__(self, trial):
        import optuna

        if self.sampler == "grid":
            key = trial.user_attrs.get(_CONFIG)
            if key is None:  # another worker took the last queued configuration first
                trial.set_user_attr(_SKIPPED, "no queued configuration left")
                raise optuna.TrialPruned()
            earlier = _duplicate_of(trial, key)
            if earlier is not None:
                trial.set_user_attr(_SKIPPED, f"duplicate of trial {earlier}")
                raise optuna.TrialPruned()
            config = {name: trial.suggest_categorical(name, values) for name, values in self.grid.items()}
        else:
            config = {name: _suggest(trial, name, distribution) for name, distribution in self.space.items()}
            trial.set_user_attr(_CONFIG, config_key(config))
        started = time.perf_counter()
        trained = self.trainer(MODEL, self.data, hyperparameters=config, **self.train_kwargs)
        scores = _numbers(_evaluate(self.data, trained.predict("val"), split="val"))
        seconds = time.perf_counter() - started
        for name, value in scores.items():
            trial.set_user_attr(f"val_{name}", value)
        trial.set_user_attr("epochs_run", int(trained.epochs_run))
        trial.set_user_attr("seconds", float(seconds))
        trial.set_user_attr(_TRAINED, True)
        self.trained += 1
        if self.verbose:
            print(
                f"trial {trial.number} ({config_label(config)}): val RMSE {scores['rmse']:.4f}, "
                f"R² {scores.get('r2', float('nan')):.3f}, {trained.epochs_run} epochs, {seconds:.1f} s",
                flush=True,
            )
        return scores["rmse"]


# --------------------------------------------------------------------------- running a study


def _check_int(name, value, *, minimum):
    if not _is_int(value) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_training(target_mode, epochs, batch_size, patience):
    """Check the training settings every trial or seed uses; returns ``(epochs, batch_size, patience)``."""
    if target_mode not in TARGET_MODES:
        raise ValueError(f"target_mode must be one of {TARGET_MODES}, got {target_mode!r}")
    return (
        _check_int("epochs", epochs, minimum=1),
        _check_int("batch_size", batch_size, minimum=1),
        _check_int("patience", patience, minimum=0),
    )


def _check_data(data):
    for split in ("train", "val"):
        part = getattr(data, split, None)
        if part is None or not all(hasattr(part, name) for name in ("x", "y", "last")):
            raise ValueError(f"data.{split} must hold x, y and last: pass a WindowedData from build_windows")
        if len(part.y) < 2:
            raise ValueError(f"data.{split} has {len(part.y)} windows; validation scores need at least 2")


def data_fingerprint(data) -> dict:
    """Window counts, shapes and a hash of the validation targets, to tell data sets apart."""
    val_y = np.ascontiguousarray(np.asarray(data.val.y, dtype=np.float32))
    x_shape = np.shape(data.train.x)
    return {
        "windows": {split: len(getattr(data, split).y) for split in ("train", "val", "test") if hasattr(data, split)},
        "window": int(x_shape[1]),
        "n_features": int(x_shape[2]),
        "val_sha1": hashlib.sha1(val_y.tobytes()).hexdigest()[:16],
    }


def _space_json(space) -> dict:
    from optuna.distributions import distribution_to_json

    return {name: json.loads(distribution_to_json(distribution)) for name, distribution in space.items()}


def _check_study_settings(study, settings):
    stored = study.user_attrs
    if not any(name in stored for name in STUDY_SETTINGS):
        for name, value in settings.items():
            study.set_user_attr(name, value)
        return
    differ = {
        name: (stored.get(name), settings[name])
        for name in STUDY_SETTINGS
        if json.loads(json.dumps(stored.get(name))) != json.loads(json.dumps(settings[name]))
    }
    if differ:
        lines = "; ".join(f"{name}: stored {old!r}, now {new!r}" for name, (old, new) in differ.items())
        raise ValueError(
            f"study {study.study_name!r} already exists in this storage with other settings ({lines}); "
            "its trials would not be comparable: use another study_name or storage"
        )


def _trials_by_key(study):
    from optuna.trial import TrialState

    states = {}
    for trial in study.get_trials(deepcopy=False):
        key = trial.user_attrs.get(_CONFIG)
        if key is not None and trial.state != TrialState.PRUNED:
            states.setdefault(key, set()).add(trial.state)
    return states


def _queue_missing(study, configurations, retried):
    """Queue the configurations with no COMPLETE, WAITING or RUNNING trial; return how many."""
    from optuna.trial import TrialState

    live = {TrialState.COMPLETE, TrialState.WAITING, TrialState.RUNNING}
    states = _trials_by_key(study)
    queued = 0
    for config in configurations:
        key = config_key(config)
        seen = states.get(key, set())
        if seen & live:
            continue
        if seen:  # failed before (exception, interrupted or dead worker): retry once per call
            if key in retried:
                continue
            retried.add(key)
        study.enqueue_trial(config, user_attrs={_CONFIG: key})
        queued += 1
    return queued


def _count(study, state):
    return len(study.get_trials(deepcopy=False, states=(state,)))


def _fail_stale(study):
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def run_study(
    data,
    *,
    study_name,
    storage=DEFAULT_STORAGE,
    sampler="grid",
    grid=ARTICLE_GRID,
    space=None,
    n_trials=None,
    epochs=30,
    batch_size=256,
    patience=5,
    seed=0,
    target_mode="absolute",
    wait=True,
    poll_s=2.0,
    timeout_s=120.0,
    heartbeat_s=30,
    trainer=None,
    verbose=0,
):
    """Search Seq2Seq hyperparameters with Optuna, resuming whatever the storage already holds.

    Parameters
    ----------
    data : WindowedData
        Windows from :func:`checkin_traj.sequences.build_windows`; trials train on
        ``train``, stop early and are scored on ``val``. ``test`` is never read.
    study_name : str
        The study's name in the storage; calls with the same name and storage share trials.
    storage : str or Path
        ``sqlite:///path/tuning.db`` (default ``sqlite:///tuning.db``, in the current
        folder), a ``.db`` path, or ``postgresql://user:password@host:5432/db`` for several
        machines (see :func:`open_storage`).
    sampler : {"grid", "tpe"}
        ``"grid"`` trains every configuration of ``grid``; ``"tpe"`` lets Optuna's
        TPE sampler (seeded) choose ``n_trials`` configurations from ``space``.
    grid : dict of str to list
        The grid (``sampler="grid"``), checked by :func:`grid_space`.
    space : dict of str to optuna distribution, optional
        The sampler's space (``sampler="tpe"``); :func:`search_space` by default.
    n_trials : int, optional
        ``"grid"``: the most configurations this call trains (None: all that remain).
        ``"tpe"``: the number of completed trials the study should hold, counting earlier
        calls and other workers (required).
    epochs, batch_size, patience : int
        Training settings of every trial (:func:`checkin_traj.training.train_model`).
    seed : int
        Training seed of every trial; the TPE sampler's seed is derived from it and from
        the number of trials already stored.
    target_mode : {"absolute", "offset"}
        What the networks are trained on.
    wait : bool
        When the queue is empty but other workers still run trials, wait for them (and
        retry those whose worker died), so the returned study is complete.
    poll_s : float
        Seconds between checks while waiting.
    timeout_s : float
        Seconds to wait for SQLite's lock.
    heartbeat_s : int
        Heartbeat period of running trials, seconds (see :func:`open_storage`).
    trainer : callable, optional
        Called as ``trainer("seq2seq", data, hyperparameters=..., target_mode=...,
        epochs=..., batch_size=..., patience=..., seed=..., verbose=0)``; returns an object
        with ``predict(split)`` (scaled absolute predictions) and ``epochs_run``. Default:
        :func:`checkin_traj.training.train_model`.
    verbose : int
        0 silent; 1 one line per trial.

    Returns
    -------
    optuna.Study
        Trials' values are validation RMSEs (scaled); user attributes ``val_r2``,
        ``val_km_mean``, ``val_minutes_mean``, ..., ``epochs_run`` and ``seconds``.

    Raises
    ------
    ValueError
        For bad parameters, a bad grid or storage URL, or a stored study of the same name
        run with other settings, before any training.
    """
    import optuna

    if not isinstance(study_name, str) or not study_name.strip():
        raise ValueError(f"study_name must be a non-empty string, got {study_name!r}")
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    epochs, batch_size, patience = _check_training(target_mode, epochs, batch_size, patience)
    seed = _check_int("seed", seed, minimum=0)
    if n_trials is not None:
        n_trials = _check_int("n_trials", n_trials, minimum=0)
    if isinstance(poll_s, bool) or not isinstance(poll_s, numbers.Real) or not poll_s > 0:
        raise ValueError(f"poll_s must be a positive number of seconds, got {poll_s!r}")
    if sampler == "grid":
        grid = grid_space(grid)
        space_description = grid
    else:
        if n_trials is None:
            raise ValueError("n_trials is required with sampler='tpe': how many completed trials the study should hold")
        space = search_space() if space is None else dict(space)
        if not space:
            raise ValueError("space must name at least one hyperparameter")
        _check_names(space, what="space")
        distributions = optuna.distributions
        kinds = (distributions.IntDistribution, distributions.FloatDistribution, distributions.CategoricalDistribution)
        for name, distribution in space.items():
            if not isinstance(distribution, kinds):
                raise ValueError(
                    f"space[{name!r}] must be an optuna IntDistribution, FloatDistribution or CategoricalDistribution, "
                    f"got {distribution!r}"
                )
        space_description = _space_json(space)
    _check_data(data)
    rdb = open_storage(storage, timeout_s=timeout_s, heartbeat_s=heartbeat_s)

    settings = {
        "sampler": sampler,
        "space": space_description,
        "epochs": epochs,
        "batch_size": batch_size,
        "patience": patience,
        "seed": seed,
        "target_mode": target_mode,
        "data": data_fingerprint(data),
    }
    train_kwargs = dict(
        target_mode=target_mode, epochs=epochs, batch_size=batch_size, patience=patience, seed=seed, verbose=0
    )
    objective = _Objective(
        data,
        sampler=sampler,
        grid=grid,
        space=space,
        trainer=_train_model if trainer is None else trainer,
        train_kwargs=train_kwargs,
        verbose=verbose,
    )
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        if sampler == "grid":
            study = optuna.create_study(
                storage=rdb,
                study_name=study_name,
                direction="minimize",
                sampler=optuna.samplers.RandomSampler(seed=seed),  # never consulted: every trial is queued
                load_if_exists=True,
            )
            _check_study_settings(study, settings)
            _run_grid(study, objective, grid_configurations(grid), n_trials=n_trials, wait=wait, poll_s=poll_s)
        else:
            stored = 0
            if _exists(rdb, study_name):
                stored = len(optuna.load_study(study_name=study_name, storage=rdb).trials)
            sampler_seed = int(np.random.SeedSequence([seed, stored]).generate_state(1)[0])
            study = optuna.create_study(
                storage=rdb,
                study_name=study_name,
                direction="minimize",
                sampler=optuna.samplers.TPESampler(seed=sampler_seed, multivariate=True, constant_liar=True),
                load_if_exists=True,
            )
            _check_study_settings(study, settings)
            _run_sampler(study, objective, n_trials=n_trials, wait=wait, poll_s=poll_s)
    finally:
        optuna.logging.set_verbosity(verbosity)
    return study


def _exists(rdb, study_name):
    return any(summary.study_name == study_name for summary in rdb.get_all_studies())


def _run_grid(study, objective, configurations, *, n_trials, wait, poll_s):
    from optuna.trial import TrialState

    retried = set()
    while n_trials is None or objective.trained < n_trials:
        _fail_stale(study)
        _queue_missing(study, configurations, retried)
        if _count(study, TrialState.WAITING):
            study.optimize(objective, n_trials=1)
        elif wait and _count(study, TrialState.RUNNING):
            time.sleep(poll_s)
        else:
            break
    if n_trials is not None and objective.trained >= n_trials:
        return
    running = _count(study, TrialState.RUNNING)
    if running:
        print(
            f"{running} trial(s) of study {study.study_name!r} are still RUNNING in other workers "
            "(or in a worker that stopped less than 2 * heartbeat_s ago); the next run_study retries them",
            file=sys.stderr,
        )


def _run_sampler(study, objective, *, n_trials, wait, poll_s):
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    remaining = n_trials - _count(study, TrialState.COMPLETE)
    if remaining > 0:
        stop = MaxTrialsCallback(n_trials, states=(TrialState.COMPLETE,))  # counts other workers' trials too
        study.optimize(objective, n_trials=remaining, callbacks=[stop])
    while wait and _count(study, TrialState.RUNNING):
        _fail_stale(study)
        time.sleep(poll_s)


# --------------------------------------------------------------------------- reading a study


def trials_frame(study) -> pd.DataFrame:
    """The completed trials: configuration and validation metrics, one row each.

    Returns
    -------
    pandas.DataFrame
        Index ``trial`` (Optuna's trial number); one column per hyperparameter, then
        ``rmse`` (the objective), ``r2``, ``km_mean``, ``minutes_mean``, ... (validation
        split, scaled RMSE/R², km, minutes), ``epochs_run``, ``seconds`` (training and
        scoring, wall clock) and ``label`` (e.g. ``"64 / 0.5 / 3 / sigmoid"``). Sorted by
        trial number; ``frame.attrs["split"] == "val"``.
    """
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    space = study.user_attrs.get("space") or {}
    names = list(space) if space else sorted({name for trial in trials for name in trial.params})
    rows = {}
    for trial in trials:
        row = {name: trial.params.get(name) for name in names}
        row["rmse"] = float(trial.value)
        for key, value in trial.user_attrs.items():
            if key.startswith("val_") and key != "val_rmse":
                row[key[len("val_"):]] = value
        row["epochs_run"] = trial.user_attrs.get("epochs_run")
        row["seconds"] = trial.user_attrs.get("seconds")
        row["label"] = config_label({name: trial.params[name] for name in names if name in trial.params})
        rows[trial.number] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    if frame.empty:
        frame = pd.DataFrame(columns=[*names, "rmse", "epochs_run", "seconds", "label"])
    frame.index.name = "trial"
    frame = frame.sort_index()
    frame.attrs["split"] = "val"
    frame.attrs["hyperparameters"] = names
    return frame


def best_configuration(study) -> dict:
    """The hyperparameters of the completed trial with the lowest validation RMSE.

    Ties go to the lower trial number. Raises ``ValueError`` when no trial has completed.
    """
    frame = trials_frame(study)
    if frame.empty:
        raise ValueError(f"study {study.study_name!r} has no completed trial yet: run run_study first")
    best = frame.sort_values(["rmse"], kind="stable").index[0]
    return _params_of(study, best)


def _params_of(study, number):
    for trial in study.get_trials(deepcopy=False):
        if trial.number == number:
            return dict(trial.params)
    raise KeyError(number)


def _eta_squared(frame, names):
    """Share of the variance of ``rmse`` explained by each hyperparameter's groups (main effects)."""
    rmse = frame["rmse"].to_numpy(dtype=float)
    total = ((rmse - rmse.mean()) ** 2).sum()
    shares = {}
    for name in names:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) and column.nunique() > 5:
            column = pd.qcut(column.rank(method="first"), 4, labels=False)
        means = frame.groupby(column.to_numpy())["rmse"].transform("mean").to_numpy(dtype=float)
        shares[name] = float(((means - rmse.mean()) ** 2).sum() / total) if total > 0 else 0.0
    return pd.Series(shares)


def hyperparameter_importance(study, *, method="auto", seed=0, min_trials_fanova=FANOVA_MIN_TRIALS) -> pd.Series:
    """How much each hyperparameter matters for the validation RMSE.

    Parameters
    ----------
    study : optuna.Study
    method : {"auto", "fanova", "eta_squared"}
        ``"fanova"``: Optuna's fANOVA (:class:`optuna.importance.FanovaImportanceEvaluator`,
        a random forest's functional ANOVA). ``"eta_squared"``: the share of the RMSE's
        variance explained by each hyperparameter's group means (main effects; exact for a
        full grid, continuous values binned in quartiles). ``"auto"``: fANOVA from
        ``min_trials_fanova`` completed trials on, else eta squared, which needs no model.
    seed : int
        Seed of the fANOVA forest.
    min_trials_fanova : int
        See ``method``.

    Returns
    -------
    pandas.Series
        Hyperparameter to importance, largest first; fANOVA's sum to 1, eta squared's to at
        most 1. ``series.attrs["method"]`` names the method used.

    Raises
    ------
    ValueError
        For an unknown method or fewer than 2 completed trials.
    """
    import optuna

    if method not in ("auto", "fanova", "eta_squared"):
        raise ValueError(f"method must be 'auto', 'fanova' or 'eta_squared', got {method!r}")
    frame = trials_frame(study)
    if len(frame) < 2:
        raise ValueError(f"hyperparameter importance needs at least 2 completed trials, the study has {len(frame)}")
    names = frame.attrs["hyperparameters"]
    used = method
    if method == "auto":
        used = "fanova" if len(frame) >= min_trials_fanova else "eta_squared"
    if used == "fanova":
        varying = [name for name in names if frame[name].nunique() > 1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores = optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=seed), params=varying
            )
        importance = pd.Series({name: float(scores.get(name, 0.0)) for name in names})
    else:
        importance = _eta_squared(frame, names)
    importance = importance.sort_values(ascending=False)
    importance.index.name = "hyperparameter"
    importance.name = "importance"
    importance.attrs["method"] = used
    return importance


# --------------------------------------------------------------------------- the test split, once


def score_on_test(
    data,
    config,
    *,
    seeds=(0, 1, 2),
    epochs=30,
    batch_size=256,
    patience=5,
    target_mode="absolute",
    trainer=None,
    verbose=0,
):
    """Train the chosen configuration once per seed and score each model on the test split.

    The configuration must have been chosen on the validation split (e.g. by
    :func:`best_configuration`); this is the only function of the module that reads
    ``data.test``, and it predicts it once per seed.

    Parameters
    ----------
    data : WindowedData
    config : dict
        Seq2Seq hyperparameters (names of :func:`checkin_traj.models.build_seq2seq`).
    seeds : sequence of int
        Distinct training seeds, at least one (three or more for a spread).
    epochs, batch_size, patience, target_mode
        As in :func:`run_study`.
    trainer : callable, optional
        As in :func:`run_study`.
    verbose : int
        0 silent; 1 one line per seed.

    Returns
    -------
    checkin_traj.training.SeedRuns
        Split ``"test"``: ``metrics`` has one row per seed with every metric of
        :func:`checkin_traj.metrics.evaluate` plus ``val_rmse``, ``epochs_run`` and
        ``seconds``; ``summary()`` gives mean and standard deviation over seeds;
        ``predictions`` the test predictions per seed; ``best`` the model of the seed with
        the lowest validation RMSE. It works with ``seed_table`` and ``results_payload``.
    """
    from .training import SeedRuns

    if not isinstance(config, dict) or not config:
        raise ValueError(f"config must be a non-empty dict of hyperparameters, got {config!r}")
    grid_space({name: [value] for name, value in config.items()})  # checks names and values
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise ValueError(f"seeds must be a sequence of integers >= 0, got {seeds!r}")
    seeds = [_check_int("seeds[...]", seed, minimum=0) for seed in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct integers, at least one, got {seeds}")
    epochs, batch_size, patience = _check_training(target_mode, epochs, batch_size, patience)
    _check_data(data)
    if getattr(data, "test", None) is None or len(data.test.y) < 2:
        raise ValueError("data.test must hold at least 2 windows")
    trainer = _train_model if trainer is None else trainer
    rows, histories, predictions, best, best_val = {}, {}, {}, None, math.inf
    for seed in seeds:
        started = time.perf_counter()
        trained = trainer(
            MODEL,
            data,
            hyperparameters=dict(config),
            target_mode=target_mode,
            epochs=epochs,
            batch_size=batch_size,
            patience=patience,
            seed=seed,
            verbose=0,
        )
        val_rmse = _numbers(_evaluate(data, trained.predict("val"), split="val"))["rmse"]
        predictions[seed] = np.asarray(trained.predict("test"), dtype=np.float32)
        row = _numbers(_evaluate(data, predictions[seed], split="test"))
        row.update(val_rmse=val_rmse, epochs_run=int(trained.epochs_run), seconds=time.perf_counter() - started)
        rows[seed], histories[seed] = row, getattr(trained, "history", {})
        if val_rmse < best_val:
            best, best_val = trained, val_rmse
        if verbose:
            r2 = row.get("r2", float("nan"))
            print(f"seed {seed} ({config_label(config)}): test RMSE {row['rmse']:.4f}, R² {r2:.3f}", flush=True)
    metrics = pd.DataFrame.from_dict(rows, orient="index")
    metrics.index.name = "seed"
    return SeedRuns(
        name=MODEL,
        target_mode=target_mode,
        split="test",
        metrics=metrics,
        histories=histories,
        predictions=predictions,
        best=best,
    )
