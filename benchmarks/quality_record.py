"""The quality record of the full build, and the README's results table made from it.

The book's chapters save their results in ``WORKDIR/results``;
:func:`checkin_traj.quality.collect` reads them back into one record. This script keeps
the full profile's record beside the speed records, in :data:`RECORD`, and rewrites the
README's results table (between :data:`README_MARKERS`) from it, so that no number of the
README is typed in. ``make book`` runs it after a full build.

Usage::

    python benchmarks/quality_record.py build/full            # print the record
    python benchmarks/quality_record.py build/full --write    # write RECORD and the README table
    python benchmarks/quality_record.py --readme              # README table from the committed RECORD
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
from pathlib import Path

from checkin_traj.data.atomic import atomic_path
from checkin_traj.quality import collect, fmt

ROOT = Path(__file__).resolve().parents[1]
#: Where the full-profile build's record is kept (committed, beside the speed records).
RECORD = ROOT / "benchmarks" / "records" / "quality.json"
#: The README section made from the record.
README_MARKERS = ("<!-- begin quality -->", "<!-- end quality -->")


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


def _interval(verdict, digits=3) -> str:
    return f"{verdict['outcome']} ({fmt(verdict['difference'], digits)} [{fmt(verdict['low'], digits)}, {fmt(verdict['high'], digits)}])"


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
                entry.get("title") or name,
                run,
                fmt(scores.get("rmse", {}).get("mean")),
                fmt(scores.get("km_median", {}).get("mean"), 2),
                fmt(scores.get("within_1km", {}).get("mean"), percent=True),
                _interval(verdicts["rmse"]) if "rmse" in verdicts else "–",
                _interval(verdicts["km_median"], 2) if "km_median" in verdicts else "–",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    for name, scores in record["baselines"].items():
        cells = [f"baseline: {name}", "", fmt(scores.get("rmse")), fmt(scores.get("km_median"), 2), fmt(scores.get("within_1km"), percent=True), "", ""]
        lines.append("| " + " | ".join(cells) + " |")
    if record.get("venues"):
        lines += ["", "Next venue (ranking), test windows:", "", *_venue_table(record["venues"])]
    field = record.get("venues_field")
    if field:
        protocol = field["protocol"]
        lines += [
            "",
            f"The same on the {protocol['windows']:,} test windows ({fmt(protocol['share'], percent=True)}) the field's "
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
            fmt(scores.get("acc@1"), percent=True),
            fmt(scores.get("acc@10"), percent=True),
            fmt(scores.get("mrr")),
            fmt(scores.get("km_median"), 2),
            fmt(scores.get("within_1km"), percent=True),
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/quality_record.py", description="The quality record of a build.")
    parser.add_argument("workdir", nargs="?", help="the run's folder (build/<profile>)")
    parser.add_argument("--profile", default="full")
    parser.add_argument("--write", action="store_true", help=f"write {RECORD.relative_to(ROOT)} and the README table")
    parser.add_argument("--readme", action="store_true", help="rewrite the README table from the committed record")
    arguments = parser.parse_args(argv)
    if arguments.workdir:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True)
        record = collect(arguments.workdir, profile=arguments.profile, commit=commit.stdout.strip() or None,
                         date=datetime.datetime.now(datetime.timezone.utc).date().isoformat())
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
