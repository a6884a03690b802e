"""Chapter 08's best ranker saved (``WORKDIR/models/venue_ranker/``: ``ranker.keras``; ``state.npz``,
the training rows its features count and its scaler; ``predictor.json``, its settings, the
package version, the data's provenance and both files' SHA-256), loaded, and asked where
new histories go next, through :meth:`VenueContext.features` like the test windows."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..checks import check_int
from ..geo import haversine_km
from .features import VenueContext, local_time
from ..artifacts import named
from .model import (PLACE_POOL, PLACE_RADIUS_KM, FeatureScaler, StayGate, TrainedRanker, place_mass, probabilities,
                    stay_or_move, top_venues)
from .report import summarise

__all__ = ["ARTIFACT", "best_seed", "save_predictor", "load_predictor", "Predictor", "predict"]

#: Where a run's predictor lives, under its WORKDIR.
ARTIFACT = Path("models") / "venue_ranker"
#: The columns :func:`predict` adds from chapter 06's model of the time (:mod:`checkin_traj.next_time`).
_WHEN = ("gap_minutes", "expected_at", "expected_from", "expected_until")
_MODEL, _STATE, _META = "ranker.keras", "state.npz", "predictor.json"


def best_seed(runs, form, *, metric="acc@1"):
    """The seed of ``form`` with the best validation ``metric`` (the first on a tie; never the test windows)."""
    values = {seed: summarise(run["val"])[metric] for seed, run in runs[form].items()}
    return max(values, key=values.get)


def save_predictor(workdir, ranker, context, *, form, seed, gate, factor, radius_km=PLACE_RADIUS_KM, pool=PLACE_POOL) -> Path:
    """Save ``ranker`` (a TrainedRanker of ``form`` and ``seed``) with ``context``'s training counts
    and the place pick's stay-or-move ``gate`` (a StayGate), ``factor``, ``radius_km`` and ``pool``;
    returns the folder."""
    from ..artifacts import save_artifact
    from ..data.provenance import read_provenance

    arrays = {**context.state, "scaler_mean": ranker.scaler.mean, "scaler_std": ranker.scaler.std,
              "gate_mean": gate.mean, "gate_scale": gate.scale, "gate_coef": gate.coef}
    meta = {"form": form, "seed": seed, "gate_intercept": float(gate.intercept), "factor": float(factor),
            "radius_km": float(radius_km), "pool": int(pool), **context.settings, "provenance": read_provenance(workdir)}

    def write_state(path):
        with open(path, "wb") as file:
            np.savez(file, **arrays)

    return save_artifact(Path(workdir) / ARTIFACT, {_MODEL: ranker.model.save, _STATE: write_state}, _META, meta)


def load_predictor(workdir) -> Predictor:
    """The predictor chapter 08 saved in ``workdir``; ``ValueError`` (``FileNotFoundError`` when
    missing) naming the file when it is damaged or was saved by another package version."""
    from ..artifacts import load_network, read_artifact

    folder = Path(workdir) / ARTIFACT
    again = f"re-run chapter 08 (checkin-traj build --chapters 08 --workdir {workdir})"
    meta = read_artifact(folder, _META, (_MODEL, _STATE), again=again, what="next-venue predictor")
    with np.load(folder / _STATE) as saved:
        state = {name: saved[name] for name in saved.files}
    scaler = FeatureScaler(state.pop("scaler_mean"), state.pop("scaler_std"))
    gate = StayGate(state.pop("gate_mean"), state.pop("gate_scale"), state.pop("gate_coef"), meta["gate_intercept"])
    model = load_network(folder / _MODEL, again=again)
    return Predictor(TrainedRanker(model, scaler), VenueContext.from_state(state, meta), meta, gate)


@dataclass
class Predictor:
    """A saved ranker, the training counts its features read, and its settings (``predictor.json``)."""

    ranker: TrainedRanker
    context: VenueContext
    meta: dict
    gate: StayGate

    def _scores(self, windows) -> np.ndarray:
        """The ranker's scores; a user absent from training gets the mean of the users' embeddings."""
        unseen = windows.user < 0
        if not unseen.any() or "user" not in [tensor.name for tensor in self.ranker.model.inputs]:
            return self.ranker.scores(windows)
        anyone = replace(windows, user=np.maximum(windows.user, 0))
        scores = self.ranker.scores(anyone)
        layer = self.ranker.model.get_layer("user_embedding")
        weights = layer.get_weights()
        layer.set_weights([np.broadcast_to(weights[0].mean(axis=0), weights[0].shape)])
        try:
            return np.where(unseen[:, None], self.ranker.scores(anyone), scores)
        finally:
            layer.set_weights(weights)

    def windows(self, history):
        """Each user's last ``window`` check-ins of ``history`` as VenueWindows (VenueContext.features:
        the test windows' rule); the users (SNAP ids, sorted), their check-ins in the window, their last
        check-ins, and the stay-or-move gate's probability (VenueContext.stay_features)."""
        context, width, state = self.context, int(self.meta["window"]), self.context.state
        frame = history.sort_values(["user", "time"], kind="stable").groupby("user", sort=True).tail(width)
        users, row = np.unique(frame["user"].to_numpy(), return_inverse=True)
        column = width - 1 - frame.groupby("user").cumcount(ascending=False).to_numpy()
        window_venues = np.full((len(users), width), -1, dtype=np.int64)
        venue = pd.Series(np.arange(context.n_venues), index=state["location_id"])
        window_venues[row, column] = venue.reindex(frame["location_id"]).fillna(-1).to_numpy(np.int64)
        dense = pd.Series(np.arange(context.n_users), index=state["snap_user"]).reindex(users).fillna(-1).to_numpy(np.int64)
        last = frame[column == width - 1]
        hour, weekday = local_time(last["time"], self.meta["timezone"])
        windows = context.features(dense, window_venues, last["lat"], last["lon"], hour, weekday)
        where = {}
        for name, values in (("lat", frame["lat"]), ("lon", frame["lon"]), ("hours", pd.DatetimeIndex(frame["time"]).asi8 / 3.6e12)):
            where[name] = np.full((len(users), width), np.nan)
            where[name][row, column] = np.asarray(values, dtype=np.float64)
        stay = self.gate.probability(context.stay_features(dense, window_venues[:, -1], where["lat"], where["lon"],
                                                           where["hours"], hour, weekday))
        return windows, users, np.bincount(row), last, stay

    def predict(self, history, *, k=5) -> pd.DataFrame:
        """Each user's top ``k`` next venues, and the place pick (see :func:`predict`)."""
        k = check_int("k", k, minimum=1)
        if len(history) == 0:
            raise ValueError("the history holds no check-ins: give at least one per user")
        (windows, users, counts, last, stay), context = self.windows(history), self.context
        lat, lon, last_lat, last_lon = context.venue_lat, context.venue_lon, last["lat"].to_numpy(), last["lon"].to_numpy()
        scores = self._scores(windows)
        ranked = top_venues(scores, windows.candidates, k=windows.candidates.shape[1])
        probs = probabilities(scores)
        mass = place_mass(probs.astype(np.float32), windows.candidates, lat, lon, last_lat,
                          radius_km=self.meta["radius_km"], pool=self.meta["pool"])
        stays = stay_or_move(mass, stay, factor=self.meta["factor"])  # the pick is then the last check-in's venue
        pick = np.where(stays, windows.last_venue, mass.pick(k=1)[:, 0])
        who, at = np.nonzero((ranked >= 0) & ((np.arange(ranked.shape[1]) < k) | (ranked == pick[:, None])))
        venue = ranked[who, at]
        out = pd.DataFrame({
            "user": users[who], "seen_user": windows.user[who] >= 0, "window_checkins": counts[who], "rank": at + 1,
            "location_id": context.state["location_id"][venue], "lat": lat[venue], "lon": lon[venue],
            "probability": np.take_along_axis(probs, np.argsort(-scores, axis=1, kind="stable"), axis=1)[who, at],
            "km_from_last": haversine_km(last_lat[who], last_lon[who], lat[venue], lon[venue]), "place_pick": venue == pick[who],
            "stays": stays[who],
        })
        unknown = history.loc[~history["location_id"].isin(context.state["location_id"]), "location_id"].value_counts()
        out.attrs["unknown_venues"] = {int(key): int(value) for key, value in unknown.items()}
        out.attrs["notes"] = _notes(out.attrs["unknown_venues"], users[windows.user < 0], users[stays & (pick < 0)])
        return out


