"""When the next check-in comes: chapter 06's choice of regression model, saved and asked about new histories.

Chapter 06 keeps the model run with the lowest median error of the gap to the next check-in on the
validation windows, its best seed, in ``WORKDIR/models/next_time/``: ``model.keras`` and
``next_time.json`` (features, window, time zone, target mode and scalers, and the validation
residuals of the log gap whose quantiles give the spread), written by
:func:`checkin_traj.artifacts.save_artifact`. :func:`checkin_traj.predict` adds its answer to each
user's venues. Windows of new histories are cut by :func:`checkin_traj.sequences.row_matrices`,
the rule of the training windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.preprocessing import MinMaxScaler

from .artifacts import named
from .sequences import ARTICLE_FEATURES, gap_minutes, row_matrices, unix_seconds

__all__ = ["ARTIFACT", "save_next_time", "load_next_time", "NextTime"]

#: Where a run's model of the next check-in's time lives, under its WORKDIR.
ARTIFACT = Path("models") / "next_time"
_MODEL, _META = "model.keras", "next_time.json"


def _scaler(low, high) -> MinMaxScaler:
    return MinMaxScaler().fit(np.array([low, high], dtype=np.float64))


def save_next_time(workdir, data, *, model, run, level=0.8) -> Path:
    """Save the best seed of result ``model``'s ``run`` (chapters 03-05 saved it) for new histories, with
    the central ``level`` interval of its validation residuals (log gap) as the spread; returns the folder."""
    from .artifacts import load_network, save_artifact
    from .data.provenance import read_provenance
    from .report import model_path
    from .results import load_results
    from .training import Targets, TrainedModel

    if not 0 < level < 1:
        raise ValueError(f"level must lie between 0 and 1, got {level!r}")
    mode = load_results(workdir, model)["extra"]["target_mode"][run]
    network = load_network(model_path(workdir, model, run), again=f"re-run the chapter that saved result {model!r}")
    features = next((tuple(names) for names in (data.feature_names, ARTICLE_FEATURES) if len(names) == network.input_shape[-1]), None)
    if features is None:
        raise ValueError(f"{model_path(workdir, model, run)} reads {network.input_shape[-1]} features, neither the protocol's nor the article's")
    part = data.with_features(features)
    targets = Targets.fit(part.train, mode)
    gap = data.inverse_targets(TrainedModel(network, targets, {}, part).predict("val"))[:, 0]
    residuals = part.val.y_raw[:, 0] - gap
    columns = [data.feature_names.index(name) for name in features]
    meta = {
        "model": model, "run": run, "target_mode": mode, "targets_mean": targets.mean.tolist(), "targets_scale": targets.scale.tolist(),
        "features": list(features), "window": data.window, "timezone": data.parameters.get("timezone"), "level": level,
        "residual_quantiles": np.quantile(residuals, [(1 - level) / 2, (1 + level) / 2]).tolist(),
        "feature_min": data.feature_scaler.data_min_[columns].tolist(), "feature_max": data.feature_scaler.data_max_[columns].tolist(),
        "target_min": data.target_scaler.data_min_.tolist(), "target_max": data.target_scaler.data_max_.tolist(),
        "latest_check_in": float(unix_seconds(data.check_ins["time"]).max()), "provenance": read_provenance(workdir),
    }
    return save_artifact(Path(workdir) / ARTIFACT, {_MODEL: network.save}, _META, meta)


def load_next_time(workdir) -> NextTime:
    """The model chapter 06 saved in ``workdir`` (``FileNotFoundError`` when none; ``ValueError`` naming
    the file when damaged or saved by another package version)."""
    from .artifacts import load_network, read_artifact

    folder = Path(workdir) / ARTIFACT
    again = f"re-run chapter 06 (checkin-traj build --chapters 06 --workdir {workdir})"
    meta = read_artifact(folder, _META, (_MODEL,), again=again, what="model of the next check-in's time")
    return NextTime(load_network(folder / _MODEL, again=again), meta)


@dataclass
class NextTime:
    """A saved regression model and its settings (``next_time.json``)."""

    network: object
    meta: dict

    def windows(self, history):
        """Each user's last ``window`` check-ins of ``history`` as scaled inputs: users (sorted), ``x``,
        ``last`` (scaled targets of the last check-in), the last check-in's time; users with fewer
        check-ins than the window have none (``x`` holds the others)."""
        meta, width = self.meta, int(self.meta["window"])
        frame = history.sort_values(["user", "time"], kind="stable").reset_index(drop=True)
        user, unix = frame["user"].to_numpy(), unix_seconds(frame["time"])
        features, targets = row_matrices(frame, unix, np.r_[False, user[1:] == user[:-1]], meta["timezone"], meta["features"])
        x = _scaler(meta["feature_min"], meta["feature_max"]).transform(features).astype(np.float32)
        scaled = _scaler(meta["target_min"], meta["target_max"]).transform(targets).astype(np.float32)
        users, starts, counts = np.unique(user, return_index=True, return_counts=True)
        ends = starts + counts
        full = counts >= width
        rows = ends[full, None] - width + np.arange(width)
        return users, full, x[rows], scaled[ends - 1], pd.to_datetime(unix[ends - 1], unit="s", utc=True)

    def predict(self, history) -> pd.DataFrame:
        """Per user of ``history`` (index: SNAP id): ``gap_minutes``, the expected wait after the last
        check-in, ``expected_at`` (UTC), and the ``level`` interval ``expected_from``..``expected_until``;
        NaN/NaT for a user with fewer check-ins than the window."""
        from .training import PREDICT_BATCH_SIZE, Targets

        meta = self.meta
        users, full, x, last, last_time = self.windows(history)
        targets = Targets(meta["target_mode"], np.float32(meta["targets_mean"]), np.float32(meta["targets_scale"]))
        gap = np.full(len(users), np.nan)
        if full.any():
            output = (self.network.predict_on_batch(x) if len(x) <= PREDICT_BATCH_SIZE  # no tf.data pipeline per call
                      else self.network.predict(x, batch_size=PREDICT_BATCH_SIZE, verbose=0))
            scaled = targets.decode(output, last[full])
            gap[full] = _scaler(meta["target_min"], meta["target_max"]).inverse_transform(scaled)[:, 0]
        low, high = meta["residual_quantiles"]
        at = {name: (last_time + pd.to_timedelta(gap_minutes(gap + shift), unit="min")).round("s")
              for name, shift in (("expected_at", 0.0), ("expected_from", low), ("expected_until", high))}
        out = pd.DataFrame({"gap_minutes": gap_minutes(gap), **at}, index=pd.Index(users, name="user"))
        short = users[~full]
        out.attrs["notes"] = [f"users with fewer than {int(meta['window'])} check-ins, no time predicted: {named(short)}"] if len(short) else []
        late = users[full & (last_time.asi8 / 1e9 > meta["latest_check_in"])]
        if "time" in meta["features"] and len(late):
            out.attrs["notes"].append(f"the time model reads the date, and these users' check-ins come after the last one of "
                                      f"its data, so their times are extrapolated: {named(late)}")
        return out
