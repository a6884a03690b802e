"""Optuna searches on tiny windows with a fake trainer whose validation RMSE is known in advance.

The fake model predicts every target shifted by ``0.01 + 0.1 * dropout``, so its RMSE on
scaled targets is exactly that shift: the best configuration is the one with the lowest
dropout, and every score can be checked by hand.
"""

import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

from checkin_traj import tuning
from checkin_traj.sequences import build_windows

from .tuning_workers import FakeModel, run_workers_one_killed, shift_of, tiny_check_ins


@pytest.fixture(scope="module")
def data():
    return build_windows(tiny_check_ins(), window=5)


class FakeTrainer:
    """Records every training call and prediction; optionally raises on call number ``fail_on``."""

    def __init__(self, fail_on=None, error=KeyboardInterrupt):
        self.configs, self.log, self.kwargs, self.n_features = [], [], [], []
        self.fail_on, self.error = fail_on, error

    def __call__(self, name, data, *, hyperparameters, **kwargs):
        assert name == "seq2seq"
        self.configs.append(dict(hyperparameters))
        self.n_features.append(data.train.x.shape[2])
        self.kwargs.append(kwargs)
        if self.fail_on is not None and len(self.configs) == self.fail_on:
            raise self.error()
        return FakeModel(data, hyperparameters, self.log)


def small_grid(dropouts=(0.0, 0.5)):
    return {"num_hiddens": [8], "dropout": list(dropouts), "num_layers": [2], "activation": ["tanh"]}


def states(study):
    return sorted(trial.state.name for trial in study.trials)


# --------------------------------------------------------------------------- grids


def test_article_grid_holds_the_article_best_configuration():
    assert all(value in tuning.ARTICLE_GRID[name] for name, value in tuning.ARTICLE_BEST.items())
    assert len(tuning.grid_configurations(tuning.grid_space())) == 3**4
    assert tuning.ARTICLE_BEST in tuning.grid_configurations(tuning.ARTICLE_GRID)


@pytest.mark.parametrize("max_configs, expected", [(81, 81), (16, 16), (10, 8), (1, 1)])
def test_shrunk_grid_is_a_full_product_that_keeps_the_article_best(max_configs, expected):
    grid = tuning.grid_space(max_configs=max_configs)
    configs = tuning.grid_configurations(grid)
    assert len(configs) == expected
    assert tuning.ARTICLE_BEST in configs
    assert len({tuning.config_key(config) for config in configs}) == len(configs)


@pytest.mark.parametrize(
    "grid, message",
    [
        ({"num_hiddens": [8], "hidden_size": [4]}, "unknown hyperparameter"),
        ({"num_hiddens": []}, "empty"),
        ({"num_hiddens": [8, 8]}, "repeats"),
        ({"dropout": [0.2, 1.0]}, r"dropout.*\[0, 1\)"),
        ({"num_layers": [0]}, "num_layers"),
        ({"num_layers": [1, 2]}, r"num_layers.*article form: LSTM layers\) must be an integer >= 2, got 1"),
        ({"activation": ["swish"]}, "activation"),
        ({"window": [5]}, "taken from the data"),
        ({}, "non-empty dict"),
        ({"num_hiddens": 8}, "list of values"),
    ],
)
def test_bad_grids_are_rejected_naming_the_hyperparameter(grid, message):
    with pytest.raises(ValueError, match=message):
        tuning.grid_space(grid)


def test_bad_max_configs_is_rejected():
    with pytest.raises(ValueError, match="max_configs"):
        tuning.grid_space(max_configs=0)


# --------------------------------------------------------------------------- storage


@pytest.mark.parametrize(
    "storage, message",
    [
        ("ftp://host/tuning", "kind"),
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("journal://", "journal:///relative"),
        ("journal:///", "journal:///relative"),
        (42, "URL string or a path"),
    ],
)
def test_bad_storage_is_rejected(storage, message):
    with pytest.raises(ValueError, match=message):
        tuning.storage_url(storage)


