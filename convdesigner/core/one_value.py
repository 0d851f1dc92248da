"""How one output value was computed, with the actual numbers (no Qt).

A learner clicks one value of a feature map and asks where it came from. For a convolution the
answer is a window of the input across the channels its filter reads, the filter's kernel, one
partial sum per input channel, the bias and their total, which is the value the engine
produced (to float32 rounding). The window is taken with the padding the analysis applied, so
this explanation and the engine can never disagree about geometry; padded taps are marked,
since seeing zeros come from outside the image is part of the lesson.

Pooling gets its window and maximum or mean, a per-value activation its formula; other ops a
one-line note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from convdesigner.core.analysis import Analysis, LayerRow, analyse
from convdesigner.core.design import INPUT_ID
from convdesigner.core.ops.base import Layer
from convdesigner.core.ops.conv import Conv2D
from convdesigner.core.ops.pool import AvgPool2D, MaxPool2D, include_pad
from convdesigner.core.viewer import Activations
from convdesigner.core.weights import DefaultWeights

PARTIALS_SHOWN = 4
"""Partial sums written out in the one-line text before "…"."""


@dataclass(frozen=True)
class ConvValue:
    """One output value of a convolution, taken apart."""

    node: str
    channel: int
    y: int
    x: int
    source: str
    """Id of the node the convolution reads (``"input"`` for the image)."""
    in_channels: tuple[int, ...]
    """The input channels this filter reads: all of them, or its group's."""
    rows: tuple[int, ...]
    """Input row of each kernel row (outside 0..H-1: in the padding)."""
    cols: tuple[int, ...]
    window: np.ndarray
    """(len(in_channels), kh, kw) input values under the kernel, 0 in the padding."""
    padded: np.ndarray
    """(kh, kw) True where the tap falls in the padding (the same for every channel)."""
    kernel: np.ndarray
    """(len(in_channels), kh, kw): weight[channel]."""
    partial_sums: np.ndarray
    """One Σ window × kernel per input channel (float64)."""
    bias: float
    total: float
    """Σ partial sums + bias, in float64."""
    engine_value: float
    """What the engine computed for this position (float32)."""

    @property
    def kernel_size(self) -> tuple[int, int]:
        return int(self.kernel.shape[1]), int(self.kernel.shape[2])

    def text(self) -> str:
        """One line: what is summed, the first partial sums and the total."""
        kh, kw = self.kernel_size
        n = len(self.in_channels)
        over = f"{n} channel{'s' if n != 1 else ''} × {kh}×{kw} window"
        shown = [f"{v:.4g}" for v in self.partial_sums[:PARTIALS_SHOWN]]
        if n > PARTIALS_SHOWN:
            shown.append("…")
        terms = " + ".join(shown) + f" + {self.bias:.4g}"
        return (
            f"out[c={self.channel}, y={self.y}, x={self.x}] = Σ over {over} of input × kernel"
            f" + bias = {terms} = {self.total:.4g}"
        )


@dataclass(frozen=True)
class OtherValue:
    """A value of an op that is not taken apart channel by channel: a sentence says how."""

    node: str
    channel: int
    y: int
    x: int
    engine_value: float
    explanation: str

    def text(self) -> str:
        return self.explanation


_FORMULAS = {
    "relu": "max(0, x)",
    "relu6": "min(max(0, x), 6)",
    "sigmoid": "1 / (1 + e^(−x))",
    "tanh": "tanh(x)",
    "silu": "x · sigmoid(x)",
    "hardswish": "x · min(max(x + 3, 0), 6) / 6",
    "gelu": "x · Φ(x)",
    "identity": "x",
    "dropout": "x (dropout passes values through when not training)",
}
"""Ops that compute each value from the input value at the same place alone."""


def _per_value_formula(layer: Layer | None) -> str | None:
    if layer is None:
        return None
    slope = getattr(layer, "negative_slope", None)
    if layer.type_name == "leakyrelu" and slope is not None:
        return f"x if x > 0 else {slope:g} · x"
    return _FORMULAS.get(layer.type_name)


def _window_indices(
    out: int, stride: int, dilation: int, pad_before: int, kernel: int
) -> np.ndarray:
    start = out * stride - pad_before
    return start + dilation * np.arange(kernel)


