"""The model chapters share their skeleton through ``ModelChapter``, not through copied code.

:func:`shared_share` measures how much of chapters 03-05's code is the same: the share of
their non-blank code-cell lines that appear, identical once the model's name is replaced,
in at least one other of the three chapters. The lines the project's standard makes every
chapter write (the parameters cell's ``WORKDIR`` line and closing lines, the parameter
check and the data banner) are left out: no chapter can drop them. So are lines of
punctuation only (a closing bracket).
"""

import re

import jupytext

from .conftest import REPO_ROOT

#: Model chapter -> the model's names as its code may write them.
MODEL_CHAPTERS = {
    "03_lstm": ("lstm", "LSTM"),
    "04_seq2seq_attention": ("seq2seq", "Seq2Seq"),
    "05_transformer": ("transformer", "Transformer"),
}

#: Lines the standard asks of every chapter (CONTRIBUTING.md, "Chapters").
STANDARD_LINES = frozenset(
    {
        'WORKDIR = "build/full"  # folder for this run\'s data, results and figures',
        "from checkin_traj.chapter import check_parameters, declared_parameters  # noqa: E402",
        "PARAMETERS = declared_parameters(globals())",
        "# stop on a parameter this chapter does not have (papermill only warns)",
        "check_parameters(globals(), PARAMETERS)",
        "data_banner(WORKDIR)",
        "from checkin_traj.data.provenance import data_banner",
    }
)

#: Most of the three chapters' code that may be shared. The goal is a quarter; what is left
#: is the skeleton itself (ModelChapter's seven calls) and the training settings every
#: chapter declares, so the bound holds the level reached and stops it growing.
MAX_SHARED = 0.38


def code_lines(chapter, names):
    """The chapter's counted code lines, stripped, with the model's names replaced by ``MODEL``."""
    notebook = jupytext.read(REPO_ROOT / "notebooks" / f"{chapter}.md")
    pattern = re.compile("|".join(re.escape(name) for name in names), flags=re.IGNORECASE)
    lines = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            line = line.strip()
            if not line or line in STANDARD_LINES or re.fullmatch(r"[\W_]+", line):
                continue
            lines.append(pattern.sub("MODEL", line))
    return lines


def shared_share(chapters=MODEL_CHAPTERS):
    """``(shared, total, share)``: counted lines of the chapters that another of them also has."""
    lines = {chapter: code_lines(chapter, names) for chapter, names in chapters.items()}
    shared = total = 0
    for chapter, own in lines.items():
        others = set().union(*(set(lines[other]) for other in lines if other != chapter))
        total += len(own)
        shared += sum(line in others for line in own)
    return shared, total, shared / total


def test_the_measure_counts_copied_lines(tmp_path, monkeypatch):
    import tests.test_chapter_shape as shape

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    header = "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n---\n\n"
    (notebooks / "a.md").write_text(header + "```{code-cell} ipython3\nx = run('a')\ny = 1\n)\n```\n")
    (notebooks / "b.md").write_text(header + "```{code-cell} ipython3\nx = run('B')\nz = 2\n\ndata_banner(WORKDIR)\n```\n")
    monkeypatch.setattr(shape, "REPO_ROOT", tmp_path)
    # "x = run(MODEL)" is in both; ")" and the banner are not counted
    assert shape.shared_share({"a": ("a",), "b": ("b",)}) == (2, 4, 0.5)


def test_model_chapters_share_little_of_their_code():
    shared, total, share = shared_share()
    assert share < MAX_SHARED, f"{shared} of {total} code lines of chapters 03-05 are copies ({share:.0%})"


#: Glue names whose value is a Markdown list (``verdicts.glue_values``' ``*_verdict_md``, the
#: comparison's lists, chapter 05's findings).
LIST_GLUE = re.compile(r"(_verdict_md|_versus_md|_claims_md|_positions_md)$")


def test_lists_are_glued_with_the_directive_never_inline():
    """An inline ``{glue:md}`` cannot hold a list: it renders as one paragraph with literal "- "."""
    for path in sorted((REPO_ROOT / "notebooks").glob("0[1-6]_*.md")):  # 07 is helper "tuning"'s
        text = path.read_text()
        inline = [name for name in re.findall(r"\{glue:md\}`([a-z0-9_]+)`", text) if LIST_GLUE.search(name)]
        assert not inline, f"{path.name} cites the lists {inline} inline; use the ```{{glue:md}}``` directive with :format: myst"
        for name in re.findall(r"```\{glue:md\} ([a-z0-9_]+)\n(?!:format: myst)", text):
            raise AssertionError(f"{path.name}: the glue:md directive of {name} lacks ':format: myst'")
