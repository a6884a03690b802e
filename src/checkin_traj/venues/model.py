"""A Keras 3 next-venue ranker: scores each window's candidates, softmax over the set.

Two forms, the same training:

- ``"features"``: a small MLP applied to each candidate's cheap features
  (:data:`checkin_traj.venues.features.FEATURE_NAMES`, standardised with the training
  windows' mean and spread), one score per candidate;
- ``"sequence"``: the same score plus a learned match between the window and the candidate:
  a GRU reads the window's venue embeddings with the hour and weekday of each check-in, adds
  a user embedding, and the dot product of that state with the candidate's venue embedding
  (and a learned distance term) is added to the feature score.

Training minimises the cross-entropy of the softmax over the candidates (padding masked)
on the training windows whose target is a candidate, with Adam and early stopping on the
validation windows' loss; the best validation epoch's weights are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..checks import check_choice, check_int, check_positive

__all__ = ["FORMS", "FeatureScaler", "build_ranker", "train_ranker", "TrainedRanker", "probabilities", "place_mass", "PlaceMass"]

FORMS = ("features", "sequence")


@dataclass
class FeatureScaler:
    """Mean and spread of each feature over the training windows' real candidates."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, windows):
        valid = windows.candidates >= 0
        values = windows.features[valid].astype(np.float64)
        std = values.std(axis=0)
        return cls(values.mean(axis=0).astype(np.float32), np.where(std > 0, std, 1.0).astype(np.float32))

    def transform(self, windows) -> np.ndarray:
        scaled = (windows.features - self.mean) / self.std
        scaled[windows.candidates < 0] = 0.0
        return scaled.astype(np.float32)


def _inputs(windows, scaler, form, n_venues):
    inputs = {"features": scaler.transform(windows), "mask": (windows.candidates >= 0).astype(np.float32)}
    if form == "sequence":
        # venue id + 1 so that 0 means "absent from training" / padding
        inputs["candidates"] = (windows.candidates + 1).astype(np.int32)
        inputs["window_venues"] = (windows.window_venues + 1).astype(np.int32)
        inputs["user"] = windows.user.astype(np.int32)
        inputs["time"] = (windows.weekday * 24 + windows.hour).astype(np.int32)
    return inputs


