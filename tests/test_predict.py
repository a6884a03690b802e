"""Chapter 08's saved ranker on new histories (issue 24): ``checkin_traj.predict`` and ``checkin-traj predict``."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

import checkin_traj
from checkin_traj import __version__, cli
from checkin_traj.data.snap import read_checkins
from checkin_traj.venues.features import VenueContext
from checkin_traj.venues.model import place_mass, probabilities, stay_or_move
from checkin_traj.venues.predictor import ARTIFACT, load_predictor, predict

AGAIN = "re-run chapter 08 (checkin-traj build --chapters 08"


def _write_snap(path, frame):
    """``frame`` (user, time, lat, lon, location_id) as a SNAP-format file; floats written exactly (repr)."""
    lines = [
        f"{user}\t{time:%Y-%m-%dT%H:%M:%SZ}\t{lat!r}\t{lon!r}\t{venue}"
        for user, time, lat, lon, venue in zip(frame["user"], frame["time"], frame["lat"], frame["lon"], frame["location_id"])
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _fake_artifact(workdir, meta):
    """A predictor folder holding only ``predictor.json`` (``meta``, or text written as is)."""
    folder = workdir / ARTIFACT
    folder.mkdir(parents=True)
    (folder / "predictor.json").write_text(meta if isinstance(meta, str) else json.dumps(meta))
    return folder


def _one_error_line(capsys, argv):
    status = cli.main(argv)
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("checkin-traj predict: "), err
    return err


# --------------------------------------------------------------------------- without a trained model


def test_predict_is_exported_from_the_root():
    assert checkin_traj.predict is predict and "predict" in checkin_traj.__all__


def test_a_missing_predictor_names_the_file_and_the_chapter(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match=r"predictor\.json.*re-run chapter 08 \(checkin-traj build --chapters 08"):
        load_predictor(tmp_path)
    history = _write_snap(tmp_path / "history.txt", pd.DataFrame(
        {"user": [1], "time": [pd.Timestamp("2010-03-01", tz="UTC")], "lat": [40.7], "lon": [-73.9], "location_id": [5]}
    ))
    assert AGAIN in _one_error_line(capsys, ["predict", str(history), "--workdir", str(tmp_path)])


def test_a_predictor_of_another_version_is_refused(tmp_path):
    _fake_artifact(tmp_path, {"version": "0.0.0-other", "sha256": {}})
    with pytest.raises(ValueError, match=rf"predictor\.json was saved by checkin-traj 0\.0\.0-other, this is {__version__}; re-run chapter 08"):
        load_predictor(tmp_path)


@pytest.mark.parametrize("meta", ["{not json", json.dumps(["a list"]), json.dumps({"version": __version__})])
def test_a_damaged_record_is_refused(tmp_path, meta):
    _fake_artifact(tmp_path, meta)
    with pytest.raises(ValueError, match=r"predictor\.json is damaged .*re-run chapter 08"):
        load_predictor(tmp_path)


def test_missing_model_files_are_refused(tmp_path):
    _fake_artifact(tmp_path, {"version": __version__, "sha256": {"ranker.keras": "0", "state.npz": "0"}})
    with pytest.raises(ValueError, match=r"ranker\.keras is missing or damaged .*re-run chapter 08"):
        load_predictor(tmp_path)


def test_an_empty_history_is_one_error_line(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert "empty.txt" in _one_error_line(capsys, ["predict", str(empty), "--workdir", str(tmp_path)])
    bad = tmp_path / "bad.txt"
    bad.write_text("1\tnot a time\t40.7\t-73.9\t5\n")
    assert "bad.txt" in _one_error_line(capsys, ["predict", str(bad), "--workdir", str(tmp_path)])


# --------------------------------------------------------------------------- chapter 08's saved ranker


@pytest.fixture(scope="module")
def saved(executed_venues):
    """The workdir chapter 08 saved its predictor in, the predictor, the protocol's windows and the saved results."""
    from checkin_traj.report import load_protocol
    from checkin_traj.results import load_results

    workdir = executed_venues[0]
    data, _ = load_protocol(workdir)
    return workdir, load_predictor(workdir), data, load_results(workdir, "venues")


def _test_windows_as_histories(data):
    """Each test window's check-ins as a history, in batches that hold at most one window per user."""
    part, check_ins = data.test, data.check_ins
    rows = part.target_row[:, None] - np.arange(data.window, 0, -1)[None, :]
    batch = pd.Series(part.user).groupby(part.user).cumcount().to_numpy()
    for number in range(batch.max() + 1):
        windows = np.flatnonzero(batch == number)
        frame = check_ins.iloc[rows[windows].ravel()]
        yield windows, pd.DataFrame({"user": frame["snap_user"], "time": frame["time"], "lat": frame["lat"],
                                     "lon": frame["lon"], "location_id": frame["location_id"]})


