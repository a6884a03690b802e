"""A chapter's results, saved for later chapters (and tests).

Each result ``name`` lives in ``WORKDIR/results`` as ``name.json`` (metrics, tables, extra
JSON-able data) and, when arrays are given, ``name.npz``, both written atomically; the JSON
records the SHA-256 of its ``.npz``, so :func:`load_results` never mixes the record of one
run with the arrays of another. :func:`results_payload` is what a model chapter saves from
its runs over seeds, :func:`baseline_scores` the baselines' scores on a split.
"""

from __future__ import annotations

import json
import numbers
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from .data.atomic import atomic_path, file_sha256
from .data.snap import InputError

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
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_to_jsonable(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None if np.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (pd.Timestamp, Path)):
        return value.isoformat() if isinstance(value, pd.Timestamp) else str(value)
    return value


def save_results(workdir, name, *, metrics=None, tables=None, arrays=None, extra=None) -> Path:
    """Save a chapter's results as ``name`` (``"baselines"``, ``"lstm"``) in ``WORKDIR/results``; returns the JSON file.

    ``metrics``: a flat mapping of metric name to number; ``tables``: dataFrames, stored with
    their index and columns; ``arrays``: numpy arrays (e.g. predictions), stored in
    ``name.npz``; ``extra``: any other JSON-able data (hyperparameters, histories, the protocol).
    """
    _check_name(name)
    folder = results_dir(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    tables = tables or {}
    for key, table in tables.items():
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"tables[{key!r}] must be a pandas DataFrame, got {type(table).__name__}")
    document = {
        "name": name, "metrics": _to_jsonable(metrics or {}),
        "tables": {key: json.loads(table.to_json(orient="split", date_format="iso")) for key, table in tables.items()},
        "extra": _to_jsonable(extra or {}), "arrays": sorted(arrays) if arrays else [],
    }
    if arrays:
        with atomic_path(folder / f"{name}.npz") as tmp:
            with open(tmp, "wb") as handle:
                np.savez_compressed(handle, **{key: np.asarray(value) for key, value in arrays.items()})
            document["arrays_sha256"] = file_sha256(tmp)  # the JSON, written last, names its arrays
    json_path = folder / f"{name}.json"
    with atomic_path(json_path) as tmp:
        Path(tmp).write_text(json.dumps(document, indent=1, allow_nan=False))
    return json_path


