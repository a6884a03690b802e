"""Chapter 07 (hyperparameter tuning), executed with the test profile.

The run folder is prepared by hand, as chapters 01 and 02 would leave it: clean check-ins,
the provenance, the windowing protocol and the baselines' results.
"""

import re
from types import SimpleNamespace

import numpy as np
import optuna
import pandas as pd
import pytest
import yaml

from checkin_traj import build
from checkin_traj.baselines import run_baselines
from checkin_traj.provenance import save_clean, write_provenance
from checkin_traj.results import load_results, save_results
from checkin_traj.sequences import build_windows
from checkin_traj.tuning import default_storage, grid_configurations

from .conftest import REPO_ROOT
from .notebook_outputs import error_outputs, glued

pytestmark = pytest.mark.slow


def clean_check_ins(*, users=30, seed=0):
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


def test_chapter_07_tunes_on_validation_scores_the_choice_on_test_and_stores_the_study(tmp_path):
    workdir = tmp_path / "run"
    clean = clean_check_ins()
    save_clean(workdir, clean)
    source = SimpleNamespace(
        path="tests/test_chapter_07.py", kind="synthetic", synthetic=True, description="30 synthetic users (test)"
    )
    write_provenance(workdir, source=source, parameters={})
    data = build_windows(clean, window=4)
    save_results(workdir, "protocol", metrics=data.report, extra=data.protocol())
    table, predictions = run_baselines(data, return_predictions=True)
    save_results(workdir, "baselines", tables={"test": table}, arrays=predictions)

    result = build.run("test", chapters=["07_tuning"], book=False, workdir=workdir, root=REPO_ROOT)
    notebook = result.notebooks["07_tuning"]
    assert error_outputs(notebook) == []
    values = glued(notebook)
    cited = set(re.findall(r"\{glue:(?:text|md)\}`([a-z0-9_]+)", (REPO_ROOT / "notebooks" / "07_tuning.md").read_text()))
    assert cited and cited <= set(values), f"cited but never glued: {sorted(cited - set(values))}"

    test_profile = yaml.safe_load((REPO_ROOT / "notebooks" / "parameters.yml").read_text())["07_tuning"]["test"]
    n_configs = len(grid_configurations(test_profile["GRID"]))
    assert values["tuning_n_configs"] == n_configs == 2
    assert values["tuning_n_tpe_trials"] == test_profile["N_TPE_TRIALS"]
    assert values["tuning_n_seeds"] == len(test_profile["SEEDS"])
    assert np.isfinite(values["tuning_test_rmse_mean"]) and values["tuning_test_rmse_mean"] > 0
    assert values["tuning_test_rmse_std"] >= 0
    assert values["tuning_baseline_rmse"] == pytest.approx(table["rmse"].min())
    assert values["tuning_article_reported_rmse"] == pytest.approx(0.071)
    assert values["tuning_seconds_per_trial"] > 0

    # the trials live in the default SQLite storage, one completed trial per configuration
    storage = default_storage(workdir)
    grid_study = optuna.load_study(study_name="seq2seq-grid", storage=storage)
    complete = [trial for trial in grid_study.trials if trial.state.name == "COMPLETE"]
    assert len(complete) == n_configs
    assert values["tuning_grid_best_val_rmse"] == pytest.approx(min(trial.value for trial in complete))

    saved = load_results(workdir, "tuning")
    chosen = saved["extra"]["chosen"]
    if saved["extra"]["chosen_from"] == "grid":
        assert chosen in grid_configurations(test_profile["GRID"])
    assert len(saved["tables"]["grid_trials"]) == n_configs
    assert saved["arrays"]["chosen_seed_0"].shape == (len(data.test), 3)
    assert "secret" not in saved["extra"]["storage"]
