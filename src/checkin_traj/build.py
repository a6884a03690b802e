"""Build the book: jupytext -> papermill -> jupyter-book.

Each chapter (a MyST text notebook in ``notebooks/``) is converted to ``.ipynb`` by
jupytext, executed once by papermill with the parameters of a profile (see
``notebooks/parameters.yml``) into ``build/<profile>/site/notebooks/``, and the executed
notebooks are rendered by ``jupyter-book build`` with execution switched off, so no
chapter runs twice.

Usage::

    python -m checkin_traj.build --profile full           # the book, into book/_build/html
    python -m checkin_traj.build --profile test           # seconds, synthetic data, strict
    python -m checkin_traj.build --profile test --chapters 01_data_cleaning --no-book
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

PROFILES = ("full", "workshop", "test")
BOOK_FILES = ("_config.yml", "_toc.yml")
BOOK_DIRS = ("book", "benchmarks")  # benchmarks/RESULTS.md is included by the speed appendix


def repo_root() -> Path:
    """The project's root: the folder holding ``_toc.yml`` (the current one, or the package's)."""
    for candidate in (Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parents[2]):
        if (candidate / "_toc.yml").exists() and (candidate / "notebooks").is_dir():
            return candidate
    raise FileNotFoundError("could not find the project root (a folder with _toc.yml and notebooks/)")


def _toc_files(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        if "file" in node:
            files.append(node["file"])
        for value in node.values():
            if isinstance(value, (list, dict)):
                files.extend(_toc_files(value))
    elif isinstance(node, list):
        for item in node:
            files.extend(_toc_files(item))
    return files


def toc_chapters(root: Path) -> list[str]:
    """Names of the chapter notebooks listed in ``_toc.yml``, in book order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc.get("root", "")] + _toc_files(toc)
    return [Path(file).name for file in files if str(file).startswith("notebooks/")]


