"""The build's cache, progress lines and relative paths, on a tiny two-chapter project."""

from __future__ import annotations

import gzip
import json
import textwrap
import time
from pathlib import Path

import pytest

from checkin_traj import build

HEADER = """\
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
"""

FIRST = HEADER + """
# The First Chapter

```{code-cell} ipython3
:tags: [parameters]
WORKDIR = "nowhere"  # set by the build
ANSWER = 1  # overridden by the test profile
```

```{code-cell} ipython3
from pathlib import Path
from myst_nb import glue
Path(WORKDIR).mkdir(parents=True, exist_ok=True)
Path(WORKDIR, "answer.txt").write_text(str(ANSWER))
print("workdir:", WORKDIR, "resolved:", Path(WORKDIR).resolve())
glue("answer", ANSWER, display=False)
```

The answer is {glue:text}`answer`. FIRST_PROSE
"""

SECOND = HEADER + """
# The Second Chapter

```{code-cell} ipython3
:tags: [parameters]
WORKDIR = "nowhere"  # set by the build
```

```{code-cell} ipython3
from pathlib import Path
from myst_nb import glue
doubled = 2 * int(Path(WORKDIR, "answer.txt").read_text())
glue("doubled", doubled, display=False)
```

Twice the answer is {glue:text}`doubled`. SECOND_PROSE
"""


def make_project(root):
    (root / "notebooks").mkdir(parents=True)
    (root / "book").mkdir()
    (root / "book" / "intro.md").write_text("# Intro\n\nSee {doc}`../notebooks/01_first`.\n")
    (root / "notebooks" / "01_first.md").write_text(FIRST)
    (root / "notebooks" / "02_second.md").write_text(SECOND)
    (root / "notebooks" / "parameters.yml").write_text("01_first:\n  test: {ANSWER: 21}\n")
    (root / "_toc.yml").write_text(
        textwrap.dedent(
            """\
            format: jb-book
            root: book/intro
            chapters:
              - file: notebooks/01_first
              - file: notebooks/02_second
            """
        )
    )
    (root / "_config.yml").write_text('title: Tiny\nonly_build_toc_files: true\nexecute:\n  execute_notebooks: "off"\n')
    return root


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "project")


def run(project, **kwargs):
    kwargs.setdefault("book", False)
    return build.run("test", root=project, progress=False, **kwargs)


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.mark.slow
def test_second_build_executes_nothing_and_a_prose_edit_is_rendered_without_executing(project, capfd):
    first = run(project, book=True)
    assert first.executed == ["01_first", "02_second"] and first.cached == []
    out, err = capfd.readouterr()
    lines = out.splitlines()
    # issue 23: every kernel warned about TCP without encryption, one logged a KeyboardInterrupt on success
    assert "without encryption" not in out + err and "KeyboardInterrupt" not in out + err
    assert any("(1/2) 01_first: executing" in line for line in lines) and any("(2/2) 02_second: executing" in line for line in lines)
    for name in ("01_first", "02_second"):  # one line as a chapter starts, one as it ends, with seconds
        assert any(name in line and "executing" in line for line in lines), lines
        assert any(name in line and "done in" in line and " s " in line for line in lines), lines
    assert any("jupyter-book build done in" in line for line in lines)
    cache = json.loads((project / "build" / "test" / "cache.json").read_text())
    assert set(cache["chapters"]) == {"01_first", "02_second"}
    assert list(cache["chapters"]["01_first"]["outputs"]) == ["answer.txt"]
    assert str(project / "build" / "test" / "answer.txt") in cache["chapters"]["02_second"]["reads"]

    started = time.perf_counter()
    second = run(project)
    warm_seconds = time.perf_counter() - started
    assert second.executed == [] and second.cached == ["01_first", "02_second"]
    assert warm_seconds < 0.5 * sum(first.seconds[name] for name in first.executed)
    assert any("reused" in line for line in capfd.readouterr().out.splitlines())

    edit(project / "notebooks" / "02_second.md", "SECOND_PROSE", "A sentence added after the build.")
    third = run(project, book=True)
    assert third.executed == []
    page = (third.html / "notebooks" / "02_second.html").read_text()
    assert "A sentence added after the build." in page and "SECOND_PROSE" not in page
    assert "Twice the answer is" in page and "42" in page  # the glued value comes from the kept outputs
    timings = json.loads((project / "build" / "test" / "timings.json").read_text())
    assert timings["01_first"] == pytest.approx(first.seconds["01_first"])  # a reuse does not overwrite it


