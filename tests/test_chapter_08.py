"""Chapter 08 (next-venue ranking), executed with the test profile on hand-made check-ins."""

import numpy as np
import pytest
import yaml

from checkin_traj.results import load_results
from checkin_traj.venues.chapter import FORM_LABELS, TABLE_METRICS, VenueChapter
from checkin_traj.venues.baselines import VenueBaselines

from .conftest import REPO_ROOT
from .chapter_workdirs import assert_citations_glued, hopping_clean, outcome_by_the_rule, prepare_workdir, run_chapter

pytestmark = pytest.mark.slow


def _opened(workdir):
    """The chapter as it opens it with the test profile (its windows, candidates, venues), untrained."""
    profile = yaml.safe_load((REPO_ROOT / "notebooks" / "parameters.yml").read_text())["08_next_venue"]["test"]
    return VenueChapter.open(workdir, size=profile["CANDIDATES"], n_near=profile["N_NEAR"])


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("venues")
    prepare_workdir(workdir, hopping_clean(), source_path="tests/test_chapter_08.py")
    return workdir, run_chapter(workdir, "08_next_venue")


def test_the_table_holds_every_baseline_and_every_form(executed):
    workdir, values = executed
    saved = load_results(workdir, "venues")
    table = saved["tables"]["test"]
    assert set(VenueBaselines.NAMES) <= set(table.index)
    assert "persistence (last position)" in table.index
    assert {"ranker (features)", "ranker (features + GRU)"} <= set(table.index)  # the test profile's FORMS
    ranked = table.drop(index="persistence (last position)")
    assert (ranked["acc@1"] <= ranked["acc@5"]).all() and (ranked["acc@5"] <= ranked["acc@10"]).all()
    assert (ranked["mrr"] >= ranked["acc@1"] - 1e-12).all()
    # each form's metrics, recomputed from its saved rankings: per seed, then the mean over seeds
    chapter = _opened(workdir)
    target = chapter.split_windows("test").target
    seeds = saved["extra"]["training"]["seeds"]
    for form, label in FORM_LABELS.items():
        rankings = [saved["arrays"][f"{form}_seed{seed}_ranked_test"] for seed in seeds]
        hits = [(ranked == target[:, None]) & (target[:, None] >= 0) for ranked in rankings]  # (n, 10): where the next venue is
        rank = [np.where(hit.any(axis=1), hit.argmax(axis=1), -1) for hit in hits]  # 0-based, -1: not ranked
        km = [chapter._km(ranked, "test") for ranked in rankings]  # the top venue's distance from the real check-in
        expected = {
            **{f"acc@{k}": [((r >= 0) & (r < k)).mean() for r in rank] for k in (1, 5, 10)},
            "mrr": [np.where(r >= 0, 1.0 / (np.maximum(r, 0) + 1.0), 0.0).mean() for r in rank],
            "ndcg@10": [np.where(r >= 0, 1.0 / np.log2(np.maximum(r, 0) + 2.0), 0.0).mean() for r in rank],
            "within_1km": [np.mean(d <= 1.0) for d in km],
            "km_median": [np.nanmedian(d) for d in km],
        }
        for metric, per_seed in expected.items():
            assert table.loc[label, metric] == pytest.approx(np.mean(per_seed)), (label, metric)
    assert list(table.columns[: len(TABLE_METRICS)]) == list(TABLE_METRICS)


