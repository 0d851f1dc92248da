"""A slow, obviously-correct forward pass written with explicit loops, channels-first.

It computes its own padding and output sizes from the written rules (PyTorch's output size,
TensorFlow's "same", PyTorch's ceil_mode and count_include_pad), independently of the analysis
and of the engine, so agreement means both follow the definitions. Only for tiny inputs.
"""

from __future__ import annotations

import math

import numpy as np

from convdesigner.core.design import Design
from convdesigner.core.layers import (
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Layer,
    MaxPool2D,
    ReLU,
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


def forward(design: Design, image: np.ndarray, weights: dict[str, np.ndarray]) -> list[np.ndarray]:
    x = image.astype(np.float64)
    outs = [x]
    for index, layer in enumerate(design.layers):
        x = apply(layer, x, weights, f"{index}.")
        outs.append(x)
    return outs


def apply(layer: Layer, x: np.ndarray, weights: dict[str, np.ndarray], key: str) -> np.ndarray:
    if isinstance(layer, Conv2D):
        return conv(x, weights[key + "weight"], weights.get(key + "bias"), layer)
    if isinstance(layer, MaxPool2D | AvgPool2D):
        return pool(x, layer)
    if isinstance(layer, GlobalAvgPool2D):
        return np.array([[[x[c].sum() / x[c].size]] for c in range(x.shape[0])])
    if isinstance(layer, ReLU):
        return np.where(x > 0, x, 0.0)
    if isinstance(layer, BatchNorm2D):
        out = np.empty_like(x)
        for c in range(x.shape[0]):
            mean = float(weights[key + "running_mean"][c])
            var = float(weights[key + "running_var"][c])
            gamma, beta = float(weights[key + "weight"][c]), float(weights[key + "bias"][c])
            out[c] = (x[c] - mean) / math.sqrt(var + layer.eps) * gamma + beta
        return out
    if isinstance(layer, Flatten):
        return np.array([v for v in x.reshape(-1)])
    if isinstance(layer, Dense):
        w = weights[key + "weight"]
        b = weights.get(key + "bias")
        return np.array(
            [
                sum(float(w[o, i]) * float(x[i]) for i in range(x.shape[0]))
                + (0.0 if b is None else float(b[o]))
                for o in range(w.shape[0])
            ]
        )
    if isinstance(layer, Dropout):
        return x
    raise AssertionError(f"unknown layer {layer}")
