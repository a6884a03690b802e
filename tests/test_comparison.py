"""The comparison table, the article's claims and the comparison figures, on hand-made results."""

import matplotlib
import matplotlib.collections

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
    WITHIN_NOISE,
    Judge,
    article_claims,
    best_runs,
    check_windows,
    claims_text,
    comparison_table,
    seed_values,
    formatted,
    loss_histories,
    predictions_for,
    run_label,
    versus_baselines,
)
from checkin_traj.metrics import ARTICLE_SCORES, evaluate
from checkin_traj.plots.comparison import loss_comparison, metric_bars, place_map, time_scatter
from checkin_traj.results import load_results, save_results
from checkin_traj.sequences import build_windows, test_windows_hash

from .chapter_workdirs import synthetic_clean

#: Hand-made predictors: (gap error, place error, noise) in scaled units, added to the truth
#: of every window (noise: a normal draw per window and target, seeded per predictor and seed).
BASELINES = {
    "persistence": (0.02, 0.03, 0.0),  # strongest on RMSE (validation)
    "global_mean": (0.30, 0.30, 0.0),
    "markov_next": (0.30, 0.005, 0.0),  # closest in km (validation), far on the gap
}


@pytest.fixture(scope="module")
def windows():
    return build_windows(synthetic_clean(users=12), window=3)


def _predict(data, split, recipe, seed):
    gap, place, noise = recipe
    y = np.asarray(data.split(split).y, dtype=np.float64)
    rng = np.random.default_rng(seed)
    return (y + np.array([gap, place, place]) + noise * rng.normal(size=y.shape)).astype(np.float32)


def _flat(scores, prefix=""):
    return {f"{prefix}{key}": float(value) for key, value in scores.items()}


def _save_baselines(workdir, data):
    tables, arrays = {}, {}
    for split in ("test", "val"):
        rows = {}
        for number, (name, recipe) in enumerate(BASELINES.items()):
            prediction = _predict(data, split, recipe, seed=100 + number)
            rows[name] = evaluate(data, prediction, split=split)
            if split == "test":
                arrays[name] = prediction
        tables[split] = pd.DataFrame.from_dict(rows, orient="index")
    extra = {"strongest": "persistence", "test_windows_hash": test_windows_hash(data)}
    save_results(workdir, "baselines", tables=tables, arrays=arrays, extra=extra)
    save_results(workdir, "protocol", metrics={"test_windows_hash": test_windows_hash(data)}, extra=data.protocol())


def _save_model(workdir, data, name, runs, *, seeds=(0, 1), windows_hash=None):
    """runs: label -> recipe (gap error, place error, noise); each seed adds its own noise."""
    summary, seed_rows, arrays = {}, [], {}
    for number, (label, recipe) in enumerate(runs.items()):
        per_seed = []
        for seed in seeds:
            test = _predict(data, "test", recipe, seed=1000 * (number + 1) + 10 * len(name) + seed)
            val = _predict(data, "val", recipe, seed=5000 + 1000 * (number + 1) + 10 * len(name) + seed)
            row = {**_flat(evaluate(data, test)), **_flat(evaluate(data, val, split="val"), prefix="val_")}
            per_seed.append(row)
            seed_rows.append({"run": label, "seed": seed, **row})
            arrays[f"{label}_seed{seed}"] = test
        frame = pd.DataFrame(per_seed)
        summary[label] = {
            **{f"{key}_mean": value for key, value in frame.mean().items()},
            **{f"{key}_std": value for key, value in frame.std(ddof=1).items()},
            "n_seeds": len(seeds),
        }
        arrays[label] = arrays[f"{label}_seed{seeds[-1]}"]
        arrays[f"{label}_seed_mean"] = np.mean([arrays[f"{label}_seed{seed}"] for seed in seeds], axis=0)
    histories = {
        label: {"0": {"loss": [3.0, 2.0], "val_loss": [3.5, 2.5]}, "1": {"loss": [1.0, 0.5, 0.4], "val_loss": [1.2, 0.9, 1.0]}}
        for label in runs
    }
    save_results(
        workdir,
        name,
        tables={"summary": pd.DataFrame.from_dict(summary, orient="index").rename_axis("run"), "seeds": pd.DataFrame(seed_rows)},
        arrays=arrays,
        extra={
            "runs": list(runs),
            "seeds": {label: list(seeds) for label in runs},
            "best_seed": {label: seeds[-1] for label in runs},
            "histories": histories,
            "target_mode": {label: "offset" if label.endswith("offset") else "absolute" for label in runs},
            "test_windows_hash": windows_hash or test_windows_hash(data),
        },
    )


