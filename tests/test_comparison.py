"""The comparison table, the article's claims and the comparison figures, on hand-made results."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from checkin_traj.comparison import (
    FAILS,
    HOLDS,
    METRICS,
    NOT_TESTED,
    WITHIN_SPREAD,
    article_claims,
    best_runs,
    compare,
    comparison_table,
    formatted,
    loss_histories,
    predictions_for,
    run_label,
    versus_baselines,
)
from checkin_traj.metrics import ARTICLE_SCORES
from checkin_traj.plots.comparison import loss_comparison, metric_bars, place_map, time_scatter
from checkin_traj.results import save_results
from checkin_traj.sequences import build_windows

from .chapter_workdirs import synthetic_clean

N_TEST = 4  # test windows of the hand-made results


def _metrics(**given):
    """Every metric, 0.5 unless given."""
    return {metric: given.get(metric, 0.5) for metric in METRICS}


def _save_baselines(workdir, *, windows=N_TEST):
    table = pd.DataFrame.from_dict(
        {
            "persistence": {**_metrics(rmse=0.080, r2=0.50, km_median=1.0), "windows": windows},
            "global_mean": {**_metrics(rmse=0.100, r2=0.00, km_median=3.0), "windows": windows},
            "markov_next": {**_metrics(rmse=0.090, r2=0.40, km_median=0.8), "windows": windows},
        },
        orient="index",
    )
    arrays = {name: np.full((windows, 3), value) for name, value in zip(table.index, (0.1, 0.2, 0.3))}
    save_results(workdir, "baselines", tables={"test": table}, arrays=arrays, extra={"strongest": "persistence"})


def _save_model(workdir, name, runs, *, windows=N_TEST, modes=None):
    """runs: label -> {metric: (mean, std)}; unlisted metrics are 0.5 ± 0.01."""
    rows = {}
    for label, given in runs.items():
        row = {"n_seeds": 2, "windows_mean": float(windows), "windows_std": 0.0}
        for metric in METRICS:
            mean, std = given.get(metric, (0.5, 0.01))
            row[f"{metric}_mean"], row[f"{metric}_std"] = mean, std
        rows[label] = row
    summary = pd.DataFrame.from_dict(rows, orient="index").rename_axis("run")
    histories = {
        label: {"0": {"loss": [3.0, 2.0], "val_loss": [3.5, 2.5]}, "1": {"loss": [1.0, 0.5, 0.4], "val_loss": [1.2, 0.9, 1.0]}}
        for label in runs
    }
    arrays = {label: np.full((windows, 3), number / 10) for number, label in enumerate(runs)}
    save_results(
        workdir,
        name,
        tables={"summary": summary},
        arrays=arrays,
        extra={
            "runs": list(runs),
            "best_seed": {label: 1 for label in runs},
            "histories": histories,
            "target_mode": modes or {label: "offset" if label.endswith("offset") else "absolute" for label in runs},
        },
    )


@pytest.fixture
def workdir(tmp_path):
    """Seq2Seq clearly beats LSTM; LSTM and Transformer are within the seeds' spread; the
    Transformer's R² is positive; LSTM offset wins on RMSE but loses on median km."""
    _save_baselines(tmp_path)
    _save_model(
        tmp_path,
        "lstm",
        {"absolute": {"rmse": (0.100, 0.002), "r2": (0.30, 0.01)}, "offset": {"rmse": (0.070, 0.001), "km_median": (1.8, 0.1)}},
    )
    _save_model(tmp_path, "seq2seq", {"absolute": {"rmse": (0.085, 0.002), "r2": (0.45, 0.01)}})
    _save_model(
        tmp_path,
        "transformer",
        {
            "positions_absolute": {"rmse": (0.090, 0.001)},
            "no_positions_absolute": {"rmse": (0.101, 0.002), "r2": (0.29, 0.02)},
        },
    )
    return tmp_path


# --------------------------------------------------------------------------- the table


