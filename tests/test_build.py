"""The book pipeline: chapters from _toc.yml, parameters per profile, and a tiny end-to-end run."""

import json
import os
import shutil
import textwrap

import pytest

from checkin_traj import build
from checkin_traj.build import chapter_parameters, toc_chapters

from .conftest import REPO_ROOT


def test_the_toc_lists_the_eight_chapters_in_order():
    assert toc_chapters(REPO_ROOT) == [
        "01_data_cleaning",
        "02_evaluation",
        "03_lstm",
        "04_seq2seq_attention",
        "05_transformer",
        "06_comparison",
        "07_tuning",
        "08_next_venue",
    ]


def test_every_toc_chapter_has_parameters_for_each_non_full_profile():
    for name in toc_chapters(REPO_ROOT):
        for profile in ("workshop", "test"):
            assert chapter_parameters(name, profile=profile, workdir="w", root=REPO_ROOT)["WORKDIR"] == "w"


def test_full_profile_passes_only_workdir(tmp_path):
    assert chapter_parameters("01_data_cleaning", profile="full", workdir=tmp_path, root=REPO_ROOT) == {
        "WORKDIR": str(tmp_path)
    }


def test_unknown_profile_and_chapter_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="profile"):
        chapter_parameters("01_data_cleaning", profile="fast", workdir=tmp_path, root=REPO_ROOT)
    with pytest.raises(ValueError, match="unknown chapter '99'"):
        build.run("test", chapters=["99"], book=False, workdir=tmp_path, root=REPO_ROOT)


TINY_CHAPTER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A Tiny Chapter

```{code-cell} ipython3
:tags: [parameters]
WORKDIR = "nowhere"  # set by the build
ANSWER = 1  # overridden by the test profile
```

```{code-cell} ipython3
from pathlib import Path
from myst_nb import glue
Path(WORKDIR, "answer.txt").write_text(str(ANSWER))
glue("answer", ANSWER, display=False)
```

The answer is {glue:text}`answer`.
"""


@pytest.mark.slow
def test_tiny_project_is_executed_with_profile_parameters_and_built_strictly(tmp_path):
    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    (root / "book").mkdir()
    (root / "book" / "intro.md").write_text("# Intro\n\nSee {doc}`../notebooks/01_tiny`.\n")
    (root / "notebooks" / "01_tiny.md").write_text(TINY_CHAPTER)
    (root / "notebooks" / "parameters.yml").write_text("01_tiny:\n  test: {ANSWER: 42}\n")
    (root / "_toc.yml").write_text(
        textwrap.dedent(
            """\
            format: jb-book
            root: book/intro
            chapters:
              - file: notebooks/01_tiny
            """
        )
    )
    (root / "_config.yml").write_text(
        'title: Tiny\nonly_build_toc_files: true\nexecute:\n  execute_notebooks: "off"\n'
    )
    workdir = tmp_path / "run"
    result = build.run("test", workdir=workdir, root=root)
    assert (workdir / "answer.txt").read_text() == "42"
    page = (result.html / "notebooks" / "01_tiny.html").read_text()
    assert "The answer is" in page and "42" in page
    assert set(json.loads((workdir / "timings.json").read_text())) == {"01_tiny", "jupyter-book build"}


@pytest.mark.slow
def test_chapter_01_executed_in_the_repository_shows_no_absolute_path_of_it():
    # issue 16: WORKDIR used to be injected as "/home/.../build/full"; warnings printed the venv's absolute path
    workdir = REPO_ROOT / "build" / f"pytest-paths-{os.getpid()}"
    try:
        result = build.run("test", chapters=["01"], book=False, workdir=workdir, root=REPO_ROOT, progress=False)
        text = result.notebooks["01_data_cleaning"].read_text()
        assert f'WORKDIR = \\"build/{workdir.name}\\"' in text
        for spelling in {str(REPO_ROOT), str(REPO_ROOT.resolve())}:
            assert spelling not in text
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
