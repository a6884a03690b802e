"""What the chapters' training function uses: seeds, the epoch log, the targets, trained runs.

The training itself is on the page: chapter 03 defines ``fit``, ``train_model`` and
``train_seeds`` (exported to :mod:`checkin_traj.pages.lstm`); this module holds the
plumbing they lean on.
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

from .checks import check_choice, check_int
from .results import flatten_metrics

__all__ = ["TARGET_MODES", "set_seed", "EpochLog", "check_windows", "Targets", "TrainedModel", "SeedRuns", "runs_at_cap"]

TARGET_MODES = ("absolute", "offset")
MIN_OFFSET_SCALE = 1e-6  # smaller spreads of training offsets (scaled units) are treated as none
PREDICT_BATCH_SIZE = 8192  # windows per batch at prediction; memory only, not results


def set_seed(seed, *, deterministic="auto"):
    """Seed Python, NumPy and TensorFlow/Keras with ``seed`` (>= 0), and make TensorFlow's ops deterministic.

    ``deterministic``: ask TensorFlow for deterministic kernels (``enable_op_determinism``,
    on for the rest of the process); ``"auto"`` does so when no GPU is visible, where it
    costs next to nothing (on a GPU it can slow training).
    """
    check_int("seed", seed, minimum=0)
    if deterministic not in (True, False, "auto"):
        raise ValueError(f"deterministic must be True, False or 'auto', got {deterministic!r}")
    import tensorflow as tf

    if deterministic == "auto":
        deterministic = not tf.config.list_physical_devices("GPU")
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(int(seed))


class EpochLog(keras.callbacks.Callback):
    """Training progress (one line per epoch with ``verbose=1``, a tqdm bar with ``verbose>=2``) and its
    record, :meth:`history`."""

    def __init__(self, label, *, epochs, verbose=1):
        super().__init__()
        self.label, self.epochs, self.verbose = label, check_int("epochs", epochs, minimum=1), verbose
        self.losses, self.val_losses, self.seconds, self.bar = [], [], [], None
        self.train_seconds = 0.0

    def on_train_begin(self, logs=None):
        self.losses, self.val_losses, self.seconds = [], [], []
        self.train_started = time.perf_counter()
        if self.verbose >= 2:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.epochs, desc=self.label, unit="epoch")

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)
        loss, val_loss = (logs or {}).get("loss", math.nan), (logs or {}).get("val_loss", math.nan)
        self.losses.append(float(loss))
        self.val_losses.append(float(val_loss))
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss:.4g}", val_loss=f"{val_loss:.4g}")
            self.bar.update(1)
        elif self.verbose == 1:
            print(f"{self.label} epoch {epoch + 1:3d}/{self.epochs}: loss {loss:.5f}  val_loss {val_loss:.5f}  "
                  f"({self.seconds[-1]:.1f} s)", file=sys.stdout, flush=True)

    def on_train_end(self, logs=None):
        self.train_seconds = time.perf_counter() - self.train_started
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def history(self, *, stopped_early) -> dict:
        """``loss`` and ``val_loss`` per epoch, each epoch's wall-clock ``seconds``, ``epochs`` (the cap),
        ``stopped_early`` (whether early stopping ended it) and ``train_seconds``."""
        if not self.val_losses:
            raise ValueError(f"{self.label}: no epoch was trained")
        return {
            "loss": list(self.losses), "val_loss": list(self.val_losses), "seconds": [float(value) for value in self.seconds],
            "epochs": int(self.epochs), "stopped_early": bool(stopped_early), "train_seconds": float(self.train_seconds),
        }


def check_windows(part, where="windows"):
    """``part`` (a :class:`checkin_traj.sequences.Split`) if its ``x``, ``y`` and ``last`` have
    matching shapes and are finite, else a ValueError naming ``where`` and the first bad window."""
    if not all(hasattr(part, name) for name in ("x", "y", "last")):
        raise ValueError(f"{where} has no x, y and last; expected a split of a WindowedData from build_windows")
    x, y, last = np.asarray(part.x), np.asarray(part.y), np.asarray(part.last)
    if x.ndim != 3:
        raise ValueError(f"{where}.x must have shape (n, window, n_features), got {x.shape}")
    if y.ndim != 2 or last.shape != y.shape or len(y) != len(x):
        raise ValueError(
            f"{where}: y and last must have shape (n, n_targets) with n = len(x) = {len(x)}, "
            f"got y {y.shape} and last {last.shape}"
        )
    if len(x) == 0:
        raise ValueError(f"{where} has no windows")
    for attribute, values in (("x", x), ("y", y), ("last", last)):
        bad = np.flatnonzero(~np.isfinite(values.reshape(len(values), -1)).all(axis=1))
        if len(bad):
            raise ValueError(f"{where}.{attribute} is not finite in window {bad[0]} ({len(bad)} windows)")
    return part


@dataclass(frozen=True)
class Targets:
    """What a network is trained to output: ``"absolute"``, the scaled targets themselves, or ``"offset"``,
    ``y - last`` (the step from the last input check-in) standardised with the mean and spread of
    the *training* windows' steps; :meth:`decode` reads the output back."""

    mode: str
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, train, mode):
        """The targets of ``mode`` (:data:`TARGET_MODES`), standardised on the ``train`` windows."""
        check_choice("target_mode", mode, TARGET_MODES)
        check_windows(train, "the training windows")
        n_targets = np.shape(train.y)[1]
        if mode == "absolute":
            return cls(mode, np.zeros(n_targets, np.float32), np.ones(n_targets, np.float32))
        offsets = np.asarray(train.y, dtype=np.float64) - np.asarray(train.last, dtype=np.float64)
        scale = offsets.std(axis=0)
        scale = np.where(scale > MIN_OFFSET_SCALE, scale, 1.0)  # a constant offset needs no rescaling
        return cls(mode, offsets.mean(axis=0).astype(np.float32), scale.astype(np.float32))

    def encode(self, part) -> np.ndarray:
        """What the network is trained to output for the windows ``part``, float32 (n, n_targets)."""
        check_windows(part)
        y = np.asarray(part.y, dtype=np.float32)
        if self.mode == "absolute":
            return y
        return ((y - np.asarray(part.last, dtype=np.float32) - self.mean) / self.scale).astype(np.float32)

    def decode(self, output, last) -> np.ndarray:
        """The network's ``output`` as scaled absolute targets (``last``: each window's last check-in)."""
        output = np.asarray(output, dtype=np.float32)
        if self.mode == "absolute":
            return output
        return (np.asarray(last, dtype=np.float32) + output * self.scale + self.mean).astype(np.float32)


