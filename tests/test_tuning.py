"""Optuna searches on tiny windows with a fake objective whose validation RMSE is known in advance.

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
from checkin_traj.sequences import ARTICLE_FEATURES, build_windows

from .tuning_workers import fake_trial, run_workers_one_killed, shift_of, tiny_check_ins


@pytest.fixture(scope="module")
def data():
    """Tiny windows with the article's three features, as chapter 07 tunes on."""
    return build_windows(tiny_check_ins(), window=5).with_features(ARTICLE_FEATURES)


def chapter_objective():
    """Chapter 07's objective, from its page (imports Keras)."""
    from checkin_traj.pages.tuning import objective

    return objective


def search_space():
    """Chapter 07's sampler space, from its page."""
    from checkin_traj.pages.tuning import SEARCH_SPACE

    return SEARCH_SPACE


class FakeObjective:
    """Records every call (configuration, data, training settings); optionally raises on call number ``fail_on``."""

    def __init__(self, fail_on=None, error=KeyboardInterrupt):
        self.configs, self.kwargs, self.n_features = [], [], []
        self.fail_on, self.error = fail_on, error

    def __call__(self, config, data, *, seed, epochs, batch_size, patience):
        self.configs.append(dict(config))
        self.n_features.append(data.train.x.shape[2])
        self.kwargs.append(dict(seed=seed, epochs=epochs, batch_size=batch_size, patience=patience))
        if self.fail_on is not None and len(self.configs) == self.fail_on:
            raise self.error()
        return fake_trial(config, data)


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
        ({"input_size": [5]}, "taken from the data"),
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
            tuning.run_study(FakeObjective(), data, study_name="g", storage=database, grid=small_grid())
    finally:
        holder.kill()
        holder.wait()
    with exclusive_use(database):  # free again
        pass


def test_a_damaged_journal_is_named_with_its_line(data, tmp_path):
    journal = tmp_path / "t.journal"
    tuning.run_study(FakeObjective(), data, study_name="g", storage=journal, grid=small_grid())
    lines = journal.read_bytes().splitlines(keepends=True)
    assert len(lines) > 3
    damaged = tmp_path / "damaged.journal"
    damaged.write_bytes(b"".join(lines[:2]) + b'{"op_code": 5, "trial_id"\n' + b"".join(lines[2:]))
    with pytest.raises(tuning.StorageError, match=f"tuning journal {damaged} is damaged: line 3 is not JSON"):
        tuning.open_storage(damaged)
    cut = tmp_path / "cut.journal"
    cut.write_bytes(b"".join(lines)[:-5])  # the last record without its end: a worker killed while writing
    with pytest.raises(tuning.StorageError, match=f"{cut} is damaged: line {len(lines)} is incomplete"):
        tuning.run_study(FakeObjective(), data, study_name="g", storage=cut, grid=small_grid())
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
    tuning.run_study(FakeObjective(), data, study_name="g", storage=tmp_path / "t.journal", grid=small_grid())
    assert len(tuning.load_study(tmp_path / "t.journal", "g").trials) == 2
    with pytest.raises(ValueError, match=r"no study 'h'; it holds \['g'\]"):
        tuning.load_study(tmp_path / "t.journal", "h")


# --------------------------------------------------------------------------- running a grid


def test_grid_trains_exactly_its_configurations_and_scores_them_on_validation(data, tmp_path):
    objective = FakeObjective()
    grid = small_grid()
    study = tuning.run_study(
        objective, data, study_name="g", storage=tmp_path / "t.journal", grid=grid, epochs=1, patience=0, seed=3
    )
    assert sorted(map(tuning.config_key, objective.configs)) == sorted(map(tuning.config_key, tuning.grid_configurations(grid)))
    assert all(kwargs["epochs"] == 1 and kwargs["seed"] == 3 and kwargs["patience"] == 0 for kwargs in objective.kwargs)
    frame = tuning.trials_frame(study)
    assert len(frame) == 2 and frame.attrs["split"] == "val"
    for _, row in frame.iterrows():
        assert row["rmse"] == pytest.approx(shift_of(row), rel=1e-5)
        assert row["r2"] < 1 and row["epochs_run"] == 1 and np.isfinite(row["km_mean"])
    assert objective.n_features == [3, 3]  # the windows as given: the chapter passes the article's features
    assert tuning.best_configuration(study) == {"num_hiddens": 8, "dropout": 0.0, "num_layers": 2, "activation": "tanh"}


