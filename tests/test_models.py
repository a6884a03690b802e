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
        ("lstm", {"dropout": 1.0}, r"dropout must lie in \[0, 1\)"),
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


# --------------------------------------------------------------------------- the article's forms

from checkin_traj.models import (  # noqa: E402
    ARTICLE_BUILDERS,
    VARIANT_DIFFERENCES,
    VARIANTS,
    count_lstm_layers,
    variant_differences,
)


def _articles_lstm(input_feat=3, hidden_neuron=64, drop_prob=0.2):
    """The article's code, verbatim but for `keras` in place of `tf.keras` (the same module)."""
    model = keras.Sequential(
        [
            keras.Input(shape=(None, input_feat)),  # the article's input_shape=(None, input_feat)
            keras.layers.LSTM(hidden_neuron, return_sequences=True, dropout=drop_prob),
            keras.layers.LSTM(hidden_neuron, return_sequences=False, dropout=drop_prob),
            keras.layers.Dense(hidden_neuron, activation="relu"),
            keras.layers.Dense(input_feat),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    return model


def _articles_seq2seq(input_size=3, hidden_dim=64, drop_rate=0.2):
    inputs = keras.Input(shape=(None, input_size))
    enc_output = keras.layers.LSTM(hidden_dim, return_sequences=True, dropout=drop_rate)(inputs)
    dec_output = keras.layers.LSTM(hidden_dim, return_sequences=True, dropout=drop_rate)(enc_output)
    attention = keras.layers.Attention()([dec_output, dec_output])
    context = keras.layers.GlobalAveragePooling1D()(attention)
    outputs = keras.layers.Dense(input_size)(context)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    return model


_WALKED = ("units", "dropout", "recurrent_dropout", "return_sequences", "return_state", "activation",
           "recurrent_activation", "use_bias", "use_scale", "score_mode", "batch_shape")


def _walk(model):
    """Per layer: its class, the settings that change what it computes, its weight count and
    the positions of the layers feeding it (the connectivity)."""
    layers = list(model.layers)
    if not isinstance(layers[0], keras.layers.InputLayer):  # a Sequential hides its input layer
        layers = [model.inputs[0]._keras_history.operation, *layers]
    position = {id(layer): index for index, layer in enumerate(layers)}
    walked = []
    for layer in layers:
        config = layer.get_config()
        settings = {key: config[key] for key in _WALKED if key in config}
        sources = []
        for node in layer._inbound_nodes:
            for tensor in node.input_tensors:
                sources.append(position[id(tensor._keras_history.operation)])
        walked.append((type(layer).__name__, settings, layer.count_params(), sorted(sources)))
    return walked


@pytest.mark.parametrize(
    "name, reference, arguments",
    [
        ("lstm", _articles_lstm, dict(num_hiddens=64, dropout=0.2)),
        ("lstm", lambda: _articles_lstm(hidden_neuron=8, drop_prob=0.5), dict(num_hiddens=8, dropout=0.5)),
        ("seq2seq", _articles_seq2seq, dict(num_hiddens=64, dropout=0.2)),
        ("seq2seq", lambda: _articles_seq2seq(hidden_dim=6, drop_rate=0.5), dict(num_hiddens=6, dropout=0.5)),
    ],
)
def test_the_article_form_is_the_articles_code_layer_for_layer(name, reference, arguments):
    built = build_model(name, variant="article", window=10, n_features=3, **arguments)
    article = reference()
    walked_built, walked_article = _walk(built), _walk(article)
    assert [row[0] for row in walked_built][:2] == ["InputLayer", "LSTM"]
    assert walked_built == walked_article
    assert built.count_params() == article.count_params()
    assert built.loss == article.loss == "mse"
    assert isinstance(built.optimizer, keras.optimizers.Adam)
    assert float(built.optimizer.learning_rate) == pytest.approx(float(article.optimizer.learning_rate))


def test_the_article_forms_differ_from_the_book_forms_where_the_table_says():
    article = build_model("seq2seq", variant="article", window=5, n_features=3, num_hiddens=4)
    kinds = [type(layer).__name__ for layer in article.layers]
    assert "Attention" in kinds and "MultiHeadAttention" not in kinds and "Dropout" not in kinds
    assert article.get_layer("self_attention").count_params() == 0  # weight-free attention
    assert all(article.get_layer(name).get_config()["dropout"] == pytest.approx(0.2) for name in ("encoder_lstm_1", "decoder_lstm"))
    book = build_model("seq2seq", variant="book", window=5, n_features=8, num_hiddens=4, num_heads=1)
    assert "MultiHeadAttention" in [type(layer).__name__ for layer in book.layers]
    decoder = next(layer for layer in layer_graph(book) if layer["name"] == "decoder_lstm")
    assert ("encoder_lstm_1", 1, "initial_state") in decoder["inputs"]
    assert not any(edge[2] == "initial_state" for layer in layer_graph(article) for edge in layer["inputs"])
    # one table row per difference, for every model
    for name in MODEL_BUILDERS:
        table = variant_differences(name)
        assert list(table.columns) == ["article", "book", "why"]
        assert len(table) == len(VARIANT_DIFFERENCES[name]) >= 3
        assert table.notna().all().all()


def test_num_layers_counts_every_lstm_layer_in_the_article_form_and_encoder_layers_in_the_book_form():
    three = build_model("seq2seq", variant="article", window=5, num_hiddens=4, num_layers=3)
    assert count_lstm_layers(three) == 3  # the article's tuned "3 LSTM layers"
    assert [layer.name for layer in three.layers if isinstance(layer, keras.layers.LSTM)] == [
        "encoder_lstm_1", "encoder_lstm_2", "decoder_lstm"]
    assert count_lstm_layers(build_model("seq2seq", variant="article", window=5, num_hiddens=4)) == 2
    book = build_model("seq2seq", variant="book", window=5, n_features=3, num_hiddens=4, num_layers=3)
    assert count_lstm_layers(book) == 4
    with pytest.raises(ValueError, match="num_layers must be an integer >= 2"):
        build_model("seq2seq", variant="article", window=5, num_layers=1)


def test_the_article_transformer_has_no_positions_by_default_and_no_dropout_before_its_output():
    article = build_model("transformer", variant="article", window=5, num_heads=2, key_dim=2, ff_dim=4, num_blocks=1)
    names = [layer.name for layer in article.layers]
    assert "positional_encoding" not in names
    assert names[-2:] == ["average_over_time", "next_check_in"]
    with_positions = build_model("transformer", variant="article", window=5, num_heads=2, key_dim=2, ff_dim=4,
                                 num_blocks=1, positional_encoding=True)
    assert "positional_encoding" in [layer.name for layer in with_positions.layers]


def test_variants_are_checked_by_name():
    assert set(VARIANTS) == {"article", "book"} and set(ARTICLE_BUILDERS) == set(MODEL_BUILDERS)
    with pytest.raises(ValueError, match="variant must be one of"):
        build_model("lstm", variant="paper", window=5, n_features=3)
    with pytest.raises(ValueError, match=r"unknown hyperparameter.*num_heads.*article form"):
        build_model("seq2seq", variant="article", window=5, num_heads=2)
    assert default_hyperparameters("seq2seq", "article")["num_layers"] == 2


def test_article_hyperparameters_read_the_book_form_the_articles_way():
    from checkin_traj.models import article_hyperparameters, hyperparameter_names

    book = {"num_hiddens": 8, "dropout": 0.1, "num_layers": 1, "activation": "tanh", "num_heads": 2, "learning_rate": 1e-3}
    article = article_hyperparameters("seq2seq", book)
    assert article["num_layers"] == 2  # the article counts the decoder too
    assert "num_heads" not in article and set(article) <= set(hyperparameter_names("seq2seq", "article"))
    assert book["num_layers"] == 1  # the book's dict is not changed
    assert article_hyperparameters("lstm", {"num_hiddens": 4, "dropout": 0.0}) == {"num_hiddens": 4, "dropout": 0.0}
    assert article_hyperparameters("transformer", {"positional_encoding": True, "num_blocks": 1})["positional_encoding"] is True
