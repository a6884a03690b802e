"""Keras builders for the three models of the book: LSTM, Seq2Seq with self-attention, Transformer.

Each model comes in two forms (:data:`VARIANTS`): ``"article"``, the article's Keras code
layer for layer (:func:`build_article_lstm`, :func:`build_article_seq2seq`; the article
gives no Transformer code, so :func:`build_article_transformer` is the book's reading of
its text), and ``"book"``, the project's form (:func:`build_lstm`, :func:`build_seq2seq`,
:func:`build_transformer`). :func:`build_model` builds either; every difference between
the two forms of a model is one row of :data:`VARIANT_DIFFERENCES` (a table in each model
chapter, :func:`variant_differences`).

Every builder takes the window shape (``window`` check-ins of ``n_features`` each) and the
model's hyperparameters as keyword arguments, checks them all before building anything,
and returns a compiled :class:`keras.Model` (Adam, mean squared error) whose layers carry
readable names, so the architecture figures of the book are drawn from the model itself.

The models predict ``n_targets`` numbers (the next check-in's scaled time, longitude and
latitude); what those numbers mean (absolute position or offset from the last check-in)
is decided by :mod:`checkin_traj.training`, not here.
"""

from __future__ import annotations

import inspect

import numpy as np

try:
    import keras
    from keras import layers
except ImportError as _error:
    from ._extras import missing_extra

    raise missing_extra(_error, extra="models", module=__name__) from _error

from .checks import check_choice, check_fraction, check_int, check_positive

#: Cell activations that ``build_seq2seq`` accepts (the tuning chapter varies them).
LSTM_ACTIVATIONS = ("tanh", "sigmoid", "relu", "elu", "softsign", "linear")


# --------------------------------------------------------------------------- checks


def _check_shape(window, n_features, n_targets):
    return (
        check_int("window", window, minimum=1),
        check_int("n_features", n_features, minimum=1),
        check_int("n_targets", n_targets, minimum=1),
    )


def _check_recurrent(window, n_features, n_targets, num_hiddens, dropout):
    """The checks every LSTM and Seq2Seq form starts with: the shape, then ``num_hiddens`` and ``dropout``."""
    return (
        *_check_shape(window, n_features, n_targets),
        check_int("num_hiddens", num_hiddens, minimum=1),
        check_fraction("dropout", dropout),
    )


def _input(window, n_features):
    """The input of every model: ``window`` check-ins of ``n_features`` each (``window=None``:
    a window of any length, the article's ``Input(shape=(None, input_feat))``)."""
    return keras.Input(shape=(window, n_features), name="check_ins")


def _stacked_encoder(hidden, num_layers, *, num_hiddens, activation, **options):
    """The encoder's LSTM layers ``encoder_lstm_1`` to ``encoder_lstm_<num_layers - 1>`` (sequences),
    the layers before its last; ``options``: more LSTM settings (the article's ``dropout=``)."""
    for layer in range(1, num_layers):
        hidden = layers.LSTM(
            num_hiddens, activation=activation, return_sequences=True, name=f"encoder_lstm_{layer}", **options
        )(hidden)
    return hidden