def test_a_repeated_run_trains_nothing(data, tmp_path):
    objective = FakeObjective()
    for _ in range(2):
        study = tuning.run_study(objective, data, study_name="g", storage=tmp_path / "t.journal", grid=small_grid())
    assert len(objective.configs) == 2
    assert states(study) == ["COMPLETE", "COMPLETE"]


def test_resume_after_an_interruption_retrains_only_the_interrupted_and_missing_configs(data, tmp_path):
    grid = small_grid(dropouts=(0.0, 0.2, 0.5))
    interrupted = FakeObjective(fail_on=2)  # Ctrl-C during the second trial
    with pytest.raises(KeyboardInterrupt):
        tuning.run_study(interrupted, data, study_name="g", storage=tmp_path / "t.journal", grid=grid)
    resumed = FakeObjective()
    study = tuning.run_study(resumed, data, study_name="g", storage=tmp_path / "t.journal", grid=grid)
    assert sorted(config["dropout"] for config in resumed.configs) == [0.2, 0.5]
    assert interrupted.configs[0]["dropout"] == 0.0
    assert states(study) == ["COMPLETE", "COMPLETE", "COMPLETE", "FAIL"]
    assert sorted(tuning.trials_frame(study)["dropout"]) == [0.0, 0.2, 0.5]


def test_n_trials_caps_one_call_and_the_next_call_continues(data, tmp_path):
    objective = FakeObjective()
    grid = small_grid(dropouts=(0.0, 0.2, 0.5))
    tuning.run_study(objective, data, study_name="g", storage=tmp_path / "t.journal", grid=grid, n_trials=1)
    assert len(objective.configs) == 1
    study = tuning.run_study(objective, data, study_name="g", storage=tmp_path / "t.journal", grid=grid)
    assert len(objective.configs) == 3 and len({tuning.config_key(c) for c in objective.configs}) == 3
    assert states(study) == ["COMPLETE"] * 3


def test_a_stored_study_with_other_settings_is_not_mixed_in(data, tmp_path):
    tuning.run_study(FakeObjective(), data, study_name="g", storage=tmp_path / "t.journal", grid=small_grid(), epochs=1)
    with pytest.raises(ValueError, match="epochs: stored 1, now 2"):
        tuning.run_study(FakeObjective(), data, study_name="g", storage=tmp_path / "t.journal", grid=small_grid(), epochs=2)
    other_data = build_windows(tiny_check_ins(seed=1), window=5)
    with pytest.raises(ValueError, match="data"):
        tuning.run_study(FakeObjective(), other_data, study_name="g", storage=tmp_path / "t.journal", grid=small_grid(), epochs=1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(sampler="random"), "sampler"),
        (dict(epochs=0), "epochs"),
        (dict(patience=-1), "patience"),
        (dict(n_trials=-1), "n_trials"),
        (dict(study_name=""), "study_name"),
        (dict(storage="ftp://x/y"), "kind"),
        (dict(grid={"num_layers": [1]}), "article form"),
        (dict(sampler="tpe"), "n_trials is required"),
        (dict(sampler="tpe", n_trials=2), "space is required"),
        (dict(grid={"dropout": [1.5]}), "dropout"),
        (dict(sampler="tpe", n_trials=2, space={"dropout": [0.1, 0.2]}), "FloatDistribution"),
        (dict(sampler="tpe", n_trials=2, space={"hidden": optuna.distributions.IntDistribution(1, 4)}), "unknown hyperparameter"),
    ],
)
def test_bad_parameters_are_rejected_before_any_training(data, tmp_path, kwargs, message):
    objective = FakeObjective()
    arguments = dict(study_name="g", storage=tmp_path / "t.journal", grid=small_grid())
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        tuning.run_study(objective, data, **arguments)
    assert objective.configs == []


