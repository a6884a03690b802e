"""The quality record: what a run saved, read back; the README table made from it."""

import json
import sys

import pandas as pd
import pytest

from checkin_traj import quality

from .conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import quality_record  # noqa: E402  (benchmarks/quality_record.py: the committed record and the README's table)

sys.path.remove(str(REPO_ROOT / "benchmarks"))
from checkin_traj.data.provenance import save_clean
from checkin_traj.data.sources import DataSource
from checkin_traj.results import save_results


def _verdict(outcome, difference, low, high, reference="persistence"):
    return {"outcome": outcome, "reference": reference, "difference": difference, "difference_low": low, "difference_high": high}


@pytest.fixture
def workdir(tmp_path):
    clean = pd.DataFrame(
        {"user": [0], "snap_user": [3], "time": pd.to_datetime(["2010-01-01T10:00:00Z"]), "lat": [40.7], "lon": [-74.0], "location_id": [1]}
    )
    source = DataSource(path=tmp_path / "x.txt.gz", kind="synthetic", synthetic=True, description="synthetic check-ins, 9 users", citation="")
    save_clean(tmp_path, clean, source=source, parameters={})
    baselines = pd.DataFrame({"rmse": [0.2, 0.3], "km_median": [1.05, 2.5], "within_1km": [0.49, 0.2]}, index=["persistence", "user_mean"])
    save_results(tmp_path, "baselines", tables={"test": baselines})
    save_results(
        tmp_path,
        "lstm",
        metrics={"offset_rmse_mean": 0.15, "offset_rmse_std": 0.01, "offset_km_median_mean": 1.8, "offset_km_median_std": 0.1},
        extra={
            "title": "LSTM",  # the model's name in text (checkin_traj.report.save_runs)
            "runs": ["offset"],
            "seeds": {"offset": [0, 1, 2]},
            "verdicts": {"km_median": {"offset": _verdict("loses", 0.75, 0.6, 0.9)}, "rmse": {"offset": _verdict("beats", -0.05, -0.06, -0.04)}},
        },
    )
    return tmp_path


def test_collect_reads_each_run_and_its_verdicts(workdir):
    record = quality.collect(workdir, profile="test", date="2026-12-02", commit="abc")
    assert record["data"] == {"description": "synthetic check-ins, 9 users", "synthetic": True}
    assert record["baselines"]["persistence"]["km_median"] == 1.05
    run = record["models"]["lstm"]["runs"]["offset"]
    assert run["rmse"] == {"mean": 0.15, "std": 0.01} and run["seeds"] == 3
    assert record["models"]["lstm"]["verdicts"]["offset"]["km_median"] == {
        "outcome": "loses", "reference": "persistence", "difference": 0.75, "low": 0.6, "high": 0.9
    }
    assert "seq2seq" not in record["models"] and "venues" not in record


def test_record_round_trips_and_a_missing_record_is_none(workdir, tmp_path):
    record = quality.collect(workdir, profile="test", date="2026-12-02", commit="abc")
    path = quality_record.write_record(record, tmp_path / "records" / "quality.json")
    assert quality_record.load_record(path) == json.loads(json.dumps(record))
    assert quality_record.load_record(tmp_path / "nothing.json") is None
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="bad.json"):
        quality_record.load_record(tmp_path / "bad.json")


def test_readme_table_and_headline_are_worded_from_the_record(workdir):
    record = quality.collect(workdir, profile="test", date="2026-12-02", commit="abc")
    table = quality_record.readme_table(record)
    assert "| LSTM | offset | 0.150 | 1.80 | – | beats (-0.050 [-0.060, -0.040]) | loses (0.75 [0.60, 0.90]) |" in table
    assert "| baseline: persistence |  | 0.200 | 1.05 | 49.0 % |  |  |" in table
    headline = quality.headline_markdown(record)
    assert "against `persistence` (loses) the difference is +0.75 km (95 % interval +0.60 to +0.90)" in headline
    assert "synthetic data" in headline


def test_a_difference_that_rounds_to_zero_has_no_sign():
    # one rule for every printed difference and interval (model tables, venue tables, the headline)
    assert quality.signed(-0.004, 2) == "0.00" and quality.signed(0.0004) == "0.000"
    assert quality.signed(-0.006, 2) == "-0.01" and quality.signed(0.25, 1) == "+0.2" and quality.signed(1.5, 0) == "+2"


