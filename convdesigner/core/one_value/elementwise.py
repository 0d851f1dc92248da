"""Values computed from a few input values at (or near) the same place: per-value activations,
batch norm, softmax over the channels, the merges, zero padding and upsampling.

Each explainer works the value out again in float64 from the numbers its sentence shows, so
the sentence is checked against the engine (tests/core/test_one_value_ops.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from convdesigner.core.kernels.resample import linear_coordinates, nearest_indices
from convdesigner.core.one_value.results import OtherValue
from convdesigner.core.one_value.spot import Spot
from convdesigner.core.ops.activation import GELU, LeakyReLU
from convdesigner.core.ops.base import Layer
from convdesigner.core.ops.norm import BatchNorm2D
from convdesigner.core.ops.resample import Upsample, ZeroPad2D

VALUES_SHOWN = 6
"""Channel values written out in a softmax's sentence before "…"."""


def _sigmoid(x: float) -> float:
    with np.errstate(over="ignore"):
        return float(1.0 / (1.0 + np.exp(-np.float64(x))))


def _gelu(x: float, approximate: str) -> float:
    if approximate == "tanh":
        return 0.5 * x * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0)))


_FORMULAS: dict[str, tuple[str, Callable[[float], float]]] = {
    "relu": ("max(0, x)", lambda x: max(0.0, x)),
    "relu6": ("min(max(0, x), 6)", lambda x: min(max(0.0, x), 6.0)),
    "sigmoid": ("1 / (1 + e^(−x))", _sigmoid),
    "tanh": ("tanh(x)", math.tanh),
    "silu": ("x · sigmoid(x)", lambda x: x * _sigmoid(x)),
    "hardswish": ("x · min(max(x + 3, 0), 6) / 6", lambda x: x * min(max(x + 3.0, 0.0), 6.0) / 6),
    "identity": ("x", lambda x: x),
    "dropout": ("x (dropout passes values through when not training)", lambda x: x),
}
"""Ops that compute each value from the input value at the same place alone."""


Formula = tuple[str, Callable[[float], float]]


def _leaky_relu(layer: Layer) -> Formula:
    assert isinstance(layer, LeakyReLU)
    slope = layer.negative_slope
    return f"x if x > 0 else {slope:g} · x", lambda x: x if x > 0 else slope * x


def _gelu_formula(layer: Layer) -> Formula:
    assert isinstance(layer, GELU)
    approx = layer.approximate
    text = "x · Φ(x)" if approx == "none" else "x · Φ(x), Φ by its tanh approximation"
    return text, lambda x: _gelu(x, approx)


def _fixed(formula: Formula) -> Callable[[Layer], Formula]:
    return lambda _layer: formula


_FORMULA_OF: dict[str, Callable[[Layer], Formula]] = {
    **{name: _fixed(formula) for name, formula in _FORMULAS.items()},
    LeakyReLU.type_name: _leaky_relu,
    GELU.type_name: _gelu_formula,
}
"""Each per-value op's formula, by its type name, with the layer's settings (a slope, an
approximation) written in."""


def _formula(layer: Layer | None) -> Formula:
    """The formula's text and its value in float64, with the layer's settings."""
    assert layer is not None
    return _FORMULA_OF[layer.type_name](layer)


def per_value(spot: Spot) -> OtherValue:
    formula, f = _formula(spot.row.layer)
    before = float(spot.source()[spot.channel, spot.y, spot.x])
    total = f(before)
    return spot.say(
        f"{spot.head} = {formula} with x = {before:.4g}, the value at the same place of "
        f"'{spot.row.inputs[0]}' = {total:.4g}",
        total,
        max(abs(before), abs(total)),
    )


PER_VALUE = tuple(_FORMULA_OF)


