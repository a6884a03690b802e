"""The ``checkin-traj`` command line: ``build``, ``run``, ``page``, ``clean``, ``fetch``, ``predict``
and ``tune`` (from :mod:`checkin_traj.tuning.cli`, when installed); ``checkin-traj COMMAND --help``.

``build`` without ``--profile`` runs the full profile (``build.PROFILE_TIMES``). ``run`` checks every
``-p`` (name, type, value) before anything runs, runs or names the chapters it needs first,
executes the chapter into ``DIR/site/notebooks/`` and renders it as one HTML page.

A bad input, a failed chapter or a file that cannot be written is one line on stderr
naming what was wrong, and status 2; ``--verbose`` adds a failed chapter's whole error.
No command removes or overwrites a file it was not asked to write: inputs are checked
first, and what is written goes to a new temporary place and is moved in last.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["main", "make_parser", "render_page"]


_DEFAULT = object()  # a threshold not given: the book's default applies


def _off_or_number(text: str):
    """A threshold on the command line: a number, or ``off`` (None: the step is skipped)."""
    if text.lower() in ("off", "none"):
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'off', got {text!r}") from None


def _build(args) -> int:
    from . import build

    result = build.run(args.profile, chapters=args.chapters, book=not args.no_book, workdir=args.workdir,
                       strict=args.strict, force=args.force, progress=args.progress, city=args.city)
    print(result.summary())
    return 0


def render_page(notebook, output, *, root=None) -> Path:
    """Render one executed chapter (an ``.ipynb``) as an HTML page, its glued numbers filled in.

    Returns the page, ``output/_build/html/notebooks/<chapter>.html``. The notebook is checked
    first (``FileNotFoundError``, ``ValueError``); the page is built in a new folder inside
    ``output`` and moved in once built, so a failure leaves ``output`` as it was. An
    ``output`` that is a file, or holds a ``source``/``_build`` not made by a page, is refused
    (``FileExistsError``).
    """
    from . import build

    root = Path(root) if root else build.repo_root()
    notebook, output = Path(notebook), Path(output)
    _check_notebook(notebook)
    replaced = [output / "source", output / "_build"]
    if output.exists() and not output.is_dir():
        raise FileExistsError(f"the output {output} is a file, not a folder")
    if any(path.exists() for path in replaced) and not _made_by_page(output):
        raise FileExistsError(
            f"{output} holds a source/ or _build/ folder that checkin-traj page did not make; name another OUTPUT"
        )
    made = not output.exists()
    output.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".page-", dir=output))
    try:
        site = scratch / "source"
        (site / "notebooks").mkdir(parents=True)
        shutil.copy2(root / "_config.yml", site / "_config.yml")
        shutil.copytree(root / "book", site / "book", ignore=shutil.ignore_patterns("_build"))
        build.copy_includes(root, site)
        shutil.copy2(notebook, site / "notebooks" / notebook.name)
        (site / "_toc.yml").write_text(_page_toc(notebook.stem))
        build.build_html(site, scratch, strict=False)
        for path in replaced:  # the new page in, then the old one out
            if path.exists():
                path.rename(scratch / f"old{path.name}")
            (scratch / path.name).rename(path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if made and not any(output.iterdir()):
            output.rmdir()  # a failed first page leaves no empty folder behind
    return output / "_build" / "html" / "notebooks" / f"{notebook.stem}.html"


def _page_toc(stem: str) -> str:
    return f"format: jb-book\nroot: notebooks/{stem}\n"


def _made_by_page(output: Path) -> bool:
    """Whether ``output/source`` is a page's: its table of contents is the one :func:`render_page` writes."""
    try:
        text = (output / "source" / "_toc.yml").read_text()
    except (OSError, UnicodeDecodeError):
        return False
    return text == _page_toc(text.rpartition("notebooks/")[2].strip())


def _check_notebook(path: Path) -> None:
    """Stop unless ``path`` is a readable Jupyter notebook."""
    import nbformat

    if not path.is_file():
        what = "a folder" if path.is_dir() else "nothing"
        raise FileNotFoundError(f"expected an executed chapter (.ipynb), found {what} at {path}")
    try:
        nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - not JSON, not a notebook, not text: the same answer
        raise ValueError(
            f"{path} is not a Jupyter notebook ({type(error).__name__}); give an executed chapter, "
            f"e.g. WORKDIR/site/notebooks/01_data_cleaning.ipynb"
        ) from None