#: The fixture's runs: Seq2Seq clearly beats LSTM; LSTM and the Transformer are within noise;
#: the Transformer's R² is positive; LSTM offset wins on RMSE but loses on median km.
RUNS = {
    "lstm": {"absolute": (0.15, 0.05, 0.12), "offset": (0.0, 0.02, 0.0)},
    "seq2seq": {"absolute": (0.05, 0.02, 0.0)},
    "transformer": {"positions_absolute": (0.08, 0.03, 0.0), "no_positions_absolute": (0.15, 0.05, 0.12)},
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory, windows):
    workdir = tmp_path_factory.mktemp("comparison")
    _save_baselines(workdir, windows)
    for name, runs in RUNS.items():
        _save_model(workdir, windows, name, runs)
    return workdir


@pytest.fixture
def workdir(saved):
    return saved


def _judge(workdir, data, **options):
    table = comparison_table(workdir, **options)
    return table, Judge(workdir, data, table, n_boot=200)


# --------------------------------------------------------------------------- the table


def test_table_has_one_row_per_run_and_baseline_models_first(workdir, windows):
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
    seeds = [evaluate(windows, load_results(workdir, "lstm")["arrays"][f"offset_seed{seed}"])["rmse"] for seed in (0, 1)]
    assert table.loc["LSTM (offset)", "rmse_mean"] == pytest.approx(np.mean(seeds))
    assert table.loc["LSTM (offset)", "rmse_std"] == pytest.approx(np.std(seeds, ddof=1))
    assert table.loc["markov_next", "km_median_mean"] == pytest.approx(
        evaluate(windows, load_results(workdir, "baselines")["arrays"]["markov_next"])["km_median"]
    )
    assert table.loc[table["kind"] == "baseline", "rmse_std"].isna().all()  # deterministic: no spread
    assert set(table["windows"]) == {len(windows.test)}
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


def test_table_rejects_results_scored_on_other_windows(tmp_path, windows):
    _save_baselines(tmp_path, windows)
    _save_model(tmp_path, windows, "lstm", {"absolute": (0.1, 0.1, 0.0)})
    other = build_windows(synthetic_clean(users=13), window=3)
    _save_model(tmp_path, other, "seq2seq", {"absolute": (0.1, 0.1, 0.0)})
    with pytest.raises(ValueError, match="different numbers of test windows"):
        comparison_table(tmp_path, models=["lstm", "seq2seq"])


def test_windows_are_checked_by_content_not_only_by_count(tmp_path, windows):
    _save_baselines(tmp_path, windows)
    _save_model(tmp_path, windows, "lstm", {"absolute": (0.1, 0.1, 0.0)})
    assert check_windows(tmp_path, windows, models=["lstm"]) == test_windows_hash(windows)
    # the same number of windows, other content: the hash tells
    _save_model(tmp_path, windows, "seq2seq", {"absolute": (0.1, 0.1, 0.0)}, windows_hash="0" * 16)
    with pytest.raises(ValueError, match="results 'seq2seq'.*hash"):
        check_windows(tmp_path, windows, models=["lstm", "seq2seq"])
    result = load_results(tmp_path, "lstm")
    del result["extra"]["test_windows_hash"]
    save_results(tmp_path, "lstm", tables=result["tables"], arrays=result["arrays"], extra=result["extra"])
    with pytest.raises(ValueError, match="'lstm'.*saved no test_windows_hash"):
        check_windows(tmp_path, windows, models=["lstm"])


def test_table_names_a_missing_result_and_a_missing_metric(tmp_path, windows):
    _save_baselines(tmp_path, windows)
    with pytest.raises(FileNotFoundError, match="'gru'"):
        comparison_table(tmp_path, models=["gru"])
    save_results(tmp_path, "lstm", tables={"summary": pd.DataFrame({"rmse_mean": [0.1]}, index=["absolute"])}, extra={"runs": ["absolute"]})
    with pytest.raises(ValueError, match="summary table of 'lstm'.*r2_mean"):
        comparison_table(tmp_path, models=["lstm"])


