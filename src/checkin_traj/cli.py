"""The ``checkin-traj`` command line: build the book, clean a file, fetch the SNAP data.

::

    checkin-traj build --profile workshop --chapters 01 02 --no-book
    checkin-traj clean loc-gowalla_totalCheckins.txt.gz clean.csv --max-speed-kmh 120
    checkin-traj fetch

Each subcommand is a thin layer over a public function (``checkin_traj.build.run``,
``checkin_traj.cleaning.clean``, ``checkin_traj.data.fetch.fetch_snap``), so what the
command does is what the book and the tests do.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]

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

    argv = ["--profile", args.profile]
    if args.chapters:
        argv += ["--chapters", *args.chapters]
    if args.no_book:
        argv.append("--no-book")
    if args.workdir:
        argv += ["--workdir", args.workdir]
    return build.main(argv)


def _clean(args) -> int:
    from .cleaning import Thresholds, clean
    from .data.snap import read_checkins
    from .data.tables import write_table

    overrides = {
        name: getattr(args, name)
        for name in ("max_speed_kmh", "stay_radius_m", "min_stay_minutes")
        if getattr(args, name) is not _DEFAULT
    }
    thresholds = Thresholds(**overrides)
    check_ins = read_checkins(args.input, on_bad_lines=args.on_bad_lines, max_skipped=args.max_skipped)
    cleaned, report = clean(check_ins, thresholds)
    write_table(cleaned, args.output)
    print(report.to_frame().to_string(index=False))
    print(f"wrote {len(cleaned):,} clean check-ins to {args.output}")
    return 0


def _fetch(args) -> int:
    from .data.fetch import SNAP_REGISTRY, fetch_snap

    names = args.names or ["loc-gowalla_totalCheckins.txt.gz"]
    for name in names:
        if name not in SNAP_REGISTRY:
            print(f"unknown file {name!r}; the SNAP files are {', '.join(SNAP_REGISTRY)}", file=sys.stderr)
            return 2
        print(fetch_snap(name, cache_dir=args.cache_dir))
    return 0


def _parser() -> argparse.ArgumentParser:
    from .build import PROFILES
    from .data.snap import DEFAULT_MAX_SKIPPED

    parser = argparse.ArgumentParser(prog="checkin-traj", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="execute chapters with a profile's parameters and build the book")
    build.add_argument("--profile", choices=PROFILES, default="full")
    build.add_argument("--chapters", nargs="+", help="chapter names or number prefixes (default: all)")
    build.add_argument("--no-book", action="store_true", help="execute the chapters only")
    build.add_argument("--workdir", help="the run's folder (default build/<profile>)")
    build.set_defaults(func=_build)

    clean = commands.add_parser("clean", help="read a SNAP check-ins file, clean it, write CSV or Parquet")
    clean.add_argument("input", help="SNAP check-ins file, plain or gzipped")
    clean.add_argument("output", help="output table (.csv or .parquet)")
    for name, unit in (("max_speed_kmh", "km/h"), ("stay_radius_m", "m"), ("min_stay_minutes", "min")):
        clean.add_argument(
            "--" + name.replace("_", "-"), dest=name, type=_off_or_number, default=_DEFAULT,
            help=f"{unit}, or 'off' to skip the step (default: the book's)",
        )
    clean.add_argument("--on-bad-lines", choices=("error", "skip"), default="error")
    clean.add_argument("--max-skipped", type=float, default=DEFAULT_MAX_SKIPPED,
                       help="with --on-bad-lines skip: the largest share of lines that may be skipped")
    clean.set_defaults(func=_clean)

    fetch = commands.add_parser("fetch", help="download the full SNAP files (cached, checksum verified)")
    fetch.add_argument("names", nargs="*", help="files of the SNAP registry (default: the check-ins)")
    fetch.add_argument("--cache-dir", help="cache folder (default ~/.cache/checkin-traj or $CHECKIN_TRAJ_CACHE)")
    fetch.set_defaults(func=_fetch)
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