def load_results(workdir, name) -> dict:
    """Load results saved by :func:`save_results`: a dict of ``metrics``, ``tables`` (DataFrames), ``extra``
    and ``arrays`` (numpy arrays, empty when none were saved).

    FileNotFoundError when the result or its ``.npz`` does not exist; InputError when either
    cannot be read, or the ``.npz`` is not the one the JSON was saved with.
    """
    _check_name(name)
    json_path = results_dir(workdir) / f"{name}.json"
    if not json_path.exists():
        raise FileNotFoundError(
            f"no results named {name!r} in {results_dir(workdir)}: run the chapter that writes them first "
            f"with the same WORKDIR"
        )
    again = f"run the chapter that writes {name!r} again with WORKDIR={str(workdir)!r}"
    try:
        document = json.loads(json_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(str(json_path), None, f"not a readable results record ({exc}); {again}") from exc
    if not isinstance(document, dict) or not {"metrics", "extra"} <= set(document):
        raise InputError(str(json_path), None, f"expected a results record (a JSON object with 'metrics' and 'extra'); {again}")
    tables = {}
    for key, table in document.get("tables", {}).items():
        tables[key] = pd.DataFrame(table["data"], index=table["index"], columns=table["columns"])
    arrays = {}
    if document.get("arrays"):
        npz_path = json_path.with_suffix(".npz")
        if not npz_path.exists():
            raise FileNotFoundError(f"{npz_path} not found, though {json_path.name} names its arrays; {again}")
        recorded = document.get("arrays_sha256")  # absent in results saved before it was recorded
        if recorded is not None and recorded != file_sha256(npz_path):
            raise InputError(
                str(npz_path), None, f"is not the array file {json_path.name} describes (SHA-256 recorded {recorded}); {again}"
            )
        try:
            with np.load(npz_path) as stored:
                arrays = {key: stored[key] for key in stored.files}
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as exc:
            raise InputError(str(npz_path), None, f"not a readable array file ({type(exc).__name__}: {exc}); {again}") from exc
    return {"metrics": document["metrics"], "tables": tables, "extra": document["extra"], "arrays": arrays}


# --------------------------------------------------------------------------- reporting

#: Result names of the model chapters and how the models are called in text.
MODEL_NAMES = {"lstm": "LSTM", "seq2seq": "Seq2Seq", "transformer": "Transformer"}


def run_label(model, run) -> str:
    """How a model run is named in tables and figures, e.g. ``"Transformer (no positions, offset)"``.

    ``model``: the model's name in text (``"LSTM"``) or the result name of its chapter (``"lstm"``); ``run``: the
    run's label in that chapter (``"absolute"``, ``"positions_offset"``, ...).
    """
    words = run.replace("no_positions_", "no positions, ").replace("positions_", "positions, ").replace("_", " ")
    return f"{MODEL_NAMES.get(model, model)} ({words})"


#: Metrics a model chapter saves as flat ``<run>_<metric>_mean`` / ``_std`` numbers.
SAVED_METRICS = ("rmse", "r2", "km_median", "within_1km", "minutes_median")


def flatten_metrics(metrics, prefix="") -> dict:
    """A flat {name: float} from :func:`checkin_traj.metrics.evaluate`'s dict (nested dicts joined with '_')."""
    flat = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            flat.update(flatten_metrics(value, prefix=f"{prefix}{key}_"))
        elif isinstance(value, (numbers.Real, np.generic)) and not isinstance(value, bool):
            flat[f"{prefix}{key}"] = float(value)
    return flat


def seed_array_name(label, seed) -> str:
    """Name of one seed's predictions in a model result's arrays, ``"<label>_seed<k>"``."""
    return f"{label}_seed{int(seed)}"


def results_payload(runs, *, hyperparameters, training=None, verdicts=None):
    """What a model chapter saves with :func:`save_results`, from ``runs`` (run label, letters, digits and
    ``_``, -> its ``SeedRuns``), the model's ``hyperparameters`` (JSON-able), ``training``
    settings and JSON-able ``verdicts`` (metric -> run -> :meth:`Verdict.as_dict`).

    Returns the keyword arguments ``metrics`` (``"<label>_<metric>_mean"`` and ``"..._std"`` for
    :data:`SAVED_METRICS`); ``tables``: ``"summary"`` (one row per run label, ``<metric>_mean`` and
    ``<metric>_std`` for every metric, ``val_*`` included) and ``"seeds"`` (one row per run and seed);
    ``arrays``: ``"<label>"`` the best seed's (lowest validation loss) predictions of the scored split,
    ``"<label>_seed_mean"`` the mean over seeds and ``"<label>_seed<k>"`` each seed's (scaled, (n, n_targets));
    ``extra``: ``histories`` (label -> seed -> history), ``hyperparameters``, ``training``, ``best_seed``
    (label -> seed), ``seeds`` (label -> seeds), ``split``, ``runs`` (labels in order), ``model`` (the
    model's name per label), ``target_mode`` per label, ``verdicts``.
    """
    if not runs:
        raise ValueError("runs is empty")
    for label in runs:
        if not isinstance(label, str) or not label.replace("_", "").isalnum():
            raise ValueError(f"run labels must be letters, digits and '_', got {label!r}")
    summary_rows, seed_frames, metrics, arrays = {}, [], {}, {}
    for label, seed_runs in runs.items():
        summary = seed_runs.summary()
        summary_rows[label] = {
            **{f"{metric}_mean": value for metric, value in summary["mean"].items()},
            **{f"{metric}_std": value for metric, value in summary["std"].items()},
            "n_seeds": int(summary["n_seeds"].max()),
        }
        seed_frames.append(seed_runs.metrics.reset_index().assign(run=label))
        for metric in SAVED_METRICS:
            if metric in summary.index:
                metrics[f"{label}_{metric}_mean"] = float(summary.loc[metric, "mean"])
                metrics[f"{label}_{metric}_std"] = float(summary.loc[metric, "std"])
        arrays[label] = seed_runs.predictions[seed_runs.best.seed]
        arrays[f"{label}_seed_mean"] = seed_runs.mean_prediction()
        for seed in seed_runs.seeds:
            arrays[seed_array_name(label, seed)] = seed_runs.predictions[seed]
    seeds_table = pd.concat(seed_frames, ignore_index=True)
    seeds_table = seeds_table[["run", "seed"] + [column for column in seeds_table.columns if column not in ("run", "seed")]]
    return {
        "metrics": metrics,
        "tables": {"summary": pd.DataFrame.from_dict(summary_rows, orient="index").rename_axis("run"), "seeds": seeds_table},
        "arrays": arrays,
        "extra": {
            "runs": list(runs),
            "model": {label: seed_runs.name for label, seed_runs in runs.items()},
            "target_mode": {label: seed_runs.target_mode for label, seed_runs in runs.items()},
            "split": next(iter(runs.values())).split,
            "best_seed": {label: seed_runs.best.seed for label, seed_runs in runs.items()},
            "seeds": {label: [int(seed) for seed in seed_runs.seeds] for label, seed_runs in runs.items()},
            "histories": {label: seed_runs.histories for label, seed_runs in runs.items()},
            "hyperparameters": hyperparameters,
            "training": training or {},
            "verdicts": verdicts or {},
        },
    }


def seed_predictions(result, run) -> dict:
    """Seed -> predictions of one run of a loaded model result (:func:`results_payload`'s arrays)."""
    seeds = result["extra"].get("seeds", {}).get(run)
    if seeds is None:
        raise ValueError(
            f"result {result.get('name', '')!r} does not list the seeds of run {run!r}: it was saved before per-seed "
            "predictions were kept; rerun its chapter"
        )
    return {int(seed): result["arrays"][seed_array_name(run, seed)] for seed in seeds}


def baseline_scores(workdir, data=None, *, split="val", name="baselines") -> pd.DataFrame:
    """The baselines' scores on ``split``: the table chapter 02 saved, or computed on ``data``.

    Chapter 02 saves the test table (and, when it does, the validation table). Strongest
    baselines are chosen on validation scores, so when none was saved they are computed
    here with :func:`checkin_traj.baselines.run_baselines` (deterministic, seconds).
    """
    tables = load_results(workdir, name)["tables"]
    if split in tables:
        return tables[split]
    if data is None:
        raise ValueError(f"results {name!r} in {workdir} have no {split!r} table; pass data= to compute it")
    from .baselines import run_baselines

    return run_baselines(data, split=split)
