"""Where a study's trials live: storage URLs, opening them, and who may share them.

Following Optuna's guidance for parallel searches (never SQLite for parallel optimisation):
``journal:///relative.journal``, ``journal:////absolute/tuning.journal`` or a plain path, the default
(:func:`default_storage`), is an append-only journal file for **several processes on one machine** (Optuna's journal
storage has no heartbeat, so this module adds one to find trials a dead worker left running);
``postgresql://user:password@host:5432/db`` (the ``postgres`` extra) serves **several machines**;
``sqlite:///path/tuning.db`` (or a path ending in ``.db``, ``.sqlite``, ``.sqlite3``) a **single process** only. A
storage that cannot be read raises :class:`StorageError` naming the file or the (password-free) URL.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import time
import warnings
from pathlib import Path

from ..checks import check_int, check_positive

STORAGE_KINDS = ("journal", "sqlite", "postgresql", "mysql")
JOURNAL_PREFIX = "journal:///"
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
HEARTBEAT_ATTR = "checkin_traj:heartbeat"  # trial system attribute: seconds since the epoch


class StorageError(RuntimeError):
    """A tuning storage that cannot be opened or read; the message names its file or URL."""


def default_storage(workdir) -> str:
    """The default storage of a run: the journal file ``WORKDIR/results/tuning.journal`` (absolute)."""
    return JOURNAL_PREFIX + str((Path(workdir) / "results" / "tuning.journal").resolve())


def storage_kind(storage) -> str:
    """``"journal"``, ``"sqlite"``, ``"postgresql"`` or ``"mysql"`` for a checked URL (:func:`storage_url`)."""
    url = storage_url(storage)
    if url.startswith(JOURNAL_PREFIX):
        return "journal"
    from sqlalchemy.engine import make_url

    return make_url(url).get_backend_name()


def journal_path(storage) -> Path:
    """The file of a ``journal:///`` URL (relative paths against the current folder)."""
    url = storage_url(storage)
    if not url.startswith(JOURNAL_PREFIX):
        raise ValueError(f"storage {redact(url)!r} is not a journal file")
    return Path(url[len(JOURNAL_PREFIX):])


def storage_url(storage) -> str:
    """Turn a path or URL into a checked storage URL string.

    ``storage``: ``journal:///file`` (relative) or ``journal:////abs/file``; ``sqlite:///file.db``; ``postgresql://``
    (or ``mysql://``) URL; or a path: a journal file unless it ends in ``.db``, ``.sqlite`` or ``.sqlite3`` (SQLite).

    Raises ``ValueError``: for an unparsable URL, an unsupported kind, an in-memory SQLite database
    or an empty journal path (they can be neither resumed nor shared), or a missing driver.
    """
    if isinstance(storage, Path) or (isinstance(storage, str) and "://" not in storage):
        if not str(storage) or str(storage) in (".", ":memory:"):
            raise ValueError(f"storage must be a storage URL or a file path, got {storage!r}")
        path = Path(storage).expanduser().resolve()
        return f"sqlite:///{path}" if path.suffix in SQLITE_SUFFIXES else JOURNAL_PREFIX + str(path)
    if not isinstance(storage, str):
        raise ValueError(f"storage must be a URL string or a path, got {type(storage).__name__}")
    if storage.startswith("journal:"):
        if not storage.startswith(JOURNAL_PREFIX) or not storage[len(JOURNAL_PREFIX):].strip("/"):
            raise ValueError(f"storage {storage!r}: a journal URL is journal:///relative/file or journal:////absolute/file")
        return storage
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(storage)
    except ArgumentError as error:
        raise ValueError(f"storage {storage!r} is not a storage URL such as 'journal:///tuning.journal': {error}") from None
    kind = url.get_backend_name()
    if kind not in STORAGE_KINDS:
        raise ValueError(f"storage kind must be one of {STORAGE_KINDS}, got {kind!r} in {redact(storage)!r}")
    if kind == "sqlite" and url.database in (None, "", ":memory:"):
        raise ValueError(
            f"storage {storage!r} is an in-memory SQLite database: it can be neither resumed nor shared; "
            "give a file, e.g. 'journal:///results/tuning.journal'"
        )
    if kind != "postgresql":
        return storage
    # the driver named: psycopg2 (the ``postgres`` extra) unless psycopg 3 is there (SQLAlchemy 2.1
    # takes a bare postgresql:// for psycopg 3, older versions for psycopg2)
    driver = url.drivername.partition("+")[2]
    if not driver:
        driver = "psycopg" if importlib.util.find_spec("psycopg") else "psycopg2"
        url = url.set(drivername=f"postgresql+{driver}")
    if importlib.util.find_spec(driver) is None:
        raise ValueError(f"a postgresql storage needs the driver {driver}: pip install 'checkin-traj[postgres]' (psycopg2)")
    return url.render_as_string(hide_password=False)


