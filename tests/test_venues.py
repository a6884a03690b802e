"""Venue ranking metrics and baselines on tiny hand-made data with obvious answers."""

import numpy as np
import pytest

from checkin_traj.venues.baselines import VenueBaselines
from checkin_traj.venues.metrics import acc_at_k, hit_rank, ndcg_at_k, reciprocal_rank, summary, top_km_error

RANKED = np.array([[3, 1, 2], [1, 2, 3], [2, -1, -1]])
TARGET = np.array([3, 3, 5])


def test_hit_rank_by_hand():
    assert hit_rank(RANKED, TARGET).tolist() == [0, 2, -1]


def test_acc_mrr_ndcg_by_hand():
    assert acc_at_k(RANKED, TARGET, 1).tolist() == [1.0, 0.0, 0.0]
    assert acc_at_k(RANKED, TARGET, 3).tolist() == [1.0, 1.0, 0.0]
    assert reciprocal_rank(RANKED, TARGET) == pytest.approx([1.0, 1 / 3, 0.0])
    assert ndcg_at_k(RANKED, TARGET, 3) == pytest.approx([1.0, 0.5, 0.0])
    assert ndcg_at_k(RANKED, TARGET, 2) == pytest.approx([1.0, 0.0, 0.0])
    s = summary(RANKED, TARGET)
    assert s["acc@1"] == pytest.approx(1 / 3)
    assert s["mrr"] == pytest.approx((1 + 1 / 3) / 3)


def test_padding_never_matches():
    assert hit_rank(np.array([[-1, -1]]), np.array([-1])).tolist() == [-1]


def test_top_km_error_zero_when_right():
    lat = np.array([40.70, 40.71, 40.80])
    lon = np.array([-74.00, -74.00, -74.00])
    km = top_km_error(np.array([[1, 0], [2, 0]]), [40.71, 40.71], [-74.0, -74.0], lat, lon)
    assert km[0] == pytest.approx(0.0)
    assert km[1] == pytest.approx(0.09 * 111.195, rel=1e-3)


def test_shape_check():
    with pytest.raises(ValueError, match="ranked must be"):
        hit_rank(np.array([1, 2]), np.array([1, 2]))


# user 0 goes 5 -> 6 -> 5 -> 7; user 1 goes 5 -> 8 -> 8
USERS = np.array([0, 0, 0, 0, 1, 1, 1])
VENUES = np.array([5, 6, 5, 7, 5, 8, 8])


def test_baselines_by_hand():
    b = VenueBaselines(USERS, VENUES, k=3)
    assert b.popular == [5, 8, 6]
    assert b.rank("popular", [0], [5]).tolist() == [[5, 8, 6]]
    assert b.rank("user_frequent", [1], [8]).tolist() == [[8, 5, 6]]
    assert b.rank("user_frequent", [9], [8]).tolist() == [[5, 8, 6]]  # unseen user: popular
    # user 0 after 5: own transitions 6, 7 (one each, smaller id first), then global 8
    assert b.rank("transition", [0], [5]).tolist() == [[6, 7, 8]]
    # user 1 after 5: own 8, then global 6, 7
    assert b.rank("transition", [1], [5]).tolist() == [[8, 6, 7]]
    # no transition across users: 7 -> 5 (user 0 end, user 1 start) is not counted
    assert b.rank("transition", [0], [7]).tolist() == [[5, 8, 6]]
    assert b.rank("last_venue", [0, 1], [7, 8]).tolist() == [[7, 5, 8], [8, 5, 6]]


def test_unknown_baseline():
    with pytest.raises(ValueError, match="unknown baseline"):
        VenueBaselines(USERS, VENUES).rank("oracle", [0], [5])