def batch_norm(spot: Spot) -> OtherValue:
    layer = spot.row.layer
    assert isinstance(layer, BatchNorm2D)
    c = spot.channel
    x = float(spot.source()[c, spot.y, spot.x])
    gamma, beta = float(spot.param("weight")[c]), float(spot.param("bias")[c])
    mean, var = float(spot.param("running_mean")[c]), float(spot.param("running_var")[c])
    scale = gamma / math.sqrt(var + layer.eps)
    total = (x - mean) * scale + beta
    return spot.say(
        f"{spot.head} = (x − mean) / √(var + eps) · γ + β = ({x:.4g} − {mean:.4g}) / "
        f"√({var:.4g} + {layer.eps:g}) · {gamma:.4g} + {beta:.4g} = {total:.4g}, with x the "
        f"value at the same place of '{spot.row.inputs[0]}' and channel {c}'s running mean and "
        "variance, scale γ and shift β",
        total,
        abs(x * scale) + abs(mean * scale) + abs(beta),
    )


def softmax(spot: Spot) -> OtherValue:
    values = spot.source()[:, spot.y, spot.x].astype(np.float64)
    peak = float(values.max())
    exps = np.exp(values - peak)
    total = float(exps[spot.channel] / exps.sum())
    shown = ", ".join(f"{v:.4g}" for v in values[:VALUES_SHOWN])
    if len(values) > VALUES_SHOWN:
        shown += ", …"
    return spot.say(
        f"{spot.head} = e^x / Σ e^x over the {len(values)} channels at row {spot.y}, col "
        f"{spot.x} of '{spot.row.inputs[0]}' (values {shown}), with x = "
        f"{values[spot.channel]:.4g}; the largest, {peak:.4g}, is subtracted first so that e^x "
        f"cannot overflow (the ratio is the same): {exps[spot.channel]:.4g} / "
        f"{float(exps.sum()):.4g} = {total:.4g}",
        total,
        1.0,
    )


def add(spot: Spot) -> OtherValue:
    values = [
        float(spot.input_map(k)[spot.channel, spot.y, spot.x]) for k in range(len(spot.row.inputs))
    ]
    total = math.fsum(values)
    terms = " + ".join(
        f"{v:.4g} ('{name}')" for v, name in zip(values, spot.row.inputs, strict=True)
    )
    return spot.say(
        f"{spot.head} = the sum of the values at the same place of each input = {terms} = "
        f"{total:.4g}",
        total,
        sum(abs(v) for v in values),
    )


def _factor(spot: Spot, k: int) -> tuple[float, str]:
    """Input ``k``'s factor and where it comes from (a 1×1 gate holds one value a channel)."""
    array = spot.input_map(k)
    name = spot.row.inputs[k]
    if array.shape[1:] == (1, 1) and spot.row.output_shape != array.shape:
        return (
            float(array[spot.channel, 0, 0]),
            f"'{name}', 1×1: one value per channel, scaling the whole channel",
        )
    return float(array[spot.channel, spot.y, spot.x]), f"'{name}' at the same place"


def multiply(spot: Spot) -> OtherValue:
    (a, where_a), (b, where_b) = _factor(spot, 0), _factor(spot, 1)
    total = a * b
    return spot.say(
        f"{spot.head} = {a:.4g} ({where_a}) × {b:.4g} ({where_b}) = {total:.4g}",
        total,
        abs(total),
    )


def concat(spot: Spot) -> OtherValue:
    start = 0
    for k, name in enumerate(spot.row.inputs):
        array = spot.input_map(k)
        n = array.shape[0]
        if spot.channel < start + n:
            local = spot.channel - start
            value = float(array[local, spot.y, spot.x])
            return spot.say(
                f"{spot.head} = {value:.4g}, copied from channel {local} of '{name}' at the same "
                f"place: input {k + 1} of {len(spot.row.inputs)}, whose {n} channel"
                f"{'s are' if n != 1 else ' is'} output channel{'s' if n != 1 else ''} "
                f"{start}{f'…{start + n - 1}' if n != 1 else ''}",
                value,
                abs(value),
            )
        start += n
    raise ValueError(f"channel {spot.channel} is beyond the {start} channels '{spot.row.id}' joins")


