"""Choosing the check-ins a run uses, from the chapter's one ``DATA`` parameter.

``DATA`` is a path to a SNAP-format file, or one of ``"sample"`` (the real New York City
sample), ``"snap"`` (the full SNAP file, downloaded once), ``"synthetic"`` (made by
:mod:`checkin_traj.data.synthetic`, cached) and ``"auto"`` (the sample if present, else the
full file). :func:`resolve_checkins` answers with a :class:`DataSource`: the file to read
and the words the book shows about it. See ``DATA.md`` next to this module.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..checks import check_int
from .fetch import (
    CHECKINS_FILE, SNAP_REGISTRY, ChecksumError, DownloadError, _file_digest, _record_path, cache_dir_path, count_lines,
    fetch_snap,
)
from .lookups import ask

KINDS = ("file", "sample", "snap", "synthetic")
KEYWORDS = ("auto", "sample", "snap", "synthetic")

DATA_DIR_ENV = "GOWALLA_DATA_DIR"  # environment variable: folder holding gowalla-nyc/
REPO_ROOT = Path(__file__).resolve().parents[3]  # for an editable install (src layout)
SAMPLE_FILE = Path("gowalla-nyc") / "loc-gowalla_totalCheckins.nyc.txt.gz"
SYNTHETIC_PREFIX = "synthetic-checkins"

SNAP_CITATION = (
    "E. Cho, S. A. Myers and J. Leskovec, \"Friendship and Mobility: User Movement in "
    "Location-Based Social Networks\", Proc. ACM SIGKDD (KDD), 2011; data: SNAP loc-gowalla, "
    "https://snap.stanford.edu/data/loc-gowalla.html"
)
SYNTHETIC_CITATION = "no citation: synthetic check-ins made by checkin_traj.data.synthetic.generate_checkins"


@dataclass(frozen=True)
class DataSource:
    """The check-ins file a run reads, and how the book describes it.

    ``path``: the SNAP-format file (plain or gzip); ``kind``: how it was chosen
    (:data:`KINDS`); ``synthetic``: whether the check-ins are made up (every chapter then
    shows a warning banner); ``description``: one sentence for the book, e.g. "real Gowalla
    check-ins, SNAP loc-gowalla, New York City sample of 138,957 rows"; ``citation``: the
    reference to cite for the data.
    """

    path: Path
    kind: str
    synthetic: bool
    description: str
    citation: str

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"DataSource.kind must be one of {KINDS}, got {self.kind!r}")
        object.__setattr__(self, "path", Path(self.path))


def sample_path() -> Path:
    """Where the real New York City sample is looked for.

    ``$GOWALLA_DATA_DIR/gowalla-nyc/loc-gowalla_totalCheckins.nyc.txt.gz`` when the
    variable is set (and only there), else ``<repo root>/../shared/data/gowalla-nyc/...``.
    """
    env = ask("environ", DATA_DIR_ENV)
    data_dir = Path(env).expanduser() if env else REPO_ROOT.parent / "shared" / "data"
    return data_dir / SAMPLE_FILE


def resolve_checkins(data="auto", *, cache_dir=None, synthetic_users=300, seed=0, box=None, progress=True) -> DataSource:
    """Choose the check-ins file (a :class:`DataSource`) from the chapter's ``DATA`` parameter.

    ``data``: a path to a SNAP-format check-ins file (``.txt`` or ``.txt.gz``), or ``"sample"``: the real New York
    City sample (see :func:`sample_path`); ``"snap"``: the full SNAP file, downloaded once into the cache and
    verified; ``"synthetic"``: ``synthetic_users`` (>= 1) synthetic users drawn with ``seed`` (>= 0), written once to
    the cache; ``"auto"``: the sample if present, else the full SNAP file. ``cache_dir``: for downloads and synthetic
    files (:func:`~checkin_traj.data.fetch.cache_dir_path`); ``box``: the city the synthetic users live in (New York
    City's by default); ``progress``: a progress bar while downloading.

    Raises ``ValueError``: ``data`` is neither a path nor one of the keywords; a bad
    ``synthetic_users`` or ``seed``; ``FileNotFoundError``: the file named by ``data``, or the sample
    for ``data="sample"``, does not exist; ``DownloadError``: ``"auto"`` or ``"snap"`` needed the
    download and it failed (the message says how to point ``DATA`` at a local file or use
    ``DATA="synthetic"``).
    """
    synthetic_users, seed = check_int("synthetic_users", synthetic_users, minimum=1), check_int("seed", seed, minimum=0)
    if isinstance(data, os.PathLike):
        return _from_file(Path(data), data)
    if not isinstance(data, str):
        raise ValueError(_bad_data_message(data))
    key = data.strip()
    if key == "sample":
        return _from_sample()
    if key == "snap":
        return _from_snap(cache_dir=cache_dir, progress=progress)
    if key == "synthetic":
        return _from_synthetic(cache_dir=cache_dir, n_users=synthetic_users, seed=seed, box=box)
    if key == "auto":
        return _auto(cache_dir=cache_dir, progress=progress)
    path = Path(key).expanduser()
    if key and (path.exists() or _looks_like_path(key)):
        return _from_file(path, data)
    raise ValueError(_bad_data_message(data))


def _bad_data_message(data) -> str:
    return (
        f"DATA must be a path to a SNAP check-ins file (.txt or .txt.gz) or one of "
        f"{', '.join(repr(k) for k in KEYWORDS)}; got {data!r}"
    )


def _looks_like_path(text: str) -> bool:
    return "/" in text or os.sep in text or text.endswith((".txt", ".gz", ".tsv", ".csv"))


def _from_file(path: Path, data) -> DataSource:
    if not path.exists():
        raise FileNotFoundError(f"DATA={str(data)!r}: no such file {path.resolve()}")
    if path.is_dir():
        raise IsADirectoryError(f"DATA={str(data)!r}: {path.resolve()} is a folder, not a check-ins file")
    if not path.is_file():
        raise ValueError(f"DATA={str(data)!r}: {path.resolve()} is not a regular file (a pipe or a device?); the chapter "
                         "reads its data more than once: save it to a file first")
    path = path.resolve()
    n_rows = count_lines(path)
    if path.name.startswith(SYNTHETIC_PREFIX):
        return DataSource(path, "file", True, f"synthetic check-ins read from {path.name}, {n_rows:,} rows", SYNTHETIC_CITATION)
    is_gowalla = path.name.startswith("loc-gowalla")
    description = f"{'Gowalla check-ins' if is_gowalla else 'check-ins'} in SNAP format read from {path.name}, {n_rows:,} rows"
    return DataSource(path, "file", False, description, SNAP_CITATION if is_gowalla else "")


def _from_sample() -> DataSource:
    path = sample_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"DATA='sample': the New York City sample is not at {path}; set {DATA_DIR_ENV} to the "
            f"folder holding {SAMPLE_FILE}, or use DATA='snap' or DATA='synthetic'"
        )
    description = f"real Gowalla check-ins, SNAP loc-gowalla, New York City sample of {count_lines(path):,} rows"
    return DataSource(path.resolve(), "sample", False, description, SNAP_CITATION)


def _from_snap(*, cache_dir, progress) -> DataSource:
    path = fetch_snap(CHECKINS_FILE, cache_dir=cache_dir, progress=progress)
    n_rows = SNAP_REGISTRY[CHECKINS_FILE].n_lines  # verified by fetch_snap
    description = f"real Gowalla check-ins, SNAP loc-gowalla, full worldwide file of {n_rows:,} rows"
    return DataSource(path, "snap", False, description, SNAP_CITATION)


def _auto(*, cache_dir, progress) -> DataSource:
    if ask("is_file", str(sample_path().absolute())):
        return _from_sample()
    try:
        return _from_snap(cache_dir=cache_dir, progress=progress)
    except (DownloadError, ChecksumError) as exc:
        raise DownloadError(
            f"DATA='auto' found no New York City sample at {sample_path()} and could not get the "
            f"full SNAP file ({exc.__class__.__name__}: {exc})\n"
            f"Point DATA at a local copy of the SNAP check-ins:\n"
            f"    papermill ... -p DATA path/to/loc-gowalla_totalCheckins.txt.gz\n"
            f"or use synthetic check-ins:\n"
            f"    papermill ... -p DATA synthetic\n"
            f"(or set {DATA_DIR_ENV} to the folder holding {SAMPLE_FILE})."
        ) from exc


def _generator_fingerprint() -> str:
    """Eight hex digits of the generator's source, so a changed generator is not reused."""
    from . import synthetic

    return hashlib.sha256(Path(synthetic.__file__).read_bytes()).hexdigest()[:8]


def synthetic_path(*, cache_dir=None, n_users=300, seed=0, box=None) -> Path:
    """Where the synthetic check-ins for ``n_users``, ``seed`` and ``box`` (New York City's by default) are cached."""
    from ..geo import NYC_BOX

    where = "" if box is None or box == NYC_BOX else f"_box{box.lat_min:g},{box.lat_max:g},{box.lon_min:g},{box.lon_max:g}"
    name = f"{SYNTHETIC_PREFIX}_users{n_users}_seed{seed}{where}_gen{_generator_fingerprint()}.txt.gz"
    return cache_dir_path(cache_dir) / "synthetic" / name


def _cached_copy_is_whole(path: Path) -> bool:
    """Whether ``path`` exists and matches the SHA-256 recorded beside it."""
    record = _record_path(path)
    if not (path.is_file() and record.is_file()):
        return False
    recorded = record.read_text().split()
    return bool(recorded) and recorded[0] == _file_digest(path, "sha256")


def _from_synthetic(*, cache_dir, n_users, seed, box=None) -> DataSource:
    from .atomic import write_set
    from .synthetic import generate_checkins, write_snap_checkins

    path = synthetic_path(cache_dir=cache_dir, n_users=n_users, seed=seed, box=box)
    if not _cached_copy_is_whole(path):
        # the file and the SHA-256 recorded beside it, as one set: a copy truncated, emptied
        # or left half-written is never trusted, and is made again
        city = {} if box is None else {"box": box}  # New York City's box, the generator's default
        check_ins, staged = generate_checkins(n_users=n_users, seed=seed, **city), []

        def write_file(partial):
            write_snap_checkins(check_ins, partial)
            staged.append(partial)

        def write_record(partial):
            partial.write_text(f"{_file_digest(staged[0], 'sha256')}  {path.name}\n")

        write_set(path.parent, {path.name: write_file, _record_path(path).name: write_record})
    description = f"synthetic check-ins from checkin_traj.data.synthetic, {n_users:,} users, seed {seed}, {count_lines(path):,} rows"
    return DataSource(path, "synthetic", True, description, SYNTHETIC_CITATION)