def test_candidates_by_hand():
    from checkin_traj.venues.candidates import CandidateGenerator, recall

    lat = np.linspace(40.70, 40.79, 10)  # venue v at 40.70 + 0.01 v
    lon = np.full(10, -74.0)
    b = VenueBaselines(USERS, VENUES, k=3)
    gen = CandidateGenerator(b, lat, lon, n_near=2)
    assert gen.near([40.731], [-74.0]).tolist() == [[3, 4]]
    # user 1 (own 8, 5), near venue 0 -> 0, 1, then transitions after 8 (8), popular
    cand = gen.generate([1], [8], [40.70], [-74.0], size=6)
    assert cand.tolist() == [[8, 5, 0, 1, 6, -1]]
    assert recall(cand, np.array([1])).tolist() == [1.0]
    assert recall(cand, np.array([9])).tolist() == [0.0]


def test_venue_metrics_are_judged_by_the_one_rule():
    from checkin_traj.verdicts import BEATS, LOSES, compare

    users = np.repeat(np.arange(20), 5)
    hits = np.ones(100)
    misses = np.zeros(100)
    assert compare(hits, misses, users, metric="acc@1", n_boot=200).outcome == BEATS  # higher is better
    assert compare(misses, hits, users, metric="mrr", n_boot=200).outcome == LOSES
    verdict = compare(hits, misses, users, metric="acc@1", n_boot=200, contender="ranker", reference="user_frequent")
    assert "Acc@1" in verdict.sentence() and "hit rate" in verdict.sentence()


def test_window_losses_refuse_a_venue_metric():
    from checkin_traj.verdicts import window_losses

    with pytest.raises(ValueError, match="venue ranking"):
        window_losses(None, np.zeros((1, 3)), "acc@1")


def test_baseline_table_on_synthetic_windows():
    from checkin_traj.cleaning import clean
    from checkin_traj.sequences import build_windows
    from checkin_traj.data.synthetic import generate_checkins
    from checkin_traj.venues.evaluate import baseline_table

    raw = generate_checkins(n_users=30, seed=1)
    out = clean(raw)
    checks = out[0] if isinstance(out, tuple) else out
    data = build_windows(checks, window=5, min_checkins=20)
    table = baseline_table(data)
    assert list(table.index) == ["popular", "user_frequent", "transition", "last_venue"]
    assert {"acc@1", "acc@5", "acc@10", "mrr", "ndcg@10", "km_median", "within_1km"} <= set(table.columns)
    assert ((table["acc@1"] <= table["acc@5"]) & (table["acc@5"] <= table["acc@10"])).all()
    assert (table["mrr"] >= table["acc@1"]).all()


# ---------------------------------------------------------------- candidates, features, ranker

from checkin_traj.venues.candidates import _first_unique  # noqa: E402


def test_first_unique_keeps_first_positions_and_pads():
    merged = np.array([[3, 1, 3, -1, 2, 1], [-1, -1, 4, 4, -1, -1]])
    assert _first_unique(merged, 3).tolist() == [[3, 1, 2], [4, -1, -1]]


def test_generate_drops_a_venue_everywhere():
    from checkin_traj.venues.candidates import CandidateGenerator

    lat = np.linspace(40.70, 40.79, 10)
    b = VenueBaselines(USERS, VENUES, k=6)
    gen = CandidateGenerator(b, lat, np.full(10, -74.0), n_near=2)
    full = gen.generate([1], [8], [40.70], [-74.0], size=6)
    assert full.tolist() == [[8, 5, 0, 1, 6, 7]]
    dropped = gen.generate([1], [8], [40.70], [-74.0], size=6, drop_all=[5])
    assert dropped.tolist() == [[8, 0, 1, 6, 7, -1]]
    own = gen.generate([1], [8], [40.70], [-74.0], size=3, own=[[1]])
    assert own.tolist() == [[1, 0, 8]]  # own list replaced, then near (0), then transitions after 8


@pytest.fixture(scope="module")
def venue_context():
    from tests.chapter_workdirs import hopping_clean
    from checkin_traj.sequences import build_windows
    from checkin_traj.venues.features import VenueContext

    data = build_windows(hopping_clean(users=12, seed=3), window=3)
    return VenueContext(data, size=8, n_near=2)


