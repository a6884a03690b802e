"""Reading a chapter's parameters cell, and stopping on a parameter it does not have."""

import pytest

from checkin_traj.chapter import (
    ParameterTypeError,
    UnknownParameterError,
    check_parameters,
    declared_parameters,
    parse_value,
    prerequisites,
    read_parameters,
)

from .conftest import REPO_ROOT


def test_chapter_01_parameters_are_read_with_their_defaults_and_types():
    parameters = read_parameters("01", root=REPO_ROOT)
    assert parameters["MAX_SPEED_KMH"].default == 500.0 and parameters["MAX_SPEED_KMH"].type is float
    assert parameters["ON_BAD_LINES"].default == "error"
    assert "WORKDIR" in parameters


def test_a_misspelled_parameter_is_named_with_the_closest_declared_one():
    declared = read_parameters("01", root=REPO_ROOT)
    named = r"'MAX_SPEED' \(did you mean 'MAX_SPEED_KMH'\?\); its parameters are .*MAX_SKIPPED, MAX_SPEED_KMH,"
    with pytest.raises(UnknownParameterError, match=named):
        check_parameters({"MAX_SPEED": 100.0}, declared, chapter="01_data_cleaning")
    check_parameters({"MAX_SPEED_KMH": 100.0}, declared, chapter="01_data_cleaning")  # a declared one passes


def test_in_a_notebook_names_injected_after_the_parameters_cell_are_caught():
    namespace = {"EPOCHS": 15, "SEEDS": [0, 1]}
    declared = declared_parameters(namespace)
    namespace["EPOHCS"] = 2  # papermill's injected cell, misspelled
    with pytest.raises(UnknownParameterError, match="EPOHCS"):
        check_parameters(namespace, declared)


def test_command_line_text_becomes_the_default_type():
    parameters = read_parameters("01", root=REPO_ROOT)
    assert parse_value(parameters["MAX_SPEED_KMH"], "120") == 120.0
    with pytest.raises(ParameterTypeError, match="MAX_SPEED_KMH"):
        parse_value(parameters["MAX_SPEED_KMH"], "fast")


def test_a_model_chapter_on_an_empty_folder_needs_chapters_01_and_02(tmp_path):
    assert prerequisites("03", tmp_path, root=REPO_ROOT) == ["01_data_cleaning", "02_evaluation"]
    assert prerequisites("01", tmp_path, root=REPO_ROOT) == []


def test_the_record_of_declared_names_is_not_itself_an_unknown_parameter():
    namespace = {"EPOCHS": 15}
    namespace["PARAMETERS"] = declared_parameters(namespace)
    check_parameters(namespace, namespace["PARAMETERS"])  # passes: only PARAMETERS was added


def test_in_a_notebook_an_injected_value_of_the_wrong_type_is_named_or_converted():
    namespace = {"BOX_LAT_MIN": 40.4774, "EPOCHS": 15, "SEEDS": (0, 1, 2), "MAX_STAY": None}
    declared = declared_parameters(namespace)
    namespace.update(BOX_LAT_MIN="40.5", EPOCHS=3, SEEDS=[0, 1], MAX_STAY=30.0)  # papermill -r / -p / -y
    check_parameters(namespace, declared)
    assert namespace["BOX_LAT_MIN"] == 40.5 and isinstance(namespace["BOX_LAT_MIN"], float)
    assert namespace["SEEDS"] == (0, 1) and namespace["EPOCHS"] == 3
    namespace["BOX_LAT_MIN"] = "north"
    with pytest.raises(ParameterTypeError, match=r"BOX_LAT_MIN must be a number like its default 40.4774, got 'north'"):
        check_parameters(namespace, declared)
    namespace.update(BOX_LAT_MIN=None, EPOCHS=2.5)  # None is the chapter's to judge; 2.5 epochs is not
    with pytest.raises(ParameterTypeError, match="EPOCHS must be an integer"):
        check_parameters(namespace, declared)


def test_one_default_for_bad_lines_in_reader_command_line_chapter_01_and_readme():
    # issue 15: "skipping bad lines by default" had several defaults; there is one, said everywhere
    import inspect

    from checkin_traj.cli import make_parser
    from checkin_traj.data.snap import DEFAULT_MAX_SKIPPED, read_checkins, read_edges

    parameters = read_parameters("01", root=REPO_ROOT)
    clean_command = make_parser().parse_args(["clean", "in.txt", "out.csv"])
    for function in (read_checkins, read_edges):
        signature = inspect.signature(function).parameters
        assert signature["on_bad_lines"].default == "error"
        assert signature["max_skipped"].default == DEFAULT_MAX_SKIPPED
    assert parameters["ON_BAD_LINES"].default == clean_command.on_bad_lines == "error"
    assert parameters["MAX_SKIPPED"].default == clean_command.max_skipped == DEFAULT_MAX_SKIPPED
    readme = " ".join((REPO_ROOT / "README.md").read_text().split())
    assert "Bad lines stop the run (the default)" in readme
    assert f"`MAX_SKIPPED` (default {DEFAULT_MAX_SKIPPED:g})" in readme
    assert "Times are UTC: `Z`, `+00:00` or `+0000`" in readme
    chapter = " ".join((REPO_ROOT / "notebooks" / "01_data_cleaning.md").read_text().split())
    assert 'By default (`ON_BAD_LINES = "error"`) a malformed line stops the run' in chapter
    assert "the run still stops when more than `MAX_SKIPPED` of the lines are bad" in chapter


