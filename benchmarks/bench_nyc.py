"""Speed of the book's own steps on the New York sample, and the book's build times.

On the NYC sample (``../shared/data/gowalla-nyc/``, or ``--data PATH``; a synthetic file
of similar size, with a note, when the sample is absent) the script times:

1. :func:`checkin_traj.read_checkins` and :func:`checkin_traj.clean` (best of ``--repeat``);
2. :func:`checkin_traj.sequences.build_windows` with the book's window (best of ``--repeat``);
3. training of each model (``lstm``, ``seq2seq``, ``transformer``; target mode
   ``"absolute"``, the models' default hyperparameters, the chapters' batch size) for
   ``--epochs`` epochs through :func:`checkin_traj.training.train_model`. The first epoch
   includes TensorFlow's graph tracing; later epochs are the steady speed, reported as
   training sequences (windows) per second. Each epoch's time includes the pass over the
   validation windows, as in the chapters.

It then prints the seconds per chapter of every book build found in
``build/<profile>/timings.json`` (written by ``python -m checkin_traj.build``).

Usage::

    python benchmarks/bench_nyc.py                      # NYC sample, 2 epochs per model
    python benchmarks/bench_nyc.py --write-record       # also update benchmarks/RESULTS.md
    python benchmarks/bench_nyc.py --data synthetic --synthetic-users 300 --epochs 1
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _common
from _common import _non_negative_int, _positive_int

NAME = "nyc"
MODELS = ("lstm", "seq2seq", "transformer")
NYC_SAMPLE = Path("gowalla-nyc") / "loc-gowalla_totalCheckins.nyc.txt.gz"
SYNTHETIC_USERS = 4_300  # about the NYC sample's 139 k check-ins
WINDOW = 10  # the book's window (chapter 02)
BATCH_SIZE = 1024  # the chapters' batch size (chapters 03-05)
# As the book build sets them for its kernels (checkin_traj.build): quiet logs, oneDNN off.
TF_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}


# --------------------------------------------------------------------------- arguments


def default_sample_path() -> Path:
    """The NYC sample: ``$GOWALLA_DATA_DIR`` or ``../shared/data`` beside the repository."""
    data_dir = os.environ.get("GOWALLA_DATA_DIR")
    base = Path(data_dir) if data_dir else _common.REPO_ROOT.parent / "shared" / "data"
    return base / NYC_SAMPLE


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        prog="python benchmarks/bench_nyc.py",
        description="Time load + clean, window building and one training epoch per model on the NYC sample.",
    )
    parser.add_argument(
        "--data", default="auto",
        help="'auto' (the NYC sample, else synthetic), 'synthetic', or a SNAP-format check-in file",
    )
    parser.add_argument("--synthetic-users", type=_positive_int, default=SYNTHETIC_USERS, help="users when synthetic")
    parser.add_argument("--seed", type=_non_negative_int, default=0, help="seed of the generator and the training")
    parser.add_argument("--window", type=_positive_int, default=WINDOW, help="check-ins per input window")
    parser.add_argument("--batch-size", type=_positive_int, default=BATCH_SIZE, help="windows per gradient step")
    parser.add_argument("--epochs", type=_positive_int, default=2, help="epochs per model (2: the second is steady)")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS), help="models to train")
    parser.add_argument("--repeat", type=_positive_int, default=3, help="rounds of load/clean/windows; the best counts")
    parser.add_argument("--build-dir", default=str(_common.REPO_ROOT / "build"), help="folder of build/<profile>/")
    _common.add_output_arguments(parser)
    arguments = parser.parse_args(argv)
    if arguments.data not in ("auto", "synthetic") and not Path(arguments.data).is_file():
        parser.error(f"--data {arguments.data}: no such file (use 'auto' or 'synthetic')")
    return arguments


def resolve_data(choice: str, *, scratch: Path, users: int, seed: int) -> dict:
    """The file to read and how it was chosen (``path``, ``source``, ``note``)."""
    if choice not in ("auto", "synthetic"):
        return {"path": str(Path(choice)), "source": "file", "note": None}
    sample = default_sample_path()
    if choice == "auto" and sample.is_file():
        return {"path": str(sample), "source": "nyc-sample", "note": None}
    from checkin_traj.data.synthetic import generate_checkins, write_snap_checkins

    path = scratch / "synthetic.txt.gz"
    write_snap_checkins(generate_checkins(n_users=users, seed=seed), path)
    note = (
        f"synthetic data ({users:,} users, seed {seed})"
        + ("" if choice == "synthetic" else f": the NYC sample was not found at {sample}")
        + "; the numbers show the code's speed, not the sample's"
    )
    return {"path": str(path), "source": "synthetic", "note": note}


# --------------------------------------------------------------------------- what is timed


def _best_of(repeat, function):
    seconds, value = [], None
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        value = function()
        seconds.append(time.perf_counter() - started)
    return value, seconds


def time_data_steps(path, *, window: int, repeat: int) -> dict:
    """Seconds of read, clean and window building in ``repeat`` rounds, and what they made."""
    from checkin_traj.cleaning import clean
    from checkin_traj.data.snap import read_checkins
    from checkin_traj.sequences import build_windows

    clean(read_checkins(path))  # untimed: numba kernels compiled or loaded from cache, page cache warm
    check_ins, read_seconds = _best_of(repeat, lambda: read_checkins(path))
    (clean_check_ins, report), clean_seconds = _best_of(repeat, lambda: clean(check_ins))
    data, window_seconds = _best_of(repeat, lambda: build_windows(clean_check_ins, window=window))
    return {
        "seconds": {"read_checkins": read_seconds, "clean": clean_seconds, "build_windows": window_seconds},
        "rows_read": len(check_ins),
        "rows_clean": report.rows_out,
        "users_clean": report.users_out,
        "windows": {split: len(data.split(split)) for split in ("train", "val", "test")},
        "data": data,
    }


def book_forms(data) -> dict:
    """Model name -> (builder of the book's form at the chapters' defaults, its hyperparameters)."""
    import inspect
    from functools import partial

    from checkin_traj.pages.lstm import build_lstm
    from checkin_traj.pages.seq2seq_attention import build_seq2seq
    from checkin_traj.pages.transformer import build_transformer

    forms = {}
    for name, builder in (("lstm", build_lstm), ("seq2seq", build_seq2seq), ("transformer", build_transformer)):
        defaults = {key: p.default for key, p in inspect.signature(builder).parameters.items()
                    if p.default is not p.empty and key != "n_targets"}
        forms[name] = (partial(builder, data.window, data.n_features), defaults)
    return forms


def time_training(data, *, models, epochs: int, batch_size: int, seed: int) -> dict:
    """Seconds per epoch of each model (the book's form, chapter 03's training), and training sequences per second."""
    from checkin_traj.pages.lstm import train_model

    n_train, n_val = len(data.train), len(data.val)
    forms = book_forms(data)
    results = {}
    for name in models:
        print(f"  training {name} for {epochs} epoch(s) on {n_train:,} windows ...", flush=True)
        build, hyperparameters = forms[name]
        trained = train_model(
            build, data, target_mode="absolute", epochs=epochs, batch_size=batch_size, patience=epochs, seed=seed
        )
        seconds = trained.history["seconds"]
        steady = statistics.median(seconds[1:]) if len(seconds) > 1 else seconds[0]
        results[name] = {
            "hyperparameters": hyperparameters,
            "parameters": int(trained.model.count_params()),
            "epoch_seconds": seconds,
            "first_epoch_seconds": seconds[0],
            "steady_epoch_seconds": steady,
            "steady_is_first": len(seconds) == 1,
            "train_windows": n_train,
            "val_windows": n_val,
            "sequences_per_second": n_train / steady if steady > 0 else None,
            "build_and_fit_seconds": trained.train_seconds,
        }
        del trained
        gc.collect()
    return results


# --------------------------------------------------------------------------- results


def _stage(seconds: list, rows: int) -> dict:
    best = min(seconds)
    return {
        "seconds_best": best,
        "seconds_median": statistics.median(seconds),
        "seconds_all": seconds,
        "rows": rows,
        "rows_per_second": rows / best if best > 0 else None,
    }


def summarise(steps: dict, training: dict, timings: dict, *, machine, parameters, data) -> dict:
    seconds = steps["seconds"]
    load_clean = [read + clean for read, clean in zip(seconds["read_checkins"], seconds["clean"])]
    return {
        "benchmark": NAME,
        "machine": machine,
        "parameters": parameters,
        "data": {
            **data,
            "rows_read": steps["rows_read"],
            "rows_clean": steps["rows_clean"],
            "users_clean": steps["users_clean"],
            "windows": steps["windows"],
        },
        "stages": {
            "read_checkins": _stage(seconds["read_checkins"], steps["rows_read"]),
            "clean": _stage(seconds["clean"], steps["rows_read"]),
            "load_clean": _stage(load_clean, steps["rows_read"]),
            "build_windows": _stage(seconds["build_windows"], steps["rows_clean"]),
        },
        "training": training,
        "build_timings": timings,
    }


STAGE_LABELS = {
    "read_checkins": "read_checkins",
    "clean": "clean",
    "load_clean": "load + clean",
    "build_windows": "build_windows",
}
STAGE_HEADER = ["step", "best (s)", "median (s)", "rows/s (best)"]
TRAINING_HEADER = ["model", "weights", "train windows", "first epoch (s)", "later epoch (s)", "sequences/s"]


def _stage_rows(result):
    return [
        [
            STAGE_LABELS[stage],
            _common.format_seconds(entry["seconds_best"]),
            _common.format_seconds(entry["seconds_median"]),
            _common.format_rate(entry["rows_per_second"]),
        ]
        for stage, entry in result["stages"].items()
    ]


def _training_rows(result):
    rows = []
    for name, entry in result["training"].items():
        later = "-" if entry["steady_is_first"] else _common.format_seconds(entry["steady_epoch_seconds"])
        rows.append(
            [
                name,
                f"{entry['parameters']:,}",
                f"{entry['train_windows']:,}",
                _common.format_seconds(entry["first_epoch_seconds"]),
                later,
                _common.format_rate(entry["sequences_per_second"]),
            ]
        )
    return rows


def _describe_data(result) -> str:
    data = result["data"]
    origin = {"nyc-sample": "the NYC sample", "synthetic": "synthetic data"}.get(data["source"])
    origin = origin or f"`{Path(data['path']).name}`"
    windows = data["windows"]
    return (
        f"{origin}: {data['rows_read']:,} check-ins read, {data['rows_clean']:,} clean "
        f"({data['users_clean']:,} users); window {result['parameters']['window']}: "
        f"{windows['train']:,} training, {windows['val']:,} validation, {windows['test']:,} test windows"
    )


def _training_note(result) -> str:
    parameters = result["parameters"]
    steady = (
        "sequences/s = training windows / the median later epoch"
        if parameters["epochs"] > 1
        else "only one epoch ran, so sequences/s includes graph tracing"
    )
    return (
        f"Target mode absolute, default hyperparameters, batch size {parameters['batch_size']}, "
        f"{parameters['epochs']} epoch(s), TF_ENABLE_ONEDNN_OPTS={parameters['environment']['TF_ENABLE_ONEDNN_OPTS']} "
        f"(as in the book build); an epoch includes the validation pass; the first also "
        f"traces TensorFlow's graph; {steady}."
    )


def _timings_parts(result, table):
    timings = result["build_timings"]
    if not timings:
        return None
    header, rows = _common.build_timings_table(timings)
    return table(header, rows, align="l" + "r" * (len(header) - 1))


def render_text(result) -> str:
    lines = [f"data: {_describe_data(result)}"]
    if result["data"]["note"]:
        lines.append(f"NOTE: {result['data']['note']}")
    lines += ["", _common.text_table(STAGE_HEADER, _stage_rows(result), align="lrrr")]
    if result["training"]:
        training_table = _common.text_table(TRAINING_HEADER, _training_rows(result), align="lrrrrr")
        lines += ["", _training_note(result), training_table]
    timings = _timings_parts(result, _common.text_table)
    lines += ["", "book build, seconds per chapter:", timings] if timings else ["", "no book build timings found"]
    machine = result["machine"]
    lines += ["", f"load average (1, 5, 15 min): {machine['load_average_start']} at the start, "
              f"{machine.get('load_average_end')} at the end"]
    return "\n".join(lines)


def render_markdown(result) -> str:
    parts = [
        "## New York sample: data steps, training and the book build",
        _common.machine_line(result["machine"]),
        f"Data: {_describe_data(result)}. Best and median wall-clock seconds of "
        f"{result['parameters']['repeat']} round(s); rows/s counts the rows each step takes in.",
    ]
    if result["data"]["note"]:
        note = result["data"]["note"]
        parts.append(f"> **Note:** {note[0].upper()}{note[1:]}.")
    parts.append(_common.markdown_table(STAGE_HEADER, _stage_rows(result), align="lrrr"))
    if result["training"]:
        training_table = _common.markdown_table(TRAINING_HEADER, _training_rows(result), align="lrrrrr")
        parts += [_training_note(result), training_table]
    timings = _timings_parts(result, _common.markdown_table)
    if timings:
        parts += [
            "Book builds (`python -m checkin_traj.build`, read from `build/<profile>/timings.json`), "
            "seconds per chapter:",
            timings,
        ]
    else:
        parts.append("No book build timings were found (`build/<profile>/timings.json`).")
    return "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    for name, value in TF_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    machine = _common.machine_info()
    timings = _common.read_build_timings(Path(arguments.build_dir))
    with tempfile.TemporaryDirectory(prefix="bench-nyc-") as scratch:
        data = resolve_data(arguments.data, scratch=Path(scratch), users=arguments.synthetic_users, seed=arguments.seed)
        if data["note"]:
            print(f"NOTE: {data['note']}", flush=True)
        print(f"data steps on {data['path']} ({arguments.repeat} round(s)) ...", flush=True)
        steps = time_data_steps(data["path"], window=arguments.window, repeat=arguments.repeat)
    training = time_training(
        steps.pop("data"), models=arguments.models, epochs=arguments.epochs,
        batch_size=arguments.batch_size, seed=arguments.seed,
    )
    machine["load_average_end"] = _common.load_average()
    if data["source"] == "synthetic":
        data["path"] = None  # a temporary file, gone now
    parameters = {
        key: getattr(arguments, key)
        for key in ("data", "synthetic_users", "seed", "window", "batch_size", "epochs", "models", "repeat")
    }
    parameters["environment"] = {name: os.environ.get(name) for name in TF_ENVIRONMENT}
    result = summarise(steps, training, timings, machine=machine, parameters=parameters, data=data)
    _common.print_and_write(NAME, result, arguments, render_text=render_text, render_markdown=render_markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
