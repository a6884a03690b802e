"""The ``checkin-traj`` command line, each subcommand through ``main(argv)``."""

import gzip

import pandas as pd
import pytest

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


def one_error_line(capsys, command):
    """The one line a refused command printed on stderr (checked: one line, no traceback)."""
    err = capsys.readouterr().err
    assert err.startswith(f"checkin-traj {command}: ") and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err.strip()


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
