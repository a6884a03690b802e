"""Load and clean a check-in file the size of the whole SNAP Gowalla file, against a floor.

The floor is the least any reader can do: ``pyarrow.csv`` parsing the file into the same
columns and types as :func:`checkin_traj.data.snap.read_checkins` (tab-separated, no header,
int64 ids, second timestamps, float64 degrees), with no validation and no conversion to
pandas. In one run the script times, best of ``--repeat`` interleaved rounds:

1. the floor;
2. :func:`checkin_traj.read_checkins` (parse, range checks, pandas frame);
3. :func:`checkin_traj.clean` with its defaults (sort, duplicates, speed, stays, box);
4. load + clean, steps 2 and 3 back to back (the number the target is about);
5. a diagnosis, not a target: load + clean in a child process whose glibc keeps freed memory
   for reuse (:data:`RETAINED_MALLOC`); the gap to step 4 is what fresh memory costs on the
   machine (kernel page faults; in a virtual machine also its host), not the code's work.

Each step also reports the CPU seconds (user and system) of its fastest round.

Peak memory is the peak resident set size (RSS: what the operating system charges the
process; ``VmHWM`` on Linux, see :func:`_common.peak_rss_bytes`) of a fresh child process
that does load + clean once; the child's resident size before loading (interpreter,
pandas, pyarrow, numba) is reported too, and the floor's peak for comparison.

Targets (issue "full SNAP size"): load + clean at most 3x the floor, peak memory under
4 GB (4 * 10**9 bytes). The script exits 0 whatever it measures (it is a measurement, not
a test) unless ``--check`` is given.

Usage::

    python benchmarks/bench_full_size.py                         # 196,591 users, ~6.4 M rows
    python benchmarks/bench_full_size.py --keep build/bench/checkins-full.txt --write-record
    python benchmarks/bench_full_size.py --users 300 --repeat 1 --json out.json --markdown out.md
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pv

import _common
from _common import _non_negative_int, _positive_int

SNAP_CHECKINS = 6_442_890  # lines of loc-gowalla_totalCheckins.txt
SNAP_USERS = 196_591  # users with check-ins in it (the generator makes ~33 rows per user)
TARGET_RATIO = 3.0  # load + clean at most this many times the floor
TARGET_PEAK_BYTES = 4 * _common.BYTES_PER_GB  # peak resident set size of load + clean
NAME = "full_size"
GZIP_MAGIC = b"\x1f\x8b"
STAGES = ("floor", "read_checkins", "clean", "load_clean")
STAGE_LABELS = {
    "floor": "pyarrow.csv parse (floor)",
    "read_checkins": "read_checkins",
    "clean": "clean",
    "load_clean": "load + clean",
}
# glibc settings that keep freed memory in the process for reuse (no mmap for big blocks, no
# trimming), instead of returning it to the kernel and asking for fresh pages again.
RETAINED_MALLOC = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(64 * 2**30)}
RETAINED_LABEL = "load + clean, freed memory kept †"
MEMORY_METHOD = (
    "peak resident set size (VmHWM) of a fresh child process that imports the package, "
    "then runs the step once"
)


# --------------------------------------------------------------------------- arguments


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        prog="python benchmarks/bench_full_size.py",
        description="Time load + clean of a full-size SNAP check-in file against a bare pyarrow parse.",
    )
    parser.add_argument("--users", type=_positive_int, default=SNAP_USERS, help="synthetic users (default: SNAP's)")
    parser.add_argument("--seed", type=_non_negative_int, default=0, help="seed of the synthetic generator")
    parser.add_argument(
        "--rows", type=_positive_int, default=SNAP_CHECKINS,
        help="cut the synthetic file to at most this many lines (default: SNAP's 6,442,890)",
    )
    parser.add_argument("--repeat", type=_positive_int, default=3, help="interleaved rounds; the best counts")
    parser.add_argument("--keep", metavar="FILE", help="write the synthetic file here and reuse it next time")
    parser.add_argument("--gzip", action="store_true", help="gzip the synthetic file (like SNAP's download)")
    parser.add_argument("--data", metavar="FILE", help="time an existing SNAP-format file instead of a synthetic one")
    _common.add_output_arguments(parser)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--child", nargs=2, metavar=("STAGE", "FILE"), help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.data and arguments.keep:
        parser.error(
            "--data and --keep exclude each other: --data times an existing file, --keep caches a synthetic one"
        )
    if arguments.keep and arguments.gzip != arguments.keep.endswith(".gz"):
        parser.error(f"--keep {arguments.keep}: the file name must end with .gz exactly when --gzip is given")
    if arguments.data and not Path(arguments.data).is_file():
        parser.error(f"--data {arguments.data}: no such file")
    return arguments


# --------------------------------------------------------------------------- the file


def _is_gzip(path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def _count_lines(path) -> int:
    stream = pa.input_stream(str(path), compression="gzip" if _is_gzip(path) else None)
    lines = 0
    with stream:
        while chunk := stream.read(1 << 24):
            lines += chunk.count(b"\n")
    return lines


def synthetic_file(path: Path, *, users: int, seed: int, rows: int) -> dict:
    """Write (or reuse) a synthetic SNAP file at ``path``; a ``.json`` beside it says what it holds.

    Returns
    -------
    dict
        ``users``, ``seed``, ``rows_requested``, ``lines``, ``bytes``, ``generate_seconds``
        and ``reused`` (True when an existing file with the same parameters was kept).
    """
    from checkin_traj.data.synthetic import generate_checkins, write_snap_checkins

    sidecar = path.with_name(path.name + ".json")
    wanted = {"users": users, "seed": seed, "rows_requested": rows}
    if path.exists() and sidecar.exists():
        described = json.loads(sidecar.read_text())
        if {key: described.get(key) for key in wanted} == wanted and described.get("bytes") == path.stat().st_size:
            return {**described, "reused": True}
    started = time.perf_counter()
    check_ins = generate_checkins(n_users=users, seed=seed)
    if len(check_ins) > rows:
        check_ins = check_ins.iloc[:rows]  # users ascending: only the last user's history is cut
    write_snap_checkins(check_ins, path)
    described = {
        **wanted,
        "lines": len(check_ins),
        "bytes": path.stat().st_size,
        "generate_seconds": round(time.perf_counter() - started, 2),
    }
    del check_ins
    _common.write_json(described, sidecar)
    return {**described, "reused": False}


# --------------------------------------------------------------------------- what is timed


def floor_parse(path) -> pa.Table:
    """The bare pyarrow parse: the reader's columns and types, no checks, no pandas."""
    stream = pa.input_stream(str(path), compression="gzip" if _is_gzip(path) else None)
    with stream:
        return pv.read_csv(
            stream,
            read_options=pv.ReadOptions(column_names=["user", "time", "lat", "lon", "location_id"]),
            parse_options=pv.ParseOptions(delimiter="\t", quote_char=False, ignore_empty_lines=False),
            convert_options=pv.ConvertOptions(
                column_types={
                    "user": pa.int64(),
                    "time": pa.timestamp("s"),
                    "lat": pa.float64(),
                    "lon": pa.float64(),
                    "location_id": pa.int64(),
                },
                null_values=[],
                strings_can_be_null=False,
                timestamp_parsers=["%Y-%m-%dT%H:%M:%SZ"],
            ),
        )


