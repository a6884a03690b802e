import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from checkin_traj.models import (  # noqa: E402
    MODEL_BUILDERS,
    build_lstm,
    build_model,
    build_seq2seq,
    build_transformer,
    default_hyperparameters,
    positional_encoding,
)
from checkin_traj.plots.architecture import architecture_diagram, layer_graph  # noqa: E402

SHAPE = dict(window=5, n_features=4)
TINY = {
    "lstm": dict(num_hiddens=3),
    "seq2seq": dict(num_hiddens=4, num_heads=2),
    "transformer": dict(num_heads=2, key_dim=2, ff_dim=4, num_blocks=1),
}


@pytest.mark.parametrize("name", sorted(MODEL_BUILDERS))
def test_every_model_maps_a_batch_of_windows_to_three_targets(name):
    model = build_model(name, **SHAPE, **TINY[name])
    output = model.predict(np.zeros((7, 5, 4), dtype=np.float32), verbose=0)
    assert output.shape == (7, 3)
    assert model.loss == "mse"
    assert isinstance(model.optimizer, keras.optimizers.Adam)


def test_lstm_has_the_articles_layers_and_their_weight_counts():
    model = build_lstm(**SHAPE, num_hiddens=8, dropout=0.2)
    assert [layer.name for layer in model.layers] == [
        "check_ins",
        "lstm_1",
        "dropout_1",
        "lstm_2",
        "dropout_2",
        "dense_relu",
        "next_check_in",
    ]
    # An LSTM layer has 4 gates, each with input weights, recurrent weights and a bias.
    assert model.get_layer("lstm_1").count_params() == 4 * (8 * (4 + 8) + 8)
    assert model.get_layer("lstm_2").count_params() == 4 * (8 * (8 + 8) + 8)
    assert model.get_layer("dense_relu").get_config()["activation"] == "relu"
    assert model.get_layer("dropout_1").rate == pytest.approx(0.2)


def test_seq2seq_stacks_encoder_layers_and_uses_the_cell_activation():
    model = build_seq2seq(**SHAPE, num_hiddens=4, num_layers=3, activation="relu", num_heads=2)
    names = [layer.name for layer in model.layers]
    assert names[1:4] == ["encoder_lstm_1", "encoder_lstm_2", "encoder_lstm_3"]
    assert "decoder_lstm" in names and "self_attention" in names and "average_over_time" in names
    assert all(model.get_layer(name).get_config()["activation"] == "relu" for name in names if "lstm" in name)
    assert model.get_layer("self_attention").get_config()["num_heads"] == 2


def test_positional_encoding_is_sine_and_cosine_of_the_position():
    table = positional_encoding(4, 6)
    assert table.shape == (4, 6)
    np.testing.assert_allclose(table[0], [0, 1, 0, 1, 0, 1], atol=1e-7)  # position 0
    np.testing.assert_allclose(table[1, :2], [np.sin(1.0), np.cos(1.0)], rtol=1e-6)
    np.testing.assert_allclose(table[2, 2:4], [np.sin(2 / 10000 ** (2 / 6)), np.cos(2 / 10000 ** (2 / 6))], rtol=1e-6)


def test_without_positions_the_transformer_ignores_the_order_of_the_window():
    windows = np.random.default_rng(0).normal(size=(3, 5, 4)).astype(np.float32)
    reversed_windows = windows[:, ::-1, :].copy()
    keras.utils.set_random_seed(0)
    blind = build_transformer(**SHAPE, **TINY["transformer"], dropout=0.0, positional_encoding=False)
    np.testing.assert_allclose(blind.predict(windows, verbose=0), blind.predict(reversed_windows, verbose=0), rtol=1e-5, atol=1e-6)
    keras.utils.set_random_seed(0)
    seeing = build_transformer(**SHAPE, **TINY["transformer"], dropout=0.0, positional_encoding=True)
    assert "positional_encoding" in [layer.name for layer in seeing.layers]
    assert not np.allclose(seeing.predict(windows, verbose=0), seeing.predict(reversed_windows, verbose=0), atol=1e-4)


@pytest.mark.parametrize(
    "name, hyperparameters, message",
    [
        ("gru", {}, r"unknown model 'gru'.*\['lstm', 'seq2seq', 'transformer'\]"),
        ("lstm", {"hidden_units": 8}, r"unknown hyperparameter.*hidden_units.*num_hiddens"),
        ("lstm", {"num_hiddens": 0}, "num_hiddens must be an integer >= 1"),
        ("lstm", {"dropout": 1.0}, r"dropout must be a number in \[0, 1\)"),
        ("seq2seq", {"activation": "gelu"}, "activation must be one of"),
        ("seq2seq", {"num_layers": 1.5}, "num_layers"),
        ("transformer", {"positional_encoding": "yes"}, "positional_encoding must be True or False"),
        ("transformer", {"learning_rate": -1.0}, "learning_rate must be a positive"),
    ],
)
def test_bad_model_or_hyperparameter_is_rejected_by_name(name, hyperparameters, message):
    with pytest.raises(ValueError, match=message):
        build_model(name, **SHAPE, **hyperparameters)


def test_default_hyperparameters_are_the_articles():
    assert default_hyperparameters("lstm") == {"num_hiddens": 64, "dropout": 0.2, "learning_rate": 1e-3}
    assert default_hyperparameters("seq2seq")["num_layers"] == 1


def test_architecture_diagram_is_drawn_from_the_models_own_layers():
    model = build_seq2seq(**SHAPE, num_hiddens=4, num_layers=2)
    graph = layer_graph(model)
    assert [layer["name"] for layer in graph] == [layer.name for layer in model.layers]
    decoder = next(layer for layer in graph if layer["name"] == "decoder_lstm")
    assert ("encoder_lstm_2", 1, "initial_state") in decoder["inputs"]  # the encoder's state
    assert next(layer for layer in graph if layer["name"] == "encoder_lstm_2")["shapes"] == [(5, 4), (4,), (4,)]
    figure = architecture_diagram(model)
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert "decoder_lstm" in texts and "initial_state" in texts
    assert any("(5, 4)" in text for text in texts)