def redact(storage) -> str:
    """The storage URL with any password replaced by ``***`` (safe to print or save)."""
    text = str(storage)
    if text.startswith("journal:") or "://" not in text:
        return text
    from sqlalchemy.engine import make_url

    try:
        return make_url(text).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable storage URL>"


def check_workers(storage, workers) -> int:
    """Refuse several workers on a SQLite storage (Optuna: never SQLite for parallel searches)."""
    workers = check_int("workers", workers, minimum=1)
    if workers > 1 and storage_kind(storage) == "sqlite":
        raise ValueError(
            f"storage {redact(storage)!r} is SQLite, which serves a single process; for {workers} workers use a "
            "journal file (journal:///path/tuning.journal, one machine) or postgresql://... (several machines)"
        )
    return workers


def _sqlite_file(url) -> Path:
    from sqlalchemy.engine import make_url

    database = Path(make_url(url).database).expanduser()
    database.parent.mkdir(parents=True, exist_ok=True)
    return database


@contextlib.contextmanager
def exclusive_use(storage):
    """While inside, no other process may run a search on the same SQLite file (no-op for other kinds).

    Raises :class:`StorageError` when another process holds the file.
    """
    if storage_kind(storage) != "sqlite":
        yield
        return
    import fcntl

    database = _sqlite_file(storage_url(storage))
    with open(database.with_name(database.name + ".lock"), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StorageError(
                f"{database} is in use by another process; SQLite serves one process at a time: for several "
                "workers use a journal file (journal:///path/tuning.journal) or postgresql://..."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _heartbeat_journal_class():
    import optuna
    from optuna.storages._heartbeat import BaseHeartbeat
    from optuna.trial import TrialState

    class HeartbeatJournalStorage(optuna.storages.JournalStorage, BaseHeartbeat):
        """A journal storage whose running trials record a heartbeat (a trial system attribute).

        A ``RUNNING`` trial whose last heartbeat (or start, before the first) is older than
        ``grace_s`` belongs to a dead worker: :func:`optuna.storages.fail_stale_trials` fails it.
        The clock is the machine's: a journal file serves the processes of one machine.
        """

        def __init__(self, backend, *, heartbeat_s, grace_s):
            super().__init__(backend)
            self._heartbeat_s, self._grace_s = int(heartbeat_s), float(grace_s)

        def record_heartbeat(self, trial_id):
            try:
                self.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())
            except optuna.exceptions.UpdateFinishedTrialError:
                pass  # failed as stale by another worker meanwhile; its result will be refused

        def _get_stale_trial_ids(self, study_id):
            now, stale = time.time(), []
            for trial in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
                beat = trial.system_attrs.get(HEARTBEAT_ATTR)
                if beat is None and trial.datetime_start is not None:
                    beat = trial.datetime_start.timestamp()
                if beat is not None and now - float(beat) > self._grace_s:
                    stale.append(trial._trial_id)
            return stale

        def get_heartbeat_interval(self):
            return self._heartbeat_s

        def get_heartbeat_stale_trial_callback(self):
            return None

        def get_failed_trial_callback(self):  # optuna < 4.9 asks for it by this name
            return None

    return HeartbeatJournalStorage


def check_journal(path) -> None:
    """Raise :class:`StorageError` naming ``path`` and the line when a journal file is damaged.

    Every line must be one complete JSON record with an ``op_code``; Optuna would skip a
    damaged last line silently and then append after it, losing what follows.
    """
    path = Path(path)
    if not path.exists():
        return
    for attempt in range(2):
        problem = None
        with open(path, "rb") as journal:
            for number, line in enumerate(journal, start=1):
                if not line.endswith(b"\n"):
                    problem = f"line {number} is incomplete (no end of line; a worker stopped while writing?)"
                    break
                try:
                    record = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError) as error:
                    problem = f"line {number} is not JSON ({error})"
                    break
                if not isinstance(record, dict) or "op_code" not in record:
                    problem = f"line {number} is not an Optuna journal record (no op_code)"
                    break
        if problem is None:
            return
        if attempt == 0:
            time.sleep(0.5)  # another worker may have been writing the last line
    raise StorageError(
        f"tuning journal {path} is damaged: {problem}; repair or remove that line, or move the file away to start afresh"
    )


