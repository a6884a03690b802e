"""A chapter's parameters and inputs, read from its MyST text: one place for the CLI and the notebooks.

Every chapter (``notebooks/NN_slug.md``) has one code cell tagged ``parameters`` holding
upper-case assignments whose defaults are the full run (``MAX_SPEED_KMH = 500.0  # km/h: ...``).
:func:`read_parameters` parses that cell with :mod:`ast` into :class:`Parameter` records;
:func:`parse_value` turns a command-line string into a value of the default's type;
:func:`check_parameters` stops on a parameter the chapter does not have; :func:`prerequisites`
names the chapters to run first. In a notebook::

    # last line of the parameters cell
    PARAMETERS = declared_parameters(globals())

    # the next cell (papermill injects its cell between the two)
    check_parameters(globals(), PARAMETERS)
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from pathlib import Path

__all__ = ["Parameter", "ChapterError", "UnknownParameterError", "ParameterTypeError", "chapter_path", "chapter_names",
           "read_parameters", "parse_value", "declared_parameters", "check_parameters", "ChapterIO", "chapter_io",
           "prerequisites"]


class ChapterError(ValueError):
    """A chapter or a chapter's parameter that does not exist, or a value of the wrong type."""


class UnknownParameterError(ChapterError):
    """A parameter given to a chapter that its ``parameters`` cell does not declare."""


class ParameterTypeError(ChapterError, TypeError):
    """A parameter's value that is not of its default's type."""


@dataclass(frozen=True)
class Parameter:
    """One assignment of a chapter's ``parameters`` cell: the upper-case ``name`` (``"MAX_SPEED_KMH"``), the literal's
    value ``default`` (the full run), its ``type`` (``float``, ``int``, ``str``, ``bool``, ``tuple``, ``list``, ``dict`` or
    ``NoneType``) and the ``comment`` after the assignment (units, what ``None`` means)."""

    name: str
    default: object
    type: type
    comment: str = ""

    @property
    def accepts_none(self) -> bool:
        """``None`` is a valid value: the default is ``None`` or the comment says what it means."""
        return self.default is None or "None" in self.comment


def _root(root=None) -> Path:
    if root is not None:
        return Path(root)
    from .build import repo_root

    return repo_root()


def chapter_names(root=None) -> list[str]:
    """The chapters of ``_toc.yml``, in book order (``01_data_cleaning``, ...)."""
    from .build import toc_chapters

    return toc_chapters(_root(root))


def chapter_path(chapter, root=None) -> Path:
    """The MyST file of a chapter given by name (``01_data_cleaning``), number (``01``) or path."""
    candidate = Path(str(chapter))
    if candidate.suffix == ".md" and candidate.exists():
        return candidate
    root = _root(root)
    names = sorted(path.stem for path in (root / "notebooks").glob("[0-9][0-9]_*.md"))
    matches = [name for name in names if name == str(chapter) or name.split("_")[0] == str(chapter)]
    if len(matches) != 1:
        raise ChapterError(f"unknown chapter {chapter!r}; the chapters are {names}")
    return root / "notebooks" / f"{matches[0]}.md"