def build_ranker(*, n_features, size, form="features", hidden=64, n_venues=1, n_users=1, window=10, embedding=32, dropout=0.1):
    """The Keras model: inputs as :func:`_inputs` gives them, output (batch, size) scores (logits)."""
    import keras
    from keras import layers, ops

    check_choice("form", form, FORMS)
    hidden = check_int("hidden", hidden, minimum=1)
    features = keras.Input((size, n_features), name="features")
    mask = keras.Input((size,), name="mask")
    inputs = [features, mask]
    h = layers.Dense(hidden, activation="relu", name="feature_dense_1")(features)
    h = layers.Dropout(dropout)(h)
    h = layers.Dense(hidden // 2 or 1, activation="relu", name="feature_dense_2")(h)
    score = layers.Dense(1, name="feature_score")(h)[..., 0]
    if form == "sequence":
        candidates = keras.Input((size,), dtype="int32", name="candidates")
        window_venues = keras.Input((window,), dtype="int32", name="window_venues")
        user = keras.Input((), dtype="int32", name="user")
        when = keras.Input((), dtype="int32", name="time")
        inputs += [candidates, window_venues, user, when]
        venue_embedding = layers.Embedding(n_venues + 1, embedding, name="venue_embedding")
        state = layers.GRU(embedding, name="window_gru")(venue_embedding(window_venues))
        state = state + layers.Embedding(n_users, embedding, name="user_embedding")(user)
        state = state + layers.Embedding(7 * 24, embedding, name="time_embedding")(when)
        state = layers.Dense(embedding, name="query")(layers.Dropout(dropout)(state))
        match = ops.sum(venue_embedding(candidates) * state[:, None, :], axis=-1)
        score = score + match
    logits = ops.where(mask > 0, score, -1e9)
    return keras.Model(inputs, logits, name=f"venue_ranker_{form}")


@dataclass
class TrainedRanker:
    """A trained ranker, its scaler and its history (loss per epoch, seconds per epoch)."""

    model: object
    scaler: FeatureScaler
    form: str
    n_venues: int
    history: dict = field(default_factory=dict)
    best_epoch: int = 0

    def scores(self, windows, *, batch_size=512) -> np.ndarray:
        logits = self.model.predict(_inputs(windows, self.scaler, self.form, self.n_venues), batch_size=batch_size, verbose=0)
        return np.where(windows.candidates >= 0, logits, -np.inf)

    def rank(self, windows, *, k=10, batch_size=512) -> np.ndarray:
        """The top ``k`` venue ids per window, best first, -1 padded."""
        scores = self.scores(windows, batch_size=batch_size)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        ranked = np.take_along_axis(windows.candidates, order, axis=1)
        return np.where(np.take_along_axis(np.isfinite(scores), order, axis=1), ranked, -1)


def train_ranker(
    train,
    val,
    *,
    n_venues,
    n_users,
    form="features",
    hidden=64,
    embedding=32,
    dropout=0.1,
    epochs=20,
    batch_size=256,
    patience=3,
    learning_rate=1e-3,
    seed=0,
    verbose=0,
) -> TrainedRanker:
    """Train on the ``train`` windows whose target is a candidate; stop early on ``val``'s loss.

    Parameters
    ----------
    train, val : VenueWindows
        From :meth:`checkin_traj.venues.features.VenueContext.windows`.
    n_venues, n_users : int
        Sizes of the venue and user ids (for the embeddings of the ``"sequence"`` form).
    form : {"features", "sequence"}
    seed : int
        Seeds Python, NumPy and TensorFlow (:func:`checkin_traj.training.set_seed`).
    """
    import keras

    from ..training import EpochProgress, set_seed

    check_choice("form", form, FORMS)
    epochs = check_int("epochs", epochs, minimum=1)
    patience = check_int("patience", patience, minimum=0)
    check_positive("learning_rate", learning_rate)
    for name, windows in (("train", train), ("val", val)):
        if not (windows.label >= 0).any():
            raise ValueError(f"no {name} window has its target among the candidates: nothing to learn from")
    set_seed(seed)
    scaler = FeatureScaler.fit(train)
    size, n_features = train.features.shape[1:]
    model = build_ranker(
        n_features=n_features, size=size, form=form, hidden=hidden, n_venues=n_venues, n_users=n_users,
        window=train.window_venues.shape[1], embedding=embedding, dropout=dropout,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )

    def subset(windows):
        keep = windows.label >= 0
        inputs = _inputs(windows, scaler, form, n_venues)
        return {key: value[keep] for key, value in inputs.items()}, windows.label[keep]

    x_train, y_train = subset(train)
    x_val, y_val = subset(val)

    progress = EpochProgress(label=f"ranker/{form} seed {seed}", epochs=epochs, verbose=verbose)  # the project's epoch log and clock
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    fit = model.fit(
        x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size,
        shuffle=True, callbacks=[stop, progress], verbose=0,
    )
    history = {key: [float(v) for v in values] for key, values in fit.history.items()}
    history["seconds"] = [float(s) for s in progress.seconds]
    best = int(np.argmin(history["val_loss"]))
    return TrainedRanker(model=model, scaler=scaler, form=form, n_venues=n_venues, history=history, best_epoch=best)


def probabilities(scores) -> np.ndarray:
    """Softmax of each row of ``scores`` (-inf for padding gives 0)."""
    scores = np.asarray(scores, dtype=np.float64)
    top = np.max(np.where(np.isfinite(scores), scores, -np.inf), axis=1, keepdims=True)
    weights = np.where(np.isfinite(scores), np.exp(scores - top), 0.0)
    return weights / weights.sum(axis=1, keepdims=True)


@dataclass
class PlaceMass:
    """For each window's ``pool`` most probable candidates: their ids, probabilities, the
    probability mass within the radius of each, and whether each lies within the radius of
    the last check-in (see :func:`km_pick`)."""

    top: np.ndarray
    top_p: np.ndarray
    mass: np.ndarray
    near_last: np.ndarray

    def pick(self, stay_weight=0.0, *, k=10) -> np.ndarray:
        """The top ``k`` venues by ``mass + stay_weight * near_last`` (ties: by probability), -1 padded."""
        score = self.mass + float(stay_weight) * self.near_last
        score = np.where((self.top >= 0) & (self.top_p > 0), score, -np.inf)
        rerank = np.argsort(-score, axis=1, kind="stable")  # the pool is sorted by probability: ties keep it
        ranked = np.take_along_axis(self.top, rerank, axis=1)[:, :k]
        out = np.where(np.take_along_axis(np.isfinite(score), rerank, axis=1)[:, :k], ranked, -1)
        if out.shape[1] < k:
            out = np.pad(out, ((0, 0), (0, k - out.shape[1])), constant_values=-1)
        return out


def place_mass(probs, candidates, venue_lat, venue_lon, last_lat, last_lon, *, radius_km=1.0, pool=50) -> PlaceMass:
    """The probability that the next check-in lies within ``radius_km`` of each likely venue.

    The ranker's probabilities say where the next venue is likely to be; when they are
    spread over venues close together, the venue at the centre of that mass is a better
    guess of the *place* than the single most probable venue. Each of the ``pool`` most
    probable candidates ``j`` gets ``sum_c p_c [d(j, c) <= radius]``;
    :meth:`PlaceMass.pick` adds ``stay_weight [d(j, last) <= radius]``, which stands for the
    next check-ins outside the candidates (they mostly stay near the last one), and ranks.
    Distances are planar (equirectangular at the last check-in's latitude), within a fraction
    of a per cent of the haversine distance over a city.
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
    ly = np.asarray(last_lat, float)[:, None] * km_per_deg
    lx = np.asarray(last_lon, float)[:, None] * km_per_deg * scale
    near_last = (((ty - ly) ** 2 + (tx - lx) ** 2) <= radius_km**2).astype(np.float64)
    return PlaceMass(top=top, top_p=top_p, mass=mass, near_last=near_last)
