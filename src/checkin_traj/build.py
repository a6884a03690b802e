"""Build the book: jupytext -> papermill -> jupyter-book, re-executing only what changed.

Each chapter (a MyST text notebook in ``notebooks/``) is converted by jupytext, executed
once by papermill with a profile's parameters (``notebooks/parameters.yml``) into
``build/<profile>/site/notebooks/``, and rendered by ``jupyter-book build`` with execution
off. papermill runs in the repository root; the root's absolute path is scrubbed from the
executed notebooks (:func:`scrub_paths`), so the book never shows where it was built.

**Cache** (``build/<profile>/cache.json``). A chapter is executed again only when something
its execution saw has changed (:func:`_why_not_cached`); a reused chapter gets its current
prose back (:func:`rerender_prose`), so a prose-only edit rebuilds in seconds.

**Timings.** One line per chapter on the terminal; ``build/<profile>/timings.json`` keeps
each step's last seconds (the committed record: ``benchmarks/build_times.py``).
Usage: ``python -m checkin_traj.build [--profile full|workshop|test] [--chapters ...] [--no-book] [--force]``.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import quality
from .data import lookups
from .data.atomic import atomic_path, file_sha256

PROFILES = ("full", "workshop", "test")
BOOK_FILES = ("_config.yml", "_toc.yml")
BOOK_CITY = "New York City"  # the city the book's title names (_config.yml, book/intro.md)
BOOK_DIRS = ("book", "benchmarks")  # benchmarks/RESULTS.md is included by the speed appendix
# files the pages show with literalinclude: the profiles (the workshop page) and the one
# comparison rule (chapter 02 folds its code in from the package)
BOOK_INCLUDES = ("notebooks/parameters.yml", "src/checkin_traj/uncertainty.py", "src/checkin_traj/verdicts.py")
CACHE_FILE = "cache.json"  # in the workdir: the key and outputs of each executed chapter
CACHE_DIR = "cache"  # in the workdir: the last executed notebook of each chapter
CACHE_VERSION = 2  # 2: files read and written by content; no package-wide hash
NOT_OUTPUTS = ("site", CACHE_DIR, CACHE_FILE, "timings.json")  # workdir entries that are the build's own
# How long each profile takes on two cores with every chapter executing: README, "How long things take"
PROFILE_TIMES = {"full": "about an hour and a half", "workshop": "about 30 minutes", "test": "a few minutes on synthetic data"}
FULL_PROFILE_NOTE = (
    f"the full profile runs every chapter with the book's own parameters: {PROFILE_TIMES['full']} on two cores when all "
    f"of them execute (--profile workshop: {PROFILE_TIMES['workshop']}; --profile test: {PROFILE_TIMES['test']})"
)
LIBRARIES = ("numpy", "pandas", "pyarrow", "numba", "scikit-learn", "tensorflow", "keras", "optuna", "myst-nb", "papermill")


def check_workdir(workdir) -> Path:
    """``workdir`` as a Path, refused with ``NotADirectoryError`` when it names a file."""
    workdir = Path(workdir)
    if workdir.exists() and not workdir.is_dir():
        raise NotADirectoryError(f"the workdir {workdir} is a file, not a folder: name a folder (made when missing)")
    return workdir


def repo_root() -> Path:
    """The project's root: the folder holding ``_toc.yml`` (the current one, or the package's)."""
    for candidate in (Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parents[2]):
        if (candidate / "_toc.yml").exists() and (candidate / "notebooks").is_dir():
            return candidate
    raise FileNotFoundError("could not find the project root (a folder with _toc.yml and notebooks/)")


def _toc_files(node) -> list[str]:
    if isinstance(node, list):
        return [file for item in node for file in _toc_files(item)]
    if not isinstance(node, dict):
        return []
    return ([node["file"]] if "file" in node else []) + [file for value in node.values() for file in _toc_files(value)]


def toc_chapters(root: Path) -> list[str]:
    """Names of the chapter notebooks listed in ``_toc.yml``, in book order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc.get("root", "")] + _toc_files(toc)
    return [Path(file).name for file in files if str(file).startswith("notebooks/")]


