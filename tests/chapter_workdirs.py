"""Run folders prepared by hand for the chapter tests, and running one chapter in them.

A chapter reads what the chapters before it left in ``WORKDIR``. The tests of chapters
02-07 do not run those chapters first; they write the same files quickly from hand-made
clean check-ins:

- :func:`save_clean_run`: what chapter 01 leaves (``data/clean.parquet`` and the
  provenance of synthetic data);
- :func:`save_protocol_and_baselines`: what chapter 02 adds (the windowing protocol and
  the baselines' table and predictions, with the strongest baseline named);
- :func:`prepare_workdir`: both.

Then :func:`run_chapter` executes one chapter with the test profile and returns what it
glued, and :func:`assert_citations_glued` checks that the prose cites only glued names.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd

from checkin_traj import build
from checkin_traj.baselines import BOOSTED_BASELINES, run_baselines
from checkin_traj.data.provenance import save_clean
from checkin_traj.results import save_results
from checkin_traj.sequences import build_windows, test_windows_hash
from checkin_traj.verdicts import HIGHER_LOSS_IS_BETTER, LOSSES

from .conftest import REPO_ROOT
from .notebook_outputs import error_outputs, glued

START = pd.Timestamp("2010-03-01", tz="UTC")  # first check-in of every hand-made user
NYC_CORNERS = ([40.60, -74.05], [40.85, -73.80])  # (lat, lon) corners the favourite places are drawn in


def synthetic_clean(*, users=40, seed=0):
    """Clean check-ins of users who move between four favourite places in New York.

    12 to 59 check-ins per user, ``snap_user`` = user + 10,000; the gaps (exponential, mean
    6 h) are rounded to nanoseconds one by one.
    """
    rng = np.random.default_rng(seed)
    counts = rng.integers(12, 60, size=users)
    user = np.repeat(np.arange(users), counts)
    home = rng.uniform(*NYC_CORNERS, size=(users, 4, 2))  # (lat, lon) per favourite
    favourite = rng.integers(0, 4, size=len(user))
    places = home[user, favourite] + rng.normal(0, 0.0005, size=(len(user), 2))
    gaps = pd.to_timedelta(rng.exponential(6.0, size=len(user)), unit="h")
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    offsets = gaps.to_numpy().cumsum() - np.repeat(gaps.to_numpy().cumsum()[starts], counts)
    return pd.DataFrame(
        {
            "user": user.astype(np.int64),
            "snap_user": (user + 10_000).astype(np.int64),
            "time": START + pd.to_timedelta(offsets),
            "lat": places[:, 0],
            "lon": places[:, 1],
            "location_id": (user * 10 + favourite).astype(np.int64),
        }
    )


def hopping_clean(*, users=30, seed=0):
    """Users hopping between three favourite places in New York, one check-in every few hours.

    20 to 39 check-ins per user, ``snap_user`` = user + 500; the elapsed hours are summed
    as floats and rounded to nanoseconds once.
    """
    rng = np.random.default_rng(seed)
    counts = rng.integers(20, 40, size=users)
    user = np.repeat(np.arange(users), counts)
    favourites = rng.uniform(*NYC_CORNERS, size=(users, 3, 2))
    favourite = rng.integers(0, 3, size=len(user))
    places = favourites[user, favourite] + rng.normal(0, 0.0005, size=(len(user), 2))
    gaps_hours = rng.exponential(6.0, size=len(user))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    elapsed = gaps_hours.cumsum() - np.repeat(gaps_hours.cumsum()[starts], counts)
    return pd.DataFrame(
        {
            "user": user.astype(np.int64),
            "snap_user": (user + 500).astype(np.int64),
            "time": START + pd.to_timedelta(elapsed, unit="h"),
            "lat": places[:, 0],
            "lon": places[:, 1],
            "location_id": (user * 10 + favourite).astype(np.int64),
        }
    )


def save_clean_run(workdir, clean, *, source_path):
    """Leave ``workdir`` as chapter 01 would: the clean check-ins and their provenance.

    Parameters
    ----------
    workdir : path
        The run folder.
    clean : pandas.DataFrame
        Clean check-ins (e.g. :func:`synthetic_clean`).
    source_path : str
        The test file that made them, recorded as the data's path; the description counts
        the users ("30 synthetic users (test)").
    """
    source = SimpleNamespace(
        path=source_path,
        kind="synthetic",
        synthetic=True,
        description=f"{clean['user'].nunique()} synthetic users (test)",
    )
    save_clean(workdir, clean, source=source, parameters={})


def save_protocol_and_baselines(workdir, clean, *, window=4):
    """Add what chapter 02 leaves: the windowing protocol and the baselines' results.

    Returns
    -------
    (WindowedData, pandas.DataFrame)
        The windows of ``clean`` and the baselines' test table (one row per baseline),
        saved as ``protocol`` and ``baselines`` (predictions, and ``extra["strongest"]``:
        the baseline with the lowest RMSE), and the boosted-tree peers as ``boosted``; every
        result with the test windows' hash.
    """
    data = build_windows(clean, window=window)
    windows_hash = test_windows_hash(data)
    save_results(workdir, "protocol", metrics={**data.report, "test_windows_hash": windows_hash}, extra=data.protocol())
    table, predictions = run_baselines(data, return_predictions=True)
    save_results(
        workdir,
        "baselines",
        tables={"test": table, "val": run_baselines(data, split="val")},  # the strongest is chosen on "val"
        arrays=predictions,
        extra={"strongest": str(table["rmse"].idxmin()), "test_windows_hash": windows_hash},
    )
    boosted, boosted_predictions = run_baselines(data, baselines=BOOSTED_BASELINES, return_predictions=True)
    save_results(workdir, "boosted", tables={"test": boosted}, arrays=boosted_predictions, extra={"test_windows_hash": windows_hash})
    return data, table


def prepare_workdir(workdir, clean, *, source_path, window=4):
    """Leave ``workdir`` as chapters 01 and 02 would; returns ``(data, baselines table)``."""
    save_clean_run(workdir, clean, source_path=source_path)
    return save_protocol_and_baselines(workdir, clean, window=window)


def run_chapter(workdir, chapter):
    """Execute ``chapter`` with the test profile in ``workdir``; its glued values, checked error-free."""
    result = build.run("test", chapters=[chapter], book=False, workdir=workdir, root=REPO_ROOT)
    notebook = result.notebooks[chapter]
    assert error_outputs(notebook) == []
    return glued(notebook)


def executed_notebook(workdir, chapter):
    """Where :func:`run_chapter` left ``chapter`` executed (``checkin_traj.build.run``'s site)."""
    return workdir / "site" / "notebooks" / f"{chapter}.ipynb"


def outcome_by_the_rule(metric, low, high):
    """The verdict the book's rule gives a difference ``contender - reference`` whose interval is
    ``[low, high]``: beats when all of it lies on the better side of 0, loses on the worse side."""
    below, above = high < 0.0, low > 0.0
    better, worse = (above, below) if LOSSES[metric][0] in HIGHER_LOSS_IS_BETTER else (below, above)
    return "beats" if better else "loses" if worse else "within noise"


def assert_citations_glued(values, chapter):
    """Every ``{glue:text}``/``{glue:md}`` name the chapter's prose cites is among ``values``."""
    text = (REPO_ROOT / "notebooks" / f"{chapter}.md").read_text()
    cited = set(re.findall(r"\{glue:(?:text|md)\}`([a-z0-9_]+)", text))
    assert cited and cited <= set(values), f"cited but never glued: {sorted(cited - set(values))}"
