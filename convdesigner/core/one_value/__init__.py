"""How one output value was computed, with the actual numbers (no Qt).

A learner clicks one value of a feature map and asks where it came from. For a convolution the
answer is a window of the input across the channels its filter reads, the filter's kernel, one
partial sum per input channel, the bias and their total, which is the value the engine
produced (to float32 rounding). A transposed convolution gets the same sum over the taps that
land on this output; every other op that outputs a map gets a sentence with its numbers
(pooling's window and maximum or mean, batch norm's formula, the inputs of a merge, the source
positions of padding and upsampling...). Each result also works the value out again from the
numbers it shows, which the tests compare with the engine's for every op of the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from convdesigner.core.analysis import Analysis, analyse
from convdesigner.core.design import INPUT_ID
from convdesigner.core.one_value import elementwise, windows
from convdesigner.core.one_value.results import (
    ConvTransposeValue,
    ConvValue,
    Explained,
    OtherValue,
    where,
)
from convdesigner.core.one_value.spot import Spot
from convdesigner.core.viewer import Activations
from convdesigner.core.weights import DefaultWeights

EXPLAINERS: dict[str, Callable[[Spot], Explained]] = {
    **windows.EXPLAINERS,
    **elementwise.EXPLAINERS,
}
"""How each op's values are taken apart, by the registry's type name."""


def explain_value(
    analysis: Analysis,
    arrays: Mapping[str, np.ndarray],
    weights: Mapping[str, np.ndarray],
    node: str,
    channel: int,
    y: int,
    x: int,
) -> Explained:
    """Take output ``[channel, y, x]`` of ``node`` apart.

    ``arrays``: every node's (C, H, W) output by id, ``"input"`` included (a viewer run keeps
    them all); ``weights``: the run's parameters by ``{id}.weight`` / ``{id}.bias``.
    """
    if node == INPUT_ID:
        raise ValueError("the input is not computed from anything: choose a layer")
    row = analysis.row(node)
    output = arrays.get(node)
    if output is None:
        raise ValueError(f"the output of '{node}' was not computed")
    if output.ndim != 3:
        raise ValueError(f"'{node}' outputs a vector, not a map: pick a layer with a map")
    c_out, h_out, w_out = output.shape
    if not (0 <= channel < c_out and 0 <= y < h_out and 0 <= x < w_out):
        raise ValueError(
            f"channel {channel}, row {y}, col {x} is outside the {c_out}×{h_out}×{w_out} output "
            f"of '{node}'"
        )
    value = float(output[channel, y, x])
    explain = None if row.layer is None else EXPLAINERS.get(row.layer.type_name)
    if explain is not None:
        return explain(Spot(row, arrays, weights, channel, y, x, value))
    name = row.type if row.layer is None else row.layer.display_name
    return OtherValue(
        node,
        channel,
        y,
        x,
        value,
        f"{where(channel, y, x)} = {value:.4g}. This version cannot take a {name} value apart.",
    )


def explain_in_run(
    activations: Activations,
    node: str,
    channel: int,
    y: int,
    x: int,
    analysis: Analysis | None = None,
) -> Explained:
    """:func:`explain_value` for a viewer run, with the default weights of its seed (the ones
    the run used; only this node's are drawn). ``analysis``: of ``activations.design``, if the
    caller has it."""
    design = activations.design
    if analysis is None or analysis.design is not design:
        analysis = analyse(design)
    weights = DefaultWeights(design, activations.seed, analysis=analysis)
    return explain_value(analysis, activations.as_dict(), weights, node, channel, y, x)


__all__ = [
    "EXPLAINERS",
    "ConvTransposeValue",
    "ConvValue",
    "Explained",
    "OtherValue",
    "explain_in_run",
    "explain_value",
]