def test_table_has_one_row_per_run_and_baseline_models_first(workdir):
    table = comparison_table(workdir)
    assert list(table.index) == [
        "LSTM (absolute)",
        "LSTM (offset)",
        "Seq2Seq (absolute)",
        "Transformer (positions, absolute)",
        "Transformer (no positions, absolute)",
        "persistence",
        "global_mean",
        "markov_next",
    ]
    assert list(table["kind"]) == ["model"] * 5 + ["baseline"] * 3
    assert all(f"{metric}_mean" in table and f"{metric}_std" in table for metric in METRICS)
    assert table.loc["LSTM (offset)", "rmse_mean"] == pytest.approx(0.070)
    assert table.loc["LSTM (offset)", "rmse_std"] == pytest.approx(0.001)
    assert table.loc["markov_next", "km_median_mean"] == pytest.approx(0.8)
    assert table.loc[table["kind"] == "baseline", "rmse_std"].isna().all()  # deterministic: no spread
    assert set(table["windows"]) == {N_TEST}
    assert list(table.loc[table["kind"] == "model", "n_seeds"]) == [2] * 5


def test_article_scores_stand_beside_the_runs_of_the_articles_form_only(workdir):
    table = comparison_table(workdir)
    with_article = table[table["article_model"] != ""]
    assert dict(with_article["article_model"]) == {
        "LSTM (absolute)": "LSTM",
        "Seq2Seq (absolute)": "Seq2Seq",
        "Transformer (no positions, absolute)": "Transformer",
    }
    assert table.loc["Seq2Seq (absolute)", "article_rmse"] == ARTICLE_SCORES["Seq2Seq"]["rmse"]
    assert table.loc["Transformer (no positions, absolute)", "article_r2"] == ARTICLE_SCORES["Transformer"]["r2"]
    assert table.loc[table["article_model"] == "", "article_rmse"].isna().all()


def test_table_reads_only_the_models_asked_for(workdir):
    table = comparison_table(workdir, models=["seq2seq"])
    assert list(table.loc[table["kind"] == "model"].index) == ["Seq2Seq (absolute)"]


def test_table_rejects_results_scored_on_other_windows(workdir):
    _save_model(workdir, "seq2seq", {"absolute": {}}, windows=N_TEST + 1)
    with pytest.raises(ValueError, match="different numbers of test windows"):
        comparison_table(workdir)


def test_table_names_a_missing_result_and_a_missing_metric(workdir):
    with pytest.raises(FileNotFoundError, match="'gru'"):
        comparison_table(workdir, models=["lstm", "gru"])
    save_results(workdir, "lstm", tables={"summary": pd.DataFrame({"rmse_mean": [0.1]}, index=["absolute"])}, extra={"runs": ["absolute"]})
    with pytest.raises(ValueError, match="summary table of 'lstm'.*r2_mean"):
        comparison_table(workdir)


@pytest.mark.parametrize("models", ["lstm", [], ["lstm", "lstm"]])
def test_table_rejects_bad_models(workdir, models):
    with pytest.raises(ValueError, match="models"):
        comparison_table(workdir, models=models)


def test_run_labels_read_as_words():
    assert run_label("lstm", "offset") == "LSTM (offset)"
    assert run_label("transformer", "no_positions_offset") == "Transformer (no positions, offset)"
    assert run_label("transformer", "positions_absolute") == "Transformer (positions, absolute)"


def test_formatted_shows_spread_for_models_only(workdir):
    text = formatted(comparison_table(workdir), metrics=["rmse"], digits=2)
    assert text.loc["LSTM (absolute)", "rmse"] == "0.10 ± 0.00"
    assert text.loc["persistence", "rmse"] == "0.08"
    with pytest.raises(ValueError, match="metrics"):
        formatted(comparison_table(workdir), metrics=["accuracy"])


# --------------------------------------------------------------------------- who wins


def _row(metric, mean, std):
    return pd.Series({f"{metric}_mean": mean, f"{metric}_std": std})


