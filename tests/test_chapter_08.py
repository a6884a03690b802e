"""Chapter 08 (next-venue ranking), executed with the test profile on hand-made check-ins."""

import re

import numpy as np
import pytest
import yaml

from checkin_traj.results import load_results
from checkin_traj.venues.baselines import VenueBaselines
from checkin_traj.venues.report import FORM_LABELS, TABLE_METRICS, top_km

from .conftest import REPO_ROOT
from .chapter_workdirs import (
    assert_citations_glued,
    executed_notebook,
    outcome_by_the_rule,
)

pytestmark = pytest.mark.slow

CHAPTER = REPO_ROOT / "notebooks" / "08_next_venue.md"


def _opened(workdir):
    """The windows and venue counts as the chapter makes them with the test profile, untrained."""
    from checkin_traj.report import load_protocol
    from checkin_traj.venues.features import VenueContext

    profile = yaml.safe_load((REPO_ROOT / "notebooks" / "parameters.yml").read_text())["08_next_venue"]["test"]
    data, _ = load_protocol(workdir)
    return data, VenueContext(data, size=profile["CANDIDATES"], n_near=profile["N_NEAR"])


@pytest.fixture(scope="module")
def executed(executed_venues):
    return executed_venues  # conftest.py's: chapter 08 runs once for this file and test_predict.py


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
    _, context = _opened(workdir)
    target = context.windows("test").target
    seeds = saved["extra"]["training"]["seeds"]
    for form, label in FORM_LABELS.items():
        rankings = [saved["arrays"][f"{form}_seed{seed}_ranked_test"] for seed in seeds]
        hits = [(ranked == target[:, None]) & (target[:, None] >= 0) for ranked in rankings]  # (n, 10): where the next venue is
        rank = [np.where(hit.any(axis=1), hit.argmax(axis=1), -1) for hit in hits]  # 0-based, -1: not ranked
        km = [top_km(context, ranked, "test") for ranked in rankings]  # the top venue's distance from the real check-in
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
            history = saved["extra"]["histories"][form][str(seed)]  # chapter 03's fit kept its record
            assert len(history["loss"]) == len(history["val_loss"]) == len(history["seconds"]) <= history["epochs"] == 2
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
    _, context = _opened(workdir)
    windows = context.windows("test")  # the recall: share of test windows whose next venue is a candidate
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


def test_every_glue_name_is_written_in_the_chapter(executed):
    # a reader who searches the chapter for a glue name it cites finds where it is made
    _, values = executed
    text = CHAPTER.read_text()
    assert all(f'"{name}"' in text for name in values), sorted(name for name in values if f'"{name}"' not in text)


def test_the_chapter_shows_its_ranker_and_trains_it_with_chapter_03s_fit():
    from checkin_traj.pages import next_venue

    text = CHAPTER.read_text()
    assert "Chapter" not in "".join(re.findall(r"^from checkin_traj\S* import .*$", text, flags=re.M))  # no chapter-state class
    saved = re.findall(r"```\{code-cell\} ipython3\n#@save\n(.*?)```", text, flags=re.S)
    assert any("def build_ranker(" in cell and "layers.GRU(" in cell for cell in saved)
    assert any("def train_ranker(" in cell and "fit(" in cell and "reduce_lr=False" in cell for cell in saved)
    assert next_venue.fit.__module__ == "checkin_traj.pages.lstm"  # one training loop in the book


def test_the_tables_read_in_words(executed):
    # headers in words with units, no NaN, no raw metric names, no backticks, cells that wrap
    import nbformat

    notebook = nbformat.read(executed_notebook(executed[0], "08_next_venue"), as_version=4)
    tables = [
        output["data"]["text/html"]
        for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.get("outputs", []) if "<table" in output.get("data", {}).get("text/html", "")
    ]
    assert len(tables) >= 10  # where the next check-ins go, baselines x2, seeds, place picks, results x2, distances, field x2
    for html in tables:
        assert "nan" not in html.lower()
        assert "`" not in html
        assert not re.search(r">\s*(acc@\d+|km_median|km_mean|within_1km|mrr|ndcg@10|user_frequent|last_venue)\s*<", html)
        assert "white-space: normal" in html
    assert any("top-1 accuracy (%)" in html and "mean reciprocal rank" in html for html in tables)
    assert any("median distance (km)" in html and "within 1 km (%)" in html for html in tables)
    assert any("probability (%)" in html and "km from the last check-in" in html for html in tables)  # Using the model


def test_the_chapter_names_what_it_writes():
    from checkin_traj.chapter import chapter_io

    assert chapter_io("08_next_venue").writes == ("venues",)


def test_the_chapter_names_what_it_loads():
    from checkin_traj.chapter import chapter_io

    assert set(chapter_io("08_next_venue").reads) == {"clean", "protocol", "baselines"}


def test_field_protocol_and_distance_tables_are_saved_and_glued(executed):
    from checkin_traj.venues.evaluate import field_windows

    workdir, values = executed
    saved = load_results(workdir, "venues")
    data, _ = _opened(workdir)
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
    assert values["venues_pick_far_within"] == pytest.approx(distances.loc["farther", "place pick: within 1 km"])


def test_the_gate_factor_is_chosen_on_validation_and_the_told_ranker_is_apart(executed):
    workdir, values = executed
    saved = load_results(workdir, "venues")
    factors = saved["tables"]["place_factors"]  # per gate factor tried: validation median km, share within 1 km
    chosen = factors.sort_values(["val km_median", "val within_1km"], ascending=[True, False], kind="stable").index[0]
    assert saved["extra"]["place_factor"] == pytest.approx(float(chosen)) == values["venues_place_factor"]
    assert saved["extra"]["stay_share"] == pytest.approx(values["venues_stay_share"])
    told = saved["tables"]["told"]  # the same seeds untold and told the time: not in the main results table
    assert len(told) == 2 and told.index[1].endswith("told the time") and told.index[1] not in saved["tables"]["test"].index
    assert values["venues_told_acc_at_1"] == pytest.approx(told.iloc[1]["acc@1"])
    assert values["venues_untold_acc_at_1"] == pytest.approx(told.iloc[0]["acc@1"])
    levers = saved["tables"]["levers"]  # the ablation: each lever against the same ranker without it
    for label, row in levers.iterrows():
        outcomes = {row[f"{metric} outcome"] for metric in ("acc@1", "km_median", "within_1km")}
        helps = "beats" in outcomes and "loses" not in outcomes
        assert (f"**{label.removeprefix('+ ')}**" in values["venues_levers_md"]) == helps, label
