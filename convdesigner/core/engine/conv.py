"""2-D convolution on channels-last (H, W, C) float32 maps, in bounded row chunks.

Why channels-last: a window of a channels-last map is ``kh*kw`` runs of ``C`` contiguous values,
so the im2col matrix of a band of output rows is a handful of long contiguous copies, and one BLAS
matrix product per band writes straight into the output rows (an (H*W, C_out) matrix *is* the
channels-last output). Keeping the bands small (:data:`TARGET_CHUNK` bytes of columns) keeps the
columns in cache between the copy and the product, and bounds the temporaries by
:data:`~convdesigner.core.engine.memory.CHUNK_BUDGET` whatever the image size.

Grouped convolutions use one batched product per band; depthwise ones (one input channel per
group) use a multiply-add per kernel tap instead, because tiny per-channel matrix products would
spend their time in call overhead. Padding is materialised per band only, never for the whole map.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from convdesigner.core.engine.memory import CHUNK_BUDGET

FloatArray = np.ndarray  # float32 arrays; numpy's generic aliases add nothing for the checker here

TARGET_CHUNK = 2 * 1024 * 1024
"""Bytes of im2col columns per band: small enough to stay in L2 between the copy and the GEMM."""

Check = Callable[[], None]
RowsDone = Callable[[int, int], None]


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class ConvGeometry:
    """Everything about a convolution except its weights; padding is (top, bottom, left, right)."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[int, int, int, int]
    groups: int
    out_hw: tuple[int, int]


