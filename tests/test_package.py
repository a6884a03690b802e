"""The package root: an eager list of the light public API, without TensorFlow."""

import subprocess
import sys
import types

import checkin_traj


def test_every_exported_name_is_a_public_object_of_a_submodule():
    assert len(checkin_traj.__all__) > 50
    for name in checkin_traj.__all__:
        value = getattr(checkin_traj, name)
        assert not isinstance(value, types.ModuleType), name
    assert checkin_traj.compare is checkin_traj.verdicts.compare
    assert checkin_traj.read_checkins is checkin_traj.data.snap.read_checkins


def test_heavy_modules_are_not_exported():
    for name in ("train_model", "run_seeds", "build_model", "run_study"):
        assert name not in checkin_traj.__all__


def test_importing_the_package_does_not_import_tensorflow_or_optuna():
    code = "import sys, checkin_traj; print(sorted(m for m in ('tensorflow', 'keras', 'optuna') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# ----------------------------------------------------------------- packaging (pyproject.toml)

import ast
import importlib
import importlib.metadata
import re
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from .conftest import REPO_ROOT

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
PACKAGE = REPO_ROOT / "src" / "checkin_traj"


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _declared(group: str | None = None) -> set[str]:
    """Distribution names of the base install (None) or of one extra, its own extras followed."""
    project = PYPROJECT["project"]
    pending = list(project["dependencies"] if group is None else project["optional-dependencies"][group])
    names, seen = set(), set()
    while pending:
        requirement = Requirement(pending.pop())
        if _name(requirement.name) == "checkin-traj":
            for extra in requirement.extras - seen:
                seen.add(extra)
                pending += project["optional-dependencies"][extra]
            continue
        names.add(_name(requirement.name))
    return names


def _imports(path: Path, *, module_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    if module_level_only:  # a try: import ... at module level is module level too
        nodes = [child for node in nodes for child in ast.walk(node) if not isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name != "checkin_traj"}


def _distributions(modules: set[str]) -> dict[str, str]:
    mapping = importlib.metadata.packages_distributions()
    missing = sorted(module for module in modules if module not in mapping)
    assert not missing, f"imported but not installed: {missing}"
    return {module: _name(mapping[module][0]) for module in modules}


def test_every_package_the_code_imports_is_declared_in_the_base_install_or_an_extra():
    declared = _declared() | set().union(*(_declared(extra) for extra in PYPROJECT["project"]["optional-dependencies"]))
    imported = set().union(*(_imports(path, module_level_only=False) for path in PACKAGE.rglob("*.py")))
    undeclared = {module: dist for module, dist in _distributions(imported).items() if dist not in declared}
    assert undeclared == {}, "declare these in pyproject.toml"


def test_the_light_api_needs_only_the_base_install():
    # Every module `import checkin_traj` loads imports, at module level, only base packages.
    code = "import sys, checkin_traj; print('\\n'.join(sorted(m for m in sys.modules if m.startswith('checkin_traj'))))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert "checkin_traj.cleaning" in loaded and "checkin_traj.data.snap" in loaded
    base = _declared()
    for module in loaded:
        spec = importlib.util.find_spec(module)
        needs = _distributions(_imports(Path(spec.origin), module_level_only=True))
        outside = {name: dist for name, dist in needs.items() if dist not in base}
        assert outside == {}, f"{module} imports packages outside the base install"
    for heavy in ("tensorflow-cpu", "keras", "optuna", "jupyter-book", "matplotlib"):
        assert heavy not in base, heavy


def test_extras_and_the_test_install():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {"models", "tuning", "book", "postgres", "test"} <= set(extras)
    assert {"tensorflow-cpu", "tensorflow", "keras"} <= _declared("models")
    assert {"optuna", "sqlalchemy"} <= _declared("tuning")
    assert {"jupyter-book", "jupytext", "papermill", "ipykernel", "sphinx-exercise", "pyyaml", "jupyterlab"} <= _declared("book")
    assert "psycopg2-binary" in _declared("postgres")
    # `make test` installs ".[test]": it must bring every extra the tests import.
    assert _declared("models") | _declared("tuning") | _declared("book") | _declared("postgres") <= _declared("test")
    assert {"pytest", "pytest-xdist", "hypothesis"} <= _declared("test")
    assert 'pip install --quiet -e ".[test]"' in (REPO_ROOT / "Makefile").read_text()


def test_license_is_mit_and_spdx():
    assert PYPROJECT["project"]["license"] == "MIT"
    text = (REPO_ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text


@pytest.mark.parametrize(
    "module, blocked",
    [("checkin_traj.pages.lstm", "keras"), ("checkin_traj.training", "keras")],
)
def test_a_missing_extra_says_which_extra_to_install(monkeypatch, module, blocked):
    monkeypatch.setitem(sys.modules, blocked, None)  # None in sys.modules: "import keras" raises
    monkeypatch.delitem(sys.modules, module, raising=False)
    with pytest.raises(ImportError) as raised:
        importlib.import_module(module)
    message = str(raised.value)
    assert module in message and "pip install 'checkin-traj[models]'" in message, message
    assert "keras" in message


def test_the_wheel_holds_data_md_and_the_license(tmp_path):
    import setuptools

    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip(
            f"setuptools {setuptools.__version__} cannot read the SPDX license field; "
            "pip install -e '.[test]' installs setuptools>=77"
        )
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(tmp_path), str(REPO_ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    (wheel,) = tmp_path.glob("checkin_traj-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "checkin_traj/data/DATA.md" in names
        assert "checkin_traj/_extras.py" in names
        metadata = archive.read(next(name for name in names if name.endswith(".dist-info/METADATA"))).decode()
        assert any(name.endswith("licenses/LICENSE") for name in names), names
    assert "License-Expression: MIT" in metadata
    assert "Provides-Extra: models" in metadata and "Provides-Extra: book" in metadata


def test_constraints_pin_versions_that_satisfy_the_declared_requirements():
    lines = [line.strip() for line in (REPO_ROOT / "constraints.txt").read_text().splitlines()]
    pins = {}
    for number, line in enumerate(lines, 1):
        if not line or line.startswith("#"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"constraints.txt, line {number}: not an exact pin: {line}"
        pins[_name(requirement.name)] = specifier.version
    assert "checkin-traj" not in pins  # the project itself is installed from the clone
    assert {"tensorflow-cpu", "keras", "numpy", "pandas", "optuna", "jupyter-book", "papermill"} <= set(pins)
    project = PYPROJECT["project"]
    declared = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    for text in declared:
        requirement = Requirement(text)
        name = _name(requirement.name)
        if name in pins and (requirement.marker is None or requirement.marker.evaluate()):
            assert requirement.specifier.contains(pins[name], prereleases=True), f"{text} vs constraints {pins[name]}"
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "pip install --quiet -c constraints.txt" in makefile