def warm_up() -> None:
    """Compile (or load from numba's cache) the cleaning kernels on a tiny frame."""
    from checkin_traj.cleaning import clean
    from checkin_traj.data.synthetic import generate_checkins

    clean(generate_checkins(n_users=20, seed=0))


class Clock:
    """Wall-clock and CPU seconds (user and system, all threads) of this process."""

    def __init__(self):
        self.started = self._now()

    @staticmethod
    def _now():
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return time.perf_counter(), usage.ru_utime, usage.ru_stime

    def elapsed(self) -> dict:
        """``{"wall": s, "user": s, "system": s}`` since the clock was made."""
        now = self._now()
        return {key: after - before for key, after, before in zip(("wall", "user", "system"), now, self.started)}


def _timed(function, *arguments):
    clock = Clock()
    value = function(*arguments)
    return value, clock.elapsed()


def time_stages(path, *, repeat: int) -> dict:
    """Seconds (wall, user, system) of every stage in each of ``repeat`` interleaved rounds."""
    from checkin_traj.cleaning import clean
    from checkin_traj.data.snap import read_checkins

    warm_up()
    floor_parse(path)  # untimed: warms the page cache for every stage alike
    rounds = {stage: [] for stage in STAGES}
    counts = {}
    for _ in range(repeat):
        gc.collect()
        table, elapsed = _timed(floor_parse, path)
        rounds["floor"].append(elapsed)
        counts["floor_rows"] = table.num_rows
        del table
        gc.collect()
        clock = Clock()
        check_ins, read_elapsed = _timed(read_checkins, path)
        (clean_check_ins, report), clean_elapsed = _timed(clean, check_ins)
        rounds["load_clean"].append(clock.elapsed())
        rounds["read_checkins"].append(read_elapsed)
        rounds["clean"].append(clean_elapsed)
        counts["rows_read"] = len(check_ins)
        counts["report"] = report
        del check_ins, clean_check_ins
    return {"rounds": rounds, **counts}