def _output_model(inputs, hidden, *, n_targets, name, learning_rate):
    """The linear output layer on ``hidden``; the model compiled with Adam and mean squared error."""
    outputs = layers.Dense(n_targets, name="next_check_in")(hidden)
    model = keras.Model(inputs, outputs, name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
    return model


def _averaged_output_model(inputs, sequence, *, dropout, n_targets, name, learning_rate):
    """``sequence`` averaged over time, then dropout (none where ``dropout`` is ``None``: the
    article's forms) and the output layer (Seq2Seq and Transformer)."""
    pooled = layers.GlobalAveragePooling1D(name="average_over_time")(sequence)
    if dropout is not None:
        pooled = layers.Dropout(dropout, name="dropout")(pooled)
    return _output_model(inputs, pooled, n_targets=n_targets, name=name, learning_rate=learning_rate)


# --------------------------------------------------------------------------- LSTM


def build_lstm(*, window, n_features, n_targets=3, num_hiddens=64, dropout=0.2, learning_rate=1e-3):
    """The article's LSTM: two stacked LSTM layers, a ReLU layer and a linear output.

    ``input -> LSTM(return_sequences) -> dropout -> LSTM -> dropout -> Dense(ReLU) -> Dense``

    Parameters
    ----------
    window : int
        Check-ins per input sequence.
    n_features : int
        Features per check-in.
    n_targets : int
        Numbers predicted (3: time, longitude, latitude).
    num_hiddens : int
        Units of each LSTM layer and of the ReLU layer.
    dropout : float
        Dropout rate after each LSTM layer, in [0, 1).
    learning_rate : float
        Adam's learning rate.

    Returns
    -------
    keras.Model
        Compiled with Adam and mean squared error.
    """
    window, n_features, n_targets, num_hiddens, dropout = _check_recurrent(
        window, n_features, n_targets, num_hiddens, dropout
    )
    learning_rate = check_positive("learning_rate", learning_rate)

    inputs = _input(window, n_features)
    hidden = layers.LSTM(num_hiddens, return_sequences=True, name="lstm_1")(inputs)
    hidden = layers.Dropout(dropout, name="dropout_1")(hidden)
    hidden = layers.LSTM(num_hiddens, name="lstm_2")(hidden)
    hidden = layers.Dropout(dropout, name="dropout_2")(hidden)
    hidden = layers.Dense(num_hiddens, activation="relu", name="dense_relu")(hidden)
    return _output_model(inputs, hidden, n_targets=n_targets, name="lstm", learning_rate=learning_rate)


# --------------------------------------------------------------------------- Seq2Seq


def build_seq2seq(
    *,
    window,
    n_features,
    n_targets=3,
    num_hiddens=64,
    dropout=0.2,
    num_layers=1,
    activation="tanh",
    num_heads=1,
    learning_rate=1e-3,
):
    """The article's Seq2Seq with self-attention over the decoder states.

    ``input -> encoder LSTM x num_layers (sequences) -> decoder LSTM (sequences, started
    from the encoder's final state) -> self-attention -> average over time -> Dense``

    Parameters
    ----------
    window, n_features, n_targets : int
        As in :func:`build_lstm`.
    num_hiddens : int
        Units of every LSTM layer (and the attention's key size, split among the heads).
    dropout : float
        Dropout rate after the encoder and after the attention, in [0, 1).
    num_layers : int
        Stacked LSTM layers in the encoder (the decoder is one LSTM layer).
    activation : str
        Activation of the LSTM cells, one of :data:`LSTM_ACTIVATIONS`. Only ``"tanh"`` runs
        on the fast cuDNN kernel on a GPU.
    num_heads : int
        Heads of the self-attention.
    learning_rate : float
        Adam's learning rate.

    Returns
    -------
    keras.Model
        Compiled with Adam and mean squared error.
    """
    window, n_features, n_targets, num_hiddens, dropout = _check_recurrent(
        window, n_features, n_targets, num_hiddens, dropout
    )
    num_layers = check_int("num_layers", num_layers, minimum=1)
    num_heads = check_int("num_heads", num_heads, minimum=1)
    activation = check_choice("activation", activation, LSTM_ACTIVATIONS)
    learning_rate = check_positive("learning_rate", learning_rate)

    inputs = _input(window, n_features)
    hidden = _stacked_encoder(inputs, num_layers, num_hiddens=num_hiddens, activation=activation)
    encoded, state_h, state_c = layers.LSTM(
        num_hiddens, activation=activation, return_sequences=True, return_state=True, name=f"encoder_lstm_{num_layers}"
    )(hidden)
    encoded = layers.Dropout(dropout, name="encoder_dropout")(encoded)
    decoded = layers.LSTM(num_hiddens, activation=activation, return_sequences=True, name="decoder_lstm")(
        encoded, initial_state=[state_h, state_c]
    )
    attended = layers.MultiHeadAttention(
        num_heads=num_heads, key_dim=max(1, num_hiddens // num_heads), dropout=0.0, name="self_attention"
    )(decoded, decoded)
    return _averaged_output_model(
        inputs, attended, dropout=dropout, n_targets=n_targets, name="seq2seq_attention", learning_rate=learning_rate
    )


# --------------------------------------------------------------------------- Transformer


def positional_encoding(window, depth):
    """The sinusoidal positional encoding of Vaswani et al. (2017).

    Parameters
    ----------
    window : int
        Positions (check-ins in the window).
    depth : int
        Size of each position's vector.

    Returns
    -------
    numpy.ndarray
        float32 array (window, depth): ``sin(pos / 10000^(2i/depth))`` in even columns,
        ``cos`` of the same angle in odd columns.
    """
    window = check_int("window", window, minimum=1)
    depth = check_int("depth", depth, minimum=1)
    positions = np.arange(window, dtype=np.float64)[:, None]
    pairs = np.arange(depth, dtype=np.float64)[None, :] // 2
    angles = positions / np.power(10000.0, 2.0 * pairs / depth)
    table = np.where(np.arange(depth)[None, :] % 2 == 0, np.sin(angles), np.cos(angles))
    return table.astype(np.float32)


@keras.saving.register_keras_serializable(package="checkin_traj")
class PositionalEncoding(keras.layers.Layer):
    """Adds :func:`positional_encoding` to a (batch, window, depth) input; no weights."""

    def build(self, input_shape):
        self.table = keras.ops.convert_to_tensor(positional_encoding(input_shape[1], input_shape[2]))

    def call(self, inputs):
        return inputs + keras.ops.cast(self.table, inputs.dtype)[None, :, :]

    def compute_output_shape(self, input_shape):
        return input_shape


def build_transformer(
    *,
    window,
    n_features,
    n_targets=3,
    num_heads=4,
    key_dim=16,
    ff_dim=64,
    num_blocks=2,
    dropout=0.1,
    positional_encoding=True,
    learning_rate=1e-3,
):
    """A Transformer encoder over the window, with or without positional encoding.

    ``input -> Dense(num_heads * key_dim) [-> + sinusoidal positions] -> num_blocks x
    (self-attention + residual + norm -> feed-forward + residual + norm) -> average over
    time -> Dense``

    Without positional encoding, attention and averaging treat the window as an unordered
    set: the model can only tell the last check-in from the first through the features.

    Parameters
    ----------
    window, n_features, n_targets : int
        As in :func:`build_lstm`.
    num_heads : int
        Attention heads per block.
    key_dim : int
        Size of each head; the model's width is ``num_heads * key_dim``.
    ff_dim : int
        Hidden units of each block's feed-forward layer.
    num_blocks : int
        Encoder blocks.
    dropout : float
        Dropout rate in attention, after each sub-layer and before the output, in [0, 1).
    positional_encoding : bool
        Add the sinusoidal encoding of each check-in's position in the window.
    learning_rate : float
        Adam's learning rate.

    Returns
    -------
    keras.Model
        Compiled with Adam and mean squared error.
    """
    return _transformer(_TRANSFORMER_FORMS["book"], **locals())  # locals(): the arguments above, as given


#: What sets the two forms of the Transformer apart besides their defaults: a Dropout after
#: the pooling (the book's) or none (the article's, as its Seq2Seq), and the model's name.
_TRANSFORMER_FORMS = {
    "book": {"output_dropout": True, "name_prefix": ""},
    "article": {"output_dropout": False, "name_prefix": "article_"},
}


def _transformer(form, *, window, n_features, n_targets, num_heads, key_dim, ff_dim, num_blocks, dropout,
                 positional_encoding, learning_rate):
    """The encoder of :func:`build_transformer` in ``form``, a row of :data:`_TRANSFORMER_FORMS`."""
    window, n_features, n_targets = _check_shape(window, n_features, n_targets)
    num_heads = check_int("num_heads", num_heads, minimum=1)
    key_dim = check_int("key_dim", key_dim, minimum=1)
    ff_dim = check_int("ff_dim", ff_dim, minimum=1)
    num_blocks = check_int("num_blocks", num_blocks, minimum=1)
    dropout = check_fraction("dropout", dropout)
    if not isinstance(positional_encoding, (bool, np.bool_)):
        raise ValueError(f"positional_encoding must be True or False, got {positional_encoding!r}")
    learning_rate = check_positive("learning_rate", learning_rate)

    width = num_heads * key_dim
    inputs = _input(window, n_features)
    hidden = layers.Dense(width, name="embedding")(inputs)
    if positional_encoding:
        hidden = PositionalEncoding(name="positional_encoding")(hidden)
    for block in range(1, num_blocks + 1):
        attended = layers.MultiHeadAttention(
            num_heads=num_heads, key_dim=key_dim, dropout=dropout, name=f"block_{block}_attention"
        )(hidden, hidden)
        attended = layers.Dropout(dropout, name=f"block_{block}_attention_dropout")(attended)
        hidden = layers.Add(name=f"block_{block}_attention_residual")([hidden, attended])
        hidden = layers.LayerNormalization(epsilon=1e-6, name=f"block_{block}_attention_norm")(hidden)
        fed = layers.Dense(ff_dim, activation="relu", name=f"block_{block}_feed_forward_relu")(hidden)
        fed = layers.Dense(width, name=f"block_{block}_feed_forward_out")(fed)
        fed = layers.Dropout(dropout, name=f"block_{block}_feed_forward_dropout")(fed)
        hidden = layers.Add(name=f"block_{block}_feed_forward_residual")([hidden, fed])
        hidden = layers.LayerNormalization(epsilon=1e-6, name=f"block_{block}_feed_forward_norm")(hidden)
    name = form["name_prefix"] + ("transformer" if positional_encoding else "transformer_no_positions")
    return _averaged_output_model(
        inputs,
        hidden,
        dropout=dropout if form["output_dropout"] else None,
        n_targets=n_targets,
        name=name,
        learning_rate=learning_rate,
    )


# --------------------------------------------------------------------------- the article's forms
# The article compiles with optimizer='adam': Keras' Adam at its default rate, 1e-3, as
# _output_model compiles every form; its input has any length: _input(None, n_features).


def build_article_lstm(*, window, n_features=3, n_targets=3, num_hiddens=64, dropout=0.2, learning_rate=1e-3):
    """The article's ``build_lstm_model``, layer for layer.

    ``input (any length) -> LSTM(return_sequences, dropout=) -> LSTM(dropout=) ->
    Dense(ReLU) -> Dense(n_targets)``

    The article's code (``hidden_neuron=64, drop_prob=0.2``)::

        tf.keras.layers.LSTM(hidden_neuron, return_sequences=True, input_shape=(None, input_feat), dropout=drop_prob),
        tf.keras.layers.LSTM(hidden_neuron, return_sequences=False, dropout=drop_prob),
        tf.keras.layers.Dense(hidden_neuron, activation='relu'),
        tf.keras.layers.Dense(input_feat)

    The dropout is the LSTM's own *input* dropout (``dropout=``), not a layer after it; the
    input has no fixed length, as in the article. ``window`` is checked but only the book's
    forms fix the length. The article's output has ``input_feat`` units; here
    ``n_targets`` (3: the gap, longitude and latitude, see :data:`ARTICLE_TIME_READING`).

    Parameters
    ----------
    window : int
        Check-ins per window (>= 1; the model itself accepts any length).
    n_features : int
        Features per check-in (the article: 3, time, longitude and latitude).
    n_targets : int
        Numbers predicted (3).
    num_hiddens : int
        The article's ``hidden_neuron``: units of both LSTM layers and of the ReLU layer.
    dropout : float
        The article's ``drop_prob``: input dropout of each LSTM layer, in [0, 1).
    learning_rate : float
        Adam's learning rate (the article's ``'adam'``: 1e-3).
    """
    _, n_features, n_targets, num_hiddens, dropout = _check_recurrent(
        window, n_features, n_targets, num_hiddens, dropout
    )
    learning_rate = check_positive("learning_rate", learning_rate)

    inputs = _input(None, n_features)
    hidden = layers.LSTM(num_hiddens, return_sequences=True, dropout=dropout, name="lstm_1")(inputs)
    hidden = layers.LSTM(num_hiddens, return_sequences=False, dropout=dropout, name="lstm_2")(hidden)
    hidden = layers.Dense(num_hiddens, activation="relu", name="dense_relu")(hidden)
    return _output_model(inputs, hidden, n_targets=n_targets, name="article_lstm", learning_rate=learning_rate)


def build_article_seq2seq(
    *,
    window,
    n_features=3,
    n_targets=3,
    num_hiddens=64,
    dropout=0.2,
    num_layers=2,
    activation="tanh",
    learning_rate=1e-3,
):
    """The article's ``build_seq2seq_model``, layer for layer.

    ``input (any length) -> encoder LSTM(s) (sequences, dropout=) -> decoder LSTM
    (sequences, dropout=) -> Attention()([decoder, decoder]) -> average over time ->
    Dense(n_targets)``

    The article's code (``hidden_dim=64, drop_rate=0.2``)::

        enc_output = tf.keras.layers.LSTM(hidden_dim, return_sequences=True, dropout=drop_rate)(inputs)
        dec_output = tf.keras.layers.LSTM(hidden_dim, return_sequences=True, dropout=drop_rate)(enc_output)
        attention = tf.keras.layers.Attention()([dec_output, dec_output])
        context = tf.keras.layers.GlobalAveragePooling1D()(attention)
        outputs = tf.keras.layers.Dense(input_size)(context)

    The decoder reads the encoder's output sequence and starts from zeros (no
    ``initial_state``); the attention is Keras' dot-product :class:`keras.layers.Attention`,
    which has no weights; nothing is dropped after the pooling.

    Parameters
    ----------
    window, n_features, n_targets : int
        As in :func:`build_article_lstm`.
    num_hiddens : int
        The article's ``hidden_dim``: units of every LSTM layer.
    dropout : float
        The article's ``drop_rate``: input dropout of every LSTM layer, in [0, 1).
    num_layers : int
        **Every** LSTM layer, the decoder included (>= 2). The article's code has 2 (one
        encoder layer, the decoder); its tuned "3 LSTM layers" is ``num_layers=3``: two
        stacked encoder layers and the decoder. (The book's form counts encoder layers
        only; see :data:`VARIANT_DIFFERENCES`.)
    activation : str
        Activation of the LSTM cells, one of :data:`LSTM_ACTIVATIONS` (the article's code:
        Keras' default ``"tanh"``; its tuned model: ``"sigmoid"``).
    learning_rate : float
        Adam's learning rate (the article's ``'adam'``: 1e-3).
    """
    _, n_features, n_targets, num_hiddens, dropout = _check_recurrent(
        window, n_features, n_targets, num_hiddens, dropout
    )
    num_layers = check_int("num_layers", num_layers, minimum=2)
    activation = check_choice("activation", activation, LSTM_ACTIVATIONS)
    learning_rate = check_positive("learning_rate", learning_rate)

    inputs = _input(None, n_features)
    hidden = _stacked_encoder(inputs, num_layers, num_hiddens=num_hiddens, activation=activation, dropout=dropout)
    decoded = layers.LSTM(
        num_hiddens, activation=activation, return_sequences=True, dropout=dropout, name="decoder_lstm"
    )(hidden)
    attended = layers.Attention(name="self_attention")([decoded, decoded])
    return _averaged_output_model(
        inputs, attended, dropout=None, n_targets=n_targets, name="article_seq2seq_attention",
        learning_rate=learning_rate,
    )


def build_article_transformer(
    *,
    window,
    n_features=3,
    n_targets=3,
    num_heads=4,
    key_dim=16,
    ff_dim=64,
    num_blocks=2,
    dropout=0.1,
    positional_encoding=False,
    learning_rate=1e-3,
):
    """The book's reading of the article's Transformer, which the article gives no code for.

    The article says only that it used multi-head self-attention, converged poorly and
    "possibly lacks positional encoding". So its form here is the book's encoder
    (:func:`build_transformer`) as the article describes it: on the article's three
    features, **without** positional encoding by default (``positional_encoding=True`` is
    the article's own suggested fix), and, like the article's Seq2Seq, with no dropout
    between the pooling and the output. It needs a fixed ``window`` (the positions'
    table has one row per check-in).

    Parameters are those of :func:`build_transformer`.
    """
    return _transformer(_TRANSFORMER_FORMS["article"], **locals())  # locals(): the arguments above, as given


# --------------------------------------------------------------------------- registry

#: The book's forms (the project's improved models), by name.
MODEL_BUILDERS = {"lstm": build_lstm, "seq2seq": build_seq2seq, "transformer": build_transformer}

#: The article's forms, by name (:func:`build_article_lstm`, ...).
ARTICLE_BUILDERS = {
    "lstm": build_article_lstm,
    "seq2seq": build_article_seq2seq,
    "transformer": build_article_transformer,
}

VARIANTS = ("article", "book")

#: Builders per variant and model name.
VARIANT_BUILDERS = {"article": ARTICLE_BUILDERS, "book": MODEL_BUILDERS}

#: The input features each form reads (names of :data:`checkin_traj.sequences.KNOWN_FEATURES`);
#: ``None``: every feature of the windows (the book's default, :data:`checkin_traj.sequences.FEATURES`).
VARIANT_FEATURES = {"article": ("time", "lon", "lat"), "book": None}

#: How the article's three numbers are read in this book (chapters cite it).
ARTICLE_TIME_READING = (
    "The article's form reads the three features it names: the check-in's time (Unix "
    "seconds, min-max scaled on the training rows, as the article's absolute time), its "
    "longitude and its latitude. Its three outputs are read as every model's targets "
    "(checkin_traj.sequences.TARGETS): the gap until the next check-in (log of 1 + minutes), "
    "longitude and latitude, predicted as absolute values (no offset from the last check-in). "
    "Predicting the next check-in's absolute time would be free: the last check-in's time "
    "is already within a few hours of it on a calendar of years."
)

# The rows that read the same for every model they concern (one row, one place).
_INPUT_FEATURES = {
    "aspect": "input features",
    "article": "3: time, longitude, latitude",
    "book": "8: time, longitude, latitude, hour and weekday (sine, cosine), log gap",
    "why": "when a person checks in depends on the hour and the day, which a raw timestamp hides",
}
_INPUT_LENGTH = {
    "aspect": "input length",
    "article": "any (Input(shape=(None, 3)))",
    "book": "fixed: the window",
    "why": "every window has the same length; a fixed shape lets the diagram show it",
}
_TARGETS = {
    "aspect": "targets",
    "article": "absolute (gap, longitude, latitude)",
    "book": "offset from the last check-in, standardised",
    "why": "most next check-ins lie near the last one: the step is what is to learn",
}

#: Every difference between the article's form and the book's form of each model, one
#: row per aspect: ``aspect``, ``article``, ``book`` and ``why`` (the book's reason).
VARIANT_DIFFERENCES = {
    "lstm": (
        _INPUT_FEATURES,
        _INPUT_LENGTH,
        {
            "aspect": "dropout",
            "article": "the LSTM's own input dropout (dropout=)",
            "book": "a Dropout layer after each LSTM layer",
            "why": "drops the LSTM's outputs, which feed the next layer, not its raw inputs",
        },
        _TARGETS,
    ),
    "seq2seq": (
        _INPUT_FEATURES,
        _INPUT_LENGTH,
        {
            "aspect": "dropout",
            "article": "every LSTM's own input dropout (dropout=)",
            "book": "a Dropout layer after the encoder and one after the pooling",
            "why": "regularises the encoder's output and the pooled summary the output reads",
        },
        {
            "aspect": "decoder start",
            "article": "zeros (no initial_state)",
            "book": "the encoder's final state (initial_state)",
            "why": "hands the decoder the encoder's summary, the classic encoder-decoder link",
        },
        {
            "aspect": "attention",
            "article": "layers.Attention(): dot product, no weights",
            "book": "MultiHeadAttention: learned query, key, value and output projections",
            "why": "learned projections let the attention compare check-ins on chosen features",
        },
        {
            "aspect": "num_layers counts",
            "article": "every LSTM layer, decoder included (default 2; tuned: 3)",
            "book": "encoder LSTM layers; the decoder is one more (default 1)",
            "why": "kept for the tuning grids; the article's '3 LSTM layers' is article num_layers=3",
        },
        _TARGETS,
    ),
    "transformer": (
        {
            "aspect": "code",
            "article": "none given: the book's encoder as the article describes it",
            "book": "the book's encoder",
            "why": "the article names multi-head self-attention and no positional encoding, nothing more",
        },
        _INPUT_FEATURES,
        {
            "aspect": "positional encoding",
            "article": "off by default (the article's suspected flaw)",
            "book": "sinusoidal, on by default",
            "why": "without it attention and averaging see the window as an unordered set",
        },
        {
            "aspect": "dropout before the output",
            "article": "none (as the article's Seq2Seq)",
            "book": "a Dropout layer after the pooling",
            "why": "regularises the pooled summary the output reads",
        },
        _TARGETS,
    ),
}

#: The target mode each form trains with (:data:`checkin_traj.training.TARGET_MODES`).
VARIANT_TARGET_MODES = {"article": "absolute", "book": "offset"}

#: Arguments every builder takes from the data rather than from the hyperparameters.
SHAPE_ARGUMENTS = ("window", "n_features", "n_targets")


def variant_differences(name):
    """:data:`VARIANT_DIFFERENCES` of model ``name`` as a table (index ``aspect``).

    Returns
    -------
    pandas.DataFrame
        Columns ``article``, ``book`` and ``why``, one row per difference.
    """
    import pandas as pd

    _builder(name, "article")
    return pd.DataFrame(list(VARIANT_DIFFERENCES[name])).set_index("aspect")


def count_lstm_layers(model):
    """How many LSTM layers ``model`` has (the article's "3 LSTM layers" counts these)."""
    return sum(isinstance(layer, layers.LSTM) for layer in model.layers)


def hyperparameter_names(name, variant="book"):
    """The hyperparameters the builder ``name`` accepts (its keywords, minus the shape ones)."""
    builder = _builder(name, variant)
    return tuple(key for key in inspect.signature(builder).parameters if key not in SHAPE_ARGUMENTS)


def article_hyperparameters(name, hyperparameters):
    """The book form's ``hyperparameters`` read for the article's form of model ``name``.

    Keeps those the article's builder accepts (e.g. Seq2Seq's article form has no
    attention heads) and reads the rest as the article does: its Seq2Seq counts every LSTM
    layer, the decoder's included, so ``num_layers`` grows by one
    (:data:`VARIANT_DIFFERENCES` words each difference).
    """
    accepted = hyperparameter_names(name, "article")
    article = {key: value for key, value in dict(hyperparameters).items() if key in accepted}
    if name == "seq2seq" and "num_layers" in article:
        article["num_layers"] = int(article["num_layers"]) + 1  # the article's count includes the decoder
    return article


def default_hyperparameters(name, variant="book"):
    """The builder's default hyperparameters, e.g. ``{"num_hiddens": 64, "dropout": 0.2, ...}``."""
    builder = _builder(name, variant)
    return {
        key: parameter.default
        for key, parameter in inspect.signature(builder).parameters.items()
        if key not in SHAPE_ARGUMENTS
    }


def _builder(name, variant="book"):
    check_choice("variant", variant, VARIANTS)
    builders = VARIANT_BUILDERS[variant]
    if name not in builders:
        raise ValueError(f"unknown model {name!r}; the models are {sorted(builders)}")
    return builders[name]


def check_hyperparameters(name, hyperparameters, variant="book"):
    """Reject unknown hyperparameter names for model ``name`` (values are checked by the builder).

    Raises
    ------
    ValueError
        Naming the unknown model, variant or hyperparameters and the accepted choices.
    """
    builder = _builder(name, variant)
    accepted = [key for key in inspect.signature(builder).parameters]
    unknown = sorted(set(hyperparameters) - set(accepted))
    if unknown:
        raise ValueError(
            f"unknown hyperparameter(s) {unknown} for model {name!r} ({variant} form); "
            f"it accepts {hyperparameter_names(name, variant)}"
        )
    return builder


def build_model(name, variant="book", **hyperparameters):
    """Build the model ``name`` in its ``variant`` form with its hyperparameters.

    Parameters
    ----------
    name : {"lstm", "seq2seq", "transformer"}
        The model.
    variant : {"book", "article"}
        ``"article"``: the article's code, layer for layer (:data:`ARTICLE_BUILDERS`);
        ``"book"``: the project's form (:data:`MODEL_BUILDERS`). Every difference is in
        :data:`VARIANT_DIFFERENCES`.
    **hyperparameters
        Keyword arguments of the builder, including ``window`` and ``n_features``.

    Raises
    ------
    ValueError
        For an unknown model, variant or hyperparameter, before anything is built.
    """
    builder = check_hyperparameters(name, hyperparameters, variant)
    return builder(**hyperparameters)