def test_checkin_traj_run_stops_on_a_misspelled_parameter_before_running(tmp_path, capsys, monkeypatch):
    # issue 15: '-p MAX_SPEED 100' ran the chapter with the default; now it stops, naming the parameters
    from checkin_traj.cli import main

    monkeypatch.chdir(REPO_ROOT)
    workdir = tmp_path / "run"
    assert main(["run", "01", "--workdir", str(workdir), "-p", "MAX_SPEED", "100", "--no-page"]) == 2
    error = capsys.readouterr().err
    assert "chapter 01_data_cleaning has no parameter 'MAX_SPEED' (did you mean 'MAX_SPEED_KMH'?)" in error
    assert "its parameters are BOX_LAT_MAX" in error and "WORKDIR" in error
    assert not (workdir / "data").exists()
    assert main(["run", "02", "--workdir", str(workdir), "-p", "WINDOW", "2.5", "--no-page"]) == 2
    assert "WINDOW must be an integer like its default 10, got '2.5'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "chapter, name, text, kind",
    [
        ("03", "SEEDS", "[0, 1.5]", "a list of integers"),
        ("03", "SEEDS", "[true, 1]", "a list of integers"),
        ("03", "SEEDS", "[a, b]", "a list of integers"),
        ("06", "MODELS", "[lstm, 3]", "a list of texts"),
        ("05", "POSITIONAL_ENCODINGS", "[1, 0]", "a list of true/false values"),
    ],
)
def test_a_list_parameter_holds_items_of_its_defaults_kind(chapter, name, text, kind):
    # issue 15 probe: -p SEEDS "[0, 1.5]" passed the parameter check and failed later, as 'seeds[...]'
    parameter = read_parameters(chapter, root=REPO_ROOT)[name]
    with pytest.raises(ParameterTypeError, match=rf"{name} must be {kind} like its default"):
        parse_value(parameter, text)
    namespace = {name: parameter.default}
    declared = declared_parameters(namespace)
    namespace[name] = _literal_list(text)  # papermill -y injects the list itself
    with pytest.raises(ParameterTypeError, match=rf"{name} must be {kind}"):
        check_parameters(namespace, declared)


def _literal_list(text):
    import yaml

    return yaml.safe_load(text)


def test_list_parameters_still_take_lists_of_their_kind():
    seeds = read_parameters("03", root=REPO_ROOT)["SEEDS"]
    assert parse_value(seeds, "[0, 1]") == (0, 1)
    assert parse_value(seeds, "[]") == ()  # emptiness is the chapter's to judge (run_seeds names it)
    assert parse_value(read_parameters("06", root=REPO_ROOT)["MODELS"], "[lstm]") == ("lstm",)


def test_every_chapter_checks_its_parameters_right_after_papermills_cell():
    # issue 15: papermill only warns on an unknown -p; each chapter must stop itself, in the cell after
    # its parameters cell (where papermill injects its own), before any work
    import jupytext

    from checkin_traj.chapter import chapter_names

    names = chapter_names(REPO_ROOT)
    assert len(names) >= 8
    for name in names:
        cells = [c for c in jupytext.read(REPO_ROOT / "notebooks" / f"{name}.md").cells if c.cell_type == "code"]
        index = next(i for i, cell in enumerate(cells) if "parameters" in cell.metadata.get("tags", []))
        assert cells[index].source.strip().endswith("PARAMETERS = declared_parameters(globals())"), name
        assert "check_parameters(globals(), PARAMETERS)" in cells[index + 1].source, name


def test_a_chapter_refuses_a_bad_value_however_it_is_run():
    """papermill or a workshop edit, not only `checkin-traj run -p`: the same rules by name (checks.CHAPTER_PARAMETERS)."""
    from checkin_traj.chapter import check_parameters, declared_parameters

    namespace = {"WORKDIR": "build/x", "MAX_SPEED_KMH": 500.0, "SEEDS": (0, 1)}
    declared = declared_parameters(namespace)
    check_parameters(namespace, declared)  # good values pass
    namespace["MAX_SPEED_KMH"] = -5.0
    with pytest.raises(ValueError, match="MAX_SPEED_KMH must be a positive number, got -5.0"):
        check_parameters(namespace, declared)
    namespace.update(MAX_SPEED_KMH=500.0, SEEDS=(0, -1))
    with pytest.raises(ValueError, match=r"SEEDS\[1\]"):
        check_parameters(namespace, declared)
