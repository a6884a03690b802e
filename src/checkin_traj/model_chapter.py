"""The skeleton every model chapter shares: windows, both forms over seeds, one results table.

A model chapter (03 LSTM, 04 Seq2Seq, 05 Transformer, and any new one) keeps in its text
only what is particular to its model: the idea, the architecture figure, the training
curves and what its results mean. Everything else is one visible call each::

    chapter = ModelChapter.open(WORKDIR, "lstm", globals())   # windows, baselines, settings
    chapter.architecture()                                    # the book's form, drawn from Keras
    chapter.forms_table()                                     # article's form against the book's
    chapter.train_forms()                                     # both forms over SEEDS
    chapter.loss_figure()                                     # the training curves
    chapter.results_table()                                   # the one table: forms, baselines, intervals
    chapter.finish()                                          # saved for chapter 06, and glued

The chapter's parameters (its ``globals()``, upper-case names) carry its settings: ``SEEDS``, ``EPOCHS``, ``BATCH_SIZE`` and
``PATIENCE`` for training, and every parameter whose lower-case name is a hyperparameter
of the model's builder (``NUM_HIDDENS`` -> ``num_hiddens``). Both forms of
:func:`checkin_traj.models.build_model` are trained: the article's (absolute targets, its
three features, :func:`checkin_traj.models.article_hyperparameters`) and the book's
(offset targets). :meth:`ModelChapter.train_forms` takes variations (e.g. with and without
positional encoding), each trained in both forms.

Verdicts come from :mod:`checkin_traj.verdicts` (the one rule of the book); the strongest
baseline is chosen on the validation windows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .results import baseline_scores, load_results, results_payload, run_label, save_results, seed_table
from .verdicts import compare, glue_values, record, strongest_baseline, versus_baseline, window_losses

__all__ = [
    "ModelChapter",
    "TABLE_METRICS",
    "VERDICT_METRICS",
    "BOOK_FORM",
    "BOOSTED_PEER",
    "quiet_session",
    "positional_encoding_findings",
]

#: Rows of the results table (metric -> decimals): the pooled scores the article reports,
#: per target and spatial R², then km and minutes, pooled and per user (macro medians).
TABLE_METRICS = {
    "rmse": 3,
    "r2": 3,
    "r2_gap": 3,
    "r2_lon": 3,
    "r2_lat": 3,
    "r2_spatial": 3,
    "km_mean": 2,
    "km_median": 2,
    "km_median_users": 2,
    "minutes_median": 0,
    "minutes_median_users": 0,
}

#: The run of each model in the book's form (offset targets; the Transformer with positions).
#: The article's form is :data:`checkin_traj.comparison.ARTICLE_FORM`.
BOOK_FORM = {"lstm": "offset", "seq2seq": "offset", "transformer": "positions_offset"}

#: The boosted-tree peer of every results table (chapter 02's ``boosted`` result): the
#: squared-error loss, the one the networks minimise.
BOOSTED_PEER = "hist_gradient_boosting_squared_error"

#: Chapter parameters that are training settings, and their ``run_seeds`` keywords.
TRAINING_PARAMETERS = {"EPOCHS": "epochs", "BATCH_SIZE": "batch_size", "PATIENCE": "patience"}

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
    """One model chapter's shared state: its windows, settings, the baselines and its runs.

    Build it with :meth:`open`. Attributes: ``workdir``, ``model`` (the result name, e.g.
    ``"lstm"``), ``data`` (the windows of chapter 02's protocol), ``parameters`` (the
    chapter's ``PARAMETERS``), ``baselines`` (chapter 02's saved result), ``baseline_val``
    (the baselines' validation scores), ``strongest`` (the strongest baseline by
    validation RMSE), ``boosted`` (chapter 02's boosted-tree result, or None), ``runs``
    (label -> ``SeedRuns``, after :meth:`train`), ``verdicts`` (metric -> label ->
    ``Verdict``, after :meth:`results_table`) and ``forms_verdict`` (the article's form
    against the book's, after :meth:`results_table`).
    """

    def __init__(self, workdir, model, data, baselines, baseline_val, *, metric="rmse", parameters=None, boosted=None):
        self.workdir, self.model, self.data = workdir, model, data
        self.baselines, self.baseline_val, self.boosted = baselines, baseline_val, boosted
        self.parameters = _upper_case(parameters)
        self.strongest = strongest_baseline(baseline_val, metric=metric)
        # each verdict's bar: the baseline strongest on validation by that verdict's own metric
        # (by RMSE a conditional mean, by median km persistence)
        self.references = {name: strongest_baseline(baseline_val, metric=name) for name in VERDICT_METRICS}
        self.runs, self.arguments, self.verdicts, self.training = {}, {}, {}, {}
        self.forms_verdict = None

    @classmethod
    def open(cls, workdir, model, parameters=None, *, metric="rmse"):
        """Rebuild chapter 02's windows from the clean check-ins and read the baselines.

        Also quiets TensorFlow's start-up logs (:func:`quiet_session`), so call it before
        anything imports TensorFlow.

        Parameters
        ----------
        workdir : str or Path
            The run's folder (``WORKDIR``), holding chapters 01-02's results.
        model : str
            The model's result name (``"lstm"``, ``"seq2seq"``, ``"transformer"``, ...).
        parameters : mapping, optional
            The chapter's parameters with their values, e.g. its ``globals()`` (only the
            upper-case names are read): training settings and hyperparameters (see the
            module's text).
        metric : str
            The metric the strongest baseline is chosen by (on validation).
        """
        from .data.provenance import load_clean
        from .results import results_dir
        from .sequences import build_windows, check_windows_hash

        quiet_session()
        saved = load_results(workdir, "protocol")
        data = build_windows(load_clean(workdir), **saved["extra"])
        if "test_windows_hash" in saved["metrics"]:  # chapter 02's test windows, by content
            check_windows_hash(data, saved["metrics"]["test_windows_hash"], where="chapter 02's protocol")
        baselines = load_results(workdir, "baselines")
        boosted = load_results(workdir, "boosted") if (results_dir(workdir) / "boosted.json").exists() else None
        return cls(
            workdir, model, data, baselines, baseline_scores(workdir, data, split="val"),
            metric=metric, parameters=parameters, boosted=boosted,
        )

    # ------------------------------------------------------------------ settings

    def setting(self, name):
        """The chapter parameter ``name`` (e.g. ``"SEEDS"``), or an error naming it."""
        if name not in self.parameters:
            raise ValueError(
                f"the {self.model} chapter has no parameter {name!r}: pass its globals() to ModelChapter.open "
                f"(it has {sorted(self.parameters)})"
            )
        return self.parameters[name]

    @property
    def training_settings(self) -> dict:
        """``epochs``, ``batch_size`` and ``patience`` from the chapter's parameters."""
        return {keyword: self.setting(name) for name, keyword in TRAINING_PARAMETERS.items()}

    @property
    def seeds(self) -> list:
        return [int(seed) for seed in self.setting("SEEDS")]

    @property
    def hyperparameters(self) -> dict:
        """The book form's hyperparameters: every parameter whose lower-case name the builder accepts."""
        from .models import hyperparameter_names

        accepted = hyperparameter_names(self.model, "book")
        return {name.lower(): value for name, value in self.parameters.items() if name.lower() in accepted}

    # ------------------------------------------------------------------ windows and the model

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

    def build(self, **changes):
        """The book form's Keras model with the chapter's hyperparameters (``changes`` override them)."""
        from .models import build_model

        return build_model(self.model, "book", **self.shape, **{**self.hyperparameters, **changes})

    def architecture(self, **changes):
        """:func:`checkin_traj.plots.architecture.architecture_diagram` of :meth:`build`."""
        from .plots.architecture import architecture_diagram
        from .results import MODEL_NAMES

        model = self.build(**changes)
        return architecture_diagram(model, title=f"{MODEL_NAMES.get(self.model, self.model)}: {model.count_params():,} weights")

    def forms_table(self) -> pd.DataFrame:
        """Every difference between the article's form and the book's (:func:`checkin_traj.models.variant_differences`)."""
        from .models import variant_differences

        return variant_differences(self.model)

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

    def form_runs(self, variations=None) -> dict:
        """The runs :meth:`train_forms` trains: label -> ``run_seeds`` arguments.

        Each variation (a label prefix -> hyperparameter changes) is trained in both forms:
        the article's (``"absolute"`` targets) and the book's (``"offset"``), labelled
        ``"<prefix>_<mode>"`` (or just the mode without variations).
        """
        from .models import VARIANT_TARGET_MODES, article_hyperparameters

        runs = {}
        for prefix, changes in (variations or {"": {}}).items():
            book = {**self.hyperparameters, **changes}
            for variant, mode in VARIANT_TARGET_MODES.items():
                hyperparameters = book if variant == "book" else article_hyperparameters(self.model, book)
                runs[f"{prefix}_{mode}" if prefix else mode] = {"hyperparameters": hyperparameters, "target_mode": mode, "variant": variant}
        return runs

    def train_forms(self, variations=None, *, verbose=1):
        """Train both forms (and every variation, see :meth:`form_runs`) over the chapter's ``SEEDS``,
        with its ``EPOCHS``, ``BATCH_SIZE`` and ``PATIENCE``."""
        return self.train(self.form_runs(variations), seeds=self.seeds, verbose=verbose, **self.training_settings)

    def train_once(self, *, target_mode="offset", seed=None, **changes):
        """One more training run of the book's form, for the exercises: the chapter's settings,
        its hyperparameters with ``changes``, seed ``seed`` (the first of ``SEEDS`` by default)."""
        from .training import train_model

        return train_model(
            self.model, self.data, hyperparameters={**self.hyperparameters, **changes}, target_mode=target_mode,
            seed=self.seeds[0] if seed is None else seed, **self.training_settings,
        )

    def score(self, prediction, *, split="test") -> dict:
        """Every metric of ``prediction`` (scaled, or a trained model to predict with) on ``split``."""
        from .metrics import evaluate

        if hasattr(prediction, "predict"):
            prediction = prediction.predict(split)
        return evaluate(self.data, prediction, split=split)

    def seed_score(self, run, *, metric="rmse", seed=None) -> float:
        """Test ``metric`` of one seed of ``run`` (the first seed by default)."""
        runs = self._trained()
        if run not in runs:
            raise ValueError(f"no run {run!r}; the runs are {list(runs)}")
        metrics = runs[run].metrics
        return float(metrics.loc[metrics.index[0] if seed is None else seed, metric])

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

    def loss_figure(self):
        """The training curves of every run (:func:`checkin_traj.plots.models.loss_curves`)."""
        from .plots.models import loss_curves

        return loss_curves(self.histories())

    def _trained(self):
        if not self.runs:
            raise ValueError("no runs yet: call train(...) first")
        return self.runs

    # ------------------------------------------------------------------ results

    def baseline_prediction(self, name=None) -> np.ndarray:
        """Test predictions of a baseline (the strongest by default), as chapter 02 saved them."""
        return self.baselines["arrays"][name or self.strongest]

    def reference(self, metric) -> str:
        """The baseline a ``metric``'s verdicts are against: the strongest on validation by that
        metric (:attr:`references`), else the strongest by RMSE."""
        return self.references.get(metric, self.strongest)

    def judge(self, *, metrics=tuple(VERDICT_METRICS), n_boot=1000):
        """Every run against the baseline strongest by each metric (:attr:`references`), by the book's one rule (:func:`versus_baseline`)."""
        self.verdicts = {
            metric: {
                run: versus_baseline(
                    self.label(run),
                    seed_runs,
                    self.data,
                    baseline=self.reference(metric),
                    baseline_prediction=self.baseline_prediction(self.reference(metric)),
                    baseline_metrics=self.baseline_test.loc[self.reference(metric)],
                    metric=metric,
                    n_boot=n_boot,
                )
                for run, seed_runs in self._trained().items()
            }
            for metric in metrics
        }
        return self.verdicts

    @property
    def article_run(self):
        """The label of the run in the article's form, or None when it was not trained."""
        from .comparison import ARTICLE_FORM

        run = ARTICLE_FORM.get(self.model, ("absolute",))[0]
        return run if run in self.runs else None

    @property
    def book_run(self):
        """The label of the run in the book's form, or None when it was not trained."""
        run = BOOK_FORM.get(self.model, "offset")
        return run if run in self.runs else None

    def results_frame(self, *, n_boot=1000) -> pd.DataFrame:
        """The one results table, as strings: one column per run, the strongest baseline and
        the boosted-tree peer; one row per metric of :data:`TABLE_METRICS` (mean ± std over
        seeds), then the difference from the strongest baseline with its 95 % interval over
        users and the verdict (RMSE and median km), the article's form against the book's,
        and how many runs the epoch cap ended.

        Also decides the verdicts (:meth:`judge`, :attr:`forms_verdict`), which :meth:`record` glues.
        """
        from .metrics import METRIC_LABELS
        from .training import runs_at_cap

        verdicts = self.judge(n_boot=n_boot)
        runs = self._trained()
        article, book = self.article_run, self.book_run
        self.forms_verdict = (
            self.compare_runs(article, book, metric="rmse", n_boot=n_boot) if article and book and article != book else None
        )
        rows = {METRIC_LABELS.get(metric, metric): metric for metric in TABLE_METRICS}
        verdict_rows = {
            metric: f"vs `{self.reference(metric)}`: {_DIFFERENCE_LABELS[metric]}" for metric in verdicts
        }
        forms_row = f"article's form vs book's: {_DIFFERENCE_LABELS['rmse']}"
        cap_row = "runs ended by the epoch cap"
        columns = {}
        for run, seed_runs in runs.items():
            summary = seed_runs.summary()
            column = {
                label: _mean_std(summary, metric, TABLE_METRICS[metric]) for label, metric in rows.items()
            }
            for metric, label in verdict_rows.items():
                column[label] = _interval_text(verdicts[metric][run], 2 if "km" in metric else 4)
            column[forms_row] = _interval_text(self.forms_verdict, 4) if run == article and self.forms_verdict else ""
            counts = runs_at_cap(seed_runs)
            column[cap_row] = f"{counts['at_cap']} of {counts['runs']}"
            columns[self.label(run)] = column
        reference = {f"strongest baseline: {self.strongest}": self.baseline_test.loc[self.strongest]}
        for metric, name in self.references.items():
            if name != self.strongest:
                reference[f"strongest by {METRIC_LABELS.get(metric, metric)}: {name}"] = self.baseline_test.loc[name]
        if self.boosted is not None and BOOSTED_PEER in self.boosted["tables"]["test"].index:
            reference[f"boosted trees: {BOOSTED_PEER}"] = self.boosted["tables"]["test"].loc[BOOSTED_PEER]
        for name, scores in reference.items():
            column = {label: _number(scores, metric, TABLE_METRICS[metric]) for label, metric in rows.items()}
            columns[name] = {**column, **{label: "" for label in (*verdict_rows.values(), forms_row, cap_row)}}
        return pd.DataFrame(columns).rename_axis("test windows")

    def results_table(self, *, n_boot=1000):
        """:meth:`results_frame`, styled so that long cells wrap within the page."""
        from .comparison import wrapped

        return wrapped(self.results_frame(n_boot=n_boot), width="13em")

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
        """Save the runs for chapter 06 (:func:`checkin_traj.results.results_payload`), with the
        test windows' hash.

        ``hyperparameters`` defaults to each run's ``hyperparameters`` given to :meth:`train`.
        """
        from .sequences import test_windows_hash

        if hyperparameters is None:
            hyperparameters = {label: arguments.get("hyperparameters", {}) for label, arguments in self.arguments.items()}
        verdicts = {metric: {run: verdict.as_dict() for run, verdict in by_run.items()} for metric, by_run in self.verdicts.items()}
        payload = results_payload(self._trained(), hyperparameters=hyperparameters, training=self.training, verdicts=verdicts)
        payload["extra"]["test_windows_hash"] = test_windows_hash(self.data)  # chapter 06 checks it
        return save_results(self.workdir, self.model, **payload)

    def glue_values(self) -> dict:
        """The values every model chapter records, named ``<model>_...``."""
        from .metrics import ARTICLE_SCORES
        from .models import ARTICLE_TIME_READING
        from .results import MODEL_NAMES
        from .training import runs_at_cap

        runs, prefix = self._trained(), self.model
        seconds = [s for seed_runs in runs.values() for history in seed_runs.histories.values() for s in history["seconds"][1:]]
        counts = runs_at_cap(runs)
        values = {
            f"{prefix}_train_windows": len(self.data.train),
            f"{prefix}_seconds_per_epoch": float(np.mean(seconds)) if seconds else float("nan"),
            f"{prefix}_epochs_mean": float(np.mean([seed_runs.metrics["epochs_run"].mean() for seed_runs in runs.values()])),
            f"{prefix}_epochs_cap": int(self.training.get("epochs", 0)),
            f"{prefix}_runs_total": counts["runs"],
            f"{prefix}_runs_at_cap": counts["at_cap"],
            f"{prefix}_runs_stopped_early": counts["stopped_early"],
            f"{prefix}_strongest_baseline": self.strongest,
            f"{prefix}_strongest_md": f"`{self.strongest}`",
            f"{prefix}_km_strongest_md": f"`{self.references['km_median']}`",
            f"{prefix}_baseline_rmse": float(self.baseline_test.loc[self.strongest, "rmse"]),
            "article_time_reading": ARTICLE_TIME_READING,
        }
        if self.forms_verdict is not None:
            values[f"{prefix}_forms_md"] = self.forms_verdict.sentence(3)
            values[f"{prefix}_forms_outcome"] = self.forms_verdict.outcome
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

    def finish(self, **extra):
        """:meth:`save` the runs for chapter 06, then :meth:`record` the chapter's glue (and ``extra``)."""
        self.save()
        self.record(**extra)


def _upper_case(parameters):
    """The upper-case names of a mapping (a chapter's ``globals()``) and their values."""
    if parameters is None:
        return {}
    if not hasattr(parameters, "items"):
        raise TypeError(
            f"parameters must map names to values (pass the chapter's globals()), got {type(parameters).__name__}"
        )
    return {name: value for name, value in parameters.items() if name.isupper() and not name.startswith("_")}


#: How the difference a verdict is decided on reads in the results table.
_DIFFERENCE_LABELS = {"rmse": "Δ MSE [95 % interval], verdict", "km_median": "Δ median km [95 % interval], verdict"}


def _mean_std(summary, metric, digits):
    if metric not in summary.index:
        return "–"
    mean, std = float(summary.loc[metric, "mean"]), float(summary.loc[metric, "std"])
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if np.isfinite(std) else f"{mean:.{digits}f}"


def _number(scores, metric, digits):
    value = scores.get(metric)
    return "–" if value is None or not np.isfinite(float(value)) else f"{float(value):.{digits}f}"


def _interval_text(verdict, digits):
    """``"-0.0012 [-0.0015, -0.0009]: beats"``."""
    d = verdict.difference
    return f"{d.estimate:+.{digits}f} [{d.low:+.{digits}f}, {d.high:+.{digits}f}]: {verdict.outcome}"


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