@pytest.mark.parametrize("models", ["lstm", [], ["lstm", "lstm"]])
def test_table_rejects_bad_models(workdir, models):
    with pytest.raises(ValueError, match="models"):
        comparison_table(workdir, models=models)


def test_run_labels_read_as_words():
    assert run_label("lstm", "offset") == "LSTM (offset)"
    assert run_label("transformer", "no_positions_offset") == "Transformer (no positions, offset)"
    assert run_label("transformer", "positions_absolute") == "Transformer (positions, absolute)"


def test_formatted_shows_spread_for_models_only(workdir):
    table = comparison_table(workdir)
    text = formatted(table, metrics=["rmse"], digits=2)
    mean, std = table.loc["LSTM (absolute)", ["rmse_mean", "rmse_std"]]
    assert text.loc["LSTM (absolute)", "rmse"] == f"{mean:.2f} ± {std:.2f}"
    assert text.loc["persistence", "rmse"] == f"{table.loc['persistence', 'rmse_mean']:.2f}"
    with pytest.raises(ValueError, match="metrics"):
        formatted(table, metrics=["accuracy"])


# --------------------------------------------------------------------------- who wins: the one rule


def test_the_comparison_module_has_no_second_rule():
    import checkin_traj.comparison as comparison

    assert not hasattr(comparison, "compare")  # the spread rule is gone: verdicts.compare decides
    assert comparison.HIGHER_IS_BETTER is __import__("checkin_traj.verdicts").verdicts.HIGHER_IS_BETTER


def test_verdicts_need_a_judge(workdir):
    table = comparison_table(workdir)
    with pytest.raises(TypeError, match="Judge"):
        versus_baselines(table, judge=None)
    with pytest.raises(TypeError, match="Judge"):
        article_claims(table, judge="spread")


def test_a_run_can_win_on_rmse_and_lose_on_kilometres(workdir, windows):
    table, judge = _judge(workdir, windows)
    versus = versus_baselines(table, judge=judge)
    offset = versus.loc["LSTM (offset)"]
    assert offset["rmse_baseline"] == "persistence" and offset["rmse_verdict"] == "beats"
    assert offset["km_median_baseline"] == "markov_next"  # the strongest in km on validation, not in RMSE
    assert offset["km_median_verdict"] == "loses"
    assert not offset["beats_all"]
    assert versus.loc["LSTM (absolute)", "rmse_verdict"] == "loses"
    assert "interval over users" in offset["rmse_sentence"]
    assert list(versus.index) == list(table.query("kind == 'model'").index)
    # the verdict is verdicts.compare's on the saved per-seed predictions
    assert judge.verdict("LSTM (offset)", "persistence").outcome == offset["rmse_verdict"]
    assert judge.losses("LSTM (offset)", "rmse").shape == (2, len(windows.test))


def test_the_strongest_baseline_comes_from_the_validation_windows(tmp_path, windows):
    from checkin_traj.verdicts import strongest_baseline

    _save_baselines(tmp_path, windows)
    result = load_results(tmp_path, "baselines")
    val = result["tables"]["val"].copy()
    val.loc["global_mean", "rmse"] = 0.0  # best on validation only
    save_results(tmp_path, "baselines", tables={"test": result["tables"]["test"], "val": val}, arrays=result["arrays"])
    _save_model(tmp_path, windows, "lstm", {"absolute": (0.1, 0.1, 0.0)})
    table, judge = _judge(tmp_path, windows, models=["lstm"])
    assert judge.strongest("rmse") == strongest_baseline(val) == "global_mean"
    assert versus_baselines(table, judge=judge)["rmse_baseline"].iloc[0] == "global_mean"


def test_best_run_of_each_model_is_chosen_on_validation(workdir):
    table = comparison_table(workdir)
    assert dict(best_runs(table)) == {
        "lstm": "LSTM (offset)",
        "seq2seq": "Seq2Seq (absolute)",
        "transformer": "Transformer (positions, absolute)",
    }
    flipped = table.copy()
    flipped.loc["LSTM (absolute)", "val_rmse_mean"] = 0.0  # better on validation only
    assert best_runs(flipped)["lstm"] == "LSTM (absolute)"
    with pytest.raises(ValueError, match="validation"):
        best_runs(table.drop(columns=[column for column in table if column.startswith("val_")]))


