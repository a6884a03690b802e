import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from checkin_traj.pages.lstm import build_lstm, build_lstm_model  # noqa: E402
from checkin_traj.pages.seq2seq_attention import build_seq2seq, build_seq2seq_model  # noqa: E402
from checkin_traj.pages.transformer import build_transformer, positional_encoding  # noqa: E402
from checkin_traj.plots.architecture import architecture_diagram, layer_graph  # noqa: E402

SHAPE = dict(window=5, n_features=4)
#: The book's form of each model, tiny.
BOOK_FORMS = {
    "lstm": lambda: build_lstm(**SHAPE, num_hiddens=3),
    "seq2seq": lambda: build_seq2seq(**SHAPE, num_hiddens=4, num_heads=2),
    "transformer": lambda: build_transformer(**SHAPE, num_heads=2, key_dim=2, ff_dim=4, num_blocks=1),
}
TINY_TRANSFORMER = dict(num_heads=2, key_dim=2, ff_dim=4, num_blocks=1)


@pytest.mark.parametrize("name", sorted(BOOK_FORMS))
def test_every_model_maps_a_batch_of_windows_to_three_targets(name):
    model = BOOK_FORMS[name]()
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
    blind = build_transformer(**SHAPE, **TINY_TRANSFORMER, dropout=0.0, positional_encoding=False)
    np.testing.assert_allclose(blind.predict(windows, verbose=0), blind.predict(reversed_windows, verbose=0), rtol=1e-5, atol=1e-6)
    keras.utils.set_random_seed(0)
    seeing = build_transformer(**SHAPE, **TINY_TRANSFORMER, dropout=0.0, positional_encoding=True)
    assert "positional_encoding" in [layer.name for layer in seeing.layers]
    assert not np.allclose(seeing.predict(windows, verbose=0), seeing.predict(reversed_windows, verbose=0), atol=1e-4)


def test_the_book_forms_defaults_are_the_articles_sizes():
    import inspect

    defaults = {key: p.default for key, p in inspect.signature(build_lstm).parameters.items() if p.default is not p.empty}
    assert defaults == {"num_hiddens": 64, "dropout": 0.2, "learning_rate": 1e-3, "n_targets": 3}
    assert inspect.signature(build_seq2seq).parameters["num_layers"].default == 1


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
    "built, reference",
    [
        (lambda: build_lstm_model(), _articles_lstm),
        (lambda: build_lstm_model(input_feat=3, hidden_neuron=8, drop_prob=0.5), lambda: _articles_lstm(hidden_neuron=8, drop_prob=0.5)),
        (lambda: build_seq2seq_model(), _articles_seq2seq),
        (lambda: build_seq2seq_model(input_size=3, hidden_dim=6, drop_rate=0.5), lambda: _articles_seq2seq(hidden_dim=6, drop_rate=0.5)),
    ],
)
def test_the_article_form_on_the_page_is_the_articles_code_layer_for_layer(built, reference):
    built, article = built(), reference()
    walked_built, walked_article = _walk(built), _walk(article)
    assert [row[0] for row in walked_built][:2] == ["InputLayer", "LSTM"]
    assert walked_built == walked_article
    assert built.count_params() == article.count_params()
    assert built.loss == article.loss == "mse"
    assert isinstance(built.optimizer, keras.optimizers.Adam)
    assert float(built.optimizer.learning_rate) == pytest.approx(float(article.optimizer.learning_rate))


def test_the_article_forms_differ_from_the_book_forms_where_the_chapter_says():
    article = build_seq2seq_model(input_size=3, hidden_dim=4)
    kinds = [type(layer).__name__ for layer in article.layers]
    assert "Attention" in kinds and "MultiHeadAttention" not in kinds and "Dropout" not in kinds
    attention = next(layer for layer in article.layers if isinstance(layer, keras.layers.Attention))
    assert attention.count_params() == 0  # weight-free attention
    lstms = [layer for layer in article.layers if isinstance(layer, keras.layers.LSTM)]
    assert len(lstms) == 2 and all(layer.get_config()["dropout"] == pytest.approx(0.2) for layer in lstms)
    book = build_seq2seq(window=5, n_features=8, num_hiddens=4, num_heads=1)
    assert "MultiHeadAttention" in [type(layer).__name__ for layer in book.layers]
    decoder = next(layer for layer in layer_graph(book) if layer["name"] == "decoder_lstm")
    assert ("encoder_lstm_1", 1, "initial_state") in decoder["inputs"]
    assert not any(edge[2] == "initial_state" for layer in layer_graph(article) for edge in layer["inputs"])
    # the book's LSTM drops the LSTM's outputs with Dropout layers, the article's its inputs
    assert [type(layer).__name__ for layer in build_lstm(**SHAPE).layers].count("Dropout") == 2
    assert all(layer.get_config()["dropout"] == 0 for layer in build_lstm(**SHAPE).layers if isinstance(layer, keras.layers.LSTM))


def test_the_article_transformer_reading_has_no_positions_and_no_dropout_before_its_output():
    article = build_transformer(window=5, n_features=3, **TINY_TRANSFORMER, positional_encoding=False, output_dropout=False)
    names = [layer.name for layer in article.layers]
    assert "positional_encoding" not in names
    assert names[-2:] == ["average_over_time", "next_check_in"]
    book = build_transformer(window=5, n_features=3, **TINY_TRANSFORMER)
    assert [layer.name for layer in book.layers][-3:] == ["average_over_time", "dropout", "next_check_in"]
    assert "positional_encoding" in [layer.name for layer in book.layers]
