"""Chapter 02 (evaluation protocol and baselines), executed with the test profile."""

import numpy as np
import pandas as pd
import pytest

from checkin_traj.baselines import BASELINES, BOOSTED_BASELINES, run_baselines
from checkin_traj.data.provenance import load_clean
from checkin_traj.metrics import errors_km
from checkin_traj.report import load_protocol
from checkin_traj.results import load_results
from checkin_traj.sequences import build_windows, test_windows_hash
from checkin_traj.verdicts import strongest_baseline

from .chapter_workdirs import run_chapter, save_clean_run, synthetic_clean


@pytest.mark.slow
def test_chapter_02_scores_every_baseline_and_names_the_strongest(tmp_path):
    workdir = tmp_path / "run"
    save_clean_run(workdir, synthetic_clean(), source_path="tests/test_chapter_02.py")

    values = run_chapter(workdir, "02_evaluation")

    rmse = {name: values[f"{name}_rmse"] for name in BASELINES}
    assert all(np.isfinite(value) for value in rmse.values())
    assert values["users_kept"] + values["users_dropped"] == values["users_in"] == 40

    # the strongest baselines are chosen on the validation windows (the saved "val" table) by the
    # one rule, and scored on the test windows
    saved = load_results(workdir, "baselines")
    assert list(saved["tables"]["test"].index) == list(saved["tables"]["val"].index) == list(BASELINES)
    val = saved["tables"]["val"]
    assert values["strongest_baseline"] == strongest_baseline(val, metric="rmse") == val["rmse"].idxmin()
    assert values["closest_km_baseline"] == strongest_baseline(val, metric="km_median")
    assert values["strongest_rmse"] == pytest.approx(rmse[values["strongest_baseline"]])
    assert saved["extra"]["strongest"] == values["strongest_baseline"]
    assert saved["extra"]["closest_km"] == values["closest_km_baseline"]
    _, baselines = load_protocol(workdir)  # what the model chapters read: the saved table, the same choice
    assert baselines.strongest("rmse") == values["strongest_baseline"]
    assert baselines.strongest("km_median") == values["closest_km_baseline"]
    assert all(saved["arrays"][name].shape == (values["windows_test"], 3) for name in BASELINES)

    # the saved protocol (test profile: window 5) rebuilds the same windows
    protocol = load_results(workdir, "protocol")["extra"]
    assert protocol["window"] == 5
    again = build_windows(load_clean(workdir), **protocol)
    assert len(again.test) == values["windows_test"]
    recomputed = run_baselines(again, split="val")
    pd.testing.assert_frame_equal(val.drop(columns="fit_seconds"), recomputed.drop(columns="fit_seconds"),
                                  check_dtype=False, check_names=False)
    # persistence predicts the last input's place: the saved predictions match the rebuilt windows
    np.testing.assert_allclose(saved["arrays"]["persistence"][:, 1:], again.test.last[:, 1:], atol=1e-6)

    # the gap target, the boosted-tree peers and the test windows' hash
    assert values["persistence_r2_gap"] < 0.99
    assert values["test_windows_hash"] == protocol_hash(workdir) == test_windows_hash(again)
    # the strongest baseline's share within 1 km, recomputed from its saved predictions
    strongest_km = errors_km(again.test.y_raw, again.inverse_targets(saved["arrays"][values["strongest_baseline"]]))
    assert values["strongest_within_1km_percent"] == pytest.approx(100.0 * np.mean(strongest_km <= 1.0))
    boosted = load_results(workdir, "boosted")
    assert all(boosted["arrays"][name].shape == (values["windows_test"], 3) for name in BOOSTED_BASELINES)
    assert all(values[f"{name}_fit_seconds"] > 0 for name in BOOSTED_BASELINES)


def protocol_hash(workdir):
    return load_results(workdir, "protocol")["metrics"]["test_windows_hash"]