def gemm_weights(weight: FloatArray, groups: int) -> FloatArray:
    """Torch layout (C_out, C_in/g, kh, kw) → (g, kh*kw*C_in/g, C_out/g), rows in (i, j, c) order,
    matching the channels-last im2col columns."""
    c_out, cg, kh, kw = weight.shape
    w = weight.reshape(groups, c_out // groups, cg, kh, kw).transpose(0, 3, 4, 2, 1)
    return np.ascontiguousarray(w.reshape(groups, kh * kw * cg, c_out // groups), dtype=np.float32)


def _slab(
    x: FloatArray, r_lo: int, r_hi: int, c_lo: int, c_hi: int, buffer: FloatArray | None
) -> tuple[FloatArray, FloatArray | None]:
    """Input rows [r_lo, r_hi) and columns [c_lo, c_hi), zero outside the map (the padding).

    Returns the slab and the scratch buffer to reuse for the next band (a view of ``x`` needs
    none)."""
    h, w, c = x.shape
    if r_lo >= 0 and c_lo >= 0 and r_hi <= h and c_hi <= w:
        return x[r_lo:r_hi, c_lo:c_hi], buffer
    shape = (r_hi - r_lo, c_hi - c_lo, c)
    if buffer is not None and buffer.shape[1:] == shape[1:] and buffer.shape[0] >= shape[0]:
        slab = buffer[: shape[0]]
        slab.fill(0.0)
    else:
        buffer = slab = np.zeros(shape, dtype=np.float32)
    y0, y1 = max(r_lo, 0), min(r_hi, h)
    x0, x1 = max(c_lo, 0), min(c_hi, w)
    if y1 > y0 and x1 > x0:
        slab[y0 - r_lo : y1 - r_lo, x0 - c_lo : x1 - c_lo] = x[y0:y1, x0:x1]
    return slab, buffer


def _rows_per_chunk(geo: ConvGeometry, c_in: int, c_out: int, budget: int) -> tuple[int, int]:
    """(output rows, output columns) per band, so the band's temporaries fit the budget."""
    kh, kw = geo.kernel
    ho, wo = geo.out_hw
    per_pixel = 4 * (kh * kw * c_in + c_out + geo.stride[0] * c_in)
    target = min(budget, TARGET_CHUNK)
    rows = max(1, min(ho, target // max(1, per_pixel * wo)))
    cols = wo if per_pixel * wo <= budget else max(1, budget // per_pixel)
    return rows, cols


def conv2d(
    x: FloatArray,
    weight: FloatArray,
    bias: FloatArray | None,
    geo: ConvGeometry,
    *,
    check: Check = _nothing,
    budget: int = CHUNK_BUDGET,
    rows_done: RowsDone | None = None,
) -> FloatArray:
    """Convolve channels-last ``x`` with torch-layout ``weight``; returns (H_out, W_out, C_out).

    ``check`` is called between bands (it raises to cancel); ``rows_done(a, b)`` is told when
    output rows [a, b) are final, so a following elementwise layer can consume them while they
    are still in cache.
    """
    c_in = x.shape[2]
    c_out, cg, kh, kw = weight.shape
    g = geo.groups
    sh, sw = geo.stride
    dh, dw = geo.dilation
    top, _bottom, left, _right = geo.padding
    ho, wo = geo.out_hw
    keh, kew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    out = np.empty((ho, wo, c_out), dtype=np.float32)
    depthwise = cg == 1 and g > 1
    wmat = None if depthwise else gemm_weights(weight, g)
    # Depthwise taps: (kh, kw, C_in, multiplier), broadcast against (rows, cols, C_in, 1).
    wtap = (
        np.ascontiguousarray(weight.reshape(g, c_out // g, kh, kw).transpose(2, 3, 0, 1))
        if depthwise
        else None
    )
    rows, cols = _rows_per_chunk(geo, c_in, c_out, budget)
    slab_buf: FloatArray | None = None
    for a in range(0, ho, rows):
        b = min(ho, a + rows)
        for p in range(0, wo, cols):
            q = min(wo, p + cols)
            check()
            r_lo, r_hi = a * sh - top, (b - 1) * sh - top + keh
            c_lo, c_hi = p * sw - left, (q - 1) * sw - left + kew
            slab, slab_buf = _slab(x, r_lo, r_hi, c_lo, c_hi, slab_buf)
            target = out[a:b, p:q]
            if depthwise:
                assert wtap is not None
                _depthwise_band(slab, wtap, target, (sh, sw), (dh, dw))
            else:
                assert wmat is not None
                _gemm_band(slab, wmat, target, (kh, kw), (sh, sw), (dh, dw), g)
            if bias is not None:
                target += bias
        if rows_done is not None:
            rows_done(a, b)
    return out


def _gemm_band(
    slab: FloatArray,
    wmat: FloatArray,
    target: FloatArray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    groups: int,
) -> None:
    rows, cols, c_out = target.shape
    kh, kw = kernel
    sh, sw = stride
    dh, dw = dilation
    c_in = slab.shape[2]
    n = rows * cols
    a: FloatArray
    if kh == kw == 1 and groups == 1:
        a = slab[::sh, ::sw][:rows, :cols].reshape(n, c_in)
    else:
        win = sliding_window_view(slab, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(0, 1))
        win = win[::sh, ::sw, :, ::dh, ::dw][:rows, :cols]  # (rows, cols, C, kh, kw)
        if groups == 1:
            cols5 = np.empty((rows, cols, kh, kw, c_in), dtype=np.float32)
            cols5[...] = win.transpose(0, 1, 3, 4, 2)
            a = cols5.reshape(n, kh * kw * c_in)
        else:
            cg = c_in // groups
            win = win.reshape(rows, cols, groups, cg, kh, kw)
            cols6 = np.empty((groups, rows, cols, kh, kw, cg), dtype=np.float32)
            cols6[...] = win.transpose(2, 0, 1, 4, 5, 3)
            a = cols6.reshape(groups, n, kh * kw * cg)
    if groups == 1:
        if target.flags.c_contiguous:
            np.matmul(a, wmat[0], out=target.reshape(n, c_out))
        else:
            target[...] = (a @ wmat[0]).reshape(rows, cols, c_out)
    else:
        res = np.matmul(a, wmat)  # (g, n, C_out/g)
        target[...] = res.transpose(1, 0, 2).reshape(rows, cols, c_out)


def _depthwise_band(
    slab: FloatArray,
    wtap: FloatArray,
    target: FloatArray,
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> None:
    rows, cols, c_out = target.shape
    kh, kw, c_in, mult = wtap.shape
    sh, sw = stride
    dh, dw = dilation
    acc = np.zeros((rows, cols, c_in, mult), dtype=np.float32)
    prod = np.empty_like(acc)
    for i in range(kh):
        for j in range(kw):
            tap = slab[
                i * dh : i * dh + sh * (rows - 1) + 1 : sh,
                j * dw : j * dw + sw * (cols - 1) + 1 : sw,
            ]
            np.multiply(tap[..., None], wtap[i, j], out=prod)
            acc += prod
    target[...] = acc.reshape(rows, cols, c_out)
