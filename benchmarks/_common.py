"""What both benchmark scripts share: arguments, the machine, peak memory, tables and the record.

The record is ``benchmarks/RESULTS.md``: one section per benchmark, between
``<!-- begin NAME -->`` and ``<!-- end NAME -->`` markers, rewritten by that benchmark's
``--write-record`` (the other sections are left as they are), with the full results next
to it in ``benchmarks/records/NAME.json``. Nothing in it is typed by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from checkin_traj.data.atomic import atomic_path

BENCHMARK_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARK_DIR.parent
RECORD_NAME = "RESULTS.md"
SECTION_ORDER = ("full_size", "nyc", "build", "predict")  # order of the sections in RESULTS.md
RECORD_HEADER = (
    "<!-- Written by `python benchmarks/bench_full_size.py --write-record`,\n"
    "     `python benchmarks/bench_nyc.py --write-record`,\n"
    "     `python benchmarks/bench_build.py --write-record` and\n"
    "     `python benchmarks/bench_predict.py --write-record`; do not edit by hand. -->\n"
)
PACKAGES = ("numpy", "pandas", "pyarrow", "numba", "tensorflow-cpu", "tensorflow", "keras")
BYTES_PER_GB = 10**9


# --------------------------------------------------------------------------- arguments


# The names keep their underscore: argparse names the type function in its message for a
# value that is not a number ("invalid _positive_int value: 'x'").
def _positive_int(text):
    """``--option`` type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def _non_negative_int(text):
    """``--option`` type: an integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """``--json``, ``--markdown``, ``--write-record`` and the hidden ``--record-dir`` of both scripts."""
    parser.add_argument("--json", metavar="OUT", help="write the results as JSON")
    parser.add_argument("--markdown", metavar="OUT", help="write the results as a Markdown section")
    parser.add_argument("--write-record", action="store_true", help="update benchmarks/RESULTS.md and records/")
    parser.add_argument("--record-dir", default=str(BENCHMARK_DIR), help=argparse.SUPPRESS)


# --------------------------------------------------------------------------- the machine


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_total_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024  # the file counts KiB
    except (OSError, ValueError, IndexError):
        pass
    return None


def _git_commit() -> str | None:
    try:
        completed = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() or None


def _versions() -> dict:
    versions = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the system has none)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def machine_info() -> dict:
    """Where and when a benchmark ran: CPU, cores, RAM, versions, date, commit, load."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": usable,
        "memory_bytes": _memory_total_bytes(),
        "system": f"{platform.system()} {platform.release()}",
        "versions": _versions(),
        "commit": _git_commit(),
        "load_average_start": load_average(),
    }


def machine_line(machine: dict) -> str:
    """One Markdown line describing the machine of a record."""
    memory = machine.get("memory_bytes")
    memory_text = f"{memory / 2**30:.0f} GiB RAM" if memory else "RAM unknown"
    versions = machine.get("versions", {})
    tensorflow = versions.get("tensorflow-cpu") or versions.get("tensorflow")
    stack = ", ".join(
        f"{name} {versions[name]}" for name in ("python", "numpy", "pandas", "pyarrow", "numba") if name in versions
    )
    if tensorflow:
        stack += f", TensorFlow {tensorflow}"
    if "keras" in versions:
        stack += f", Keras {versions['keras']}"
    start, end = machine.get("load_average_start"), machine.get("load_average_end")
    load = "unknown"
    if start:
        load = f"{start[0]:.2f} at the start" + (f", {end[0]:.2f} at the end" if end else "")
    return (
        f"Measured {machine.get('date_utc')} on {machine.get('cpu')} ({machine.get('cores_usable')} usable of "
        f"{machine.get('cores')} cores, {memory_text}), {machine.get('system')}; {stack}; "
        f"commit `{machine.get('commit')}`. Load average (1 min): {load}."
    )


# --------------------------------------------------------------------------- memory


def peak_rss_bytes() -> int:
    """This process's peak resident set size so far, bytes.

    On Linux ``VmHWM`` of ``/proc/self/status``: the peak of this process's own address
    space. Not ``ru_maxrss``: after ``fork``/``exec`` Linux carries the parent's peak into
    the child's ``ru_maxrss``, so a child started by a big parent would report the parent's
    peak. ``ru_maxrss`` only where there is no ``/proc``.
    """
    high_water = _proc_status_bytes("VmHWM:")
    if high_water is not None:
        return high_water
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024  # Linux counts KiB


def _proc_status_bytes(key: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) * 1024  # the file counts KiB
    except (OSError, ValueError, IndexError):
        pass
    return None


def current_rss_bytes() -> int | None:
    """This process's resident set size now, bytes (``VmRSS``; Linux only, None elsewhere)."""
    return _proc_status_bytes("VmRSS:")


def run_child(script: Path, arguments: list[str], *, environment=None, timeout_s: float = 3600.0) -> dict:
    """Run ``script`` in a fresh Python process and return the JSON object it prints last.

    A fresh process is the only way to read a peak resident set size (``VmHWM``) that
    belongs to one measurement alone, or to start one with other ``malloc`` settings
    (``environment``: variables added to this process's environment).
    """
    environment = dict(os.environ, PYTHONHASHSEED="0", TF_CPP_MIN_LOG_LEVEL="3", **(environment or {}))
    completed = subprocess.run(
        [sys.executable, str(script), *arguments],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=environment,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"child run {script.name} {' '.join(arguments)} failed with exit code {completed.returncode}:\n"
            f"{completed.stderr[-4000:]}"
        )
    last_line = completed.stdout.strip().splitlines()[-1]
    return json.loads(last_line)