def workdir_text(workdir: Path, root: Path) -> str:
    """``workdir`` as the chapters are given it: relative to ``root`` when inside it (papermill runs there)."""
    workdir = Path(workdir)
    absolute = workdir if workdir.is_absolute() else root / workdir
    try:
        inside = absolute.resolve().is_relative_to(root.resolve())
        return Path(os.path.relpath(absolute.resolve(), root.resolve())).as_posix() if inside else str(absolute)
    except ValueError:  # another drive on Windows
        return str(absolute)


def chapter_parameters(name: str, *, profile: str, workdir: Path, root: Path) -> dict:
    """papermill parameters of one chapter for one profile (``WORKDIR`` always set, relative to ``root`` when inside it)."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    path = root / "notebooks" / "parameters.yml"
    try:
        table = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise ValueError(f"{path}{where} is not valid YAML: {getattr(error, 'problem', None) or error}") from None
    chapter = (table.get(name) if isinstance(table, dict) else None) or {}
    values = (chapter.get(profile) if isinstance(chapter, dict) else None) or {}
    if not isinstance(table, dict) or not isinstance(chapter, dict) or not isinstance(values, dict):
        raise ValueError(f"{path}: expected chapter -> profile -> NAME: value (e.g. '{name}: {{test: {{SEED: 0}}}}')")
    unknown = set(chapter) - set(PROFILES)
    if unknown:
        raise ValueError(f"notebooks/parameters.yml, chapter {name}: unknown profiles {sorted(unknown)}")
    parameters = dict(values)
    parameters["WORKDIR"] = workdir_text(workdir, root)
    return parameters


@dataclass
class BuildResult:
    """What a build did: the executed notebooks, the HTML folder, ``seconds`` per step (for a reused
    chapter: to re-render its prose) and the ``cached`` chapters (reused, not executed)."""

    profile: str
    workdir: Path
    notebooks: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    cached: list = field(default_factory=list)
    html: Path | None = None

    @property
    def executed(self) -> list:
        """The chapters executed in this build, in book order."""
        return [name for name in self.notebooks if name not in self.cached]

    def summary(self) -> str:
        lines = [f"profile {self.profile}: {sum(self.seconds.values()):.0f} s in all, {len(self.executed)} chapter(s) executed, {len(self.cached)} reused"]
        lines += [
            f"  {name:<24s} {seconds:8.1f} s{'  (reused: inputs unchanged)' if name in self.cached else ''}"
            for name, seconds in self.seconds.items()
        ]
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


# --------------------------------------------------------------------------- no builder's path in the book


def _root_spellings(root: Path) -> list[str]:
    spellings = {str(root), str(root.resolve()), str(root.absolute())}
    return sorted((text for text in spellings if len(text) > 1), key=len, reverse=True)


def scrub_paths(node, root: Path):
    """``node`` (a notebook as plain JSON data) with the root's absolute path made relative.

    ``<root>/a/b`` becomes ``a/b`` and ``<root>`` alone becomes ``.``, in every string:
    cell sources and outputs, papermill's metadata. Returns ``(new node, replacements)``.
    """
    spellings = _root_spellings(Path(root))
    count = 0

    def scrub(value):
        nonlocal count
        if isinstance(value, str):
            for spelling in spellings:
                if spelling in value:
                    count += value.count(spelling)
                    value = value.replace(spelling + "/", "").replace(spelling, ".")
            return value
        if isinstance(value, list):
            return [scrub(item) for item in value]
        if isinstance(value, dict):
            return {key: scrub(item) for key, item in value.items()}
        return value

    return scrub(node), count


def _scrub_notebook_file(path: Path, root: Path) -> int:
    document = json.loads(path.read_text())
    scrubbed, count = scrub_paths(document, root)
    if count:
        _write_json_atomically(path, scrubbed)
    return count


def _write_json_atomically(path: Path, document) -> None:
    with atomic_path(path) as partial:
        partial.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------- executing one chapter


class BuildError(RuntimeError):
    """A failed step of the build: one line (what failed and why); ``detail``: the full error (``--verbose``)."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail
        if detail and hasattr(self, "add_note"):  # Python 3.11+
            self.add_note(detail)


