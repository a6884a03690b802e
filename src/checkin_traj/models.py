"""Keras builders for the three models of the book: LSTM, Seq2Seq with self-attention, Transformer.

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
import math
import numbers

import keras
import numpy as np
from keras import layers

#: Cell activations that ``build_seq2seq`` accepts (the tuning chapter varies them).
LSTM_ACTIVATIONS = ("tanh", "sigmoid", "relu", "elu", "softsign", "linear")


# --------------------------------------------------------------------------- checks


def _check_int(name, value, *, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_fraction(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def _check_shape(window, n_features, n_targets):
    return (
        _check_int("window", window, minimum=1),
        _check_int("n_features", n_features, minimum=1),
        _check_int("n_targets", n_targets, minimum=1),
    )


def _input(window, n_features):
    """The input of every model: ``window`` check-ins of ``n_features`` each."""
    return keras.Input(shape=(window, n_features), name="check_ins")


def _output_model(inputs, hidden, *, n_targets, name, learning_rate):
    """The linear output layer on ``hidden``; the model compiled with Adam and mean squared error."""
    outputs = layers.Dense(n_targets, name="next_check_in")(hidden)
    model = keras.Model(inputs, outputs, name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
    return model


def _averaged_output_model(inputs, sequence, *, dropout, n_targets, name, learning_rate):
    """``sequence`` averaged over time, then dropout and the output layer (Seq2Seq and Transformer)."""
    pooled = layers.GlobalAveragePooling1D(name="average_over_time")(sequence)
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
    window, n_features, n_targets = _check_shape(window, n_features, n_targets)
    num_hiddens = _check_int("num_hiddens", num_hiddens, minimum=1)
    dropout = _check_fraction("dropout", dropout)
    learning_rate = _check_positive("learning_rate", learning_rate)

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
    window, n_features, n_targets = _check_shape(window, n_features, n_targets)
    num_hiddens = _check_int("num_hiddens", num_hiddens, minimum=1)
    dropout = _check_fraction("dropout", dropout)
    num_layers = _check_int("num_layers", num_layers, minimum=1)
    num_heads = _check_int("num_heads", num_heads, minimum=1)
    if activation not in LSTM_ACTIVATIONS:
        raise ValueError(f"activation must be one of {LSTM_ACTIVATIONS}, got {activation!r}")
    learning_rate = _check_positive("learning_rate", learning_rate)

    inputs = _input(window, n_features)
    hidden = inputs
    for layer in range(1, num_layers):
        hidden = layers.LSTM(
            num_hiddens, activation=activation, return_sequences=True, name=f"encoder_lstm_{layer}"
        )(hidden)
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
    window = _check_int("window", window, minimum=1)
    depth = _check_int("depth", depth, minimum=1)
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
    window, n_features, n_targets = _check_shape(window, n_features, n_targets)
    num_heads = _check_int("num_heads", num_heads, minimum=1)
    key_dim = _check_int("key_dim", key_dim, minimum=1)
    ff_dim = _check_int("ff_dim", ff_dim, minimum=1)
    num_blocks = _check_int("num_blocks", num_blocks, minimum=1)
    dropout = _check_fraction("dropout", dropout)
    if not isinstance(positional_encoding, (bool, np.bool_)):
        raise ValueError(f"positional_encoding must be True or False, got {positional_encoding!r}")
    learning_rate = _check_positive("learning_rate", learning_rate)

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
    name = "transformer" if positional_encoding else "transformer_no_positions"
    return _averaged_output_model(
        inputs, hidden, dropout=dropout, n_targets=n_targets, name=name, learning_rate=learning_rate
    )


# --------------------------------------------------------------------------- registry

MODEL_BUILDERS = {"lstm": build_lstm, "seq2seq": build_seq2seq, "transformer": build_transformer}

#: Arguments every builder takes from the data rather than from the hyperparameters.
SHAPE_ARGUMENTS = ("window", "n_features", "n_targets")


def hyperparameter_names(name):
    """The hyperparameters the builder ``name`` accepts (its keywords, minus the shape ones)."""
    builder = _builder(name)
    return tuple(key for key in inspect.signature(builder).parameters if key not in SHAPE_ARGUMENTS)


def default_hyperparameters(name):
    """The builder's default hyperparameters, e.g. ``{"num_hiddens": 64, "dropout": 0.2, ...}``."""
    builder = _builder(name)
    return {
        key: parameter.default
        for key, parameter in inspect.signature(builder).parameters.items()
        if key not in SHAPE_ARGUMENTS
    }


def _builder(name):
    if name not in MODEL_BUILDERS:
        raise ValueError(f"unknown model {name!r}; the models are {sorted(MODEL_BUILDERS)}")
    return MODEL_BUILDERS[name]


def check_hyperparameters(name, hyperparameters):
    """Reject unknown hyperparameter names for model ``name`` (values are checked by the builder).

    Raises
    ------
    ValueError
        Naming the unknown model or hyperparameters and the accepted choices.
    """
    builder = _builder(name)
    accepted = [key for key in inspect.signature(builder).parameters]
    unknown = sorted(set(hyperparameters) - set(accepted))
    if unknown:
        raise ValueError(
            f"unknown hyperparameter(s) {unknown} for model {name!r}; it accepts {hyperparameter_names(name)}"
        )
    return builder


def build_model(name, **hyperparameters):
    """Build the model ``name`` (a key of :data:`MODEL_BUILDERS`) with its hyperparameters.

    Parameters
    ----------
    name : {"lstm", "seq2seq", "transformer"}
        The model.
    **hyperparameters
        Keyword arguments of the builder, including ``window`` and ``n_features``.

    Raises
    ------
    ValueError
        For an unknown model or hyperparameter, before anything is built.
    """
    builder = check_hyperparameters(name, hyperparameters)
    return builder(**hyperparameters)
