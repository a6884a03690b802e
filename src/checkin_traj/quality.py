"""The quality record: a run's headline numbers, kept beside the speed records.

A build's chapters save their results in ``WORKDIR/results`` (:mod:`checkin_traj.results`).
:func:`collect` reads them back into one JSON-able record: for every model chapter, each
run's test metrics (mean and standard deviation over seeds) and its verdicts against the
strongest baseline (the paired user-bootstrap interval of the difference, from
:mod:`checkin_traj.verdicts`); the baselines' test scores; the next-venue chapter's table
when it ran; the data the run was made on, the commit and the date.

The full-profile build writes it to :data:`RECORD` (``benchmarks/records/quality.json``).
The README's results table (:func:`readme_table`, between :data:`README_MARKERS`) and the
headline findings the book's introduction opens with (:func:`headline_markdown`) are made
from a record, never typed in.

Command line::

    python -m checkin_traj.quality build/full            # print the record
    python -m checkin_traj.quality build/full --write    # write RECORD and the README table
    python -m checkin_traj.quality --readme              # README table from the committed RECORD
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import subprocess
from pathlib import Path

from .data.atomic import atomic_path
from .data.provenance import read_provenance
from .results import load_results, results_dir

__all__ = [
    "RECORD",
    "README_MARKERS",
    "MODEL_CHAPTERS",
    "collect",
    "write_record",
    "load_record",
    "readme_table",
    "update_readme",
    "headline_markdown",
    "stage_headline",
    "HEADLINE",
]

ROOT = Path(__file__).resolve().parents[2]
#: Where the full-profile build keeps its record (committed, beside the speed records).
RECORD = ROOT / "benchmarks" / "records" / "quality.json"
#: The README section made from the record.
README_MARKERS = ("<!-- begin quality -->", "<!-- end quality -->")
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


def _commit(root=ROOT) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def _model_entry(saved) -> dict:
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
                "outcome": verdict["outcome"],
                "reference": verdict["reference"],
                "difference": _number(verdict["difference"]),
                "low": _number(verdict["difference_low"]),
                "high": _number(verdict["difference_high"]),
            }
    return {"title": extra.get("title", saved.get("name")), "runs": runs, "verdicts": verdicts}


def _table_rows(table, columns) -> dict:
    kept = [column for column in columns if column in table.columns]
    return {str(name): {column: _number(row[column]) for column in kept} for name, row in table.iterrows()}


def collect(workdir, *, profile, date=None, commit=None) -> dict:
    """The record of the run in ``workdir`` (what its chapters saved).

    Parameters
    ----------
    workdir : str or Path
        The run's folder (``build/<profile>``), after chapters 01-02 at least.
    profile : str
        The build profile the chapters ran with.
    date, commit : str, optional
        Default to today (UTC) and the checkout's ``git rev-parse`` (``None`` outside git).

    Returns
    -------
    dict
        ``profile``, ``date``, ``commit``, ``data`` (the source's description and whether
        it was synthetic), ``baselines`` (name -> test metric -> value), ``models``
        (result name -> ``runs`` and ``verdicts``), and ``venues`` (baseline or model ->
        metric) when the next-venue chapter ran.
    """
    workdir = Path(workdir)
    source = read_provenance(workdir)["source"]
    record = {
        "profile": str(profile),
        "date": date or _dt.datetime.now(_dt.timezone.utc).date().isoformat(),
        "commit": commit if commit is not None else _commit(),
        "data": {"description": source["description"], "synthetic": bool(source.get("synthetic"))},
        "baselines": _table_rows(load_results(workdir, "baselines")["tables"]["test"], REGRESSION_METRICS),
        "models": {},
    }
    saved = {path.stem for path in results_dir(workdir).glob("*.json")}
    if "boosted" in saved:  # chapter 02's boosted-tree peers, beside the naive baselines
        record["baselines"].update(_table_rows(load_results(workdir, "boosted")["tables"]["test"], REGRESSION_METRICS))
    for name in MODEL_CHAPTERS:
        if name in saved:
            record["models"][name] = _model_entry(load_results(workdir, name))
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


def write_record(record, path=RECORD) -> Path:
    """Write ``record`` as JSON, atomically, its keys in the order the chapters made them (the
    order of the README's rows), so that the record read back makes the same table."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as scratch:
        Path(scratch).write_text(json.dumps(record, indent=1) + "\n")
    return path


def load_record(path=RECORD) -> dict | None:
    """The committed record, or ``None`` when no full-profile build has written one."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not a quality record ({error})") from None


def _fmt(value, digits=3, *, percent=False) -> str:
    if value is None:
        return "–"
    return f"{100 * value:.1f} %" if percent else f"{value:.{digits}f}"


def _interval(verdict, digits=3) -> str:
    return f"{verdict['outcome']} ({_fmt(verdict['difference'], digits)} [{_fmt(verdict['low'], digits)}, {_fmt(verdict['high'], digits)}])"


def readme_table(record) -> str:
    """The README's results table (Markdown) made from ``record``."""
    if not record:
        return "No full-profile build has written `benchmarks/records/quality.json` yet: run `make book`."
    lines = [
        f"Test windows, {record['data']['description']}; profile `{record['profile']}`, commit "
        f"`{record['commit']}`, {record['date']}. Mean over seeds; each verdict against the baseline strongest "
        "by its metric on the validation windows (difference and 95 % user-bootstrap interval).",
        "",
        "| model | run | RMSE | median km | within 1 km | RMSE verdict | median km verdict |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for name, entry in record["models"].items():
        for run, scores in entry["runs"].items():
            verdicts = entry["verdicts"].get(run, {})
            cells = [
                entry.get("title", name),
                run,
                _fmt(scores.get("rmse", {}).get("mean")),
                _fmt(scores.get("km_median", {}).get("mean"), 2),
                _fmt(scores.get("within_1km", {}).get("mean"), percent=True),
                _interval(verdicts["rmse"]) if "rmse" in verdicts else "–",
                _interval(verdicts["km_median"], 2) if "km_median" in verdicts else "–",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    for name, scores in record["baselines"].items():
        cells = [f"baseline: {name}", "", _fmt(scores.get("rmse")), _fmt(scores.get("km_median"), 2), _fmt(scores.get("within_1km"), percent=True), "", ""]
        lines.append("| " + " | ".join(cells) + " |")
    if record.get("venues"):
        lines += ["", "Next venue (ranking), test windows:", "", *_venue_table(record["venues"])]
    field = record.get("venues_field")
    if field:
        protocol = field["protocol"]
        lines += [
            "",
            f"The same on the {protocol['windows']:,} test windows ({_fmt(protocol['share'], percent=True)}) the field's "
            f"common protocol keeps (users and venues with at least {protocol['min_checkins']} check-ins, the last "
            f"check-in of {protocol['trajectory_hours']:g}-hour trajectories):",
            "",
            *_venue_table(field["scores"]),
        ]
    return "\n".join(lines)


def _venue_table(rows) -> list:
    """Markdown lines of a next-venue table: one row per ranker or baseline."""
    lines = ["| ranker | Acc@1 | Acc@10 | MRR | median km | within 1 km |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, scores in rows.items():
        cells = [
            name,
            _fmt(scores.get("acc@1"), percent=True),
            _fmt(scores.get("acc@10"), percent=True),
            _fmt(scores.get("mrr")),
            _fmt(scores.get("km_median"), 2),
            _fmt(scores.get("within_1km"), percent=True),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def update_readme(readme, record) -> bool:
    """Rewrite the section of ``readme`` between :data:`README_MARKERS`; ``True`` if it changed."""
    readme = Path(readme)
    text = readme.read_text()
    begin, end = README_MARKERS
    if begin not in text or end not in text:
        raise ValueError(f"{readme}: no {begin} ... {end} section to write the results table into")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    new = f"{head}{begin}\n{readme_table(record)}\n{end}{tail}"
    if new != text:
        readme.write_text(new)
    return new != text


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
            f"- **{entry.get('title', name)}** ({run}): median error {km:.2f} km; against "
            f"`{verdict['reference']}` ({verdict['outcome']}) the difference is {verdict['difference']:+.2f} km "
            f"(95 % interval {verdict['low']:+.2f} to {verdict['high']:+.2f})."
        )
    for line in _venue_headlines(record):
        sentences.append(line)
    note = " These numbers come from synthetic data, not from Gowalla." if record["data"]["synthetic"] else ""
    return f"What this build found on {record['data']['description']}:{note}\n\n" + "\n".join(sentences)


def _venue_headlines(record):
    best = record.get("venue_best") or "ranker"
    for verdict in record.get("venue_verdicts") or []:
        yield (
            f"- **Next venue** (the `{best}` ranker), {verdict['metric']}: {_fmt(verdict['mean'])} against "
            f"{_fmt(verdict['reference_mean'])} for `{verdict['reference']}` ({verdict['outcome']}; difference "
            f"{verdict['difference']:+.3f}, 95 % interval {verdict['difference_low']:+.3f} to {verdict['difference_high']:+.3f})."
        )


def stage_headline(workdir, site, *, profile) -> dict | None:
    """Write :data:`HEADLINE` into the staged book ``site`` from the run in ``workdir``.

    The introduction includes that page, so the book opens with what *this* run found.
    Returns the record (``None`` when chapters 01-02 have not run in ``workdir``).
    """
    try:
        record = collect(workdir, profile=profile)
    except FileNotFoundError:
        record = None
    target = Path(site) / HEADLINE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(headline_markdown(record) + "\n")
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m checkin_traj.quality", description="The quality record of a build.")
    parser.add_argument("workdir", nargs="?", help="the run's folder (build/<profile>)")
    parser.add_argument("--profile", default="full")
    parser.add_argument("--write", action="store_true", help=f"write {RECORD.relative_to(ROOT)} and the README table")
    parser.add_argument("--readme", action="store_true", help="rewrite the README table from the committed record")
    arguments = parser.parse_args(argv)
    if arguments.workdir:
        record = collect(arguments.workdir, profile=arguments.profile)
        if arguments.write:
            print(f"wrote {write_record(record)}")
            update_readme(ROOT / "README.md", record)
        else:
            print(json.dumps(record, indent=1))
    elif arguments.readme:
        changed = update_readme(ROOT / "README.md", load_record())
        print("README results table " + ("rewritten" if changed else "already up to date"))
    else:
        parser.error("give a WORKDIR or --readme")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
