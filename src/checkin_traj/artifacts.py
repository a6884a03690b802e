"""Saved models a later command reads: files written together (:func:`checkin_traj.data.atomic.write_set`)
with a JSON file, written last, that records the package version and every other file's SHA-256;
read back only when the version is this one and every file is the one recorded."""

from __future__ import annotations

import json
from pathlib import Path

from .data.atomic import file_sha256, recover, write_set

__all__ = ["save_artifact", "read_artifact", "load_network", "named"]


def save_artifact(folder, writers: dict, meta_name: str, meta: dict) -> Path:
    """Write each ``writers[name](path)`` into ``folder``, then ``meta_name`` (``meta``, the package
    version and the files' SHA-256), all together or none; returns the folder."""
    from . import __version__

    staged = {}

    def staging(name, write):
        return lambda path: (staged.setdefault(name, path), write(path))

    def write_meta(path):
        sums = {name: file_sha256(staged[name]) for name in writers}
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
        if not (folder / name).is_file() or file_sha256(folder / name) != sums.get(name):
            raise ValueError(f"{folder / name} is missing or damaged (not the file {meta_name} records); {again}")
    return meta


def load_network(path, *, again: str):
    """The Keras network saved at ``path`` (the book's own layers registered first); ``ValueError``
    naming the file and how to make it ``again`` when Keras cannot read it."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no TensorFlow start-up log on stderr
    import keras

    from .pages import transformer  # noqa: F401 - registers the book's own layer

    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:  # noqa: BLE001 - another Keras, a file Keras cannot read: the same answer
        raise ValueError(f"{path} cannot be loaded ({type(error).__name__}); {again}") from None


def named(values) -> str:
    """Up to ten of ``values`` in a note's words, and how many more."""
    values = list(values)
    return ", ".join(str(value) for value in values[:10]) + (f" and {len(values) - 10} more" if len(values) > 10 else "")
