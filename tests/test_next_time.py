"""The "when" of ``checkin_traj.predict`` (issue 24): chapter 06's saved model of the next check-in's time."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from checkin_traj import cli, predict
from checkin_traj.next_time import ARTIFACT, load_next_time, save_next_time
from checkin_traj.sequences import gap_minutes

from .test_predict import _test_windows_as_histories, _write_snap

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def timed(executed_venues, tmp_path_factory):
    """A copy of chapter 08's run folder with a small LSTM on offsets saved as chapter 05 would, and
    kept for the time as chapter 06 would: ``(workdir, data, the trained run)``."""
    from checkin_traj.pages.lstm import build_lstm, train_seeds
    from checkin_traj.report import load_protocol, save_runs

    workdir = tmp_path_factory.mktemp("timed") / "run"
    shutil.copytree(executed_venues[0], workdir)
    data, _ = load_protocol(workdir)
    runs = train_seeds(lambda: build_lstm(data.window, data.n_features, num_hiddens=8), data, target_mode="offset",
                       seeds=[0], epochs=2, batch_size=256, patience=1, verbose=0)
    save_runs(workdir, "lstm", {"offset": runs}, data, title="LSTM", forms={"book": "offset"})
    save_next_time(workdir, data, model="lstm", run="offset", level=0.8)
    return workdir, data, runs.best


def _histories_with_the_check_in_before(data):
    """Each test window's check-ins and the one before (its first gap is then the chapter's), by batch."""
    part, check_ins = data.test, data.check_ins
    rows = part.target_row[:, None] - np.arange(data.window + 1, 0, -1)[None, :]
    batch = pd.Series(part.user).groupby(part.user).cumcount().to_numpy()
    for number in range(batch.max() + 1):
        windows = np.flatnonzero(batch == number)
        frame = check_ins.iloc[rows[windows].ravel()]
        yield windows, frame[["snap_user", "time", "lat", "lon", "location_id"]].rename(columns={"snap_user": "user"})


def test_the_gap_of_a_new_history_is_the_chapters_prediction(timed):
    workdir, data, trained = timed
    expected = gap_minutes(data.inverse_targets(trained.predict("test"))[:, 0])
    found = np.full(len(expected), np.nan)
    snap_user = data.check_ins["snap_user"].to_numpy()[data.test.target_row]
    timer = load_next_time(workdir)
    for windows, history in _histories_with_the_check_in_before(data):
        found[windows] = timer.predict(history)["gap_minutes"].reindex(snap_user[windows]).to_numpy()
    np.testing.assert_allclose(found, expected, rtol=1e-4)


def test_the_interval_holds_its_level_of_the_validation_waits(timed):
    workdir, data, trained = timed
    meta = load_next_time(workdir).meta
    low, high = meta["residual_quantiles"]
    residual = data.val.y_raw[:, 0] - data.inverse_targets(trained.predict("val"))[:, 0]
    inside = np.mean((residual >= low) & (residual <= high))
    assert low < 0 < high and inside == pytest.approx(0.8, abs=2 / len(residual))
    assert meta["model"] == "lstm" and meta["run"] == "offset" and meta["target_mode"] == "offset"
    assert meta["window"] == data.window and meta["features"] == list(data.feature_names)


def test_predict_gives_each_user_one_expected_time_inside_its_interval(timed, tmp_path, capsys):
    workdir, data, _ = timed
    _, history = next(_histories_with_the_check_in_before(data))
    table = predict(history, workdir=workdir, k=2)
    assert list(table.columns[-4:]) == ["gap_minutes", "expected_at", "expected_from", "expected_until"]
    per_user = table.groupby("user")
    assert (per_user[["gap_minutes", "expected_at"]].nunique() == 1).all().all()
    last = history.groupby("user")["time"].max().reindex(table["user"]).to_numpy()
    gap = (table["expected_at"].to_numpy() - last) / pd.Timedelta(minutes=1)
    np.testing.assert_allclose(gap, table["gap_minutes"], atol=1 / 60)  # rounded to the second
    assert (table["expected_from"] <= table["expected_at"]).all() and (table["expected_at"] <= table["expected_until"]).all()
    assert table.attrs["notes"] == []
    assert cli.main(["predict", str(_write_snap(tmp_path / "h.txt", history)), "--workdir", str(workdir), "--format", "json"]) == 0
    first = json.loads(capsys.readouterr().out)[0]
    assert first["expected_at"].endswith("Z") and first["expected_at"][:2] == "20"  # ISO time, not epoch milliseconds


def test_short_and_late_histories_are_said(timed):
    workdir, data, _ = timed
    _, history = next(_histories_with_the_check_in_before(data))
    one = history[history["user"] == history["user"].iloc[0]]
    table = predict(one.iloc[-2:], workdir=workdir, k=1)  # two check-ins: fewer than the window
    assert table["gap_minutes"].isna().all() and table["expected_at"].isna().all()
    assert any(f"fewer than {data.window} check-ins, no time predicted: {one['user'].iloc[0]}" in note for note in table.attrs["notes"])
    late = one.assign(time=one["time"] + pd.Timedelta(days=3 * 365))
    table = predict(late, workdir=workdir, k=1)
    assert table["gap_minutes"].notna().all()
    assert any("come after the last one of its data" in note for note in table.attrs["notes"])


def test_without_a_time_model_predict_says_so(executed_venues):
    from checkin_traj.report import load_protocol

    _, history = next(_test_windows_as_histories(load_protocol(executed_venues[0])[0]))
    table = predict(history, workdir=executed_venues[0], k=1)
    assert table["expected_at"].isna().all()
    assert any("no time predicted" in note and "re-run chapter 06" in note for note in table.attrs["notes"])


def test_a_damaged_or_foreign_time_model_is_refused(timed, tmp_path, capsys):
    workdir = tmp_path / "run"
    shutil.copytree(timed[0], workdir)
    meta = workdir / ARTIFACT / "next_time.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "version": "0.0.0-other"}))
    with pytest.raises(ValueError, match=r"next_time\.json was saved by checkin-traj 0\.0\.0-other.*re-run chapter 06"):
        load_next_time(workdir)
    shutil.rmtree(workdir / ARTIFACT)
    shutil.copytree(timed[0] / ARTIFACT, workdir / ARTIFACT)
    (workdir / ARTIFACT / "model.keras").write_bytes(b"not a model")
    _, history = next(_histories_with_the_check_in_before(timed[1]))
    status = cli.main(["predict", str(_write_snap(tmp_path / "h.txt", history)), "--workdir", str(workdir)])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "model.keras is missing or damaged" in err and "re-run chapter 06" in err
