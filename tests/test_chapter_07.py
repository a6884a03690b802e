"""Chapter 07 (hyperparameter tuning), executed with the test profile, after two ``checkin-traj tune`` workers.

The run folder is prepared by hand, as chapters 01 and 02 would leave it: clean check-ins,
the provenance, the windowing protocol and the baselines' results. Two worker processes
(``checkin-traj tune --workers 2``) then fill the chapter's studies in the default journal
file, and the chapter, run last, must find them complete and train no trial again.
"""

import numpy as np
import pytest
import yaml

from checkin_traj.baselines import run_baselines
from checkin_traj.cli import main
from checkin_traj.results import load_results
from checkin_traj.tuning import default_storage, grid_configurations, load_study, storage_kind, study_settings

from .chapter_workdirs import assert_citations_glued, hopping_clean, prepare_workdir, run_chapter
from .conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def test_chapter_07_tunes_on_validation_scores_the_choice_on_test_and_stores_the_study(tmp_path):
    workdir = tmp_path / "run"
    data, table = prepare_workdir(workdir, hopping_clean(), source_path="tests/test_chapter_07.py")

    assert main(["tune", "--workdir", str(workdir), "--profile", "test", "--workers", "2"]) == 0
    stored = {name: load_study(default_storage(workdir), name).trials for name in ("seq2seq-grid", "seq2seq-tpe")}

    values = run_chapter(workdir, "07_tuning")
    assert_citations_glued(values, "07_tuning")

    test_profile = yaml.safe_load((REPO_ROOT / "notebooks" / "parameters.yml").read_text())["07_tuning"]["test"]
    n_configs = len(grid_configurations(test_profile["GRID"]))
    assert values["tuning_n_configs"] == n_configs == 2
    assert values["tuning_n_tpe_trials"] == test_profile["N_TPE_TRIALS"]
    assert values["tuning_n_seeds"] == len(test_profile["SEEDS"])
    # the strongest baseline is chosen on the validation windows (as in chapters 03-06), and shown with its test RMSE
    strongest = run_baselines(data, split="val")["rmse"].idxmin()
    assert values["tuning_strongest_baseline"] == strongest
    assert values["tuning_baseline_rmse"] == pytest.approx(table.loc[strongest, "rmse"])
    assert values["tuning_article_reported_rmse"] == pytest.approx(0.071)
    assert values["tuning_seconds_per_trial"] > 0
    # the article's form is tuned: its best configuration's "three LSTM layers", counted in the model
    assert values["tuning_article_best_lstm_layers"] == 3
    assert values["tuning_article_features"] == "time, lon, lat"
    # the workers and the chapter tuned on the article's three features (the studies' fingerprint of the windows)
    assert {study_settings(load_study(default_storage(workdir), name))["data"]["n_features"] for name in stored} == {3}

    # the trials live in the default storage, a journal file, one completed trial per configuration
    storage = default_storage(workdir)
    assert storage_kind(storage) == "journal" and (workdir / "results" / "tuning.journal").exists()
    grid_study = load_study(storage, "seq2seq-grid")
    complete = [trial for trial in grid_study.trials if trial.state.name == "COMPLETE"]
    assert len(complete) == n_configs
    assert values["tuning_grid_best_val_rmse"] == pytest.approx(min(trial.value for trial in complete))
    # the chapter trained no trial: its studies are the workers', unchanged
    for name, trials in stored.items():
        assert [(t.number, t.state, t.value) for t in load_study(storage, name).trials] == [(t.number, t.state, t.value) for t in trials]
    tpe_complete = [trial for trial in stored["seq2seq-tpe"] if trial.state.name == "COMPLETE"]
    assert len(tpe_complete) == test_profile["N_TPE_TRIALS"]  # two workers, no overshoot

    saved = load_results(workdir, "tuning")
    chosen = saved["extra"]["chosen"]
    if saved["extra"]["chosen_from"] == "grid":
        assert chosen in grid_configurations(test_profile["GRID"])
    assert all(trial.params["num_layers"] >= 2 for trial in grid_study.trials if trial.params)
    assert len(saved["tables"]["grid_trials"]) == n_configs
    assert saved["arrays"]["chosen_seed_0"].shape == (len(data.test), 3)
    # the chosen configuration's test RMSE over seeds, recomputed from each seed's saved predictions
    y_test = np.asarray(data.test.y, dtype=np.float64)
    seed_rmse = [
        np.sqrt(np.mean((np.asarray(saved["arrays"][f"chosen_seed_{seed}"], dtype=np.float64) - y_test) ** 2))
        for seed in test_profile["SEEDS"]
    ]
    assert values["tuning_test_rmse_mean"] == pytest.approx(np.mean(seed_rmse), rel=1e-6)
    assert values["tuning_test_rmse_std"] == pytest.approx(np.std(seed_rmse, ddof=1), rel=1e-6, abs=1e-9)
    assert "secret" not in saved["extra"]["storage"]
    assert saved["extra"]["strongest_baseline"] == strongest
