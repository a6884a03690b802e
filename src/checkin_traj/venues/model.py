"""What chapter 08's ranker (on its page, :mod:`checkin_traj.pages.next_venue`) reads and gives back:
the feature scaler, the network's named inputs and training targets, a trained ranker's scores,
the softmax over the candidates and the venue picked for the *place*. No TensorFlow here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..checks import check_int, check_positive

__all__ = [
    "FeatureScaler", "ranker_inputs", "labelled", "TrainedRanker", "top_venues", "probabilities", "place_mass", "PlaceMass",
    "StayGate", "stay_or_move",
]


@dataclass
class FeatureScaler:
    """Mean and spread of each feature over the training windows' real candidates."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, windows, *, chunk=512):
        """Each feature's mean and standard deviation (ddof 0) over the real candidates, summed in
        float64 ``chunk`` windows at a time around the first candidate's values (no copy of the
        whole array in float64: 1 to 3 s less per training run on the book's 58,627 windows)."""
        valid = windows.candidates >= 0
        if not valid.any():
            raise ValueError("no real candidate (every candidate is padding): nothing to standardise")
        first = np.argmax(valid.ravel())  # centring on the first real candidate keeps the sum of squares accurate
        shift = windows.features.reshape(valid.size, -1)[first].astype(np.float64)
        count, total, squares = 0, 0.0, 0.0
        for start in range(0, len(valid), chunk):
            values = windows.features[start:start + chunk][valid[start:start + chunk]].astype(np.float64) - shift
            count, total, squares = count + len(values), total + values.sum(axis=0), squares + (values * values).sum(axis=0)
        mean = total / count
        std = np.sqrt(np.maximum(squares / count - mean * mean, 0.0))
        return cls((mean + shift).astype(np.float32), np.where(std > 0, std, 1.0).astype(np.float32))

    def transform(self, windows) -> np.ndarray:
        scaled = (windows.features - self.mean) / self.std
        scaled[windows.candidates < 0] = 0.0
        return scaled.astype(np.float32)


def _input_names(model):
    return [tensor.name for tensor in model.inputs]


def ranker_inputs(windows, scaler, model) -> dict:
    """The windows (VenueWindows; ``scaler`` fit on the training windows) as the named inputs
    ``model`` reads, among ``features`` (standardised, (n, size, n_features)), ``mask`` (1 for
    a candidate, 0 for padding), ``candidates`` and ``window_venues`` (venue id + 1: 0 is
    padding or a venue absent from training), ``user`` and ``time`` (hour of the week, 0-167).
    """
    names = _input_names(model)
    available = {
        "features": lambda: scaler.transform(windows),
        "mask": lambda: (windows.candidates >= 0).astype(np.float32),
        "candidates": lambda: (windows.candidates + 1).astype(np.int32),
        "window_venues": lambda: (windows.window_venues + 1).astype(np.int32),
        "user": lambda: windows.user.astype(np.int32),
        "time": lambda: (windows.weekday * 24 + windows.hour).astype(np.int32),
    }
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ValueError(f"the ranker reads inputs {unknown} that windows do not give; they give {list(available)}")
    return {name: available[name]() for name in names}


def labelled(windows, scaler, model):
    """``(inputs, labels)`` of the windows whose next venue is a candidate: what the ranker is
    trained and validated on (``labels``: the next venue's position among the candidates)."""
    keep = windows.label >= 0
    if not keep.any():
        raise ValueError(f"no window of the {len(windows)} given has its next venue among the candidates: nothing to learn from")
    inputs = ranker_inputs(windows, scaler, model)
    return {key: value[keep] for key, value in inputs.items()}, windows.label[keep]


@dataclass
class TrainedRanker:
    """A trained ranker: the network, its scaler and its history (``fit``'s record of the run)."""

    model: object
    scaler: FeatureScaler
    history: dict = field(default_factory=dict)

    @property
    def best_epoch(self) -> int:
        """0-based epoch whose weights were kept (the lowest validation loss)."""
        return int(np.argmin(self.history["val_loss"]))

    def scores(self, windows, *, batch_size=512) -> np.ndarray:
        """One score (logit) per candidate, (n, size); -inf on padding."""
        inputs = ranker_inputs(windows, self.scaler, self.model)
        if len(windows) <= batch_size:  # one batch: Keras' predict would build a tf.data pipeline for it
            logits = np.asarray(self.model.predict_on_batch(inputs))
        else:
            logits = self.model.predict(inputs, batch_size=batch_size, verbose=0)
        return np.where(windows.candidates >= 0, logits, -np.inf)

    def rank(self, windows, *, k=10, batch_size=512) -> np.ndarray:
        """The top ``k`` venue ids per window, best first, -1 padded."""
        return top_venues(self.scores(windows, batch_size=batch_size), windows.candidates, k=k)


