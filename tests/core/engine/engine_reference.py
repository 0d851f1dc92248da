"""A slow, obviously-correct forward pass written with explicit loops, channels-first.

It computes its own padding and output sizes from the written rules (PyTorch's output size,
TensorFlow's "same", PyTorch's ceil_mode and count_include_pad, the transposed convolution's
scatter, PyTorch's upsampling coordinates), independently of the analysis and of the engine, so
agreement means both follow the definitions. Only for tiny inputs.

:data:`REFERENCE` has one function per type name of the registry (a test fails when an op has
none); :func:`forward` walks a graph in the design's order, each node reading its inputs by id
and its parameters under ``{id}.``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from convdesigner.core.design import INPUT_ID, Design
from convdesigner.core.layers import (
    GELU,
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    ConvTranspose2D,
    Dense,
    Layer,
    LeakyReLU,
    MaxPool2D,
    Upsample,
    ZeroPad2D,
)


def axis_geometry(
    size: int, k: int, s: int, d: int, padding: object, axis: int, ceil_mode: bool = False
) -> tuple[int, int, int]:
    """(output size, pad before, pad after) along one axis."""
    k_eff = d * (k - 1) + 1
    if padding == "same":
        out = math.ceil(size / s)
        total = max((out - 1) * s + k_eff - size, 0)
        return out, total // 2, total - total // 2
    before = after = 0 if padding == "valid" else padding[axis]  # type: ignore[index]
    span = size + before + after - k_eff
    if ceil_mode:
        out = math.ceil(span / s) + 1
        if (out - 1) * s >= size + before:
            out -= 1
    else:
        out = span // s + 1
    return out, before, after


def conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, layer: Conv2D) -> np.ndarray:
    _c_in, h, wd = x.shape
    c_out, cg, kh, kw = w.shape
    (sh, sw), (dh, dw), g = layer.stride, layer.dilation, layer.groups
    ho, top, _ = axis_geometry(h, kh, sh, dh, layer.padding, 0)
    wo, left, _ = axis_geometry(wd, kw, sw, dw, layer.padding, 1)
    out = np.zeros((c_out, ho, wo), dtype=np.float64)
    per_group_out = c_out // g
    for co in range(c_out):
        group = co // per_group_out
        for oy in range(ho):
            for ox in range(wo):
                total = 0.0 if b is None else float(b[co])
                for ci in range(cg):
                    for i in range(kh):
                        for j in range(kw):
                            y = oy * sh - top + i * dh
                            xx = ox * sw - left + j * dw
                            if 0 <= y < h and 0 <= xx < wd:
                                total += float(x[group * cg + ci, y, xx]) * float(w[co, ci, i, j])
                out[co, oy, ox] = total
    return out


def pool(x: np.ndarray, layer: MaxPool2D | AvgPool2D) -> np.ndarray:
    c, h, w = x.shape
    kh, kw = layer.kernel
    sh, sw = layer.effective_stride
    same = layer.padding == "same"
    ceil_mode = layer.ceil_mode and not same
    ho, top, bottom = axis_geometry(h, kh, sh, 1, layer.padding, 0, ceil_mode)
    wo, left, right = axis_geometry(w, kw, sw, 1, layer.padding, 1, ceil_mode)
    include_pad = isinstance(layer, AvgPool2D) and layer.count_include_pad and not same
    out = np.zeros((c, ho, wo), dtype=np.float64)
    for ch in range(c):
        for oy in range(ho):
            for ox in range(wo):
                values = []
                padded_cells = 0
                for i in range(kh):
                    for j in range(kw):
                        y, xx = oy * sh - top + i, ox * sw - left + j
                        if 0 <= y < h and 0 <= xx < w:
                            values.append(float(x[ch, y, xx]))
                        elif -top <= y < h + bottom and -left <= xx < w + right:
                            padded_cells += 1  # inside the padding, not beyond it
                if isinstance(layer, MaxPool2D):
                    out[ch, oy, ox] = max(values)
                else:
                    count = len(values) + (padded_cells if include_pad else 0)
                    out[ch, oy, ox] = sum(values) / count
    return out


def conv_transpose(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, layer: ConvTranspose2D
) -> np.ndarray:
    """Each input value scatters ``value × kernel`` into the output at ``i·stride + k·dilation``
    (shifted up and left by the padding, which crops the full result on every side)."""
    c_in, h, wd = x.shape
    _, per_group, kh, kw = w.shape
    (sh, sw), (dh, dw) = layer.stride, layer.dilation
    (ph, pw), (oph, opw) = layer.padding, layer.output_padding
    g = layer.groups
    ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wo = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    out = np.zeros((per_group * g, ho, wo), dtype=np.float64)
    per_group_in = c_in // g
    for ci in range(c_in):
        group = ci // per_group_in
        for iy in range(h):
            for ix in range(wd):
                value = float(x[ci, iy, ix])
                for co in range(per_group):
                    for i in range(kh):
                        for j in range(kw):
                            y, xx = iy * sh + i * dh - ph, ix * sw + j * dw - pw
                            if 0 <= y < ho and 0 <= xx < wo:
                                out[group * per_group + co, y, xx] += value * float(w[ci, co, i, j])
    if b is not None:
        out += b[:, None, None]
    return out


def _scale_inverse(size_in: int, size_out: int, scale: float | None) -> np.float32:
    """PyTorch's step in input coordinates per output position: 1/scale when a scale was
    given, else in/out (computed in float32, as its kernels do)."""
    if scale is not None and scale > 0:
        return np.float32(1.0 / scale)
    return np.float32(size_in) / np.float32(size_out)


def _nearest_index(dst: int, size_in: int, size_out: int, scale: float | None) -> int:
    if size_out == size_in:
        return dst
    if size_out == 2 * size_in:
        return dst // 2
    step = _scale_inverse(size_in, size_out, scale)
    return min(math.floor(np.float32(dst) * step), size_in - 1)


def _linear_source(
    dst: int, size_in: int, size_out: int, scale: float | None, align_corners: bool
) -> tuple[int, int, float]:
    """(first index, second index, weight of the second) of a bilinear output position."""
    if align_corners:
        step = np.float32((size_in - 1) / (size_out - 1)) if size_out > 1 else np.float32(0)
        src = float(step * np.float32(dst))
    else:
        step = _scale_inverse(size_in, size_out, scale)
        src = max(float(step * (np.float32(dst) + np.float32(0.5)) - np.float32(0.5)), 0.0)
    first = int(src)
    second = first + 1 if first < size_in - 1 else first
    return first, second, src - first


def upsample(x: np.ndarray, layer: Upsample) -> np.ndarray:
    c, h, w = x.shape
    if layer.size is not None:
        ho, wo = layer.size
        scale_h: float | None = None
        scale_w: float | None = None
    else:
        assert layer.scale is not None
        scale_h, scale_w = layer.scale
        ho, wo = math.floor(h * scale_h), math.floor(w * scale_w)
    out = np.zeros((c, ho, wo), dtype=np.float64)
    for oy in range(ho):
        for ox in range(wo):
            if layer.mode == "nearest":
                iy = _nearest_index(oy, h, ho, scale_h)
                ix = _nearest_index(ox, w, wo, scale_w)
                out[:, oy, ox] = x[:, iy, ix]
                continue
            y0, y1, ly = _linear_source(oy, h, ho, scale_h, layer.align_corners)
            x0, x1, lx = _linear_source(ox, w, wo, scale_w, layer.align_corners)
            for ch in range(c):
                top = (1 - lx) * x[ch, y0, x0] + lx * x[ch, y0, x1]
                bottom = (1 - lx) * x[ch, y1, x0] + lx * x[ch, y1, x1]
                out[ch, oy, ox] = (1 - ly) * top + ly * bottom
    return out


def zero_pad(x: np.ndarray, layer: ZeroPad2D) -> np.ndarray:
    (top, bottom), (left, right) = layer.padding
    c, h, w = x.shape
    out = np.zeros((c, h + top + bottom, w + left + right), dtype=np.float64)
    out[:, top : top + h, left : left + w] = x
    return out


def _each(function: Callable[[float], float]) -> Callable[[np.ndarray], np.ndarray]:
    """A per-value function applied value by value (no vectorised shortcuts to get wrong)."""

    def apply(x: np.ndarray) -> np.ndarray:
        return np.array([function(float(v)) for v in x.reshape(-1)]).reshape(x.shape)

    return apply


def _sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def gelu(x: np.ndarray, layer: GELU) -> np.ndarray:
    if layer.approximate == "tanh":
        c = math.sqrt(2 / math.pi)
        return _each(lambda v: 0.5 * v * (1 + math.tanh(c * (v + 0.044715 * v**3))))(x)
    return _each(lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))))(x)


def softmax_over_channels(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    flat = x.reshape(x.shape[0], -1)
    result = out.reshape(x.shape[0], -1)
    for p in range(flat.shape[1]):
        column = [float(v) for v in flat[:, p]]
        top = max(column)
        exps = [math.exp(v - top) for v in column]
        total = sum(exps)
        result[:, p] = [e / total for e in exps]
    return out


def batchnorm(x: np.ndarray, layer: BatchNorm2D, params: Mapping[str, np.ndarray]) -> np.ndarray:
    out = np.empty_like(x)
    for c in range(x.shape[0]):
        mean = float(params["running_mean"][c])
        var = float(params["running_var"][c])
        gamma, beta = float(params["weight"][c]), float(params["bias"][c])
        out[c] = (x[c] - mean) / math.sqrt(var + layer.eps) * gamma + beta
    return out


def dense(x: np.ndarray, layer: Dense, params: Mapping[str, np.ndarray]) -> np.ndarray:
    w = params["weight"]
    b = params.get("bias")
    return np.array(
        [
            sum(float(w[o, i]) * float(x[i]) for i in range(x.shape[0]))
            + (0.0 if b is None else float(b[o]))
            for o in range(w.shape[0])
        ]
    )


def global_average(x: np.ndarray) -> np.ndarray:
    return np.array([[[x[c].sum() / x[c].size]] for c in range(x.shape[0])])


def multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Value by value; a C×1×1 input scales every position of each channel of the other."""
    if a.shape == b.shape:
        product: np.ndarray = a * b
        return product
    gate, values = (a, b) if a.shape[1:] == (1,) * (a.ndim - 1) else (b, a)
    out = np.empty_like(values)
    for c in range(values.shape[0]):
        out[c] = values[c] * float(gate[c].reshape(-1)[0])
    return out


