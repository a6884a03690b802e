"""One fresh copy of the repository and one `make book` in it, shared by the session.

``tests/test_docs.py`` runs the docs' shell recipes in :func:`newcomer_copy`, and
``tests/test_book.py`` opens the book that the README's ``make book`` built there
(:func:`made_book`, with ``CHECKIN_TRAJ_PROFILE=test``): the test profile is built once for
both. Both modules are in the xdist group ``book`` so that one worker holds the build.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from checkin_traj import build

REPO_ROOT = Path(__file__).resolve().parents[1]  # as in conftest.py, which imports this module

#: make's install stamps, marked done in the copy (the Makefile's $(STAMP) and $(BOOK_STAMP)):
#: `pip install -e ".[test]"` and `pip install -c constraints.txt ...` never run into the
#: project's environment from a test.
INSTALL_STAMPS = (".installed", ".constrained")

#: The README's command that builds the book; run once per session by :func:`made_book`.
MAKE_BOOK = "make book"


def sample_dir() -> Path | None:
    """The folder holding ``gowalla-nyc/`` (the real New York sample), or None."""
    from .conftest import _shared_data_dir

    folder = _shared_data_dir()
    return folder if (folder / "gowalla-nyc").is_dir() else None


def environment(copy: Path) -> dict:
    """What a newcomer's shell has in the copy: the project's venv on PATH, the test profile forced."""
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    env.update(
        PATH=f"{copy / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(copy / "src"),  # the copy's package, not the one the venv was installed from
        CHECKIN_TRAJ_PROFILE="test",  # make book / make workshop run the test profile
        CHECKIN_TRAJ_CACHE=str(copy / ".cache"),  # nothing from the user's cache
    )
    sample = sample_dir()
    if sample is not None:
        env["GOWALLA_DATA_DIR"] = str(sample)
    return env


@pytest.fixture(scope="session")
def newcomer_copy(tmp_path_factory) -> Path:
    """A copy of the repository's tracked and unignored files, with a .venv that is the project's."""
    copy = tmp_path_factory.mktemp("newcomer") / "checkin-traj"
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO_ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if name == ".venv" or not source.is_file():
            continue
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    (copy / ".venv").mkdir()
    for entry in Path(sys.prefix).iterdir():
        if entry.name not in INSTALL_STAMPS:
            (copy / ".venv" / entry.name).symlink_to(entry)
    for stamp in INSTALL_STAMPS:
        (copy / ".venv" / stamp).touch()
    sample = sample_dir()
    if sample is not None:  # ../shared/data beside the repository, as the docs say
        (copy.parent / "shared").mkdir(exist_ok=True)
        (copy.parent / "shared" / "data").symlink_to(sample)
    return copy


def run_script(copy: Path, commands: list[str], *, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run commands in one bash (``set -euo pipefail``); each is echoed as ``>>> command`` first."""
    import shlex

    script = ["set -euo pipefail"]
    for command in commands:
        script += [f"echo {shlex.quote('>>> ' + command)}", command]
    process = subprocess.Popen(["bash", "-c", "\n".join(script)], cwd=copy, env=environment(copy), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the commands' kernels too, not only bash
        stdout, stderr = process.communicate()
        stderr += f"\n[killed after {timeout:.0f} s]"
        return subprocess.CompletedProcess(process.args, -signal.SIGKILL, stdout, stderr)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.fixture(scope="session")
def made_book(newcomer_copy) -> build.BuildResult:
    """The README's ``make book`` in the fresh copy (test profile): the executed chapters and the HTML."""
    completed = run_script(newcomer_copy, [MAKE_BOOK], timeout=2400)
    assert completed.returncode == 0, f"`{MAKE_BOOK}` failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    workdir = newcomer_copy / "build" / "test"
    result = build.BuildResult(profile="test", workdir=workdir, html=workdir / "_build" / "html")
    for name in build.toc_chapters(newcomer_copy):
        result.notebooks[name] = workdir / "site" / "notebooks" / f"{name}.ipynb"
    assert (result.html / "index.html").exists(), completed.stdout[-3000:]
    return result