def test_an_objective_that_is_not_a_function_is_refused(data, tmp_path):
    with pytest.raises(ValueError, match="objective must be the function a trial runs"):
        tuning.run_study(None, data, study_name="g", storage=tmp_path / "t.journal", grid=small_grid())


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
    single = tuning.run_study(FakeObjective(), data, study_name="single", storage=tmp_path / "single.journal", grid=grid)
    both = tuning.trials_frame(study).set_index("label")["rmse"].sort_index()
    assert both.to_numpy() == pytest.approx(tuning.trials_frame(single).set_index("label")["rmse"].sort_index().to_numpy())
    # a run on the finished study trains nothing
    again = FakeObjective()
    tuning.run_study(again, data, study_name="shared", storage=storage, grid=grid, epochs=1, patience=0, batch_size=128)
    assert again.configs == []


def test_a_trial_left_running_by_a_killed_worker_is_retried_once_its_heartbeat_stops(data, tmp_path):
    grid = {"num_hiddens": [8], "dropout": [0.0, 0.2, 0.5], "num_layers": [2], "activation": ["tanh"]}
    hang_on = {"num_hiddens": 8, "dropout": 0.5, "num_layers": 2, "activation": "tanh"}
    storage = tmp_path / "shared.journal"
    run = run_workers_one_killed(storage, tmp_path, grid=grid, hang_on=hang_on, n_workers=1, sleep_s=0.0)
    assert [config["dropout"] for _, config in run["calls"]] == [0.0, 0.2, 0.5]
    objective = FakeObjective()
    started = time.monotonic()
    study = tuning.run_study(
        objective, data, study_name="shared", storage=storage, grid=grid, heartbeat_s=1, poll_s=0.2,
        epochs=1, patience=0, batch_size=128,
    )
    assert [config["dropout"] for config in objective.configs] == [0.5]  # the completed ones are not re-run
    assert time.monotonic() - started < 60
    assert states(study) == ["COMPLETE", "COMPLETE", "COMPLETE", "FAIL"]


# --------------------------------------------------------------------------- a sampler beyond the grid


def test_tpe_study_reaches_n_completed_trials_and_resumes_to_a_larger_n(data, tmp_path):
    objective, journal, space = FakeObjective(), tmp_path / "t.journal", search_space()
    study = tuning.run_study(objective, data, study_name="t", storage=journal, sampler="tpe", space=space, n_trials=3)
    assert len(objective.configs) == 3 and states(study) == ["COMPLETE"] * 3
    tuning.run_study(objective, data, study_name="t", storage=journal, sampler="tpe", space=space, n_trials=3)
    assert len(objective.configs) == 3
    study = tuning.run_study(objective, data, study_name="t", storage=journal, sampler="tpe", space=space, n_trials=4)
    assert len(objective.configs) == 4
    for config in objective.configs:
        assert set(config) == set(space)
        assert 16 <= config["num_hiddens"] <= 128 and 2 <= config["num_layers"] <= 4 and 0.0 <= config["dropout"] <= 0.6
    frame = tuning.trials_frame(study)
    assert frame["rmse"].to_numpy() == pytest.approx([shift_of(c) for c in objective.configs], rel=1e-5)


