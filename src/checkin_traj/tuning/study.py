"""Running a study: chapter 07's objective, called on every configuration of a grid or a sampler's space.

The objective is the function a trial runs, written on chapter 07's page (``checkin_traj.pages.tuning.objective``);
:func:`run_study` does the bookkeeping around it: the queue, resuming, several workers, and what each trial stores.

How the grid is run: each configuration is put in Optuna's queue (:meth:`optuna.study.Study.enqueue_trial`) as a
``WAITING`` trial, and the storage hands each waiting trial to exactly one worker. Only configurations without a
``COMPLETE``, ``WAITING`` or ``RUNNING`` trial are queued, so a repeated call resumes: completed configurations are
not trained again, and one whose trial failed (an exception, Ctrl-C) or was left ``RUNNING`` by a dead worker (no
heartbeat for ``2 * heartbeat_s`` seconds) is. If two workers queue the same configuration at once, the later trial
is skipped without training (``PRUNED``, user attribute ``skipped``). Optuna's own
:class:`~optuna.samplers.GridSampler` is not used: it may run a configuration twice when workers run concurrently,
never retries a failed configuration, and re-runs one when an exhausted study is optimized again.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import warnings

import numpy as np

from ..checks import check_choice, check_int, check_positive
from ..results import flatten_metrics
from .space import ARTICLE_GRID, check_space, config_key, config_label, grid_configurations, grid_space, space_json
from .storage import exclusive_use, open_storage

SAMPLERS = ("grid", "tpe")
#: Study settings that must match when a study is loaded again (else its trials would mix).
STUDY_SETTINGS = ("sampler", "space", "epochs", "batch_size", "patience", "seed", "data")

SETTINGS_ATTR = "settings"  # study user attribute: the settings, one JSON record
TRAINED = "trained"  # user attribute set on trials that trained a model
SKIPPED = "skipped"  # user attribute set on trials skipped without training
CONFIG = "config"  # user attribute: the configuration as canonical JSON


def check_data(data):
    """Windows with train and validation splits of at least 2 windows each."""
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


def _suggest(trial, name, distribution):
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(name, list(distribution.choices))
    suggest = trial.suggest_int if isinstance(distribution, IntDistribution) else trial.suggest_float  # check_space
    return suggest(name, distribution.low, distribution.high, step=distribution.step, log=distribution.log)


def _skip_reason(trial, *, key, n_trials):
    """Why a trial is not needed (a duplicate, or enough trials ahead of it), or None."""
    from optuna.trial import TrialState

    if n_trials is None:  # a grid trial: an earlier live trial of the same configuration?
        live = (TrialState.WAITING, TrialState.RUNNING, TrialState.COMPLETE)
        for other in trial.study.get_trials(deepcopy=False, states=live):
            if other.number < trial.number and other.user_attrs.get(CONFIG) == key:
                return f"duplicate of trial {other.number}"
        return None
    others = trial.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING))
    ahead = [other for other in others if other.state == TrialState.COMPLETE or other.number < trial.number]
    if len(ahead) >= n_trials:
        return f"{len(ahead)} trials completed or running before it reach n_trials={n_trials}"
    return None


class OptunaObjective:
    """What Optuna calls for a trial: takes its configuration (the queued grid point, or the sampler's
    suggestion), skips a trial another worker made needless, calls the chapter's ``objective`` and
    stores what it returns: ``val_<name>`` per validation score, ``epochs_run`` and ``seconds``."""

    def __init__(self, objective, data, *, grid, space, training, verbose, n_trials=None):
        self.objective, self.data, self.training, self.verbose = objective, data, training, verbose
        self.grid, self.space, self.n_trials, self.trained = grid, space, n_trials, 0

    def __call__(self, trial):
        import optuna

        if self.space is None:  # the grid
            key = trial.user_attrs.get(CONFIG)
            skip = "no queued configuration left" if key is None else _skip_reason(trial, key=key, n_trials=None)
        else:
            skip = _skip_reason(trial, key=None, n_trials=self.n_trials)
        if skip is not None:  # another worker took the last configuration first, or made this trial needless
            trial.set_user_attr(SKIPPED, skip)
            raise optuna.TrialPruned()
        if self.space is None:
            config = {name: trial.suggest_categorical(name, values) for name, values in self.grid.items()}
        else:
            config = {name: _suggest(trial, name, distribution) for name, distribution in self.space.items()}
            trial.set_user_attr(CONFIG, config_key(config))
        started = time.perf_counter()
        value, scores, epochs_run = self.objective(config, self.data, **self.training)
        seconds = time.perf_counter() - started
        value, scores = float(value), flatten_metrics(scores)
        for name, number in scores.items():
            trial.set_user_attr(f"val_{name}", number)
        trial.set_user_attr("epochs_run", int(epochs_run))
        trial.set_user_attr("seconds", float(seconds))
        trial.set_user_attr(TRAINED, True)
        self.trained += 1
        if self.verbose:
            print(
                f"trial {trial.number} ({config_label(config)}): val RMSE {scores.get('rmse', value):.4f}, "
                f"R² {scores.get('r2', float('nan')):.3f}, {epochs_run} epochs, {seconds:.1f} s",
                flush=True,
            )
        return value


def _check_study_settings(study, settings):
    """Record a new study's settings (one user attribute, so that no worker sees a half-written record), or
    refuse a stored study run with other settings."""
    settings = json.loads(json.dumps(settings))
    stored = study.user_attrs.get(SETTINGS_ATTR)
    if stored is None:
        study.set_user_attr(SETTINGS_ATTR, settings)
        return
    differ = {name: (stored.get(name), settings[name]) for name in STUDY_SETTINGS if stored.get(name) != settings[name]}
    if differ:
        lines = "; ".join(f"{name}: stored {old!r}, now {new!r}" for name, (old, new) in differ.items())
        raise ValueError(
            f"study {study.study_name!r} already exists in this storage with other settings ({lines}); "
            "its trials would not be comparable: use another study_name or storage"
        )


def study_settings(study) -> dict:
    """The settings a study was run with (:data:`STUDY_SETTINGS`); empty for a study not made by :func:`run_study`."""
    return dict(study.user_attrs.get(SETTINGS_ATTR) or {})


def _queue_missing(study, configurations, retried):
    """Queue the configurations with no COMPLETE, WAITING or RUNNING trial."""
    from optuna.trial import TrialState

    live = {TrialState.COMPLETE, TrialState.WAITING, TrialState.RUNNING}
    states = {}
    for trial in study.get_trials(deepcopy=False):
        key = trial.user_attrs.get(CONFIG)
        if key is not None and trial.state != TrialState.PRUNED:
            states.setdefault(key, set()).add(trial.state)
    for config in configurations:
        key = config_key(config)
        seen = states.get(key, set())
        if seen & live:
            continue
        if seen:  # failed before (exception, interrupted or dead worker): retry once per call
            if key in retried:
                continue
            retried.add(key)
        study.enqueue_trial(config, user_attrs={CONFIG: key})


def _count(study, state):
    return len(study.get_trials(deepcopy=False, states=(state,)))


def _fail_stale(study):
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def run_study(
    objective, data, *, study_name, storage, sampler="grid", grid=ARTICLE_GRID, space=None, n_trials=None, epochs=30,
    batch_size=256, patience=5, seed=0, wait=True, poll_s=2.0, timeout_s=120.0, heartbeat_s=30, verbose=0,
):
    """Search Seq2Seq hyperparameters with Optuna, resuming whatever the storage already holds.

    ``objective(config, data, seed=..., epochs=..., batch_size=..., patience=...)`` is what a trial runs (chapter
    07's ``checkin_traj.pages.tuning.objective``): it returns the validation RMSE Optuna minimises, a dict of
    validation scores (stored as ``val_<name>``) and the epochs trained. ``data`` (WindowedData): the windows it
    trains on and scores; fingerprinted, so a study refuses trials made from other windows. ``study_name``: shared by
    calls on the same ``storage`` (:mod:`checkin_traj.tuning.storage`). ``sampler="grid"`` trains every configuration
    of ``grid`` (checked by :func:`~checkin_traj.tuning.grid_space`), at most ``n_trials`` in this call (None: all
    that remain); ``"tpe"`` lets Optuna's TPE sampler (seeded) choose configurations from ``space`` (a dict of optuna
    distributions, required there; chapter 07's ``SEARCH_SPACE``) until the study holds ``n_trials`` completed
    trials, counting earlier calls and other workers (required). ``epochs``, ``batch_size``, ``patience``, ``seed``:
    every trial's training settings (the TPE sampler's seed is ``seed`` and the trials stored). ``wait``: with the
    queue empty while other workers run trials, wait (polling every ``poll_s`` s; retrying those whose worker died).
    ``timeout_s``, ``heartbeat_s``: of :func:`~checkin_traj.tuning.open_storage`. ``verbose``: 0 silent; 1 one line
    per trial. Returns the ``optuna.Study``.

    Raises ``ValueError``: for bad parameters, a bad grid or storage URL, or a stored study of the
    same name run with other settings, before any training; ``checkin_traj.tuning.StorageError``: for
    a storage that cannot be read (named), or a SQLite file another process uses.
    """
    import optuna

    if not isinstance(study_name, str) or not study_name.strip():
        raise ValueError(f"study_name must be a non-empty string, got {study_name!r}")
    if not callable(objective):
        raise ValueError(
            f"objective must be the function a trial runs (chapter 07's checkin_traj.pages.tuning.objective), got {objective!r}"
        )
    check_choice("sampler", sampler, SAMPLERS)
    training = dict(epochs=check_int("epochs", epochs, minimum=1), batch_size=check_int("batch_size", batch_size, minimum=1),
                    patience=check_int("patience", patience, minimum=0), seed=check_int("seed", seed, minimum=0))
    if n_trials is not None:
        n_trials = check_int("n_trials", n_trials, minimum=0)
    poll_s = check_positive("poll_s", poll_s)
    verbose = check_int("verbose", verbose, minimum=0)
    if sampler == "grid":
        grid = space_description = grid_space(grid)
        space = None
    else:
        if n_trials is None:
            raise ValueError("n_trials is required with sampler='tpe': how many completed trials the study should hold")
        if space is None:
            raise ValueError("space is required with sampler='tpe': e.g. chapter 07's checkin_traj.pages.tuning.SEARCH_SPACE")
        space = check_space(space)
        space_description = space_json(space)
    check_data(data)
    opened = open_storage(storage, timeout_s=timeout_s, heartbeat_s=heartbeat_s)
    settings = {"sampler": sampler, "space": space_description, **training, "data": data_fingerprint(data)}
    trials = OptunaObjective(
        objective, data, grid=grid, space=space, training=training, verbose=verbose,
        n_trials=n_trials if sampler == "tpe" else None,
    )
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with exclusive_use(storage):
            if sampler == "grid":
                chosen = optuna.samplers.RandomSampler(seed=training["seed"])  # never consulted: every trial is queued
            else:
                stored = 0
                if study_name in optuna.get_all_study_names(storage=opened):
                    stored = len(optuna.load_study(study_name=study_name, storage=opened).trials)
                sampler_seed = int(np.random.SeedSequence([training["seed"], stored]).generate_state(1)[0])
                chosen = optuna.samplers.TPESampler(seed=sampler_seed, multivariate=True, constant_liar=True)
            study = optuna.create_study(
                storage=opened, study_name=study_name, direction="minimize", sampler=chosen, load_if_exists=True
            )
            _check_study_settings(study, settings)
            if sampler == "grid":
                _run_grid(study, trials, grid_configurations(grid), n_trials=n_trials, wait=wait, poll_s=poll_s)
            else:
                _run_sampler(study, trials, n_trials=n_trials, wait=wait, poll_s=poll_s)
    finally:
        optuna.logging.set_verbosity(verbosity)
    return study


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
    """One trial at a time until the study holds ``n_trials`` completed ones, counting other workers' (a trial
    that would overshoot is skipped before training; one whose worker died is failed, and replaced)."""
    from optuna.trial import TrialState

    while True:
        _fail_stale(study)
        complete = _count(study, TrialState.COMPLETE)
        if complete >= n_trials:
            return
        if complete + _count(study, TrialState.RUNNING) < n_trials:
            study.optimize(objective, n_trials=1)
        elif wait:
            time.sleep(poll_s)
        else:
            return
