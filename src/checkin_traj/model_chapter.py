"""The skeleton every model chapter shares: windows, training over seeds, results, verdicts.

A model chapter (03 LSTM, 04 Seq2Seq, 05 Transformer, and any new one) keeps in its text
only what is particular to its model: the idea, the architecture figure, the training
curves and what its results mean. Everything else is one visible call each::

    chapter = ModelChapter.open(WORKDIR, "lstm")            # windows, baselines, strongest (on validation)
    chapter.windows_table()                                 # the split sizes
    runs = chapter.train(                                   # run_seeds once per run
        {mode: {"hyperparameters": hyperparameters, "target_mode": mode} for mode in TARGET_MODES},
        seeds=SEEDS, epochs=EPOCHS, batch_size=BATCH_SIZE, patience=PATIENCE,
    )
    chapter.results_table()                                 # mean ± std per run, the baseline, verdicts
    chapter.predictions_figure()                            # best seed of each run and the baseline
    chapter.save(hyperparameters=hyperparameters)           # for chapter 06
    chapter.record()                                        # the chapter's glue

A run is a label (letters, digits, ``_``) and the keyword arguments of
:func:`checkin_traj.training.run_seeds` for it (``hyperparameters``, ``target_mode``, and
whatever else ``run_seeds`` accepts, e.g. a model ``variant``): the skeleton passes them
through unchanged, so it is generic over the model's forms.

Verdicts come from :mod:`checkin_traj.verdicts` (the one rule of the book); the strongest
baseline is chosen on the validation windows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .results import baseline_scores, load_results, results_payload, run_label, save_results, seed_table
from .verdicts import compare, glue_values, record, strongest_baseline, versus_baseline, window_losses

__all__ = ["ModelChapter", "RESULT_COLUMNS", "VERDICT_METRICS", "quiet_session", "positional_encoding_findings"]

#: Columns of the results table, in order.
RESULT_COLUMNS = ("rmse", "r2", "km_median", "within_1km", "minutes_median")

#: Metric -> (glue name part, decimals) of the verdicts a model chapter words.
VERDICT_METRICS = {"rmse": ("verdict", 3), "km_median": ("km_verdict", 2)}

#: Metrics glued per run as ``<model>_<run>_<metric>_mean`` / ``_std``.
GLUED_METRICS = ("rmse", "r2", "km_median", "within_1km")


def quiet_session(*, precision=3):
    """Quiet TensorFlow's start-up logs and library warnings, and show tables with ``precision`` decimals.

    Call it once at the top of a model chapter, before anything imports TensorFlow.
    """
    import os
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    pd.set_option("display.precision", precision)


class ModelChapter:
    """One model chapter's shared state: its windows, the baselines and its runs.

    Build it with :meth:`open`. Attributes: ``workdir``, ``model`` (the result name, e.g.
    ``"lstm"``), ``data`` (the windows of chapter 02's protocol), ``baselines`` (chapter
    02's saved result), ``baseline_val`` (the baselines' validation scores),
    ``strongest`` (the strongest baseline by validation RMSE), ``runs`` (label ->
    ``SeedRuns``, after :meth:`train`) and ``verdicts`` (metric -> label -> ``Verdict``,
    after :meth:`results_table`).
    """

    def __init__(self, workdir, model, data, baselines, baseline_val, *, metric="rmse"):
        self.workdir, self.model, self.data = workdir, model, data
        self.baselines, self.baseline_val = baselines, baseline_val
        self.strongest = strongest_baseline(baseline_val, metric=metric)
        self.runs, self.arguments, self.verdicts, self.training = {}, {}, {}, {}

    @classmethod
    def open(cls, workdir, model, *, metric="rmse"):
        """Rebuild chapter 02's windows from the clean check-ins and read the baselines.

        Parameters
        ----------
        workdir : str or Path
            The run's folder (``WORKDIR``), holding chapters 01-02's results.
        model : str
            The model's result name (``"lstm"``, ``"seq2seq"``, ``"transformer"``, ...).
        metric : str
            The metric the strongest baseline is chosen by (on validation).
        """
        from .data.provenance import load_clean
        from .sequences import build_windows

        from .sequences import check_windows_hash

        saved = load_results(workdir, "protocol")
        data = build_windows(load_clean(workdir), **saved["extra"])
        if "test_windows_hash" in saved["metrics"]:  # chapter 02's test windows, by content
            check_windows_hash(data, saved["metrics"]["test_windows_hash"], where="chapter 02's protocol")
        baselines = load_results(workdir, "baselines")
        return cls(workdir, model, data, baselines, baseline_scores(workdir, data, split="val"), metric=metric)

    # ------------------------------------------------------------------ windows

    @property
    def baseline_test(self) -> pd.DataFrame:
        """The baselines' test scores (chapter 02's table)."""
        return self.baselines["tables"]["test"]

    def windows_table(self) -> pd.DataFrame:
        """Windows per split, with the window length and the number of features."""
        window, n_features = self.data.train.x.shape[1:]
        sizes = {"windows": [len(self.data.train), len(self.data.val), len(self.data.test)]}
        return pd.DataFrame(sizes, index=["train", "val", "test"]).T.assign(window=window, features=n_features)

    @property
    def shape(self) -> dict:
        """``window`` and ``n_features`` of the windows (what a builder needs besides hyperparameters)."""
        window, n_features = self.data.train.x.shape[1:]
        return {"window": int(window), "n_features": int(n_features)}

    # ------------------------------------------------------------------ training

    def train(self, runs, *, seeds, verbose=1, **common):
        """Train every run over ``seeds`` with :func:`checkin_traj.training.run_seeds`.

        Parameters
        ----------
        runs : dict of str to dict
            Run label -> keyword arguments of ``run_seeds`` particular to that run.
        seeds : sequence of int
        verbose : int
            One line per seed (1) or per epoch (2).
        **common
            Keyword arguments of ``run_seeds`` shared by every run (``epochs``,
            ``batch_size``, ``patience``, ...).

        Returns
        -------
        dict of str to SeedRuns
        """
        from .training import run_seeds

        if not runs:
            raise ValueError("runs is empty: give at least one run label and its arguments")
        self.training = {**{key: value for key, value in common.items() if np.isscalar(value)}, "seeds": list(seeds)}
        self.arguments = {label: dict(arguments) for label, arguments in runs.items()}
        self.runs = {
            label: run_seeds(
                self.model,
                self.data_for(arguments.get("variant", common.get("variant", "book"))),
                seeds=seeds,
                verbose=verbose,
                **{**common, **dict(arguments)},
            )
            for label, arguments in runs.items()
        }
        return self.runs

    def data_for(self, variant):
        """The windows a model form reads: the article's form only its three features
        (:data:`checkin_traj.models.VARIANT_FEATURES`); the same windows and targets."""
        from .models import VARIANT_FEATURES, VARIANTS
        from .checks import check_choice

        return self.data.with_features(VARIANT_FEATURES[check_choice("variant", variant, VARIANTS)])

    def label(self, run) -> str:
        """How a run is named in tables and text, e.g. ``"LSTM (offset)"``."""
        return run_label(self.model, run)

    def histories(self) -> dict:
        """Run (readable) -> seed -> history, for :func:`checkin_traj.plots.models.loss_curves`."""
        return {run.replace("_", " "): seed_runs.histories for run, seed_runs in self._trained().items()}

    def _trained(self):
        if not self.runs:
            raise ValueError("no runs yet: call train(...) first")
        return self.runs

    # ------------------------------------------------------------------ results

    def baseline_prediction(self, name=None) -> np.ndarray:
        """Test predictions of a baseline (the strongest by default), as chapter 02 saved them."""
        return self.baselines["arrays"][name or self.strongest]

    def judge(self, *, metrics=tuple(VERDICT_METRICS), n_boot=1000):
        """Every run against the strongest baseline, by the book's one rule (:func:`versus_baseline`)."""
        baseline_metrics = self.baseline_test.loc[self.strongest]
        self.verdicts = {
            metric: {
                run: versus_baseline(
                    self.label(run),
                    seed_runs,
                    self.data,
                    baseline=self.strongest,
                    baseline_prediction=self.baseline_prediction(),
                    baseline_metrics=baseline_metrics,
                    metric=metric,
                    n_boot=n_boot,
                )
                for run, seed_runs in self._trained().items()
            }
            for metric in metrics
        }
        return self.verdicts

    def results_table(self, *, columns=RESULT_COLUMNS, n_boot=1000) -> pd.DataFrame:
        """Mean ± std over seeds of every run on the test windows, the strongest baseline below,
        and a column per verdict metric saying whether the run beats it.

        Also decides the verdicts (:meth:`judge`), which :meth:`record` glues.
        """
        verdicts = self.judge(n_boot=n_boot)
        runs = self._trained()
        table = seed_table(
            {self.label(run): seed_runs for run, seed_runs in runs.items()},
            baselines={f"baseline: {self.strongest}": self.baseline_test.loc[self.strongest].to_dict()},
            columns=columns,
        )
        for metric in verdicts:
            outcomes = {self.label(run): verdict.outcome for run, verdict in verdicts[metric].items()}
            table[f"vs baseline ({metric})"] = pd.Series(outcomes).reindex(table.index).fillna("")
        return table.rename_axis("test windows")

    def compare_runs(self, contender, reference, *, metric="rmse", n_boot=1000):
        """One run against another of this chapter, by the one rule (both averaged over their seeds)."""
        runs = self._trained()
        sides = []
        for run in (contender, reference):
            if run not in runs:
                raise ValueError(f"no run {run!r}; the runs are {list(runs)}")
            predictions = runs[run].predictions
            sides.append(np.stack([window_losses(self.data, value, metric) for value in predictions.values()]))
        return compare(
            sides[0],
            sides[1],
            self.data.test.user,
            metric=metric,
            contender=self.label(contender),
            reference=self.label(reference),
            values=runs[contender].metrics[metric].to_numpy(dtype=float),
            reference_values=runs[reference].metrics[metric].to_numpy(dtype=float),
            n_boot=n_boot,
        )

    def predictions_figure(self, **options):
        """The best seed (lowest validation loss) of each run and the strongest baseline against the truth."""
        from .plots.models import predictions_figure

        shown = {self.label(run): runs.predictions[runs.best.seed] for run, runs in self._trained().items()}
        shown[f"baseline: {self.strongest}"] = self.baseline_prediction()
        return predictions_figure(self.data, shown, split="test", **options)

    # ------------------------------------------------------------------ saving and glue

    def save(self, *, hyperparameters=None):
        """Save the runs for chapter 06 (:func:`checkin_traj.results.results_payload`).

        ``hyperparameters`` defaults to each run's ``hyperparameters`` given to :meth:`train`.
        """
        if hyperparameters is None:
            hyperparameters = {label: arguments.get("hyperparameters", {}) for label, arguments in self.arguments.items()}
        verdicts = {metric: {run: verdict.as_dict() for run, verdict in by_run.items()} for metric, by_run in self.verdicts.items()}
        payload = results_payload(self._trained(), hyperparameters=hyperparameters, training=self.training, verdicts=verdicts)
        return save_results(self.workdir, self.model, **payload)

    def glue_values(self) -> dict:
        """The values every model chapter records, named ``<model>_...``."""
        from .metrics import ARTICLE_SCORES
        from .results import MODEL_NAMES

        runs, prefix = self._trained(), self.model
        seconds = [s for seed_runs in runs.values() for history in seed_runs.histories.values() for s in history["seconds"][1:]]
        values = {
            f"{prefix}_train_windows": len(self.data.train),
            f"{prefix}_seconds_per_epoch": float(np.mean(seconds)) if seconds else float("nan"),
            f"{prefix}_epochs_mean": float(np.mean([seed_runs.metrics["epochs_run"].mean() for seed_runs in runs.values()])),
            f"{prefix}_strongest_baseline": self.strongest,
            f"{prefix}_strongest_md": f"`{self.strongest}`",
            f"{prefix}_baseline_rmse": float(self.baseline_test.loc[self.strongest, "rmse"]),
        }
        article = ARTICLE_SCORES.get(MODEL_NAMES.get(self.model, self.model))
        if article:
            values.update({f"{prefix}_article_{key}": float(value) for key, value in article.items()})
        for run, seed_runs in runs.items():
            summary = seed_runs.summary()
            for metric in GLUED_METRICS:
                values[f"{prefix}_{run}_{metric}_mean"] = float(summary.loc[metric, "mean"])
                values[f"{prefix}_{run}_{metric}_std"] = float(summary.loc[metric, "std"])
        for metric, by_run in self.verdicts.items():
            name, digits = VERDICT_METRICS.get(metric, (f"{metric}_verdict", 3))
            values.update(glue_values(f"{prefix}_{name}", by_run.values(), digits=digits))
        return values

    def record(self, **extra):
        """Glue :meth:`glue_values` and ``extra`` (keys ending ``_md`` as Markdown)."""
        record({**self.glue_values(), **extra})


