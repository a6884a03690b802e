"""Architecture diagrams drawn from a Keras model's own layers (no graphviz needed).

:func:`architecture_diagram` draws one box per layer of a functional :class:`keras.Model`, from the
input (top) to the output (bottom); a tensor that skips layers (a residual connection, the encoder's
state handed to the decoder) is an arc on the right, labelled with the argument it feeds
(``initial_state``). Change a hyperparameter and the diagram changes with it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

#: Box colour per kind of layer (by class name); other layers are grey.
LAYER_COLOURS = {
    "InputLayer": "#e8e8e8",
    "LSTM": "#9ecae1",
    "MultiHeadAttention": "#fdae6b",
    "Attention": "#fdae6b",
    "Dense": "#a1d99b",
    "Dropout": "#f2f2f2",
    "LayerNormalization": "#dadaeb",
    "Add": "#dadaeb",
    "GlobalAveragePooling1D": "#fcbba1",
    "PositionalEncoding": "#fdd0a2",
}
DEFAULT_COLOUR = "#d9d9d9"


def _keras_histories(node, argument=None):
    """(layer name, output index, argument) of every tensor in a serialised call."""
    found = []
    if isinstance(node, dict):
        if node.get("class_name") == "__keras_tensor__":
            layer, _, tensor_index = node["config"]["keras_history"]
            return [(layer, tensor_index, argument)]
        for key, value in node.items():
            found += _keras_histories(value, argument if key in ("args", "config") or argument else key)
    elif isinstance(node, (list, tuple)):
        for value in node:
            found += _keras_histories(value, argument)
    return found


def layer_graph(model) -> list[dict]:
    """A functional Keras model's layers in order: per layer ``name``, ``kind`` (class name), ``shapes``
    (output shapes without the batch axis, several for a layer returning states), ``parameters``
    (count) and ``inputs`` (``(layer name, output index, argument)``, ``argument`` the keyword
    the tensor is passed as, ``None`` for the main input)."""
    config = model.get_config()
    if "layers" not in config:
        raise ValueError(f"architecture_diagram needs a functional keras.Model, got {type(model).__name__}")
    inbound = {}
    for layer_config in config["layers"]:
        edges = []
        for node in layer_config.get("inbound_nodes", []):
            edges += _keras_histories(node.get("args", []))
            for keyword, value in node.get("kwargs", {}).items():
                edges += [(layer, index, keyword) for layer, index, _ in _keras_histories(value)]
        unique = []
        for edge in edges:
            if edge not in unique:
                unique.append(edge)
        inbound[layer_config["config"]["name"]] = unique
    graph = []
    for layer in model.layers:
        outputs = layer.output if isinstance(layer.output, (list, tuple)) else [layer.output]
        graph.append({
            "name": layer.name, "kind": type(layer).__name__, "shapes": [tuple(output.shape[1:]) for output in outputs],
            "parameters": int(layer.count_params()), "inputs": inbound.get(layer.name, []),
        })
    return graph


def _shape_text(shapes):
    texts = ["(" + ", ".join("?" if size is None else str(size) for size in shape) + ")" for shape in shapes]
    if len(texts) > 1:
        return f"{texts[0]} + states {', '.join(texts[1:])}"
    return texts[0]


def architecture_diagram(model, *, ax=None, title=None, box_width=4.6, row_height=0.62):
    """Draw a functional Keras ``model`` as a column of layer boxes joined by the tensors between them.

    ``title`` defaults to the model's name and weight count; ``box_width``: is in axis units
    (the axis spans about 8), ``row_height`` in inches (for a new figure). Returns the figure.
    """
    graph = layer_graph(model)
    rows = {layer["name"]: row for row, layer in enumerate(graph)}
    fig, ax = plt.subplots(figsize=(7.5, max(2.5, row_height * len(graph) + 0.8))) if ax is None else (ax.figure, ax)
    centre, half = 0.0, box_width / 2.0
    box_height = 0.62
    for row, layer in enumerate(graph):
        y = -row
        ax.add_patch(FancyBboxPatch(
            (centre - half, y - box_height / 2), box_width, box_height, boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=LAYER_COLOURS.get(layer["kind"], DEFAULT_COLOUR), edgecolor="#404040", linewidth=0.8,
        ))
        ax.text(centre, y + 0.1, layer["name"], ha="center", va="center", fontsize=9, fontweight="bold")
        detail = f"{layer['kind']}  {_shape_text(layer['shapes'])}"
        if layer["parameters"]:
            detail += f"  · {layer['parameters']:,} weights"
        ax.text(centre, y - 0.15, detail, ha="center", va="center", fontsize=7.5, color="#303030")
    skip_offsets = {}
    for row, layer in enumerate(graph):
        drawn = set()
        for source, index, argument in layer["inputs"]:
            if (source, argument) in drawn:  # e.g. the two states (h, c) of one LSTM: one arrow
                continue
            drawn.add((source, argument))
            start = rows[source]
            if row - start == 1 and argument is None and index == 0:
                ax.add_patch(FancyArrowPatch(
                    (centre, -start - box_height / 2), (centre, -row + box_height / 2), arrowstyle="-|>", mutation_scale=10,
                    color="#404040", linewidth=0.9,
                ))
                continue
            # A tensor skipping layers (or a state): an arc on the right of the column.
            lane = skip_offsets.setdefault((start, row), len(skip_offsets) % 3)
            rad = -0.35 - 0.12 * lane if row - start > 1 else -0.8
            ax.add_patch(FancyArrowPatch(
                (centre + half, -start), (centre + half, -row), connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>",
                mutation_scale=10, color="#2171b5", linewidth=0.9,
            ))
            label = argument or ("state" if index else "")
            if label:
                bulge = abs(rad) * (row - start) / 2.0
                ax.text(centre + half + bulge + 0.1, -(start + row) / 2.0, label, fontsize=7.5, color="#2171b5", va="center")
    span = max(1, len(graph) - 1)
    ax.set_xlim(centre - half - 0.4, centre + half + 2.6)
    ax.set_ylim(-span - 0.6, 0.6)
    ax.set_axis_off()
    ax.set_title(title or f"{model.name}: {model.count_params():,} weights", fontsize=10)
    return fig
