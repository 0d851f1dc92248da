"""Answers to a learner's questions about the selected layer, with the design's own numbers.

The README promises answers to five questions (why a conv output is 3-D, what a 1×1 conv does,
depthwise-separable versus normal, that pooling acts per channel, why wide chained layers cost
quadratically). The texts live here, without Qt, so they are tested on plain designs and the
explain panel, the property panel's header, the weights view and the cost chart only show them.

Every number is read from an analysis, and the "what if" figures come from analysing the edited
design for real (never from a formula kept beside the analysis), so they are exact for any graph.
"""

from __future__ import annotations

from convdesigner.core.analysis import LayerRow
from convdesigner.core.ops import ConvTranspose2D, Dense, spec_for
from convdesigner.core.ops.conv import Conv2D
from convdesigner.core.units import fmt


def _dims(values: tuple[int, ...]) -> str:
    return "×".join(str(v) for v in values)


def weight_shape_text(row: LayerRow) -> str:
    """The weight tensor's shape as MATLAB's analyzer and Keras write it, or "" if none.

    Conv2D: kh×kw×(C_in / groups)×filters ("5×5×100×150"); ConvTranspose2D: kh×kw×(filters /
    groups)×C_in; Dense: inputs×units. Other layers with a ``weight`` parameter (batch norm's
    scale) give that parameter's shape. The saved ``.npz`` files use PyTorch's order instead
    (filters first); the table shows the order learners meet in course material.
    """
    layer, shape = row.layer, row.input_shape
    if layer is None or shape is None or not row.ok:
        return ""
    if isinstance(layer, Conv2D):
        return _dims((*layer.kernel, shape[0] // layer.groups, layer.filters))
    if isinstance(layer, ConvTranspose2D):
        return _dims((*layer.kernel, layer.filters // layer.groups, shape[0]))
    if isinstance(layer, Dense):
        return _dims((shape[0], layer.units))
    if not row.weights:
        return ""
    shapes = tuple(s for s in row.input_shapes if s is not None)  # all known on an OK row
    params = spec_for(layer).param_shapes(layer, shapes)
    weight = params.get("weight")
    return _dims(weight) if weight else ""


def bias_shape_text(row: LayerRow) -> str:
    """The bias vector's length ("150"), or "" for a layer without biases."""
    return str(row.biases) if row.ok and row.biases else ""


def weights_text(row: LayerRow) -> str:
    """ "Weights 5×5×100×150 (375,000) · Bias 150", MATLAB's analyzer's wording; "" if none."""
    shape = weight_shape_text(row)
    if not shape:
        return ""
    text = f"Weights {shape} ({fmt(row.weights)})"
    bias = bias_shape_text(row)
    return f"{text} · Bias {bias}" if bias else text
