"""Several tuning workers in their own processes, one killed mid-trial (shared by the storage tests).

A worker is ``python tests/tuning_workers.py SPEC_JSON``: it builds the tiny windows, waits
until every worker is ready, and runs the grid study. Its objective logs every call; on the
configuration ``hang_on`` the first worker to reach it writes a marker and hangs, so that
the test can SIGKILL it mid-trial; a later attempt trains normally (with chapter 07's own
objective when ``spec["objective"] == "real"``, else :func:`fake_trial`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def tiny_check_ins(n_users=20, per_user=40, seed=0):
    """Random walks around Manhattan, a check-in every 1 to 10 hours."""
    rng = np.random.default_rng(seed)
    user = np.repeat(np.arange(n_users), per_user)
    hours = np.cumsum(rng.uniform(1, 10, size=(n_users, per_user)), axis=1).ravel()
    steps = rng.normal(0, 0.005, size=(2, n_users, per_user)).cumsum(axis=2)
    return pd.DataFrame(
        {
            "user": user,
            "time": pd.Timestamp("2010-01-01", tz="UTC") + pd.to_timedelta(hours, unit="h"),
            "lat": 40.7 + steps[0].ravel(),
            "lon": -73.95 + steps[1].ravel(),
            "location_id": np.arange(len(user)),
        }
    )


def shift_of(config):
    return 0.01 + 0.1 * config["dropout"]


def fake_trial(config, data):
    """What chapter 07's objective returns, without training: validation predictions off by :func:`shift_of`."""
    from checkin_traj.metrics import evaluate

    scores = evaluate(data, data.val.y + shift_of(config), split="val")
    return scores["rmse"], scores, 1


def logged(log_path):
    """``(pid, config)`` of every objective call the workers logged, in order."""
    log_path = Path(log_path)
    lines = [line.split(" ", 1) for line in log_path.read_text().splitlines()] if log_path.exists() else []
    return [(int(pid), json.loads(key)) for pid, key in lines]


def start_worker(spec):
    environment = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}", "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), json.dumps(spec)],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_workers_one_killed(storage, tmp_path, *, grid, hang_on, n_workers=3, objective="fake", sleep_s=0.5, timeout_s=240):
    """Start ``n_workers`` on one study, SIGKILL the one that reaches ``hang_on``, let the rest finish.

    Returns
    -------
    dict
        ``killed`` (its pid), ``workers`` (every pid), ``calls`` (:func:`logged`).
    """
    log_path, barrier = tmp_path / "calls.log", tmp_path / "ready"
    spec = dict(
        storage=str(storage), log=str(log_path), barrier=str(barrier), n_workers=n_workers, sleep_s=sleep_s,
        hang_on=hang_on, objective=objective, grid=grid,
    )
    workers = [start_worker(spec) for _ in range(n_workers)]
    marker = Path(f"{log_path}.hung")
    deadline = time.monotonic() + timeout_s
    try:
        while not marker.exists():
            for worker in workers:
                if worker.poll() is not None:
                    raise AssertionError(f"a worker stopped early: {worker.stderr.read()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError("no worker reached the configuration to hang on")
            time.sleep(0.1)
        time.sleep(0.2)
        killed = int(marker.read_text())
        os.kill(killed, signal.SIGKILL)  # dies mid-trial: its trial stays RUNNING until its heartbeat is missed
        for worker in workers:
            remaining = max(1.0, deadline - time.monotonic())
            _, errors = worker.communicate(timeout=remaining)
            if worker.pid == killed:
                assert worker.returncode == -signal.SIGKILL
            else:
                assert worker.returncode == 0, errors[-3000:]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    return {"killed": killed, "workers": [worker.pid for worker in workers], "calls": logged(log_path)}


def _main(spec):
    from checkin_traj import tuning
    from checkin_traj.sequences import ARTICLE_FEATURES, build_windows

    data = build_windows(tiny_check_ins(), window=5).with_features(ARTICLE_FEATURES)  # as chapter 07 tunes
    log_path, marker = Path(spec["log"]), Path(spec["log"] + ".hung")
    hang_on = spec["hang_on"]

    def objective(config, data, **training):
        with open(log_path, "a") as log:
            log.write(f"{os.getpid()} {tuning.config_key(config)}\n")
        if config == hang_on:
            try:
                with open(marker, "x") as first:  # the first to get here hangs, later attempts train
                    first.write(str(os.getpid()))
            except FileExistsError:
                pass
            else:
                time.sleep(600)  # killed by the test
        time.sleep(float(spec["sleep_s"]))
        if spec["objective"] == "real":
            from checkin_traj.pages.tuning import objective as chapter_objective

            return chapter_objective(config, data, **training)
        return fake_trial(config, data)

    # start together: wait until every worker has imported everything
    Path(f"{spec['barrier']}.{os.getpid()}").touch()
    folder, stem = os.path.split(spec["barrier"])
    while len([name for name in os.listdir(folder) if name.startswith(stem + ".")]) < int(spec["n_workers"]):
        time.sleep(0.05)
    study = tuning.run_study(
        objective, data, study_name="shared", storage=spec["storage"], grid=spec["grid"],
        epochs=1, patience=0, batch_size=128, heartbeat_s=1, poll_s=0.2,
    )
    print(len(study.trials))


if __name__ == "__main__":
    _main(json.loads(sys.argv[1]))
