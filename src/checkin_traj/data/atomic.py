"""Atomic writes: a file, or a set of files that change together or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path



@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary file lives in the same folder (so :func:`os.replace` is atomic), parent
    folders are created, and on an exception the temporary file is deleted and ``path`` is
    left untouched.

    Parameters
    ----------
    path : str or os.PathLike
        The final file.

    Yields
    ------
    pathlib.Path
        Where to write. It keeps ``path``'s suffixes, so writers that look at the
        suffix (``.gz``, ``.parquet``) behave as for ``path``.
    """
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


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
