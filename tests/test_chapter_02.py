"""Chapter 02 (evaluation protocol and baselines), executed with the test profile."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from checkin_traj import build
from checkin_traj.baselines import BASELINES
from checkin_traj.provenance import load_clean, save_clean, write_provenance
from checkin_traj.results import load_results
from checkin_traj.sequences import build_windows

from .conftest import REPO_ROOT
from .notebook_outputs import error_outputs, glued


def synthetic_clean(*, users=40, seed=0):
    """Clean check-ins of users who move between four favourite places in New York."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(12, 60, size=users)
    user = np.repeat(np.arange(users), counts)
    home = rng.uniform([40.60, -74.05], [40.85, -73.80], size=(users, 4, 2))  # (lat, lon) per favourite
    favourite = rng.integers(0, 4, size=len(user))
    places = home[user, favourite] + rng.normal(0, 0.0005, size=(len(user), 2))
    gaps = pd.to_timedelta(rng.exponential(6.0, size=len(user)), unit="h")
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    offsets = gaps.to_numpy().cumsum() - np.repeat(gaps.to_numpy().cumsum()[starts], counts)
    return pd.DataFrame(
        {
            "user": user.astype(np.int64),
            "snap_user": (user + 10_000).astype(np.int64),
            "time": pd.Timestamp("2010-03-01", tz="UTC") + pd.to_timedelta(offsets),
            "lat": places[:, 0],
            "lon": places[:, 1],
            "location_id": (user * 10 + favourite).astype(np.int64),
        }
    )


@pytest.mark.slow
def test_chapter_02_scores_every_baseline_and_names_the_strongest(tmp_path):
    workdir = tmp_path / "run"
    clean = synthetic_clean()
    save_clean(workdir, clean)
    source = SimpleNamespace(
        path="tests/test_chapter_02.py", kind="synthetic", synthetic=True, description="40 synthetic users (test)"
    )
    write_provenance(workdir, source=source, parameters={})

    result = build.run("test", chapters=["02_evaluation"], book=False, workdir=workdir, root=REPO_ROOT)
    notebook = result.notebooks["02_evaluation"]
    assert error_outputs(notebook) == []
    values = glued(notebook)

    rmse = {name: values[f"{name}_rmse"] for name in BASELINES}
    assert all(np.isfinite(value) for value in rmse.values())
    assert values["strongest_baseline"] == min(rmse, key=rmse.get)
    assert values["strongest_rmse"] == pytest.approx(min(rmse.values()))
    assert 0.0 <= values["strongest_within_1km_percent"] <= 100.0
    assert values["users_kept"] + values["users_dropped"] == values["users_in"] == 40

    saved = load_results(workdir, "baselines")
    assert list(saved["tables"]["test"].index) == list(BASELINES)
    assert saved["extra"]["strongest"] == values["strongest_baseline"]
    assert all(saved["arrays"][name].shape == (values["windows_test"], 3) for name in BASELINES)

    # the saved protocol (test profile: window 5) rebuilds the same windows
    protocol = load_results(workdir, "protocol")["extra"]
    assert protocol["window"] == 5
    again = build_windows(load_clean(workdir), **protocol)
    assert len(again.test) == values["windows_test"]
    # persistence predicts the last input's place: the saved predictions match the rebuilt windows
    np.testing.assert_allclose(saved["arrays"]["persistence"][:, 1:], again.test.last[:, 1:], atol=1e-6)
