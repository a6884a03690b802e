import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("keras")

from checkin_traj.sequences import build_windows  # noqa: E402
from functools import partial  # noqa: E402

from checkin_traj.pages.lstm import build_lstm, build_lstm_model, fit, train_model, train_seeds  # noqa: E402
from checkin_traj.report import mean_std_cell, number_cell  # noqa: E402
from checkin_traj.training import SeedRuns, Targets, TrainedModel, set_seed  # noqa: E402


def tiny_lstm(data):
    """The book's LSTM of chapter 03, four units wide, for ``data``'s windows."""
    return partial(build_lstm, data.window, data.n_features, num_hiddens=4)


@pytest.fixture(scope="module")
def data():
    """6 users walking north-east, one check-in an hour: 40 check-ins each, windows of 3."""
    n_users, per_user = 6, 40
    user = np.repeat(np.arange(n_users), per_user)
    step = np.tile(np.arange(per_user), n_users)
    check_ins = pd.DataFrame(
        {
            "user": user,
            "time": pd.Timestamp("2010-01-01", tz="UTC") + pd.to_timedelta(step * 3600 + user * 60, unit="s"),
            "lat": 40.70 + 0.001 * step + 0.01 * user,
            "lon": -74.00 + 0.002 * step,
            "location_id": user * 1000 + step,
        }
    )
    return build_windows(check_ins, window=3)


class _ConstantNetwork:
    """Stands in for a Keras model: outputs the same vector for every window."""

    def __init__(self, output):
        self.output = np.asarray(output, dtype=np.float32)

    def predict(self, x, batch_size=None, verbose=0):
        return np.tile(self.output, (len(x), 1))


def _trained(data, target_mode, output, offset_mean=(0, 0, 0), offset_scale=(1, 1, 1)):
    targets = Targets(target_mode, np.asarray(offset_mean, np.float32), np.asarray(offset_scale, np.float32))
    history = {"loss": [1.0], "val_loss": [1.0], "seconds": [0.0], "epochs": 1, "stopped_early": False, "train_seconds": 0.0}
    return TrainedModel(_ConstantNetwork(output), targets, history, data=data, seed=0)


def test_offset_mode_adds_the_last_check_in_back(data):
    # A network predicting a standardised offset of 0 predicts last + mean offset.
    trained = _trained(data, "offset", [0, 0, 0], offset_mean=[0.1, 0.2, 0.3], offset_scale=[2, 2, 2])
    np.testing.assert_allclose(trained.predict("test"), data.test.last + [0.1, 0.2, 0.3], rtol=1e-6)
    trained = _trained(data, "offset", [1, 0, -1], offset_mean=[0, 0, 0], offset_scale=[2, 3, 4])
    np.testing.assert_allclose(trained.predict("val"), data.val.last + [2, 0, -4], rtol=1e-6)


def test_absolute_mode_returns_the_network_output(data):
    trained = _trained(data, "absolute", [0.5, 0.25, 0.75])
    np.testing.assert_allclose(trained.predict("test"), np.tile([0.5, 0.25, 0.75], (len(data.test), 1)))


def test_training_targets_invert_the_prediction(data):
    targets = Targets.fit(data.train, "offset")
    offsets = targets.encode(data.train)
    np.testing.assert_allclose(targets.decode(offsets, data.train.last), data.train.y, atol=1e-6)
    assert abs(offsets.mean()) < 1e-5  # standardised with the training offsets' own mean
    np.testing.assert_array_equal(Targets.fit(data.train, "absolute").encode(data.train), data.train.y)


def test_same_seed_gives_the_same_numbers_and_another_seed_does_not(data):
    training = dict(target_mode="absolute", epochs=2, batch_size=16, patience=2, verbose=0)
    first = train_model(tiny_lstm(data), data, seed=3, **training)
    again = train_model(tiny_lstm(data), data, seed=3, **training)
    other = train_model(tiny_lstm(data), data, seed=4, **training)
    np.testing.assert_array_equal(first.predict("test"), again.predict("test"))
    assert first.history["loss"] == again.history["loss"]
    assert not np.array_equal(first.predict("test"), other.predict("test"))


