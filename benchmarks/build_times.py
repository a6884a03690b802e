"""The build-times record: how long each chapter of a complete build took, kept with the benchmarks.

``make book`` and ``make workshop`` run the build through this script, which then writes
the profile's entry into ``benchmarks/records/build_times.json`` and re-renders
``benchmarks/BUILD_TIMES.md`` (the book's timings appendix includes it). Only a complete
build of the ``full`` or ``workshop`` profile is recorded; other builds run as
``checkin-traj build`` would.

Usage::

    python benchmarks/build_times.py --profile full      # the build, then its record
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from checkin_traj import build
from checkin_traj.data.atomic import atomic_path

ROOT = Path(__file__).resolve().parents[1]
RECORDED_PROFILES = ("full", "workshop")  # a complete build of these writes the committed record
BUILD_TIMES_RECORD = Path("benchmarks") / "records" / "build_times.json"
BUILD_TIMES_PAGE = Path("benchmarks") / "BUILD_TIMES.md"


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {cores} usable cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def _commit(root: Path) -> str | None:
    try:
        completed = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() or None


def build_times_entry(root: Path, result: build.BuildResult, entries: dict, *, note: str | None = None) -> dict:
    """One profile's record: per chapter its last execution's seconds and whether this build reused it."""
    chapters = {}
    for name in result.notebooks:
        entry = entries.get(name) or {}
        chapters[name] = {
            "seconds": entry.get("seconds", result.seconds.get(name)),
            "executed_at": entry.get("executed_at"),
            "cached": name in result.cached,
            "this_build_seconds": round(result.seconds.get(name, 0.0), 3),
        }
    record = {
        "measured": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(),
        "commit": _commit(root),
        "chapters": chapters,
        "book_seconds": round(result.seconds["jupyter-book build"], 3) if "jupyter-book build" in result.seconds else None,
    }
    if note:
        record["note"] = note
    return record


def write_build_times(root: Path, profile: str, result: build.BuildResult, entries: dict, *, note=None, extra=None) -> Path:
    """Put ``profile``'s timings into ``root/benchmarks/records/build_times.json`` and re-render the page.

    ``extra`` (a dict) is stored beside the profiles, e.g. the cold and warm builds of
    ``benchmarks/bench_build.py`` under ``"cold_warm"``.
    """
    path = Path(root) / BUILD_TIMES_RECORD
    try:
        document = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        document = {}
    document.setdefault("profiles", {})
    if result is not None:
        previous = document["profiles"].get(profile) or {}
        entry = build_times_entry(root, result, entries, note=note)
        if entry["book_seconds"] is None:
            entry["book_seconds"] = previous.get("book_seconds")
        document["profiles"][profile] = entry
    document.update(extra or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as partial:
        Path(partial).write_text(json.dumps(document, indent=1) + "\n")
    with atomic_path(Path(root) / BUILD_TIMES_PAGE) as partial:
        partial.write_text(render_build_times(document))
    return path


def render_build_times(document: dict) -> str:
    """The Markdown of ``benchmarks/BUILD_TIMES.md`` from the build-times record."""
    lines = [
        "<!-- Written by `python benchmarks/build_times.py` (make book, make workshop) and",
        "     `python benchmarks/bench_build.py --write-record`; do not edit by hand. -->",
        "",
    ]
    profiles = document.get("profiles") or {}
    if not profiles:
        lines.append("No build has been recorded yet.")
    for profile, entry in profiles.items():
        lines += [
            f"### The `{profile}` profile",
            "",
            f"Measured {entry.get('measured')} on {entry.get('machine')}; commit `{entry.get('commit')}`."
            + (f" {entry['note']}" if entry.get("note") else ""),
            "",
            "| chapter | executed in (s) | in this build |",
            "| --- | ---: | --- |",
        ]
        total = 0.0
        for name, chapter in entry.get("chapters", {}).items():
            seconds = chapter.get("seconds") or 0.0
            total += seconds
            when = (chapter.get("executed_at") or "")[:16].replace("T", " ")
            state = f"reused (executed {when} UTC)" if chapter.get("cached") else "executed"
            lines.append(f"| {name} | {seconds:.1f} | {state} |")
        lines.append(f"| **all chapters** | **{total:.1f}** | |")
        if entry.get("book_seconds") is not None:
            lines.append(f"| jupyter-book build | {entry['book_seconds']:.1f} | |")
        lines.append("")
    cold_warm = document.get("cold_warm")
    if cold_warm:
        lines += [
            "### Cold and warm builds",
            "",
            f"Measured {cold_warm.get('measured')} on {cold_warm.get('machine')}; commit `{cold_warm.get('commit')}`; "
            f"the `{cold_warm.get('profile')}` profile, by `benchmarks/bench_build.py`. Cold: an empty workdir, every "
            "chapter executed. Warm: the same build again, nothing changed. Prose edit: one sentence of a chapter's "
            "text changed, nothing executed.",
            "",
            "| build | seconds | chapters executed | chapters reused |",
            "| --- | ---: | ---: | ---: |",
        ]
        for run_name in ("cold", "warm", "prose edit"):
            run_entry = cold_warm.get("runs", {}).get(run_name)
            if run_entry:
                lines.append(
                    f"| {run_name} | {run_entry['seconds']:.1f} | {run_entry['executed']} | {run_entry['reused']} |"
                )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/build_times.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=build.PROFILES, default="full")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project (default: this repository)")
    arguments = parser.parse_args(argv)
    result = build.run(arguments.profile, root=arguments.root)
    print(result.summary())
    if arguments.profile in RECORDED_PROFILES:
        entries = build.read_cache(result.workdir)["chapters"]
        print(f"recorded in {write_build_times(arguments.root, arguments.profile, result, entries)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