def _parse_overrides(chapter: str, pairs) -> dict:
    """The ``-p NAME VALUE`` pairs as values, each checked: name, type and value."""
    from .chapter import UnknownParameterError, check_parameters, parse_value, read_parameters
    from .checks import check_chapter_parameter

    declared = read_parameters(chapter)
    given = dict(pairs or ())
    check_parameters(given, declared, chapter=chapter)
    if "WORKDIR" in given:
        raise UnknownParameterError("give the run's folder with --workdir, not -p WORKDIR")
    return {name: check_chapter_parameter(name, parse_value(declared[name], text)) for name, text in given.items()}


def _run(args) -> int:
    from . import build
    from .chapter import chapter_path, prerequisites

    root = build.repo_root()
    name = chapter_path(args.chapter, root).stem
    overrides = _parse_overrides(name, args.parameter)
    workdir = build.check_workdir(Path(args.workdir).resolve())
    workdir.mkdir(parents=True, exist_ok=True)
    before = prerequisites(name, workdir, root, parameters=overrides)
    if before and not args.with_prerequisites:
        numbers = " ".join(chapter.split("_")[0] for chapter in before)
        print(
            f"chapter {name} needs results that {workdir} does not hold yet: run {', '.join(before)} first, e.g.\n"
            f"  checkin-traj build --profile {args.profile} --chapters {numbers} --no-book --workdir {args.workdir}\n"
            f"or add --with-prerequisites",
            file=sys.stderr,
        )
        return 2
    if before:
        print(f"[run] first the chapters {name} needs, with the {args.profile} profile: {', '.join(before)}", flush=True)
        build.run(args.profile, chapters=before, book=False, workdir=workdir, root=root)
    shown = " ".join(f"{key}={value!r}" for key, value in overrides.items()) or "no changes"
    print(f"[run] executing {name} in {workdir} ({args.profile} profile, {shown}) ...", flush=True)
    started = time.perf_counter()
    notebook, _ = build.execute_chapter(
        name, profile=args.profile, workdir=workdir, site=workdir / "site", root=root, overrides=overrides
    )
    print(f"[run] {name} done in {time.perf_counter() - started:.1f} s: {notebook}", flush=True)
    if args.no_page:
        print(f"[run] render it as a page with: checkin-traj page {notebook} {workdir / 'page' / name}")
        return 0
    started = time.perf_counter()
    page = render_page(notebook, workdir / "page" / name, root=root)
    print(f"[run] page rendered in {time.perf_counter() - started:.1f} s: {page}", flush=True)
    return 0


def _page(args) -> int:
    print(render_page(args.notebook, args.output))
    return 0


def _clean(args) -> int:
    from .cleaning import Thresholds, clean
    from .data.snap import read_checkins
    from .data.tables import _table_format, write_table

    _table_format(args.output)  # a wrong suffix is named before the file is read and cleaned
    _check_output(args.input, args.output)
    overrides = {
        name: getattr(args, name)
        for name in ("max_speed_kmh", "stay_radius_m", "min_stay_minutes")
        if getattr(args, name) is not _DEFAULT
    }
    thresholds = Thresholds(**overrides)
    check_ins = read_checkins(args.input, on_bad_lines=args.on_bad_lines, max_skipped=args.max_skipped)
    cleaned, report = clean(check_ins, thresholds)
    try:
        write_table(cleaned, args.output)
    except OSError as error:
        raise OSError(f"cannot write {args.output}: {error.strerror or error}") from None
    print(report.to_frame().to_string(index=False))
    print(f"wrote {len(cleaned):,} clean check-ins to {args.output}")
    return 0