def _notes(unknown, unseen, stay_unknown) -> list:
    """What the caller should know: venues the model never saw, users scored without their counts,
    users whose place pick stays at a last venue the model never saw (no row is their place pick)."""
    notes = [f"{sum(unknown.values())} check-ins at venues the model never saw (location ids {named(unknown)}): "
             "they stay in the windows as unknown venues and can never be predicted"] if unknown else []
    if len(unseen):
        notes.append(f"users absent from training, scored without user counts (seen_user False): {named(unseen)}")
    if len(stay_unknown):
        notes.append(f"users whose place pick stays at their last check-in, a venue the model never saw: {named(stay_unknown)}")
    return notes


def predict(history, *, workdir, k=5) -> pd.DataFrame:
    """Each user's top ``k`` next venues by chapter 08's saved ranker in ``workdir``.

    Parameters
    ----------
    history : str, os.PathLike or pandas.DataFrame
        A SNAP-format check-in file (read by :func:`checkin_traj.data.snap.read_checkins`; ``"-"``:
        standard input) or the frame that reader returns. Each user's last ``window`` check-ins
        (by time) are the window; fewer are scored as a window whose older places are unknown.
    workdir : str or os.PathLike
        The run folder chapter 08 saved its predictor in (:data:`ARTIFACT`).
    k : int
        Venues per user.

    Returns a DataFrame: per ``user`` (SNAP id) and ``rank`` (1: most probable), ``seen_user``
    (False: absent from training, no user counts), ``window_checkins``, the venue's
    ``location_id``, ``lat``, ``lon``, ``probability`` (softmax over the candidates),
    ``km_from_last``, ``place_pick`` (chapter 08's place pick; its row follows the top ``k``
    when it ranks lower), ``stays`` (the pick stays at the last check-in's venue), and when the
    user's next check-in comes by chapter 06's saved model
    (:mod:`checkin_traj.next_time`): ``gap_minutes`` after the last check-in, ``expected_at``
    (UTC) and its interval ``expected_from``..``expected_until`` (the saved level, 80 %: the
    validation residuals' quantiles). ``attrs["unknown_venues"]``: check-ins per venue the model
    never saw; ``attrs["notes"]``: those, unseen users, users without a time, all in words.
    """
    from ..data.snap import read_checkins
    from ..next_time import load_next_time

    if not isinstance(history, pd.DataFrame):  # the reader's errors first: they need no model
        history = read_checkins("/dev/stdin" if str(history) == "-" else history)
    table = load_predictor(workdir).predict(history, k=k)
    try:
        when = load_next_time(workdir).predict(history)
    except FileNotFoundError as missing:
        when, notes = pd.DataFrame(index=pd.Index([], name="user"), columns=_WHEN), [f"no time predicted: {missing}"]
    else:
        notes = when.attrs["notes"]
    attrs = dict(table.attrs)
    table = table.join(when[list(_WHEN)], on="user")
    table.attrs = {**attrs, "notes": [*attrs["notes"], *notes]}
    return table