def _open_journal(path, *, heartbeat_s):
    import optuna

    if path.is_dir():
        raise StorageError(f"tuning journal {path} is a folder, not a file; give a file in it, e.g. {path / 'tuning.journal'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    check_journal(path)
    journal = optuna.storages.journal
    backend_class = getattr(journal, "JournalFileBackend", None) or optuna.storages.JournalFileStorage
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return _heartbeat_journal_class()(backend_class(str(path)), heartbeat_s=heartbeat_s, grace_s=2 * heartbeat_s)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise StorageError(f"tuning journal {path} cannot be read: {type(error).__name__}: {error}") from error


def _open_rdb(url, *, kind, timeout_s, heartbeat_s):
    import optuna
    from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError, ProgrammingError

    if kind == "sqlite":
        engine_kwargs = {"connect_args": {"timeout": float(timeout_s)}}
        where = f"tuning database {_sqlite_file(url)}"
    else:
        engine_kwargs, where = {"pool_pre_ping": True}, f"tuning storage {redact(url)}"
    for attempt in range(3):  # two workers creating the tables at once: the loser retries (tables exist then)
        retry = kind != "sqlite" and attempt < 2
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeat arguments
                return optuna.storages.RDBStorage(
                    url, engine_kwargs=engine_kwargs, heartbeat_interval=int(heartbeat_s), grace_period=2 * int(heartbeat_s)
                )
        except (IntegrityError, ProgrammingError) as error:
            if not retry:
                raise StorageError(f"{where} cannot be opened: {error.orig or error}") from error
        except (OperationalError, DatabaseError) as error:
            if not (retry and isinstance(error, OperationalError)):
                detail = getattr(error, "orig", None) or error
                raise StorageError(f"{where} cannot be opened (damaged, not a database, or unreachable): {detail}") from error
        except Exception as error:  # optuna's own schema checks (e.g. a foreign or too new schema)
            raise StorageError(f"{where} cannot be opened: {type(error).__name__}: {error}") from error
        time.sleep(0.5 * (attempt + 1))


def open_storage(storage, *, timeout_s=120.0, heartbeat_s=30):
    """An Optuna storage with heartbeats for a checked URL (:func:`storage_url`; the folder of a file is created).

    ``timeout_s``: seconds SQLite waits for its lock. ``heartbeat_s``: seconds between a
    running trial's heartbeats; a ``RUNNING`` trial without one for ``2 * heartbeat_s``
    seconds belongs to a dead worker and is failed, then retried. Raises
    :class:`StorageError` for a damaged journal or database file (named), or a server that
    cannot be reached.
    """
    url = storage_url(storage)
    check_positive("timeout_s", timeout_s)
    heartbeat_s = check_int("heartbeat_s", heartbeat_s, minimum=1)
    kind = storage_kind(url)
    if kind == "journal":
        return _open_journal(journal_path(url), heartbeat_s=heartbeat_s)
    return _open_rdb(url, kind=kind, timeout_s=timeout_s, heartbeat_s=heartbeat_s)


def load_study(storage, study_name, **open_kwargs):
    """The stored study ``study_name`` (e.g. to read a finished search); a clear error when absent."""
    import optuna

    opened = open_storage(storage, **open_kwargs)
    names = optuna.get_all_study_names(storage=opened)
    if study_name not in names:
        raise ValueError(f"storage {redact(storage)!r} holds no study {study_name!r}; it holds {sorted(names)}")
    return optuna.load_study(study_name=study_name, storage=opened)