class ChapterFailed(BuildError):
    """A chapter that stopped with an error, or whose kernel died."""


#: The audit event by which the report cell asks the kernel's watch for its notes.
REPORT_EVENT = "checkin_traj.build.report"
REPORT_TAG = "checkin-traj-build-report"  # the report cell's tag; the cell leaves the executed notebook
#: Run in the kernel before the chapter's first cell (IPython's ``exec_lines``: no cell and no
#: execution count of its own, nothing left in the chapter's namespace): an audit hook that
#: notes every file opened for reading and the first answer to every question that chose a
#: data file (:mod:`checkin_traj.data.lookups`), and hands the notes and the files of every
#: imported module to the report cell.
_WATCH = f"""
def watch():
    import os, sys
    opened = set()
    asked = {{}}
    def hook(event, args):
        try:
            if event == "open" and not isinstance(args[0], int):
                flags = args[2] or 0
                if flags & (os.O_WRONLY | os.O_RDWR) != os.O_WRONLY and not flags & os.O_TRUNC:
                    opened.add(os.path.abspath(os.fsdecode(args[0])))
            elif event == "sqlite3.connect":
                opened.add(os.path.abspath(os.fsdecode(args[0])))
            elif event == {lookups.EVENT!r}:
                asked.setdefault(tuple(args[:2]), args[2])
            elif event == {REPORT_EVENT!r}:
                files = (getattr(module, "__file__", None) for module in list(sys.modules.values()))
                modules = {{os.path.abspath(file) for file in files if isinstance(file, str)}}
                answers = [[*question, answer] for question, answer in asked.items()]
                args[0].update(opened=sorted(opened), modules=sorted(modules), lookups=answers)
        except Exception:
            pass  # the chapter's own call goes on whatever happens here
    sys.addaudithook(hook)
watch()
"""
_REPORT_CELL = f"""\
def _report():
    import json, sys
    record = {{}}
    sys.audit({REPORT_EVENT!r}, record)
    print(json.dumps(record))
_report()
del _report
"""


def _kernel_arguments() -> list:
    """The kernel's options: the watch, and log level CRITICAL (no notice about TCP on this machine or about
    the shutdown's interrupt; a chapter's errors come in its outputs)."""
    watch = f"exec(bytes.fromhex({_WATCH.encode().hex()!r}).decode(), {{}})"
    return [f"--IPKernelApp.exec_lines={watch}", "--IPKernelApp.log_level=CRITICAL"]


def _take_report(path: Path) -> dict:
    """Remove the report cell from the executed notebook at ``path``; what it printed (empty if nothing)."""
    document = json.loads(path.read_text())
    record = {}
    kept = []
    for cell in document.get("cells", []):
        if REPORT_TAG not in cell.get("metadata", {}).get("tags", []):
            kept.append(cell)
            continue
        for output in cell.get("outputs", []):
            if output.get("name") == "stdout":
                try:
                    record = json.loads("".join(output.get("text", "")))
                except json.JSONDecodeError:
                    record = {}
    document["cells"] = kept
    _write_json_atomically(path, document)
    return record if isinstance(record, dict) else {}