@pytest.mark.parametrize(
    "better, worse, expected",
    [
        ((0.08, 0.001), (0.10, 0.001), HOLDS),  # lower by 0.02, spread 0.002
        ((0.10, 0.001), (0.08, 0.001), FAILS),
        ((0.099, 0.001), (0.100, 0.001), WITHIN_SPREAD),  # lower by 0.001, spread 0.002
        ((0.099, np.nan), (0.100, np.nan), HOLDS),  # no spread: any difference counts
    ],
)
def test_compare_lower_is_better_beyond_the_spread(better, worse, expected):
    assert compare(_row("rmse", *better), _row("rmse", *worse), metric="rmse") == expected


def test_compare_higher_is_better_for_r2():
    assert compare(_row("r2", 0.4, 0.01), _row("r2", 0.2, 0.01), metric="r2") == HOLDS
    assert compare(_row("r2", 0.2, 0.01), _row("r2", 0.4, 0.01), metric="r2") == FAILS
    with pytest.raises(ValueError, match="metric"):
        compare(_row("r2", 0.2, 0.01), _row("r2", 0.4, 0.01), metric="accuracy")


def test_a_run_can_win_on_rmse_and_lose_on_kilometres(workdir):
    versus = versus_baselines(comparison_table(workdir))
    offset = versus.loc["LSTM (offset)"]
    assert offset["rmse_baseline"] == "persistence" and offset["rmse_verdict"] == "beats"
    assert offset["km_median_baseline"] == "markov_next"  # the best baseline in km, not in RMSE
    assert offset["km_median_verdict"] == "loses"
    assert not offset["beats_all"]
    assert versus.loc["LSTM (absolute)", "rmse_verdict"] == "loses"
    assert list(versus.index) == list(comparison_table(workdir).query("kind == 'model'").index)


def test_best_run_of_each_model(workdir):
    best = best_runs(comparison_table(workdir))
    assert dict(best) == {
        "lstm": "LSTM (offset)",
        "seq2seq": "Seq2Seq (absolute)",
        "transformer": "Transformer (positions, absolute)",
    }
    by_r2 = best_runs(comparison_table(workdir), metric="r2")
    assert by_r2["lstm"] == "LSTM (offset)"  # R² 0.5 against the absolute run's 0.30: higher wins


# --------------------------------------------------------------------------- the article's claims


def test_claims_are_decided_by_our_numbers(workdir):
    claims = article_claims(comparison_table(workdir))
    verdicts = claims["verdict"].to_dict()
    assert verdicts["seq2seq_beats_lstm_rmse"] == HOLDS  # 0.085 ± 0.002 against 0.100 ± 0.002
    assert verdicts["seq2seq_beats_lstm_r2"] == HOLDS
    assert verdicts["lstm_beats_transformer_rmse"] == WITHIN_SPREAD  # 0.100 against 0.101, spread 0.004
    assert verdicts["lstm_beats_transformer_r2"] == WITHIN_SPREAD
    assert verdicts["transformer_r2_negative"] == FAILS  # 0.29 ± 0.02 is positive
    assert verdicts["positions_help_transformer"] == HOLDS  # 0.090 against 0.101
    assert verdicts["models_beat_baselines_rmse"] == FAILS  # every article-form run is above persistence's 0.080
    assert verdicts["models_beat_baselines_km_median"] == HOLDS  # 0.5 km each, below markov_next's 0.8 km
    assert claims["holds"].sum() == 4
    assert list(claims.columns) == ["claim", "article", "ours", "verdict", "holds"]
    assert "0.086" in claims.loc["seq2seq_beats_lstm_rmse", "article"]  # from ARTICLE_SCORES


def test_claims_follow_the_numbers_when_they_change(tmp_path):
    _save_baselines(tmp_path)
    _save_model(tmp_path, "lstm", {"absolute": {"rmse": (0.060, 0.001), "km_median": (0.5, 0.01)}})
    _save_model(tmp_path, "seq2seq", {"absolute": {"rmse": (0.070, 0.001), "km_median": (0.6, 0.01)}})
    _save_model(tmp_path, "transformer", {"no_positions_absolute": {"rmse": (0.075, 0.001), "r2": (-0.2, 0.05), "km_median": (0.7, 0.01)}})
    verdicts = article_claims(comparison_table(tmp_path))["verdict"]
    assert verdicts["seq2seq_beats_lstm_rmse"] == FAILS
    assert verdicts["lstm_beats_transformer_rmse"] == HOLDS
    assert verdicts["transformer_r2_negative"] == HOLDS
    assert verdicts["positions_help_transformer"] == NOT_TESTED  # no run with positions
    assert verdicts["models_beat_baselines_rmse"] == HOLDS
    assert verdicts["models_beat_baselines_km_median"] == HOLDS


