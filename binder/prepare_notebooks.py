"""Make the .ipynb that Binder's launch buttons open, from the MyST chapters.

For each chapter of ``_toc.yml``: jupytext writes ``notebooks/<chapter>.ipynb`` from
``notebooks/<chapter>.md``, and papermill (``prepare_only``: nothing runs) injects the
parameters of one profile after the chapter's ``parameters`` cell, as a build would. The
chapters then run in order on the launched machine: chapter 01 writes
``<WORKDIR>/data``, the later chapters read it.

The profile is ``workshop`` unless ``CHECKIN_TRAJ_PROFILE`` names another; chapter 01
reads ``DATA=synthetic`` (offline, and every chapter says so in its banner) unless
``CHECKIN_TRAJ_BINDER_DATA`` names another source (``auto``: the New York sample or the full
SNAP file, downloaded once).

Usage (binder/postBuild runs it)::

    python binder/prepare_notebooks.py [--workdir build/binder] [--root .]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def prepare(root: Path, *, workdir: Path, profile: str, data: str) -> list[Path]:
    """Write ``notebooks/<chapter>.ipynb`` for every chapter; returns their paths."""
    import jupytext
    import papermill

    from checkin_traj import build

    if profile not in build.PROFILES:
        raise ValueError(f"CHECKIN_TRAJ_PROFILE must be one of {build.PROFILES}, got {profile!r}")
    written = []
    for name in build.toc_chapters(root):
        source = root / "notebooks" / f"{name}.md"
        target = source.with_suffix(".ipynb")
        jupytext.write(jupytext.read(source), target, fmt="ipynb")
        parameters = build.chapter_parameters(name, profile=profile, workdir=workdir, root=root)
        # Jupyter starts a notebook's kernel in notebooks/, not in the root the build runs
        # from, so the build's root-relative WORKDIR would point elsewhere: give Binder's own path.
        parameters["WORKDIR"] = str(Path(workdir).resolve())
        if name.startswith("01_"):
            parameters["DATA"] = data
        papermill.execute_notebook(
            str(target), str(target), parameters=parameters, prepare_only=True, kernel_name="python3", progress_bar=False
        )
        written.append(target)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--workdir", type=Path, help="the chapters' shared folder (default: ROOT/build/binder)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    workdir = (args.workdir or root / "build" / "binder").resolve()
    profile = os.environ.get("CHECKIN_TRAJ_PROFILE") or "workshop"
    data = os.environ.get("CHECKIN_TRAJ_BINDER_DATA") or "synthetic"
    for path in prepare(root, workdir=workdir, profile=profile, data=data):
        print(f"wrote {path.relative_to(root)} ({profile} parameters, WORKDIR {workdir})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