def execute_chapter(name, *, profile, workdir, site, root, overrides=None, progress=True) -> tuple[Path, dict]:
    """Convert one chapter with jupytext and execute it with papermill into ``site/notebooks``.

    ``overrides`` (name -> value) replaces the profile's parameters (``checkin-traj run -p``).
    Returns the executed notebook (scrubbed: :func:`scrub_paths`) and what the kernel's watch
    noted (:func:`chapter_reads`). Raises :class:`ChapterFailed` when the chapter stops with an
    error or its kernel dies.
    """
    import jupytext
    import nbformat
    import papermill
    from nbclient.exceptions import DeadKernelError

    source = root / "notebooks" / f"{name}.md"
    if not source.exists():
        raise FileNotFoundError(f"chapter {name} is listed in _toc.yml but {source} does not exist")
    target = site / "notebooks" / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    unexecuted = target.with_suffix(".input.ipynb")
    notebook = jupytext.read(source)
    notebook.cells.append(nbformat.v4.new_code_cell(_REPORT_CELL, metadata={"tags": [REPORT_TAG, "remove-cell"]}))
    nbformat.write(notebook, unexecuted)
    parameters = chapter_parameters(name, profile=profile, workdir=workdir, root=root)
    parameters.update(overrides or {})
    _kernel_environment()
    where = f"the executed notebook is {workdir_text(target, root)}"
    try:
        papermill.execute_notebook(str(unexecuted), str(target), parameters=parameters, cwd=str(root), kernel_name="python3",
                                   progress_bar=progress, request_save_on_cell_execute=False,
                                   extra_arguments=_kernel_arguments())
    except papermill.PapermillExecutionError as error:
        cause = " ".join(f"{error.ename}: {error.evalue}".split())
        raise ChapterFailed(
            f"chapter {name} failed: {cause} ({where}; --verbose shows its error)",
            detail=f"chapter {name} failed with parameters {parameters}\n{error}",
        ) from None
    except DeadKernelError as error:
        message = f"chapter {name} failed: its kernel died (killed, or out of memory?); {where}"
        raise ChapterFailed(message, detail=str(error)) from None
    finally:
        unexecuted.unlink(missing_ok=True)
        if target.exists():
            report = _take_report(target)
            _scrub_notebook_file(target, root)
    return target, report


# --------------------------------------------------------------------------- what a chapter read


#: Folders whose files a chapter reads but never as its input: the system's.
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev", "/etc", "/usr", "/run")
METADATA = (".dist-info", ".egg-info")  # installed packages' records (entry points): versions are in the key


def _library_folders() -> tuple:
    """Where the interpreter and installed libraries live (their versions are in the key)."""
    import site

    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages(), site.getusersitepackages()}
    return tuple(os.path.realpath(folder) for folder in folders if folder)


def _under(path: str, folders) -> bool:
    return any(path == folder or path.startswith(folder.rstrip(os.sep) + os.sep) for folder in folders)


def chapter_reads(report: dict, workdir: Path) -> list[str]:
    """The files a chapter's execution read that can change between builds (absolute paths, sorted).

    ``report`` is what the kernel's watch noted: ``opened`` (files opened for reading) and
    ``modules`` (files of the imported modules). Kept: opened files that still exist outside
    the libraries, the system's folders, packages' metadata and the build's own files; and
    the modules imported from outside the libraries, with every module of ``checkin_traj``.
    """
    libraries = _library_folders()
    own = tuple(os.path.realpath(Path(workdir) / name) for name in NOT_OUTPUTS)
    kept = set()
    for text in report.get("opened", []):
        path = os.path.realpath(text)
        parts = Path(path).parts
        if path.endswith((".py", ".pyc")) or "__pycache__" in parts or any(part.endswith(METADATA) for part in parts):
            continue
        if not _under(path, libraries + SYSTEM_FOLDERS + own) and os.path.isfile(path):
            kept.add(path)
    for text in report.get("modules", []):
        path = os.path.realpath(text)
        if path.endswith(".py") and os.path.isfile(path):
            if not _under(path, libraries) or "checkin_traj" in Path(path).parts:
                kept.add(path)
    return sorted(kept)


class _Digests:
    """SHA-256 of files, each read once per build unless it changed (size, times and inode)."""

    def __init__(self):
        self._known = {}

    def __call__(self, path) -> str | None:
        """The file's SHA-256, or None when it is not a readable file."""
        path = os.fspath(path)
        try:
            stat = os.stat(path)
            signature = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
            if self._known.get(path, (None,))[0] != signature:
                self._known[path] = (signature, file_sha256(path))
        except OSError:
            return None
        return self._known[path][1]