def test_update_readme_rewrites_only_its_section(workdir, tmp_path):
    readme = tmp_path / "README.md"
    begin, end = quality_record.README_MARKERS
    readme.write_text(f"# Title\n\n{begin}\nold\n{end}\n\nafter\n")
    record = quality.collect(workdir, profile="test", date="2026-12-02", commit="abc")
    assert quality_record.update_readme(readme, record) is True
    text = readme.read_text()
    assert text.startswith("# Title\n\n") and text.endswith(f"{end}\n\nafter\n") and "old" not in text
    assert quality_record.update_readme(readme, record) is False
    (tmp_path / "plain.md").write_text("no markers")
    with pytest.raises(ValueError, match="plain.md"):
        quality_record.update_readme(tmp_path / "plain.md", record)


def test_the_committed_readme_table_is_the_committed_record():
    text = (quality_record.ROOT / "README.md").read_text()
    begin, end = quality_record.README_MARKERS
    section = text.split(begin, 1)[1].split(end, 1)[0].strip()
    assert section == quality_record.readme_table(quality_record.load_record()).strip()


def test_the_next_venue_chapter_joins_the_record_and_the_headline(workdir):
    table = pd.DataFrame({"acc@1": [0.08, 0.13], "km_median": [1.0, 0.7]}, index=["user_most_frequent", "ranker (features)"])
    verdict = {"metric": "acc@1", "reference": "user_most_frequent", "outcome": "beats", "mean": 0.13, "reference_mean": 0.08,
               "difference": 0.05, "difference_low": 0.04, "difference_high": 0.06, "std": 0.0, "seeds_better": 3}
    save_results(workdir, "venues", tables={"test": table}, extra={"best_form": "features", "verdicts": [verdict]})
    record = quality.collect(workdir, profile="test", date="2026-12-02", commit="abc")
    assert record["venues"]["ranker (features)"] == {"acc@1": 0.13, "km_median": 0.7}
    assert "| ranker (features) | 13.0 % | – | – | 0.70 | – |" in quality_record.readme_table(record)
    assert ("acc@1: 0.130 against 0.080 for `user_most_frequent` (beats; difference +0.050, 95 % interval +0.040 to +0.060)"
            in quality.headline_markdown(record))


def test_stage_headline_writes_the_page_the_introduction_includes(workdir, tmp_path):
    site = tmp_path / "site"
    assert quality.stage_headline(workdir, site, profile="test")["models"]["lstm"]
    assert "LSTM" in (site / quality.HEADLINE).read_text()
    empty = tmp_path / "empty"
    assert quality.stage_headline(empty, site, profile="test") is None
    assert "have not all run" in (site / quality.HEADLINE).read_text()
    assert "{include} _headline.md" in (quality_record.ROOT / "book" / "intro.md").read_text()


def test_the_field_protocols_table_joins_the_record_and_the_readme(workdir):
    table = pd.DataFrame({"acc@1": [0.08, 0.13], "km_median": [1.0, 0.7]}, index=["user_frequent", "ranker (features)"])
    field = pd.DataFrame({"acc@1": [0.11, 0.19], "km_median": [0.9, 0.5]}, index=["user_frequent", "ranker (features)"])
    protocol = {"min_checkins": 10, "trajectory_hours": 24.0, "windows": 2881, "share": 0.1373, "users": 1318}
    save_results(workdir, "venues", tables={"test": table, "field": field}, extra={"best_form": "features", "field": protocol})
    record = quality.collect(workdir, profile="test", date="2026-12-06", commit="abc")
    assert record["venues_field"]["protocol"] == protocol
    assert record["venues_field"]["scores"]["ranker (features)"] == {"acc@1": 0.19, "km_median": 0.5}
    text = quality_record.readme_table(record)
    assert "The same on the 2,881 test windows (13.7 %) the field's common protocol keeps" in text
    assert "at least 10 check-ins, the last check-in of 24-hour trajectories" in text
    # the field's rows come after the whole-test table
    assert text.index("| ranker (features) | 19.0 % |") > text.index("| ranker (features) | 13.0 % |")


def test_a_record_read_back_makes_the_same_readme_table(workdir, tmp_path):
    # the rows keep the chapters' order (runs, baselines, rankers), not an alphabetical one
    record = quality.collect(workdir, profile="test", date="2026-12-06", commit="abc")
    (_, scores), = record["models"]["lstm"]["runs"].items()
    record["models"]["lstm"]["runs"] = {"zeta": scores, "alpha": {**scores, "rmse": {"mean": 0.5, "std": 0.0}}}
    path = quality_record.write_record(record, tmp_path / "quality.json")
    again = quality_record.load_record(path)
    assert list(again["models"]["lstm"]["runs"]) == list(record["models"]["lstm"]["runs"])
    assert quality_record.readme_table(again) == quality_record.readme_table(record)