def child_main(stage: str, path: str, *, repeat: int = 1) -> int:
    """One stage in this fresh process; prints one JSON line with what it measured.

    ``floor`` and ``load_clean`` run once and report the peak resident set size;
    ``load_clean_rounds`` runs load + clean ``repeat`` times and reports each round's
    seconds (used with :data:`RETAINED_MALLOC`, where only rounds after the first reuse
    freed memory).
    """
    if stage not in ("floor", "load_clean", "load_clean_rounds"):
        raise SystemExit(f"--child STAGE must be floor, load_clean or load_clean_rounds, got {stage!r}")
    from checkin_traj.cleaning import clean
    from checkin_traj.data.snap import read_checkins

    warm_up()
    gc.collect()
    measured = {
        "stage": stage,
        "rss_before_bytes": _common.current_rss_bytes(),
        "peak_before_bytes": _common.peak_rss_bytes(),
    }
    if stage == "load_clean_rounds":
        rounds = []
        for _ in range(repeat):
            gc.collect()
            clock = Clock()
            rows = len(clean(read_checkins(path))[0])
            rounds.append(clock.elapsed())
        measured["rounds"] = rounds
    else:
        started = time.perf_counter()
        rows = floor_parse(path).num_rows if stage == "floor" else len(clean(read_checkins(path))[0])
        measured["seconds"] = time.perf_counter() - started
    measured.update(rows=rows, peak_bytes=_common.peak_rss_bytes())
    print(json.dumps(measured))
    return 0


# --------------------------------------------------------------------------- results


def summarise(timing: dict, memory: dict, *, machine: dict, parameters: dict, data: dict) -> dict:
    """The JSON result: per-stage best/median seconds, rows/s, ratios, memory, verdicts."""
    rows = timing["rows_read"]
    best_floor = min(entry["wall"] for entry in timing["rounds"]["floor"])
    stages = {}
    for stage, rounds in timing["rounds"].items():
        walls = [entry["wall"] for entry in rounds]
        best_round = rounds[walls.index(min(walls))]
        stages[stage] = {
            "seconds_best": best_round["wall"],
            "seconds_median": statistics.median(walls),
            "seconds_all": walls,
            "user_seconds_best_round": best_round["user"],
            "system_seconds_best_round": best_round["system"],
            "rounds": rounds,
            "rows": rows,
            "rows_per_second": rows / best_round["wall"] if best_round["wall"] > 0 else None,
            "ratio_to_floor": best_round["wall"] / best_floor if best_floor > 0 else None,
        }
    report = timing["report"]
    ratio = stages["load_clean"]["ratio_to_floor"]
    peak = memory["load_clean"]["peak_bytes"]
    return {
        "benchmark": NAME,
        "machine": machine,
        "parameters": parameters,
        "data": {**data, "rows_parsed_by_floor": timing["floor_rows"], "rows_read": rows},
        "stages": stages,
        "cleaning": {
            "rows_in": report.rows_in,
            "rows_out": report.rows_out,
            "users_out": report.users_out,
            "removed_by_step": report.removed_by_step(),
        },
        "memory": {"method": MEMORY_METHOD, **memory},
        "retained_malloc": timing.get("retained"),
        "targets": {"ratio_max": TARGET_RATIO, "peak_bytes_max": TARGET_PEAK_BYTES},
        "checks": {
            "ratio": {"value": ratio, "pass": ratio is not None and ratio <= TARGET_RATIO},
            "peak_memory": {"value": peak, "pass": peak < TARGET_PEAK_BYTES},
        },
    }


