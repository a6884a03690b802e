"""What a newcomer meets: every shell recipe of the docs runs as written; chapters round-trip.

Every fenced ```bash / ```sh / ```shell / ```console block of README.md, CONTRIBUTING.md and
book/workshop.md is run, command by command and exactly as written, in a fresh copy of the
repository (its tracked and unignored files) with the project's virtual environment on
PATH. The long recipes run with the test profile: ``CHECKIN_TRAJ_PROFILE=test`` is set, and
the Makefile's ``book`` and ``workshop`` targets honour it (the documented mechanism; see
the Makefile's head). A command that needs the internet, installs something or is this test
suite itself is replaced by an offline equivalent from :data:`MAPPED`, each with its reason;
a command in no block and in :data:`MAPPED` fails :func:`test_every_mapped_command_is_in_the_docs`,
so the table never holds a stale entry and nothing is skipped silently. make's install
steps are marked done in the copy (:data:`book_session.INSTALL_STAMPS`): no test installs
into the project's environment. The README's ``make book`` runs once per session
(``book_session.made_book``) and ``tests/test_book.py`` opens the book it built.

The chapters' text files must be exactly what jupytext writes (so that saving from Jupyter
gives no diff): ``make format-notebooks`` re-writes them.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .book_session import MAKE_BOOK, run_script, sample_dir
from .conftest import REPO_ROOT

DOCS = ("README.md", "CONTRIBUTING.md", "book/workshop.md")
SHELLS = ("bash", "sh", "shell", "console")

#: Command as written in the docs -> (what runs instead, why). ``None``: nothing runs.
MAPPED = {
    "git clone <this repository> checkin-traj && cd checkin-traj": (
        None,
        "the test already runs in a fresh copy of the repository; cloning needs the network and the real URL",
    ),
    "make test": (
        "make -n test",
        "this is the suite now running; a dry run checks that the target and its install step exist",
    ),
    "make test-fast": (
        "make -n test-fast",
        "the unit tests run in this same suite; a dry run checks that the target exists",
    ),
    "python -m venv .venv && . .venv/bin/activate": (
        ". .venv/bin/activate",
        "creating a virtual environment installs pip; the copy's .venv is the project's own",
    ),
    'pip install -c constraints.txt -e ".[book]"': (
        None,
        "installs from the registry; tests/test_package.py checks constraints.txt against pyproject.toml",
    ),
    # README "A study spread over several machines" (PostgreSQL shared by several machines):
    "createdb tuning": (
        None,
        "needs a PostgreSQL server and the right to create a database; tests/test_tuning.py runs a PostgreSQL study",
    ),
    "URL=postgresql://tuner:secret@db.example.org:5432/tuning": (
        "URL=journal:///build/full/results/tuning-doc.journal",
        "db.example.org is an example server; a journal file (several workers, one machine) stands in",
    ),
    "checkin-traj build --city austin --workdir build/austin": (
        "checkin-traj build --profile test --city austin --chapters 01 02 --no-book --workdir build/austin",
        "another city reads the full SNAP file (a download) and the full profile takes an hour; the test profile's "
        "synthetic users in Austin's box stand in",
    ),
    "checkin-traj build --chapters 01 02 --no-book --workdir build/full": (
        "checkin-traj build --profile test --chapters 01 02 --no-book --workdir build/full",
        "the full profile takes minutes on real data; the test profile's parameters stand in",
    ),
    'checkin-traj tune --workdir build/full --storage "$URL" --workers 2': (
        'checkin-traj tune --profile test --workdir build/full --storage "$URL" --workers 2',
        "chapter 07's full grid takes about half an hour; the test profile's grid stands in",
    ),
    'checkin-traj run 07 --workdir build/full -p STORAGE "$URL"': (
        'checkin-traj run 07 --profile test --workdir build/full -p STORAGE "$URL"',
        "as the tune line: the test profile, so the chapter finds the trials the workers stored",
    ),
    # README "Predict the next check-in": the predictor chapter 08 saved in the test build (make book, test profile)
    "gzip -cdf ../shared/data/gowalla-nyc/loc-gowalla_totalCheckins.nyc.txt.gz | head -n 40 > build/history.txt": (
        "checkin-traj build --profile test --chapters 01 02 08 --no-book && python -c \"import gzip, json; "
        "path = json.load(open('build/test/data/provenance.json'))['source']['path']; "
        "lines = (gzip.open if path.endswith('.gz') else open)(path, 'rt').readlines(); "
        "open('build/history.txt', 'w').writelines(lines[:40])\"",
        "the New York sample may be absent: the first lines of the file the test build's chapter 01 read stand in "
        "(chapters 01, 02 and 08 re-used from make book), cut by Python (head closing the pipe fails under pipefail)",
    ),
    "checkin-traj predict build/history.txt --workdir build/full -k 5": (
        "checkin-traj predict build/history.txt --workdir build/test -k 5",
        "make book runs the test profile here, so its predictor is in build/test",
    ),
    "checkin-traj fetch": (
        "checkin-traj fetch --help",
        "downloads 105 MB from SNAP (tests/test_fetch.py checks the download offline)",
    ),
}

#: Blocks that read the real New York sample (chapter 01's DATA=auto, or its path): without
#: it they would download the full SNAP file, so they skip, with this reason, instead.
NEEDS_SAMPLE = {
    "README.md#2": "chapter 01 with DATA=auto reads the New York sample (else downloads SNAP)",
    "README.md#3": "`checkin-traj clean` names the sample's path",
    "book/workshop.md#2": "chapter 01 with DATA=auto reads the New York sample (else downloads SNAP)",
}

#: Files a block must leave behind (relative to the copy), checked after it ran.
OUTPUTS = {
    "README.md#2": ["build/strict/01.ipynb", "build/strict/02.ipynb", "build/strict/data/clean.parquet"],
    "book/workshop.md#2": ["build/strict/01.ipynb"],
    "README.md#1": ["build/test/_build/html/index.html", "build/test/_build/html/notebooks/07_tuning.html"],
    "README.md#3": ["build/test/data/clean.parquet", "build/clean-nyc.csv"],
    "README.md#4": ["build/austin/data/clean.parquet", "build/austin/results/protocol.json"],
    "README.md#5": ["build/history.txt", "build/test/models/venue_ranker/predictor.json"],
    "README.md#6": ["build/full/results/tuning-doc.journal", "build/full/page/07_tuning/_build/html/notebooks/07_tuning.html"],
}


@dataclass(frozen=True)
class Block:
    doc: str
    number: int  # 1-based among the doc's shell blocks
    line: int  # line of the opening fence
    commands: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.doc}#{self.number}"


def _commands(lines: list[str], language: str) -> list[str]:
    """The block's commands: continuation lines joined, comments and console output dropped."""
    commands, current = [], ""
    for raw in lines:
        line = raw.rstrip()
        if language == "console":
            if not current and not line.startswith("$ "):
                continue  # output shown in the docs
            if not current:
                line = line[2:]
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if current:
            line = line.lstrip()
        if line.endswith("\\"):
            current += line[:-1].rstrip() + " "
            continue
        current += line
        commands.append(re.sub(r"\s+#\s.*$", "", current).strip())
        current = ""
    assert not current, f"a command ends in a continuation backslash: {current!r}"
    return commands


