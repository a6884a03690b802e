"""Atomic writes: a file, or a set of files that change together or not at all."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import uuid
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path`` (same folder, created; same suffixes, so writers that look at
    them behave as for ``path``); rename it onto ``path`` on success, delete it on an exception."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(target.suffixes)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{suffix}", dir=target.parent)
    os.close(handle)
    temporary = Path(temporary)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise


def file_sha256(path) -> str:
    """The SHA-256 of a file's bytes (hexadecimal), read in blocks of 1 MiB."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_COMMIT = ".commit.json"  # the journal of a set being put in place
_PENDING = re.compile(r"^\..+\.tmp")  # temporaries of atomic_path and write_set


def write_set(folder, writers: dict) -> dict:
    """Write several files of ``folder`` (created) so that they change together or not at all; returns their paths.

    Each ``writers[name](path)`` writes file ``name`` to a temporary path in ``folder``. Once
    all are written, a journal naming them is put in place (one atomic rename: the commit),
    then each temporary is renamed onto its final name and the journal is removed. A run
    killed before the commit leaves the old files; one killed after it leaves a journal
    that :func:`recover` (run by the next :func:`write_set` and by readers) completes, and
    that deletes any temporary left behind. The folder is locked meanwhile, so two saves
    into one folder, or a reader's :func:`recover`, wait for each other.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with _folder_lock(folder):
        _recover(folder)
        token = uuid.uuid4().hex[:12]
        staged = {}
        try:
            for name, writer in writers.items():
                target = folder / name
                temporary = folder / f".{name}.{token}.tmp{''.join(target.suffixes)}"
                staged[name] = temporary
                writer(temporary)
            with atomic_path(folder / _COMMIT) as journal:
                journal.write_text(json.dumps({name: path.name for name, path in staged.items()}))
        except BaseException:
            for temporary in staged.values():
                with contextlib.suppress(FileNotFoundError):
                    temporary.unlink()
            raise
        _recover(folder)
    return {name: folder / name for name in writers}


@contextlib.contextmanager
def _folder_lock(folder: Path):
    """An exclusive ``flock`` on the folder itself (no lock file; released when its holder ends, even killed).

    Where ``fcntl`` is missing (Windows), or the file system refuses locks, nothing is locked.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Linux or macOS
        yield
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # a file system without locks (some network ones): as before
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock


def recover(folder) -> None:
    """Finish a committed :func:`write_set` in ``folder`` and delete leftover temporaries.

    Waits for a :func:`write_set` running in ``folder`` to end first.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return
    with _folder_lock(folder):
        _recover(folder)


def _recover(folder: Path) -> None:
    journal = folder / _COMMIT
    if journal.exists():
        for name, temporary in _read_journal(journal).items():
            if (folder / temporary).exists():
                os.replace(folder / temporary, folder / name)
        journal.unlink()
    if folder.is_dir():
        for leftover in folder.iterdir():
            if _PENDING.match(leftover.name) and leftover.is_file():
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()


def _read_journal(journal: Path) -> dict:
    """The names of a committed set (final name to temporary); InputError when the record is damaged."""
    from .snap import InputError

    try:
        names = json.loads(journal.read_text())
        problem = None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        names, problem = None, str(exc)
    plain = lambda name: isinstance(name, str) and name not in ("", ".", "..") and Path(name).name == name  # noqa: E731
    if problem is None and not (
        isinstance(names, dict) and all(plain(name) and plain(temporary) for name, temporary in names.items())
    ):
        problem = "expected a JSON object of file names in this folder"
    if problem is not None:
        raise InputError(
            str(journal),
            None,
            f"damaged record of an interrupted save ({problem}); the files of {journal.parent} may come from "
            "two saves: delete this record and write them again",
        )
    return names