def _verdict(check: dict) -> str:
    return "PASS" if check["pass"] else "FAIL"


def _stage_rows(result: dict) -> list[list[str]]:
    rows = []
    labels = {**STAGE_LABELS, "load_clean_retained": RETAINED_LABEL}
    for stage in [*STAGES, "load_clean_retained"]:
        entry = result["stages"].get(stage)
        if entry is None:
            continue
        rows.append(
            [
                labels[stage],
                _common.format_seconds(entry["seconds_best"]),
                _common.format_seconds(entry["seconds_median"]),
                _common.format_rate(entry["rows_per_second"]),
                f"{entry['ratio_to_floor']:.2f}x",
                _common.format_seconds(entry["user_seconds_best_round"]),
                _common.format_seconds(entry["system_seconds_best_round"]),
            ]
        )
    return rows


def _memory_rows(result: dict) -> list[list[str]]:
    rows = []
    for stage in ("floor", "load_clean"):
        entry = result["memory"][stage]
        rows.append(
            [
                STAGE_LABELS[stage],
                _common.format_gb(entry["rss_before_bytes"]),
                _common.format_gb(entry["peak_bytes"]),
                _common.format_gb(entry["peak_bytes"] - (entry["rss_before_bytes"] or 0)),
            ]
        )
    return rows


STAGE_HEADER = ["step", "best (s)", "median (s)", "rows/s (best)", "x floor", "CPU user (s)", "CPU system (s)"]
MEMORY_HEADER = ["child process", "RSS before", "peak RSS", "peak - before"]


def _describe_data(result: dict) -> str:
    data, parameters = result["data"], result["parameters"]
    size = f"{data['bytes'] / 1e6:.0f} MB"
    if data.get("synthetic"):
        origin = (
            f"a synthetic SNAP-format file ({parameters['users']:,} users, seed {parameters['seed']}, "
            f"cut to at most {parameters['rows']:,} lines)"
        )
    else:
        origin = f"`{Path(data['path']).name}`"
    compression = "gzip" if data.get("gzip") else "plain text"
    return f"{origin}: {data['rows_read']:,} check-ins, {size} ({compression})"


def _retained_note(result: dict) -> str | None:
    if "load_clean_retained" not in result["stages"]:
        return None
    settings = " ".join(f"`{name}={value}`" for name, value in RETAINED_MALLOC.items())
    return (
        f"† Not a target, a diagnosis: load + clean in a child process started with {settings}, "
        "so that glibc keeps freed memory for reuse instead of handing it back to the kernel; best of "
        f"{len(result['stages']['load_clean_retained']['seconds_all'])} rounds, of which only the later ones "
        "reuse memory. Its gap to load + clean is the price of asking the kernel (and, in a virtual "
        "machine, its host) for fresh memory."
    )


def _verdict_lines(result: dict) -> list[str]:
    checks, targets = result["checks"], result["targets"]
    return [
        f"load + clean / floor = {checks['ratio']['value']:.2f} (target <= {targets['ratio_max']:g}): "
        f"{_verdict(checks['ratio'])}",
        f"peak memory of load + clean = {_common.format_gb(checks['peak_memory']['value'])} "
        f"(target < {_common.format_gb(targets['peak_bytes_max'])}): {_verdict(checks['peak_memory'])}",
    ]


def _tables(result: dict, table) -> tuple[str, str]:
    """The stage and the memory table, drawn by ``table`` (``_common.text_table`` or ``markdown_table``)."""
    return (
        table(STAGE_HEADER, _stage_rows(result), align="lrrrrrr"),
        table(MEMORY_HEADER, _memory_rows(result), align="lrrr"),
    )