def test_seeds_rankings_and_verdicts_are_saved(executed):
    workdir, values = executed
    saved = load_results(workdir, "venues")
    n_test = load_results(workdir, "protocol")["metrics"]["windows_test"]
    seeds = saved["tables"]["seeds"]
    assert sorted(set(seeds["seed"])) == [0, 1]
    assert (seeds["epochs_run"].between(1, 2)).all()  # the test profile's EPOCHS
    for form in ("features", "sequence"):
        for seed in (0, 1):
            ranked = saved["arrays"][f"{form}_seed{seed}_ranked_test"]
            assert ranked.shape == (n_test, 10)
            assert (ranked[:, 0] >= 0).all()  # every window has a top venue
    verdicts = saved["extra"]["verdicts"]
    assert [(v["reference"], v["metric"]) for v in verdicts][:2] == [
        ("persistence (last position)", "km_median"),
        ("persistence (last position)", "within_1km"),
    ]
    assert [v["outcome"] for v in verdicts] == [
        outcome_by_the_rule(v["metric"], v["difference_low"], v["difference_high"]) for v in verdicts
    ]
    assert all(v["difference_low"] <= v["difference"] <= v["difference_high"] for v in verdicts)
    # the best form is chosen on validation
    val = saved["tables"]["val_seeds"].groupby("form")["acc@1"].mean()
    assert saved["extra"]["best_form"] == val.idxmax()


def test_glued_numbers_match_the_saved_table(executed):
    workdir, values = executed
    table = load_results(workdir, "venues")["tables"]["test"]
    assert values["venues_user_frequent_acc_at_1"] == pytest.approx(table.loc["user_frequent", "acc@1"])
    assert values["venues_persistence_km_median"] == pytest.approx(table.loc["persistence (last position)", "km_median"])
    windows = _opened(workdir).split_windows("test")  # the recall: share of test windows whose next venue is a candidate
    found = (windows.candidates == windows.target[:, None]).any(axis=1) & (windows.target >= 0)
    assert values["venues_recall"] == pytest.approx(found.mean())
    assert values["venues_goals"] == 3
    goals = [
        values["venues_vs_persistence_km_median_outcome"],
        values["venues_vs_persistence_within_1km_outcome"],
        values["venues_vs_user_frequent_acc_at_1_outcome"],
    ]
    assert values["venues_goals_met"] == sum(outcome == "beats" for outcome in goals)
    assert np.isfinite(values["venues_seconds_per_epoch"])
    assert_citations_glued(values, "08_next_venue")


def test_the_chapter_names_what_it_loads():
    from checkin_traj.chapter import chapter_io

    assert set(chapter_io("08_next_venue").reads) == {"clean", "protocol", "baselines"}


def test_field_protocol_and_distance_tables_are_saved_and_glued(executed):
    from checkin_traj.model_chapter import ModelChapter
    from checkin_traj.venues.evaluate import field_windows

    workdir, values = executed
    saved = load_results(workdir, "venues")
    data = ModelChapter.open(workdir, "venues").data
    kept = field_windows(data, "test", min_checkins=10, trajectory_hours=24.0)  # the chapter's defaults
    assert 0 < kept.sum() < len(kept)  # the fixture has windows on both sides
    assert values["venues_field_windows"] == int(kept.sum()) == saved["extra"]["field"]["windows"]
    assert values["venues_field_share"] == pytest.approx(kept.mean())
    assert values["venues_field_users"] == len(set(data.test.user[kept]))
    field = saved["tables"]["field"]
    assert list(field.index) == list(saved["tables"]["test"].index)
    # the user's most frequent venue on the kept windows, recomputed from its ranking
    from checkin_traj.venues.evaluate import baseline_rankings, venue_ids

    ranked = baseline_rankings(data, "test")["user_frequent"]
    target = venue_ids(data.check_ins)[0][data.test.target_row]
    expected = float((ranked[kept, 0] == target[kept]).mean()) if kept.any() else float("nan")
    assert field.loc["user_frequent", "acc@1"] == pytest.approx(expected, nan_ok=True)
    # persistence is within 1 km on every near window and on no far one, by definition
    distances = saved["tables"]["distances"]
    assert distances.iloc[:, 1].tolist() == [1.0, 0.0]
    assert distances["share of test windows"].sum() == pytest.approx(1.0)
    assert values["venues_near_share"] == pytest.approx(distances.iloc[0, 0])
    assert values["venues_pick_far_within"] == pytest.approx(distances.iloc[1, 2])
