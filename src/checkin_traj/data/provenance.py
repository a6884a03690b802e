"""Where a run's data came from, and the clean data shared by the chapters.

Chapter 01 saves the clean check-ins and a ``provenance.json`` in ``WORKDIR/data``; every
chapter starts with :func:`data_banner`, which names the data source and warns loudly
when the book was built from synthetic data.
"""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from pathlib import Path

import pandas as pd

from .atomic import atomic_path
from .tables import write_table

CLEAN_PARQUET = "clean.parquet"
CLEAN_CSV = "clean.csv"
PROVENANCE = "provenance.json"


def data_dir(workdir) -> Path:
    """The folder holding a run's clean data, ``WORKDIR/data``."""
    return Path(workdir) / "data"


def save_clean(workdir, check_ins: pd.DataFrame) -> dict:
    """Write the clean check-ins as Parquet (read by later chapters) and CSV (for people).

    Returns
    -------
    dict
        ``{"parquet": Path, "csv": Path}``.
    """
    folder = data_dir(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"parquet": folder / CLEAN_PARQUET, "csv": folder / CLEAN_CSV}
    for path in paths.values():
        write_table(check_ins, path)
    return paths


def load_clean(workdir) -> pd.DataFrame:
    """Read the clean check-ins written by chapter 01 for the same ``WORKDIR``."""
    path = data_dir(workdir) / CLEAN_PARQUET
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: run chapter 01 (data cleaning) with WORKDIR={str(workdir)!r} first"
        )
    return pd.read_parquet(path)


def write_provenance(workdir, *, source, parameters: dict, report=None) -> Path:
    """Record the data source, the cleaning parameters and the cleaning report.

    Parameters
    ----------
    workdir : str or Path
        The run's folder.
    source : DataSource
        What :func:`checkin_traj.data.sources.resolve_checkins` returned.
    parameters : dict
        The cleaning thresholds used (JSON-able).
    report : CleaningReport, optional
        The cleaning report; stored through its ``to_dict()`` or as a dataclass.
    """
    if report is None:
        report_data = None
    elif hasattr(report, "to_dict"):
        report_data = report.to_dict()
    elif is_dataclass(report):
        report_data = asdict(report)
    else:
        report_data = dict(report)
    document = {
        "source": {
            "path": str(source.path),
            "kind": source.kind,
            "synthetic": bool(source.synthetic),
            "description": source.description,
            "citation": getattr(source, "citation", ""),
        },
        "parameters": parameters,
        "report": report_data,
    }
    folder = data_dir(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PROVENANCE
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(document, indent=1, default=str))
    return path


def read_provenance(workdir) -> dict:
    """Read ``WORKDIR/data/provenance.json`` (see :func:`write_provenance`)."""
    path = data_dir(workdir) / PROVENANCE
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: run chapter 01 (data cleaning) with WORKDIR={str(workdir)!r} first"
        )
    return json.loads(path.read_text())


def banner_text(provenance: dict) -> str:
    """The MyST admonition shown at the top of every chapter."""
    source = provenance["source"]
    if source["synthetic"]:
        return (
            ":::{warning}\n"
            "**Built from synthetic data.** This chapter ran on check-ins made by the project's "
            f"synthetic generator ({source['description']}), not on the real Gowalla data. Its numbers "
            "and figures show how the method works, not what real users do.\n"
            ":::"
        )
    return f":::{{note}}\n**Data:** {source['description']}.\n:::"


def data_banner(workdir):
    """Display the data banner in a notebook (a Markdown output rendered by the book)."""
    from IPython.display import Markdown

    return Markdown(banner_text(read_provenance(workdir)))