def render_text(result: dict) -> str:
    stage_table, memory_table = _tables(result, _common.text_table)
    cleaning = result["cleaning"]
    return "\n".join(
        [
            f"data: {_describe_data(result)}",
            f"best of {result['parameters']['repeat']} interleaved rounds",
            "",
            stage_table,
            *([_retained_note(result)] if _retained_note(result) else []),
            "",
            f"clean kept {cleaning['rows_out']:,} of {cleaning['rows_in']:,} rows; removed by step: "
            + ", ".join(f"{step} {count:,}" for step, count in cleaning["removed_by_step"].items()),
            "",
            f"peak memory ({result['memory']['method']}):",
            memory_table,
            "",
            *_verdict_lines(result),
            "",
            f"load average (1, 5, 15 min): {result['machine']['load_average_start']} at the start, "
            f"{result['machine'].get('load_average_end')} at the end",
        ]
    )


def render_markdown(result: dict) -> str:
    stage_table, memory_table = _tables(result, _common.markdown_table)
    cleaning = result["cleaning"]
    verdicts = "\n".join(f"- {line}" for line in _verdict_lines(result))
    return f"""## Full SNAP size: load and clean

{_common.machine_line(result['machine'])}

Data: {_describe_data(result)}. Best and median wall-clock seconds of
{result['parameters']['repeat']} interleaved rounds; rows/s counts the check-ins read; the CPU
columns are the best round's user and system (kernel) seconds, all threads together.

{stage_table}

{_retained_note(result) or ""}

`clean` kept {cleaning['rows_out']:,} of {cleaning['rows_in']:,} rows ({cleaning['users_out']:,} users).

Peak memory: {result['memory']['method']}.

{memory_table}

{verdicts}
"""


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    if arguments.child:
        return child_main(*arguments.child, repeat=arguments.repeat)
    machine = _common.machine_info()
    with tempfile.TemporaryDirectory(prefix="bench-full-size-") as scratch:
        if arguments.data:
            path = Path(arguments.data)
            data = {"path": str(path), "synthetic": False, "bytes": path.stat().st_size, "lines": _count_lines(path)}
        else:
            suffix = ".txt.gz" if arguments.gzip else ".txt"
            path = Path(arguments.keep) if arguments.keep else Path(scratch) / f"checkins{suffix}"
            print(f"synthetic file: {path} ...", flush=True)
            described = synthetic_file(path, users=arguments.users, seed=arguments.seed, rows=arguments.rows)
            print(
                f"  {'reused' if described['reused'] else 'generated'}: {described['lines']:,} lines, "
                f"{described['bytes'] / 1e6:.0f} MB",
                flush=True,
            )
            data = {"path": str(path), "synthetic": True, **described}
        data["gzip"] = _is_gzip(path)
        print(f"timing {arguments.repeat} interleaved rounds ...", flush=True)
        timing = time_stages(path, repeat=arguments.repeat)
        print("peak memory in child processes ...", flush=True)
        script = Path(__file__).resolve()
        memory = {stage: _common.run_child(script, ["--child", stage, str(path)]) for stage in ("floor", "load_clean")}
        print("load + clean with freed memory kept, in a child process ...", flush=True)
        retained = _common.run_child(
            script,
            ["--child", "load_clean_rounds", str(path), "--repeat", str(max(arguments.repeat, 2))],
            environment=RETAINED_MALLOC,
        )
        timing["rounds"]["load_clean_retained"] = retained["rounds"]
        timing["retained"] = {"environment": RETAINED_MALLOC, "peak_bytes": retained["peak_bytes"]}
    machine["load_average_end"] = _common.load_average()
    parameters = {
        "users": arguments.users,
        "seed": arguments.seed,
        "rows": arguments.rows,
        "repeat": arguments.repeat,
        "data": arguments.data,
    }
    result = summarise(timing, memory, machine=machine, parameters=parameters, data=data)
    _common.print_and_write(NAME, result, arguments, render_text=render_text, render_markdown=render_markdown)
    failed = not all(check["pass"] for check in result["checks"].values())
    return 1 if arguments.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