def test_paths_journals_and_postgres_urls_are_told_apart_without_a_server(tmp_path):
    assert tuning.storage_url(tmp_path / "t.db") == f"sqlite:///{tmp_path / 't.db'}"
    assert tuning.storage_url(tmp_path / "t.journal") == f"journal:///{tmp_path / 't.journal'}"
    assert tuning.storage_kind(tmp_path / "t.log") == "journal"
    assert tuning.journal_path(f"journal:///{tmp_path}/a.journal") == tmp_path / "a.journal"
    assert tuning.journal_path("journal:///rel/a.journal") == Path("rel/a.journal")
    url = "postgresql://worker:secret@db.example:5432/tuning"
    # the driver is named (SQLAlchemy 2.1 would take psycopg 3 for a bare postgresql://); nothing connects yet
    assert tuning.storage_url(url) == url.replace("postgresql://", "postgresql+psycopg2://")
    assert tuning.storage_url("postgresql+psycopg2://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert tuning.storage_kind(url) == "postgresql"
    assert "secret" not in tuning.redact(url)


def test_default_storage_is_a_journal_file_in_the_results_folder(tmp_path):
    assert tuning.default_storage(tmp_path) == f"journal:///{tmp_path / 'results' / 'tuning.journal'}"
    assert tuning.storage_kind(tuning.default_storage(tmp_path)) == "journal"


def test_sqlite_serves_one_worker_only(tmp_path):
    assert tuning.check_workers(tmp_path / "t.db", 1) == 1
    with pytest.raises(ValueError, match="SQLite, which serves a single process.*journal"):
        tuning.check_workers(tmp_path / "t.db", 2)
    assert tuning.check_workers(tmp_path / "t.journal", 4) == 4
    assert tuning.check_workers("postgresql://u@h/db", 4) == 4
    with pytest.raises(ValueError, match="workers"):
        tuning.check_workers(tmp_path / "t.journal", 0)


def test_a_second_process_on_a_sqlite_file_in_use_is_refused(data, tmp_path):
    from checkin_traj.tuning.storage import exclusive_use

    database = tmp_path / "t.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import fcntl, sys, time
            lock = open({str(database) + ".lock"!r}, "a")
            fcntl.flock(lock, fcntl.LOCK_EX)
            print("locked", flush=True)
            time.sleep(60)
        """)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(tuning.StorageError, match=f"{database} is in use by another process"):
            tuning.run_study(data, study_name="g", storage=database, grid=small_grid(), trainer=FakeTrainer())
    finally:
        holder.kill()
        holder.wait()
    with exclusive_use(database):  # free again
        pass


def test_a_damaged_journal_is_named_with_its_line(data, tmp_path):
    journal = tmp_path / "t.journal"
    tuning.run_study(data, study_name="g", storage=journal, grid=small_grid(), trainer=FakeTrainer())
    lines = journal.read_bytes().splitlines(keepends=True)
    assert len(lines) > 3
    damaged = tmp_path / "damaged.journal"
    damaged.write_bytes(b"".join(lines[:2]) + b'{"op_code": 5, "trial_id"\n' + b"".join(lines[2:]))
    with pytest.raises(tuning.StorageError, match=f"tuning journal {damaged} is damaged: line 3 is not JSON"):
        tuning.open_storage(damaged)
    cut = tmp_path / "cut.journal"
    cut.write_bytes(b"".join(lines)[:-5])  # the last record without its end: a worker killed while writing
    with pytest.raises(tuning.StorageError, match=f"{cut} is damaged: line {len(lines)} is incomplete"):
        tuning.run_study(data, study_name="g", storage=cut, grid=small_grid(), trainer=FakeTrainer())
    foreign = tmp_path / "foreign.journal"
    foreign.write_text('{"hello": 1}\n')
    with pytest.raises(tuning.StorageError, match="line 1 is not an Optuna journal record"):
        tuning.open_storage(foreign)


def test_a_folder_given_as_the_journal_is_named_not_an_os_error(tmp_path):
    # issue 15 probe: --storage results/ raised a bare IsADirectoryError past the tune command's error line
    folder = tmp_path / "results"
    folder.mkdir()
    for storage in (folder, f"journal:///{folder}"):
        with pytest.raises(tuning.StorageError, match=f"tuning journal {folder} is a folder.*{folder / 'tuning.journal'}"):
            tuning.open_storage(storage)


def test_a_damaged_sqlite_database_is_named(tmp_path):
    database = tmp_path / "t.db"
    database.write_bytes(b"this is not a database" * 100)
    with pytest.raises(tuning.StorageError, match=f"tuning database {database} cannot be opened"):
        tuning.open_storage(database)


def test_load_study_names_the_studies_a_storage_holds(data, tmp_path):
    tuning.run_study(data, study_name="g", storage=tmp_path / "t.journal", grid=small_grid(), trainer=FakeTrainer())
    assert len(tuning.load_study(tmp_path / "t.journal", "g").trials) == 2
    with pytest.raises(ValueError, match=r"no study 'h'; it holds \['g'\]"):
        tuning.load_study(tmp_path / "t.journal", "h")


# --------------------------------------------------------------------------- running a grid


def test_grid_trains_exactly_its_configurations_and_scores_them_on_validation(data, tmp_path):
    trainer = FakeTrainer()
    grid = small_grid()
    study = tuning.run_study(
        data, study_name="g", storage=tmp_path / "t.journal", grid=grid, epochs=1, patience=0, seed=3, trainer=trainer
    )
    assert sorted(map(tuning.config_key, trainer.configs)) == sorted(map(tuning.config_key, tuning.grid_configurations(grid)))
    assert all(kwargs["epochs"] == 1 and kwargs["seed"] == 3 and kwargs["patience"] == 0 for kwargs in trainer.kwargs)
    assert set(trainer.log) == {("predict", "val")}  # the test split is never read
    frame = tuning.trials_frame(study)
    assert len(frame) == 2 and frame.attrs["split"] == "val"
    for _, row in frame.iterrows():
        assert row["rmse"] == pytest.approx(shift_of(row), rel=1e-5)
        assert row["r2"] < 1 and row["epochs_run"] == 1 and np.isfinite(row["km_mean"])
    assert all(kwargs["variant"] == "article" and kwargs["target_mode"] == "absolute" for kwargs in trainer.kwargs)
    assert tuning.best_configuration(study) == {"num_hiddens": 8, "dropout": 0.0, "num_layers": 2, "activation": "tanh"}


def test_a_repeated_run_trains_nothing(data, tmp_path):
    trainer = FakeTrainer()
    for _ in range(2):
        study = tuning.run_study(data, study_name="g", storage=tmp_path / "t.journal", grid=small_grid(), trainer=trainer)
    assert len(trainer.configs) == 2
    assert states(study) == ["COMPLETE", "COMPLETE"]


def test_resume_after_an_interruption_retrains_only_the_interrupted_and_missing_configs(data, tmp_path):
    grid = small_grid(dropouts=(0.0, 0.2, 0.5))
    interrupted = FakeTrainer(fail_on=2)  # Ctrl-C during the second trial
    with pytest.raises(KeyboardInterrupt):
        tuning.run_study(data, study_name="g", storage=tmp_path / "t.journal", grid=grid, trainer=interrupted)
    resumed = FakeTrainer()
    study = tuning.run_study(data, study_name="g", storage=tmp_path / "t.journal", grid=grid, trainer=resumed)
    assert sorted(config["dropout"] for config in resumed.configs) == [0.2, 0.5]
    assert interrupted.configs[0]["dropout"] == 0.0
    assert states(study) == ["COMPLETE", "COMPLETE", "COMPLETE", "FAIL"]
    assert sorted(tuning.trials_frame(study)["dropout"]) == [0.0, 0.2, 0.5]


def test_n_trials_caps_one_call_and_the_next_call_continues(data, tmp_path):
    trainer = FakeTrainer()
    grid = small_grid(dropouts=(0.0, 0.2, 0.5))
    tuning.run_study(data, study_name="g", storage=tmp_path / "t.journal", grid=grid, n_trials=1, trainer=trainer)
    assert len(trainer.configs) == 1
    study = tuning.run_study(data, study_name="g", storage=tmp_path / "t.journal", grid=grid, trainer=trainer)
    assert len(trainer.configs) == 3 and len({tuning.config_key(c) for c in trainer.configs}) == 3
    assert states(study) == ["COMPLETE"] * 3


def test_a_stored_study_with_other_settings_is_not_mixed_in(data, tmp_path):
    tuning.run_study(data, study_name="g", storage=tmp_path / "t.journal", grid=small_grid(), epochs=1, trainer=FakeTrainer())
    with pytest.raises(ValueError, match="epochs: stored 1, now 2"):
        tuning.run_study(data, study_name="g", storage=tmp_path / "t.journal", grid=small_grid(), epochs=2, trainer=FakeTrainer())
    other_data = build_windows(tiny_check_ins(seed=1), window=5)
    with pytest.raises(ValueError, match="data"):
        tuning.run_study(other_data, study_name="g", storage=tmp_path / "t.journal", grid=small_grid(), epochs=1, trainer=FakeTrainer())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(sampler="random"), "sampler"),
        (dict(epochs=0), "epochs"),
        (dict(patience=-1), "patience"),
        (dict(target_mode="delta"), "target_mode"),
        (dict(n_trials=-1), "n_trials"),
        (dict(study_name=""), "study_name"),
        (dict(storage="ftp://x/y"), "kind"),
        (dict(variant="paper"), "variant"),
        (dict(grid={"num_layers": [1]}), "article form"),
        (dict(sampler="tpe"), "n_trials is required"),
        (dict(grid={"dropout": [1.5]}), "dropout"),
        (dict(sampler="tpe", n_trials=2, space={"dropout": [0.1, 0.2]}), "FloatDistribution"),
        (dict(sampler="tpe", n_trials=2, space={"hidden": optuna.distributions.IntDistribution(1, 4)}), "unknown hyperparameter"),
    ],
)
def test_bad_parameters_are_rejected_before_any_training(data, tmp_path, kwargs, message):
    trainer = FakeTrainer()
    arguments = dict(study_name="g", storage=tmp_path / "t.journal", grid=small_grid(), trainer=trainer)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        tuning.run_study(data, **arguments)
    assert trainer.configs == []


# --------------------------------------------------------------------------- several processes


def test_workers_on_one_journal_file_finish_the_grid_once_each_even_when_one_is_killed(data, tmp_path):
    grid = {"num_hiddens": [8], "dropout": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5], "num_layers": [2], "activation": ["tanh"]}
    hang_on = {"num_hiddens": 8, "dropout": 0.5, "num_layers": 2, "activation": "tanh"}
    storage = f"journal:///{tmp_path / 'shared.journal'}"
    run = run_workers_one_killed(storage, tmp_path, grid=grid, hang_on=hang_on, n_workers=3)
    keys = [tuning.config_key(config) for _, config in run["calls"]]
    # every configuration trained once, but the killed one, tried twice: by the killed worker, then by another
    assert sorted(keys) == sorted([tuning.config_key(c) for c in tuning.grid_configurations(grid)] + [tuning.config_key(hang_on)])
    retried_by = [pid for pid, config in run["calls"] if config == hang_on]
    assert retried_by[0] == run["killed"] and retried_by[1] != run["killed"]
    assert len({pid for pid, _ in run["calls"]}) >= 2  # the work was shared
    study = tuning.load_study(storage, "shared")
    complete = [trial for trial in study.trials if trial.state.name == "COMPLETE"]
    assert sorted(tuning.config_key(trial.params) for trial in complete) == sorted(map(tuning.config_key, tuning.grid_configurations(grid)))
    assert [trial.state.name for trial in study.trials].count("FAIL") == 1  # the killed worker's trial
    assert all(trial.state.name in ("COMPLETE", "PRUNED", "FAIL") for trial in study.trials)
    # the same values as one process with the same seeds
    single = tuning.run_study(data, study_name="single", storage=tmp_path / "single.journal", grid=grid, trainer=FakeTrainer())
    both = tuning.trials_frame(study).set_index("label")["rmse"].sort_index()
    assert both.to_numpy() == pytest.approx(tuning.trials_frame(single).set_index("label")["rmse"].sort_index().to_numpy())
    # a run on the finished study trains nothing
    again = FakeTrainer()
    tuning.run_study(data, study_name="shared", storage=storage, grid=grid, trainer=again, epochs=1, patience=0, batch_size=128)
    assert again.configs == []


def test_a_trial_left_running_by_a_killed_worker_is_retried_once_its_heartbeat_stops(data, tmp_path):
    grid = {"num_hiddens": [8], "dropout": [0.0, 0.2, 0.5], "num_layers": [2], "activation": ["tanh"]}
    hang_on = {"num_hiddens": 8, "dropout": 0.5, "num_layers": 2, "activation": "tanh"}
    storage = tmp_path / "shared.journal"
    run = run_workers_one_killed(storage, tmp_path, grid=grid, hang_on=hang_on, n_workers=1, sleep_s=0.0)
    assert [config["dropout"] for _, config in run["calls"]] == [0.0, 0.2, 0.5]
    trainer = FakeTrainer()
    started = time.monotonic()
    study = tuning.run_study(
        data, study_name="shared", storage=storage, grid=grid, trainer=trainer, heartbeat_s=1, poll_s=0.2,
        epochs=1, patience=0, batch_size=128,
    )
    assert [config["dropout"] for config in trainer.configs] == [0.5]  # the completed ones are not re-run
    assert time.monotonic() - started < 60
    assert states(study) == ["COMPLETE", "COMPLETE", "COMPLETE", "FAIL"]


# --------------------------------------------------------------------------- a sampler beyond the grid


def test_tpe_study_reaches_n_completed_trials_and_resumes_to_a_larger_n(data, tmp_path):
    trainer = FakeTrainer()
    study = tuning.run_study(data, study_name="t", storage=tmp_path / "t.journal", sampler="tpe", n_trials=3, trainer=trainer)
    assert len(trainer.configs) == 3 and states(study) == ["COMPLETE"] * 3
    tuning.run_study(data, study_name="t", storage=tmp_path / "t.journal", sampler="tpe", n_trials=3, trainer=trainer)
    assert len(trainer.configs) == 3
    study = tuning.run_study(data, study_name="t", storage=tmp_path / "t.journal", sampler="tpe", n_trials=4, trainer=trainer)
    assert len(trainer.configs) == 4
    space = tuning.search_space()
    for config in trainer.configs:
        assert set(config) == set(space)
        assert 16 <= config["num_hiddens"] <= 128 and 2 <= config["num_layers"] <= 4 and 0.0 <= config["dropout"] <= 0.6
    frame = tuning.trials_frame(study)
    assert frame["rmse"].to_numpy() == pytest.approx([shift_of(c) for c in trainer.configs], rel=1e-5)


def test_tpe_counts_other_workers_running_trials_and_does_not_overshoot(data, tmp_path):
    storage = tmp_path / "t.journal"
    trainer = FakeTrainer()
    tuning.run_study(data, study_name="t", storage=storage, sampler="tpe", n_trials=1, trainer=trainer)
    with pytest.warns(UserWarning, match="Heartbeat"):  # optuna: heartbeats are meant for optimize, not ask
        other_worker = tuning.load_study(storage, "t").ask()  # a trial another worker is running
    tuning.run_study(data, study_name="t", storage=storage, sampler="tpe", n_trials=2, wait=False, trainer=trainer)
    assert len(trainer.configs) == 1  # one complete + one running make 2: nothing to add
    study = tuning.run_study(data, study_name="t", storage=storage, sampler="tpe", n_trials=3, wait=False, trainer=trainer)
    assert len(trainer.configs) == 2
    assert sorted(states(study)) == ["COMPLETE", "COMPLETE", "RUNNING"] and other_worker.number == 1


# --------------------------------------------------------------------------- reading a study


def test_importance_finds_the_only_hyperparameter_that_matters(data, tmp_path):
    grid = {"num_hiddens": [4, 8], "dropout": [0.0, 0.3], "num_layers": [2, 3], "activation": ["tanh"]}
    study = tuning.run_study(data, study_name="g", storage=tmp_path / "t.journal", grid=grid, trainer=FakeTrainer())
    importance = tuning.hyperparameter_importance(study)
    assert importance.attrs["method"] == "eta_squared"
    assert importance["dropout"] == pytest.approx(1.0)
    assert importance.drop("dropout").to_numpy() == pytest.approx(0.0, abs=1e-9)
    fanova = tuning.hyperparameter_importance(study, method="fanova")
    assert fanova.attrs["method"] == "fanova" and fanova.index[0] == "dropout"


def test_importance_needs_two_trials_and_best_needs_one(data, tmp_path):
    study = tuning.run_study(data, study_name="g", storage=tmp_path / "t.journal", grid=small_grid((0.2,)), trainer=FakeTrainer())
    with pytest.raises(ValueError, match="at least 2"):
        tuning.hyperparameter_importance(study)
    empty = tuning.run_study(data, study_name="e", storage=tmp_path / "t.journal", grid=small_grid(), n_trials=0, trainer=FakeTrainer())
    with pytest.raises(ValueError, match="no completed trial"):
        tuning.best_configuration(empty)


# --------------------------------------------------------------------------- the test split, once


@pytest.fixture
def fake_training(monkeypatch):
    """``checkin_traj.training.train_model`` replaced by the fake trainer: what ``run_seeds`` calls."""
    import checkin_traj.training

    trainer = FakeTrainer()

    def train_model(name, data, *, seed, hyperparameters=None, **kwargs):
        model = trainer(name, data, hyperparameters=hyperparameters, seed=seed, **kwargs)
        return model

    monkeypatch.setattr(checkin_traj.training, "train_model", train_model)
    return trainer


def test_score_on_test_goes_through_run_seeds_and_reads_test_once_per_seed(data, fake_training):
    config = {"num_hiddens": 8, "dropout": 0.2, "num_layers": 3, "activation": "tanh"}
    scored = tuning.score_on_test(data, config, seeds=(0, 1, 2), epochs=1)
    assert [kwargs["seed"] for kwargs in fake_training.kwargs] == [0, 1, 2]
    assert all(kwargs["variant"] == "article" and kwargs["target_mode"] == "absolute" for kwargs in fake_training.kwargs)
    assert fake_training.log.count(("predict", "test")) == 3
    assert list(scored.metrics.index) == [0, 1, 2] and scored.split == "test"
    summary = scored.summary()
    assert summary.loc["rmse", "mean"] == pytest.approx(shift_of(config), rel=1e-5)
    assert summary.loc["val_rmse", "mean"] == pytest.approx(shift_of(config), rel=1e-5)
    assert summary.loc["rmse", "std"] == pytest.approx(0.0, abs=1e-7)
    assert summary.loc["rmse", "n_seeds"] == 3
    assert scored.predictions[1].shape == data.test.y.shape


def test_the_article_form_reads_the_article_features(data, fake_training, tmp_path):
    from checkin_traj.models import VARIANT_FEATURES

    tuning.run_study(data, study_name="g", storage=tmp_path / "t.journal", grid=small_grid(), trainer=fake_training)
    tuning.score_on_test(data, {"dropout": 0.2}, seeds=(0,), epochs=1)
    article = len(VARIANT_FEATURES["article"])
    assert article == 3 and data.train.x.shape[2] > article
    assert fake_training.n_features == [article] * 3  # two trials, one seed on test
    assert tuning.model_data(data).train.x.shape[2] == article
    assert tuning.model_data(data, "book") is data


@pytest.mark.parametrize(
    "config, seeds, message",
    [
        ({}, (0,), "config"),
        ({"num_hiddens": 8, "units": 3}, (0,), "unknown hyperparameter"),
        ({"num_layers": 1}, (0,), "article form"),
        ({"num_hiddens": 8}, (), "seeds"),
        ({"num_hiddens": 8}, (0, 0), "distinct"),
        ({"num_hiddens": 8}, (-1,), "seeds"),
    ],
)
def test_score_on_test_rejects_bad_inputs(data, fake_training, config, seeds, message):
    with pytest.raises(ValueError, match=message):
        tuning.score_on_test(data, config, seeds=seeds)
    assert fake_training.configs == []


# --------------------------------------------------------------------------- with real training


def test_a_real_two_config_grid_trains_seq2seq_for_one_epoch(data, tmp_path):
    grid = {"num_hiddens": [4], "dropout": [0.0], "num_layers": [2, 3], "activation": ["tanh"]}
    study = tuning.run_study(
        data, study_name="real", storage=tmp_path / "t.journal", grid=grid, epochs=1, patience=0, batch_size=128
    )
    frame = tuning.trials_frame(study)
    assert sorted(frame["num_layers"]) == [2, 3]
    assert np.isfinite(frame["rmse"]).all() and (frame["epochs_run"] == 1).all()
    assert (frame["rmse"] > 0).all()


# --------------------------------------------------------------------------- figures


def hand_made_trials():
    rows = [
        dict(num_hiddens=h, dropout=d, num_layers=layers, rmse=0.1 + 0.01 * h / 32 + d + 0.001 * layers, r2=0.5 - d)
        for h, d, layers in itertools.product([32, 64], [0.0, 0.5], [1, 3])
    ]
    frame = pd.DataFrame(rows)
    frame["label"] = [tuning.config_label(row, names=["num_hiddens", "dropout", "num_layers"]) for row in rows]
    frame.attrs["hyperparameters"] = ["num_hiddens", "dropout", "num_layers"]
    return frame


def test_heatmap_table_takes_the_min_or_mean_over_the_other_hyperparameters():
    from checkin_traj.plots.tuning import heatmap_table

    trials = hand_made_trials()
    best = heatmap_table(trials, x="num_hiddens", y="dropout", aggregate="min")
    assert best.loc[0.0, 32] == pytest.approx(0.1 + 0.01 + 0.001)  # one layer is better
    mean = heatmap_table(trials, x="num_hiddens", y="dropout", aggregate="mean")
    assert mean.loc[0.5, 64] == pytest.approx(0.1 + 0.02 + 0.5 + 0.002)
    assert heatmap_table(trials, x="num_hiddens", y="dropout", metric="r2").loc[0.5, 32] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="aggregate"):
        heatmap_table(trials, aggregate="median")
    with pytest.raises(ValueError, match="no column"):
        heatmap_table(trials, x="activation")


def test_figures_draw_one_panel_per_pair_and_one_bar_per_configuration():
    import matplotlib

    matplotlib.use("Agg")
    from checkin_traj.plots import tuning as plots

    trials = hand_made_trials()
    figure = plots.rmse_heatmaps(trials)
    panels = [ax for ax in figure.axes if ax.get_visible() and ax.collections]  # seaborn: a QuadMesh per heatmap
    assert len(panels) == 3 * 2  # three heatmaps, each with its colour bar
    heatmap = next(ax for ax in panels if ax.get_xlabel() == "num_hiddens" and ax.get_ylabel() == "dropout")
    assert [text.get_text() for text in heatmap.texts] == ["0.111", "0.121", "0.611", "0.621"]  # min over layers
    outline = [patch for patch in heatmap.patches if patch.get_edgecolor()[:3] == (1.0, 0.0, 0.0)]
    assert len(outline) == 1 and outline[0].get_xy() == (0, 0)  # the best cell: 32 units, no dropout
    figure = plots.config_bars(trials, metric="r2", highlight={trials["label"][0]: "tab:red"})
    assert len(figure.axes[0].patches) == len(trials)
    importance = pd.Series({"dropout": 0.9, "num_hiddens": 0.1})
    importance.attrs["method"] = "fanova"
    assert "fANOVA" in plots.importance_bars(importance).axes[0].get_xlabel()
    one_varying = trials[(trials["num_hiddens"] == 32) & (trials["num_layers"] == 1)]
    panels = [ax for ax in plots.rmse_heatmaps(one_varying).axes if ax.get_visible() and ax.get_xlabel()]
    assert len(panels) == 1 and np.size(panels[0].collections[0].get_array()) == 2
    table = pd.DataFrame({"rmse_mean": [0.07, 0.08], "rmse_std": [0.001, np.nan]}, index=["best", "baseline"])
    assert len(plots.comparison_bars(table).axes[0].patches) == 2


# --------------------------------------------------------------------------- checkin-traj tune


def test_tune_refuses_several_workers_on_sqlite_and_a_folder_without_the_data(tmp_path, capsys):
    from checkin_traj.cli import main

    assert main(["tune", "--workdir", str(tmp_path), "--storage", f"sqlite:///{tmp_path / 't.db'}", "--workers", "2"]) == 2
    assert "SQLite, which serves a single process" in capsys.readouterr().err
    assert main(["tune", "--workdir", str(tmp_path / "empty"), "--profile", "test"]) == 2
    error = capsys.readouterr().err
    assert "lacks what chapters 01 and 02 write" in error and "checkin-traj build --chapters 01 02" in error


def test_the_workers_studies_are_the_chapters(tmp_path):
    from checkin_traj.tuning.cli import chapter_parameters, studies

    parameters = chapter_parameters(tmp_path, profile="test", overrides={"STUDY_NAME": "nyc"})
    found = studies(parameters)
    assert list(found) == ["nyc-grid", "nyc-tpe"]
    assert found["nyc-grid"]["grid"] == parameters["GRID"] and found["nyc-grid"]["epochs"] == parameters["EPOCHS"]
    assert found["nyc-tpe"]["n_trials"] == parameters["N_TPE_TRIALS"] and found["nyc-tpe"]["seed"] == parameters["SEEDS"][0]
    assert studies({**parameters, "GRID": None, "N_TPE_TRIALS": 0}) == {
        "nyc-grid": {**found["nyc-grid"], "grid": tuning.ARTICLE_GRID}
    }