def shell_blocks(root: Path = REPO_ROOT) -> list[Block]:
    """Every fenced shell block of :data:`DOCS`, in document order."""
    blocks = []
    for doc in DOCS:
        lines = (root / doc).read_text().splitlines()
        number, index = 0, 0
        while index < len(lines):
            match = re.match(r"^(\s*)(```+|~~~+)\s*([\w-]*)", lines[index])
            if not match:
                index += 1
                continue
            fence, language, start = match.group(2), match.group(3).lower(), index
            end = next(
                (i for i in range(index + 1, len(lines)) if lines[i].strip().startswith(fence) and not lines[i].strip()[len(fence):].strip()),
                None,
            )
            assert end is not None, f"{doc}, line {start + 1}: a fence that is never closed"
            if language in SHELLS:
                number += 1
                blocks.append(Block(doc, number, start + 1, tuple(_commands(lines[start + 1 : end], language))))
            index = end + 1
    return blocks


def runnable(block: Block) -> list[tuple[str, str | None]]:
    """(command as written, command that runs) for each command of the block."""
    return [(command, MAPPED[command][0] if command in MAPPED else command) for command in block.commands]


BLOCKS = shell_blocks()


# ------------------------------------------------------------------------ fast checks


def test_the_docs_hold_shell_blocks_and_the_parser_reads_them():
    ids = [block.id for block in BLOCKS]
    assert {"README.md#1", "README.md#2", "CONTRIBUTING.md#1", "book/workshop.md#1", "book/workshop.md#2"} <= set(ids)
    readme = {block.number: block for block in BLOCKS if block.doc == "README.md"}
    assert readme[1].commands[:2] == ("make book", "make test")  # the comments after them dropped
    strict = readme[2].commands
    assert strict[0] == ". .venv/bin/activate"
    papermill = next(command for command in strict if command.startswith("papermill notebooks/01"))
    assert "\\" not in papermill and "-p MAX_SPEED_KMH 120" in papermill  # continuation joined