def _code_cells(path: Path) -> list:
    try:
        import jupytext
    except ImportError:  # pragma: no cover - jupytext is in the book extra
        raise ImportError("reading a chapter needs jupytext: pip install 'checkin-traj[book]'") from None
    notebook = jupytext.read(path)
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _parameters_source(path: Path) -> str:
    cells = [cell for cell in _code_cells(path) if "parameters" in cell.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ChapterError(f"{path}: expected one code cell tagged 'parameters', found {len(cells)}")
    return cells[0].source


def read_parameters(chapter, root=None) -> dict[str, Parameter]:
    """The parameters of a chapter's ``parameters`` cell, in cell order.

    ``chapter``: name, number prefix or path of its MyST file; ``root``: the project root (found from the current
    folder by default). Returns dict of str to Parameter: only upper-case names assigned a literal; a line such as
    ``PARAMETERS = declared_parameters(globals())`` is not a parameter.

    Raises ``ValueError``: no or several ``parameters`` cells, or a parameter whose default is not a
    literal (file and line named).
    """
    path = chapter_path(chapter, root)
    source = _parameters_source(path)
    lines = source.splitlines()
    parameters = {}
    for node in ast.parse(source, filename=str(path)).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        if not name.isupper() or isinstance(node.value, ast.Call):
            continue
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            raise ChapterError(
                f"{path}, parameters cell line {node.lineno}: {name} must be a literal (a number, string, "
                f"tuple, list, dict or None), got {ast.unparse(node.value)!r}"
            ) from None
        comment = ""
        for line in lines[node.lineno - 1 : node.end_lineno][::-1]:
            if "#" in line:
                comment = line.split("#", 1)[1].strip()
                break
        parameters[name] = Parameter(name=name, default=default, type=type(default), comment=comment)
    return parameters


def _unknown_message(unknown, declared, chapter) -> str:
    where = f"chapter {chapter}" if chapter else "this chapter"
    parts = []
    for name in sorted(unknown):
        close = difflib.get_close_matches(name, declared, n=1)
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return (f"{where} has no parameter {', '.join(parts)}; its parameters are {', '.join(sorted(declared))}")


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        pass
    import yaml  # "[0, 1]" and "{a: [1, 2]}" as on papermill's -y/-p

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_value(parameter: Parameter, text):
    """A value for ``parameter`` from the command line's text, of the default's type.

    ``"100"`` for a float parameter is ``100.0``; tuples and lists are written as Python
    or YAML lists (``"[0, 1]"``, ``"(0, 1)"``); ``"None"`` only where :attr:`Parameter.accepts_none`.

    Raises ``ParameterTypeError``: the text is not a value of the parameter's type (name, default and
    text named).
    """
    value = _literal(text) if isinstance(text, str) and parameter.type is not str else text
    if value is None or value == "None":
        if parameter.accepts_none:
            return None
        raise ParameterTypeError(f"{parameter.name} cannot be None (its default is {parameter.default!r})")
    expected = parameter.type
    problem = None
    if expected is bool:
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if not isinstance(value, bool):
            problem = "true or false"
    elif expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problem = "an integer"
    elif expected is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problem = "a number"
        else:
            value = float(value)
    elif expected in (tuple, list):
        if isinstance(value, (list, tuple)):
            value, problem = _items_of_kind(parameter.default, value)
            value = expected(value)
        else:
            problem = "a list such as [0, 1]"
    elif expected is dict:
        if not isinstance(value, dict):
            problem = "a mapping such as {key: [1, 2]}"
    elif expected is type(None):
        pass  # a None default takes any literal; the chapter checks it
    elif not isinstance(value, expected):
        problem = expected.__name__
    if problem:
        raise ParameterTypeError(f"{parameter.name} must be {problem} like its default {parameter.default!r}, got {text!r}")
    return value


_ITEM_KINDS = {bool: "true/false values", int: "integers", float: "numbers", str: "texts"}


def _items_of_kind(default, value):
    """(items, problem): a list's items checked against its default's, when those are all of one kind.

    ``SEEDS = (0, 1, 2)`` takes integers only (never ``True`` or ``1.5``); a float list takes
    integers too, as floats. A default that is empty, mixed or of other items checks nothing.
    """
    kinds = {type(item) for item in default}
    if len(kinds) != 1 or next(iter(kinds)) not in _ITEM_KINDS:
        return list(value), None
    kind = next(iter(kinds))
    items = []
    for item in value:
        if kind is float and isinstance(item, int) and not isinstance(item, bool):
            item = float(item)
        if type(item) is not kind:
            return list(value), f"a list of {_ITEM_KINDS[kind]}"
        items.append(item)
    return items, None


def declared_parameters(namespace) -> MappingProxyType:
    """The upper-case names of ``namespace`` now, with their values: call it on the parameters cell's last line.

    ``PARAMETERS = declared_parameters(globals())`` records the names the chapter declares
    (with the upper-case names its set-up cell imported) and their defaults, before papermill
    injects its cell; :func:`check_parameters` then checks the injected values against them.
    """
    return MappingProxyType({name: Parameter(name=name, default=value, type=type(value))
                             for name, value in namespace.items() if name.isupper() and not name.startswith("_")})


def check_parameters(namespace_or_given, declared=None, *, chapter=None) -> None:
    """Stop on a parameter the chapter does not declare, naming the ones it has.

    ``namespace_or_given``: a notebook's ``globals()`` after papermill's injected cell, or the parameters about to be
    given (``{"MAX_SPEED": 100}``); ``declared``: the declared names (``PARAMETERS`` from :func:`declared_parameters`),
    read from the ``parameters`` cell of ``chapter`` (also named in the message) when omitted.

    Raises ``UnknownParameterError`` (an undeclared upper-case name) or ``ParameterTypeError`` (a value
    not of its :class:`Parameter`'s type); text that reads as a value of that type (``"40.5"``,
    papermill's ``-r``) is converted in ``namespace_or_given``.
    """
    if declared is None:
        if chapter is None:
            raise TypeError("check_parameters needs declared names or a chapter")
        declared = read_parameters(chapter)
    parameters = declared if isinstance(declared, Mapping) else {}
    declared = set(declared) | {"PARAMETERS"}  # the record of the declared names itself
    unknown = {name for name in declared_parameters(namespace_or_given) if name not in declared}
    if unknown:
        shown = declared - {"PARAMETERS"}
        if chapter is None:
            shown = {name for name in shown if isinstance(namespace_or_given.get(name), (int, float, str, tuple, list, dict, type(None)))}
        raise UnknownParameterError(_unknown_message(unknown, sorted(shown), chapter))
    for name, parameter in parameters.items():
        value = namespace_or_given.get(name)
        if value is None or not isinstance(parameter, Parameter):
            continue  # None is the chapter's to judge ("off", "all"); its own checks name it
        converted = parse_value(parameter, value)  # "40.5" from papermill's -r becomes 40.5, "fast" stops
        if converted is not value:
            namespace_or_given[name] = converted
    from .checks import check_chapter_parameter

    for name in sorted(declared - {"PARAMETERS"}):  # the values too, by the rules `checkin-traj run -p` applies
        if name in namespace_or_given:
            check_chapter_parameter(name, namespace_or_given[name])


@dataclass(frozen=True)
class ChapterIO:
    """What a chapter reads from and writes to ``WORKDIR`` (result names; ``"clean"`` for the data)."""

    reads: tuple
    writes: tuple


#: Functions that save or load results, and the results they name: a tuple of fixed names,
#: or None for the name given as the call's second argument (``save_runs(WORKDIR, "lstm", ...)``).
_WRITERS = {"save_clean": ("clean",), "save_results": None, "save_runs": None}
# load_protocol: chapter 02's windows and baselines (checkin_traj.report)
_READERS = {"load_clean": ("clean",), "load_results": None, "load_protocol": ("clean", "protocol", "baselines")}
_MODEL_READERS = ("comparison_table", "loss_histories")


def chapter_io(chapter, root=None, *, parameters=None) -> ChapterIO:
    """The saved results a chapter loads and saves, read from its code cells with :mod:`ast`.

    ``parameters`` (name -> value) replaces defaults used as result names (``MODELS``).
    """
    path = chapter_path(chapter, root)
    values = {name: parameter.default for name, parameter in read_parameters(path).items()}
    values.update(parameters or {})
    reads, writes = [], []
    for cell in _code_cells(path):
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue  # a cell with IPython magics holds no results calls
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            function = node.func.id
            named = [arg.value for arg in node.args[1:2] if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
            if function in _WRITERS:
                writes += list(_WRITERS[function] or named)
            elif function in _READERS:
                reads += list(_READERS[function] or named)
            elif function in _MODEL_READERS:
                for keyword in node.keywords:
                    if keyword.arg == "models" and isinstance(keyword.value, ast.Name):
                        reads += list(values.get(keyword.value.id) or ())
    return ChapterIO(reads=tuple(dict.fromkeys(reads)), writes=tuple(dict.fromkeys(writes)))


def _saved(workdir: Path, name: str) -> bool:
    if name == "clean":
        from .data.provenance import CLEAN_PARQUET, data_dir

        return (data_dir(workdir) / CLEAN_PARQUET).exists()
    from .results import results_dir

    return (results_dir(workdir) / f"{name}.json").exists()


def prerequisites(chapter, workdir, root=None, *, parameters=None) -> list[str]:
    """The earlier chapters to run first because ``workdir`` lacks a result ``chapter`` loads.

    Each missing result is made by the last earlier chapter that saves it; the chapters
    those need are added first. Returns chapter names in book order (empty: ready to run).

    Raises ``ValueError``: A result no earlier chapter saves.
    """
    root = _root(root)
    target = chapter_path(chapter, root).stem
    names = chapter_names(root)
    earlier = names[: names.index(target)] if target in names else [n for n in names if n < target]
    writers = {}
    for name in earlier:
        for result in chapter_io(name, root).writes:
            writers[result] = name
    needed: set[str] = set()

    def visit(name, reads):
        for result in reads:
            if _saved(Path(workdir), result):
                continue
            if result not in writers:
                raise ChapterError(f"chapter {name} loads {result!r}, which no chapter before {target} saves")
            writer = writers[result]
            if writer not in needed:
                needed.add(writer)
                visit(writer, chapter_io(writer, root).reads)

    visit(target, chapter_io(target, root, parameters=parameters).reads)
    return [name for name in names if name in needed]