def top_venues(scores, candidates, *, k=10) -> np.ndarray:
    """The ``k`` candidates with the highest scores per window, best first (ties: the earlier
    candidate), -1 where the score is not finite (padding)."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    ranked = np.take_along_axis(candidates, order, axis=1)
    return np.where(np.isfinite(np.take_along_axis(scores, order, axis=1)), ranked, -1)


def probabilities(scores) -> np.ndarray:
    """Softmax of each row of ``scores`` (-inf for padding gives 0)."""
    scores = np.asarray(scores, dtype=np.float64)
    top = np.max(np.where(np.isfinite(scores), scores, -np.inf), axis=1, keepdims=True)
    weights = np.where(np.isfinite(scores), np.exp(scores - top), 0.0)
    return weights / weights.sum(axis=1, keepdims=True)


@dataclass
class PlaceMass:
    """For each window's ``pool`` most probable candidates: their ids, probabilities and the
    probability mass within the radius of each (see :func:`place_mass`)."""

    top: np.ndarray
    top_p: np.ndarray
    mass: np.ndarray

    def pick(self, *, k=10) -> np.ndarray:
        """The top ``k`` venues by their mass (ties: by probability), -1 padded."""
        score = np.where((self.top >= 0) & (self.top_p > 0), self.mass, -np.inf)
        rerank = np.argsort(-score, axis=1, kind="stable")  # the pool is sorted by probability: ties keep it
        ranked = np.take_along_axis(self.top, rerank, axis=1)[:, :k]
        out = np.where(np.take_along_axis(np.isfinite(score), rerank, axis=1)[:, :k], ranked, -1)
        if out.shape[1] < k:
            out = np.pad(out, ((0, 0), (0, k - out.shape[1])), constant_values=-1)
        return out

    @property
    def best(self) -> np.ndarray:
        """Each window's largest mass: the probability that its picked venue lies within the radius."""
        return np.where((self.top >= 0) & (self.top_p > 0), self.mass, 0.0).max(axis=1)


@dataclass
class StayGate:
    """The stay-or-move gate (fit on chapter 08's page, ``fit_stay_gate``): the probability that the
    next check-in lies within 1 km of the last one, a logistic regression on standardised inputs."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probability(self, inputs) -> np.ndarray:
        """P(stay) for each row of ``inputs`` (n, len(STAY_FEATURE_NAMES))."""
        z = ((np.asarray(inputs, dtype=np.float64) - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


def stay_or_move(mass, stay_probability, *, factor=1.0):
    """Where the place pick stays at the last position: where the gate's probability that the next
    check-in lies within 1 km of it is at least ``factor`` times the best venue's mass (a bool per window;
    ``factor`` inf: never)."""
    check_positive("factor", factor, allow_inf=True)
    return np.asarray(stay_probability, dtype=np.float64) >= factor * mass.best


#: The place pick's defaults (:func:`place_mass`): the radius of a place, and how many of the likeliest venues are places.
PLACE_RADIUS_KM, PLACE_POOL = 1.0, 50


def place_mass(probs, candidates, venue_lat, venue_lon, last_lat, *, radius_km=PLACE_RADIUS_KM,
               pool=PLACE_POOL) -> PlaceMass:
    """The probability that the next check-in lies within ``radius_km`` of each likely venue.

    The ranker's probabilities say where the next venue is likely to be; when they are
    spread over venues close together, the venue at the centre of that mass is a better
    guess of the *place* than the single most probable venue. Each of the ``pool`` most
    probable candidates ``j`` gets ``sum_c p_c [d(j, c) <= radius]``, and :meth:`PlaceMass.pick`
    ranks them by it (:func:`stay_or_move` may keep the last position instead). Distances are
    planar (equirectangular at the last check-in's latitude), within a fraction of a per cent of
    the haversine distance over a city.
    """
    probs = np.asarray(probs, dtype=np.float64)
    candidates = np.asarray(candidates)
    check_positive("radius_km", radius_km)
    pool = min(check_int("pool", pool, minimum=1), candidates.shape[1])
    n = len(probs)
    order = np.argsort(-probs, axis=1, kind="stable")[:, :pool]
    top = np.take_along_axis(candidates, order, axis=1)
    top_p = np.take_along_axis(probs, order, axis=1)
    safe = np.where(candidates >= 0, candidates, 0)
    km_per_deg = 111.195
    scale = np.cos(np.radians(np.asarray(last_lat, float)))[:, None]
    y = np.asarray(venue_lat, float)[safe] * km_per_deg
    x = np.asarray(venue_lon, float)[safe] * km_per_deg * scale
    ty, tx = np.take_along_axis(y, order, axis=1), np.take_along_axis(x, order, axis=1)
    mass = np.empty((n, pool))
    for start in range(0, n, 1024):
        s = slice(start, start + 1024)
        d2 = (ty[s, :, None] - y[s, None, :]) ** 2 + (tx[s, :, None] - x[s, None, :]) ** 2
        mass[s] = ((d2 <= radius_km**2) * probs[s, None, :]).sum(axis=2)
    return PlaceMass(top=top, top_p=top_p, mass=mass)