@pytest.mark.slow
def test_a_parameter_or_code_edit_executes_that_chapter_and_the_ones_after_it(project):
    run(project)
    edit(project / "notebooks" / "parameters.yml", "ANSWER: 21", "ANSWER: 5")
    changed = run(project)
    assert changed.executed == ["01_first", "02_second"]
    assert (project / "build" / "test" / "answer.txt").read_text() == "5"

    edit(project / "notebooks" / "02_second.md", "doubled = 2 *", "doubled = 3 *")
    second_only = run(project)
    assert second_only.executed == ["02_second"] and second_only.cached == ["01_first"]

    edit(project / "notebooks" / "01_first.md", 'print("workdir:"', 'print("the workdir:"')
    assert run(project).executed == ["01_first"]  # answer.txt came out the same: 02 read nothing new


@pytest.mark.slow
def test_force_chapters_and_missing_outputs_execute_again(project):
    run(project)
    assert run(project, force=True).executed == ["01_first", "02_second"]
    assert run(project, chapters=["02"]).executed == ["02_second"]
    assert run(project).executed == []  # 02 ran last; 01 did not change
    assert run(project, chapters=["01"]).executed == ["01_first"]
    assert run(project).executed == []  # 01 wrote the answer 02 had read: same content, nothing to redo
    (project / "build" / "test" / "answer.txt").unlink()
    assert run(project).executed == ["01_first"]  # its output gone; written again the same, 02 stays


