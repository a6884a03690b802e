"""Chapters 03-05 (LSTM, Seq2Seq, Transformer), executed with the test profile.

The run folder is prepared by hand, as chapters 01 and 02 would leave it: clean check-ins,
the provenance, the windowing protocol and the baselines' results.
"""

import re

import numpy as np
import pytest

from checkin_traj.results import baseline_scores, load_results
from checkin_traj.verdicts import strongest_baseline

from .chapter_workdirs import (
    assert_citations_glued,
    executed_notebook,
    hopping_clean,
    outcome_by_the_rule,
    prepare_workdir,
    run_chapter,
)
from .notebook_outputs import glued

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("models")
    prepare_workdir(workdir, hopping_clean(), source_path="tests/test_chapters_models.py")
    return workdir


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


def _check_one_table(workdir, chapter, values, prefix, saved):
    """The chapter's counts of runs ended by the cap, its forms verdict and its one table."""
    seeds = saved["tables"]["seeds"]
    assert values[f"{prefix}_runs_total"] == len(seeds)
    assert values[f"{prefix}_runs_at_cap"] == int(seeds["hit_epoch_cap"].sum())
    assert values[f"{prefix}_runs_at_cap"] + values[f"{prefix}_runs_stopped_early"] == len(seeds)
    assert values[f"{prefix}_epochs_cap"] == 2  # the test profile's EPOCHS
    # the forms verdict (article's form against the book's, RMSE) is the rule's on the interval its sentence gives
    sentence = glued(executed_notebook(workdir, chapter), mime="text/markdown")[f"{prefix}_forms_md"]
    low, high = map(float, re.search(r"interval over users \[([^,\]]+), ([^\]]+)\]", sentence).groups())
    assert values[f"{prefix}_forms_outcome"] == outcome_by_the_rule("rmse", low, high)
    assert saved["extra"]["test_windows_hash"] == load_results(workdir, "protocol")["metrics"]["test_windows_hash"]
    # which run is which form, and each run's best network, saved beside the results
    assert set(saved["extra"]["forms"]) == {"article", "book"}
    for run, model_file in saved["extra"]["models"].items():
        assert (workdir / "results" / model_file).exists(), run


def test_the_one_table_holds_forms_baseline_peer_and_intervals(workdir):
    """The calls every model chapter makes, on one quick run per form: judge, compare_runs, results_frame."""
    from functools import partial

    from checkin_traj.pages.lstm import build_lstm, build_lstm_model, train_seeds
    from checkin_traj.report import compare_runs, judge, load_protocol, results_frame
    from checkin_traj.sequences import ARTICLE_FEATURES

    data, baselines = load_protocol(workdir)
    training = dict(seeds=[0, 1], epochs=1, batch_size=64, patience=1, verbose=0)
    runs = {
        "absolute": train_seeds(partial(build_lstm_model, input_feat=3, hidden_neuron=4),
                                data.with_features(ARTICLE_FEATURES), target_mode="absolute", **training),
        "offset": train_seeds(partial(build_lstm, data.window, data.n_features, num_hiddens=4), data,
                              target_mode="offset", **training),
    }
    verdicts = judge(runs, data, baselines, title="LSTM", n_boot=50)
    forms = compare_runs(runs, "absolute", "offset", data, title="LSTM", n_boot=50)
    table = results_frame(runs, baselines, verdicts, title="LSTM", forms=forms)
    # each verdict's bar is the baseline strongest on validation by that verdict's metric
    val = baseline_scores(workdir, data, split="val")
    bar, km_bar = strongest_baseline(val), strongest_baseline(val, metric="km_median")
    assert baselines.strongest("rmse") == bar and baselines.strongest("km_median") == km_bar
    assert list(table.columns) == [
        "LSTM (absolute)",
        "LSTM (offset)",
        *dict.fromkeys([f"baseline: {bar}", f"baseline: {km_bar}"]),
        "boosted trees (squared error)",
    ]
    assert verdicts["km_median"]["offset"].reference == km_bar
    rows = list(table.index)
    assert rows[:2] == ["RMSE, pooled (article's form)", "R², pooled (article's form)"]
    for label in ("R², gap", "R², longitude", "R², latitude", "R², place (longitude and latitude)",
                  "median error (km), pooled", "median error (km), per user"):
        assert label in rows
    assert not any("`" in row for row in rows)  # no literal backticks in row labels
    assert not table.isna().any().any()  # empty cells are empty strings, never NaN
    rmse = runs["offset"].metrics["rmse"]
    assert table.loc[rows[0], "LSTM (offset)"] == f"{rmse.mean():.3f} ± {rmse.std(ddof=1):.3f}"
    versus = f"against {bar}: verdict, difference in MSE [95 % interval]"
    assert table.loc[versus, "LSTM (offset)"].startswith(verdicts["rmse"]["offset"].outcome + ":")
    forms_row = "against the book's form: verdict, difference in MSE [95 % interval]"
    assert table.loc[forms_row, "LSTM (absolute)"].startswith(forms.outcome + ":")
    assert table.loc[forms_row, "LSTM (offset)"] == ""
    assert table.loc["runs ended by the epoch cap", "LSTM (offset)"] == "2 of 2"  # one epoch: the cap ends both
    with pytest.raises(ValueError, match="no run 'absolut'"):
        compare_runs(runs, "absolut", "offset", data, title="LSTM")


