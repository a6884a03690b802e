"""Smoke tests of the speed benchmarks (benchmarks/): they run, print and write what they should.

No timing is asserted: speed is what the scripts measure, not what a test can check on a
shared machine. The scripts run at a tiny size in a subprocess, as a user runs them;
their pure parts (verdicts, the record's sections, build timings) are tested on
hand-made inputs.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys

import pytest

from .conftest import REPO_ROOT

BENCHMARKS = REPO_ROOT / "benchmarks"


@pytest.fixture(scope="module")
def bench_modules():
    """The benchmark scripts as modules (they import their sibling ``_common``)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield {name: importlib.import_module(name) for name in ("_common", "bench_full_size")}
    finally:
        sys.path.remove(str(BENCHMARKS))


def _run(script, *arguments, timeout=600):
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
    )
    return completed


# --------------------------------------------------------------------------- full size, tiny


@pytest.fixture(scope="module")
def full_size_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench_full_size")
    keep = folder / "checkins.txt"
    completed = _run(
        "bench_full_size.py", "--users", 300, "--repeat", 1, "--keep", keep,
        "--json", folder / "out.json", "--markdown", folder / "out.md",
        "--write-record", "--record-dir", folder / "record",
    )
    return completed, folder


def test_full_size_prints_ratio_rate_and_memory(full_size_run):
    completed, _ = full_size_run
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    assert re.search(r"load \+ clean / floor = \d+\.\d\d \(target <= 3\): (PASS|FAIL)", out)
    assert re.search(r"peak memory of load \+ clean = \d+\.\d\d GB \(target < 4\.00 GB\): (PASS|FAIL)", out)
    assert re.search(r"load \+ clean\s+\S+\s+\S+\s+[\d.]+(?: [kM])?\s+\d+\.\d\dx", out)  # seconds, rows/s, ratio
    assert "rows/s" in out and "peak RSS" in out
    assert re.search(r"load \+ clean, freed memory kept †\s+\S+\s+\S+\s+[\d.]+(?: [kM])?\s+\d+\.\d\dx", out)


def test_full_size_writes_json_markdown_and_record(full_size_run):
    completed, folder = full_size_run
    assert completed.returncode == 0, completed.stderr
    result = json.loads((folder / "out.json").read_text())
    assert result["benchmark"] == "full_size"
    assert set(result["stages"]) == {"floor", "read_checkins", "clean", "load_clean", "load_clean_retained"}
    assert result["retained_malloc"]["environment"] == {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(2**36)}
    assert len(result["stages"]["load_clean_retained"]["seconds_all"]) == 2  # at least two rounds
    rows = result["data"]["rows_read"]
    assert rows == result["data"]["lines"] == result["data"]["rows_parsed_by_floor"] > 1000
    for stage in result["stages"].values():
        assert stage["seconds_best"] > 0 and stage["rows_per_second"] == pytest.approx(rows / stage["seconds_best"])
    assert result["stages"]["floor"]["ratio_to_floor"] == 1.0
    memory = result["memory"]["load_clean"]
    assert memory["peak_bytes"] >= memory["rss_before_bytes"] > 10**7  # an interpreter with pandas
    assert result["checks"]["peak_memory"]["pass"] == (memory["peak_bytes"] < 4 * 10**9)
    assert result["machine"]["cores"] >= 1 and result["machine"]["versions"]["python"]

    markdown = (folder / "out.md").read_text()
    assert markdown.startswith("## Full SNAP size")
    assert "| step | best (s) | median (s) | rows/s (best) | x floor |" in markdown
    record = (folder / "record" / "RESULTS.md").read_text()
    assert "<!-- begin full_size -->" in record and markdown.strip() in record
    assert json.loads((folder / "record" / "records" / "full_size.json").read_text()) == result


def test_full_size_reuses_the_kept_file(full_size_run, tmp_path):
    completed, folder = full_size_run
    assert completed.returncode == 0, completed.stderr
    keep = folder / "checkins.txt"
    modified = keep.stat().st_mtime_ns
    again = _run("bench_full_size.py", "--users", 300, "--repeat", 1, "--keep", keep, "--json", tmp_path / "again.json")
    assert again.returncode == 0, again.stderr
    assert "reused" in again.stdout
    assert keep.stat().st_mtime_ns == modified
    assert json.loads((tmp_path / "again.json").read_text())["data"]["reused"] is True


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--users", "0"], "--users"),
        (["--repeat", "-1"], "--repeat"),
        (["--keep", "plain.txt", "--gzip"], "--keep"),
        (["--data", "no/such/file.txt"], "--data"),
    ],
)
def test_full_size_rejects_bad_arguments(arguments, named):
    completed = _run("bench_full_size.py", *arguments, timeout=60)
    assert completed.returncode == 2
    assert named in completed.stderr