def test_the_parser_joins_continuations_drops_comments_and_console_output():
    text = ["# a comment", "make book   # with a comment", "papermill a.ipynb \\", "    -p X 1", ""]
    assert _commands(text, "bash") == ["make book", "papermill a.ipynb -p X 1"]
    assert _commands(["$ echo hi", "hi", "$ ls"], "console") == ["echo hi", "ls"]


def test_every_mapped_command_is_in_the_docs():
    written = {command for block in BLOCKS for command in block.commands}
    stale = sorted(set(MAPPED) - written)
    assert stale == [], "MAPPED lists commands that no doc holds any more"
    for command, (replacement, reason) in MAPPED.items():
        assert reason and len(reason) > 20, command


def test_the_profile_override_reaches_the_long_make_targets():
    environment = {**os.environ, "CHECKIN_TRAJ_PROFILE": "test"}
    forced = subprocess.run(["make", "-n", "-o", ".venv/.installed", "book", "workshop"], cwd=REPO_ROOT,
                            capture_output=True, text=True, env=environment, check=True).stdout
    assert forced.count("build_times.py --profile test") == 2, forced
    environment.pop("CHECKIN_TRAJ_PROFILE")
    plain = subprocess.run(["make", "-n", "-o", ".venv/.installed", "book", "workshop"], cwd=REPO_ROOT,
                           capture_output=True, text=True, env=environment, check=True).stdout
    assert "--profile full" in plain and "--profile workshop" in plain, plain
    bad = subprocess.run(["make", "-n", "-o", ".venv/.installed", "book"], cwd=REPO_ROOT, capture_output=True,
                         text=True, env={**environment, "CHECKIN_TRAJ_PROFILE": "tset"})
    assert bad.returncode != 0 and "CHECKIN_TRAJ_PROFILE" in bad.stderr, bad.stderr


# ------------------------------------------------------------------ jupytext round trip

#: Chapters not yet in jupytext's form on main: `make format-notebooks` (run by the
#: coordinator once every branch is merged) re-writes them; then empty this set.
UNFORMATTED: set = set()  # chapters not yet re-written by make format-notebooks (none)


def _chapter_params():
    for path in sorted((REPO_ROOT / "notebooks").glob("[0-9]*.md")):
        marks = []
        if path.stem in UNFORMATTED:
            marks = [pytest.mark.xfail(strict=True, reason="not yet re-written by make format-notebooks")]
        yield pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.parametrize("path", list(_chapter_params()))
def test_each_chapter_is_exactly_what_jupytext_writes(path):
    import difflib

    import jupytext
    from jupytext.config import load_jupytext_config

    config = load_jupytext_config(str(path.parent))
    text = path.read_text()
    notebook = jupytext.reads(text, fmt="md:myst")
    written = jupytext.writes(notebook, fmt="md:myst", config=config)
    diff = "\n".join(difflib.unified_diff(text.splitlines(), written.splitlines(), "committed", "jupytext", lineterm="", n=1))
    assert written == text, f"{path.name} changes when jupytext saves it; run make format-notebooks:\n{diff[:3000]}"


def test_format_notebooks_is_idempotent_and_keeps_the_cells(tmp_path):
    import jupytext

    sys.path.insert(0, str(REPO_ROOT / "tools"))
    try:
        import format_notebooks
    finally:
        sys.path.pop(0)
    source = REPO_ROOT / "notebooks" / "01_data_cleaning.md"
    copy = tmp_path / "notebooks" / source.name
    copy.parent.mkdir()
    shutil.copy2(REPO_ROOT / "jupytext.toml", tmp_path / "jupytext.toml")
    copy.write_text(source.read_text())
    once = format_notebooks.formatted(copy)
    copy.write_text(once)
    assert format_notebooks.formatted(copy) == once
    before, after = jupytext.read(source), jupytext.reads(once, fmt="md:myst")
    assert [cell.source for cell in before.cells] == [cell.source for cell in after.cells]
    assert [cell.metadata.get("tags") for cell in before.cells] == [cell.metadata.get("tags") for cell in after.cells]
    assert "jupytext_version" not in once


# ------------------------------------------------------------- the recipes, as written