@pytest.mark.parametrize(
    "chapter, name, prefix",
    [("03_lstm", "lstm", "lstm"), ("04_seq2seq_attention", "seq2seq", "seq2seq")],
)
def test_recurrent_chapters_train_both_target_modes_and_save_them(workdir, chapter, name, prefix):
    saved_name = {"lstm": "LSTM", "seq2seq": "Seq2Seq"}[name]
    values = run_chapter(workdir, chapter)
    assert_citations_glued(values, chapter)
    n_test = load_results(workdir, "protocol")["metrics"]["windows_test"]
    saved = _check_saved(workdir, name, ["absolute", "offset"], n_test)
    for mode in ("absolute", "offset"):
        rmse = values[f"{prefix}_{mode}_rmse_mean"]
        assert np.isfinite(rmse) and rmse > 0
        assert rmse == pytest.approx(saved["metrics"][f"{mode}_rmse_mean"])
        assert values[f"{prefix}_{mode}_rmse_std"] == pytest.approx(saved["metrics"][f"{mode}_rmse_std"])
        for seed in (0, 1):
            assert saved["arrays"][f"{mode}_seed{seed}"].shape == (n_test, 3)
    # the strongest baseline is chosen on the validation windows, never on the test windows
    from checkin_traj.report import load_protocol

    assert values[f"{prefix}_strongest_baseline"] == strongest_baseline(
        baseline_scores(workdir, load_protocol(workdir)[0], split="val")
    )
    outcomes = values[f"{prefix}_verdict_outcomes"]
    assert set(outcomes) == {f"{saved_name} ({mode})" for mode in ("absolute", "offset")}
    assert saved["extra"]["verdicts"]["rmse"]["absolute"]["outcome"] == outcomes[f"{saved_name} (absolute)"]
    assert 1 <= values[f"{prefix}_epochs_mean"] <= 2  # the test profile's EPOCHS
    _check_one_table(workdir, chapter, values, prefix, saved)


def test_transformer_chapter_trains_with_and_without_positions(workdir):
    values = run_chapter(workdir, "05_transformer")
    assert_citations_glued(values, "05_transformer")
    n_test = load_results(workdir, "protocol")["metrics"]["windows_test"]
    runs = ["positions_absolute", "positions_offset", "no_positions_absolute", "no_positions_offset"]
    saved = _check_saved(workdir, "transformer", runs, n_test)
    for label in runs:
        assert np.isfinite(values[f"transformer_{label}_rmse_mean"])
    hyperparameters = saved["extra"]["hyperparameters"]
    assert [hyperparameters[label]["positional_encoding"] for label in runs] == [True, True, False, False]
    assert hyperparameters["positions_offset"]["num_blocks"] == 1  # the test profile's NUM_BLOCKS
    # the explanation holds only if positions beat no positions in the article's (absolute) form
    holds = values["transformer_explanation_holds"]
    if "absolute" not in values["transformer_positions_lower_modes"]:
        assert holds is False
