"""Chapter 06's plumbing (the table, saved predictions, per-seed scores, histories, text) and
its figures, on hand-made results whose right answers are obvious."""

import re
from pathlib import Path

import matplotlib
import matplotlib.collections

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import checkin_traj.comparison as comparison
from checkin_traj.comparison import (
    METRICS,
    comparison_table,
    formatted,
    loss_histories,
    mean_std,
    saved_predictions,
    seed_scores,
)
from checkin_traj.metrics import ARTICLE_SCORES, evaluate
from checkin_traj.plots.comparison import loss_comparison, metric_bars, place_map, time_scatter
from checkin_traj.report import Baselines
from checkin_traj.results import load_results, run_label, save_results
from checkin_traj.sequences import build_windows, test_windows_hash

from .chapter_workdirs import synthetic_clean

#: Hand-made predictors: (gap error, place error, noise) in scaled units, added to the truth
#: of every window (noise: a normal draw per window and target, seeded per predictor and seed).
BASELINES = {
    "persistence": (0.02, 0.03, 0.0),  # strongest on RMSE (validation)
    "global_mean": (0.30, 0.30, 0.0),
    "markov_next": (0.30, 0.005, 0.0),  # closest in km (validation), far on the gap
}

#: What chapters 03-05 save as each model's title, and which run is which form.
TITLES = {"lstm": "LSTM", "seq2seq": "Seq2Seq", "transformer": "Transformer"}
FORMS = {
    "lstm": {"article": "absolute", "book": "offset"},
    "seq2seq": {"article": "absolute", "book": "offset"},
    "transformer": {"article": "no_positions_absolute", "book": "positions_offset"},
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
    """What chapter 02 saves: the baselines' test and validation scores, test predictions, and the protocol."""
    tables, arrays = {}, {}
    for split in ("test", "val"):
        rows = {}
        for number, (name, recipe) in enumerate(BASELINES.items()):
            prediction = _predict(data, split, recipe, seed=100 + number)
            rows[name] = evaluate(data, prediction, split=split)
            if split == "test":
                arrays[name] = prediction
        tables[split] = pd.DataFrame.from_dict(rows, orient="index")
    save_results(workdir, "baselines", tables=tables, arrays=arrays, extra={"test_windows_hash": test_windows_hash(data)})
    save_results(workdir, "protocol", metrics={"test_windows_hash": test_windows_hash(data)}, extra=data.protocol())


def _baselines(workdir):
    """The baselines as :func:`checkin_traj.report.load_protocol` reads them back."""
    saved = load_results(workdir, "baselines")
    return Baselines(test=saved["tables"]["test"], val=saved["tables"]["val"], predictions=saved["arrays"])


def _save_model(workdir, data, name, runs, *, seeds=(0, 1), windows_hash=None):
    """What a model chapter saves (``report.save_runs``); runs: label -> recipe, each seed adds its own noise."""
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
            "title": TITLES[name],
            "forms": {form: run for form, run in FORMS[name].items() if run in runs},
            "test_windows_hash": windows_hash or test_windows_hash(data),
        },
    )


def save_results_of_chapters_02_to_05(workdir, data, runs, *, networks=False):
    """Leave ``workdir`` as chapters 02-05 would (the clean check-ins aside): runs is model -> label -> recipe;
    ``networks``: each run's kept network too, untrained (one Dense layer on the window)."""
    _save_baselines(workdir, data)
    for name, model_runs in runs.items():
        _save_model(workdir, data, name, model_runs)
        for label in model_runs if networks else ():
            import keras

            from checkin_traj.report import model_path

            inputs = keras.Input((data.window, data.n_features))
            keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(inputs))).save(model_path(workdir, name, label))


