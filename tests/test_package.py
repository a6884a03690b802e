"""The package root: every exported name resolves, and importing it stays cheap."""

import subprocess
import sys

import pytest

import checkin_traj


@pytest.mark.parametrize("name", [n for n in checkin_traj.__all__ if checkin_traj._NAME_TO_MODULE[n] not in ("models", "training", "tuning")])
def test_every_exported_name_resolves(name):
    assert getattr(checkin_traj, name) is not None


@pytest.mark.parametrize("name", [n for n in checkin_traj.__all__ if checkin_traj._NAME_TO_MODULE[n] in ("models", "training", "tuning")])
def test_every_exported_model_name_resolves(name):
    assert getattr(checkin_traj, name) is not None


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        checkin_traj.no_such_name


def test_importing_the_package_does_not_import_tensorflow():
    code = "import sys, checkin_traj; checkin_traj.clean; print('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
