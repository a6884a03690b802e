"""Where a run's data came from, and the clean data shared by the chapters.

Chapter 01 saves the clean check-ins and a ``provenance.json`` in ``WORKDIR/data``, as one
set written only once the cleaning has succeeded; every chapter starts with
:func:`data_banner`, which names the data source and warns loudly when it is synthetic.
"""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from pathlib import Path

import pandas as pd

from .atomic import file_sha256, recover, write_set
from .snap import InputError
from .tables import write_table

CLEAN_PARQUET = "clean.parquet"
CLEAN_CSV = "clean.csv"
PROVENANCE = "provenance.json"


def data_dir(workdir) -> Path:
    """The folder holding a run's clean data, ``WORKDIR/data``."""
    return Path(workdir) / "data"


def save_clean(workdir, check_ins: pd.DataFrame, *, source, parameters: dict, report=None) -> dict:
    """Write the clean check-ins and their provenance to ``WORKDIR/data`` as one set: all new, or all old.

    ``clean.parquet`` (read by later chapters), ``clean.csv`` (for people) and
    ``provenance.json`` (the ``source`` of :func:`checkin_traj.data.sources.resolve_checkins`,
    the run's JSON-able ``parameters``, ``"data"`` included, the cleaning ``report`` through
    its ``to_dict()`` or as a dataclass, and the SHA-256 of the Parquet file) go through
    :func:`~checkin_traj.data.atomic.write_set`, so an interrupted or failed run leaves the
    previous set whole. Returns ``{"parquet": Path, "csv": Path, "provenance": Path}``.
    """
    report_data = report
    if report is not None:
        report_data = report.to_dict() if hasattr(report, "to_dict") else asdict(report) if is_dataclass(report) else dict(report)
    source_record = {"path": str(source.path), "kind": source.kind, "synthetic": bool(source.synthetic),
                     "description": source.description, "citation": getattr(source, "citation", "")}
    document = {"source": source_record, "parameters": parameters, "report": report_data}

    def write_parquet(path):
        write_table(check_ins, path)
        document["clean_sha256"] = file_sha256(path)

    def write_provenance(path):  # last: it records the Parquet file's checksum
        Path(path).write_text(json.dumps(document, indent=1, default=str))

    paths = write_set(
        data_dir(workdir),
        {CLEAN_PARQUET: write_parquet, CLEAN_CSV: lambda path: write_table(check_ins, path), PROVENANCE: write_provenance},
    )
    return {"parquet": paths[CLEAN_PARQUET], "csv": paths[CLEAN_CSV], "provenance": paths[PROVENANCE]}


def load_clean(workdir, *, data=None) -> pd.DataFrame:
    """Read the clean check-ins written by chapter 01 for the same ``WORKDIR``.

    ``data``: the ``DATA`` this chapter was told about, which the provenance must describe
    (:func:`matches_data`).

    Raises ``FileNotFoundError``: when chapter 01 has not saved its outputs in ``WORKDIR``;
    ``ValueError`` When ``clean.parquet`` is not the file its provenance describes, or the
    provenance names another data source than ``data``.
    """
    provenance = read_provenance(workdir)
    path = data_dir(workdir) / CLEAN_PARQUET
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run chapter 01 (data cleaning) with WORKDIR={str(workdir)!r} first")
    recorded = provenance.get("clean_sha256")
    if recorded != file_sha256(path):
        raise ValueError(
            f"{path} is not the file its provenance ({data_dir(workdir) / PROVENANCE}) describes "
            f"(SHA-256 recorded {recorded}); run chapter 01 again with WORKDIR={str(workdir)!r}"
        )
    if data is not None and not matches_data(provenance, data):
        raise ValueError(
            f"{path} was made from {provenance['source']['description']} (DATA="
            f"{provenance.get('parameters', {}).get('data')!r}), not from DATA={str(data)!r}; run chapter 01 "
            f"with DATA={str(data)!r} and WORKDIR={str(workdir)!r} first"
        )
    return pd.read_parquet(path)


def matches_data(provenance: dict, data) -> bool:
    """Whether a provenance record describes the data source ``data`` (a ``DATA`` value).

    A keyword must match the source's kind (``"auto"``: the sample or the full SNAP file);
    a path must be the file that was read.
    """
    kind = provenance["source"]["kind"]
    if isinstance(data, str) and data.strip() in ("sample", "snap", "synthetic"):
        return kind == data.strip()
    if isinstance(data, str) and data.strip() == "auto":
        return kind in ("sample", "snap")
    return Path(data).expanduser().resolve() == Path(provenance["source"]["path"]).resolve()


def read_provenance(workdir) -> dict:
    """Read ``WORKDIR/data/provenance.json`` (see :func:`save_clean`), finishing an interrupted save first."""
    folder = data_dir(workdir)
    recover(folder)
    path = folder / PROVENANCE
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run chapter 01 (data cleaning) with WORKDIR={str(workdir)!r} first")
    again = f"run chapter 01 again with WORKDIR={str(workdir)!r}"
    try:
        document = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(str(path), None, f"not a readable provenance record ({exc}); {again}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("source"), dict):
        found = type(document).__name__ + (" without one" if isinstance(document, dict) else "")
        raise InputError(str(path), None, f"expected a JSON object with a 'source' record, found {found}; {again}")
    lacking = [key for key in ("path", "kind", "synthetic", "description") if key not in document["source"]]
    if lacking:
        raise InputError(str(path), None, f"its source record lacks {lacking}; {again}")
    return document


def banner_text(provenance: dict) -> str:
    """The MyST admonition shown at the top of every chapter: the city, the data, and a warning for synthetic data."""
    source = provenance["source"]
    parameters = provenance.get("parameters") or {}
    where = f"**City:** {parameters['city_name']} (local time {parameters['timezone']}). " if "city_name" in parameters else ""
    if source["synthetic"]:
        return (
            ":::{warning}\n"
            f"{where}**Built from synthetic data.** This chapter ran on check-ins made by the project's "
            f"synthetic generator ({source['description']}), not on the real Gowalla data. Its numbers "
            "and figures show how the method works, not what real users do.\n"
            ":::"
        )
    return f":::{{note}}\n{where}**Data:** {source['description']}.\n:::"


def run_city(workdir):
    """The city chapter 01 cleaned ``workdir``'s check-ins for (a :class:`checkin_traj.geo.City`):
    its name, box and time zone; New York City for a run saved before chapter 01 had ``CITY``."""
    from ..geo import CITIES, BoundingBox, City

    parameters = read_provenance(workdir).get("parameters") or {}
    if "city_name" not in parameters:
        return CITIES["new_york"]
    return City(name=parameters["city_name"], box=BoundingBox(**parameters["box"]), timezone=parameters["timezone"])


def data_banner(workdir=None, *, source=None, parameters=None):
    """Display the data banner in a notebook (a Markdown output rendered by the book).

    From ``WORKDIR``'s provenance, or from ``source`` (a DataSource) and the run's
    ``parameters`` in chapter 01, which shows the banner before it has saved anything.
    """
    from IPython.display import Markdown

    if source is not None:
        provenance = {"source": {"synthetic": bool(source.synthetic), "description": source.description},
                      "parameters": parameters or {}}
    else:
        provenance = read_provenance(workdir)
    return Markdown(banner_text(provenance))
