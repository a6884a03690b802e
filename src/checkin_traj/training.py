"""Seeded training with early stopping, and runs over several seeds.

:func:`train_model` builds a model of :mod:`checkin_traj.models` for the shape of the
windows, trains it on the training split with early stopping on the validation loss
(keeping the best epoch's weights), and returns a :class:`TrainedModel` whose
:meth:`~TrainedModel.predict` always answers in the *absolute* scaled target space, so
every model is scored the same way by :func:`checkin_traj.metrics.evaluate`.

Two target modes:

``"absolute"``
    the article's form: the network outputs the next check-in's scaled (time, lon, lat).
``"offset"``
    the network outputs the step from the last input check-in, ``y - last``,
    standardised with the mean and standard deviation of the *training* offsets;
    :meth:`TrainedModel.predict` adds ``last`` back.

:func:`run_seeds` repeats a training over seeds and reports each metric as mean ± std
(test metrics and, prefixed ``val_``, the same metrics on the validation windows, on which
best runs are chosen). Tables and saved results are built by :mod:`checkin_traj.results`,
verdicts by :mod:`checkin_traj.verdicts`.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

try:
    import keras
except ImportError as _error:
    from ._extras import missing_extra

    raise missing_extra(_error, extra="models", module=__name__) from _error

# Reporting lives in results (tables) and verdicts (the one comparison rule); these names
# are re-exported here so that older imports keep working.
from .results import flatten_metrics, format_mean_std, results_payload, seed_table  # noqa: F401
from .verdicts import strongest_baseline  # noqa: F401

TARGET_MODES = ("absolute", "offset")
MIN_OFFSET_SCALE = 1e-6  # smaller spreads of training offsets (scaled units) are treated as none
PREDICT_BATCH_SIZE = 8192  # windows per batch at prediction; memory only, not results


# --------------------------------------------------------------------------- seeds


def set_seed(seed, *, deterministic="auto"):
    """Seed Python, NumPy and TensorFlow/Keras, and make TensorFlow's ops deterministic.

    Parameters
    ----------
    seed : int
        The seed (>= 0).
    deterministic : bool or "auto"
        Ask TensorFlow for deterministic kernels (``enable_op_determinism``). ``"auto"``
        (default) does so when no GPU is visible, where it costs next to nothing; on a GPU
        it can slow training, so there it is left off unless asked for. Once on, it stays
        on for the process.
    """
    _check_int("seed", seed, minimum=0)
    if deterministic not in (True, False, "auto"):
        raise ValueError(f"deterministic must be True, False or 'auto', got {deterministic!r}")
    import tensorflow as tf

    if deterministic == "auto":
        deterministic = not tf.config.list_physical_devices("GPU")
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(int(seed))


# --------------------------------------------------------------------------- checks


from .checks import check_int as _check_int  # noqa: E402  (the one integer check)


def _check_split(data, split):
    part = getattr(data, split, None)
    if part is None:
        raise ValueError(f"data has no {split!r} split; expected a WindowedData from build_windows")
    for attribute in ("x", "y", "last"):
        if not hasattr(part, attribute):
            raise ValueError(f"data.{split} has no {attribute!r}; expected a WindowedData from build_windows")
    x, y, last = np.asarray(part.x), np.asarray(part.y), np.asarray(part.last)
    if x.ndim != 3:
        raise ValueError(f"data.{split}.x must have shape (n, window, n_features), got {x.shape}")
    if y.ndim != 2 or last.shape != y.shape or len(y) != len(x):
        raise ValueError(
            f"data.{split}: y and last must have shape (n, n_targets) with n = len(x) = {len(x)}, "
            f"got y {y.shape} and last {last.shape}"
        )
    if len(x) == 0:
        raise ValueError(f"data.{split} has no windows")
    for attribute, values in (("x", x), ("y", y), ("last", last)):
        bad = np.flatnonzero(~np.isfinite(values.reshape(len(values), -1)).all(axis=1))
        if len(bad):
            raise ValueError(f"data.{split}.{attribute} is not finite in window {bad[0]} ({len(bad)} windows)")
    return part


def _check_training(name, data, hyperparameters, target_mode, epochs, batch_size, patience, verbose, variant="book"):
    from .models import SHAPE_ARGUMENTS, check_hyperparameters

    hyperparameters = dict(hyperparameters or {})
    shape_given = sorted(set(hyperparameters) & set(SHAPE_ARGUMENTS))
    if shape_given:
        raise ValueError(f"hyperparameters must not set {shape_given}: they are taken from the data")
    check_hyperparameters(name, hyperparameters, variant)
    if target_mode not in TARGET_MODES:
        raise ValueError(f"target_mode must be one of {TARGET_MODES}, got {target_mode!r}")
    _check_int("epochs", epochs, minimum=1)
    _check_int("batch_size", batch_size, minimum=1)
    _check_int("patience", patience, minimum=0)
    _check_int("verbose", verbose, minimum=0)
    train, val = _check_split(data, "train"), _check_split(data, "val")
    if train.x.shape[1:] != val.x.shape[1:] or train.y.shape[1] != val.y.shape[1]:
        raise ValueError(
            f"train and val windows differ in shape: x {train.x.shape[1:]} vs {val.x.shape[1:]}, "
            f"y {train.y.shape[1:]} vs {val.y.shape[1:]}"
        )
    return hyperparameters, train, val


# --------------------------------------------------------------------------- progress


class EpochProgress(keras.callbacks.Callback):
    """Training progress: one line per epoch (``verbose=1``) or a tqdm bar (``verbose>=2``).

    Also records each epoch's wall-clock seconds in :attr:`seconds`.
    """

    def __init__(self, *, label, epochs, verbose=0):
        super().__init__()
        self.label, self.epochs, self.verbose = label, epochs, verbose
        self.seconds, self.bar = [], None

    def on_train_begin(self, logs=None):
        self.seconds = []
        if self.verbose >= 2:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.epochs, desc=self.label, unit="epoch")

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)
        loss, val_loss = (logs or {}).get("loss", math.nan), (logs or {}).get("val_loss", math.nan)
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss:.4g}", val_loss=f"{val_loss:.4g}")
            self.bar.update(1)
        elif self.verbose == 1:
            print(
                f"{self.label} epoch {epoch + 1:3d}/{self.epochs}: loss {loss:.5f}  val_loss {val_loss:.5f}  "
                f"({self.seconds[-1]:.1f} s)",
                file=sys.stdout,
                flush=True,
            )

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# --------------------------------------------------------------------------- one model


@dataclass
class TrainedModel:
    """A trained model and how its training went.

    Attributes
    ----------
    name : str
        Key of :data:`checkin_traj.models.MODEL_BUILDERS`.
    model : keras.Model
        The network, with the weights of its best validation epoch.
    history : dict of str to list of float
        Per epoch: ``loss`` and ``val_loss`` (MSE in the training target space: scaled
        positions for ``"absolute"``, standardised offsets for ``"offset"``) and ``seconds``.
    epochs_run : int
        The stopping epoch: epochs trained before early stopping (or ``epochs``).
    best_epoch : int
        1-based epoch whose weights were kept (lowest ``val_loss``).
    train_seconds : float
        Wall-clock seconds of ``fit``.
    target_mode : {"absolute", "offset"}
        What the network outputs.
    seed : int
        The training seed.
    hyperparameters : dict
        The builder's arguments (shape included).
    offset_mean, offset_scale : numpy.ndarray, shape (n_targets,)
        The standardisation of the offsets (zeros and ones in ``"absolute"`` mode).
    data : WindowedData
        The windows it was trained on (not copied), used by :meth:`predict`.
    variant : {"book", "article"}
        The model's form (:data:`checkin_traj.models.VARIANTS`).
    max_epochs : int
        The epoch budget (``epochs``).
    stopped_early : bool
        True when early stopping ended the run; :attr:`hit_epoch_cap` is its negation.
    """

    name: str
    model: object
    history: dict
    epochs_run: int
    best_epoch: int
    train_seconds: float
    target_mode: str
    seed: int
    hyperparameters: dict
    offset_mean: np.ndarray
    offset_scale: np.ndarray
    data: object = field(repr=False)
    variant: str = "book"
    max_epochs: int = 0
    stopped_early: bool = False

    @property
    def hit_epoch_cap(self) -> bool:
        """Whether the epoch budget, not early stopping, ended the run."""
        return not self.stopped_early

    @property
    def best_val_loss(self) -> float:
        """The lowest validation loss (in the training target space)."""
        return float(np.min(self.history["val_loss"]))

    def predict_windows(self, x, last) -> np.ndarray:
        """Predict scaled absolute targets for windows ``x`` whose last check-ins are ``last``.

        Parameters
        ----------
        x : array_like, float32, shape (n, window, n_features)
        last : array_like, shape (n, n_targets)
            Scaled (time, lon, lat) of each window's last check-in (used in ``"offset"`` mode).

        Returns
        -------
        numpy.ndarray, float32, shape (n, n_targets)
        """
        x = np.asarray(x, dtype=np.float32)
        output = np.asarray(self.model.predict(x, batch_size=PREDICT_BATCH_SIZE, verbose=0), dtype=np.float32)
        if self.target_mode == "absolute":
            return output
        return (np.asarray(last, dtype=np.float32) + output * self.offset_scale + self.offset_mean).astype(np.float32)

    def predict(self, split="test") -> np.ndarray:
        """Predictions for a split of :attr:`data`, in the absolute scaled target space.

        Parameters
        ----------
        split : {"train", "val", "test"}

        Returns
        -------
        numpy.ndarray, float32, shape (n, n_targets)
            Comparable with ``data.<split>.y`` whatever the target mode.
        """
        if split not in ("train", "val", "test"):
            raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
        part = getattr(self.data, split)
        return self.predict_windows(part.x, part.last)


def _offset_standardisation(train):
    offsets = np.asarray(train.y, dtype=np.float64) - np.asarray(train.last, dtype=np.float64)
    mean = offsets.mean(axis=0)
    scale = offsets.std(axis=0)
    scale = np.where(scale > MIN_OFFSET_SCALE, scale, 1.0)  # a constant offset needs no rescaling
    return mean.astype(np.float32), scale.astype(np.float32)


def training_targets(part, target_mode, offset_mean, offset_scale):
    """What the network is trained to output for a split: ``y``, or standardised ``y - last``."""
    y = np.asarray(part.y, dtype=np.float32)
    if target_mode == "absolute":
        return y
    return ((y - np.asarray(part.last, dtype=np.float32) - offset_mean) / offset_scale).astype(np.float32)


def train_model(
    name,
    data,
    *,
    hyperparameters=None,
    target_mode="absolute",
    epochs=30,
    batch_size=256,
    patience=5,
    seed=0,
    verbose=0,
    variant="book",
    lr_patience=None,
    lr_factor=0.5,
) -> TrainedModel:
    """Train one model with early stopping on the validation loss.

    Parameters
    ----------
    name : {"lstm", "seq2seq", "transformer"}
        The model (:data:`checkin_traj.models.MODEL_BUILDERS`).
    data : WindowedData
        Windows from :func:`checkin_traj.sequences.build_windows` (``train`` and ``val``
        splits with ``x``, ``y`` and ``last``).
    hyperparameters : dict, optional
        Builder arguments other than the shape (taken from ``data``), e.g.
        ``{"num_hiddens": 32}``; the builder's defaults otherwise.
    target_mode : {"absolute", "offset"}
        Train on the absolute targets (the article) or on the offset from the last check-in.
    epochs : int
        Most epochs.
    batch_size : int
        Windows per gradient step.
    patience : int
        Epochs without a lower validation loss before stopping; the best epoch's weights
        are restored in every case.
    seed : int
        Seeds the weights, dropout and shuffling (:func:`set_seed`).
    verbose : int
        0 silent, 1 one line per epoch, 2 a progress bar.
    variant : {"book", "article"}
        The model's form (:func:`checkin_traj.models.build_model`).
    lr_patience : int, optional
        The schedule: after this many epochs without a lower validation loss the learning
        rate is multiplied by ``lr_factor`` (``ReduceLROnPlateau``); default
        ``max(1, patience // 2)``, so the rate drops before early stopping gives up.
    lr_factor : float
        The schedule's factor, in (0, 1).

    Returns
    -------
    TrainedModel
        Its ``epochs_run`` is the stopping epoch, ``stopped_early`` says whether early
        stopping (not the cap) ended it.

    Raises
    ------
    ValueError
        For an unknown model, hyperparameter or target mode, or bad numbers, before
        anything is built.
    """
    hyperparameters, train, val = _check_training(
        name, data, hyperparameters, target_mode, epochs, batch_size, patience, verbose, variant
    )
    from .checks import check_fraction, check_int

    lr_patience = max(1, patience // 2) if lr_patience is None else check_int("lr_patience", lr_patience, minimum=1)
    lr_factor = check_fraction("lr_factor", lr_factor, low_open=True)
    set_seed(seed)
    from .models import build_model

    n_targets = train.y.shape[1]
    shape = {"window": train.x.shape[1], "n_features": train.x.shape[2], "n_targets": n_targets}
    model = build_model(name, variant, **shape, **hyperparameters)
    if target_mode == "offset":
        offset_mean, offset_scale = _offset_standardisation(train)
    else:
        offset_mean, offset_scale = np.zeros(n_targets, np.float32), np.ones(n_targets, np.float32)
    y_train = training_targets(train, target_mode, offset_mean, offset_scale)
    y_val = training_targets(val, target_mode, offset_mean, offset_scale)

    progress = EpochProgress(label=f"{name}/{target_mode} seed {seed}", epochs=epochs, verbose=verbose)
    stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    schedule = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=lr_factor, patience=lr_patience, verbose=0)
    callbacks = [stopping, schedule, progress]
    started = time.perf_counter()
    fitted = model.fit(
        np.asarray(train.x, dtype=np.float32),
        y_train,
        validation_data=(np.asarray(val.x, dtype=np.float32), y_val),
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        callbacks=callbacks,
        verbose=0,
    )
    train_seconds = time.perf_counter() - started
    history = {
        "loss": [float(value) for value in fitted.history["loss"]],
        "val_loss": [float(value) for value in fitted.history["val_loss"]],
        "seconds": [float(value) for value in progress.seconds],
    }
    return TrainedModel(
        name=name,
        model=model,
        history=history,
        epochs_run=len(history["loss"]),
        best_epoch=int(np.argmin(history["val_loss"])) + 1,
        train_seconds=train_seconds,
        target_mode=target_mode,
        seed=int(seed),
        hyperparameters={**shape, **hyperparameters},
        offset_mean=offset_mean,
        offset_scale=offset_scale,
        data=data,
        variant=variant,
        max_epochs=int(epochs),
        stopped_early=bool(stopping.stopped_epoch > 0),
    )


# --------------------------------------------------------------------------- several seeds


@dataclass
class SeedRuns:
    """One model and target mode trained over several seeds.

    Attributes
    ----------
    name : str
        The model.
    target_mode : str
        ``"absolute"`` or ``"offset"``.
    split : str
        The split the metrics are computed on.
    metrics : pandas.DataFrame
        One row per seed (index ``seed``), one column per metric of
        :func:`checkin_traj.metrics.evaluate`, the same prefixed ``val_`` (scored on the
        validation windows, unless ``split`` is ``"val"``), plus ``epochs_run``,
        ``best_epoch``, ``train_seconds`` and ``best_val_loss``.
    histories : dict of int to dict
        Each seed's training history (see :attr:`TrainedModel.history`).
    predictions : dict of int to numpy.ndarray
        Each seed's predictions for ``split`` (absolute scaled targets, (n, n_targets)).
    best : TrainedModel
        The seed with the lowest validation loss (chosen without looking at the test split).
    """

    name: str
    target_mode: str
    split: str
    metrics: pd.DataFrame
    histories: dict
    predictions: dict
    best: TrainedModel

    @property
    def seeds(self) -> list:
        return list(self.metrics.index)

    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation (ddof=1, over seeds) of every metric.

        Returns
        -------
        pandas.DataFrame
            Index: metric names; columns ``mean``, ``std`` and ``n_seeds``.
        """
        numeric = self.metrics.select_dtypes("number")
        return pd.DataFrame(
            {"mean": numeric.mean(), "std": numeric.std(ddof=1), "n_seeds": numeric.count()}
        )

    def mean_prediction(self) -> np.ndarray:
        """The predictions averaged over seeds (an ensemble), float32 (n, n_targets)."""
        return np.mean([self.predictions[seed] for seed in self.seeds], axis=0).astype(np.float32)


def run_seeds(name, data, *, seeds=(0, 1, 2), split="test", **train_kwargs) -> SeedRuns:
    """Train ``name`` once per seed and score each on ``split``.

    Parameters
    ----------
    name : {"lstm", "seq2seq", "transformer"}
    data : WindowedData
    seeds : sequence of int
        Distinct seeds; at least one (the book reports at least three).
    split : {"train", "val", "test"}
        Split scored by :func:`checkin_traj.metrics.evaluate`.
    **train_kwargs
        Passed to :func:`train_model` (``hyperparameters``, ``target_mode``, ``epochs``,
        ``batch_size``, ``patience``, ``verbose``). With ``verbose >= 1`` a line per seed
        reports its epochs, best validation loss and time.

    Returns
    -------
    SeedRuns
    """
    from .metrics import evaluate

    seeds = list(seeds) if not isinstance(seeds, (str, bytes)) else None
    if not seeds:
        raise ValueError(f"seeds must be a non-empty sequence of integers, got {seeds!r}")
    for seed in seeds:
        _check_int("seeds[...]", seed, minimum=0)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    if "seed" in train_kwargs:
        raise ValueError("pass seeds=..., not seed=..., to run_seeds")
    unknown = sorted(
        set(train_kwargs)
        - {"hyperparameters", "target_mode", "epochs", "batch_size", "patience", "verbose", "variant", "lr_patience", "lr_factor"}
    )
    if unknown:
        raise ValueError(f"unknown argument(s) {unknown} for train_model")
    _check_training(
        name,
        data,
        train_kwargs.get("hyperparameters"),
        train_kwargs.get("target_mode", "absolute"),
        train_kwargs.get("epochs", 30),
        train_kwargs.get("batch_size", 256),
        train_kwargs.get("patience", 5),
        train_kwargs.get("verbose", 0),
        train_kwargs.get("variant", "book"),
    )
    _check_split(data, split)
    verbose = train_kwargs.get("verbose", 0)

    rows, histories, predictions = {}, {}, {}
    best = None
    for seed in seeds:
        keras.backend.clear_session()
        trained = train_model(name, data, seed=seed, **train_kwargs)
        prediction = trained.predict(split)
        scores = flatten_metrics(evaluate(data, prediction, split=split))
        if split != "val":  # validation scores in the scored space: what best runs are chosen on
            scores.update(flatten_metrics(evaluate(data, trained.predict("val"), split="val"), prefix="val_"))
        scores.update(
            epochs_run=trained.epochs_run,
            best_epoch=trained.best_epoch,
            train_seconds=trained.train_seconds,
            best_val_loss=trained.best_val_loss,
            hit_epoch_cap=float(trained.hit_epoch_cap),
        )
        rows[seed], histories[seed], predictions[seed] = scores, trained.history, prediction
        if verbose:
            print(
                f"{name}/{trained.target_mode} seed {seed}: {trained.epochs_run} epochs (best {trained.best_epoch}), "
                f"val_loss {trained.best_val_loss:.5f}, {trained.train_seconds:.1f} s",
                flush=True,
            )
        if best is None or trained.best_val_loss < best.best_val_loss:
            best = trained
    metrics = pd.DataFrame.from_dict(rows, orient="index")
    metrics.index.name = "seed"
    return SeedRuns(
        name=name,
        target_mode=best.target_mode,
        split=split,
        metrics=metrics,
        histories=histories,
        predictions=predictions,
        best=best,
    )


def runs_at_cap(runs) -> dict:
    """How many training runs the epoch budget ended (instead of early stopping).

    Parameters
    ----------
    runs : SeedRuns or dict of str to SeedRuns

    Returns
    -------
    dict
        ``runs`` (total), ``at_cap`` (ended by the cap) and ``stopped_early``.
    """
    many = runs.values() if isinstance(runs, dict) else [runs]
    flags = [bool(flag) for seed_runs in many for flag in seed_runs.metrics["hit_epoch_cap"]]
    return {"runs": len(flags), "at_cap": int(sum(flags)), "stopped_early": len(flags) - int(sum(flags))}
