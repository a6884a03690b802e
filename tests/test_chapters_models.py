"""Chapters 03-05 (LSTM, Seq2Seq, Transformer), executed with the test profile.

The run folder is prepared by hand, as chapters 01 and 02 would leave it: clean check-ins,
the provenance, the windowing protocol and the baselines' results.
"""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from checkin_traj import build
from checkin_traj.baselines import run_baselines
from checkin_traj.provenance import save_clean, write_provenance
from checkin_traj.results import load_results, save_results
from checkin_traj.sequences import build_windows

from .conftest import REPO_ROOT
from .notebook_outputs import error_outputs, glued

pytestmark = pytest.mark.slow


def _clean_check_ins(*, users=30, seed=0):
    """Users hopping between three favourite places in New York, one check-in every few hours."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(20, 40, size=users)
    user = np.repeat(np.arange(users), counts)
    favourites = rng.uniform([40.60, -74.05], [40.85, -73.80], size=(users, 3, 2))
    favourite = rng.integers(0, 3, size=len(user))
    places = favourites[user, favourite] + rng.normal(0, 0.0005, size=(len(user), 2))
    gaps_hours = rng.exponential(6.0, size=len(user))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    elapsed = gaps_hours.cumsum() - np.repeat(gaps_hours.cumsum()[starts], counts)
    return pd.DataFrame(
        {
            "user": user.astype(np.int64),
            "snap_user": (user + 500).astype(np.int64),
            "time": pd.Timestamp("2010-03-01", tz="UTC") + pd.to_timedelta(elapsed, unit="h"),
            "lat": places[:, 0],
            "lon": places[:, 1],
            "location_id": (user * 10 + favourite).astype(np.int64),
        }
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("models")
    clean = _clean_check_ins()
    save_clean(workdir, clean)
    source = SimpleNamespace(
        path="tests/test_chapters_models.py", kind="synthetic", synthetic=True, description="30 synthetic users (test)"
    )
    write_provenance(workdir, source=source, parameters={})
    data = build_windows(clean, window=4)
    save_results(workdir, "protocol", metrics=data.report, extra=data.protocol())
    table, predictions = run_baselines(data, return_predictions=True)
    save_results(
        workdir,
        "baselines",
        tables={"test": table},
        arrays=predictions,
        extra={"strongest": str(table["rmse"].idxmin())},
    )
    return workdir


def _run(workdir, chapter):
    result = build.run("test", chapters=[chapter], book=False, workdir=workdir, root=REPO_ROOT)
    notebook = result.notebooks[chapter]
    assert error_outputs(notebook) == []
    return glued(notebook)


def _check_saved(workdir, name, runs, n_test):
    saved = load_results(workdir, name)
    assert saved["extra"]["runs"] == runs
    assert list(saved["tables"]["summary"].index) == runs
    assert set(saved["tables"]["seeds"]["seed"]) == {0, 1}  # the test profile's seeds
    for label in runs:
        assert saved["arrays"][label].shape == (n_test, 3)
        assert saved["arrays"][f"{label}_seed_mean"].shape == (n_test, 3)
        assert set(saved["extra"]["histories"][label]) == {"0", "1"}
    return saved


@pytest.mark.parametrize(
    "chapter, name, prefix",
    [("03_lstm", "lstm", "lstm"), ("04_seq2seq_attention", "seq2seq", "seq2seq")],
)
def test_recurrent_chapters_train_both_target_modes_and_save_them(workdir, chapter, name, prefix):
    values = _run(workdir, chapter)
    n_test = load_results(workdir, "protocol")["metrics"]["windows_test"]
    saved = _check_saved(workdir, name, ["absolute", "offset"], n_test)
    for mode in ("absolute", "offset"):
        rmse = values[f"{prefix}_{mode}_rmse_mean"]
        assert np.isfinite(rmse) and rmse > 0
        assert rmse == pytest.approx(saved["metrics"][f"{mode}_rmse_mean"])
        assert values[f"{prefix}_{mode}_rmse_std"] >= 0
    assert values[f"{prefix}_strongest_baseline"] == load_results(workdir, "baselines")["extra"]["strongest"]
    assert 1 <= values[f"{prefix}_epochs_mean"] <= 2  # the test profile's EPOCHS


def test_transformer_chapter_trains_with_and_without_positions(workdir):
    values = _run(workdir, "05_transformer")
    n_test = load_results(workdir, "protocol")["metrics"]["windows_test"]
    runs = ["positions_absolute", "positions_offset", "no_positions_absolute", "no_positions_offset"]
    saved = _check_saved(workdir, "transformer", runs, n_test)
    for label in runs:
        assert np.isfinite(values[f"transformer_{label}_rmse_mean"])
    hyperparameters = saved["extra"]["hyperparameters"]
    assert [hyperparameters[label]["positional_encoding"] for label in runs] == [True, True, False, False]
    assert hyperparameters["positions_offset"]["num_blocks"] == 1  # the test profile's NUM_BLOCKS
    assert values["transformer_explanation_holds"] in (True, False)
    assert set(values["transformer_positions_lower_modes"]) <= {"absolute", "offset"}