def test_tpe_counts_other_workers_running_trials_and_does_not_overshoot(data, tmp_path):
    storage, space = tmp_path / "t.journal", search_space()
    objective = FakeObjective()
    tuning.run_study(objective, data, study_name="t", storage=storage, sampler="tpe", space=space, n_trials=1)
    with pytest.warns(UserWarning, match="Heartbeat"):  # optuna: heartbeats are meant for optimize, not ask
        other_worker = tuning.load_study(storage, "t").ask()  # a trial another worker is running
    tuning.run_study(objective, data, study_name="t", storage=storage, sampler="tpe", space=space, n_trials=2, wait=False)
    assert len(objective.configs) == 1  # one complete + one running make 2: nothing to add
    study = tuning.run_study(objective, data, study_name="t", storage=storage, sampler="tpe", space=space, n_trials=3, wait=False)
    assert len(objective.configs) == 2
    assert sorted(states(study)) == ["COMPLETE", "COMPLETE", "RUNNING"] and other_worker.number == 1


# --------------------------------------------------------------------------- reading a study


def test_importance_finds_the_only_hyperparameter_that_matters(data, tmp_path):
    grid = {"num_hiddens": [4, 8], "dropout": [0.0, 0.3], "num_layers": [2, 3], "activation": ["tanh"]}
    study = tuning.run_study(FakeObjective(), data, study_name="g", storage=tmp_path / "t.journal", grid=grid)
    importance = tuning.hyperparameter_importance(study)
    assert importance.attrs["method"] == "eta_squared"
    assert importance["dropout"] == pytest.approx(1.0)
    assert importance.drop("dropout").to_numpy() == pytest.approx(0.0, abs=1e-9)
    fanova = tuning.hyperparameter_importance(study, method="fanova")
    assert fanova.attrs["method"] == "fanova" and fanova.index[0] == "dropout"


def test_importance_needs_two_trials_and_best_needs_one(data, tmp_path):
    study = tuning.run_study(FakeObjective(), data, study_name="g", storage=tmp_path / "t.journal", grid=small_grid((0.2,)))
    with pytest.raises(ValueError, match="at least 2"):
        tuning.hyperparameter_importance(study)
    empty = tuning.run_study(FakeObjective(), data, study_name="e", storage=tmp_path / "t.journal", grid=small_grid(), n_trials=0)
    with pytest.raises(ValueError, match="no completed trial"):
        tuning.best_configuration(empty)


# --------------------------------------------------------------------------- the page: builder and objective


def test_the_tunable_seq2seq_is_the_articles_at_its_defaults_and_counts_every_lstm_layer():
    import keras
    from keras import layers

    from checkin_traj.pages.seq2seq_attention import build_seq2seq_model
    from checkin_traj.pages.tuning import build_tunable_seq2seq

    keras.utils.set_random_seed(3)
    article = build_seq2seq_model(input_size=3, hidden_dim=16, drop_rate=0.2)
    keras.utils.set_random_seed(3)
    tunable = build_tunable_seq2seq(input_size=3, num_hiddens=16, dropout=0.2)
    assert [layer.__class__ for layer in article.layers] == [layer.__class__ for layer in tunable.layers]
    assert all(np.array_equal(a, b) for a, b in zip(article.get_weights(), tunable.get_weights(), strict=True))
    for num_layers in (2, 3, 4):
        model = build_tunable_seq2seq(num_hiddens=4, num_layers=num_layers, activation="sigmoid")
        lstms = [layer for layer in model.layers if isinstance(layer, layers.LSTM)]
        assert len(lstms) == num_layers and all(layer.activation.__name__ == "sigmoid" for layer in lstms)
    # a grid or a space may name exactly the builder's keywords, its input size excepted
    assert tuning.hyperparameter_names() == ("num_hiddens", "dropout", "num_layers", "activation", "learning_rate")
    assert set(search_space()) <= set(tuning.hyperparameter_names())


