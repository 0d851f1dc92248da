"""Max and average pooling on channels-last maps, one strided pass per kernel tap.

Padding is never materialised: for each tap (i, j) only the output positions whose input falls
inside the map take part, which is exactly "pad with -inf" for max pooling and "pad with zeros"
for average pooling, and keeps memory at the size of the output. The divisor of average pooling
is computed per axis from the window geometry (PyTorch's rule: with ``count_include_pad`` a window
counts the positions inside the padded input, otherwise only those inside the map).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

FloatArray = np.ndarray


@dataclass(frozen=True)
class PoolGeometry:
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    """(top, bottom, left, right) as applied by the analysis."""
    out_hw: tuple[int, int]


def _tap_range(out: int, size: int, stride: int, offset: int) -> tuple[int, int]:
    """Output indices o in [o0, o1) with 0 <= o*stride + offset < size."""
    o0 = (-offset + stride - 1) // stride if offset < 0 else 0
    last = size - 1 - offset
    o1 = min(out, last // stride + 1) if last >= 0 else 0
    return o0, max(o0, o1)


def _taps(
    x: FloatArray, geo: PoolGeometry, rows: tuple[int, int]
) -> Iterator[tuple[slice, slice, FloatArray]]:
    """Yield (output slice rows, output slice cols, input view) for every kernel tap."""
    h, w, _c = x.shape
    kh, kw = geo.kernel
    sh, sw = geo.stride
    top, _b, left, _r = geo.padding
    a, b = rows
    _ho, wo = geo.out_hw
    for i in range(kh):
        o0, o1 = _tap_range(b, h, sh, i - top)
        o0 = max(o0, a)
        if o1 <= o0:
            continue
        y0 = o0 * sh + i - top
        for j in range(kw):
            p0, p1 = _tap_range(wo, w, sw, j - left)
            if p1 <= p0:
                continue
            x0 = p0 * sw + j - left
            view = x[y0 : y0 + sh * (o1 - o0 - 1) + 1 : sh, x0 : x0 + sw * (p1 - p0 - 1) + 1 : sw]
            yield slice(o0 - a, o1 - a), slice(p0, p1), view


def max_pool(
    x: FloatArray,
    geo: PoolGeometry,
    out: FloatArray | None = None,
    rows: tuple[int, int] | None = None,
) -> FloatArray:
    """Max pooling of channels-last ``x``; ``rows`` restricts to output rows [a, b) of ``out``."""
    ho, wo = geo.out_hw
    a, b = rows if rows is not None else (0, ho)
    if out is None:
        out = np.empty((ho, wo, x.shape[2]), dtype=np.float32)
    target = out[a:b]
    kh, kw = geo.kernel
    sh, sw = geo.stride
    if (
        (kh, kw) == (sh, sw) == (2, 2)
        and geo.padding == (0, 0, 0, 0)
        and x.shape[0] >= 2 * b
        and x.shape[1] >= 2 * wo
    ):
        # The common 2×2 pooling: two pairwise maxima, in blocks of rows so that the
        # temporary stays small (about 4 MiB) whatever the map size.
        step = max(1, (4 << 20) // max(1, 8 * wo * x.shape[2] * 4))
        for r0 in range(a, b, step):
            r1 = min(b, r0 + step)
            band = x[2 * r0 : 2 * r1, : 2 * wo]
            pairs = np.maximum(band[0::2], band[1::2])
            np.maximum(pairs[:, 0::2], pairs[:, 1::2], out=out[r0:r1])
        return out
    target.fill(-np.inf)
    for rs, cs, view in _taps(x, geo, (a, b)):
        np.maximum(target[rs, cs], view, out=target[rs, cs])
    return out


def _counts(
    out: int, size: int, kernel: int, stride: int, before: int, after: int, include_pad: bool
) -> FloatArray:
    """Per output index along one axis: how many window positions the divisor counts."""
    start = np.arange(out, dtype=np.int64) * stride - before
    end = start + kernel
    if include_pad:
        end = np.minimum(end, size + after)
        return (end - start).astype(np.float32)
    return (np.minimum(end, size) - np.maximum(start, 0)).astype(np.float32)


def avg_pool(
    x: FloatArray,
    geo: PoolGeometry,
    include_pad: bool,
    out: FloatArray | None = None,
    rows: tuple[int, int] | None = None,
) -> FloatArray:
    """Average pooling of channels-last ``x`` (sums per tap, then one division);
    ``rows`` restricts to output rows [a, b) of ``out``."""
    h, w, c = x.shape
    ho, wo = geo.out_hw
    a, b = rows if rows is not None else (0, ho)
    if out is None:
        out = np.empty((ho, wo, c), dtype=np.float32)
    target = out[a:b]
    target.fill(0.0)
    for rs, cs, view in _taps(x, geo, (a, b)):
        target[rs, cs] += view
    top, bottom, left, right = geo.padding
    ch = _counts(ho, h, geo.kernel[0], geo.stride[0], top, bottom, include_pad)[a:b]
    cw = _counts(wo, w, geo.kernel[1], geo.stride[1], left, right, include_pad)
    target /= (ch[:, None] * cw[None, :])[:, :, None]
    return out


def global_avg_pool(x: FloatArray) -> FloatArray:
    """(H, W, C) → (1, 1, C), accumulated in float64 so large maps do not lose precision."""
    mean: FloatArray = x.mean(axis=(0, 1), dtype=np.float64)
    return mean.astype(np.float32).reshape(1, 1, -1)
