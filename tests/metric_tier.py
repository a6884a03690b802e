"""The metric tier: chapters' key glued numbers on real data, checked against a recorded file.

Two tiers (the recommenders project's habit), both read ``tests/recorded/metrics.json``:

``sample``  chapters 01-02 on the real NYC sample (workshop profile): every numeric glued
            value but timings, counts exactly and other numbers to 1e-6. Minutes; in CI.
``metrics`` chapters 03-05 and 08 in the workshop profile: the per-run RMSE, R² and median
            km of the model chapters, Acc@1, MRR and median km of the next-venue ranker,
            checked with :data:`TOLERANCE`. Longer; on demand
            (``make metrics``), not in ``make test``.

Re-record after a change that is meant to move the numbers (e.g. a new time target)::

    python -m tests.metric_tier --record sample     # chapters 01-02
    python -m tests.metric_tier --record metrics    # chapters 03-05 and 08 (runs 01-02 first)
    python -m tests.metric_tier --record metrics --from-build build/workshop   # from `make workshop`

and commit the file with the change that explains it.
"""

from __future__ import annotations

import argparse
import json
import numbers
import re
import tempfile
from pathlib import Path

RECORDED = Path(__file__).resolve().parent / "recorded" / "metrics.json"
TIERS = {
    "sample": ("01_data_cleaning", "02_evaluation"),
    "metrics": ("03_lstm", "04_seq2seq_attention", "05_transformer", "08_next_venue"),
}
PREREQUISITES = {"metrics": TIERS["sample"]}
#: Glue names checked in the metrics tier (model chapters: per run, mean over seeds).
MODEL_KEY = re.compile(
    r"^(lstm|seq2seq|transformer)_.+_(rmse|r2|km_median)_mean$"
    r"|^venues_(best|place)_(acc_at_1|mrr|km_median|within_1km)$"  # chapter 08: the best ranker and its place pick
)
#: Relative and absolute tolerance of the metrics tier (training on CPU is seeded, but
#: library versions and thread counts move the last digits).
TOLERANCE = {"rel": 0.05, "abs": 0.005}


def key_values(tier, values) -> dict:
    """The glued values a tier records: numbers only (bools excluded)."""
    keep = {}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            continue
        if "seconds" in name:  # timings measure the machine, not the chapter
            continue
        if tier == "metrics" and not MODEL_KEY.match(name):
            continue
        keep[name] = value
    return keep


def run_tier(tier, workdir) -> dict:
    """Execute the tier's chapters (workshop profile) in ``workdir``; chapter -> recorded values."""
    from checkin_traj import build

    from .notebook_outputs import glued

    root = Path(__file__).resolve().parents[1]
    chapters = PREREQUISITES.get(tier, ()) + TIERS[tier]
    result = build.run("workshop", chapters=list(chapters), book=False, workdir=workdir, root=root)
    return {chapter: key_values(tier, glued(result.notebooks[chapter])) for chapter in TIERS[tier]}


def read_build(tier, workdir) -> dict:
    """The tier's values from the executed notebooks of a build already made in ``workdir`` (workshop profile)."""
    from .notebook_outputs import glued

    site = Path(workdir) / "site" / "notebooks"
    missing = [chapter for chapter in TIERS[tier] if not (site / f"{chapter}.ipynb").exists()]
    if missing:
        raise FileNotFoundError(f"{site}: no executed {', '.join(missing)}; build them with --profile workshop first")
    return {chapter: key_values(tier, glued(site / f"{chapter}.ipynb")) for chapter in TIERS[tier]}


def load_recorded() -> dict:
    return json.loads(RECORDED.read_text()) if RECORDED.exists() else {}


def record(tier, workdir=None, *, from_build=None) -> Path:
    """Run a tier (or read it from a workshop build in ``from_build``) and write its values into :data:`RECORDED`."""
    recorded = load_recorded()
    if from_build:
        recorded[tier] = read_build(tier, from_build)
    else:
        with tempfile.TemporaryDirectory(prefix=f"metric-tier-{tier}-") as scratch:
            recorded[tier] = run_tier(tier, workdir or scratch)
    RECORDED.parent.mkdir(parents=True, exist_ok=True)
    RECORDED.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    return RECORDED


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", choices=sorted(TIERS), required=True, help="the tier to run and record")
    parser.add_argument("--workdir", help="run folder (a temporary one by default)")
    parser.add_argument("--from-build", help="read the values from a workshop build already made in this folder")
    arguments = parser.parse_args(argv)
    print(f"recorded {arguments.record} in {record(arguments.record, arguments.workdir, from_build=arguments.from_build)}")


if __name__ == "__main__":
    main()