def chapter_parameters(name: str, *, profile: str, workdir: Path, root: Path) -> dict:
    """papermill parameters of one chapter for one profile (``WORKDIR`` always set)."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    table = yaml.safe_load((root / "notebooks" / "parameters.yml").read_text()) or {}
    chapter = table.get(name) or {}
    unknown = set(chapter) - set(PROFILES)
    if unknown:
        raise ValueError(f"notebooks/parameters.yml, chapter {name}: unknown profiles {sorted(unknown)}")
    parameters = dict(chapter.get(profile) or {})
    parameters["WORKDIR"] = str(workdir)
    return parameters


@dataclass
class BuildResult:
    """What a build did: seconds per chapter, the executed notebooks and the HTML folder."""

    profile: str
    workdir: Path
    notebooks: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    html: Path | None = None

    def summary(self) -> str:
        lines = [f"profile {self.profile}: {sum(self.seconds.values()):.0f} s in all"]
        lines += [f"  {name:<24s} {seconds:8.1f} s" for name, seconds in self.seconds.items()]
        if self.html:
            lines.append(f"  book: {self.html / 'index.html'}")
        return "\n".join(lines)


def _kernel_environment() -> None:
    # The kernels inherit this process's environment: keep TensorFlow's C++ logging and
    # oneDNN notices out of the book's cell outputs.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")


def execute_chapter(name: str, *, profile: str, workdir: Path, site: Path, root: Path, overrides=None) -> Path:
    """Convert one chapter with jupytext and execute it with papermill into ``site/notebooks``.

    ``overrides`` (name -> value) replaces the profile's parameters (``checkin-traj run -p``).
    """
    import jupytext
    import nbformat
    import papermill

    source = root / "notebooks" / f"{name}.md"
    if not source.exists():
        raise FileNotFoundError(f"chapter {name} is listed in _toc.yml but {source} does not exist")
    target = site / "notebooks" / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    unexecuted = target.with_suffix(".input.ipynb")
    nbformat.write(jupytext.read(source), unexecuted)
    parameters = chapter_parameters(name, profile=profile, workdir=workdir, root=root)
    parameters.update(overrides or {})
    _kernel_environment()
    try:
        papermill.execute_notebook(
            str(unexecuted),
            str(target),
            parameters=parameters,
            cwd=str(root),
            kernel_name="python3",
            progress_bar=False,
            request_save_on_cell_execute=False,
        )
    except papermill.PapermillExecutionError as error:
        raise RuntimeError(
            f"chapter {name} failed with parameters {parameters}; the executed notebook is {target}\n{error}"
        ) from None
    finally:
        unexecuted.unlink(missing_ok=True)
    return target


def stage_book(root: Path, site: Path) -> None:
    """Copy the book's configuration and prose pages next to the executed notebooks."""
    site.mkdir(parents=True, exist_ok=True)
    for name in BOOK_FILES:
        shutil.copy2(root / name, site / name)
    for name in BOOK_DIRS:
        destination = site / name
        if destination.exists():
            shutil.rmtree(destination)
        if not (root / name).is_dir():
            continue  # a project without benchmarks/ builds its book all the same
        shutil.copytree(root / name, destination, ignore=shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__"))


def build_html(site: Path, output: Path, *, strict: bool) -> Path:
    """Render the staged book with jupyter-book (execution is off in ``_config.yml``)."""
    executable = Path(sys.executable).with_name("jupyter-book")
    command = [str(executable), "build", str(site), "--path-output", str(output), "--builder", "html"]
    if strict:
        command += ["-W", "-n", "--keep-going"]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(
            f"jupyter-book build failed ({' '.join(command)}):\n{completed.stdout[-6000:]}\n{completed.stderr[-6000:]}"
        )
    return output / "_build" / "html"


def run(profile: str = "full", *, chapters=None, book: bool = True, workdir=None, strict=None, root=None) -> BuildResult:
    """Execute the chapters of a profile and (optionally) build the HTML book.

    Parameters
    ----------
    profile : {"full", "workshop", "test"}
        Which parameters the chapters run with (``notebooks/parameters.yml``).
    chapters : list of str, optional
        Chapter names (e.g. ``["01_data_cleaning"]``) or their number prefixes (``["01"]``);
        all chapters of ``_toc.yml`` by default. Later chapters read what earlier ones
        wrote to ``workdir``.
    book : bool
        Build the HTML book after executing.
    workdir : str or Path, optional
        The run's folder; ``build/<profile>`` by default.
    strict : bool, optional
        Treat Sphinx warnings as errors; on by default for the ``test`` profile.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    root = Path(root) if root else repo_root()
    workdir = Path(workdir).resolve() if workdir else root / "build" / profile
    site = workdir / "site"
    all_chapters = toc_chapters(root)
    if chapters:
        selected = []
        for wanted in chapters:
            matches = [name for name in all_chapters if name == wanted or name.split("_")[0] == wanted]
            if not matches:
                raise ValueError(f"unknown chapter {wanted!r}; the chapters are {all_chapters}")
            selected += matches
    else:
        selected = all_chapters
    result = BuildResult(profile=profile, workdir=workdir)
    for name in selected:
        started = time.perf_counter()
        print(f"[{profile}] executing {name} ...", flush=True)
        result.notebooks[name] = execute_chapter(name, profile=profile, workdir=workdir, site=site, root=root)
        result.seconds[name] = time.perf_counter() - started
        print(f"[{profile}] {name} done in {result.seconds[name]:.1f} s", flush=True)
    if book:
        started = time.perf_counter()
        stage_book(root, site)
        output = root / "book" if profile == "full" else workdir
        result.html = build_html(site, output, strict=profile == "test" if strict is None else strict)
        result.seconds["jupyter-book build"] = time.perf_counter() - started
    _record_timings(workdir / "timings.json", result.seconds)
    return result


def _record_timings(path: Path, seconds: dict) -> None:
    """Update the latest seconds of each step in ``path`` (steps not run now keep theirs)."""
    recorded = json.loads(path.read_text()) if path.exists() else {}
    recorded.update(seconds)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(recorded, indent=1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m checkin_traj.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=PROFILES, default="full")
    parser.add_argument("--chapters", nargs="+", help="chapter names or number prefixes (default: all)")
    parser.add_argument("--no-book", action="store_true", help="execute the chapters only")
    parser.add_argument("--workdir", help="the run's folder (default build/<profile>)")
    strictness = parser.add_mutually_exclusive_group()
    strictness.add_argument("--strict", dest="strict", action="store_true", default=None, help="warnings are errors")
    strictness.add_argument("--no-strict", dest="strict", action="store_false")
    args = parser.parse_args(argv)
    result = run(args.profile, chapters=args.chapters, book=not args.no_book, workdir=args.workdir, strict=args.strict)
    print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