def positional_encoding_findings(chapter, target_modes, *, article_mode="absolute", n_boot=1000) -> dict:
    """Chapter 05's question: does positional encoding explain the article's failing Transformer?

    Compares, per target mode, the run with positions (``positions_<mode>``) against the
    one without (``no_positions_<mode>``) by the one rule, and words the answer for the
    article's form (``article_mode``).

    Returns
    -------
    dict
        Glue values: ``transformer_positions_md`` (a Markdown list, one line per mode),
        ``transformer_positions_lower_modes`` (modes where positions beat no positions),
        ``transformer_explanation_md`` and ``transformer_explanation_holds`` (True, False,
        or None when the article's form was not trained).
    """
    from .metrics import ARTICLE_SCORES

    runs = chapter.runs
    sentences, lower = [], []
    for mode in target_modes:
        if f"positions_{mode}" not in runs or f"no_positions_{mode}" not in runs:
            continue
        verdict = chapter.compare_runs(f"positions_{mode}", f"no_positions_{mode}", metric="rmse", n_boot=n_boot)
        r2 = [float(runs[f"{side}_{mode}"].metrics["r2"].mean()) for side in ("positions", "no_positions")]
        if verdict.beats:
            lower.append(mode)
        sentences.append(f"- *{mode} targets*: {verdict.sentence()} R² {r2[0]:.3f} with positions, {r2[1]:.3f} without.")

    article_r2 = ARTICLE_SCORES["Transformer"]["r2"]
    holds = None
    if f"no_positions_{article_mode}" not in runs:
        explanation = "The article's form (absolute targets) was not trained in this run, so its explanation is not tested."
    else:
        r2_blind = float(runs[f"no_positions_{article_mode}"].metrics["r2"].mean())
        holds = article_mode in lower and r2_blind < 0
        if holds:
            explanation = (
                f"**The explanation holds here:** without positions the article's form of the model is worse than the "
                f"mean (R² {r2_blind:.3f}), and adding positional encoding beats it by the book's rule."
            )
        elif article_mode in lower:
            explanation = (
                f"**The explanation holds only in part:** positional encoding beats the article's form without it, but "
                f"without it the model already reaches R² {r2_blind:.3f}, far from the article's {article_r2:.3f}; the "
                "missing positions alone do not explain a negative R²."
            )
        else:
            seeing = runs.get(f"positions_{article_mode}")
            r2_seeing = float(seeing.metrics["r2"].mean()) if seeing is not None else float("nan")
            explanation = (
                f"**The explanation does not hold here:** in the article's form, adding positional encoding does not beat "
                f"the model without it (R² {r2_seeing:.3f} with positions, {r2_blind:.3f} without; the article: "
                f"{article_r2:.3f}). "
            )
            if r2_blind >= 0:
                explanation += (
                    "Nor does the model fail without them: the window's features already carry its order (the scaled "
                    "time grows along the window, and the gap since the previous check-in is a feature), so the "
                    "article's failure must have other causes, such as its training set-up."
                )
            else:
                explanation += (
                    "Both variants do worse than predicting the mean, so whatever makes this Transformer fail, the "
                    "missing positions are not it."
                )
    return {
        "transformer_positions_md": "\n".join(sentences),
        "transformer_positions_lower_modes": lower,
        "transformer_explanation_md": explanation,
        "transformer_explanation_holds": holds,
    }