# --------------------------------------------------------------------------- the cache


def _sha256_text(*parts) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(json.dumps(part, sort_keys=True, default=str).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def environment_versions() -> dict:
    """The kernel's Python and the versions of the main libraries (None: not installed)."""
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _code_cells(notebook) -> list:
    return [{"source": cell.source, "tags": sorted(cell.get("metadata", {}).get("tags", []))}
            for cell in notebook.cells if cell.cell_type == "code"]


def chapter_key(name: str, *, root: Path, parameters: dict, versions=None) -> str:
    """The cache key of one chapter: its code cells (source and tags), ``parameters`` and
    :func:`environment_versions`, not its prose (what it reads is checked beside the key)."""
    import jupytext

    notebook = jupytext.read(root / "notebooks" / f"{name}.md")
    kernel = notebook.metadata.get("kernelspec", {}).get("name")
    return _sha256_text(CACHE_VERSION, name, kernel, _code_cells(notebook), parameters, versions or environment_versions())


def read_cache(workdir: Path) -> dict:
    """``workdir/cache.json`` (an empty record when absent or unreadable: everything executes)."""
    try:
        document = json.loads((Path(workdir) / CACHE_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        document = None
    usable = isinstance(document, dict) and document.get("version") == CACHE_VERSION and isinstance(document.get("chapters"), dict)
    return document if usable else {"version": CACHE_VERSION, "chapters": {}}


def _snapshot(workdir: Path) -> dict:
    """(size, mtime) of every file in ``workdir`` except the build's own (site/, cache/, ...)."""
    state = {}
    if not workdir.is_dir():
        return state
    for path in workdir.rglob("*"):
        relative = path.relative_to(workdir)
        if relative.parts[0] in NOT_OUTPUTS or not path.is_file():
            continue
        stat = path.stat()
        state[relative.as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return state


def _changed(recorded: dict, digests, folder: Path | None = None) -> list:
    """The files of ``recorded`` (path -> SHA-256, relative to ``folder`` if given) whose content differs or is gone."""
    return [path for path, digest in recorded.items() if digests(folder / path if folder else path) != digest]


def _why_not_cached(name: str, key: str, entry, workdir: Path, root: Path, digests) -> str | None:
    """Why chapter ``name`` must be executed (a phrase), or None when its last execution can be reused."""
    if not entry:
        return "never executed in this workdir"
    if entry.get("key") != key:
        return "its code, parameters or libraries changed"
    if not isinstance(entry.get("outputs"), dict) or not isinstance(entry.get("reads"), dict):
        return "what it read and wrote is not recorded"
    changed = _changed(entry["outputs"], digests, workdir)
    if changed:
        return f"files it wrote were changed or removed since ({', '.join(changed[:3])})"
    changed = _changed(entry["reads"], digests)
    if changed:
        return f"files it read changed since ({', '.join(workdir_text(Path(path), root) for path in changed[:3])})"
    for question, subject, answer in entry.get("lookups", []):
        now = lookups.QUESTIONS[question](subject) if question in lookups.QUESTIONS else object()
        if now != answer:
            return f"what chose its data changed ({question} {subject}: {answer!r} then, {now!r} now)"
    return None


def rerender_prose(executed, source):
    """``executed`` (an executed notebook) with the markdown cells of ``source`` (its current text).

    Code cells are matched in order (papermill's injected-parameters cell is kept after the
    ``parameters`` cell) and keep their outputs; every other cell comes from ``source``.
    Returns None when the code cells do not match one to one (then the chapter must run).
    """
    cached_code = [cell for cell in executed.cells if cell.cell_type == "code"]
    injected = [cell for cell in cached_code if "injected-parameters" in cell.get("metadata", {}).get("tags", [])]
    cached_code = [cell for cell in cached_code if cell not in injected]
    source_code = [cell for cell in source.cells if cell.cell_type == "code"]
    if len(cached_code) != len(source_code) or any(a.source != b.source for a, b in zip(cached_code, source_code)):
        return None
    result = copy.deepcopy(executed)
    cells = []
    code = iter(cached_code)
    for cell in source.cells:
        if cell.cell_type != "code":
            cells.append(copy.deepcopy(cell))
            continue
        old = copy.deepcopy(next(code))
        metadata = copy.deepcopy(dict(cell.get("metadata", {})))
        for kept in ("papermill", "execution"):  # the execution's own records
            if kept in old.metadata:
                metadata[kept] = old.metadata[kept]
        old.metadata = type(old.metadata)(metadata)
        cells.append(old)
        if "parameters" in metadata.get("tags", []) and injected:
            cells.append(copy.deepcopy(injected.pop()))
    if injected:  # no parameters cell: papermill put its cell first
        cells.insert(0, copy.deepcopy(injected.pop()))
    result.cells = cells
    return result


class _NotReusable(Exception):
    """Why a chapter's cached notebook cannot be reused (then it executes)."""


def _reuse_chapter(name: str, *, workdir: Path, site: Path, root: Path) -> Path:
    """Write the cached executed notebook of ``name`` with its current prose into ``site``; :class:`_NotReusable`
    when the cached notebook cannot be read or no longer matches the chapter's code cells."""
    import jupytext
    import nbformat

    try:
        cached = nbformat.read(workdir / CACHE_DIR / f"{name}.ipynb", as_version=4)
        notebook = rerender_prose(cached, jupytext.read(root / "notebooks" / f"{name}.md"))
    except Exception as error:  # noqa: BLE001 - whatever is wrong with the copy, executing again mends it
        raise _NotReusable(f"its cached notebook is missing or unreadable ({type(error).__name__})") from None
    if notebook is None:
        raise _NotReusable("its cached notebook no longer matches its code cells")
    target = site / "notebooks" / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as partial:
        nbformat.write(notebook, str(partial))
    _scrub_notebook_file(target, root)
    return target


def _store_in_cache(name: str, notebook: Path, workdir: Path) -> None:
    copy_path = workdir / CACHE_DIR / f"{name}.ipynb"
    copy_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(copy_path) as partial:
        shutil.copyfile(notebook, partial)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stage_book(root: Path, site: Path, *, city: str = BOOK_CITY) -> None:
    """Copy the book's configuration and prose pages next to the executed notebooks; the book's title
    (``_config.yml``, the opening page) names ``city``, the run's (chapter 01's ``CITY``)."""
    site.mkdir(parents=True, exist_ok=True)
    for name in BOOK_FILES:
        shutil.copy2(root / name, site / name)
    copy_includes(root, site)
    for name in BOOK_DIRS:
        destination = site / name
        if destination.exists():
            shutil.rmtree(destination)
        if not (root / name).is_dir():
            continue  # a project without benchmarks/ builds its book all the same
        shutil.copytree(root / name, destination, ignore=shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__"))
    note = (f"\n```{{note}}\nThis copy of the book was built for **{city}** (chapter 01's `CITY`): its chapters clean, "
            f"model and map {city}'s check-ins. Where this page names {BOOK_CITY}, it describes the article's own city.\n```\n")
    for name in ("_config.yml", "book/intro.md"):
        if city != BOOK_CITY and (site / name).is_file():
            text = (site / name).read_text().replace(f"Check-ins in {BOOK_CITY}", f"Check-ins in {city}")
            (site / name).write_text(text.replace("\n", "\n" + note, 1) if name.endswith(".md") else text)


def copy_includes(root: Path, site: Path) -> None:
    """Copy the files the pages show with ``literalinclude`` (a page that includes a missing one fails strictly)."""
    for name in BOOK_INCLUDES:
        if (root / name).is_file():
            (site / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, site / name)


def build_html(site: Path, output: Path, *, strict: bool) -> Path:
    """Render the staged book with jupyter-book (execution is off in ``_config.yml``)."""
    executable = Path(sys.executable).with_name("jupyter-book")
    command = [str(executable), "build", str(site), "--path-output", str(output), "--builder", "html"]
    if strict:
        command += ["-W", "-n", "--keep-going"]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        log = f"{completed.stdout}\n{completed.stderr}"
        lines = [line.strip() for line in log.splitlines() if line.strip()]
        cause = next((line for line in lines if "ERROR" in line or "WARNING" in line), lines[-1] if lines else "no output")
        raise BuildError(
            f"jupyter-book build failed: {cause} (--verbose shows its log)",
            detail=f"{' '.join(command)}\n{completed.stdout[-6000:]}\n{completed.stderr[-6000:]}",
        )
    return output / "_build" / "html"


def run(profile: str = "full", *, chapters=None, book: bool = True, workdir=None, strict=None, root=None,
        force: bool = False, progress: bool = True, city=None) -> BuildResult:
    """Execute the chapters of a profile (those whose inputs changed) and optionally build the HTML book.

    ``chapters`` (names or number prefixes, e.g. ``["01"]``; default all of ``_toc.yml``) are always
    executed, as is every selected chapter with ``force``; ``workdir`` defaults to ``build/<profile>``;
    ``strict`` makes Sphinx warnings errors (default: on for ``test``); ``city`` is a preset
    (:data:`checkin_traj.geo.CITIES`) given to chapter 01 as ``CITY``.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    root = Path(root) if root else repo_root()
    workdir = check_workdir(Path(workdir).resolve() if workdir else root / "build" / profile)
    site = workdir / "site"
    all_chapters = toc_chapters(root)
    selected = all_chapters
    if chapters:
        for wanted in chapters:
            if not any(name == wanted or name.split("_")[0] == wanted for name in all_chapters):
                raise ValueError(f"unknown chapter {wanted!r}; the chapters are {all_chapters}")
        selected = [name for name in all_chapters if any(name == w or name.split("_")[0] == w for w in chapters)]
    forced = set(selected) if chapters or force else set()
    result = BuildResult(profile=profile, workdir=workdir)
    if profile == "full":
        print(f"[full] {FULL_PROFILE_NOTE}", flush=True)
    cache = read_cache(workdir)
    entries = cache["chapters"]
    versions, digests = environment_versions(), _Digests()

    from .chapter import read_parameters

    if city is not None:
        from .geo import city as city_preset

        city_preset(city)  # an unknown preset stops before anything runs, naming the presets

    def overrides(name):
        return {"CITY": city} if city is not None and "CITY" in read_parameters(name, root) else {}

    def key_and_reason(name):
        parameters = {**chapter_parameters(name, profile=profile, workdir=workdir, root=root), **overrides(name)}
        key = chapter_key(name, root=root, parameters=parameters, versions=versions)
        return key, _why_not_cached(name, key, entries.get(name), workdir, root, digests)

    build_started = time.perf_counter()
    for number, name in enumerate(selected, start=1):
        started = time.perf_counter()
        key, reason = key_and_reason(name)
        reason = "asked for" if name in forced else reason
        where = f"[{profile}] ({number}/{len(selected)}) {name}"
        if reason is None:
            try:
                result.notebooks[name] = _reuse_chapter(name, workdir=workdir, site=site, root=root)
            except _NotReusable as why:
                reason = str(why)
            else:
                result.cached.append(name)
                result.seconds[name] = time.perf_counter() - started
                print(
                    f"{where}: reused (inputs unchanged since {entries[name]['executed_at'][:19]} UTC, executed in "
                    f"{entries[name]['seconds']:.1f} s); prose re-rendered in {result.seconds[name]:.1f} s",
                    flush=True,
                )
                continue
        print(f"{where}: executing ({reason}) ...", flush=True)
        entries.pop(name, None)  # a failed run leaves no stale entry behind
        _write_json_atomically(workdir / CACHE_FILE, cache)
        before = _snapshot(workdir)
        result.notebooks[name], report = execute_chapter(
            name, profile=profile, workdir=workdir, site=site, root=root, overrides=overrides(name), progress=progress
        )
        result.seconds[name] = time.perf_counter() - started
        after = _snapshot(workdir)
        _store_in_cache(name, result.notebooks[name], workdir)
        written = sorted(path for path, state in after.items() if before.get(path) != state)
        entries[name] = {
            "key": key,
            "executed_at": _now(),
            "seconds": round(result.seconds[name], 3),
            "outputs": {path: digests(workdir / path) for path in written},
            "reads": {path: digests(path) for path in chapter_reads(report, workdir)} if report else None,
            "lookups": report.get("lookups", []),
        }
        _write_json_atomically(workdir / CACHE_FILE, cache)
        since = time.perf_counter() - build_started
        print(f"{where}: done in {result.seconds[name]:.1f} s ({since:.0f} s since the build began)", flush=True)
    if book:
        _stage_other_chapters(result, all_chapters, key_and_reason, root=root)
        started = time.perf_counter()
        print(f"[{profile}] jupyter-book build ...", flush=True)
        from .data.provenance import run_city

        try:
            city = run_city(workdir).name
        except FileNotFoundError:  # a book without chapter 01's data: its title stays as written
            city = BOOK_CITY
        stage_book(root, site, city=city)
        quality.stage_headline(workdir, site, profile=profile)
        output = root / "book" if profile == "full" else workdir
        result.html = build_html(site, output, strict=profile == "test" if strict is None else strict)
        result.seconds["jupyter-book build"] = time.perf_counter() - started
        print(f"[{profile}] jupyter-book build done in {result.seconds['jupyter-book build']:.1f} s", flush=True)
    _record_timings(workdir / "timings.json", {name: s for name, s in result.seconds.items() if name not in result.cached})
    return result


def _stage_other_chapters(result: BuildResult, chapters: list, key_and_reason, *, root: Path) -> None:
    """Put the build's own notebook of every chapter not selected into the book (replacing one that
    ``checkin-traj run`` left in ``site/``); :class:`BuildError` names a chapter whose inputs changed
    since, which would show another run's numbers than its neighbours."""
    workdir = result.workdir
    stale = []
    for name in chapters:
        if name in result.notebooks:
            continue
        reason = key_and_reason(name)[1]
        if reason is None:
            try:
                _reuse_chapter(name, workdir=workdir, site=workdir / "site", root=root)
            except _NotReusable as why:
                reason = str(why)
        if reason:
            stale.append(f"{name} ({reason})")
    if stale:
        raise BuildError(f"the book would mix runs: {'; '.join(stale)}; build those chapters too (--chapters) or all of them")


def _record_timings(path: Path, seconds: dict) -> None:
    """Update the latest seconds of each step in ``path`` (steps not run now keep theirs)."""
    try:
        recorded = json.loads(path.read_text()) if path.exists() else {}
    except json.JSONDecodeError:
        recorded = {}
    recorded.update(seconds)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_json_atomically(path, recorded)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a build, for ``checkin-traj build`` and ``python -m checkin_traj.build``."""
    parser.add_argument("--profile", choices=PROFILES, default="full",
                        help=f"the chapters' parameters (notebooks/parameters.yml); default: full, {PROFILE_TIMES['full']}")
    parser.add_argument("--chapters", nargs="+", help="chapter names or number prefixes (default: all); always executed")
    parser.add_argument("--no-book", action="store_true", help="execute the chapters only")
    parser.add_argument("--workdir", help="the run's folder (default build/<profile>)")
    cities = "new_york (the default), austin, san_francisco, chicago, stockholm"
    parser.add_argument("--city", help=f"a city preset for chapter 01's CITY: {cities}")
    parser.add_argument("--force", action="store_true", help="execute every selected chapter, even when its inputs are unchanged")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no per-cell progress bar")
    strictness = parser.add_mutually_exclusive_group()
    strictness.add_argument("--strict", dest="strict", action="store_true", default=None, help="warnings are errors")
    strictness.add_argument("--no-strict", dest="strict", action="store_false")


def main(argv=None) -> int:
    """``python -m checkin_traj.build ...``: the same as ``checkin-traj build ...``."""
    from .cli import main as command_line

    return command_line(["build", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
