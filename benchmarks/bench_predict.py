"""Speed of ``checkin_traj.predict``'s path against chapter 08's batched evaluation, in one run.

On a built run folder (``--workdir``, default ``build/full``: chapter 08 saved its ranker
there, chapter 06 its model of the time), every test window is scored twice:

1. **batched**, as chapter 08 evaluates: the test windows' features from the training counts
   (``VenueContext.windows("test")``) and the saved ranker's scores in batches of 512, then
   the top 10 venues;
2. **through predict**, as ``checkin-traj predict`` would: each window's check-ins as a
   history in SNAP form, the windows of different users in one call (a user's history is
   its last check-ins, so a user with 300 test windows needs 300 calls), through
   ``Predictor.predict`` (features by the same ``VenueContext.features``, ranker, place pick,
   the output table) and ``NextTime.predict`` (the time), both loaded once.

It prints both times, the ratio and the number of calls, and checks that the two paths agree
on every window's top venue. The ratio is the price of answering one user at a time: each call
pays Keras' and pandas' fixed costs, so it depends on how many windows a heavy user holds.

Usage::

    python benchmarks/bench_predict.py --workdir build/full
    python benchmarks/bench_predict.py --workdir build/full --write-record
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import _common

NAME = "predict"
HEADER = ["path", "seconds", "windows per second", "calls"]


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default=str(_common.REPO_ROOT / "build" / "full"),
                        help="a run folder where chapters 06 and 08 saved their models (default build/full)")
    _common.add_output_arguments(parser)
    return parser.parse_args(argv)


def measure(workdir: Path) -> dict:
    import numpy as np
    import pandas as pd

    from checkin_traj.next_time import load_next_time
    from checkin_traj.report import load_protocol
    from checkin_traj.venues.features import VenueContext
    from checkin_traj.venues.model import top_venues
    from checkin_traj.venues.predictor import load_predictor

    data, _ = load_protocol(workdir)
    predictor, timer = load_predictor(workdir), load_next_time(workdir)
    settings = predictor.context.settings
    context = VenueContext(data, size=settings["size"], n_near=settings["n_near"])
    predictor.ranker.scores(context.windows("val"))  # warm Keras' predict function for both paths

    started = time.perf_counter()
    windows = context.windows("test")
    batched_top = top_venues(predictor.ranker.scores(windows), windows.candidates, k=10)
    batched = time.perf_counter() - started

    part, check_ins = data.test, data.check_ins
    rows = part.target_row[:, None] - np.arange(data.window, 0, -1)[None, :]
    call = pd.Series(part.user).groupby(part.user).cumcount().to_numpy()
    snap_user = check_ins["snap_user"].to_numpy()[part.target_row]
    found = np.full(len(part), -1)
    started = time.perf_counter()
    for number in range(call.max() + 1):
        chosen = np.flatnonzero(call == number)
        frame = check_ins.iloc[rows[chosen].ravel()]
        history = pd.DataFrame({"user": frame["snap_user"], "time": frame["time"], "lat": frame["lat"],
                                "lon": frame["lon"], "location_id": frame["location_id"]})
        table = predictor.predict(history, k=1)
        timer.predict(history)
        found[chosen] = table[table["rank"] == 1].set_index("user")["location_id"].reindex(snap_user[chosen]).to_numpy()
    through_predict = time.perf_counter() - started
    expected = predictor.context.state["location_id"][batched_top[:, 0]]
    return {
        "windows": len(part), "calls": int(call.max() + 1), "batched_seconds": batched,
        "predict_seconds": through_predict, "ratio": through_predict / batched,
        "top_1_agree": int((found == expected).sum()),
    }


def _rows(result) -> list:
    timing = result["timing"]
    return [
        ["batched (chapter 08)", f"{timing['batched_seconds']:.2f}", f"{timing['windows'] / timing['batched_seconds']:,.0f}", "1"],
        ["through predict", f"{timing['predict_seconds']:.2f}", f"{timing['windows'] / timing['predict_seconds']:,.0f}",
         f"{timing['calls']:,}"],
    ]


def _closing(result) -> str:
    timing = result["timing"]
    return (f"{timing['windows']:,} test windows; predict takes {timing['ratio']:.1f} times the batched evaluation; "
            f"top venue the same on {timing['top_1_agree']:,} of {timing['windows']:,} windows.")


def render_text(result) -> str:
    return "\n".join([_common.machine_line(result["machine"]), "", _common.text_table(HEADER, _rows(result), align="lrrr"),
                      "", _closing(result)])


def render_markdown(result) -> str:
    return "\n".join([_common.machine_line(result["machine"]), "", _common.markdown_table(HEADER, _rows(result), align="lrrr"),
                      "", _closing(result)])


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    workdir = Path(arguments.workdir)
    os.environ.update({"TF_CPP_MIN_LOG_LEVEL": "3"})
    if not (workdir / "models" / "venue_ranker").is_dir():
        print(f"{workdir}: no saved ranker; build the book first (make book, or checkin-traj build --workdir {workdir})",
              file=sys.stderr)
        return 2
    result = {"machine": _common.machine_info(), "workdir": str(workdir), "timing": measure(workdir)}
    _common.print_and_write(NAME, result, arguments, render_text=render_text, render_markdown=render_markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