# --------------------------------------------------------------------------- the article's claims


def test_claims_are_decided_by_the_one_rule(workdir, windows):
    table, judge = _judge(workdir, windows)
    claims = article_claims(table, judge=judge)
    verdicts = claims["verdict"].to_dict()
    assert verdicts["seq2seq_beats_lstm_rmse"] == HOLDS
    assert verdicts["seq2seq_beats_lstm_r2"] == HOLDS
    assert verdicts["lstm_beats_transformer_rmse"] == WITHIN_NOISE  # the same recipe, other noise
    assert verdicts["lstm_beats_transformer_r2"] == WITHIN_NOISE
    assert verdicts["transformer_r2_negative"] == FAILS  # far better than the mean
    assert verdicts["positions_help_transformer"] == HOLDS
    assert verdicts["models_beat_baselines_rmse"] == FAILS  # the article-form runs lose to persistence
    assert verdicts["models_beat_baselines_km_median"] == FAILS  # and to markov_next in km
    assert claims["holds"].sum() == 3
    assert list(claims.columns) == ["claim", "article", "ours", "verdict", "holds"]
    assert "0.086" in claims.loc["seq2seq_beats_lstm_rmse", "article"]  # from ARTICLE_SCORES
    assert claims_text(claims).count("\n- ") == len(claims) - 1


def test_claims_follow_the_numbers_when_they_change(tmp_path, windows):
    _save_baselines(tmp_path, windows)
    _save_model(tmp_path, windows, "lstm", {"absolute": (0.0, 0.001, 0.0)})
    _save_model(tmp_path, windows, "seq2seq", {"absolute": (0.01, 0.002, 0.0)})
    _save_model(tmp_path, windows, "transformer", {"no_positions_absolute": (0.6, 0.6, 0.0)})
    table, judge = _judge(tmp_path, windows)
    verdicts = article_claims(table, judge=judge)["verdict"]
    assert verdicts["seq2seq_beats_lstm_rmse"] == FAILS
    assert verdicts["lstm_beats_transformer_rmse"] == HOLDS
    assert verdicts["transformer_r2_negative"] == HOLDS  # errors of 0.6 on scaled targets: worse than the mean
    assert table.loc["Transformer (no positions, absolute)", "r2_mean"] < 0
    assert verdicts["positions_help_transformer"] == NOT_TESTED  # no run with positions
    assert verdicts["models_beat_baselines_rmse"] == FAILS  # the Transformer loses
    assert verdicts["models_beat_baselines_km_median"] == FAILS


def test_claims_without_a_model_are_not_tested(workdir, windows):
    table, judge = _judge(workdir, windows, models=["lstm"])
    claims = article_claims(table, judge=judge)
    assert claims.loc["seq2seq_beats_lstm_rmse", "verdict"] == NOT_TESTED
    assert claims.loc["transformer_r2_negative", "verdict"] == NOT_TESTED
    assert not claims.loc[claims["verdict"] == NOT_TESTED, "holds"].any()
    with pytest.raises(ValueError, match="comparison_table"):
        article_claims(pd.DataFrame({"rmse_mean": [0.1]}), judge=judge)


def test_chapter_glue_values_come_from_the_tables(workdir, windows):
    from checkin_traj.comparison import glue_values, versus_display, versus_text

    table, judge = _judge(workdir, windows)
    versus = versus_baselines(table, judge=judge)
    claims = article_claims(table, judge=judge)
    values = glue_values(table, versus=versus, claims=claims, judge=judge, windows=len(windows.test))
    assert values["comparison_best_model"] == "LSTM (offset)"  # lowest validation RMSE
    assert values["comparison_best_rmse_mean"] == pytest.approx(table.loc["LSTM (offset)", "rmse_mean"])
    assert values["comparison_strongest_baseline"] == "persistence"
    assert values["comparison_closest_baseline"] == "markov_next"
    assert values["comparison_claims_holding"] == 3 == len(values["comparison_claims_holding_ids"])
    assert values["comparison_runs_beating_both"] == 0
    text = versus_text(versus, ["LSTM (offset)"])
    assert text["comparison_versus_md"].startswith("- **LSTM (offset)** **beats** `persistence`")
    assert "No model run beats the baselines in both" in text["comparison_versus_closing_md"]
    shown = versus_display(table, versus)
    assert list(shown.columns) == ["RMSE (pooled)", "vs persistence", "median km", "vs markov_next"]


