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