# --------------------------------------------------------------------------- pure parts


def _timing(floor, read, clean, *, rows=1000):
    rounds = {
        "floor": [{"wall": floor, "user": floor, "system": 0.0}],
        "read_checkins": [{"wall": read, "user": read, "system": 0.0}],
        "clean": [{"wall": clean, "user": clean, "system": 0.0}],
        "load_clean": [{"wall": read + clean, "user": read + clean, "system": 0.0}],
    }

    class Report:
        rows_in, rows_out, users_out = rows, rows - 10, 5

        @staticmethod
        def removed_by_step():
            return {"duplicates": 10}

    return {"rounds": rounds, "rows_read": rows, "floor_rows": rows, "report": Report()}


def _memory(peak):
    entry = {"rss_before_bytes": 10**8, "peak_before_bytes": 10**8, "peak_bytes": peak, "seconds": 1.0, "rows": 1}
    return {"floor": dict(entry, peak_bytes=2 * 10**8), "load_clean": entry}


@pytest.mark.parametrize(
    ("floor", "read", "clean", "peak", "ratio", "ratio_pass", "memory_pass"),
    [
        (2.0, 3.0, 3.0, 3 * 10**9, 3.0, True, True),  # exactly 3x passes
        (2.0, 3.0, 3.2, 4 * 10**9, 3.1, False, False),  # 4 GB is not under 4 GB
        (1.0, 0.5, 0.5, 10**9, 1.0, True, True),
    ],
)
def test_verdicts_against_the_targets(bench_modules, floor, read, clean, peak, ratio, ratio_pass, memory_pass):
    bench = bench_modules["bench_full_size"]
    result = bench.summarise(
        _timing(floor, read, clean), _memory(peak), machine={}, parameters={"repeat": 1}, data={"bytes": 1}
    )
    assert result["stages"]["load_clean"]["ratio_to_floor"] == pytest.approx(ratio)
    assert result["stages"]["read_checkins"]["rows_per_second"] == pytest.approx(1000 / read)
    assert result["checks"]["ratio"]["pass"] is ratio_pass
    assert result["checks"]["peak_memory"]["pass"] is memory_pass


def test_best_round_is_the_fastest_wall_clock(bench_modules):
    bench = bench_modules["bench_full_size"]
    timing = _timing(1.0, 1.0, 1.0)
    timing["rounds"]["floor"] = [
        {"wall": 3.0, "user": 0.1, "system": 0.0},
        {"wall": 2.0, "user": 9.0, "system": 1.0},
        {"wall": 4.0, "user": 0.2, "system": 0.0},
    ]
    floor = bench.summarise(timing, _memory(10**9), machine={}, parameters={}, data={})["stages"]["floor"]
    assert (floor["seconds_best"], floor["seconds_median"]) == (2.0, 3.0)
    assert (floor["user_seconds_best_round"], floor["system_seconds_best_round"]) == (9.0, 1.0)


def test_record_keeps_other_sections_and_their_order(bench_modules, tmp_path):
    common = bench_modules["_common"]
    common.write_record("nyc", {"n": 1}, "## NYC\n\nfirst nyc", record_dir=tmp_path)
    common.write_record("full_size", {"n": 2}, "## Full\n\nfirst full", record_dir=tmp_path)
    common.write_record("full_size", {"n": 3}, "## Full\n\nsecond full", record_dir=tmp_path)
    text = (tmp_path / "RESULTS.md").read_text()
    assert text.startswith("<!-- Written by")
    assert "first full" not in text and "second full" in text and "first nyc" in text
    assert text.index("second full") < text.index("first nyc")  # full_size first, whatever the write order
    assert text.count("<!-- begin full_size -->") == 1
    assert json.loads((tmp_path / "records" / "full_size.json").read_text()) == {"n": 3}
    with pytest.raises(ValueError, match="name must be one of"):
        common.write_record("other", {}, "## x", record_dir=tmp_path)