Params = Mapping[str, np.ndarray]
Reference = Callable[[Any, Sequence[np.ndarray], Params], np.ndarray]


def _one(function: Callable[[np.ndarray], np.ndarray]) -> Reference:
    return lambda layer, xs, params: function(xs[0])


REFERENCE: dict[str, Reference] = {
    "conv2d": lambda layer, xs, p: conv(xs[0], p["weight"], p.get("bias"), layer),
    "convtranspose2d": lambda layer, xs, p: conv_transpose(
        xs[0], p["weight"], p.get("bias"), layer
    ),
    "maxpool2d": lambda layer, xs, p: pool(xs[0], layer),
    "avgpool2d": lambda layer, xs, p: pool(xs[0], layer),
    "globalavgpool2d": _one(global_average),
    "relu": _one(_each(lambda v: v if v > 0 else 0.0)),
    "relu6": _one(_each(lambda v: min(max(v, 0.0), 6.0))),
    "leakyrelu": lambda layer, xs, p: _leaky(layer)(xs[0]),
    "sigmoid": _one(_each(_sigmoid)),
    "tanh": _one(_each(math.tanh)),
    "silu": _one(_each(lambda v: v * _sigmoid(v))),
    "hardswish": _one(_each(lambda v: v * min(max(v + 3, 0.0), 6.0) / 6)),
    "gelu": lambda layer, xs, p: gelu(xs[0], layer),
    "softmax": _one(softmax_over_channels),
    "batchnorm2d": lambda layer, xs, p: batchnorm(xs[0], layer, p),
    "flatten": _one(lambda x: np.array([v for v in x.reshape(-1)])),
    "dense": lambda layer, xs, p: dense(xs[0], layer, p),
    "dropout": _one(lambda x: x),
    "zeropad2d": lambda layer, xs, p: zero_pad(xs[0], layer),
    "upsample": lambda layer, xs, p: upsample(xs[0], layer),
    "identity": _one(lambda x: x),
    "add": lambda layer, xs, p: sum(xs[1:], start=xs[0].copy()),
    "concat": lambda layer, xs, p: np.concatenate(list(xs), axis=0),
    "multiply": lambda layer, xs, p: multiply(xs[0], xs[1]),
}
"""The reference of every op, by the registry's type name."""


def _leaky(layer: LeakyReLU) -> Callable[[np.ndarray], np.ndarray]:
    slope = layer.negative_slope
    return _each(lambda v: v if v >= 0 else slope * v)


def apply(layer: Layer, inputs: Sequence[np.ndarray], params: Params) -> np.ndarray:
    """What ``layer`` does to ``inputs`` (channels-first float64), with its own parameters."""
    return REFERENCE[layer.type_name](layer, inputs, params)


def forward(
    design: Design, image: np.ndarray, weights: Mapping[str, np.ndarray]
) -> list[np.ndarray]:
    """The input and every node's output, in the design's order."""
    values = {INPUT_ID: image.astype(np.float64)}
    for node, sources in zip(design.nodes, design.resolved_inputs, strict=True):
        prefix = node.id + "."
        params = {k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}
        values[node.id] = apply(node.op, [values[s] for s in sources], params)
    return [values[INPUT_ID], *(values[i] for i in design.ids)]