def test_the_best_epochs_weights_are_kept(data):
    trained = train_model(tiny_lstm(data), data, target_mode="offset", seed=0, epochs=4, batch_size=16, patience=1, verbose=0)
    history = trained.history
    assert len(history["loss"]) == len(history["val_loss"]) == len(history["seconds"]) == trained.epochs_run <= 4
    assert trained.best_epoch == int(np.argmin(history["val_loss"])) + 1
    val_loss = trained.model.evaluate(data.val.x, trained.targets.encode(data.val), verbose=0)
    assert val_loss == pytest.approx(min(history["val_loss"]), rel=1e-4)
    assert trained.predict("test").shape == data.test.y.shape


def test_progress_prints_one_line_per_epoch(data, capsys):
    train_model(tiny_lstm(data), data, target_mode="absolute", seed=0, epochs=2, batch_size=32, patience=5, verbose=1)
    lines = [line for line in capsys.readouterr().out.splitlines() if "epoch" in line]
    assert len(lines) == 2 and "val_loss" in lines[0] and "lstm/absolute seed 0" in lines[0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(target_mode="relative"), "target_mode must be one of 'absolute', 'offset'; got 'relative'"),
        (dict(epochs=0), "epochs must be an integer >= 1"),
        (dict(seed=-1), "seed must be an integer >= 0"),
    ],
)
def test_bad_training_arguments_are_rejected_by_name(data, kwargs, message):
    kwargs = {"target_mode": "absolute", "seed": 0, "epochs": 1, "batch_size": 16, "patience": 1, "verbose": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        train_model(tiny_lstm(data), data, **kwargs)


def test_non_finite_windows_are_rejected_naming_the_split():
    class Part:
        x = np.zeros((4, 3, 2), np.float32)
        y = np.array([[0, 0, 0], [0, np.nan, 0], [0, 0, 0], [0, 0, 0]], np.float32)
        last = np.zeros((4, 3), np.float32)

    class Data:
        train = val = test = Part()

    with pytest.raises(ValueError, match=r"the training windows.y is not finite in window 1"):
        train_model(partial(build_lstm, 3, 2, num_hiddens=2), Data(), target_mode="offset", seed=0, epochs=1,
                    batch_size=4, patience=1, verbose=0)


def test_set_seed_rejects_bad_seeds():
    with pytest.raises(ValueError, match="seed must be an integer"):
        set_seed(1.5)


def test_train_seeds_reports_each_seed_and_their_mean_and_spread(data):
    runs = train_seeds(tiny_lstm(data), data, seeds=(0, 1), target_mode="absolute", epochs=1, batch_size=32,
                       patience=1, verbose=0)
    assert list(runs.metrics.index) == [0, 1]
    assert {"rmse", "r2", "km_median", "val_rmse", "epochs_run", "best_val_loss"} <= set(runs.metrics.columns)
    summary = runs.summary()
    assert summary.loc["rmse", "mean"] == pytest.approx(runs.metrics["rmse"].mean())
    assert summary.loc["rmse", "std"] == pytest.approx(runs.metrics["rmse"].std(ddof=1))
    assert runs.best.seed == int(runs.metrics["best_val_loss"].idxmin())
    assert set(runs.predictions) == {0, 1} and runs.predictions[0].shape == data.test.y.shape
    np.testing.assert_allclose(runs.mean_prediction(), (runs.predictions[0] + runs.predictions[1]) / 2, rtol=1e-6)
    assert number_cell(0.5, 3) == "0.500" and number_cell(float("nan"), 3) == "–"  # a baseline's one number
    assert " ± " in mean_std_cell(summary, "r2", 3)


def test_seed_runs_reject_repeated_seeds_and_mixed_targets(data):
    one = train_model(tiny_lstm(data), data, target_mode="absolute", seed=0, epochs=1, batch_size=64, patience=1, verbose=0)
    with pytest.raises(ValueError, match="seeds must be distinct"):
        SeedRuns([one, one])
    offset = train_model(tiny_lstm(data), data, target_mode="offset", seed=1, epochs=1, batch_size=64, patience=1, verbose=0)
    with pytest.raises(ValueError, match="share their target mode"):
        SeedRuns([one, offset])


def test_fit_without_the_schedule_keeps_the_learning_rate(data):
    """reduce_lr=False (the next-venue ranker's training) leaves Adam's rate as compiled."""
    import keras

    model = tiny_lstm(data)(learning_rate=0.01)
    targets = Targets.fit(data.train, "absolute")
    history = fit(model, (data.train.x, targets.encode(data.train)), (data.val.x, targets.encode(data.val)),
                  epochs=3, batch_size=64, patience=0, reduce_lr=False, verbose=0)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.01)
    assert history["epochs"] == 3 and len(history["loss"]) <= 3