@dataclass
class TrainedModel:
    """A trained network (``model``, with the weights of its best validation epoch), what it outputs
    (``targets``), how its training went (``history``, :meth:`EpochLog.history`), the windows it
    was trained on (``data``, not copied, used by :meth:`predict`) and its ``seed``."""

    model: object
    targets: Targets
    history: dict
    data: object = field(repr=False)
    seed: int = 0

    @property
    def target_mode(self) -> str:
        return self.targets.mode

    @property
    def epochs_run(self) -> int:
        """The stopping epoch: epochs trained before early stopping (or the cap)."""
        return len(self.history["loss"])

    @property
    def best_epoch(self) -> int:
        """1-based epoch whose weights were kept (lowest validation loss)."""
        return int(np.argmin(self.history["val_loss"])) + 1

    @property
    def best_val_loss(self) -> float:
        return float(np.min(self.history["val_loss"]))

    @property
    def stopped_early(self) -> bool:
        return bool(self.history["stopped_early"])

    @property
    def hit_epoch_cap(self) -> bool:
        """Whether the epoch cap, not early stopping, ended the run."""
        return not self.stopped_early

    @property
    def train_seconds(self) -> float:
        return float(self.history["train_seconds"])

    def predict_windows(self, x, last) -> np.ndarray:
        """Scaled absolute targets for windows ``x`` whose last check-ins are ``last``, float32 (n, n_targets)."""
        x = np.asarray(x, dtype=np.float32)
        output = self.model.predict(x, batch_size=PREDICT_BATCH_SIZE, verbose=0)
        return self.targets.decode(output, last)

    def predict(self, split="test") -> np.ndarray:
        """Predictions for a split of :attr:`data` (``"train"``, ``"val"`` or ``"test"``), comparable with its ``y``."""
        part = self.data.split(split)
        return self.predict_windows(part.x, part.last)