@pytest.mark.slow
def test_top_1_on_the_test_windows_is_chapter_08s_evaluation(saved, tmp_path):
    workdir, predictor, data, results = saved
    meta = predictor.meta
    assert meta["form"] == results["extra"]["best_form"]
    val = results["tables"]["val_seeds"]
    val = val[val["form"] == meta["form"]].reset_index(drop=True)
    assert meta["seed"] == val.loc[val["acc@1"].idxmax(), "seed"]  # the best seed on validation, the first on a tie
    ranked = results["arrays"][f"{meta['form']}_seed{meta['seed']}_ranked_test"][:, 0]
    expected = predictor.context.state["location_id"][ranked]
    found, stays = np.full(len(ranked), -1), np.zeros(len(ranked), dtype=bool)
    snap_user = data.check_ins["snap_user"].to_numpy()[data.test.target_row]
    for windows, history in _test_windows_as_histories(data):
        history = read_checkins(_write_snap(tmp_path / "history.txt", history))  # through the SNAP reader
        table = predictor.predict(history, k=1)
        first = table[table["rank"] == 1].set_index("user")
        found[windows] = first["location_id"].reindex(snap_user[windows]).to_numpy()
        stays[windows] = first["stays"].reindex(snap_user[windows]).to_numpy()
    assert (ranked >= 0).all()
    np.testing.assert_array_equal(found, expected)
    # the stay-or-move decision is the chapter's rule on the test windows (VenueContext.stay_inputs)
    context = VenueContext(data, size=meta["size"], n_near=meta["n_near"])
    windows = context.windows("test")
    mass = place_mass(probabilities(predictor.ranker.scores(windows)).astype(np.float32), windows.candidates,
                      context.venue_lat, context.venue_lon, data.test.last_raw[:, 2], radius_km=meta["radius_km"], pool=meta["pool"])
    chapter = stay_or_move(mass, predictor.gate.probability(context.stay_inputs("test")[0]), factor=meta["factor"])
    np.testing.assert_array_equal(stays, chapter)
    assert 0 < chapter.mean() < 1  # both choices are taken: the test would miss a gate that never decides


@pytest.mark.slow
def test_the_table_of_predict(saved, tmp_path):
    workdir, predictor, data, _ = saved
    _, history = next(_test_windows_as_histories(data))
    table = predict(_write_snap(tmp_path / "history.txt", history), workdir=workdir, k=3)
    assert list(table.columns) == ["user", "seen_user", "window_checkins", "rank", "location_id", "lat", "lon",
                                   "probability", "km_from_last", "place_pick", "stays",
                                   "gap_minutes", "expected_at", "expected_from", "expected_until"]  # tests/test_next_time.py
    for user, rows in table.groupby("user"):
        top = rows[rows["rank"] <= 3]
        assert top["rank"].tolist() == [1, 2, 3] and top["probability"].is_monotonic_decreasing
        assert rows["place_pick"].sum() == 1 and len(rows) in (3, 4)
        assert rows["seen_user"].all() and (rows["window_checkins"] == data.window).all()
    assert table["probability"].between(0, 1).all() and (table["km_from_last"] >= 0).all()
    assert table.attrs["unknown_venues"] == {}
    assert len(table.attrs["notes"]) == 1 and table.attrs["notes"][0].startswith("no time predicted")  # chapter 06 not run here


@pytest.mark.slow
def test_an_unseen_user_and_unknown_venues_are_said(saved, tmp_path, capsys):
    workdir, predictor, data, _ = saved
    _, history = next(_test_windows_as_histories(data))
    stranger = history[history["user"] == history["user"].iloc[0]].assign(user=987654321)
    stranger.iloc[0, stranger.columns.get_loc("location_id")] = 424242424  # a venue the model never saw
    table = predictor.predict(stranger.iloc[1:].pipe(lambda frame: pd.concat([stranger.iloc[:1], frame])), k=2)
    assert not table["seen_user"].any() and (table["user"] == 987654321).all()
    assert table.attrs["unknown_venues"] == {424242424: 1}
    assert any("424242424" in note for note in table.attrs["notes"])
    assert any("987654321" in note for note in table.attrs["notes"])
    short = predictor.predict(stranger.iloc[-1:], k=2)  # one check-in: fewer than the window
    assert (short["window_checkins"] == 1).all() and short["rank"].min() == 1
    path = _write_snap(tmp_path / "stranger.txt", stranger)
    assert cli.main(["predict", str(path), "--workdir", str(workdir), "-k", "2", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith("user,seen_user") and "424242424" in err and "987654321" in err


@pytest.mark.slow
def test_a_damaged_model_file_is_refused(saved, tmp_path, capsys):
    workdir = saved[0]
    shutil.copytree(workdir / ARTIFACT, tmp_path / ARTIFACT)
    shutil.copytree(workdir / "data", tmp_path / "data")
    state = tmp_path / ARTIFACT / "state.npz"
    state.write_bytes(state.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"state\.npz is missing or damaged .*re-run chapter 08"):
        load_predictor(tmp_path)
    _, history = next(_test_windows_as_histories(saved[2]))
    path = _write_snap(tmp_path / "history.txt", history)
    assert "state.npz" in _one_error_line(capsys, ["predict", str(path), "--workdir", str(tmp_path)])