def test_the_objective_trains_with_chapter_03s_train_model_and_reads_only_validation(data, monkeypatch):
    import checkin_traj.pages.tuning as page

    calls, splits = [], []

    class Trained:
        epochs_run = 2

        def predict(self, split):
            splits.append(split)
            return getattr(data, split).y + 0.01

    def train_model(build, data, **training):
        calls.append((build, training))
        return Trained()

    monkeypatch.setattr(page, "train_model", train_model)
    config = {"num_hiddens": 4, "dropout": 0.5, "num_layers": 3, "activation": "tanh"}
    value, scores, epochs_run = page.objective(config, data, seed=7, epochs=3, batch_size=32, patience=1)
    ((build, training),) = calls
    assert training == dict(target_mode="absolute", seed=7, epochs=3, batch_size=32, patience=1, verbose=0)
    assert build.func is page.build_tunable_seq2seq and build.keywords == {"input_size": 3, **config}
    assert splits == ["val"]  # the test windows are never read
    assert value == scores["rmse"] == pytest.approx(0.01, rel=1e-5) and epochs_run == 2


# --------------------------------------------------------------------------- with real training


def test_a_real_two_config_grid_trains_the_pages_seq2seq_for_one_epoch(data, tmp_path):
    grid = {"num_hiddens": [4], "dropout": [0.0], "num_layers": [2, 3], "activation": ["tanh"]}
    study = tuning.run_study(
        chapter_objective(), data, study_name="real", storage=tmp_path / "t.journal", grid=grid, epochs=1, patience=0,
        batch_size=128,
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
    heatmap = next(ax for ax in panels if ax.get_xlabel() == "hidden units" and ax.get_ylabel() == "dropout")
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
    assert found["nyc-tpe"]["space"] is search_space()  # the page's, as in the chapter
    assert studies({**parameters, "GRID": None, "N_TPE_TRIALS": 0}) == {
        "nyc-grid": {**found["nyc-grid"], "grid": tuning.ARTICLE_GRID}
    }


# --------------------------------------------------------------------------- tables for the reader


def test_tables_have_headers_in_words_and_no_nan(data, tmp_path):
    study = tuning.run_study(FakeObjective(), data, study_name="g", storage=tmp_path / "t.journal", grid=small_grid((0.0, 0.2, 0.5)))
    trials = tuning.trials_frame(study)
    table = tuning.trials_table(trials, top=2).data
    assert list(table.columns[:4]) == ["hidden units", "dropout", "LSTM layers", "cell activation"]
    assert "RMSE, validation" in table.columns and len(table) == 2
    assert list(table["dropout"]) == ["0", "0.2"]  # best first
    assert tuning.trials_table(trials.iloc[:0]).data.empty
    grids = tuning.grid_table({"grid": {"num_hiddens": [8, 16], "dropout": [0.0]}, "best": {"num_hiddens": 8, "activation": "tanh"}})
    assert grids.loc["hidden units", "grid"] == "8, 16" and grids.loc["cell activation", "grid"] == "–"
    assert grids.loc["dropout", "best"] == "–" and not grids.isna().any().any()


def test_the_test_table_shows_mean_and_spread_in_words_and_a_dash_for_a_missing_number():
    class Runs:
        def summary(self):
            return pd.DataFrame({
                "mean": {"rmse": 0.31234, "r2": 0.1, "km_median": 2.345, "within_1km": 0.2, "minutes_median": 61.7},
                "std": {"rmse": 0.01, "r2": 0.02, "km_median": 0.1, "within_1km": 0.01, "minutes_median": 3.0},
            })

    table = tuning.test_table({"chosen": Runs()}, {"article (reported)": {"rmse": 0.071, "r2": 0.464}}).data
    assert table.loc["chosen", "RMSE, pooled (article's form)"] == "0.312 ± 0.010"
    assert table.loc["chosen", "median gap error (minutes), pooled"] == "62 ± 3"
    assert table.loc["article (reported)", "median error (km), pooled"] == "–"
    assert not table.isna().any().any() and table.index.name == "test windows"
