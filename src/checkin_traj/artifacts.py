"""Saved models a later command reads: files written together (:func:`checkin_traj.data.atomic.write_set`)
with a JSON file, written last, that records the package version and every other file's SHA-256;
read back only when the version is this one and every file is the one recorded."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .data.atomic import recover, write_set

__all__ = ["save_artifact", "read_artifact"]


def _sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_artifact(folder, writers: dict, meta_name: str, meta: dict) -> Path:
    """Write each ``writers[name](path)`` into ``folder``, then ``meta_name`` (``meta``, the package
    version and the files' SHA-256), all together or none; returns the folder."""
    from . import __version__

    staged = {}

    def staging(name, write):
        return lambda path: (staged.setdefault(name, path), write(path))

    def write_meta(path):
        sums = {name: _sha256(staged[name]) for name in writers}
        path.write_text(json.dumps({"version": __version__, **meta, "sha256": sums}, indent=1, default=str))

    write_set(folder, {**{name: staging(name, write) for name, write in writers.items()}, meta_name: write_meta})
    return Path(folder)


def read_artifact(folder, meta_name: str, names, *, again: str, what: str) -> dict:
    """The meta data :func:`save_artifact` wrote in ``folder``, once each file of ``names`` is checked;
    ``FileNotFoundError`` (nothing saved) or ``ValueError`` (damaged, or saved by another package
    version), naming the file, ``what`` it should hold and how to make it ``again``."""
    from . import __version__

    folder = Path(folder)
    recover(folder)
    meta_path = folder / meta_name
    if not meta_path.is_file():
        raise FileNotFoundError(f"{meta_path}: no {what} saved there; {again}")
    try:
        meta = json.loads(meta_path.read_text())
        sums, version = meta["sha256"], meta["version"]
    except (ValueError, UnicodeDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"{meta_path} is damaged ({type(error).__name__}: {error}); {again}") from None
    if version != __version__:
        raise ValueError(f"{meta_path} was saved by checkin-traj {version}, this is {__version__}; {again}")
    for name in names:
        if not (folder / name).is_file() or _sha256(folder / name) != sums.get(name):
            raise ValueError(f"{folder / name} is missing or damaged (not the file {meta_name} records); {again}")
    return meta