@pytest.mark.slow
@pytest.mark.xdist_group("book")  # with tests/test_book.py: one worker holds the shared `make book`
@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_every_shell_recipe_runs_as_written(block, newcomer_copy, request):
    if sample_dir() is None and block.id in NEEDS_SAMPLE:
        pytest.skip(f"no New York sample (set GOWALLA_DATA_DIR): {NEEDS_SAMPLE[block.id]}")
    commands = []
    for written, command in runnable(block):
        if command is None:
            commands.append(f"echo {shlex.quote('skipped (MAPPED): ' + written)}")
        elif command == MAKE_BOOK:
            request.getfixturevalue("made_book")  # ran once, as written, for this session (book_session.py)
            commands.append(f"echo {shlex.quote(MAKE_BOOK + ': ran once for the session by the made_book fixture')}")
        else:
            commands.append(command)
    completed = run_script(newcomer_copy, commands)
    ran = [line[4:] for line in completed.stdout.splitlines() if line.startswith(">>> ")]
    assert completed.returncode == 0, (
        f"{block.doc}, block at line {block.line}: `{ran[-1] if ran else '?'}` failed "
        f"(status {completed.returncode}):\n{completed.stdout[-2000:]}\n{completed.stderr[-3000:]}"
    )
    for output in OUTPUTS.get(block.id, []):
        assert (newcomer_copy / output).exists(), f"{block.id} should have written {output}"


# ------------------------------------------------------------------------------ Binder


def test_binder_installs_the_book_extra_with_the_constraints():
    post_build = REPO_ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"
    text = post_build.read_text()
    assert 'pip install --no-cache-dir -c constraints.txt -e ".[book]"' in text
    assert "binder/prepare_notebooks.py" in text
    environment = (REPO_ROOT / "binder" / "environment.yml").read_text()
    assert "-e ." not in environment  # repo2docker installs it before the repository is there
    import yaml

    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    assert config["repository"]["url"].startswith("https://github.com/")
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    readme = (REPO_ROOT / "README.md").read_text()
    assert "A fork changes ONE setting: `repository.url` in `_config.yml`" in readme


def test_binder_notebooks_are_the_chapters_with_workshop_parameters_and_synthetic_data(tmp_path):
    import nbformat

    import jupytext

    from checkin_traj import build

    for name in ("_toc.yml", "notebooks"):
        source = REPO_ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, tmp_path / name)
    sys.path.insert(0, str(REPO_ROOT / "binder"))
    try:
        import prepare_notebooks
    finally:
        sys.path.pop(0)
    workdir = tmp_path / "build" / "binder"
    written = prepare_notebooks.prepare(tmp_path, workdir=workdir, profile="workshop", data="synthetic")
    assert [path.stem for path in written] == build.toc_chapters(REPO_ROOT)
    for path in written:
        notebook = nbformat.read(path, as_version=4)
        chapter = jupytext.read(REPO_ROOT / "notebooks" / f"{path.stem}.md")
        tags = [cell.metadata.get("tags", []) for cell in notebook.cells]
        where = next(i for i, cell_tags in enumerate(tags) if "parameters" in cell_tags)
        assert "injected-parameters" in tags[where + 1], path.name
        injected = notebook.cells[where + 1].source
        assert f'WORKDIR = "{workdir}"' in injected, injected
        expected = build.chapter_parameters(path.stem, profile="workshop", workdir=workdir, root=REPO_ROOT)
        for key in expected:
            assert f"{key} = " in injected, (path.name, key)
        if path.stem.startswith("01_"):
            assert 'DATA = "synthetic"' in injected
        others = [cell.source for i, cell in enumerate(notebook.cells) if i != where + 1]
        assert others == [cell.source for cell in chapter.cells], f"{path.name}: the chapter's cells changed"


def test_the_readme_python_example_of_reading_and_cleaning_runs_in_a_fresh_clone(tmp_path, monkeypatch):
    # issue 23: the README's Python snippet read a file that a fresh clone does not have
    # (the example of the pages' code says that it needs `make workshop` first)
    text = (REPO_ROOT / "README.md").read_text()
    blocks = [block for block in re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M) if "read_checkins" in block]
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)  # no data beside it: what a newcomer has
    monkeypatch.setenv("CHECKIN_TRAJ_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GOWALLA_DATA_DIR", str(tmp_path / "no-data"))
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


def test_the_readme_gives_the_test_profiles_chapter_times_as_measured():
    # issue 23: the test profile's chapters take 11 to 79 seconds each, not "seconds"
    text = " ".join((REPO_ROOT / "README.md").read_text().split())
    assert "every chapter runs in 11 to 79 seconds on synthetic data" in text
    assert "runs in seconds" not in text and "# seconds," not in text
