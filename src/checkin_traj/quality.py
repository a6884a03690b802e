"""The quality record: a run's headline numbers, read back from what its chapters saved.

:func:`collect` reads ``WORKDIR/results`` into one JSON-able record: each model run's test
metrics (mean and standard deviation over seeds) and verdicts against the strongest
baseline, the baselines' test scores, the next-venue chapter's table when it ran, the data,
the commit and the date. Every build words from it the headline findings the book's
introduction opens with (:func:`stage_headline`). The committed record of the full profile
and the README's results table belong to the benchmarks (``benchmarks/quality_record.py``).
"""

from __future__ import annotations

import math
from pathlib import Path

from .data.provenance import read_provenance
from .results import load_results, results_dir

__all__ = ["MODEL_CHAPTERS", "collect", "headline_markdown", "stage_headline", "HEADLINE"]

#: The page the introduction includes, written into the staged book by every build.
HEADLINE = Path("book") / "_headline.md"
#: Result names of the chapters that train regression models (each saves its model's name in
#: text as ``extra["title"]``, :func:`checkin_traj.report.save_runs`).
MODEL_CHAPTERS = ("lstm", "seq2seq", "transformer")
#: Test metrics kept per run and baseline (those every regression chapter saves).
REGRESSION_METRICS = ("rmse", "r2", "r2_spatial", "km_mean", "km_median", "within_1km", "minutes_median")
#: Columns kept from the next-venue chapter's table.
VENUE_METRICS = ("acc@1", "acc@5", "acc@10", "mrr", "ndcg@10", "km_median", "within_1km")


def _number(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _model_entry(saved, name) -> dict:
    extra, metrics = saved["extra"], saved["metrics"]
    runs = {}
    for run in extra.get("runs", []):
        runs[run] = {
            metric: {"mean": _number(metrics.get(f"{run}_{metric}_mean")), "std": _number(metrics.get(f"{run}_{metric}_std"))}
            for metric in REGRESSION_METRICS
            if f"{run}_{metric}_mean" in metrics
        }
        runs[run]["seeds"] = len(extra.get("seeds", {}).get(run, []))
    verdicts = {}
    for metric, by_run in (extra.get("verdicts") or {}).items():
        for run, verdict in by_run.items():
            verdicts.setdefault(run, {})[metric] = {
                "outcome": verdict["outcome"], "reference": verdict["reference"], "difference": _number(verdict["difference"]),
                "low": _number(verdict["difference_low"]), "high": _number(verdict["difference_high"]),
            }
    return {"title": extra.get("title", name), "runs": runs, "verdicts": verdicts}


def _table_rows(table, columns) -> dict:
    kept = [column for column in columns if column in table.columns]
    return {str(name): {column: _number(row[column]) for column in kept} for name, row in table.iterrows()}


def collect(workdir, *, profile, date=None, commit=None) -> dict:
    """The record of the run in ``workdir`` (after chapters 01-02 at least) with build ``profile``.

    ``date`` and ``commit`` are recorded as given (the benchmark's record gives them). Returns
    ``profile``, ``date``, ``commit``, ``data`` (the source's
    description and whether it was synthetic), ``baselines`` (name -> test metric -> value),
    ``models`` (result name -> ``runs`` and ``verdicts``), and ``venues`` (baseline or model
    -> metric) when the next-venue chapter ran.
    """
    workdir = Path(workdir)
    source = read_provenance(workdir)["source"]
    record = {
        "profile": str(profile),
        "date": date,
        "commit": commit,
        "data": {"description": source["description"], "synthetic": bool(source.get("synthetic"))},
        "baselines": _table_rows(load_results(workdir, "baselines")["tables"]["test"], REGRESSION_METRICS),
        "models": {},
    }
    saved = {path.stem for path in results_dir(workdir).glob("*.json")}
    if "boosted" in saved:  # chapter 02's boosted-tree peers, beside the naive baselines
        record["baselines"].update(_table_rows(load_results(workdir, "boosted")["tables"]["test"], REGRESSION_METRICS))
    for name in MODEL_CHAPTERS:
        if name in saved:
            record["models"][name] = _model_entry(load_results(workdir, name), name)
    if "venues" in saved:
        venues = load_results(workdir, "venues")
        record["venues"] = _table_rows(venues["tables"]["test"], VENUE_METRICS)
        record["venue_best"] = venues["extra"].get("best_form")
        record["venue_verdicts"] = [
            {key: verdict[key] for key in ("metric", "reference", "outcome", "mean", "reference_mean", "difference", "difference_low", "difference_high")}
            for verdict in venues["extra"].get("verdicts", [])
        ]
        if "field" in venues["tables"]:  # the same on the windows the field's common protocol scores
            record["venues_field"] = {
                "protocol": venues["extra"]["field"],
                "scores": _table_rows(venues["tables"]["field"], VENUE_METRICS),
            }
    return record


def fmt(value, digits=3, *, percent=False) -> str:
    """``value`` rounded to ``digits`` (or as a percentage), "–" for a missing one."""
    if value is None:
        return "–"
    return f"{100 * value:.1f} %" if percent else f"{value:.{digits}f}"


def signed(value, digits=3) -> str:
    """``value`` rounded to ``digits`` with its sign (a difference), but one that rounds to zero as plain ``0.0``, never ``-0.0``."""
    return f"{value:+.{digits}f}" if round(value, digits) != 0 else f"{0.0:.{digits}f}"


def _best_run(entry, metric="km_median"):
    scored = [(scores[metric]["mean"], run) for run, scores in entry["runs"].items() if scores.get(metric, {}).get("mean") is not None]
    return min(scored)[1] if scored else None


def headline_markdown(record) -> str:
    """The findings the introduction opens with, worded from ``record`` (Markdown)."""
    if not record or not record.get("models"):
        return "The chapters of this build have not all run, so there are no headline findings to show yet."
    sentences = []
    for name, entry in record["models"].items():
        run = _best_run(entry)
        verdict = entry["verdicts"].get(run, {}).get("km_median") if run else None
        if verdict is None:
            continue
        km = entry["runs"][run]["km_median"]["mean"]
        sentences.append(
            f"- **{entry.get('title') or name}** ({run}): median error {km:.2f} km; against "
            f"`{verdict['reference']}` ({verdict['outcome']}) the difference is {signed(verdict['difference'], 2)} km "
            f"(95 % interval {signed(verdict['low'], 2)} to {signed(verdict['high'], 2)})."
        )
    sentences += _venue_headlines(record)
    note = " These numbers come from synthetic data, not from Gowalla." if record["data"]["synthetic"] else ""
    return f"What this build found on {record['data']['description']}:{note}\n\n" + "\n".join(sentences)


def _venue_headlines(record):
    best = record.get("venue_best") or "ranker"
    for verdict in record.get("venue_verdicts") or []:
        yield (
            f"- **Next venue** (the `{best}` ranker), {verdict['metric']}: {fmt(verdict['mean'])} against "
            f"{fmt(verdict['reference_mean'])} for `{verdict['reference']}` ({verdict['outcome']}; difference "
            f"{signed(verdict['difference'])}, 95 % interval {signed(verdict['difference_low'])} to {signed(verdict['difference_high'])})."
        )


def stage_headline(workdir, site, *, profile) -> dict | None:
    """Write :data:`HEADLINE` (the page the introduction includes) into the staged book ``site`` from the run in
    ``workdir``; returns the record (``None`` when chapters 01-02 have not run there)."""
    try:
        record = collect(workdir, profile=profile)
    except FileNotFoundError:
        record = None
    target = Path(site) / HEADLINE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(headline_markdown(record) + "\n")
    return record


