"""Several tuning workers on a live PostgreSQL server, one killed mid-trial.

The test starts its own throwaway cluster (``initdb`` and ``pg_ctl`` in a temporary folder,
TCP on a free local port, trust authentication), so it needs the server binaries: Debian's
``postgresql`` package (``make system`` installs it). It is skipped only when they cannot be
found; a missing Python driver is a failure (``pip install 'checkin-traj[postgres]'``).
Initdb refuses to run as root, so as root the cluster runs as the user ``nobody``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from checkin_traj import tuning
from checkin_traj.sequences import ARTICLE_FEATURES, build_windows

from .tuning_workers import run_workers_one_killed, tiny_check_ins

INSTALL = "install the server with `make system` (Debian: apt-get install postgresql)"


def server_binaries():
    """The folder holding ``initdb`` and ``pg_ctl``: PATH, /usr/local/bin, then Debian's /usr/lib/postgresql/<ver>/bin."""
    folders = []
    found = shutil.which("initdb")
    if found:
        folders.append(Path(found).resolve().parent)
    folders.append(Path("/usr/local/bin"))
    folders += [Path(folder) for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in folders:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def _as_server_user():
    """The command prefix that runs the server as a non-root user, and that user's ids."""
    if os.geteuid() != 0:
        return [], None
    user = pwd.getpwnam("nobody")
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "nobody", "--"], user
    pytest.skip("running as root, initdb refuses root and runuser is missing to run it as 'nobody'")


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    binaries = server_binaries()
    if binaries is None:
        pytest.skip(f"PostgreSQL server binaries (initdb, pg_ctl) not found on PATH, /usr/local/bin or /usr/lib/postgresql/*/bin: {INSTALL}")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        pytest.fail("the PostgreSQL driver psycopg2 is missing: pip install 'checkin-traj[postgres]'")
    prefix, user = _as_server_user()
    folder = Path(tempfile.mkdtemp(prefix="checkin-traj-pg-", dir="/tmp"))
    if user is not None:
        os.chown(folder, user.pw_uid, user.pw_gid)
    data, log, port = folder / "data", folder / "server.log", _free_port()
    run = dict(check=True, capture_output=True, text=True, cwd=folder)
    try:
        subprocess.run([*prefix, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "tuner", "-N"], **run)
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", options, "start"], **run)
    except subprocess.CalledProcessError as error:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"the throwaway PostgreSQL cluster did not start: {error.stderr or error.stdout}")
    try:
        yield f"postgresql://tuner@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)


def test_workers_on_postgres_train_every_configuration_once_and_match_one_process(postgres_url, tmp_path):
    grid = {"num_hiddens": [4], "dropout": [0.0, 0.5], "num_layers": [2, 3], "activation": ["tanh"]}
    hang_on = {"num_hiddens": 4, "dropout": 0.5, "num_layers": 3, "activation": "tanh"}
    run = run_workers_one_killed(postgres_url, tmp_path, grid=grid, hang_on=hang_on, n_workers=3, objective="real", sleep_s=0.0)

    study = tuning.load_study(postgres_url, "shared")
    configurations = sorted(map(tuning.config_key, tuning.grid_configurations(grid)))
    complete = [trial for trial in study.trials if trial.state.name == "COMPLETE"]
    assert sorted(tuning.config_key(trial.params) for trial in complete) == configurations  # each exactly once
    assert [trial.state.name for trial in study.trials].count("FAIL") == 1  # the killed worker's trial
    attempts = [pid for pid, config in run["calls"] if config == hang_on]
    assert attempts[0] == run["killed"] and len(attempts) == 2 and attempts[1] != run["killed"]
    assert sorted(tuning.config_key(config) for _, config in run["calls"]) == sorted(configurations + [tuning.config_key(hang_on)])

    # one process, the same seeds, its own storage: the same validation scores
    from checkin_traj.pages.tuning import objective

    data = build_windows(tiny_check_ins(), window=5).with_features(ARTICLE_FEATURES)
    single = tuning.run_study(
        objective, data, study_name="single", storage=tmp_path / "single.journal", grid=grid, epochs=1, patience=0, batch_size=128
    )
    shared = tuning.trials_frame(study).set_index("label").sort_index()
    alone = tuning.trials_frame(single).set_index("label").sort_index()
    assert list(shared.index) == list(alone.index)
    assert shared["rmse"].to_numpy() == pytest.approx(alone["rmse"].to_numpy(), rel=1e-5)
    assert shared["r2"].to_numpy() == pytest.approx(alone["r2"].to_numpy(), rel=1e-5, abs=1e-6)


def test_an_unreachable_server_is_named_without_its_password():
    with pytest.raises(tuning.StorageError, match=r"tuning storage postgresql\+psycopg2://tuner:\*\*\*@127.0.0.1:1/none cannot be opened"):
        tuning.open_storage("postgresql://tuner:secret@127.0.0.1:1/none")
