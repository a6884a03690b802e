"""The full SNAP Gowalla files: downloaded once, cached, verified on every use.

:func:`fetch_snap` downloads a file of :data:`SNAP_REGISTRY` with pooch (a progress bar,
a temporary file renamed into place only when complete and verified), keeps it in a cache
folder, and reuses the cached copy only while its checksum matches. See ``DATA.md`` next
to this module for where the files and their checksums come from.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import NamedTuple

from .lookups import ask

SNAP_BASE_URL = "https://snap.stanford.edu/data/"
CACHE_ENV = "CHECKIN_TRAJ_CACHE"  # environment variable: the cache folder
URL_ENV = "CHECKIN_TRAJ_SNAP_URL"  # environment variable: a mirror of SNAP_BASE_URL
CHECKINS_FILE = "loc-gowalla_totalCheckins.txt.gz"
EDGES_FILE = "loc-gowalla_edges.txt.gz"

OFFLINE_HINT = (
    "To work without the download, point the chapter's DATA parameter at a local copy "
    "(papermill ... -p DATA path/to/loc-gowalla_totalCheckins.txt.gz) or use synthetic "
    "check-ins (-p DATA synthetic)."
)


class SnapFile(NamedTuple):
    """One registry entry: where a file lives, its checksum and its number of lines."""

    url: str
    known_hash: str | None  # "sha256:<hex>" or "md5:<hex>"; None: recorded on first download
    n_lines: int


#: name -> (url, known_hash, expected line count) of the full SNAP loc-gowalla files.
SNAP_REGISTRY: dict[str, SnapFile] = {
    # 6,442,890 check-ins (SNAP's loc-gowalla page), 105,470,044 bytes. The SHA-256 is the
    # one published by two independent dataset loaders:
    #   Spatial-Temporal-Data-Mining/TrajDL, src/trajdl/datasets/open_source/conf.py
    #     (GowallaDataset.sha256_original, with size 105470044),
    #   ISG-Siegen/OmniRec, src/omnirec/data_loaders/gowalla.py (DatasetInfo hash);
    # sisinflab/DataRec, datarec/datasets/gowalla/gowalla_checkins.py gives its MD5,
    # 8ebd5ed2dd376d8982987c49429cb9f9, with the same size.
    CHECKINS_FILE: SnapFile(
        url=SNAP_BASE_URL + CHECKINS_FILE,
        known_hash="sha256:c1c3e19effba649b6c89aeab3c1f9459fad88cfdc2b460fc70fd54e295d83ea0",
        n_lines=6_442_890,
    ),
    # 950,327 undirected friendships stored as directed lines both ways (2 x 950,327),
    # 6,351,523 bytes. No SHA-256 was found published; the MD5 is the one of
    # sisinflab/DataRec, datarec/datasets/gowalla/gowalla_friendships.py (CHECKSUM, with
    # size 6351523) and its datarec/datasets/gowalla/README.md.
    EDGES_FILE: SnapFile(
        url=SNAP_BASE_URL + EDGES_FILE,
        known_hash="md5:68bce8dc51609fe32bbd95e668aaf65e",
        n_lines=1_900_654,
    ),
}


class DownloadError(ConnectionError):
    """A SNAP file could not be downloaded; nothing was left under its final name."""


class ChecksumError(ValueError):
    """A downloaded or cached file failed verification; it was deleted, not used."""


def cache_dir_path(cache_dir=None) -> Path:
    """The cache folder: ``cache_dir``, else ``$CHECKIN_TRAJ_CACHE``, else the user cache.

    The user cache is ``pooch.os_cache("checkin-traj")`` (``~/.cache/checkin-traj`` on Linux).
    """
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = ask("environ", CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("checkin-traj"))


def count_lines(path) -> int:
    """Number of lines of a text file, plain or gzip (by its magic bytes); a last line without a newline counts.

    Reads the whole file, so it also proves a ``.gz`` file decompresses to its end (else
    :class:`~checkin_traj.data.snap.InputError` naming the file).
    """
    from .snap import gzip_error

    path = Path(path)
    with open(path, "rb") as stream:
        is_gzip = stream.read(2) == b"\x1f\x8b"
    opener = gzip.open if is_gzip else open
    n_lines = 0
    last = b"\n"
    try:
        with opener(path, "rb") as stream:
            while block := stream.read(1 << 20):
                n_lines += block.count(b"\n")
                last = block[-1:]
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise gzip_error(str(path), exc) from exc
    return n_lines + (last != b"\n")


def _split_hash(known_hash: str) -> tuple[str, str]:
    algorithm, _, digest = known_hash.rpartition(":")
    return (algorithm or "sha256").lower(), digest.lower()


def _file_digest(path: Path, algorithm: str) -> str:
    import pooch

    return pooch.file_hash(str(path), alg=algorithm)


def _record_path(path: Path) -> Path:
    """Where the SHA-256 of a file without a published hash is recorded (trust on first use)."""
    return path.with_name(path.name + ".sha256")


def _write_record(path: Path) -> None:
    """Record the SHA-256 of ``path`` next to it (``sha256sum`` format), atomically."""
    from .atomic import atomic_path

    with atomic_path(_record_path(path)) as partial:
        partial.write_text(f"{_file_digest(path, 'sha256')}  {path.name}\n")


def _verify_lines(path: Path, *, n_lines: int, url: str) -> None:
    """Check gzip integrity and the exact line count; delete the file when either fails."""
    cause = None
    try:
        found = count_lines(path)
        problem = None if found == n_lines else f"has {found:,} lines, expected {n_lines:,}"
    except (OSError, ValueError) as exc:  # InputError: a truncated or corrupt gzip stream
        problem, cause = f"is not a complete gzip file ({exc})", exc
    if problem is not None:
        path.unlink(missing_ok=True)
        raise ChecksumError(f"{path.name} downloaded from {url} {problem}; it was deleted. Run again to download it afresh.") from cause


def fetch_snap(name, *, cache_dir=None, base_url=None, progress=True, downloader=None) -> Path:
    """Path to a full SNAP Gowalla file (a key of :data:`SNAP_REGISTRY`), downloaded on first use and verified.

    A cached copy is used only when its checksum matches the registry's (or the SHA-256 recorded at its
    first download); one that does not is deleted and downloaded again.

    ``cache_dir``: see :func:`cache_dir_path`; ``base_url``: a folder URL to download from instead of SNAP's (a
    mirror, a local test server; default ``$CHECKIN_TRAJ_SNAP_URL`` or the registry's URL); ``progress``: a tqdm bar;
    ``downloader``: a pooch downloader (default ``pooch.HTTPDownloader(progressbar=progress, timeout=60)``).

    Raises ``ValueError``: ``name`` is not in the registry; ``DownloadError``: the download failed
    (offline, server error, interrupted transfer); ``ChecksumError``: the downloaded file has the
    wrong checksum, is not a complete gzip file or has the wrong number of lines; it was deleted.
    """
    if name not in SNAP_REGISTRY:
        raise ValueError(f"unknown SNAP file {name!r}; expected one of {sorted(SNAP_REGISTRY)}")
    entry = SNAP_REGISTRY[name]
    base_url = base_url or os.environ.get(URL_ENV)
    url = f"{base_url.rstrip('/')}/{name}" if base_url else entry.url
    path = cache_dir_path(cache_dir) / name

    import pooch

    note = ""
    if path.exists():
        record = _record_path(path)
        expected = entry.known_hash or (f"sha256:{record.read_text().split()[0]}" if record.exists() else None)
        if expected is not None:
            algorithm, digest = _split_hash(expected)
            found = _file_digest(path, algorithm)
            if found == digest:
                return path
            path.unlink()
            record.unlink(missing_ok=True)
            note = f"The cached {path} had {algorithm.upper()} {found}, expected {digest}; it was deleted and is being downloaded again. "
            pooch.get_logger().warning(note)
        else:
            # A copy put in the cache by hand, without a published or recorded checksum.
            _verify_lines(path, n_lines=entry.n_lines, url=str(path))
            _write_record(path)
            return path

    if downloader is None:
        downloader = pooch.HTTPDownloader(progressbar=bool(progress), timeout=60)
    import requests

    try:
        pooch.retrieve(url, known_hash=entry.known_hash, fname=name, path=path.parent, downloader=downloader)
    except requests.exceptions.RequestException as exc:
        raise DownloadError(
            f"{note}Could not download {name} from {url}: {exc}. Nothing was saved under "
            f"{path}; running again restarts the download. {OFFLINE_HINT}"
        ) from exc
    except ValueError as exc:
        if "hash" not in str(exc):
            raise
        raise ChecksumError(
            f"{note}{name} downloaded from {url} does not match its published checksum, so "
            f"it was deleted and not used ({exc}). {OFFLINE_HINT}"
        ) from exc

    _verify_lines(path, n_lines=entry.n_lines, url=url)
    if entry.known_hash is None:
        _write_record(path)
    return path
