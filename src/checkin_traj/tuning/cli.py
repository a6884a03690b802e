"""``checkin-traj tune``: a worker on chapter 07's studies that any number of machines can start.

Every worker reads the run's clean check-ins and windowing protocol (chapters 01 and 02, in ``--workdir``), takes
chapter 07's parameters (its own defaults, ``--profile``, ``-p``), and works on the chapter's studies in
``--storage`` until they are complete: the grid (``<STUDY_NAME>-grid``), then the TPE sampler's trials
(``<STUDY_NAME>-tpe``). Every trial runs the chapter's own objective, imported from the page
(:mod:`checkin_traj.pages.tuning`: ``objective`` and ``SEARCH_SPACE``), on the article's three features. Workers on
one storage never train a configuration twice, and one that dies mid-trial is noticed when its heartbeat stops; its
configuration is trained again by another. Chapter 07, run afterwards with ``-p STORAGE`` set to the same URL, finds
the studies complete and trains no trial.

    checkin-traj tune --workdir build/full --storage postgresql://tuner:secret@db:5432/tuning --workers 2
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

CHAPTER = "07_tuning"


def add_parser(subparsers):
    """Add the ``tune`` subcommand to ``checkin-traj``'s subparsers."""
    from ..build import PROFILES

    tune = subparsers.add_parser(
        "tune",
        help="work on chapter 07's Optuna studies (any number of workers and machines on one storage)",
        description=__doc__.split("\n\n")[1].replace("\n", " ").replace("``", ""),
    )
    tune.add_argument("--workdir", required=True, help="the run's folder, holding chapters 01 and 02's results")
    tune.add_argument("--storage", help="journal:///file (one machine), postgresql://user:password@host:5432/db (several "
                      "machines) or sqlite:///file.db (one worker); default: the chapter's STORAGE, else the journal "
                      "WORKDIR/results/tuning.journal")
    tune.add_argument("--workers", type=int, default=1, help="worker processes on this machine (default 1)")
    tune.add_argument("--profile", choices=PROFILES, default="full", help="chapter 07's parameters (default: its own)")
    tune.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                      help="a parameter of chapter 07, e.g. -p GRID None (repeatable); the chapter must be run with the same")
    tune.set_defaults(func=run)
    return tune


def chapter_parameters(workdir, *, profile="full", overrides=None) -> dict:
    """Chapter 07's parameters for a run: its cell's defaults, then the profile's, then ``overrides``."""
    from .. import build
    from ..chapter import read_parameters

    root = build.repo_root()
    parameters = {name: parameter.default for name, parameter in read_parameters(CHAPTER, root).items()}
    parameters.update(build.chapter_parameters(CHAPTER, profile=profile, workdir=Path(workdir), root=root))
    parameters.update(overrides or {})
    return parameters


def studies(parameters) -> dict:
    """The chapter's studies, named and set as in chapter 07's cells: name -> keyword arguments of
    :func:`checkin_traj.tuning.run_study` (the sampler's space is the page's ``SEARCH_SPACE``)."""
    from ..pages.tuning import SEARCH_SPACE
    from .space import ARTICLE_GRID

    training = dict(epochs=parameters["EPOCHS"], batch_size=parameters["BATCH_SIZE"], patience=parameters["PATIENCE"],
                    seed=parameters["SEEDS"][0])
    grid = ARTICLE_GRID if parameters["GRID"] is None else parameters["GRID"]
    found = {f"{parameters['STUDY_NAME']}-grid": dict(sampler="grid", grid=grid, **training)}
    if parameters["N_TPE_TRIALS"] > 0:
        found[f"{parameters['STUDY_NAME']}-tpe"] = dict(sampler="tpe", space=SEARCH_SPACE, n_trials=parameters["N_TPE_TRIALS"], **training)
    return found


def _windows(workdir):
    """The windows chapter 07's trials read: chapter 02's, with the article's three features (as on its page)."""
    from ..report import load_protocol
    from ..sequences import ARTICLE_FEATURES

    try:
        data, _ = load_protocol(workdir)
    except FileNotFoundError as error:
        raise FileNotFoundError(
            f"{workdir} lacks what chapters 01 and 02 write ({error}); run them first with the same parameters on "
            f"every machine: checkin-traj build --chapters 01 02 --no-book --workdir {workdir}"
        ) from None
    return data.with_features(ARTICLE_FEATURES)


def work(workdir, storage, parameters, *, verbose=1) -> dict:
    """Work on every study of the chapter until it is complete; returns completed trials per study."""
    from ..pages.tuning import objective
    from .analysis import trials_frame
    from .study import run_study

    data = _windows(workdir)
    done = {}
    for name, arguments in studies(parameters).items():
        study = run_study(objective, data, study_name=name, storage=storage, verbose=verbose, **arguments)
        done[name] = len(trials_frame(study))
    return done


def run(args) -> int:
    """``checkin-traj tune``: check everything, then work here (one worker) or start ``--workers`` processes."""
    from ..cli import _parse_overrides
    from .storage import StorageError, check_workers, default_storage, redact, storage_url

    workdir = Path(args.workdir).resolve()
    overrides = _parse_overrides(CHAPTER, args.parameter)
    parameters = chapter_parameters(workdir, profile=args.profile, overrides=overrides)
    storage = storage_url(args.storage or parameters.get("STORAGE") or default_storage(workdir))
    try:
        workers = check_workers(storage, args.workers)
    except ValueError as error:
        print(f"checkin-traj tune: {error}", file=sys.stderr)
        return 2
    if workers == 1:
        print(f"[tune] {redact(storage)}: studies {', '.join(studies(parameters))}", flush=True)
        started = time.perf_counter()
        try:
            done = work(workdir, storage, parameters)
        except (StorageError, ValueError) as error:
            print(f"checkin-traj tune: {error}", file=sys.stderr)
            return 2
        summary = ", ".join(f"{name}: {count} completed trials" for name, count in done.items())
        print(f"[tune] done in {time.perf_counter() - started:.0f} s; {summary}", flush=True)
        return 0
    command = [sys.executable, "-m", "checkin_traj.cli", "tune", "--workdir", str(workdir), "--storage", storage,
               "--profile", args.profile, "--workers", "1"]
    for name, value in args.parameter or ():
        command += ["-p", name, value]
    print(f"[tune] starting {workers} workers on {redact(storage)}", flush=True)
    processes = [subprocess.Popen(command) for _ in range(workers)]
    codes = [process.wait() for process in processes]
    failed = [code for code in codes if code != 0]
    if failed:
        print(f"checkin-traj tune: {len(failed)} of {workers} workers failed (exit codes {codes})", file=sys.stderr)
        return 1
    return 0
