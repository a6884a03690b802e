import csv
import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from checkin_traj.data import provenance
from checkin_traj.data.atomic import recover, write_set
from checkin_traj.data.provenance import banner_text, data_banner, data_dir, load_clean, read_provenance, save_clean
from checkin_traj.data.sources import DataSource


def _clean_frame(rows=3):
    frame = pd.DataFrame(
        {
            "user": [0, 0, 1],
            "snap_user": [7, 7, 9],
            "time": pd.to_datetime(["2010-01-01T10:00:00Z", "2010-01-01T12:00:00Z", "2010-01-02T08:00:00Z"]),
            "lat": [40.70, 40.71, 40.80],
            "lon": [-74.00, -73.99, -73.95],
            "location_id": [1, 2, 3],
        }
    )
    return pd.concat([frame] * (rows // 3 + 1), ignore_index=True).iloc[:rows]


def _source(tmp_path, *, synthetic=True, kind="synthetic", description="a description"):
    return DataSource(path=tmp_path / "x.txt.gz", kind=kind, synthetic=synthetic, description=description, citation="")


def test_clean_data_round_trips_through_parquet_and_csv(tmp_path):
    paths = save_clean(tmp_path, _clean_frame(), source=_source(tmp_path), parameters={"data": "synthetic"})
    pd.testing.assert_frame_equal(load_clean(tmp_path), _clean_frame(), check_dtype=False)
    with open(paths["csv"], newline="") as handle:
        assert next(csv.reader(handle)) == list(_clean_frame().columns)
    assert read_provenance(tmp_path)["parameters"] == {"data": "synthetic"}
    assert sorted(p.name for p in data_dir(tmp_path).iterdir()) == ["clean.csv", "clean.parquet", "provenance.json"]


def test_missing_clean_data_points_to_chapter_01(tmp_path):
    with pytest.raises(FileNotFoundError, match="chapter 01"):
        load_clean(tmp_path)
    with pytest.raises(FileNotFoundError, match="chapter 01"):
        read_provenance(tmp_path)


@pytest.mark.parametrize("synthetic, expected", [(True, "synthetic"), (False, "Data:")])
def test_banner_names_the_source_and_warns_on_synthetic_data(tmp_path, synthetic, expected):
    save_clean(tmp_path, _clean_frame(), source=_source(tmp_path, synthetic=synthetic), parameters={})
    text = banner_text(read_provenance(tmp_path))
    assert expected in text and "a description" in text
    assert text.startswith(":::{warning}") == synthetic


def test_a_failed_save_leaves_the_previous_set_whole_and_no_temporary(tmp_path, monkeypatch):
    save_clean(tmp_path, _clean_frame(3), source=_source(tmp_path, description="old"), parameters={})

    def fail(path):
        raise OSError("disk full")

    monkeypatch.setattr(provenance, "CLEAN_CSV", "clean.csv")
    original = provenance.write_table
    calls = []

    def write_then_fail(frame, path):
        calls.append(path)
        if len(calls) == 2:  # the CSV, after the Parquet file was written
            fail(path)
        original(frame, path)

    monkeypatch.setattr(provenance, "write_table", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save_clean(tmp_path, _clean_frame(5), source=_source(tmp_path, description="new"), parameters={})
    assert len(load_clean(tmp_path)) == 3
    assert read_provenance(tmp_path)["source"]["description"] == "old"
    assert sorted(p.name for p in data_dir(tmp_path).iterdir()) == ["clean.csv", "clean.parquet", "provenance.json"]


def test_a_stale_parquet_under_a_new_provenance_is_refused(tmp_path):
    save_clean(tmp_path, _clean_frame(3), source=_source(tmp_path), parameters={})
    other = tmp_path / "other"
    save_clean(other, _clean_frame(5), source=_source(tmp_path), parameters={})
    os.replace(data_dir(other) / "clean.parquet", data_dir(tmp_path) / "clean.parquet")
    with pytest.raises(ValueError, match="not the file its provenance"):
        load_clean(tmp_path)


@pytest.mark.parametrize(
    "kind, data, ok",
    [("synthetic", "synthetic", True), ("synthetic", "sample", False), ("sample", "auto", True),
     ("snap", "sample", False), ("synthetic", "auto", False)],
)
def test_a_later_chapter_refuses_data_from_another_source(tmp_path, kind, data, ok):
    save_clean(tmp_path, _clean_frame(), source=_source(tmp_path, kind=kind, synthetic=kind == "synthetic"),
               parameters={"data": kind})
    if ok:
        assert len(load_clean(tmp_path, data=data)) == 3
    else:
        with pytest.raises(ValueError, match=f"not from DATA='{data}'"):
            load_clean(tmp_path, data=data)


def test_a_path_given_as_data_must_be_the_file_read(tmp_path):
    save_clean(tmp_path, _clean_frame(), source=_source(tmp_path, kind="file", synthetic=False), parameters={})
    assert len(load_clean(tmp_path, data=str(tmp_path / "x.txt.gz"))) == 3
    with pytest.raises(ValueError, match="not from DATA"):
        load_clean(tmp_path, data=str(tmp_path / "y.txt.gz"))


def test_a_committed_set_is_finished_and_an_uncommitted_one_dropped(tmp_path):
    folder = tmp_path / "set"
    write_set(folder, {"a.txt": lambda p: p.write_text("old a"), "b.txt": lambda p: p.write_text("old b")})
    # killed after the commit, between the renames: the journal finishes the set
    (folder / ".a.txt.x.tmp.txt").write_text("new a")
    (folder / ".b.txt.x.tmp.txt").write_text("new b")
    os.replace(folder / ".a.txt.x.tmp.txt", folder / "a.txt")
    (folder / ".commit.json").write_text(json.dumps({"a.txt": ".a.txt.x.tmp.txt", "b.txt": ".b.txt.x.tmp.txt"}))
    recover(folder)
    assert (folder / "a.txt").read_text() == "new a" and (folder / "b.txt").read_text() == "new b"
    # killed before the commit: the temporaries go, the old set stays
    (folder / ".a.txt.y.tmp.txt").write_text("half")
    recover(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt", "b.txt"]


_WRITER = """
import sys
import numpy as np, pandas as pd
from types import SimpleNamespace
from checkin_traj.data.provenance import save_clean
n = int(sys.argv[2])
frame = pd.DataFrame({"user": np.arange(n) // 10, "snap_user": np.arange(n) // 10,
    "time": pd.Timestamp("2010-01-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="s"),
    "lat": np.full(n, 40.7), "lon": np.full(n, -74.0), "location_id": np.arange(n)})
source = SimpleNamespace(path="x", kind="synthetic", synthetic=True, description=f"{n} rows")
print("go", flush=True)
while True:
    save_clean(sys.argv[1], frame, source=source, parameters={"rows": n})
"""


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.4, 0.7, 1.0, 1.5])
def test_killing_a_save_midway_leaves_one_whole_set(tmp_path, delay):
    save_clean(tmp_path, _clean_frame(3), source=_source(tmp_path), parameters={"rows": 3})
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    child = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), "200000"], stdout=subprocess.PIPE, env=env)
    assert child.stdout.readline().strip() == b"go"
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()
    clean = load_clean(tmp_path)  # finishes or drops the interrupted set, then checks the checksum
    rows = read_provenance(tmp_path)["parameters"]["rows"]
    assert len(clean) == rows and len(pd.read_csv(data_dir(tmp_path) / "clean.csv")) == rows
    assert sorted(p.name for p in data_dir(tmp_path).iterdir()) == ["clean.csv", "clean.parquet", "provenance.json"]


