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