def _feature(windows, name):
    from checkin_traj.venues.features import FEATURE_NAMES

    return windows.features[..., FEATURE_NAMES.index(name)]


def test_training_features_count_only_what_came_before(venue_context):
    ctx = venue_context
    data = ctx.data
    w = ctx.windows("train")
    check_ins = data.check_ins
    train = check_ins[check_ins["split"] == "train"]
    train_ids = ctx.ids[train.index.to_numpy()]
    rows = data.train.target_row
    checked = 0
    for i in range(len(w)):
        row = rows[i]
        earlier_user = (train["user"].to_numpy() == check_ins["user"].iat[row]) & (train.index.to_numpy() < row)
        earlier_time = ctx.time_rank[train.index.to_numpy()] < ctx.time_rank[row]
        for j, venue in enumerate(w.candidates[i]):
            if venue < 0:
                continue
            visits = np.sum(earlier_user & (train_ids == venue))
            popularity = np.sum(earlier_time & (train_ids == venue))
            assert _feature(w, "log_user_visits")[i, j] == pytest.approx(np.log1p(visits))
            assert _feature(w, "log_popularity")[i, j] == pytest.approx(np.log1p(popularity))
            assert popularity >= 1  # only venues visited before the target are candidates
            checked += 1
    assert checked > 100


def test_test_features_count_every_training_row(venue_context):
    ctx = venue_context
    w = ctx.windows("test")
    train = ctx.data.check_ins[ctx.data.check_ins["split"] == "train"]
    train_ids = ctx.ids[train.index.to_numpy()]
    for i in range(0, len(w), 7):
        for j, venue in enumerate(w.candidates[i]):
            if venue >= 0:
                assert _feature(w, "log_popularity")[i, j] == pytest.approx(np.log1p(np.sum(train_ids == venue)))
                mine = (train["user"].to_numpy() == ctx.data.check_ins["user"].iat[ctx.data.test.target_row[i]])
                assert _feature(w, "log_user_visits")[i, j] == pytest.approx(np.log1p(np.sum(mine & (train_ids == venue))))


