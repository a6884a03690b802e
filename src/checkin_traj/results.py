"""Saving a chapter's results so later chapters (and tests) can read them.

Each result ``name`` lives in ``WORKDIR/results`` as ``name.json`` (metrics, tables,
extra JSON-able data) and, when arrays are given, ``name.npz``. Both are written
atomically, so an interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .data.atomic import atomic_path

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def results_dir(workdir) -> Path:
    """The folder holding the results of a run, ``WORKDIR/results``."""
    return Path(workdir) / "results"


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"result name must be letters, digits, '.', '_' or '-', got {name!r}")
    return name


def _to_jsonable(value):
    if isinstance(value, dict):
        return {str(key): _to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return _to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None if np.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def save_results(workdir, name, *, metrics=None, tables=None, arrays=None, extra=None) -> Path:
    """Save a chapter's results.

    Parameters
    ----------
    workdir : str or Path
        The run's folder (the chapters' ``WORKDIR`` parameter).
    name : str
        Result name, e.g. ``"baselines"`` or ``"lstm"``.
    metrics : dict, optional
        Flat mapping of metric name to number.
    tables : dict of str to pandas.DataFrame, optional
        Tables, stored with their index and columns.
    arrays : dict of str to numpy.ndarray, optional
        Arrays (e.g. predictions), stored in ``name.npz``.
    extra : dict, optional
        Any other JSON-able data (hyperparameters, histories, the protocol).

    Returns
    -------
    Path
        The JSON file written.
    """
    _check_name(name)
    folder = results_dir(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    tables = tables or {}
    for key, table in tables.items():
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"tables[{key!r}] must be a pandas DataFrame, got {type(table).__name__}")
    document = {
        "name": name,
        "metrics": _to_jsonable(metrics or {}),
        "tables": {key: json.loads(table.to_json(orient="split", date_format="iso")) for key, table in tables.items()},
        "extra": _to_jsonable(extra or {}),
        "arrays": sorted(arrays) if arrays else [],
    }
    if arrays:
        with atomic_path(folder / f"{name}.npz") as tmp:
            with open(tmp, "wb") as handle:
                np.savez_compressed(handle, **{key: np.asarray(value) for key, value in arrays.items()})
    json_path = folder / f"{name}.json"
    with atomic_path(json_path) as tmp:
        Path(tmp).write_text(json.dumps(document, indent=1, allow_nan=False))
    return json_path


def load_results(workdir, name) -> dict:
    """Load results saved by :func:`save_results`.

    Returns
    -------
    dict
        Keys ``metrics`` (dict), ``tables`` (dict of DataFrames), ``extra`` (dict) and
        ``arrays`` (dict of numpy arrays, empty when none were saved).

    Raises
    ------
    FileNotFoundError
        When the result does not exist, naming the chapter-run folder to check.
    """
    _check_name(name)
    json_path = results_dir(workdir) / f"{name}.json"
    if not json_path.exists():
        raise FileNotFoundError(
            f"no results named {name!r} in {results_dir(workdir)}: run the chapter that writes them first "
            f"with the same WORKDIR"
        )
    document = json.loads(json_path.read_text())
    tables = {}
    for key, table in document.get("tables", {}).items():
        tables[key] = pd.DataFrame(table["data"], index=table["index"], columns=table["columns"])
    arrays = {}
    if document.get("arrays"):
        with np.load(json_path.with_suffix(".npz")) as stored:
            arrays = {key: stored[key] for key in stored.files}
    return {"metrics": document["metrics"], "tables": tables, "extra": document["extra"], "arrays": arrays}