def test_build_timings_table_and_bad_file(bench_modules, tmp_path):
    common = bench_modules["_common"]
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "timings.json").write_text(json.dumps({"01_data_cleaning": 10.0, "02_evaluation": 5.5}))
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "timings.json").write_text(json.dumps({"01_data_cleaning": 2.0}))
    timings = common.read_build_timings(tmp_path)
    assert list(timings) == ["full", "test"]  # workshop absent: left out
    header, rows = common.build_timings_table(timings)
    assert header == ["chapter", "full (s)", "test (s)"]
    assert rows == [["01_data_cleaning", "10.0", "2.0"], ["02_evaluation", "5.5", "-"], ["**total**", "15.5", "2.0"]]
    (tmp_path / "test" / "timings.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"test[/\\]timings\.json"):
        common.read_build_timings(tmp_path)


# --------------------------------------------------------------------------- NYC, tiny


@pytest.mark.slow
def test_nyc_benchmark_on_tiny_synthetic_data(tmp_path):
    build_dir = tmp_path / "build"
    (build_dir / "test").mkdir(parents=True)
    (build_dir / "test" / "timings.json").write_text(json.dumps({"01_data_cleaning": 12.5, "jupyter-book build": 20}))
    completed = _run(
        "bench_nyc.py", "--data", "synthetic", "--synthetic-users", 150, "--epochs", 1, "--repeat", 1,
        "--build-dir", build_dir, "--json", tmp_path / "nyc.json", "--markdown", tmp_path / "nyc.md",
        "--write-record", "--record-dir", tmp_path / "record",
    )
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    assert "NOTE: synthetic data (150 users, seed 0)" in out
    assert re.search(r"build_windows\s+\S+\s+\S+\s+[\d.]+(?: [kM])?", out)
    for name in ("lstm", "seq2seq", "transformer"):
        assert re.search(rf"^{name}\s+[\d,]+\s+[\d,]+\s+\S+\s+-\s+[\d.]+(?: [kM])?$", out, re.MULTILINE)
    assert re.search(r"01_data_cleaning\s+12\.5", out) and re.search(r"\*\*total\*\*\s+32\.5", out)

    result = json.loads((tmp_path / "nyc.json").read_text())
    assert result["data"]["source"] == "synthetic" and result["data"]["rows_read"] > 1000
    for name, entry in result["training"].items():
        assert entry["steady_is_first"] and entry["sequences_per_second"] == pytest.approx(
            entry["train_windows"] / entry["first_epoch_seconds"]
        )
    assert result["build_timings"] == {"test": {"01_data_cleaning": 12.5, "jupyter-book build": 20.0}}
    markdown = (tmp_path / "nyc.md").read_text()
    assert "| model | weights | train windows |" in markdown and "> **Note:** Synthetic data" in markdown
    assert "<!-- begin nyc -->" in (tmp_path / "record" / "RESULTS.md").read_text()


# --------------------------------------------------------------------------- book builds, tiny


@pytest.mark.slow
def test_build_benchmark_times_cold_warm_and_prose_edit_builds(tmp_path):
    from .test_build_cache import make_project

    project = make_project(tmp_path / "project")
    record = tmp_path / "record" / "benchmarks"
    completed = _run(
        "bench_build.py", "--profile", "test", "--root", project, "--scratch", tmp_path / "scratch",
        "--json", tmp_path / "build.json", "--write-record", "--record-dir", record,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert re.search(r"^cold\s+[\d.]+\s+2\s+0$", completed.stdout, re.MULTILINE), completed.stdout
    assert re.search(r"^warm\s+[\d.]+\s+0\s+2$", completed.stdout, re.MULTILINE)
    assert re.search(r"^prose edit\s+[\d.]+\s+0\s+2$", completed.stdout, re.MULTILINE)
    result = json.loads((tmp_path / "build.json").read_text())
    assert result["runs"]["prose edit"]["sentence_on_page"] is True
    assert result["runs"]["warm"]["seconds"] < result["runs"]["cold"]["seconds"]
    assert "bench_build.py" not in (project / "notebooks" / "01_first.md").read_text()  # only the scratch copy is edited
    assert "<!-- begin build -->" in (record / "RESULTS.md").read_text()
    times = json.loads((record / "records" / "build_times.json").read_text())
    assert set(times["profiles"]["test"]["chapters"]) == {"01_first", "02_second"}
    assert times["cold_warm"]["runs"]["warm"]["executed"] == 0
    page = (record / "BUILD_TIMES.md").read_text()
    assert "### The `test` profile" in page and "| 01_first |" in page and "| warm |" in page