#: The fixture's runs: LSTM offset wins on RMSE but loses on median km to markov_next.
RUNS = {
    "lstm": {"absolute": (0.15, 0.05, 0.12), "offset": (0.0, 0.02, 0.0)},
    "seq2seq": {"absolute": (0.05, 0.02, 0.0)},
    "transformer": {"positions_absolute": (0.08, 0.03, 0.0), "no_positions_absolute": (0.15, 0.05, 0.12)},
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, windows):
    workdir = tmp_path_factory.mktemp("comparison")
    save_results_of_chapters_02_to_05(workdir, windows, RUNS)
    return workdir


@pytest.fixture(scope="module")
def table(workdir, windows):
    return comparison_table(workdir, windows, _baselines(workdir))


# --------------------------------------------------------------------------- the table


def test_table_has_one_row_per_run_and_baseline_models_first(workdir, windows, table):
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


def test_forms_and_titles_come_from_the_saved_results(table):
    """Which run is which form is read from what each model chapter saved: no second registry."""
    assert not hasattr(comparison, "ARTICLE_FORM") and not hasattr(comparison, "BOOK_FORM")
    article = table[table["form"] == "article"]
    assert dict(article["title"]) == {
        "LSTM (absolute)": "LSTM",
        "Seq2Seq (absolute)": "Seq2Seq",
        "Transformer (no positions, absolute)": "Transformer",
    }
    assert table.loc["LSTM (offset)", "form"] == "book"
    assert table.loc["Transformer (positions, absolute)", "form"] == ""  # neither form: a run of the chapter's own
    assert table.loc["Seq2Seq (absolute)", "article_rmse"] == ARTICLE_SCORES["Seq2Seq"]["rmse"]
    assert table.loc["Transformer (no positions, absolute)", "article_r2"] == ARTICLE_SCORES["Transformer"]["r2"]
    assert table.loc[table["form"] != "article", "article_rmse"].isna().all()


def test_a_saved_title_names_the_rows(tmp_path, windows):
    _save_baselines(tmp_path, windows)
    _save_model(tmp_path, windows, "lstm", {"absolute": (0.1, 0.1, 0.0)})
    saved = load_results(tmp_path, "lstm")
    saved["extra"]["title"] = "GRU"  # a workshop's own model, saved under the lstm result
    save_results(tmp_path, "lstm", tables=saved["tables"], arrays=saved["arrays"], extra=saved["extra"])
    table = comparison_table(tmp_path, windows, _baselines(tmp_path), models=["lstm"])
    assert table.index[0] == "GRU (absolute)"
    assert np.isnan(table.loc["GRU (absolute)", "article_rmse"])  # the article reports no GRU


def test_table_reads_only_the_models_asked_for(workdir, windows):
    table = comparison_table(workdir, windows, _baselines(workdir), models=["seq2seq"])
    assert list(table.loc[table["kind"] == "model"].index) == ["Seq2Seq (absolute)"]


def test_windows_are_checked_by_content_not_only_by_count(tmp_path, windows):
    _save_baselines(tmp_path, windows)
    _save_model(tmp_path, windows, "lstm", {"absolute": (0.1, 0.1, 0.0)})
    assert len(comparison_table(tmp_path, windows, _baselines(tmp_path), models=["lstm"])) == 4
    # the same number of windows, other content: the hash tells
    _save_model(tmp_path, windows, "seq2seq", {"absolute": (0.1, 0.1, 0.0)}, windows_hash="0" * 16)
    with pytest.raises(ValueError, match="differ from those of results 'seq2seq'"):
        comparison_table(tmp_path, windows, _baselines(tmp_path), models=["lstm", "seq2seq"])
    other = build_windows(synthetic_clean(users=13), window=3)
    with pytest.raises(ValueError, match="results 'lstm'"):
        comparison_table(tmp_path, other, _baselines(tmp_path), models=["lstm"])
    result = load_results(tmp_path, "lstm")
    del result["extra"]["test_windows_hash"]
    save_results(tmp_path, "lstm", tables=result["tables"], arrays=result["arrays"], extra=result["extra"])
    with pytest.raises(ValueError, match="'lstm'.*rerun its chapter"):
        comparison_table(tmp_path, windows, _baselines(tmp_path), models=["lstm"])


