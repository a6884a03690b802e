"""Chapter 08's plumbing: every window's metrics, the tables, the place pick and the verdicts.

Chapter 08 (``notebooks/08_next_venue.md``) trains its ranker on the page and calls these
functions with explicit arguments, each taking what the previous ones returned::

    data, baselines = load_protocol(WORKDIR)                        # chapter 02's windows and baselines
    context = VenueContext(data, size=CANDIDATES, n_near=N_NEAR)     # counted on the training rows
    windows = {split: context.windows(split) for split in ("train", "val", "test")}
    baseline = baseline_values(context, "test", persistence=baselines.predictions["persistence"])
    runs = {form: {seed: score_run(train_ranker(...), context, windows) for seed in SEEDS} for form in FORMS}
    best = best_form(runs)                                          # on the validation windows
    gate = fit_stay_gate(*context.stay_inputs("train"))             # stay or move, on the page
    stay = {split: gate.probability(context.stay_inputs(split)[0]) for split in ("val", "test")}
    picks = place_picks(runs, best, context, windows, stay)          # the gate's factor chosen on validation
    table = results_frame(baseline, runs, picks)                     # every baseline and ranker, test windows
    verdicts = judge_ranker(runs, best, picks, baseline, data.test.user, bars=[...])

Metrics are kept per window (:func:`window_metrics`) so that the verdicts resample users;
:func:`readable` shows a table in words, the saved tables keep the short column names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..checks import check_positive
from ..metrics import errors_km
from ..quality import signed
from ..report import wrapped
from ..verdicts import best_run, compare, window_losses
from .evaluate import baseline_rankings
from .features import _lookup
from .metrics import acc_at_k, ndcg_at_k, reciprocal_rank, top_km_error
from .model import PLACE_RADIUS_KM, place_mass, probabilities, stay_or_move, top_venues

__all__ = [
    "TABLE_METRICS", "RANKING_METRICS", "DISTANCE_METRICS", "FORM_LABELS", "PLACE_LABEL", "PERSISTENCE",
    "window_metrics", "summarise", "top_km", "where_next_goes", "baseline_values", "score_run", "seed_table",
    "best_form", "visited", "repeat_caption", "PlacePicks", "place_picks", "lever_table", "results_frame", "distance_frame",
    "judge_ranker", "metric_values", "readable"
]

#: Columns of the saved tables, in order: the ranking metrics, then the distance of the top venue.
TABLE_METRICS = ("acc@1", "acc@5", "acc@10", "mrr", "ndcg@10", "km_mean", "km_median", "within_1km")
RANKING_METRICS = TABLE_METRICS[:5]
DISTANCE_METRICS = TABLE_METRICS[5:]

#: How the ranker's forms are named in tables and text.
FORM_LABELS = {"features": "ranker (features)", "sequence": "ranker (features + GRU)"}

#: The row of the best form's venue picked for the place (:func:`place_picks`).
PLACE_LABEL = "ranker, place pick"

#: Chapter 02's persistence (the last position): a distance, no venue.
PERSISTENCE = "persistence (last position)"

#: How :func:`readable` shows a column: its header in words, with the unit, and how its numbers are written.
HEADERS = {
    "acc@1": ("top-1 accuracy (%)", "percent"),
    "acc@5": ("top-5 accuracy (%)", "percent"),
    "acc@10": ("top-10 accuracy (%)", "percent"),
    "mrr": ("mean reciprocal rank", "score"),
    "ndcg@10": ("NDCG of the top 10", "score"),
    "km_mean": ("mean distance (km)", "km"),
    "km_median": ("median distance (km)", "km"),
    "within_1km": ("within 1 km (%)", "percent"),
    "epochs_run": ("epochs run", "count"),
    "share of test windows": ("share of test windows (%)", "percent"),
    "val acc@1": ("top-1 accuracy (%)", "percent"),
    "val km_median": ("median distance (km)", "km"),
    "val within_1km": ("within 1 km (%)", "percent"),
    "stay share": ("picks that stay (%)", "percent"),
    "persistence: within 1 km": ("persistence: within 1 km (%)", "percent"),
    "place pick: within 1 km": ("place pick: within 1 km (%)", "percent"),
    "persistence: median km": ("persistence: median distance (km)", "km"),
    "place pick: median km": ("place pick: median distance (km)", "km"),
}

#: How :func:`readable` names the rows (the saved tables keep the short names).
ROW_LABELS = {"popular": "most popular venues", "user_frequent": "user's most frequent venues",
              "transition": "transitions from the last venue", "last_venue": "last venue"}

_DIGITS = {"percent": 1, "score": 3, "km": 2, "count": 0}


# --------------------------------------------------------------------------- per window


def window_metrics(ranked, target, km) -> dict:
    """Per-window values of every metric of :data:`TABLE_METRICS` (``km``: the top venue's distance)."""
    km = np.asarray(km, dtype=float)
    values = {f"acc@{k}": acc_at_k(ranked, target, k) for k in (1, 5, 10)}
    values["mrr"] = reciprocal_rank(ranked, target)
    values["ndcg@10"] = ndcg_at_k(ranked, target, 10)
    values["km"] = km
    values["within_1km"] = (km <= 1.0).astype(float)
    return values


def summarise(values, windows=None) -> dict:
    """Every metric of :data:`TABLE_METRICS` over the windows (``windows``: a boolean mask, all by
    default) from :func:`window_metrics`; NaN for a metric ``values`` lacks (persistence has no
    venue) or when no window is kept."""
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


def top_km(context, ranked, split) -> np.ndarray:
    """Km from each window's top-ranked venue to the real next check-in of ``split`` (NaN: none ranked)."""
    part = context.data.split(split)
    return top_km_error(ranked, part.y_raw[:, 2], part.y_raw[:, 1], context.venue_lat, context.venue_lon)


# --------------------------------------------------------------------------- the windows and the baselines


def visited(context, split="test") -> np.ndarray:
    """Per window of ``split``: whether its user had visited its next venue in training (memory, not exploration)."""
    part = context.data.split(split)
    target, user = context.ids[part.target_row], context.users[part.target_row]
    return (target >= 0) & (_lookup(context.user_visits, user * np.int64(context.n_venues) + np.maximum(target, 0)) > 0)


def repeat_caption(context, split="test", windows=None) -> str:
    """The line under a venue table: the **repeat rate** of its windows (``windows``: a mask, all by default)."""
    rate = visited(context, split)[slice(None) if windows is None else windows].mean()
    return f"Repeat rate: {rate:.1%} of these windows' next venues had been visited by their user in training."


def where_next_goes(context, test_windows) -> pd.DataFrame:
    """Where the test windows' next check-ins go: a venue the user knows, the last venue, a venue
    absent from training, one of the candidates (the ceiling of any ranker)."""
    part = context.data.test
    target = context.ids[part.target_row]
    rows = {
        "a venue the user visited in training": float(visited(context, "test").mean()),
        "the last input check-in's venue": float(np.mean((target >= 0) & (target == context.ids[part.target_row - 1]))),
        "a venue absent from every training row": float(np.mean(target < 0)),
        f"one of the {context.size} candidates": test_windows.recall,
    }
    return pd.DataFrame({"share of test windows": rows})


def baseline_values(context, split="test", *, persistence=None) -> dict:
    """Baseline name -> per-window metric values on ``split`` (:func:`window_metrics`).

    The venue baselines (:func:`checkin_traj.venues.evaluate.baseline_rankings`), and, given
    chapter 02's ``persistence`` prediction of ``split`` (scaled, (n, 3)), its distance
    (:data:`PERSISTENCE`: ``km`` and ``within_1km`` only).
    """
    target = context.ids[context.data.split(split).target_row]
    values = {
        name: window_metrics(ranked, target, top_km(context, ranked, split))
        for name, ranked in baseline_rankings(context.data, split).items()
    }
    if persistence is not None:
        km = window_losses(context.data, persistence, "km_median", split=split)
        values[PERSISTENCE] = {"km": km, "within_1km": (km <= 1.0).astype(float)}
    return values


# --------------------------------------------------------------------------- the ranker's runs


def score_run(trained, context, windows) -> dict:
    """A TrainedRanker scored on ``windows["val"]`` and ``windows["test"]`` (VenueWindows of ``context``).

    Returns ``history``, ``best_epoch`` (0-based), the ``ranker`` itself, and per split: the
    per-window metrics (``run[split]``), the top 10 venues (``ranked_<split>``) and every
    candidate's probability (``probs_<split>``, float32).
    """
    run = {"history": trained.history, "best_epoch": trained.best_epoch, "ranker": trained}
    for split in ("val", "test"):
        scores = trained.scores(windows[split])
        ranked = top_venues(scores, windows[split].candidates, k=10)
        run[split] = window_metrics(ranked, windows[split].target, top_km(context, ranked, split))
        run[f"ranked_{split}"] = ranked
        run[f"probs_{split}"] = probabilities(scores).astype(np.float32)
    return run


def _check_runs(runs):
    if not runs or not all(runs.values()):
        raise ValueError("no trained ranker in runs: give form -> seed -> score_run(...) for at least one form and seed")


def seed_table(runs, split="test", *, windows=None) -> pd.DataFrame:
    """One row per form and seed: the metrics on ``split`` (on ``windows`` only, a boolean mask,
    when given) and the epochs run. ``runs``: form -> seed -> :func:`score_run`."""
    _check_runs(runs)
    rows = []
    for form, by_seed in runs.items():
        for seed, run in by_seed.items():
            epochs_run = len(run["history"]["loss"])
            rows.append({"form": form, "seed": seed, **summarise(run[split], windows), "epochs_run": epochs_run})
    return pd.DataFrame(rows)


def best_form(runs, *, metric="acc@1") -> str:
    """The form with the best mean validation ``metric`` over seeds (never the test windows), by
    the book's one choice of a best run (:func:`checkin_traj.verdicts.best_run`)."""
    means = seed_table(runs, "val").groupby("form", sort=False)[metric].mean()
    return str(best_run(means.to_frame(f"val_{metric}_mean"), metric=metric))


@dataclass(frozen=True)
class PlacePicks:
    """The best form's place pick per seed (:func:`place_picks`): ``factor`` of the stay-or-move gate,
    chosen on the validation windows; ``table``: per factor tried, the validation ``val km_median``,
    ``val within_1km`` and ``stay share`` (mean over seeds); ``test``: seed -> per-window metrics of
    the picks on the test windows (:func:`window_metrics`), ``val`` on the validation windows and
    ``val_moving`` there without the stay option; ``stay_share``: the test picks that stay."""

    form: str
    factor: float
    table: pd.DataFrame
    test: dict
    stay_share: float
    val: dict
    val_moving: dict


def place_picks(runs, form, context, windows, stay, *, factors=(0.5, 0.75, 1.0, 1.5, 2.0), radius_km=PLACE_RADIUS_KM):
    """The place of ``form``'s probabilities: the venue at the centre of their mass
    (:func:`checkin_traj.venues.model.place_mass`), or the last position itself where the
    stay-or-move gate's probability ``stay[split]`` is worth more (:func:`checkin_traj.venues.model.stay_or_move`).

    Every factor is tried on the validation windows; the one with the lowest median distance (mean
    over seeds; ties: the larger share within 1 km) is kept, and the test windows are scored with
    it (never the other way round). A pick that stays is the last venue, at persistence's distance.
    """
    by_seed, picked = runs[form], {}
    for split in ("val", "test"):
        part = context.data.split(split)
        step = errors_km(part.y_raw, part.last_raw)  # persistence's distance
        for seed, run in by_seed.items():
            mass = place_mass(run[f"probs_{split}"], windows[split].candidates, context.venue_lat, context.venue_lon,
                              part.last_raw[:, 2], radius_km=radius_km)
            venues = mass.pick()
            picked[split, seed] = mass, venues, np.asarray(top_km(context, venues, split)), step

    def score(split, factor):
        out, stays = {}, []
        for seed in by_seed:
            mass, venues, km, step = picked[split, seed]
            stay_here = stay_or_move(mass, stay[split], factor=factor)
            last = windows[split].last_venue[:, None]
            ranked = np.where(stay_here[:, None], np.concatenate([last, venues[:, :-1]], axis=1), venues)
            out[seed] = window_metrics(ranked, windows[split].target, np.where(stay_here, step, km))
            stays.append(stay_here.mean())
        return out, float(np.mean(stays))

    rows, val = {}, {}
    for factor in factors:
        values, stays = score("val", factor)
        val[float(factor)] = values
        rows[float(factor)] = {"val km_median": float(np.mean([np.median(v["km"]) for v in values.values()])),
                               "val within_1km": float(np.mean([v["within_1km"].mean() for v in values.values()])),
                               "stay share": stays}
    table = pd.DataFrame(rows).T.rename_axis("gate factor")
    factor = float(table.sort_values(["val km_median", "val within_1km"], ascending=[True, False], kind="stable").index[0])
    test, stay_share = score("test", factor)
    return PlacePicks(form=form, factor=factor, table=table, test=test, stay_share=stay_share,
                      val=val[factor], val_moving=score("val", np.inf)[0])


def lever_table(rows, users, *, metrics=("acc@1", "km_median", "within_1km"), n_boot=1000) -> pd.DataFrame:
    """The ablation table: per lever, the validation ``metrics`` with it and their difference from the
    same ranker without it, with the book's 95 % interval over ``users`` (:func:`checkin_traj.verdicts.compare`).
    ``rows``: label -> (per-window metrics with the lever, without it), :func:`window_metrics`."""
    table = {}
    for label, (with_it, without) in rows.items():
        table[label] = row = {}
        for metric in metrics:
            loss = "km" if metric == "km_median" else metric
            verdict = compare(with_it[loss], without[loss], users, metric=metric, n_boot=n_boot)
            row[metric] = summarise(with_it)[metric]
            row.update({f"{metric} {part}": getattr(verdict.difference, part) for part in ("estimate", "low", "high")})
            row[f"{metric} outcome"] = verdict.outcome
    return pd.DataFrame(table).T


# --------------------------------------------------------------------------- results


def _spread(rows, label, per_seed):
    rows[label] = {metric: float(np.mean([values[metric] for values in per_seed])) for metric in TABLE_METRICS}
    rows[label]["seeds"] = len(per_seed)
    for metric in ("acc@1", "km_median", "within_1km"):
        spread = np.std([values[metric] for values in per_seed], ddof=1) if len(per_seed) > 1 else np.nan  # none of one seed
        rows[label][f"{metric} std"] = float(spread)


def results_frame(baseline, runs, picks=None, *, windows=None) -> pd.DataFrame:
    """Test metrics of every baseline and every form (mean over seeds, with ``<metric> std``
    columns for Acc@1, the median km and the share within 1 km), and of the place pick, on the
    test windows ``windows`` selects (a boolean mask; all by default). ``baseline``:
    :func:`baseline_values` of the test windows; ``runs``: form -> seed -> :func:`score_run`
    (empty for the baselines alone); ``picks``: :class:`PlacePicks`, optional.
    """
    rows = {name: summarise(values, windows) for name, values in baseline.items()}
    if runs:
        _check_runs(runs)
    for form, by_seed in runs.items():
        _spread(rows, FORM_LABELS.get(form, form), [summarise(run["test"], windows) for run in by_seed.values()])
    if picks is not None:
        _spread(rows, PLACE_LABEL, [summarise(values, windows) for values in picks.test.values()])
    table = pd.DataFrame(rows).T
    return table.reindex(columns=[*TABLE_METRICS, "acc@1 std", "km_median std", "within_1km std", "seeds"])


def distance_frame(persistence_km, place_km, *, radius_km=1.0) -> pd.DataFrame:
    """The test windows split by whether the next check-in lies within ``radius_km`` of the last one
    (persistence is right on all of the first part, on none of the second). Per part: its share,
    the share within ``radius_km`` and the median km of persistence (``persistence_km``, (n,)) and
    of the place pick (``place_km``: one (n,) array per seed; mean over seeds)."""
    check_positive("radius_km", radius_km)
    persistence = np.asarray(persistence_km, dtype=float)
    picks = [np.asarray(km, dtype=float) for km in place_km]
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
    return pd.DataFrame(rows).T


def judge_ranker(runs, form, picks, baseline, users, *, bars, n_boot=1000) -> list:
    """``form`` (of ``runs``: form -> seed -> :func:`score_run`; the best on validation) against each
    of ``bars``, ``(baseline, metric)`` pairs such as ``("user_frequent", "acc@1")``, by the
    book's one rule (:func:`checkin_traj.verdicts.compare`, ``n_boot`` resamples of ``users``,
    the user of each test window). ``baseline``: :func:`baseline_values` of the test windows;
    with ``picks`` (:class:`PlacePicks`), ``km_median`` and ``within_1km`` judge the place pick.
    """
    verdicts = []
    for reference, metric in bars:
        loss = "km" if metric in ("km_mean", "km_median") else metric
        if picks is not None and metric in ("km_median", "within_1km"):
            name, per_seed = PLACE_LABEL, list(picks.test.values())
        else:
            name, per_seed = FORM_LABELS.get(form, form), [run["test"] for run in runs[form].values()]
        verdicts.append(
            compare(
                np.stack([values[loss] for values in per_seed]), baseline[reference][loss], users, metric=metric,
                contender=name, reference=reference,
                values=[summarise(values)[metric] for values in per_seed],
                reference_values=[summarise(baseline[reference])[metric]], n_boot=n_boot,
            )
        )
    return verdicts


def metric_values(table) -> dict:
    """The finite numbers of a results table as ``{"<row>_<column>": value}``, ``@`` written
    ``_at_`` and spaces ``_`` (``"user_frequent_acc_at_1"``): the saved result's metrics."""
    return {
        f"{name}_{metric}".replace("@", "_at_").replace(" ", "_"): float(value)
        for name, row in table.iterrows() for metric, value in row.items() if np.isfinite(value)
    }


# --------------------------------------------------------------------------- shown


def _text(value, spread, kind, change=None) -> str:
    if value is None or not np.isfinite(value):
        return ""
    scale, digits = (100.0 if kind == "percent" else 1.0), _DIGITS[kind]
    text = f"{scale * value:.{digits}f}"
    if spread is not None and np.isfinite(spread):
        text += f" ± {scale * spread:.{digits}f}"
    if change is not None:  # a lever's difference and its interval (lever_table)
        estimate, low, high = (signed(scale * part, digits) for part in change)
        text += f" ({estimate} [{low}, {high}])"
    return text


def readable(frame, columns=None, *, index=None, width="9em", caption=None):
    """A table as a reader reads it: headers in words with their units, numbers rounded to what
    they mean (shares in %, km to 10 m, MRR and NDCG to 3 decimals), ``mean ± std`` where a
    ``<column> std`` column holds the spread over seeds, blank where there is no number, and
    cells that wrap so that the table fits the page's column. ``frame``: a table of this module
    (a seed table's rows are named by form and seed); ``columns``: those shown, in order (keys
    of :data:`HEADERS`; by default all that have one; a row left empty is dropped); ``index``:
    the header of the row labels; ``caption``: a line shown under the table.
    """
    if {"form", "seed"} <= set(frame.columns):  # a seed table: one row per form and seed
        labels = [f"{FORM_LABELS.get(form, form)}, seed {seed}" for form, seed in zip(frame["form"], frame["seed"])]
        frame = frame.drop(columns=["form", "seed"]).set_axis(labels)
    columns = [column for column in frame.columns if column in HEADERS] if columns is None else list(columns)
    unknown = [column for column in columns if column not in HEADERS or column not in frame.columns]
    if unknown:
        raise ValueError(f"no such column, or no header in words for it: {unknown}; the table has {list(frame.columns)}")
    shown = pd.DataFrame(
        {
            HEADERS[column][0]: [
                _text(
                    frame.at[row, column],
                    frame.at[row, f"{column} std"] if f"{column} std" in frame.columns else None,
                    HEADERS[column][1],
                    [frame.at[row, f"{column} {part}"] for part in ("estimate", "low", "high")]
                    if f"{column} estimate" in frame.columns else None,
                )
                for row in frame.index
            ]
            for column in columns
        },
        index=[f"{row:g}" if isinstance(row, float) else ROW_LABELS.get(row, row) for row in frame.index],
    )
    shown = shown[(shown != "").any(axis=1)]
    shown.columns.name = index  # shown in the table's top left corner, not on a row of its own
    style = wrapped(shown, width=width)
    return style.set_caption(caption).set_table_styles([{"selector": "caption", "props": [("caption-side", "bottom")]}],
                                                      overwrite=False) if caption else style