def test_claims_without_a_model_are_not_tested(workdir):
    claims = article_claims(comparison_table(workdir, models=["lstm"]))
    assert claims.loc["seq2seq_beats_lstm_rmse", "verdict"] == NOT_TESTED
    assert claims.loc["transformer_r2_negative", "verdict"] == NOT_TESTED
    assert not claims.loc[claims["verdict"] == NOT_TESTED, "holds"].any()
    with pytest.raises(ValueError, match="comparison_table"):
        article_claims(pd.DataFrame({"rmse_mean": [0.1]}))


# --------------------------------------------------------------------------- saved predictions and histories


def test_predictions_of_runs_and_baselines(workdir):
    table = comparison_table(workdir)
    predictions = predictions_for(workdir, table, ["LSTM (offset)", "global_mean"])
    assert list(predictions) == ["LSTM (offset)", "global_mean"]
    np.testing.assert_allclose(predictions["LSTM (offset)"], 0.1)  # the second run saved 1/10
    np.testing.assert_allclose(predictions["global_mean"], 0.2)
    with pytest.raises(ValueError, match="not rows"):
        predictions_for(workdir, table, ["GRU (absolute)"])


def test_loss_histories_take_the_kept_seed_and_group_by_target_mode(workdir):
    histories = loss_histories(workdir)
    assert list(histories) == ["absolute targets", "offset targets"]
    assert list(histories["offset targets"]) == ["LSTM (offset)"]
    assert len(histories["absolute targets"]) == 4
    assert histories["offset targets"]["LSTM (offset)"]["loss"] == [1.0, 0.5, 0.4]  # seed 1, the kept one


# --------------------------------------------------------------------------- figures


@pytest.fixture(scope="module")
def windows():
    return build_windows(synthetic_clean(users=12), window=3)


def _visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def test_time_and_place_figures_draw_one_panel_per_predictor(windows):
    n = len(windows.test)
    predictions = {"perfect": windows.test.y, "flat": np.full((n, 3), 0.5)}
    fig = time_scatter(windows, predictions, sample=50)
    assert len(_visible_axes(fig)) == 2
    assert "median error 0.0 h" in fig.axes[0].get_title()
    plt.close(fig)
    fig = place_map(windows, {**predictions, "third": windows.test.y}, sample=20)
    assert len(_visible_axes(fig)) == 3
    assert "median error 0.00 km" in fig.axes[0].get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match=r"predictions\['short'\]"):
        time_scatter(windows, {"short": np.zeros((n - 1, 3))})
    with pytest.raises(ValueError, match="sample"):
        place_map(windows, predictions, sample=0)


def test_loss_comparison_one_panel_per_group(workdir):
    fig = loss_comparison(loss_histories(workdir))
    assert len(_visible_axes(fig)) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="val_loss"):
        loss_comparison({"absolute targets": {"LSTM": {"loss": [1.0, 0.5], "val_loss": [1.0]}}})


def test_metric_bars_draw_runs_as_bars_and_baselines_as_lines(workdir):
    table = comparison_table(workdir)
    ax = metric_bars(table, metric="rmse")
    assert len(ax.patches) == 5  # one bar per model run
    assert [round(line.get_xdata()[0], 3) for line in ax.lines if line.get_linestyle() == "--"] == [0.08, 0.1, 0.09]
    crosses = [line for line in ax.lines if line.get_marker() == "X"]
    assert len(crosses) == 1 and len(crosses[0].get_xdata()) == 3  # the article's three numbers
    assert crosses[0].get_zorder() > ax.patches[0].get_zorder()  # above the bars, never hidden
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="accuracy_mean"):
        metric_bars(table, metric="accuracy")
