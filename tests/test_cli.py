"""The ``checkin-traj`` command line, each subcommand through ``main(argv)``."""

import gzip
import os

import pandas as pd
import pytest

from checkin_traj.build import PROFILE_TIMES
from checkin_traj.cli import main

LINES = [
    "0\t2010-10-12T10:00:00Z\t40.70\t-73.90\t1",
    "0\t2010-10-12T10:05:00Z\t40.70\t-73.90\t1",  # same place 5 min later: a stay
    "0\t2010-10-12T10:06:00Z\t48.85\t2.35\t2",  # Paris one minute later: too fast, outside
    "1\t2010-10-12T11:00:00Z\t40.75\t-73.95\t3",
]


def snap_file(tmp_path):
    path = tmp_path / "checkins.txt.gz"
    path.write_bytes(gzip.compress(("\n".join(LINES) + "\n").encode()))
    return path


def test_clean_writes_the_clean_rows_and_prints_the_report(tmp_path, capsys):
    out = tmp_path / "clean.csv"
    assert main(["clean", str(snap_file(tmp_path)), str(out)]) == 0
    table = pd.read_csv(out)
    assert table["location_id"].tolist() == [1, 3]
    assert "wrote 2 clean check-ins" in capsys.readouterr().out


def test_clean_thresholds_can_be_switched_off(tmp_path):
    out = tmp_path / "clean.csv"
    assert main(["clean", str(snap_file(tmp_path)), str(out), "--min-stay-minutes", "off", "--stay-radius-m", "off"]) == 0
    # the stay is kept now; the Paris jump still goes (speed)
    assert pd.read_csv(out)["location_id"].tolist() == [1, 1, 3]


def test_bad_threshold_and_unknown_subcommand_are_named(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["clean", str(snap_file(tmp_path)), str(tmp_path / "o.csv"), "--max-speed-kmh", "fast"])
    assert "expected a number or 'off', got 'fast'" in capsys.readouterr().err
    # a value the checks refuse is one line and status 2, not a traceback
    assert main(["clean", str(snap_file(tmp_path)), str(tmp_path / "o.csv"), "--max-speed-kmh", "-5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("checkin-traj clean: ") and "max_speed_kmh must be a positive number" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_fetch_rejects_a_file_not_in_the_registry(capsys):
    assert main(["fetch", "nope.txt.gz"]) == 2
    assert "loc-gowalla_totalCheckins.txt.gz" in capsys.readouterr().err


def test_build_help_lists_the_profiles(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["build", "--help"])
    assert exit_.value.code == 0
    assert "workshop" in capsys.readouterr().out


def test_clean_checks_the_output_suffix_before_reading_anything(tmp_path, monkeypatch, capsys):
    # issue 15 probe: 'out.txt' was refused only after the whole file was read and cleaned
    from checkin_traj.data import snap

    calls = []
    monkeypatch.setattr(snap, "read_checkins", lambda *args, **kwargs: calls.append(args))
    assert main(["clean", str(snap_file(tmp_path)), str(tmp_path / "out.txt")]) == 2
    assert calls == []
    assert "path must end with one of ('.csv', '.parquet'), got" in capsys.readouterr().err


def test_clean_makes_a_missing_output_folder(tmp_path):
    out = tmp_path / "new" / "deeper" / "clean.parquet"
    assert main(["clean", str(snap_file(tmp_path)), str(out)]) == 0
    assert pd.read_parquet(out)["location_id"].tolist() == [1, 3]
    assert sorted(p.name for p in out.parent.iterdir()) == ["clean.parquet"]  # no temporary left


# --------------------------------------------------------------------------- issue 23: never destructive, one line


def one_error_line(capsys, command):
    """The one line a refused command printed on stderr (checked: one line, no traceback)."""
    err = capsys.readouterr().err
    assert err.startswith(f"checkin-traj {command}: ") and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err.strip()


def test_clean_refuses_an_output_that_is_its_input(tmp_path, capsys):
    raw = snap_file(tmp_path)
    plain = tmp_path / "checkins.csv"  # a plain SNAP file whose name takes a table's suffix
    plain.write_bytes(gzip.decompress(raw.read_bytes()))
    before = plain.read_bytes()
    assert main(["clean", str(plain), str(plain)]) == 2
    assert "is the input" in one_error_line(capsys, "clean")
    assert plain.read_bytes() == before  # the raw check-ins are still there
    (tmp_path / "link.csv").symlink_to(plain)
    assert main(["clean", str(plain), str(tmp_path / "link.csv")]) == 2
    assert plain.read_bytes() == before


def test_clean_given_a_folder_or_an_output_it_cannot_write_names_the_path(tmp_path, capsys):
    assert main(["clean", str(tmp_path), str(tmp_path / "out.csv")]) == 2
    assert f"found a folder: {tmp_path}" in one_error_line(capsys, "clean")
    (tmp_path / "folder.csv").mkdir()
    assert main(["clean", str(snap_file(tmp_path)), str(tmp_path / "folder.csv")]) == 2
    assert f"the output {tmp_path / 'folder.csv'} is a folder" in one_error_line(capsys, "clean")
    (tmp_path / "afile").write_text("mine")
    blocked = tmp_path / "afile" / "clean.csv"
    assert main(["clean", str(snap_file(tmp_path)), str(blocked)]) == 2
    assert one_error_line(capsys, "clean").startswith(f"checkin-traj clean: cannot write {blocked}: ")
    if os.path.isdir("/proc"):  # a folder even root cannot write
        assert main(["clean", str(snap_file(tmp_path)), "/proc/clean.csv"]) == 2
        assert "cannot write /proc/clean.csv" in one_error_line(capsys, "clean")


def test_page_checks_its_notebook_before_touching_the_output(tmp_path, capsys):
    output = tmp_path / "out"
    (output / "source").mkdir(parents=True)
    (output / "source" / "notes.md").write_text("the user's own notes")
    assert main(["page", str(tmp_path / "01_misspelt.ipynb"), str(output)]) == 2
    assert "found nothing at" in one_error_line(capsys, "page")
    text = tmp_path / "notes.ipynb"
    text.write_text("just some text\nover two lines\n")
    assert main(["page", str(text), str(output)]) == 2
    assert f"{text} is not a Jupyter notebook" in one_error_line(capsys, "page")
    assert (output / "source" / "notes.md").read_text() == "the user's own notes"
    assert sorted(path.name for path in output.rglob("*")) == ["notes.md", "source"]


@pytest.mark.slow
def test_page_builds_aside_replaces_only_its_own_page_and_refuses_a_foreign_folder(tmp_path, capsys):
    import nbformat

    notebook = tmp_path / "01_tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A Tiny Page\n\nHello.")]), notebook)
    output = tmp_path / "out"
    assert main(["page", str(notebook), str(output)]) == 0
    page = output / "_build" / "html" / "notebooks" / "01_tiny.html"
    assert "Hello." in page.read_text()
    assert main(["page", str(notebook), str(output)]) == 0  # an earlier page is replaced
    assert sorted(path.name for path in output.iterdir()) == ["_build", "source"]  # no temporary left
    foreign = tmp_path / "foreign"
    (foreign / "source").mkdir(parents=True)
    (foreign / "source" / "notes.md").write_text("mine")
    capsys.readouterr()
    assert main(["page", str(notebook), str(foreign)]) == 2
    assert "checkin-traj page did not make" in one_error_line(capsys, "page")
    assert sorted(path.name for path in foreign.rglob("*")) == ["notes.md", "source"]