def test_the_users_spatial_pattern_counts_only_what_came_before(venue_context):
    """user_area_share and log_km_over_user_step, recounted by hand from the user's training rows:
    before the target on a training window, all of them on a test window."""
    from checkin_traj.geo import haversine_km

    ctx = venue_context
    check_ins = ctx.data.check_ins
    train = check_ins[check_ins["split"] == "train"].sort_values(["user", "time"], kind="stable")
    cell = ctx._cell(train["lat"].to_numpy(), train["lon"].to_numpy())
    width = ctx._grid_width
    checked = 0
    for split in ("train", "test"):
        w = ctx.windows(split)
        rows = ctx.data.split(split).target_row
        for i in range(0, len(w), 3):
            mine = train[train["user"].to_numpy() == check_ins["user"].iat[rows[i]]]
            if split == "train":
                mine = mine[mine.index.to_numpy() < rows[i]]
            mine_cell = cell[np.isin(train.index.to_numpy(), mine.index.to_numpy())]
            lat, lon = mine["lat"].to_numpy(), mine["lon"].to_numpy()
            steps = np.log1p(haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:]))
            last = ctx.data.split(split).last_raw[i]
            for j, venue in enumerate(w.candidates[i]):
                if venue < 0:
                    continue
                own = ctx.venue_cell[venue]
                near = (np.abs(mine_cell // width - own // width) <= 1) & (np.abs(mine_cell % width - own % width) <= 1)
                assert _feature(w, "user_area_share")[i, j] == pytest.approx(near.sum() / max(len(mine), 1), abs=1e-6)
                km = haversine_km(last[2], last[1], ctx.venue_lat[venue], ctx.venue_lon[venue])
                step = steps.mean() if len(steps) else ctx._mean_step
                assert _feature(w, "log_km_over_user_step")[i, j] == pytest.approx(np.log1p(km) - step, abs=1e-4)
                checked += 1
    assert checked > 100


def test_the_gates_inputs_count_only_the_moves_before_a_training_target(venue_context):
    """The stay-or-move gate's move counts, recounted by hand: a training window's user moves end
    before its target row, everyone's moves out of its last venue end earlier in time."""
    from checkin_traj.geo import haversine_km
    from checkin_traj.venues.features import STAY_FEATURE_NAMES

    ctx = venue_context
    check_ins = ctx.data.check_ins
    train = check_ins[check_ins["split"] == "train"].sort_values(["user", "time"], kind="stable")
    same = train["user"].to_numpy()[1:] == train["user"].to_numpy()[:-1]
    lat, lon = train["lat"].to_numpy(), train["lon"].to_numpy()
    moves = {"user": train["user"].to_numpy()[1:][same], "end": train.index.to_numpy()[1:][same],
             "from": ctx.ids[train.index.to_numpy()[:-1][same]],
             "near": haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:])[same] <= 1.0}
    column = {name: i for i, name in enumerate(STAY_FEATURE_NAMES)}
    for split in ("train", "test"):
        inputs, stayed = ctx.stay_inputs(split)
        part = ctx.data.split(split)
        assert inputs.shape == (len(part), len(STAY_FEATURE_NAMES)) and set(np.unique(stayed)) <= {0.0, 1.0}
        for i in range(0, len(part), 4):
            row = part.target_row[i]
            user = moves["user"] == check_ins["user"].iat[row]
            venue = moves["from"] == ctx.ids[row - 1]
            if split == "train":
                user &= moves["end"] < row
                venue &= ctx.time_rank[moves["end"]] < ctx.time_rank[row]
            assert inputs[i, column["log_user_moves"]] == pytest.approx(np.log1p(user.sum()))
            assert inputs[i, column["user_near_share"]] == pytest.approx((moves["near"][user].sum() + 0.5) / (user.sum() + 1))
            assert inputs[i, column["log_venue_moves"]] == pytest.approx(np.log1p(venue.sum()))
            assert inputs[i, column["venue_near_share"]] == pytest.approx((moves["near"][venue].sum() + 0.5) / (venue.sum() + 1))