def test_table_names_a_missing_result_and_a_missing_metric(tmp_path, windows):
    _save_baselines(tmp_path, windows)
    with pytest.raises(FileNotFoundError, match="'gru'"):
        comparison_table(tmp_path, windows, _baselines(tmp_path), models=["gru"])
    save_results(
        tmp_path,
        "lstm",
        tables={"summary": pd.DataFrame({"rmse_mean": [0.1]}, index=["absolute"])},
        extra={"runs": ["absolute"], "title": "LSTM", "test_windows_hash": test_windows_hash(windows)},
    )
    with pytest.raises(ValueError, match="summary table of 'lstm'.*rmse_std"):
        comparison_table(tmp_path, windows, _baselines(tmp_path), models=["lstm"])


@pytest.mark.parametrize("models", ["lstm", [], ["lstm", "lstm"]])
def test_table_rejects_bad_models(workdir, windows, models):
    with pytest.raises(ValueError, match="models"):
        comparison_table(workdir, windows, _baselines(workdir), models=models)


def test_run_labels_read_as_words():
    assert run_label("LSTM", "offset") == "LSTM (offset)"
    assert run_label("Transformer", "no_positions_offset") == "Transformer (no positions, offset)"
    assert run_label("Transformer", "positions_absolute") == "Transformer (positions, absolute)"


# --------------------------------------------------------------------------- the table as text


def test_formatted_reads_in_words_with_spread_for_models_only(table):
    text = formatted(table, ["rmse", "km_median", "minutes_median", "article_rmse"])
    assert list(text.columns) == [
        "RMSE, pooled (article's form)",
        "median error (km), pooled",
        "median gap error (minutes), pooled",
        "RMSE reported by the article",
    ]
    mean, std = table.loc["LSTM (absolute)", ["rmse_mean", "rmse_std"]]
    assert text.loc["LSTM (absolute)", "RMSE, pooled (article's form)"] == f"{mean:.3f}\u00a0±\u00a0{std:.3f}"
    km = text.loc["LSTM (offset)", "median error (km), pooled"]
    assert re.fullmatch(r"\d+\.\d\d\xa0±\xa0\d+\.\d\d", km)  # kilometres to 10 m, never wrapped
    assert re.fullmatch(r"[\d,]+(\xa0±\xa0[\d,]+)?", text.loc["LSTM (offset)", "median gap error (minutes), pooled"])
    # baselines: one number, labelled as baselines; empty cells are empty, never NaN; no backticks
    assert text.loc["baseline: persistence", "RMSE, pooled (article's form)"] == f"{table.loc['persistence', 'rmse_mean']:.3f}"
    assert text.loc["baseline: persistence", "RMSE reported by the article"] == ""
    assert text.loc["Seq2Seq (absolute)", "RMSE reported by the article"] == f"{ARTICLE_SCORES['Seq2Seq']['rmse']:.3f}"
    assert not text.isna().any().any() and "nan" not in text.to_string()
    assert not any("`" in label for label in [*text.index, *text.columns])
    assert formatted(table, ["rmse"], digits=1).iloc[0, 0].count(".") == 2
    with pytest.raises(ValueError, match="metrics"):
        formatted(table, ["accuracy"])


def test_mean_std_leaves_out_what_is_not_there():
    assert mean_std(0.40712, 0.00061) == "0.407\u00a0±\u00a00.001"
    assert mean_std(72478.2, 96976.0, 0) == "72,478\u00a0±\u00a096,976"
    assert mean_std(0.3, float("nan")) == "0.300"
    assert mean_std(float("nan"), float("nan")) == ""


# --------------------------------------------------------------------------- no second rule, no chapter words


def test_the_module_holds_plumbing_only():
    """Verdicts are the page's (verdicts.compare); the chapter's words and glue names live in the chapter."""
    source = Path(comparison.__file__).read_text()
    for name in ("Judge", "compare", "article_claims", "versus_baselines", "glue_values", "versus_text", "claims_text"):
        assert not hasattr(comparison, name), name
    assert not re.search(r"[\"']comparison_\w+[\"']", source.replace('"comparison_table"', ""))  # no glue name
    assert "glue" not in source and "record(" not in source
    assert not re.search(r"\bholds\b|within noise|does not hold", source)  # no claim wording


