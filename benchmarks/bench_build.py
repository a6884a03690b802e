"""Cold and warm book builds: what the build cache saves.

Copies the book's sources (``_config.yml``, ``_toc.yml``, ``notebooks/``, ``book/``,
``benchmarks/``) into a scratch project (``build/bench/build-project/`` by default, so the
repository's own notebooks are never edited) and builds one profile there three times with
:func:`checkin_traj.build.run`:

1. **cold**: an empty workdir, every chapter executed;
2. **warm**: the same build again, nothing changed (every chapter reused);
3. **prose edit**: one sentence added to the first chapter's text (nothing executed; the
   page shows the sentence).

Each build is timed from start to end, the HTML book included. The default profile is
``test`` (synthetic data, minutes); ``full`` takes hours.

Usage::

    python benchmarks/bench_build.py                   # test profile
    python benchmarks/bench_build.py --write-record    # also update RESULTS.md and the timings page
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import _common
import build_times

NAME = "build"
PROJECT_FILES = ("_config.yml", "_toc.yml")
PROJECT_DIRS = ("notebooks", "book", "benchmarks")
PROSE_EDIT = "\n\nThis sentence was added by benchmarks/bench_build.py after the warm build.\n"


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(prog="bench_build.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=("test", "workshop", "full"), default="test")
    parser.add_argument("--scratch", default=str(_common.REPO_ROOT / "build" / "bench" / "build-project"),
                        help="the scratch project (emptied first)")
    parser.add_argument("--root", default=str(_common.REPO_ROOT), help=argparse.SUPPRESS)  # tests: a tiny project
    _common.add_output_arguments(parser)
    return parser.parse_args(argv)


def copy_project(root: Path, scratch: Path) -> Path:
    """A fresh copy of the book's sources in ``scratch`` (removed first)."""
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    for name in PROJECT_FILES:
        shutil.copy2(root / name, scratch / name)
    for name in PROJECT_DIRS:
        if (root / name).is_dir():
            shutil.copytree(root / name, scratch / name, ignore=shutil.ignore_patterns("_build", "__pycache__"))
    return scratch


def timed_build(profile: str, scratch: Path) -> tuple[dict, object]:
    from checkin_traj import build

    started = time.perf_counter()
    result = build.run(profile, root=scratch, progress=False)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "executed": len(result.executed),
        "reused": len(result.cached),
        "chapters": {name: round(value, 3) for name, value in result.seconds.items()},
    }, result


def measure(profile: str, root: Path, scratch: Path) -> tuple[dict, object, dict]:
    """The three builds; returns (runs, the cold build's result, its cache entries)."""
    from checkin_traj import build

    scratch = copy_project(root, scratch)
    runs = {}
    print(f"[bench] cold build of the {profile} profile in {scratch} ...", flush=True)
    runs["cold"], cold = timed_build(profile, scratch)
    entries = dict(build.read_cache(cold.workdir)["chapters"])
    print(f"[bench] warm build ...", flush=True)
    runs["warm"], _ = timed_build(profile, scratch)
    first = build.toc_chapters(scratch)[0]
    with open(scratch / "notebooks" / f"{first}.md", "a") as handle:
        handle.write(PROSE_EDIT)
    print(f"[bench] build after a prose edit of {first} ...", flush=True)
    runs["prose edit"], edited = timed_build(profile, scratch)
    page = (edited.html / "notebooks" / f"{first}.html").read_text()
    runs["prose edit"]["sentence_on_page"] = "This sentence was added by benchmarks/bench_build.py" in page
    return runs, cold, entries


def render_text(result: dict) -> str:
    rows = [
        [name, f"{run['seconds']:.1f}", str(run["executed"]), str(run["reused"])]
        for name, run in result["runs"].items()
    ]
    return f"book builds, {result['profile']} profile:\n" + _common.text_table(
        ["build", "seconds", "executed", "reused"], rows, align="lrrr"
    )


def render_markdown(result: dict) -> str:
    rows = [
        [name, f"{run['seconds']:.1f}", str(run["executed"]), str(run["reused"])]
        for name, run in result["runs"].items()
    ]
    warm = result["runs"]["warm"]["seconds"]
    cold = result["runs"]["cold"]["seconds"]
    return "\n".join(
        [
            f"## Book builds: cold and warm ({result['profile']} profile)",
            "",
            _common.machine_line(result["machine"]),
            "",
            "Three builds of the same scratch copy of the book, one after the other: cold (empty workdir, "
            "every chapter executed), warm (nothing changed: every chapter reused from the build cache) and "
            "after a one-sentence prose edit of the first chapter (nothing executed; the page shows the sentence: "
            f"{'yes' if result['runs']['prose edit'].get('sentence_on_page') else 'NO'}). Seconds include the "
            "jupyter-book build.",
            "",
            _common.markdown_table(["build", "seconds", "chapters executed", "chapters reused"], rows, align="lrrr"),
            "",
            f"The warm build takes {warm / cold:.0%} of the cold one.",
        ]
    )


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    from checkin_traj import build

    machine = _common.machine_info()
    runs, cold, entries = measure(arguments.profile, Path(arguments.root), Path(arguments.scratch))
    machine["load_average_end"] = _common.load_average()
    result = {"profile": arguments.profile, "machine": machine, "runs": runs}
    _common.print_and_write(NAME, result, arguments, render_text=render_text, render_markdown=render_markdown)
    if arguments.write_record:
        cold_warm = {
            "profile": arguments.profile,
            "measured": machine["date_utc"],
            "machine": build_times._machine(),
            "commit": machine.get("commit"),
            "runs": {name: {key: run[key] for key in ("seconds", "executed", "reused")} for name, run in runs.items()},
        }
        note = "Recorded by `benchmarks/bench_build.py` (its cold build), not by a build of the book itself."
        record_root = Path(arguments.record_dir).parent
        path = build_times.write_build_times(record_root, arguments.profile, cold, entries, note=note, extra={"cold_warm": cold_warm})
        print(f"build times: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