def _check_output(given_input, given_output) -> None:
    """Stop before any reading when the output is the input, a folder, or in a folder that cannot be written."""
    output = Path(given_output)
    if output.is_dir():
        raise IsADirectoryError(f"the output {given_output} is a folder; name a file in it, e.g. {output / 'clean.parquet'}")
    if output.exists() and Path(given_input).exists() and os.path.samefile(given_input, output):
        raise FileExistsError(f"the output {given_output} is the input: name another file (it would replace the raw check-ins)")
    folder = output.absolute().parent
    while not folder.exists():  # the folders still to make: the nearest existing one must take them
        folder = folder.parent
    try:
        if not folder.is_dir():
            raise NotADirectoryError(f"{folder} is a file")
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise PermissionError(f"cannot write {given_output}: {error.strerror or error}") from None


def _fetch(args) -> int:
    from .data.fetch import SNAP_REGISTRY, fetch_snap

    if args.quiet:  # no "Downloading data from ..." either
        import pooch

        pooch.get_logger().setLevel("WARNING")
    for name in args.names or list(SNAP_REGISTRY):
        if name not in SNAP_REGISTRY:
            print(f"unknown file {name!r}; the files are {sorted(SNAP_REGISTRY)}", file=sys.stderr)
            return 2
        print(fetch_snap(name, cache_dir=args.cache_dir, progress=not args.quiet))
    return 0


def _predict(args) -> int:
    from .venues.predictor import predict

    table = predict(args.history, workdir=args.workdir, k=args.k)
    for note in table.attrs["notes"]:
        print(f"checkin-traj predict: {note}", file=sys.stderr)
    written = {"json": lambda: table.to_json(orient="records", indent=1, double_precision=15, date_format="iso") + "\n",
               "csv": lambda: table.to_csv(index=False), "table": lambda: table.to_string(index=False) + "\n"}
    sys.stdout.write(written[args.format]())
    return 0


def _add_tune(subparsers) -> None:
    try:
        from .tuning.cli import add_parser
    except ImportError as error:
        reason = str(error)
        tune = subparsers.add_parser("tune", help="the Optuna studies of chapter 07 (needs checkin-traj[tuning])")

        def unavailable(args) -> int:
            print(
                f"checkin-traj tune is not available here ({reason}); install it with "
                f"pip install 'checkin-traj[tuning]', or run chapter 07: checkin-traj run 07 --workdir DIR",
                file=sys.stderr,
            )
            return 2

        tune.set_defaults(func=unavailable)
        return
    add_parser(subparsers)