def _gather(
    array: np.ndarray, channels: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The (channels, rows, cols) taps of ``array`` as float64, 0 outside it; and the mask of
    the taps outside it (kh, kw)."""
    h, w = array.shape[1:]
    row_ok = (rows >= 0) & (rows < h)
    col_ok = (cols >= 0) & (cols < w)
    inside = row_ok[:, None] & col_ok[None, :]
    taken = array[np.ix_(channels, np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1))]
    window = np.where(inside[None], taken.astype(np.float64), 0.0)
    return window, ~inside


def _source_map(analysis: Analysis, row: LayerRow, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
    if len(row.inputs) != 1:
        raise ValueError(f"'{row.id}' reads {len(row.inputs)} inputs; expected one")
    source = row.inputs[0]
    array = arrays.get(source)
    if array is None or array.ndim != 3:
        raise ValueError(f"the output of '{source}' (read by '{row.id}') was not computed")
    return array


def explain_value(
    analysis: Analysis,
    arrays: Mapping[str, np.ndarray],
    weights: Mapping[str, np.ndarray],
    node: str,
    channel: int,
    y: int,
    x: int,
) -> ConvValue | OtherValue:
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
    layer = row.layer
    if isinstance(layer, Conv2D):
        return _conv(analysis, row, layer, arrays, weights, channel, y, x, value)
    if isinstance(layer, MaxPool2D):
        return _maxpool(analysis, row, arrays, channel, y, x, value)
    if isinstance(layer, AvgPool2D) and not layer.ceil_mode:
        return _avgpool(analysis, row, layer, arrays, channel, y, x, value)
    formula = _per_value_formula(layer)
    if formula is not None:
        source = _source_map(analysis, row, arrays)
        if source.shape == output.shape:
            before = float(source[channel, y, x])
            return OtherValue(
                node,
                channel,
                y,
                x,
                value,
                f"out[c={channel}, y={y}, x={x}] = {formula} with x = {before:.4g}, the value "
                f"at the same place of '{row.inputs[0]}' = {value:.4g}",
            )
    name = row.type if layer is None else layer.display_name
    return OtherValue(
        node,
        channel,
        y,
        x,
        value,
        f"out[c={channel}, y={y}, x={x}] = {value:.4g}. Taking a value apart is shown for "
        f"convolutions, pooling and per-value activations; {name} is not one.",
    )


def _conv(
    analysis: Analysis,
    row: LayerRow,
    layer: Conv2D,
    arrays: Mapping[str, np.ndarray],
    weights: Mapping[str, np.ndarray],
    channel: int,
    y: int,
    x: int,
    value: float,
) -> ConvValue:
    source = _source_map(analysis, row, arrays)
    assert row.padding is not None  # a conv row without an error has its applied padding
    (top, _), (left, _) = row.padding
    (kh, kw), (sh, sw), (dh, dw) = layer.kernel, layer.stride, layer.dilation
    per_group = source.shape[0] // layer.groups
    group = channel // (layer.filters // layer.groups)
    channels = np.arange(group * per_group, (group + 1) * per_group)
    rows = _window_indices(y, sh, dh, top, kh)
    cols = _window_indices(x, sw, dw, left, kw)
    window, padded = _gather(source, channels, rows, cols)
    kernel = np.asarray(weights[f"{row.id}.weight"][channel], dtype=np.float64)
    partial = (window * kernel).sum(axis=(1, 2))
    bias = float(weights[f"{row.id}.bias"][channel]) if layer.bias else 0.0
    return ConvValue(
        node=row.id,
        channel=channel,
        y=y,
        x=x,
        source=row.inputs[0],
        in_channels=tuple(int(c) for c in channels),
        rows=tuple(int(r) for r in rows),
        cols=tuple(int(c) for c in cols),
        window=window,
        padded=padded,
        kernel=kernel,
        partial_sums=partial,
        bias=bias,
        total=float(partial.sum()) + bias,
        engine_value=value,
    )


def _maxpool(
    analysis: Analysis,
    row: LayerRow,
    arrays: Mapping[str, np.ndarray],
    channel: int,
    y: int,
    x: int,
    value: float,
) -> OtherValue:
    source = _source_map(analysis, row, arrays)
    assert row.padding is not None
    assert row.kernel is not None
    assert row.stride is not None
    (top, _), (left, _) = row.padding
    rows = _window_indices(y, row.stride[0], 1, top, row.kernel[0])
    cols = _window_indices(x, row.stride[1], 1, left, row.kernel[1])
    window, outside = _gather(source, np.array([channel]), rows, cols)
    # Max pooling pads with -inf: taps outside the input never win.
    best = float(np.where(outside, -np.inf, window[0]).max())
    r0, c0 = int(rows[0]), int(cols[0])
    return OtherValue(
        row.id,
        channel,
        y,
        x,
        value,
        f"out[c={channel}, y={y}, x={x}] = max of the {len(rows)}×{len(cols)} window of "
        f"channel {channel} of '{row.inputs[0]}' from row {r0}, col {c0} = {best:.4g}",
    )


def explain_in_run(
    activations: Activations,
    node: str,
    channel: int,
    y: int,
    x: int,
    analysis: Analysis | None = None,
) -> ConvValue | OtherValue:
    """:func:`explain_value` for a viewer run, with the default weights of its seed (the ones
    the run used; only this node's are drawn). ``analysis``: of ``activations.design``, if the
    caller has it."""
    design = activations.design
    if analysis is None or analysis.design is not design:
        analysis = analyse(design)
    weights = DefaultWeights(design, activations.seed, analysis=analysis)
    return explain_value(analysis, activations.as_dict(), weights, node, channel, y, x)


def _avgpool(
    analysis: Analysis,
    row: LayerRow,
    layer: AvgPool2D,
    arrays: Mapping[str, np.ndarray],
    channel: int,
    y: int,
    x: int,
    value: float,
) -> OtherValue:
    source = _source_map(analysis, row, arrays)
    assert row.padding is not None
    assert row.kernel is not None
    assert row.stride is not None
    (top, _), (left, _) = row.padding
    rows = _window_indices(y, row.stride[0], 1, top, row.kernel[0])
    cols = _window_indices(x, row.stride[1], 1, left, row.kernel[1])
    window, outside = _gather(source, np.array([channel]), rows, cols)
    taps = outside.size if include_pad(layer) else int((~outside).sum())
    why = "padding zeros included" if include_pad(layer) else "padding not counted"
    mean = float(window.sum()) / taps
    return OtherValue(
        row.id,
        channel,
        y,
        x,
        value,
        f"out[c={channel}, y={y}, x={x}] = mean of the {len(rows)}×{len(cols)} window of "
        f"channel {channel} of '{row.inputs[0]}' from row {int(rows[0])}, col {int(cols[0])} "
        f"= {float(window.sum()):.4g} / {taps} ({why}) = {mean:.4g}",
    )
