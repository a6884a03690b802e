"""Chapter 01 (data and cleaning) executed on a small synthetic data set."""

import re

import nbformat
import pandas as pd
import pytest

from .conftest import REPO_ROOT
from .notebook_outputs import error_outputs, glued

CHAPTER = REPO_ROOT / "notebooks" / "01_data_cleaning.md"
STEPS = ("read", "duplicates", "speed", "stays", "box")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    import jupytext
    import papermill

    folder = tmp_path_factory.mktemp("chapter_01")
    workdir = folder / "work"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHECKIN_TRAJ_CACHE", str(folder / "cache"))  # the synthetic file, not the user's cache
        patch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        source = folder / "01_data_cleaning.ipynb"
        nbformat.write(jupytext.read(CHAPTER), source)
        output = folder / "01_data_cleaning.out.ipynb"
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters={"WORKDIR": str(workdir), "DATA": "synthetic", "SYNTHETIC_USERS": 60, "SEED": 3},
            cwd=str(REPO_ROOT),
            kernel_name="python3",
            progress_bar=False,
        )
    return output, workdir


@pytest.mark.slow
def test_chapter_runs_without_errors(executed):
    output, _ = executed
    assert error_outputs(output) == []


@pytest.mark.slow
def test_glued_cleaning_numbers_add_up(executed):
    output, _ = executed
    values = glued(output)
    removed = sum(values[f"removed_{step}"] for step in STEPS)
    assert values["rows_in"] - removed == values["rows_out"]
    assert values["rows_in"] == values["lines_total"]
    assert 0 < values["rows_out"] < values["rows_in"]  # the synthetic data has faults to remove
    assert values["removed_duplicates"] > 0 and values["removed_speed"] > 0 and values["removed_stays"] > 0
    assert 0 < values["users_out"] <= values["users_in"] <= 60
    assert values["kept_percent"] == pytest.approx(100.0 * values["rows_out"] / values["rows_in"])
    # the plain rule ran on a sample of SAMPLE_USERS (300) users: here every user, and the page
    # asserted that the compiled pass labels each of their check-ins the same way
    assert values["plain_sample_users"] == values["users_in"]
    assert values["plain_sample_check_ins"] == values["rows_read"]


@pytest.mark.slow
def test_clean_data_and_provenance_are_written(executed):
    output, workdir = executed
    values = glued(output)
    clean = pd.read_parquet(workdir / "data" / "clean.parquet")
    assert len(clean) == values["rows_out"]
    assert list(clean.columns) == ["user", "snap_user", "time", "lat", "lon", "location_id"]
    assert clean["user"].max() + 1 == values["users_out"]
    assert (workdir / "data" / "clean.csv").exists()
    from checkin_traj.data.provenance import read_provenance

    provenance = read_provenance(workdir)
    assert provenance["source"]["synthetic"] is True
    assert provenance["report"]["rows_out"] == values["rows_out"]
    assert provenance["parameters"]["max_speed_kmh"] == 500.0


@pytest.mark.slow
def test_every_number_cited_in_the_prose_is_glued(executed):
    output, _ = executed
    cited = set(re.findall(r"\{glue:(?:text|md)\}`([A-Za-z0-9_]+)", CHAPTER.read_text()))
    assert cited, "the chapter should cite glued numbers"
    assert cited <= set(glued(output)), f"not glued: {sorted(cited - set(glued(output)))}"


def test_parameters_cell_declares_every_profile_parameter(tmp_path):
    import jupytext
    import papermill
    import yaml

    notebook = tmp_path / "01_data_cleaning.ipynb"
    nbformat.write(jupytext.read(CHAPTER), notebook)
    declared = set(papermill.inspect_notebook(str(notebook)))
    assert {"WORKDIR", "DATA", "MAX_SPEED_KMH", "STAY_RADIUS_M", "MIN_STAY_MINUTES", "SEED"} <= declared
    profiles = yaml.safe_load((REPO_ROOT / "notebooks" / "parameters.yml").read_text())["01_data_cleaning"]
    for profile, parameters in profiles.items():
        assert set(parameters or {}) <= declared, profile


def test_the_cleaning_rule_is_written_on_the_page_and_exported_from_it():
    import sys

    import jupytext

    saved = [
        cell.source for cell in jupytext.read(CHAPTER).cells
        if cell.cell_type == "code" and cell.source.splitlines()[:1] == ["#@save"]
    ]
    assert any("def removal_reasons(" in source for source in saved)
    assert any("def label_removals_plain(" in source for source in saved)
    sys.path.insert(0, str(REPO_ROOT / "tools"))
    try:
        import export_pages
    finally:
        sys.path.pop(0)
    module = export_pages.PACKAGE / "data_cleaning.py"
    assert (REPO_ROOT / module).read_text() == export_pages.exported(REPO_ROOT)[module], "run tools/export_pages.py"


@pytest.mark.slow
def test_the_whole_book_builds_for_a_second_city(tmp_path):
    """`checkin-traj build --profile test --city stockholm`: synthetic users drawn in Stockholm's box, its
    time zone in the windows and in both saved models, its name in every chapter's banner and in the prose."""
    import json

    from checkin_traj import build
    from checkin_traj.data.provenance import run_city
    from checkin_traj.data.tables import read_table
    from checkin_traj.geo import CITIES
    from checkin_traj.results import load_results

    result = build.run("test", workdir=tmp_path, city="stockholm", root=REPO_ROOT, progress=False)
    stockholm = CITIES["stockholm"]
    assert run_city(tmp_path) == stockholm
    clean = read_table(tmp_path / "data" / "clean.parquet")
    assert stockholm.box.contains(clean["lat"], clean["lon"]).all() and len(clean) > 1000
    assert load_results(tmp_path, "protocol")["extra"]["timezone"] == "Europe/Stockholm"
    for saved in ("venue_ranker/predictor.json", "next_time/next_time.json"):
        assert json.loads((tmp_path / "models" / saved).read_text())["timezone"] == "Europe/Stockholm", saved
    assert set(result.notebooks) == set(build.toc_chapters(REPO_ROOT))
    for name in result.notebooks:
        if name != "01_data_cleaning":
            text = (tmp_path / "site" / "notebooks" / f"{name}.ipynb").read_text()
            assert "**City:** Stockholm (local time Europe/Stockholm)" in text, name
    page = (result.html / "notebooks" / "06_comparison.html").read_text()
    assert re.search(r"<title>.*Predicting Gowalla Check-ins in Stockholm</title>", page), re.search(r"<title>.*</title>", page)
    assert re.search(r"on the map of\s+(<[^>]+>\s*)*Stockholm", page) and "New York" not in page
    assert "This copy of the book was built for <strong>Stockholm</strong>" in (result.html / "book" / "intro.html").read_text()