# --------------------------------------------------------------------------- saved predictions, scores and histories


def test_saved_predictions_of_every_seed_and_of_the_kept_seed(workdir, table):
    saved = load_results(workdir, "lstm")["arrays"]
    baselines = _baselines(workdir)
    every = saved_predictions(workdir, table, baselines)
    assert list(every) == list(table.index)
    assert len(every["LSTM (offset)"]) == 2 and len(every["persistence"]) == 1
    np.testing.assert_array_equal(every["LSTM (offset)"][0], saved["offset_seed0"])
    np.testing.assert_array_equal(every["persistence"][0], baselines.predictions["persistence"])
    kept = saved_predictions(workdir, table, baselines, ["LSTM (offset)", "global_mean"], seeds="kept")
    assert list(kept) == ["LSTM (offset)", "global_mean"]
    np.testing.assert_array_equal(kept["LSTM (offset)"], saved["offset_seed1"])  # the kept seed
    np.testing.assert_array_equal(kept["global_mean"], baselines.predictions["global_mean"])
    with pytest.raises(ValueError, match="not rows"):
        saved_predictions(workdir, table, baselines, ["GRU (absolute)"])
    with pytest.raises(ValueError, match="seeds"):
        saved_predictions(workdir, table, baselines, seeds="best")


def test_seed_scores_one_row_per_seed_and_per_baseline(workdir, windows, table):
    scores = seed_scores(workdir, table)
    assert list(dict.fromkeys(scores.index)) == list(table.index)  # the table's order
    assert list(scores.loc["LSTM (offset)", "seed"]) == [0, 1]
    seed0 = load_results(workdir, "lstm")["arrays"]["offset_seed0"]
    assert scores.loc["LSTM (offset)", "rmse"].iloc[0] == pytest.approx(evaluate(windows, seed0)["rmse"])
    assert scores.loc[["persistence"], "rmse"].tolist() == [table.loc["persistence", "rmse_mean"]]
    assert scores.loc[["persistence"], "seed"].tolist() == [-1]
    means = scores[scores["kind"] == "model"].groupby(level=0, sort=False)["rmse"].mean()
    np.testing.assert_allclose(means, table.loc[means.index, "rmse_mean"])


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


def test_metric_bars_draw_runs_as_bars_and_baselines_as_lines(workdir, table):
    ax = metric_bars(table, metric="rmse")
    baselines = [round(float(value), 3) for value in table.loc[table["kind"] == "baseline", "rmse_mean"]]
    assert len(ax.patches) == 5  # one bar per model run
    assert [round(line.get_xdata()[0], 3) for line in ax.lines if line.get_linestyle() == "--"] == baselines
    crosses = [line for line in ax.lines if line.get_marker() == "X"]
    assert len(crosses) == 1 and len(crosses[0].get_xdata()) == 3  # the article's three numbers
    assert crosses[0].get_zorder() > ax.patches[0].get_zorder()  # above the bars, never hidden
    assert ax.figure.get_size_inches()[0] <= 8.0  # the book's content width: shown at its size
    plt.close(ax.figure)
    seeds = seed_scores(workdir, table)  # baselines' rows included: left out of the dots
    ax = metric_bars(table, metric="rmse", seeds=seeds)
    dots = np.concatenate([c.get_offsets()[:, 0] for c in ax.collections if isinstance(c, matplotlib.collections.PathCollection)])
    models = seeds[seeds["kind"] == "model"]
    assert len(dots) == 5 * 2
    np.testing.assert_allclose(np.sort(dots), np.sort(models["rmse"]), rtol=1e-6)  # one dot per seed, at its value
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="seeds"):
        metric_bars(table, metric="rmse", seeds=seeds.rename(index={"LSTM (offset)": "GRU (offset)"}))
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