# --------------------------------------------------------------------------- formatting


def format_rate(rows_per_second: float | None) -> str:
    """Rows per second with a unit prefix: ``5.21 M``, ``830 k``."""
    if rows_per_second is None:
        return "-"
    if rows_per_second >= 1e6:
        return f"{rows_per_second / 1e6:.2f} M"
    if rows_per_second >= 1e3:
        return f"{rows_per_second / 1e3:.1f} k"
    return f"{rows_per_second:.0f}"


def format_seconds(seconds: float) -> str:
    """Seconds, about three significant figures: ``12.3``, ``1.23``, ``0.0123``, ``0.0004``."""
    if seconds >= 10:
        return f"{seconds:.1f}"
    return f"{seconds:.3g}" if seconds >= 0.01 else f"{seconds:.4f}"


def format_gb(value_bytes: int | None) -> str:
    return "-" if value_bytes is None else f"{value_bytes / BYTES_PER_GB:.2f} GB"


def markdown_table(header: list[str], rows: list[list[str]], *, align: str | None = None) -> str:
    """A GitHub/MyST pipe table; ``align`` holds one ``l`` or ``r`` per column."""
    align = align or "l" * len(header)
    rule = ["---:" if side == "r" else "---" for side in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(header: list[str], rows: list[list[str]], *, align: str | None = None) -> str:
    """The same table as plain text for the terminal."""
    align = align or "l" * len(header)
    cells = [header] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]

    def line(row):
        return "  ".join(
            cell.rjust(width) if side == "r" else cell.ljust(width) for cell, width, side in zip(row, widths, align)
        ).rstrip()

    return "\n".join([line(header), line(["-" * width for width in widths])] + [line(row) for row in cells[1:]])


# --------------------------------------------------------------------------- build times


def read_build_timings(build_dir: Path, *, profiles=("full", "workshop", "test")) -> dict:
    """Seconds per chapter of each book build found: ``{profile: {chapter: seconds}}``.

    Reads ``build_dir/<profile>/timings.json`` (written by ``python -m checkin_traj.build``);
    profiles without one are left out.
    """
    timings = {}
    for profile in profiles:
        path = Path(build_dir) / profile / "timings.json"
        if not path.exists():
            continue
        try:
            seconds = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not valid JSON ({error})") from error
        if not isinstance(seconds, dict) or not all(isinstance(value, (int, float)) for value in seconds.values()):
            raise ValueError(f"{path}: expected an object of chapter -> seconds, found {seconds!r:.200}")
        timings[profile] = {str(name): float(value) for name, value in seconds.items()}
    return timings


def build_timings_table(timings: dict) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of seconds per chapter, one column per profile, with a total row."""
    profiles = list(timings)
    chapters = []
    for per_chapter in timings.values():
        chapters += [name for name in per_chapter if name not in chapters]
    rows = [
        [name] + [f"{timings[profile][name]:.1f}" if name in timings[profile] else "-" for profile in profiles]
        for name in chapters
    ]
    rows.append(["**total**"] + [f"{sum(timings[profile].values()):.1f}" for profile in profiles])
    return ["chapter", *[f"{profile} (s)" for profile in profiles]], rows


# --------------------------------------------------------------------------- output and the record


def write_json(result: dict, path) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(result, indent=1) + "\n")


def write_text(text: str, path) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(text if text.endswith("\n") else text + "\n")


def _section_pattern(name: str):
    return re.compile(rf"<!-- begin {re.escape(name)} -->\n.*?<!-- end {re.escape(name)} -->\n", re.DOTALL)


def write_record(name: str, result: dict, section: str, *, record_dir=BENCHMARK_DIR) -> Path:
    """Put one benchmark's section into ``record_dir/RESULTS.md`` and its JSON beside it.

    Parameters
    ----------
    name : str
        The benchmark (``"full_size"`` or ``"nyc"``); its section is replaced, the others kept.
    result : dict
        Everything measured, written to ``record_dir/records/<name>.json``.
    section : str
        The section's Markdown (starting with a level-2 heading).
    record_dir : path
        Folder of ``RESULTS.md`` (``benchmarks/`` by default; tests use a temporary one).

    Returns
    -------
    pathlib.Path
        The record file.
    """
    if name not in SECTION_ORDER:
        raise ValueError(f"name must be one of {SECTION_ORDER}, got {name!r}")
    record_dir = Path(record_dir)
    write_json(result, record_dir / "records" / f"{name}.json")
    record = record_dir / RECORD_NAME
    text = record.read_text() if record.exists() else ""
    sections = {}
    for other in SECTION_ORDER:
        found = _section_pattern(other).search(text)
        if found:
            sections[other] = found.group(0)
    sections[name] = f"<!-- begin {name} -->\n{section.strip()}\n<!-- end {name} -->\n"
    body = "\n".join(sections[other] for other in SECTION_ORDER if other in sections)
    write_text(RECORD_HEADER + "\n" + body, record)
    return record


def print_and_write(name: str, result: dict, arguments, *, render_text, render_markdown) -> None:
    """Print ``result`` as text, then write it where the output arguments ask.

    ``arguments`` holds ``json``, ``markdown``, ``write_record`` and ``record_dir`` (from
    :func:`add_output_arguments`); ``render_text`` and ``render_markdown`` are the
    benchmark's own renderers of ``result``.
    """
    print()
    print(render_text(result))
    if arguments.json:
        write_json(result, arguments.json)
    if arguments.markdown:
        write_text(render_markdown(result), arguments.markdown)
    if arguments.write_record:
        record = write_record(name, result, render_markdown(result), record_dir=arguments.record_dir)
        print(f"record: {record}")