def test_fetch_without_network_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CHECKIN_TRAJ_SNAP_URL", "http://127.0.0.1:9/")  # nothing listens on the discard port
    assert main(["fetch", "loc-gowalla_edges.txt.gz", "--cache-dir", str(tmp_path), "--quiet"]) == 2
    assert "Could not download loc-gowalla_edges.txt.gz" in one_error_line(capsys, "fetch")


def test_tune_that_cannot_write_its_journal_is_one_line(tmp_path, monkeypatch, capsys):
    pytest.importorskip("optuna")
    from checkin_traj.tuning import cli as tune_cli

    journal = tmp_path / "read-only" / "tuning.journal"

    def unwritable(*args, **kwargs):  # what optuna's journal raises in a folder this user cannot write
        raise PermissionError(13, "Permission denied", str(journal))

    monkeypatch.setattr(tune_cli, "work", unwritable)
    assert main(["tune", "--workdir", str(tmp_path), "--profile", "test", "--storage", f"journal:///{journal}"]) == 2
    assert one_error_line(capsys, "tune") == f"checkin-traj tune: {journal}: Permission denied"


def test_run_checks_parameter_values_before_anything_runs(tmp_path, monkeypatch, capsys):
    # issue 23 probe: -p MAX_SPEED_KMH -5 passed the type check and failed inside the notebook
    from checkin_traj import build

    monkeypatch.setattr(build, "execute_chapter", lambda *args, **kwargs: pytest.fail("the chapter ran"))
    workdir = tmp_path / "run"
    for argv, message in (
        (["01", "-p", "MAX_SPEED_KMH", "-5"], "MAX_SPEED_KMH must be a positive number, got -5.0"),
        (["03", "-p", "SEEDS", "[0, -1]"], "SEEDS[1] must be an integer >= 0, got -1"),
        (["02", "-p", "TEST_FRACTION", "1.5"], "TEST_FRACTION must lie in (0, 1), got 1.5"),
    ):
        assert main(["run", *argv[:1], "--workdir", str(workdir), *argv[1:], "--no-page"]) == 2
        assert one_error_line(capsys, "run") == f"checkin-traj run: {message}"
    assert not workdir.exists()


def test_build_and_page_help_say_what_they_do(capsys):
    with pytest.raises(SystemExit):
        main(["build", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Without --profile, the full profile runs every chapter" in text and PROFILE_TIMES["full"] in text
    with pytest.raises(SystemExit):
        main(["page", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Render one executed chapter" in text and "A failed render leaves OUTPUT as it was" in text
