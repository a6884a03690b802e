"""Chapter 08 skeleton: next-venue ranking on chapter 02's windows, judged by the one rule.

::

    chapter = VenueChapter.open(WORKDIR, size=CANDIDATES, n_near=N_NEAR)  # chapter 02's windows, hash checked
    chapter.baselines_table()                                             # venue baselines on the test windows
    chapter.train(FORMS, seeds=SEEDS, epochs=EPOCHS, ...)                 # the ranker, per form and seed
    chapter.results_table()                                               # every ranker, baseline and persistence
    chapter.judge()                                                       # best form (on validation) vs the bars
    chapter.distance_table()                                              # why persistence is hard to beat on km
    chapter.field_table()                                                 # the windows the field's protocol scores
    chapter.save(); chapter.record()

Every metric is computed per window (:mod:`checkin_traj.venues.metrics`) so that the verdicts
(:func:`checkin_traj.verdicts.compare`) resample users. Persistence in km is chapter 02's
``persistence`` prediction (the last position) on the same windows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..checks import check_int, check_positive
from ..verdicts import best_run, compare, record, window_losses
from .evaluate import FIELD_PROTOCOL, baseline_rankings, field_windows
from .features import VenueContext
from .metrics import acc_at_k, ndcg_at_k, reciprocal_rank, top_km_error

__all__ = ["VenueChapter", "TABLE_METRICS", "window_metrics"]

#: Columns of the chapter's tables, in order.
TABLE_METRICS = ("acc@1", "acc@5", "acc@10", "mrr", "ndcg@10", "km_mean", "km_median", "within_1km")

#: How the rankers' forms are named in tables and text.
FORM_LABELS = {"features": "ranker (features)", "sequence": "ranker (features + GRU)"}

#: The row of the best form's venue picked for the place (:meth:`VenueChapter.place_picks`).
PLACE_LABEL = "ranker, place pick"


def window_metrics(ranked, target, km) -> dict:
    """Per-window values of every metric of :data:`TABLE_METRICS` (km: the top venue's error)."""
    km = np.asarray(km, dtype=float)
    values = {f"acc@{k}": acc_at_k(ranked, target, k) for k in (1, 5, 10)}
    values["mrr"] = reciprocal_rank(ranked, target)
    values["ndcg@10"] = ndcg_at_k(ranked, target, 10)
    values["km"] = km
    values["within_1km"] = (km <= 1.0).astype(float)
    return values


def _summary(values, windows=None) -> dict:
    """Every metric of :data:`TABLE_METRICS` over the windows (a boolean mask; all by default)."""
    out = _summary_partial(values, windows)
    return {key: out[key] for key in TABLE_METRICS}


def _losses(metric):
    return "km" if metric in ("km_mean", "km_median") else metric


class VenueChapter:
    """State of chapter 08: the windows, the venue counts, the baselines and the rankers' runs."""

    def __init__(self, workdir, data, persistence_prediction, *, size=200, n_near=50):
        self.workdir, self.data = workdir, data
        self.context = VenueContext(data, size=size, n_near=n_near)
        self.persistence_prediction = persistence_prediction
        self.windows = {}
        self.runs = {}  # form -> seed -> {"val": per-window values, "test": ..., "ranked": (n, 10), "history"}
        self.verdicts = []
        self.training = {}
        self.place_form, self.stay_weight = None, None
        self.field = None  # the field protocol's settings and windows, after field_table()
        self.distances = None  # persistence and the place pick by the length of the step, after distance_table()

    @classmethod
    def open(cls, workdir, *, size=200, n_near=50):
        """Chapter 02's windows (rebuilt from the clean check-ins, test-window hash checked) and
        its persistence prediction."""
        from ..model_chapter import ModelChapter

        opened = ModelChapter.open(workdir, "venues")
        if "persistence" not in opened.baselines["arrays"]:
            raise ValueError(f"chapter 02's baselines in {workdir} have no 'persistence' prediction; rerun chapter 02")
        return cls(workdir, opened.data, opened.baselines["arrays"]["persistence"], size=size, n_near=n_near)

    # ------------------------------------------------------------------ windows and baselines

    def split_windows(self, split):
        if split not in self.windows:
            self.windows[split] = self.context.windows(split)
        return self.windows[split]

    def _km(self, ranked, split):
        part = self.data.split(split)
        return top_km_error(ranked, part.y_raw[:, 2], part.y_raw[:, 1], self.context.venue_lat, self.context.venue_lon)

    def baseline_values(self, split="test") -> dict:
        """Baseline name -> per-window metric values (venue baselines and chapter 02's persistence km)."""
        ctx = self.context
        target = ctx.ids[self.data.split(split).target_row]
        values = {
            name: window_metrics(ranked, target, self._km(ranked, split))
            for name, ranked in baseline_rankings(self.data, split).items()
        }
        if split == "test":
            km = window_losses(self.data, self.persistence_prediction, "km_median", split="test")
            values["persistence (last position)"] = {"km": km, "within_1km": (km <= 1.0).astype(float)}
        return values

    def baselines_table(self, split="test") -> pd.DataFrame:
        """The baselines' metrics on ``split`` (persistence: distances only, NaN elsewhere)."""
        values = self.baseline_values(split)
        return pd.DataFrame({name: _summary_partial(v) for name, v in values.items()}).T

    def facts_table(self) -> pd.DataFrame:
        """Where the test next check-ins go: known venues, the last venue, absent venues, candidate recall."""
        ctx, part = self.context, self.data.test
        target = ctx.ids[part.target_row]
        user = ctx.users[part.target_row]
        nv = np.int64(ctx.n_venues)
        from .features import _lookup

        visited = _lookup(ctx.user_visits, user * nv + np.maximum(target, 0)) > 0
        windows = self.split_windows("test")
        rows = {
            "a venue the user visited in training": float(np.mean(visited & (target >= 0))),
            "the last input check-in's venue": float(np.mean((target >= 0) & (target == ctx.ids[part.target_row - 1]))),
            "a venue absent from every training row": float(np.mean(target < 0)),
            f"one of the {ctx.size} candidates": windows.recall,
        }
        return pd.DataFrame({"share of test windows": rows})

    # ------------------------------------------------------------------ training

    def train(self, forms, *, seeds, verbose=0, **options):
        """Train the ranker of every form once per seed (:func:`checkin_traj.venues.model.train_ranker`)."""
        from .model import probabilities, train_ranker

        if not forms:
            raise ValueError("forms is empty: give at least one of 'features', 'sequence'")
        if len(seeds) < 1:
            raise ValueError("seeds is empty: give at least one seed")
        train, val, test = (self.split_windows(split) for split in ("train", "val", "test"))
        self.training = {**{k: v for k, v in options.items() if np.isscalar(v)}, "seeds": list(seeds), "forms": list(forms)}
        for form in forms:
            self.runs[form] = {}
            for seed in seeds:
                trained = train_ranker(
                    train, val, n_venues=self.context.n_venues, n_users=self.context.n_users,
                    form=form, seed=int(seed), verbose=verbose, **options,
                )
                run = {"history": trained.history, "best_epoch": trained.best_epoch}
                for split, windows in (("val", val), ("test", test)):
                    scores = trained.scores(windows)
                    order = np.argsort(-scores, axis=1, kind="stable")[:, :10]
                    ranked = np.where(
                        np.isfinite(np.take_along_axis(scores, order, axis=1)), np.take_along_axis(windows.candidates, order, axis=1), -1
                    )
                    run[split] = window_metrics(ranked, windows.target, self._km(ranked, split))
                    run[f"ranked_{split}"] = ranked
                    run[f"probs_{split}"] = probabilities(scores).astype(np.float32)
                self.runs[form][int(seed)] = run
        return self.runs

    def place_picks(self, *, stay_weights=(0.0, 0.25, 0.5, 1.0, 2.0), radius_km=1.0) -> pd.DataFrame:
        """The best form's venue picked for the *place* (:func:`checkin_traj.venues.model.place_mass`).

        For every stay weight, the validation share of windows whose picked venue lies within
        1 km of the real check-in (mean over seeds); the weight with the highest share is
        kept, and the test windows are scored with it (never the other way round).
        """
        from .model import place_mass

        form = self.best_form()
        by_seed = self._trained()[form]
        masses = {}
        for split in ("val", "test"):
            windows, part = self.split_windows(split), self.data.split(split)
            masses[split] = {
                seed: place_mass(
                    run[f"probs_{split}"], windows.candidates, self.context.venue_lat, self.context.venue_lon,
                    part.last_raw[:, 2], part.last_raw[:, 1], radius_km=radius_km,
                )
                for seed, run in by_seed.items()
            }
        target_val = self.split_windows("val").target
        rows = {}
        for weight in stay_weights:
            values = [
                window_metrics(mass.pick(weight), target_val, self._km(mass.pick(weight), "val"))
                for mass in masses["val"].values()
            ]
            rows[float(weight)] = {
                "val within_1km": float(np.mean([v["within_1km"].mean() for v in values])),
                "val km_median": float(np.mean([np.nanmedian(v["km"]) for v in values])),
                "val acc@1": float(np.mean([v["acc@1"].mean() for v in values])),
            }
        table = pd.DataFrame(rows).T.rename_axis("stay weight")
        self.stay_weight = float(table["val within_1km"].idxmax())
        target_test = self.split_windows("test").target
        for seed, mass in masses["test"].items():
            ranked = mass.pick(self.stay_weight)
            by_seed[seed]["place_test"] = window_metrics(ranked, target_test, self._km(ranked, "test"))
        self.place_form = form
        return table

    def seed_table(self, split="test", *, windows=None) -> pd.DataFrame:
        """One row per form and seed: the metrics on ``split`` (on ``windows`` only, a boolean
        mask, when given) and the epochs run."""
        rows = []
        for form, by_seed in self._trained().items():
            for seed, run in by_seed.items():
                rows.append(
                    {"form": form, "seed": seed, **_summary(run[split], windows), "epochs_run": len(run["history"]["loss"])}
                )
        return pd.DataFrame(rows)

    def best_form(self, *, metric="acc@1") -> str:
        """The form with the best mean validation ``metric`` over seeds (never the test windows),
        by the book's one choice of a best run (:func:`checkin_traj.verdicts.best_run`)."""
        means = self.seed_table("val").groupby("form", sort=False)[metric].mean()
        return str(best_run(means.to_frame(f"val_{metric}_mean"), metric=metric))

    def _trained(self):
        if not self.runs:
            raise ValueError("no rankers yet: call train(...) first")
        return self.runs

    # ------------------------------------------------------------------ results

    def results_table(self, *, windows=None) -> pd.DataFrame:
        """Test metrics of every baseline and every form (mean over seeds, with ± std columns),
        on the test windows ``windows`` selects (a boolean mask; all by default)."""
        rows = {name: _summary_partial(values, windows) for name, values in self.baseline_values("test").items()}
        seeds = self.seed_table("test", windows=windows)
        for form, group in seeds.groupby("form", sort=False):
            label = FORM_LABELS.get(form, form)
            rows[label] = {metric: float(group[metric].mean()) for metric in TABLE_METRICS}
            rows[label]["seeds"] = len(group)
            for metric in ("acc@1", "km_median", "within_1km"):
                rows[label][f"{metric} std"] = float(group[metric].std(ddof=1)) if len(group) > 1 else 0.0
        if self.place_form is not None:
            runs = self.runs[self.place_form]
            label = PLACE_LABEL
            per_seed = [_summary(run["place_test"], windows) for run in runs.values()]
            rows[label] = {metric: float(np.mean([v[metric] for v in per_seed])) for metric in TABLE_METRICS}
            rows[label]["seeds"] = len(per_seed)
            for metric in ("acc@1", "km_median", "within_1km"):
                rows[label][f"{metric} std"] = float(np.std([v[metric] for v in per_seed], ddof=1)) if len(per_seed) > 1 else 0.0
        table = pd.DataFrame(rows).T
        return table.reindex(columns=[*TABLE_METRICS, "acc@1 std", "km_median std", "within_1km std", "seeds"])

    def distance_table(self, *, radius_km=1.0) -> pd.DataFrame:
        """Why persistence is hard to beat on distance: the test windows split by whether the
        next check-in lies within ``radius_km`` of the last one.

        Persistence is within ``radius_km`` on every window of the first part and on none of
        the second, by definition; the place pick (:meth:`place_picks`) has to win on the
        second part what it loses on the first. Per part: its share of the test windows, and
        the share within ``radius_km`` and the median km of persistence and of the place pick
        (mean over seeds).
        """
        check_positive("radius_km", radius_km)
        if self.place_form is None:
            raise ValueError("no place pick yet: call place_picks() first")
        # persistence's error is the length of the step from the last check-in to the next
        persistence = window_losses(self.data, self.persistence_prediction, "km_median", split="test")
        picks = [run["place_test"]["km"] for run in self.runs[self.place_form].values()]
        near = persistence <= radius_km
        rows = {}
        for name, mask in ((f"next check-in within {radius_km:g} km of the last", near), ("farther", ~near)):
            rows[name] = {
                "share of test windows": float(mask.mean()),
                f"persistence: within {radius_km:g} km": float((persistence[mask] <= radius_km).mean()) if mask.any() else np.nan,
                f"place pick: within {radius_km:g} km": float(np.mean([(km[mask] <= radius_km).mean() for km in picks]))
                if mask.any() else np.nan,
                "persistence: median km": float(np.median(persistence[mask])) if mask.any() else np.nan,
                "place pick: median km": float(np.mean([np.nanmedian(km[mask]) for km in picks])) if mask.any() else np.nan,
            }
        self.distances = pd.DataFrame(rows).T
        return self.distances

    def field_table(self, *, min_checkins=FIELD_PROTOCOL["min_checkins"], trajectory_hours=FIELD_PROTOCOL["trajectory_hours"]):
        """:meth:`results_table` on the test windows the field's common protocol scores
        (:func:`checkin_traj.venues.evaluate.field_windows`): the same models and baselines,
        only the windows scored change. Also keeps the protocol and its windows in ``field``."""
        windows = field_windows(self.data, "test", min_checkins=min_checkins, trajectory_hours=trajectory_hours)
        users = self.data.test.user
        self.field = {
            "min_checkins": int(min_checkins),
            "trajectory_hours": float(trajectory_hours),
            "windows": int(windows.sum()),
            "share": float(windows.mean()) if len(windows) else float("nan"),
            "users": int(len(np.unique(users[windows]))),
        }
        table = self.results_table(windows=windows)
        self.field["table"] = table
        return table

    def judge(self, *, n_boot=1000):
        """The best form (chosen on validation) against persistence, the last venue and the user's
        most frequent venues, by :func:`checkin_traj.verdicts.compare`."""
        form = self.best_form()
        by_seed = self._trained()[form]
        users = self.data.test.user
        baselines = self.baseline_values("test")
        bars = [
            ("persistence (last position)", "km_median"),
            ("persistence (last position)", "within_1km"),
            ("last_venue", "km_median"),
            ("last_venue", "within_1km"),
            ("user_frequent", "acc@1"),
            ("user_frequent", "mrr"),
        ]
        self.verdicts = []
        for reference, metric in bars:
            loss = _losses(metric)
            place = self.place_form is not None and metric in ("km_median", "within_1km")
            key, name = ("place_test", PLACE_LABEL) if place else ("test", FORM_LABELS.get(form, form))
            runs = self.runs[self.place_form] if place else by_seed
            contender_losses = np.stack([run[key][loss] for run in runs.values()])
            values = [_summary(run[key])[metric] for run in runs.values()]
            reference_values = [_summary_partial(baselines[reference])[metric]]
            self.verdicts.append(
                compare(
                    contender_losses, baselines[reference][loss], users, metric=metric,
                    contender=name, reference=reference,
                    values=values, reference_values=reference_values, n_boot=n_boot,
                )
            )
        return self.verdicts

    def goals(self) -> dict:
        """The issue's goals, each True only when its verdict *beats* (interval excluding 0)."""
        if not self.verdicts:
            raise ValueError("no verdicts yet: call judge() first")
        beats = {(v.reference, v.metric): v.beats for v in self.verdicts}
        return {
            "median km below persistence": beats[("persistence (last position)", "km_median")],
            "more within 1 km than persistence": beats[("persistence (last position)", "within_1km")],
            "Acc@1 above the user's most frequent venues": beats[("user_frequent", "acc@1")],
        }

    def verdict_md(self) -> str:
        """The verdicts as a Markdown list, then one sentence on the goals, worded from the run."""
        lines = [f"- {verdict.sentence()}" for verdict in self.judge_or_verdicts()]
        goals = self.goals()
        met = [name for name, ok in goals.items() if ok]
        missed = [name for name, ok in goals.items() if not ok]
        if not missed:
            lines.append("\nEvery goal is met: each interval above excludes 0 on the better side.")
        else:
            lines.append(
                f"\nGoals met: {', '.join(met) if met else 'none'}. Goals not met: {', '.join(missed)}; "
                "the intervals above say by how much."
            )
        return "\n".join(lines)

    def judge_or_verdicts(self):
        return self.verdicts or self.judge()

    # ------------------------------------------------------------------ saving and glue

    def save(self):
        """Save tables, per-seed rankings, histories and verdicts as ``results/venues.json|.npz``."""
        from ..results import save_results

        table = self.results_table()
        arrays = {
            f"{form}_seed{seed}_ranked_test": run["ranked_test"] for form, by_seed in self._trained().items()
            for seed, run in by_seed.items()
        }
        extra = {
            "best_form": self.best_form(),
            "place_form": self.place_form,
            "stay_weight": self.stay_weight,
            "training": self.training,
            "candidates": {"size": self.context.size, "n_near": self.context.generator.n_near},
            "histories": {
                form: {str(seed): run["history"] for seed, run in by_seed.items()} for form, by_seed in self._trained().items()
            },
            "verdicts": [verdict.as_dict() for verdict in self.judge_or_verdicts()],
            "goals": self.goals(),
        }
        metrics = {
            f"{name}_{metric}".replace("@", "_at_").replace(" ", "_"): float(value)
            for name, row in table.iterrows() for metric, value in row.items() if np.isfinite(value)
        }
        tables = {"test": table, "seeds": self.seed_table("test"), "val_seeds": self.seed_table("val"), "facts": self.facts_table()}
        if self.distances is not None:
            tables["distances"] = self.distances
        if self.field is not None:
            tables["field"] = self.field["table"]
            extra["field"] = {key: value for key, value in self.field.items() if key != "table"}
        return save_results(self.workdir, "venues", metrics=metrics, tables=tables, arrays=arrays, extra=extra)

    def glue_values(self) -> dict:
        """The values chapter 08 glues, named ``venues_...``."""
        table = self.results_table()
        form = self.best_form()
        label = FORM_LABELS.get(form, form)
        facts = self.facts_table()["share of test windows"]
        seconds = [s for by_seed in self._trained().values() for run in by_seed.values() for s in run["history"]["seconds"]]
        values = {
            "venues_best_form": label,
            "venues_best_form_md": f"**{label}**",
            "venues_candidates": self.context.size,
            "venues_recall": float(facts.iloc[3]),
            "venues_share_visited": float(facts.iloc[0]),
            "venues_share_last": float(facts.iloc[1]),
            "venues_share_absent": float(facts.iloc[2]),
            "venues_n_venues": self.context.n_venues,
            "venues_train_windows": len(self.data.train),
            "venues_seconds_per_epoch": float(np.mean(seconds)) if seconds else float("nan"),
            "venues_verdict_md": self.verdict_md(),
            "venues_goals_met": int(sum(self.goals().values())),
            "venues_goals": len(self.goals()),
        }
        if self.place_form is not None:
            values["venues_stay_weight"] = self.stay_weight
        names = [(label, "best")] + ([(PLACE_LABEL, "place")] if self.place_form is not None else [])
        for name, key in (
            *names, ("user_frequent", "user_frequent"), ("last_venue", "last_venue"),
            ("persistence (last position)", "persistence"), ("transition", "transition"), ("popular", "popular"),
        ):
            for metric in TABLE_METRICS:
                value = table.loc[name, metric]
                if np.isfinite(value):
                    values[f"venues_{key}_{metric.replace('@', '_at_')}"] = float(value)
        if self.distances is not None:
            near, far = self.distances.index
            values["venues_near_share"] = float(self.distances.loc[near, "share of test windows"])
            pick = next(column for column in self.distances.columns if column.startswith("place pick: within"))
            values["venues_pick_near_within"] = float(self.distances.loc[near, pick])
            values["venues_pick_far_within"] = float(self.distances.loc[far, pick])
        if self.field is not None:
            field = self.field
            values.update({f"venues_field_{key}": field[key] for key in ("min_checkins", "trajectory_hours", "windows", "share", "users")})
            for name, key in ((label, "best"), ("user_frequent", "user_frequent"), ("transition", "transition")):
                for metric in ("acc@1", "acc@5", "acc@10", "mrr"):
                    values[f"venues_field_{key}_{metric.replace('@', '_at_')}"] = float(field["table"].loc[name, metric])
        for verdict in self.judge_or_verdicts():
            key = f"venues_vs_{verdict.reference.split(' ')[0]}_{verdict.metric.replace('@', '_at_')}"
            values[f"{key}_outcome"] = verdict.outcome
        return values

    def record(self, **extra):
        """Glue :meth:`glue_values` and ``extra`` (keys ending ``_md`` as Markdown)."""
        record({**self.glue_values(), **extra})


def _summary_partial(values, windows=None) -> dict:
    """:func:`_summary` for a baseline that has only some metrics (persistence: km only);
    NaN where no window is kept."""
    out = {metric: float("nan") for metric in TABLE_METRICS}
    if windows is not None:
        values = {key: np.asarray(value)[windows] for key, value in values.items()}
    if not len(next(iter(values.values()))):
        return out
    for key in ("acc@1", "acc@5", "acc@10", "mrr", "ndcg@10", "within_1km"):
        if key in values:
            out[key] = float(np.mean(values[key]))
    if "km" in values and np.isfinite(values["km"]).any():
        out["km_mean"] = float(np.nanmean(values["km"]))
        out["km_median"] = float(np.nanmedian(values["km"]))
    return out