# --------------------------------------------------------------------------- saved predictions and histories


def test_predictions_of_runs_and_baselines(workdir):
    table = comparison_table(workdir)
    predictions = predictions_for(workdir, table, ["LSTM (offset)", "global_mean"])
    assert list(predictions) == ["LSTM (offset)", "global_mean"]
    saved = load_results(workdir, "lstm")["arrays"]
    np.testing.assert_array_equal(predictions["LSTM (offset)"], saved["offset_seed1"])  # the kept seed
    np.testing.assert_array_equal(predictions["global_mean"], load_results(workdir, "baselines")["arrays"]["global_mean"])
    with pytest.raises(ValueError, match="not rows"):
        predictions_for(workdir, table, ["GRU (absolute)"])


def test_loss_histories_take_the_kept_seed_and_group_by_target_mode(workdir):
    histories = loss_histories(workdir)
    assert list(histories) == ["absolute targets", "offset targets"]
    assert list(histories["offset targets"]) == ["LSTM (offset)"]
    assert len(histories["absolute targets"]) == 4
    assert histories["offset targets"]["LSTM (offset)"]["loss"] == [1.0, 0.5, 0.4]  # seed 1, the kept one


# --------------------------------------------------------------------------- figures


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
    baselines = [round(float(value), 3) for value in table.loc[table["kind"] == "baseline", "rmse_mean"]]
    assert len(ax.patches) == 5  # one bar per model run
    assert [round(line.get_xdata()[0], 3) for line in ax.lines if line.get_linestyle() == "--"] == baselines
    crosses = [line for line in ax.lines if line.get_marker() == "X"]
    assert len(crosses) == 1 and len(crosses[0].get_xdata()) == 3  # the article's three numbers
    assert crosses[0].get_zorder() > ax.patches[0].get_zorder()  # above the bars, never hidden
    assert ax.figure.get_size_inches()[0] <= 8.0  # the book's content width: shown at its size
    plt.close(ax.figure)
    seeds = seed_values(workdir, table, metric="rmse")
    assert len(seeds) == 5 * 2 and set(seeds["name"]) == set(table.index[table["kind"] == "model"])
    ax = metric_bars(table, metric="rmse", seeds=seeds)
    dots = np.concatenate([c.get_offsets()[:, 0] for c in ax.collections if isinstance(c, matplotlib.collections.PathCollection)])
    np.testing.assert_allclose(np.sort(dots), np.sort(seeds["value"]), rtol=1e-6)  # one dot per seed, at its value
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="accuracy_mean"):
        metric_bars(table, metric="accuracy")


def test_plot_modules_import_no_private_helper_of_another():
    import re
    from pathlib import Path

    import checkin_traj.plots as plots

    for path in Path(plots.__file__).parent.glob("*.py"):
        for names in re.findall(r"^from \.+\w* import (.+)$", path.read_text(), flags=re.M):
            imported = [name.strip().split(" as ")[0] for name in names.strip("()").split(",")]
            assert not [name for name in imported if name.startswith("_")], (path.name, names)


def test_error_cdf_draws_one_empirical_distribution_per_predictor():
    from checkin_traj.plots.evaluation import error_cdf

    ax = error_cdf({"near": np.array([0.1, 0.2]), "far": np.array([0.5, 1.5, 3.0])}, max_km=5.0)
    curves = [line for line in ax.lines if len(line.get_xdata()) > 2]
    assert [round(float(line.get_ydata()[-1]), 6) for line in curves] == [1.0, 1.0]  # every window counted
    far = next(line for line in curves if len(line.get_xdata()) == 4)
    np.testing.assert_allclose(far.get_ydata()[1:], [1 / 3, 2 / 3, 1.0])
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["near", "far"]
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="at least one"):
        error_cdf({})