@pytest.mark.slow
def test_a_failing_chapter_leaves_no_cache_entry_and_is_one_line_on_the_command_line(project, monkeypatch, capsys):
    from checkin_traj.cli import main

    run(project)
    edit(project / "notebooks" / "02_second.md", "doubled = 2 *", "doubled = 1 / 0 *")
    with pytest.raises(build.ChapterFailed, match="chapter 02_second failed: ZeroDivisionError: division by zero") as failed:
        run(project)
    assert "\n" not in str(failed.value) and "ZeroDivisionError" in failed.value.detail
    cache = json.loads((project / "build" / "test" / "cache.json").read_text())
    assert set(cache["chapters"]) == {"01_first"}
    # issue 23: under the command line the cause was the last of many lines; now one line, status 2
    monkeypatch.chdir(project)
    edit(project / "notebooks" / "02_second.md", "doubled = 1 / 0 *", "import os, signal; os.kill(os.getpid(), signal.SIGKILL); doubled = 2 *")
    assert main(["build", "--profile", "test", "--no-book", "--no-progress", "--verbose"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error[-1].startswith("checkin-traj build: chapter 02_second failed: its kernel died"), error
    edit(project / "notebooks" / "02_second.md", "import os, signal; os.kill(os.getpid(), signal.SIGKILL); doubled = 2 *", "doubled = 2 *")
    assert run(project).executed == ["02_second"]  # the failed notebook is never reused


def test_a_failed_chapter_is_one_line_and_its_error_is_shown_with_verbose(monkeypatch, capsys):
    from checkin_traj.cli import main

    def failing(profile, **kwargs):
        raise build.ChapterFailed(
            "chapter 02_second failed: ZeroDivisionError: division by zero (...)", detail="Traceback: the whole error"
        )

    monkeypatch.setattr(build, "run", failing)
    assert main(["build", "--profile", "test"]) == 2
    assert capsys.readouterr().err == "checkin-traj build: chapter 02_second failed: ZeroDivisionError: division by zero (...)\n"
    assert main(["build", "--profile", "test", "--verbose"]) == 2
    assert capsys.readouterr().err.startswith("Traceback: the whole error\n")


@pytest.mark.slow
def test_the_builders_absolute_path_is_in_no_executed_notebook_nor_html(project):
    result = run(project, book=True)
    roots = {str(project), str(project.resolve())}
    workdir = project / "build" / "test"
    notebook = json.loads(result.notebooks["01_first"].read_text())
    injected = [cell for cell in notebook["cells"] if "injected-parameters" in cell["metadata"].get("tags", [])]
    assert 'WORKDIR = "build/test"' in "".join(injected[0]["source"])
    printed = "".join("".join(output.get("text", "")) for cell in notebook["cells"] for output in cell.get("outputs", []))
    assert "workdir: build/test resolved: build/test" in printed  # the resolved path, made relative
    checked = list(workdir.rglob("*.ipynb")) + list(workdir.rglob("*.html"))
    assert len([path for path in checked if path.suffix == ".html"]) >= 3
    assert any("_sources" in path.parts for path in checked)  # the downloadable notebooks
    for path in checked:
        text = path.read_text(errors="replace")
        for spelling in roots:
            assert spelling not in text, f"{spelling} in {path}"


COUNTING = HEADER + """
# Counting Words

```{code-cell} ipython3
:tags: [parameters]
WORKDIR = "nowhere"  # set by the build
DATA = "auto"  # the data file, as chapter 01 resolves it: here the sample in GOWALLA_DATA_DIR
```

```{code-cell} ipython3
import gzip
from pathlib import Path
from checkin_traj.data.sources import resolve_checkins
path = resolve_checkins(DATA).path
text = (gzip.open if path.suffix == ".gz" else open)(path, "rb").read()
Path(WORKDIR).mkdir(parents=True, exist_ok=True)
Path(WORKDIR, "count.txt").write_text(str(len(text.split())))
```
"""

DOUBLING = HEADER + """
# Doubling

```{code-cell} ipython3
:tags: [parameters]
WORKDIR = "nowhere"  # set by the build
```

```{code-cell} ipython3
from pathlib import Path
import helper
print("doubled:", helper.double(int(Path(WORKDIR, "count.txt").read_text())))
```
"""


@pytest.mark.slow
def test_a_rebuild_executes_exactly_the_chapters_that_read_what_changed(tmp_path, monkeypatch):
    # issue 23: new data at the same path, an output replaced after the build, a run of one
    # chapter in the workdir and a damaged cached notebook were all reused, and any edit of the
    # package executed every chapter
    from checkin_traj.cli import main

    project = make_project(tmp_path / "project")
    (project / "notebooks" / "01_first.md").write_text(COUNTING)
    (project / "notebooks" / "02_second.md").write_text(DOUBLING)
    (project / "notebooks" / "parameters.yml").write_text("")
    (project / "helper.py").write_text("def double(number):\n    return 2 * number\n")

    def sample(folder, text):
        path = folder / "gowalla-nyc" / "loc-gowalla_totalCheckins.nyc.txt.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(text.encode()))
        return path

    words = sample(tmp_path / "data", "a b c")
    monkeypatch.setenv("GOWALLA_DATA_DIR", str(tmp_path / "data"))
    workdir = project / "build" / "test"
    assert run(project).executed == ["01_first", "02_second"]
    reads = json.loads((workdir / "cache.json").read_text())["chapters"]
    assert str(words) in reads["01_first"]["reads"] and str(project / "helper.py") not in reads["01_first"]["reads"]
    assert {str(project / "helper.py"), str(workdir / "count.txt")} <= set(reads["02_second"]["reads"])
    assert str(words) not in reads["02_second"]["reads"]
    assert run(project).executed == []

    sample(tmp_path / "data", "x y z")  # other words, the same count: 02 reads an unchanged count.txt
    assert run(project).executed == ["01_first"]
    sample(tmp_path / "data", "a b c d")
    assert run(project).executed == ["01_first", "02_second"]
    sample(tmp_path / "elsewhere", "a b c d")  # GOWALLA_DATA_DIR now names another sample
    monkeypatch.setenv("GOWALLA_DATA_DIR", str(tmp_path / "elsewhere"))
    assert run(project).executed == ["01_first"]
    (project / "helper.py").write_text("def double(number):\n    return number + number\n")
    assert run(project).executed == ["02_second"]  # only the chapter that imports it

    (workdir / "count.txt").write_text("1")  # an output replaced after the build
    assert run(project).executed == ["01_first"]  # and written again as it was
    assert (workdir / "count.txt").read_text() == "4"

    monkeypatch.chdir(project)  # a chapter run by hand in the built workdir
    assert main(["run", "01", "--workdir", str(workdir), "-p", "DATA", str(project / "helper.py"), "--no-page"]) == 0
    assert (workdir / "count.txt").read_text() != "4"
    with pytest.raises(build.BuildError, match=r"the book would mix runs: 01_first \(files it wrote were changed"):
        run(project, chapters=["02"], book=True)  # 02 on the run's count beside 01's page of the build
    assert run(project).executed == ["01_first", "02_second"]
    assert (workdir / "count.txt").read_text() == "4"

    (workdir / "cache" / "02_second.ipynb").write_text("not a notebook")
    assert run(project).executed == ["02_second"]


def test_why_not_cached_compares_what_a_chapter_read_and_wrote_by_content(tmp_path):
    workdir, data = tmp_path / "work", tmp_path / "data.txt"
    (workdir / "cache").mkdir(parents=True)
    (workdir / "cache" / "01.ipynb").write_text("{}")
    (workdir / "out.txt").write_text("out")
    data.write_text("in")
    digests = build._Digests()
    entry = {"key": "k", "outputs": {"out.txt": digests(workdir / "out.txt")}, "reads": {str(data): digests(data)}}

    def why():
        return build._why_not_cached("01", "k", entry, workdir, tmp_path, digests)

    assert why() is None
    assert build._why_not_cached("01", "other", entry, workdir, tmp_path, digests) == "its code, parameters or libraries changed"
    data.write_text("ni")  # same size
    assert why().startswith("files it read changed since (") and "data.txt" in why()
    data.write_text("in")
    (workdir / "out.txt").write_text("cut")
    assert why() == "files it wrote were changed or removed since (out.txt)"
    (workdir / "out.txt").unlink()
    assert why() == "files it wrote were changed or removed since (out.txt)"
    assert build._why_not_cached("01", "k", {**entry, "reads": None}, workdir, tmp_path, digests) == (
        "what it read and wrote is not recorded"
    )


def test_the_questions_that_choose_the_data_are_announced_and_asked_again(tmp_path, monkeypatch):
    from checkin_traj.data import lookups, sources

    heard = []
    monkeypatch.setattr(lookups.sys, "audit", lambda event, *args: heard.append((event, *args)))
    monkeypatch.setenv("GOWALLA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CHECKIN_TRAJ_CACHE", str(tmp_path / "cache"))
    sample = tmp_path / sources.SAMPLE_FILE
    sample.parent.mkdir(parents=True)
    sample.write_bytes(gzip.compress(b"0\t2010-10-12T00:21:28Z\t40.7\t-73.9\t1\n"))
    assert sources.resolve_checkins("auto").path == sample
    sources.synthetic_path()
    assert set(heard) == {
        (lookups.EVENT, "environ", "GOWALLA_DATA_DIR", str(tmp_path)),
        (lookups.EVENT, "is_file", str(sample), True),
        (lookups.EVENT, "environ", "CHECKIN_TRAJ_CACHE", str(tmp_path / "cache")),
    }
    entry = {"key": "k", "outputs": {}, "reads": {}, "lookups": [[question, subject, answer] for _, question, subject, answer in heard]}

    def why():
        return build._why_not_cached("01", "k", entry, tmp_path, tmp_path, build._Digests())

    assert why() is None
    sample.unlink()
    assert why() == f"what chose its data changed (is_file {sample}: True then, False now)"
    monkeypatch.setenv("GOWALLA_DATA_DIR", str(tmp_path / "other"))
    assert why().startswith("what chose its data changed (environ GOWALLA_DATA_DIR: ")


def test_chapter_reads_keeps_data_and_project_modules_and_leaves_libraries_and_temporaries(tmp_path):
    import numpy

    import checkin_traj.geo

    workdir = tmp_path / "work"
    (workdir / "site").mkdir(parents=True)
    data = tmp_path / "checkins.txt"
    data.write_text("0\t2010-10-12T00:21:28Z\t40.7\t-73.9\t1\n")
    (workdir / "site" / "page.ipynb").write_text("{}")
    metadata = tmp_path / "src" / "checkin_traj.egg-info" / "entry_points.txt"  # read by importlib.metadata
    metadata.parent.mkdir(parents=True)
    metadata.write_text("[console_scripts]\n")
    report = {
        "opened": [str(data), str(tmp_path / ".gone.tmp"), "/proc/cpuinfo", numpy.__file__, str(workdir / "site" / "page.ipynb"),
                   str(tmp_path), str(metadata)],
        "modules": [checkin_traj.geo.__file__, numpy.__file__],
    }
    assert build.chapter_reads(report, workdir) == sorted([str(data.resolve()), str(Path(checkin_traj.geo.__file__).resolve())])


def test_a_parameters_file_that_is_not_yaml_is_named(project, monkeypatch, capsys):
    from checkin_traj.cli import main

    (project / "notebooks" / "parameters.yml").write_text("01_first:\n  test: {ANSWER: [21}\n")
    with pytest.raises(ValueError, match=r"parameters.yml, line 2 is not valid YAML"):
        build.chapter_parameters("01_first", profile="test", workdir=project / "w", root=project)
    monkeypatch.chdir(project)
    assert main(["build", "--profile", "test", "--no-book"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("checkin-traj build: ") and "parameters.yml" in error and len(error.splitlines()) == 1
    (project / "notebooks" / "parameters.yml").write_text("- just\n- a list\n")
    with pytest.raises(ValueError, match="expected chapter -> profile -> NAME: value"):
        build.chapter_parameters("01_first", profile="test", workdir=project / "w", root=project)


def test_a_workdir_that_is_a_file_is_refused_in_one_line(project, tmp_path, monkeypatch, capsys):
    from checkin_traj.cli import main

    afile = tmp_path / "afile"
    afile.write_text("mine")
    monkeypatch.chdir(project)
    for argv in (["build", "--profile", "test", "--workdir", str(afile)], ["run", "01", "--workdir", str(afile), "--no-page"]):
        assert main(argv) == 2
        error = capsys.readouterr().err
        assert error == f"checkin-traj {argv[0]}: the workdir {afile} is a file, not a folder: name a folder (made when missing)\n"
    assert afile.read_text() == "mine"


def test_the_full_profile_says_how_long_it_takes_before_starting(project, capsys):
    (project / "_toc.yml").write_text("format: jb-book\nroot: book/intro\n")  # no chapters: nothing executes
    build.run("full", root=project, book=False, progress=False)
    assert capsys.readouterr().out.startswith(
        f"[full] the full profile runs every chapter with the book's own parameters: {build.PROFILE_TIMES['full']} on two cores")


def test_rerender_prose_keeps_outputs_and_takes_the_new_markdown():
    import nbformat

    source = nbformat.v4.new_notebook()
    source.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("A = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_markdown_cell("old prose"),
        nbformat.v4.new_code_cell("print(A)"),
    ]
    executed = nbformat.reads(nbformat.writes(source), as_version=4)
    injected = nbformat.v4.new_code_cell("A = 2", metadata={"tags": ["injected-parameters"]})
    executed.cells.insert(2, injected)
    executed.cells[4].outputs = [nbformat.v4.new_output("stream", text="2\n")]
    new = nbformat.reads(nbformat.writes(source), as_version=4)
    new.cells[2].source = "new prose"
    new.cells.insert(3, nbformat.v4.new_markdown_cell("a new paragraph"))
    new.cells[4].metadata["tags"] = ["hide-input"]
    result = build.rerender_prose(executed, new)
    assert [cell.source for cell in result.cells] == ["# Title", "A = 1", "A = 2", "new prose", "a new paragraph", "print(A)"]
    assert result.cells[5].outputs[0].text == "2\n" and result.cells[5].metadata["tags"] == ["hide-input"]
    new.cells[4].source = "print(A + 1)"
    assert build.rerender_prose(executed, new) is None  # code changed: it must run


def test_scrub_paths_makes_the_root_relative(tmp_path):
    root = tmp_path / "repo"
    node = {"a": [f"{root}/build/full/data", f"cd {root}", 3], "b": {"c": "nothing here"}}
    scrubbed, count = build.scrub_paths(node, root)
    assert scrubbed == {"a": ["build/full/data", "cd .", 3], "b": {"c": "nothing here"}} and count == 2


def test_workdir_is_passed_relative_inside_the_root_and_absolute_outside(tmp_path, project):
    assert build.workdir_text(project / "build" / "full", project) == "build/full"
    assert build.workdir_text(tmp_path / "elsewhere", project) == str(tmp_path / "elsewhere")


def test_chapter_key_ignores_prose_and_sees_code_and_parameters(project):
    parameters = build.chapter_parameters("01_first", profile="test", workdir=project / "build" / "test", root=project)
    key = build.chapter_key("01_first", root=project, parameters=parameters)
    edit(project / "notebooks" / "01_first.md", "FIRST_PROSE", "other words")
    assert build.chapter_key("01_first", root=project, parameters=parameters) == key
    assert build.chapter_key("01_first", root=project, parameters={**parameters, "ANSWER": 3}) != key
    assert build.chapter_key("01_first", root=project, parameters=parameters, versions={"numpy": "0"}) != key
    edit(project / "notebooks" / "01_first.md", ":tags: [parameters]", ":tags: [parameters, raises-exception]")
    assert build.chapter_key("01_first", root=project, parameters=parameters) != key


def test_an_unreadable_cache_file_means_everything_executes(tmp_path):
    (tmp_path / "cache.json").write_text("{not json")
    assert build.read_cache(tmp_path) == {"version": build.CACHE_VERSION, "chapters": {}}


def test_the_build_times_page_marks_reused_chapters_and_says_when():
    document = {
        "profiles": {
            "workshop": {
                "measured": "2026-12-02 18:00 UTC",
                "machine": "a CPU, 2 usable cores",
                "commit": "abc1234",
                "chapters": {
                    "01_data_cleaning": {"seconds": 12.25, "executed_at": "2026-12-01T10:00:00.0Z", "cached": True},
                    "02_evaluation": {"seconds": 3.0, "executed_at": "2026-12-02T17:59:00.0Z", "cached": False},
                },
                "book_seconds": 20.0,
            }
        }
    }
    page = _build_times().render_build_times(document)
    assert "Measured 2026-12-02 18:00 UTC on a CPU, 2 usable cores; commit `abc1234`." in page
    assert "| 01_data_cleaning | 12.2 | reused (executed 2026-12-01 10:00 UTC) |" in page
    assert "| 02_evaluation | 3.0 | executed |" in page
    assert "| **all chapters** | **15.2** | |" in page and "| jupyter-book build | 20.0 | |" in page
    assert "No build has been recorded yet." in _build_times().render_build_times({})


def _build_times():
    """benchmarks/build_times.py, the build-times record (it belongs to the benchmarks, not the package)."""
    import importlib.util

    from .conftest import REPO_ROOT

    spec = importlib.util.spec_from_file_location("build_times", REPO_ROOT / "benchmarks" / "build_times.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_only_a_complete_full_or_workshop_build_writes_the_committed_record(project):
    record = project / "benchmarks" / "records" / "build_times.json"
    run(project, book=True)  # test profile
    build.run("workshop", root=project, progress=False, chapters=["01"], book=False)  # not complete
    build.run("workshop", root=project, progress=False, book=False)  # the package's build writes no record
    assert not record.exists()
    _build_times().main(["--profile", "workshop", "--root", str(project)])  # what make workshop runs
    times = json.loads(record.read_text())
    assert set(times["profiles"]) == {"workshop"}
    entry = times["profiles"]["workshop"]
    assert set(entry["chapters"]) == {"01_first", "02_second"} and entry["book_seconds"] > 0
    assert entry["chapters"]["01_first"]["cached"] is True  # executed by the builds just before
    assert entry["chapters"]["02_second"]["cached"] is True
    assert "### The `workshop` profile" in (project / "benchmarks" / "BUILD_TIMES.md").read_text()


def test_the_command_line_passes_force_to_the_build(monkeypatch):
    from checkin_traj import cli

    calls = []

    def fake_run(profile, **kwargs):
        calls.append((profile, kwargs))
        return build.BuildResult(profile=profile, workdir=None)

    monkeypatch.setattr(build, "run", fake_run)
    assert cli.main(["build", "--profile", "test", "--no-book", "--force"]) == 0
    assert calls[0][0] == "test" and calls[0][1]["force"] is True and calls[0][1]["book"] is False
    assert build.main(["--profile", "test", "--no-book", "--force", "--no-progress"]) == 0
    assert calls[1][1]["force"] is True and calls[1][1]["progress"] is False