class SeedRuns:
    """One form trained once per seed (the :class:`TrainedModel` ``runs`` of ``train_seeds``), each run scored.

    ``metrics``: one row per seed (index ``seed``), every metric of
    :func:`checkin_traj.metrics.evaluate` on the test windows, the same prefixed ``val_`` on
    the validation windows, ``epochs_run``, ``best_epoch``, ``train_seconds``,
    ``best_val_loss`` and ``hit_epoch_cap`` (1.0 when the cap ended the run). ``histories``
    and ``predictions`` (test, absolute scaled targets): by seed. ``best``: the run with the
    lowest validation loss (chosen without looking at the test split).
    """

    split = "test"

    def __init__(self, runs):
        from .metrics import evaluate

        runs = list(runs)
        if not runs:
            raise ValueError("no training run: give at least one seed")
        seeds = [run.seed for run in runs]
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be distinct, got {seeds}")
        modes = {run.target_mode for run in runs}
        if len(modes) != 1:
            raise ValueError(f"the runs of one form share their target mode, got {sorted(modes)}")
        data = runs[0].data
        for split in ("val", "test"):
            check_windows(getattr(data, split, None), f"data.{split}")
        rows = {}
        self.runs, self.histories, self.predictions = runs, {}, {}
        for run in runs:
            prediction = run.predict("test")
            scores = flatten_metrics(evaluate(data, prediction, split="test"))
            scores.update(flatten_metrics(evaluate(data, run.predict("val"), split="val"), prefix="val_"))
            scores.update(epochs_run=run.epochs_run, best_epoch=run.best_epoch, train_seconds=run.train_seconds,
                          best_val_loss=run.best_val_loss, hit_epoch_cap=float(run.hit_epoch_cap))
            rows[run.seed], self.histories[run.seed], self.predictions[run.seed] = scores, run.history, prediction
        self.metrics = pd.DataFrame.from_dict(rows, orient="index").rename_axis("seed")
        self.best = min(runs, key=lambda run: run.best_val_loss)  # the first of equals, as seeds were given
        self.target_mode = runs[0].target_mode
        self.name = runs[0].model.name

    def __repr__(self):
        return f"SeedRuns({self.name!r}, {self.target_mode}, seeds {self.seeds})"

    @property
    def seeds(self) -> list:
        return list(self.metrics.index)

    def summary(self) -> pd.DataFrame:
        """Mean, standard deviation (ddof=1, over seeds) and count of every metric (index: metric names)."""
        numeric = self.metrics.select_dtypes("number")
        return pd.DataFrame({"mean": numeric.mean(), "std": numeric.std(ddof=1), "n_seeds": numeric.count()})

    def mean_prediction(self) -> np.ndarray:
        """The test predictions averaged over seeds (an ensemble), float32 (n, n_targets)."""
        return np.mean([self.predictions[seed] for seed in self.seeds], axis=0).astype(np.float32)


def runs_at_cap(runs) -> dict:
    """How many training runs of a ``SeedRuns`` (or a dict of them) the epoch cap ended instead of early
    stopping: ``runs`` (total), ``at_cap`` and ``stopped_early``."""
    many = runs.values() if isinstance(runs, dict) else [runs]
    flags = [bool(flag) for seed_runs in many for flag in seed_runs.metrics["hit_epoch_cap"]]
    return {"runs": len(flags), "at_cap": int(sum(flags)), "stopped_early": len(flags) - int(sum(flags))}