def zero_pad(spot: Spot) -> OtherValue:
    layer = spot.row.layer
    assert isinstance(layer, ZeroPad2D)
    (top, _), (left, _) = layer.padding
    _, h, w = spot.source().shape
    r, c = spot.y - top, spot.x - left
    name = spot.row.inputs[0]
    sides = [
        side
        for side, out in (("top", r < 0), ("bottom", r >= h), ("left", c < 0), ("right", c >= w))
        if out
    ]
    if sides:
        return spot.say(
            f"{spot.head} = 0: a zero of the {' and '.join(sides)} padding, not a value of "
            f"'{name}'",
            0.0,
            0.0,
        )
    value = float(spot.source()[spot.channel, r, c])
    return spot.say(
        f"{spot.head} = {value:.4g}, copied from row {r}, col {c} of '{name}' (shifted by the "
        f"{top} row(s) of top padding and the {left} column(s) of left padding)",
        value,
        abs(value),
    )


def _axis(layer: Upsample, o: int, n_in: int, n_out: int, axis: int) -> tuple[int, float]:
    """Torch's lower source index and the weight of the next one, along one axis."""
    if n_in == n_out:  # torch copies along an axis whose size does not change
        return o, 0.0
    scale = None if layer.scale is None else layer.scale[axis]
    if layer.mode == "nearest":
        return int(nearest_indices(n_in, n_out, scale)[o]), 0.0
    i0, lam = linear_coordinates(n_in, n_out, scale, layer.align_corners)
    return int(i0[o]), float(lam[o])


def _rule(layer: Upsample, axis: int, n_in: int, n_out: int) -> str:
    sym = "y" if axis == 0 else "x"
    ratio = f"{n_in}/{n_out}" if layer.scale is None else f"1/{layer.scale[axis]:g}"
    if n_in == n_out:
        return f"{sym} itself (the size does not change)"
    if layer.mode == "nearest":
        return f"floor({sym} × {ratio})"
    if layer.align_corners:
        return f"{sym} × ({n_in} − 1)/({n_out} − 1)"
    return f"max(({sym} + 0.5) × {ratio} − 0.5, 0)"


def upsample(spot: Spot) -> OtherValue:
    layer = spot.row.layer
    assert isinstance(layer, Upsample)
    source = spot.source()
    _, h, w = source.shape
    assert spot.row.output_shape is not None
    _, ho, wo = spot.row.output_shape
    r0, ly = _axis(layer, spot.y, h, ho, 0)
    c0, lx = _axis(layer, spot.x, w, wo, 1)
    name = spot.row.inputs[0]
    how = f"source row = {_rule(layer, 0, h, ho)}, col = {_rule(layer, 1, w, wo)}"
    channel = source[spot.channel].astype(np.float64)
    if layer.mode == "nearest":
        value = float(channel[r0, c0])
        return spot.say(
            f"{spot.head} = {value:.4g}, copied from row {r0}, col {c0} of channel "
            f"{spot.channel} of '{name}' (nearest: {how})",
            value,
            abs(value),
        )
    r1, c1 = min(r0 + 1, h - 1), min(c0 + 1, w - 1)
    corners = [
        ((1 - ly) * (1 - lx), r0, c0),
        ((1 - ly) * lx, r0, c1),
        (ly * (1 - lx), r1, c0),
        (ly * lx, r1, c1),
    ]
    terms = [(wt, float(channel[r, c]), r, c) for wt, r, c in corners]
    total = math.fsum(wt * v for wt, v, _, _ in terms)
    parts = " + ".join(f"{wt:.3g} × {v:.4g} (row {r}, col {c})" for wt, v, r, c in terms)
    return spot.say(
        f"{spot.head} = bilinear mix of the 4 neighbours of the source point row "
        f"{r0 + ly:.4g}, col {c0 + lx:.4g} in channel {spot.channel} of '{name}' "
        f"({how}; align_corners={layer.align_corners}), each weighted by (1 − {ly:.3g}) or "
        f"{ly:.3g} down times (1 − {lx:.3g}) or {lx:.3g} across: {parts} = {total:.4g}",
        total,
        math.fsum(abs(wt * v) for wt, v, _, _ in terms),
    )


EXPLAINERS: dict[str, Callable[[Spot], OtherValue]] = {
    **dict.fromkeys(PER_VALUE, per_value),
    BatchNorm2D.type_name: batch_norm,
    "softmax": softmax,
    "add": add,
    "multiply": multiply,
    "concat": concat,
    ZeroPad2D.type_name: zero_pad,
    Upsample.type_name: upsample,
}