# --------------------------------------------------------------------------- issue 15: damaged files


@pytest.mark.parametrize("damage", ["truncated", "empty", "a list", "no source"])
def test_a_damaged_provenance_record_names_the_file_and_chapter_01(tmp_path, damage):
    from checkin_traj.data.snap import InputError

    save_clean(tmp_path, _clean_frame(), source=_source(tmp_path), parameters={"data": "synthetic"})
    path = data_dir(tmp_path) / "provenance.json"
    text = path.read_text()
    path.write_text({"truncated": text[: len(text) // 2], "empty": "", "a list": "[1, 2]", "no source": '{"a": 1}'}[damage])
    for attempt in (lambda: read_provenance(tmp_path), lambda: load_clean(tmp_path), lambda: data_banner(tmp_path)):
        with pytest.raises(InputError, match="run chapter 01 again") as caught:
            attempt()
        assert caught.value.path == str(path)


@pytest.mark.parametrize("damage", ["truncated", "empty"])
def test_a_damaged_parquet_table_names_the_file(tmp_path, damage):
    from checkin_traj.data.snap import InputError
    from checkin_traj.data.tables import read_table, write_table

    path = tmp_path / "table.parquet"
    write_table(_clean_frame(), path)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2] if damage == "truncated" else b"")
    with pytest.raises(InputError, match="not a readable Parquet table") as caught:
        read_table(path)
    assert caught.value.path == str(path)
    save_clean(tmp_path, _clean_frame(), source=_source(tmp_path), parameters={"data": "synthetic"})
    parquet = data_dir(tmp_path) / "clean.parquet"
    parquet.write_bytes(parquet.read_bytes()[:100])
    with pytest.raises(ValueError, match="is not the file its provenance"):  # the checksum catches it first
        load_clean(tmp_path)


# --------------------------------------------------------------------------- issue 15: chapter 01 writes its set last


WRITERS = (
    "write_provenance(", "save_clean(", "save_results(", "write_set(", "write_table(",
    "provenance.json", "PROVENANCE", "json.dump", ".write_text(", "to_parquet(",
)


def test_chapter_01_writes_nothing_of_its_set_before_reading_and_cleaning_succeed():
    # issue 15: provenance.json used to be written before reading, so a failed re-run left the old
    # clean.parquet under the new banner; now save_clean, after read_checkins and clean, is the only write
    import jupytext

    from .conftest import REPO_ROOT

    cells = [c.source for c in jupytext.read(REPO_ROOT / "notebooks" / "01_data_cleaning.md").cells if c.cell_type == "code"]

    def first(text):
        return next(i for i, source in enumerate(cells) if text in source)

    saving = [i for i, source in enumerate(cells) if "save_clean(" in source]
    assert len(saving) == 1
    assert first("read_checkins(") < first("clean(raw") < saving[0]
    assert first("data_banner(") < first("read_checkins(") and "data_banner(source=source" in cells[first("data_banner(")]
    for source in cells[: saving[0]]:
        for writer in WRITERS:
            assert writer not in source, (writer, source)


def test_a_failed_rerun_of_chapter_01_leaves_the_old_set_and_its_banner(tmp_path):
    # chapter 01's calls in order, the second run failing at read_checkins: the chapters after it
    # still read the first run's data under the first run's banner (outputs as one set)
    from checkin_traj.cleaning import clean
    from checkin_traj.data.snap import InputError, read_checkins
    from checkin_traj.geo import BoundingBox

    good = tmp_path / "good.txt"
    good.write_text("0\t2010-10-12T00:21:28Z\t40.64\t-73.78\t1\n0\t2010-10-11T20:21:20Z\t40.74\t-73.98\t2\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("0\t2010-02-29T00:21:28Z\t40.64\t-73.78\t1\n")
    workdir = tmp_path / "run"
    box = BoundingBox(40.0, 41.0, -75.0, -73.0)
    for path, description in ((good, "the good file"), (bad, "the bad file")):
        source = DataSource(path=path, kind="file", synthetic=False, description=description, citation="")
        try:
            kept, report = clean(read_checkins(source.path), box=box)
        except InputError as error:
            assert error.path == str(bad) and error.line == 1
            break
        save_clean(workdir, kept, source=source, parameters={"data": str(path)}, report=report)
    assert "the good file" in banner_text(read_provenance(workdir))
    assert len(load_clean(workdir, data=str(good))) == 2
    with pytest.raises(ValueError, match="not from DATA="):
        load_clean(workdir, data=str(bad))


@pytest.mark.parametrize(
    "record", ['{"clean.parquet": ".clean.parq', "[1, 2]", '{"clean.parquet": 5}', '{"../clean.parquet": ".x.tmp"}', ""]
)
def test_a_damaged_commit_record_is_named_not_a_json_error(tmp_path, record):
    # issue 15 probe: a damaged .commit.json raised JSONDecodeError or AttributeError without a path
    # from every reader of the set; a name with a folder in it would have renamed a file elsewhere
    from checkin_traj.data.snap import InputError

    save_clean(tmp_path, _clean_frame(), source=_source(tmp_path), parameters={"data": "synthetic"})
    journal = data_dir(tmp_path) / ".commit.json"
    journal.write_text(record)
    for attempt in (lambda: load_clean(tmp_path), lambda: read_provenance(tmp_path), lambda: recover(data_dir(tmp_path))):
        with pytest.raises(InputError, match="damaged record of an interrupted save") as caught:
            attempt()
        assert caught.value.path == str(journal)
    assert sorted(p.name for p in data_dir(tmp_path).iterdir()) == [".commit.json", "clean.csv", "clean.parquet", "provenance.json"]


def test_two_saves_into_one_folder_at_once_leave_one_whole_set(tmp_path):
    # issue 15 probe: write_set's recover() deleted the temporaries of a save running beside it (two builds
    # sharing the synthetic cache), so the other save committed a set with a file missing: a mixed set
    import threading

    folder = tmp_path / "set"
    write_set(folder, {"a.txt": lambda p: p.write_text("old"), "b.txt": lambda p: p.write_text("old")})
    first_started, second_done = threading.Event(), threading.Event()

    def slow_first(path):
        path.write_text("first")
        first_started.set()
        second_done.wait(timeout=1.0)  # with the folder locked, the second save waits for this one instead

    def second():
        first_started.wait()
        write_set(folder, {"a.txt": lambda p: p.write_text("second"), "b.txt": lambda p: p.write_text("second")})
        second_done.set()

    thread = threading.Thread(target=second)
    thread.start()
    write_set(folder, {"a.txt": slow_first, "b.txt": lambda p: p.write_text("first")})
    thread.join()
    contents = {name: (folder / name).read_text() for name in ("a.txt", "b.txt")}
    assert contents["a.txt"] == contents["b.txt"] in ("first", "second"), contents
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt", "b.txt"]


@pytest.mark.parametrize("key", ["path", "kind", "synthetic", "description"])
def test_a_provenance_source_without_one_of_its_fields_is_named(tmp_path, key):
    # issue 15 probe: a record whose source lacked 'kind' or 'synthetic' raised a bare KeyError
    from checkin_traj.data.snap import InputError

    save_clean(tmp_path, _clean_frame(), source=_source(tmp_path), parameters={"data": "synthetic"})
    path = data_dir(tmp_path) / "provenance.json"
    document = json.loads(path.read_text())
    del document["source"][key]
    path.write_text(json.dumps(document))
    for attempt in (lambda: load_clean(tmp_path, data="synthetic"), lambda: data_banner(tmp_path)):
        with pytest.raises(InputError, match=rf"source record lacks \['{key}'\].*run chapter 01 again") as caught:
            attempt()
        assert caught.value.path == str(path)