def test_told_the_time_reads_the_next_check_ins_slot_and_the_gap_to_it(venue_context):
    from checkin_traj.venues.features import FEATURE_NAMES

    ctx = venue_context
    w = ctx.windows("test")
    told = ctx.tell_time("test", w)
    rows = ctx.data.test.target_row
    times = ctx.data.check_ins["time"].to_numpy()
    share = FEATURE_NAMES.index("hour_share")
    assert told.features.shape[-1] == len(FEATURE_NAMES) + 1
    np.testing.assert_array_equal(np.delete(told.features[..., :-1], share, axis=-1), np.delete(w.features, share, axis=-1))
    assert (told.hour == ctx.hour[rows]).all() and (w.hour == ctx.hour[rows - 1]).all()
    changed = 0
    for i in range(0, len(w), 5):
        gap = (times[rows[i]] - times[rows[i] - 1]) / np.timedelta64(1, "h")
        for j, venue in enumerate(w.candidates[i]):
            if venue < 0:
                continue
            at = ctx.train_rows[ctx.ids[ctx.train_rows] == venue]  # the venue's training check-ins
            assert told.features[i, j, share] == pytest.approx(np.mean(ctx.hour[at] // 3 == ctx.hour[rows[i]] // 3))
            assert told.features[i, j, -1] == pytest.approx(np.log1p(gap), rel=1e-5)
            changed += told.features[i, j, share] != w.features[i, j, share]
    assert changed > 10  # the next check-in's slot is not the last one's


def test_labels_last_venue_and_padding(venue_context):
    ctx = venue_context
    for split in ("train", "val", "test"):
        w = ctx.windows(split)
        hit = w.label >= 0
        assert (w.candidates[hit, w.label[hit]] == w.target[hit]).all()
        found = (w.candidates == w.target[:, None]) & (w.target[:, None] >= 0)
        assert not found[~hit].any()
        is_last = _feature(w, "is_last_venue")
        assert ((is_last == 1) == ((w.candidates == w.last_venue[:, None]) & (w.last_venue[:, None] >= 0))).all()
        assert (w.features[w.candidates < 0] == 0).all()
        km = np.expm1(_feature(w, "log_km_from_last"))
        assert (km >= 0).all()


def _marked_windows(n=400, size=6, seed=0):
    """Windows whose next venue is marked by a large ``is_last_venue``; the last candidate is padding."""
    from checkin_traj.venues.features import FEATURE_NAMES, VenueWindows

    rng = np.random.default_rng(seed)
    nf = len(FEATURE_NAMES)
    features = rng.normal(size=(n, size, nf)).astype(np.float32)
    label = rng.integers(0, size - 1, size=n)
    features[np.arange(n), label, FEATURE_NAMES.index("is_last_venue")] = 5.0  # the answer is marked
    candidates = np.tile(np.arange(size), (n, 1))
    candidates[:, -1] = -1  # padding never ranked
    features[:, -1] = 0.0

    def windows(rows):
        return VenueWindows(
            candidates=candidates[rows], features=features[rows], label=label[rows], target=label[rows],
            user=np.zeros(len(rows), int), last_venue=np.zeros(len(rows), int),
            window_venues=np.zeros((len(rows), 3), int), hour=np.zeros(len(rows), int), weekday=np.zeros(len(rows), int),
        )

    return windows(np.arange(int(0.75 * n))), windows(np.arange(int(0.75 * n), n))


def test_feature_scaler_is_the_mean_and_spread_of_the_real_candidates_only():
    from checkin_traj.venues.model import FeatureScaler

    train, _ = _marked_windows(n=40)
    train.features[:, :, 0] += 1000.0  # a large offset: the spread must not drown in it
    train.features[:, -1] = 77.0  # padding: must not count
    train.features[:, :, 1] = 3.0  # constant over the real candidates: spread 1, not 0
    train.features[:, -1, 1] = 0.0
    real = train.features[train.candidates >= 0].astype(np.float64)
    for chunk in (7, 512):  # windows summed a few at a time, or all at once
        scaler = FeatureScaler.fit(train, chunk=chunk)
        np.testing.assert_allclose(scaler.mean, real.mean(axis=0), rtol=1e-6)
        np.testing.assert_allclose(scaler.std[2:], real.std(axis=0)[2:], rtol=1e-5)
        assert scaler.std[1] == 1.0 and scaler.mean[1] == 3.0
    scaled = scaler.transform(train)
    assert (scaled[:, -1] == 0).all() and abs(scaled[:, :-1, 0].std() - 1.0) < 1e-3
    padding_only = type(train)(**{**train.__dict__, "candidates": np.full_like(train.candidates, -1)})
    with pytest.raises(ValueError, match="every candidate is padding"):
        FeatureScaler.fit(padding_only)


def test_ranker_masks_padding_and_learns_the_obvious():
    from functools import partial

    from checkin_traj.pages.next_venue import build_ranker, train_ranker
    from checkin_traj.venues.features import FEATURE_NAMES

    train, val = _marked_windows()
    size = train.candidates.shape[1]
    build = partial(build_ranker, len(FEATURE_NAMES), size, hidden=8, learning_rate=1e-2)
    trained = train_ranker(build, train, val, seed=0, epochs=15, batch_size=32, patience=3, verbose=0)
    ranked = trained.rank(val, k=size)
    assert (ranked[:, 0] == val.target).mean() > 0.9
    assert (ranked[:, -1] == -1).all()  # the padded candidate comes last, as -1
    assert trained.history["val_loss"][trained.best_epoch] == min(trained.history["val_loss"])
    assert trained.history["epochs"] == 15 and len(trained.history["seconds"]) == len(trained.history["loss"])


def test_the_sequence_form_reads_the_window_by_name():
    from checkin_traj.pages.next_venue import build_ranker
    from checkin_traj.venues.features import FEATURE_NAMES
    from checkin_traj.venues.model import FeatureScaler, labelled, ranker_inputs

    train, _ = _marked_windows(n=40)
    size = train.candidates.shape[1]
    scaler = FeatureScaler.fit(train)
    features = build_ranker(len(FEATURE_NAMES), size, form="features", hidden=4)
    sequence = build_ranker(len(FEATURE_NAMES), size, form="sequence", hidden=4, embedding=2, n_venues=size, window=3)
    assert list(ranker_inputs(train, scaler, features)) == ["features", "mask"]
    inputs = ranker_inputs(train, scaler, sequence)
    assert set(inputs) == {"features", "mask", "candidates", "window_venues", "user", "time"}
    assert inputs["candidates"][0, -1] == 0  # padding (-1) reads as id 0
    assert sequence.predict(inputs, verbose=0).shape == (len(train), size)
    assert {layer.name for layer in sequence.layers} >= {"window_gru", "venue_embedding", "feature_dense_1"}
    with pytest.raises(ValueError, match="form must be"):
        build_ranker(len(FEATURE_NAMES), size, form="gru")
    none = type(train)(**{**train.__dict__, "label": np.full(len(train), -1)})
    with pytest.raises(ValueError, match="nothing to learn from"):
        labelled(none, scaler, features)


def test_tables_read_in_words_with_blank_cells_and_the_spread():
    import pandas as pd

    from checkin_traj.venues.report import readable, results_frame

    values = {
        "user_frequent": {"acc@1": np.array([1.0, 0.0]), "acc@5": np.ones(2), "acc@10": np.ones(2), "mrr": np.array([1.0, 0.5]),
                          "ndcg@10": np.ones(2), "km": np.array([0.5, 2.0]), "within_1km": np.array([1.0, 0.0])},
        "persistence (last position)": {"km": np.array([0.25, 3.0]), "within_1km": np.array([1.0, 0.0])},
    }
    table = results_frame(values, {})
    assert table.loc["user_frequent", "acc@1"] == 0.5 and np.isnan(table.loc["persistence (last position)", "acc@1"])
    table.loc["user_frequent", "acc@1 std"] = 0.125
    shown = readable(table, ["acc@1", "mrr"], index="test windows").data
    assert list(shown.columns) == ["top-1 accuracy (%)", "mean reciprocal rank"]
    assert list(shown.index) == ["user's most frequent venues"]  # persistence has no venue: its row is dropped
    assert shown.loc["user's most frequent venues"].tolist() == ["50.0 ± 12.5", "0.750"]
    distance = readable(table, ["km_median", "within_1km"]).data
    assert distance.loc["persistence (last position)"].tolist() == ["1.62", "50.0"]
    one_seed = results_frame({}, {"features": {0: {"test": values["user_frequent"]}}})  # a single seed has no spread
    assert np.isnan(one_seed.loc["ranker (features)", "acc@1 std"])
    assert readable(one_seed, ["acc@1"]).data.iloc[0, 0] == "50.0"
    frame = pd.DataFrame({"val acc@1": [0.1]}, index=[0.25])
    assert readable(frame).data.index.tolist() == ["0.25"]
    with pytest.raises(ValueError, match="header in words"):
        readable(table, ["seeds"])
    lever = pd.DataFrame({"acc@1": [0.105], "acc@1 estimate": [0.006], "acc@1 low": [-0.0004], "acc@1 high": [0.012]},
                         index=["+ a lever"])
    # a bound that rounds to zero prints as 0.0, never as -0.0
    assert readable(lever, ["acc@1"]).data.iloc[0, 0] == "10.5 (+0.6 [0.0, +1.2])"
    lever.loc["+ a lever", "acc@1 low"] = -0.0006
    assert readable(lever, ["acc@1"]).data.iloc[0, 0] == "10.5 (+0.6 [-0.1, +1.2])"


def test_last_venue_absent_from_training_falls_back_to_popular():
    b = VenueBaselines(USERS, VENUES, k=3)
    assert b.rank("last_venue", [0], [-1]).tolist() == [[5, 8, 6]]


def test_place_mass_picks_the_centre_of_the_probability():
    from checkin_traj.venues.model import place_mass, probabilities, stay_or_move

    lat = np.array([40.700, 40.705, 40.800])  # venues 0 and 1 are 0.56 km apart, venue 2 is 11 km north
    lon = np.full(3, -74.0)
    probs = np.array([[0.40, 0.35, 0.25]])  # candidates 2, 0, 1: the single most probable venue is 2
    mass = place_mass(probs, np.array([[2, 0, 1]]), lat, lon, [40.80])
    assert mass.mass[0].tolist() == pytest.approx([0.40, 0.60, 0.60])
    assert mass.pick(k=3).tolist() == [[0, 1, 2]]  # ties keep the probability order
    assert mass.best.tolist() == pytest.approx([0.60])
    # the gate stays where its probability is at least factor x the best mass
    assert stay_or_move(mass, [0.55], factor=1.0).tolist() == [False]
    assert stay_or_move(mass, [0.55], factor=0.9).tolist() == [True]
    assert probabilities(np.array([[0.0, np.log(3.0), -np.inf]]))[0].tolist() == pytest.approx([0.25, 0.75, 0.0])


# ---------------------------------------------------------------- the field's protocol


def test_trajectories_start_24_hours_after_their_first_check_in():
    from checkin_traj.venues.evaluate import trajectory_ids

    hours = np.array([0, 10, 23.5, 24.5, 30, 49, 0, 1], dtype=float)
    users = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    times = np.datetime64("2010-01-01T00:00") + (hours * 60).astype("timedelta64[m]")
    # 24.5 h is more than 24 h after the first check-in (0 h): a new trajectory; so is 49 h
    # (24.5 h after 24.5 h); another user always starts a new one
    assert trajectory_ids(users, times).tolist() == [0, 0, 0, 1, 1, 2, 3, 3]
    assert trajectory_ids(users, times, trajectory_hours=12).tolist() == [0, 0, 1, 1, 1, 2, 3, 3]
    with pytest.raises(ValueError, match="sorted by user, then time"):
        trajectory_ids(users[::-1], times)
    with pytest.raises(ValueError, match="trajectory_hours"):
        trajectory_ids(users, times, trajectory_hours=0)


def test_field_windows_keep_the_last_check_in_of_trajectories_of_frequent_users_and_venues():
    import pandas as pd
    from types import SimpleNamespace

    from checkin_traj.venues.evaluate import field_windows

    hours = [0, 1, 2, 30, 31, 60, 0, 1]  # user 0: trajectories {0,1,2}, {30,31}, {60}; user 1: {0,1}
    check_ins = pd.DataFrame(
        {
            "user": [0, 0, 0, 0, 0, 0, 1, 1],
            "time": pd.Timestamp("2010-01-01") + pd.to_timedelta(hours, unit="h"),
            "location_id": [7, 7, 7, 7, 9, 7, 7, 7],
        }
    )
    data = SimpleNamespace(check_ins=check_ins, split=lambda name: SimpleNamespace(target_row=np.arange(1, 8)))
    # targets 1..7: row 2 ends {0,1,2}; row 4 ends {30,31} but venue 9 is rare at min 2;
    # row 5 is a trajectory of one check-in; row 7 ends user 1's, who has 2 check-ins
    assert field_windows(data, min_checkins=2).tolist() == [False, True, False, False, False, False, True]
    assert field_windows(data, min_checkins=1).tolist() == [False, True, False, True, False, False, True]
    assert field_windows(data, min_checkins=3).tolist() == [False, True, False, False, False, False, False]
    with pytest.raises(ValueError, match="min_checkins"):
        field_windows(data, min_checkins=0)
