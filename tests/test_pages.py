"""The chapters show the code that does their work, in one copy.

- the modules under ``src/checkin_traj/pages/`` are exactly what ``tools/export_pages.py``
  makes from the chapters' ``#@save`` cells (edit a chapter, then ``make pages``);
- every model chapter defines its builders on the page, and no chapter leans on a
  chapter-state class;
- a model cell edited in a chapter changes what the chapter runs: chapter 03 with the
  book's LSTM layers replaced by GRU layers prints GRU layers and saves a GRU network.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import zipfile

import jupytext
import pytest

from .conftest import REPO_ROOT

_spec = importlib.util.spec_from_file_location("export_pages", REPO_ROOT / "tools" / "export_pages.py")
export_pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export_pages)

#: Model chapter -> the builders its page defines (a ``def`` in a code cell marked ``#@save``).
BUILDERS = {
    "01_data_cleaning": ("removal_reasons",),
    "03_lstm": ("build_lstm_model", "build_lstm", "fit", "train_model", "train_seeds"),
    "04_seq2seq_attention": ("build_seq2seq_model", "build_seq2seq"),
    "05_transformer": ("positional_encoding", "encoder_block", "build_transformer"),
    "07_tuning": ("build_tunable_seq2seq", "objective"),
    "08_next_venue": ("build_ranker", "train_ranker"),
}


def test_generated_modules_are_what_the_chapters_export():
    for path, text in export_pages.exported(REPO_ROOT).items():
        assert (REPO_ROOT / path).read_text() == text, f"{path} differs from its chapter: run make pages"
    on_disk = {path.relative_to(REPO_ROOT) for path in (REPO_ROOT / export_pages.PACKAGE).glob("*.py")}
    assert on_disk == set(export_pages.exported(REPO_ROOT)), "a module under pages/ no chapter exports"


def test_the_exporter_sees_an_edit(tmp_path):
    """A changed #@save cell changes the generated module (the check above can fail)."""
    (tmp_path / "notebooks").mkdir()
    text = (REPO_ROOT / "notebooks" / "03_lstm.md").read_text()
    (tmp_path / "notebooks" / "03_lstm.md").write_text(text.replace("layers.LSTM(num_hiddens", "layers.GRU(num_hiddens"))
    module = export_pages.exported(tmp_path)[export_pages.PACKAGE / "lstm.py"]
    assert "layers.GRU(num_hiddens" in module and module != (REPO_ROOT / export_pages.PACKAGE / "lstm.py").read_text()


@pytest.mark.parametrize("chapter", sorted(BUILDERS))
def test_model_chapters_define_their_builders_on_the_page(chapter):
    saved = "\n".join(export_pages.saved_cells(REPO_ROOT / "notebooks" / f"{chapter}.md"))
    defined = set(re.findall(r"^def (\w+)\(", saved, flags=re.M))
    assert set(BUILDERS[chapter]) <= defined
    notebook = jupytext.read(REPO_ROOT / "notebooks" / f"{chapter}.md")
    for cell in notebook.cells:  # the cells that define the models are shown, not removed or folded
        if cell.cell_type == "code" and cell.source.startswith("#@save"):
            assert not {"remove-cell", "remove-input", "hide-input", "hide-cell"} & set(cell.metadata.get("tags", []))


def test_no_chapter_imports_a_chapter_state_class():
    for chapter in sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.md")):
        assert not re.search(r"\b\w+Chapter\b|\bJudge\b", chapter.read_text()), chapter.name
    package = REPO_ROOT / "src" / "checkin_traj"
    for module in package.rglob("*.py"):
        assert not re.search(r"^class \w*(Chapter|Judge)\b", module.read_text(), flags=re.M), module


@pytest.mark.slow
def test_a_gru_edited_into_chapter_03_is_what_the_chapter_trains(tmp_path):
    """Replace the book's LSTM layers by GRU layers in chapter 03, execute it: GRU in its summary and saved model."""
    from checkin_traj import build

    from .chapter_workdirs import hopping_clean, prepare_workdir
    from .notebook_outputs import error_outputs

    root = tmp_path / "book"
    shutil.copytree(REPO_ROOT / "notebooks", root / "notebooks")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(REPO_ROOT / name, root / name)
    page = root / "notebooks" / "03_lstm.md"
    text = page.read_text()
    book_lstm = text[text.index("def build_lstm(window"):text.index("return model", text.index("def build_lstm(window"))]
    assert book_lstm.count("layers.LSTM(") == 2
    page.write_text(text.replace(book_lstm, book_lstm.replace("layers.LSTM(", "layers.GRU(")))
    workdir = tmp_path / "run"
    prepare_workdir(workdir, hopping_clean(), source_path="tests/test_pages.py")
    result = build.run("test", chapters=["03_lstm"], book=False, workdir=workdir, root=root, progress=False)
    notebook = json.loads(result.notebooks["03_lstm"].read_text())
    assert error_outputs(result.notebooks["03_lstm"]) == []
    printed = "".join(
        "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))
        for cell in notebook["cells"] if cell["cell_type"] == "code" and "book_model.summary()" in "".join(cell["source"])
        for output in cell.get("outputs", [])
    )
    assert "GRU" in printed and "LSTM" not in printed
    with zipfile.ZipFile(workdir / "results" / "lstm_offset.keras") as saved:
        config = json.loads(saved.read("config.json"))
    classes = [layer["class_name"] for layer in config["config"]["layers"]]
    assert classes.count("GRU") == 2 and "LSTM" not in classes


def test_file_numbers_follow_the_table_of_contents():
    """The book reads its chapters in the order of their file numbers, so "chapter 07" is the seventh."""
    import yaml

    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text())
    files = [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]
    numbered = [file.split("/")[-1] for file in files if file.startswith("notebooks/")]
    assert numbered == sorted(numbered) and len(numbered) == len(list((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.md")))


def test_the_hand_written_package_stays_small():
    # issue 22: at most 11,000 hand-written lines in src (the generated pages/ counted apart)
    package = REPO_ROOT / "src" / "checkin_traj"
    lines = sum(len(path.read_text().splitlines()) for path in package.rglob("*.py") if "pages" not in path.relative_to(package).parts)
    assert lines <= 11_000, f"src/checkin_traj holds {lines} hand-written lines (at most 11,000)"
