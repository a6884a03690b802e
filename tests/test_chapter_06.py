"""Chapter 06 (comparison), executed with the test profile.

The run folder is prepared as chapters 01-05 would leave it, quickly: hand-made clean
check-ins, the protocol and the baselines of chapter 02, and for each model chapter its runs
trained for one epoch with tiny networks and saved with ``results_payload``, under the run
labels those chapters use.
"""

import numpy as np
import pytest

from checkin_traj.comparison import Judge, comparison_table
from checkin_traj.metrics import ARTICLE_SCORES
from checkin_traj.data.provenance import load_clean
from checkin_traj.results import baseline_scores, load_results, save_results
from checkin_traj.sequences import build_windows, test_windows_hash
from checkin_traj.verdicts import strongest_baseline

from .chapter_workdirs import assert_citations_glued, prepare_workdir, run_chapter, synthetic_clean

pytestmark = pytest.mark.slow

SEEDS = (0, 1)
#: Run label -> (model, tiny hyperparameters, target mode), as chapters 03-05 name them.
RUNS = {
    "lstm": {
        mode: ({"num_hiddens": 4}, mode) for mode in ("absolute", "offset")
    },
    "seq2seq": {
        mode: ({"num_hiddens": 4, "num_layers": 1}, mode) for mode in ("absolute", "offset")
    },
    "transformer": {
        f"{variant}_{mode}": ({"num_heads": 1, "key_dim": 2, "ff_dim": 4, "num_blocks": 1, "positional_encoding": positions}, mode)
        for variant, positions in (("positions", True), ("no_positions", False))
        for mode in ("absolute", "offset")
    },
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    from checkin_traj.training import results_payload, run_seeds

    workdir = tmp_path_factory.mktemp("comparison")
    data, _ = prepare_workdir(workdir, synthetic_clean(users=30), source_path="tests/test_chapter_06.py")
    for model, runs in RUNS.items():
        seed_runs = {
            label: run_seeds(
                model, data, seeds=SEEDS, hyperparameters=hyperparameters, target_mode=mode, epochs=1, batch_size=64, patience=1
            )
            for label, (hyperparameters, mode) in runs.items()
        }
        hyperparameters = {label: hyperparameters for label, (hyperparameters, _) in runs.items()}
        payload = results_payload(seed_runs, hyperparameters=hyperparameters, training={"epochs": 1})
        payload["extra"]["test_windows_hash"] = test_windows_hash(data)  # as ModelChapter.save records it
        save_results(workdir, model, **payload)
    return workdir


def test_chapter_06_compares_every_run_and_tests_the_claims(workdir):
    values = run_chapter(workdir, "06_comparison")
    assert_citations_glued(values, "06_comparison")

    baselines = load_results(workdir, "baselines")["tables"]["test"]
    assert values["comparison_test_windows"] == int(baselines["windows"].iloc[0])
    assert values["comparison_n_runs"] == sum(len(runs) for runs in RUNS.values()) == 8
    # the strongest baseline and the best run are chosen on the validation windows
    data = build_windows(load_clean(workdir), **load_results(workdir, "protocol")["extra"])
    strongest = strongest_baseline(baseline_scores(workdir, data, split="val"))
    assert values["comparison_strongest_baseline"] == strongest
    assert values["comparison_strongest_rmse"] == pytest.approx(float(baselines.loc[strongest, "rmse"]))
    by_val = {
        (model, run): load_results(workdir, model)["tables"]["summary"].loc[run, ["val_rmse_mean", "rmse_mean"]]
        for model, runs in RUNS.items()
        for run in runs
    }
    best = min(by_val, key=lambda key: by_val[key]["val_rmse_mean"])
    assert values["comparison_best_rmse_mean"] == pytest.approx(by_val[best]["rmse_mean"])
    # the verdict glued for the best run is the one rule's outcome on its saved predictions
    table = comparison_table(workdir)
    judge = Judge(workdir, data, table)
    assert values["comparison_best_rmse_verdict"] == judge.verdict(values["comparison_best_model"], strongest).outcome
    assert values["comparison_runs_beating_both"] <= values["comparison_runs_beating_rmse"]

    # every claim is testable with all three chapters' runs; the count matches the list
    assert values["comparison_claims_tested"] == values["comparison_claims_total"] == 8
    assert values["comparison_claims_holding"] == len(values["comparison_claims_holding_ids"])
    assert values["comparison_article_tuned_rmse"] == pytest.approx(ARTICLE_SCORES["tuned Seq2Seq"]["rmse"])