def test_figures_of_the_training_chapters(data):
    from checkin_traj.plots.comparison import time_scatter
    from checkin_traj.plots.models import loss_curves

    history = {"loss": [1.0, 0.5, 0.4], "val_loss": [1.2, 0.6, 0.7]}
    figure = loss_curves({"absolute": {0: history, 1: history}, "offset": {0: history}})
    assert len(figure.axes) == 2 and figure.axes[0].get_yscale() == "log"
    figure = time_scatter(data, {"perfect": data.test.y, "stay": data.test.last}, sample=10)
    assert len([ax for ax in figure.axes if ax.get_visible()]) == 2
    with pytest.raises(ValueError, match="must have shape"):
        time_scatter(data, {"wrong": data.test.y[:3]})


def test_a_run_over_seeds_is_judged_by_the_one_rule(data):
    from types import SimpleNamespace

    from checkin_traj.verdicts import BEATS, LOSES, versus_baseline

    perfect, stay = np.asarray(data.test.y), np.asarray(data.test.last)
    runs = SimpleNamespace(predictions={0: perfect, 1: perfect}, metrics=pd.DataFrame({"rmse": [0.0, 0.0]}, index=[0, 1]))
    verdict = versus_baseline("perfect", runs, data, baseline="stay", baseline_prediction=stay)
    assert verdict.outcome == BEATS and verdict.seeds_better == 2
    worse = SimpleNamespace(predictions={0: stay + 0.5}, metrics=pd.DataFrame({"rmse": [0.5]}, index=[0]))
    assert versus_baseline("off", worse, data, baseline="stay", baseline_prediction=stay).outcome == LOSES


def test_the_article_form_trains_on_its_three_features_and_the_run_says_how_it_ended(data):
    from checkin_traj.sequences import ARTICLE_FEATURES
    from checkin_traj.training import runs_at_cap

    article_data = data.with_features(ARTICLE_FEATURES)
    article = partial(build_lstm_model, input_feat=3, hidden_neuron=4)
    capped = train_model(article, article_data, target_mode="absolute", seed=0, epochs=1, batch_size=16, patience=1, verbose=0)
    assert capped.model.input_shape == (None, None, 3)
    assert capped.hit_epoch_cap and capped.epochs_run == 1
    # patience 0: the first epoch without a lower validation loss ends the run, long before 200
    stopped = train_model(tiny_lstm(data), data, target_mode="absolute", seed=0, epochs=200, batch_size=64, patience=0, verbose=0)
    assert stopped.stopped_early and not stopped.hit_epoch_cap and stopped.epochs_run < 200
    runs = train_seeds(article, article_data, seeds=(0, 1), target_mode="absolute", epochs=1, batch_size=64, patience=1, verbose=0)
    assert runs_at_cap({"article": runs}) == {"runs": 2, "at_cap": 2, "stopped_early": 0}