def make_parser() -> argparse.ArgumentParser:
    """The argument parser of ``checkin-traj`` (every subcommand)."""
    from .build import FULL_PROFILE_NOTE, PROFILE_TIMES, PROFILES, add_arguments
    from .data.snap import DEFAULT_MAX_SKIPPED

    parser = argparse.ArgumentParser(prog="checkin-traj", description="Predicting Gowalla check-ins in New York City.")
    parser.add_argument("--verbose", action="store_true", help="show a failed chapter's whole error")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = subparsers.add_parser(
        "build",
        help=f"execute the chapters of a profile and build the HTML book (the full profile: {PROFILE_TIMES['full']})",
        description="Execute the chapters of a profile (those whose inputs changed) and build the HTML book. "
        f"Without --profile, {FULL_PROFILE_NOTE}.",
    )
    add_arguments(build)
    build.set_defaults(func=_build)

    run = subparsers.add_parser(
        "run",
        help="re-run one chapter with new parameters and render it as a page",
        description="Re-run one chapter in its own folder. Every -p is checked against the chapter's parameters cell "
        "(name, type and value) before anything runs.",
    )
    run.add_argument("chapter", help="chapter name or number, e.g. 01 or 01_data_cleaning")
    run.add_argument("--workdir", required=True, help="the run's folder (created); later chapters read what earlier ones wrote there")
    run.add_argument(
        "-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"), help="a parameter of the chapter (repeatable)"
    )
    run.add_argument("--profile", choices=PROFILES, default="full", help="parameters not given with -p (default: the chapter's own)")
    run.add_argument("--with-prerequisites", action="store_true", help="run the earlier chapters whose results are missing")
    run.add_argument("--no-page", action="store_true", help="do not render the executed chapter as HTML")
    run.set_defaults(func=_run)

    page = subparsers.add_parser(
        "page",
        help="render one executed chapter (.ipynb) as an HTML page",
        description="Render one executed chapter (an .ipynb written by build or run, e.g. "
        "WORKDIR/site/notebooks/01_data_cleaning.ipynb) as a one-page book whose prose shows that run's numbers: "
        "OUTPUT/_build/html/notebooks/<chapter>.html. OUTPUT/source holds what was rendered. A failed render "
        "leaves OUTPUT as it was.",
    )
    page.add_argument("notebook", help="the executed chapter, an .ipynb")
    page.add_argument("output", help="folder for the page (created; an earlier page there is replaced)")
    page.set_defaults(func=_page)

    clean = subparsers.add_parser("clean", help="read a SNAP-format check-in file, clean it, write the clean table")
    clean.add_argument("input", help="SNAP-format check-ins, plain or gzipped")
    clean.add_argument("output", help="the clean table: .parquet or .csv (not the input)")
    for name, unit in (("max_speed_kmh", "km/h"), ("stay_radius_m", "m"), ("min_stay_minutes", "min")):
        clean.add_argument(
            "--" + name.replace("_", "-"), dest=name, type=_off_or_number, default=_DEFAULT,
            help=f"{unit}, or 'off' to skip the step (default: the book's)",
        )
    clean.add_argument("--on-bad-lines", choices=("error", "skip"), default="error", help="stop at a bad line or skip and count it")
    clean.add_argument("--max-skipped", type=float, default=DEFAULT_MAX_SKIPPED,
                       help="with --on-bad-lines skip: the largest share of lines that may be skipped")
    clean.set_defaults(func=_clean)

    fetch = subparsers.add_parser("fetch", help="download the full SNAP files once into the cache, verified")
    fetch.add_argument("names", nargs="*", help="files of the registry (default: all)")
    fetch.add_argument("--cache-dir", help="default: $CHECKIN_TRAJ_CACHE or ~/.cache/checkin-traj")
    fetch.add_argument("--quiet", action="store_true", help="no progress bar, no download notice")
    fetch.set_defaults(func=_fetch)

    predict = subparsers.add_parser(
        "predict", help="each user's next venues (chapter 08's saved ranker) and time (chapter 06's model)",
        description="The top-k next venues of each user of a SNAP-format check-in file (- for standard input), by the "
        "ranker chapter 08 saved in DIR/models/venue_ranker: probability, venue, km from the last check-in, place pick; "
        "and when the next check-in comes (the gap in minutes, the expected UTC time and its 80%% interval) by the "
        "model chapter 06 saved in DIR/models/next_time.",
    )
    predict.add_argument("history", help="SNAP-format check-ins (user, time, lat, lon, location_id), or - for standard input")
    predict.add_argument("--workdir", required=True, help="the run folder chapter 08 saved its ranker in")
    predict.add_argument("-k", type=int, default=5, help="venues per user (default 5)")
    predict.add_argument("--format", choices=("table", "csv", "json"), default="table", help="how the venues are written")
    predict.set_defaults(func=_predict)

    _add_tune(subparsers)
    for command in subparsers.choices.values():  # also after the command: checkin-traj build --verbose
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help="show a failed chapter's whole error")
    return parser


def one_line(error: BaseException) -> str:
    """An error as one line: an OS error's own words and file, anything else its message."""
    text = str(error)
    if isinstance(error, OSError) and error.strerror:
        filename = os.fsdecode(error.filename) if error.filename is not None else ""
        text = error.strerror if filename in error.strerror else f"{filename}: {error.strerror}"
    return " ".join(text.split()) or type(error).__name__


def main(argv=None) -> int:
    """Run ``checkin-traj``; returns the exit status: 2 after one line naming the subcommand and what
    was wrong (a ``ValueError``, an ``OSError`` or a :class:`~checkin_traj.build.BuildError`)."""
    parser = make_parser()
    args = parser.parse_args(argv)
    from .build import BuildError

    try:
        return args.func(args)
    except (BuildError, ValueError, OSError) as error:
        if args.verbose and getattr(error, "detail", ""):
            print(error.detail, file=sys.stderr)
        print(f"checkin-traj {args.command}: {one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"checkin-traj {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
