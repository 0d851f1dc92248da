"""Winograd F(4×4, 3×3): 3×3 stride-1 convolutions with 4× fewer multiplications.

Each 4×4 block of output needs 144 multiply-adds per (input, output) channel pair done directly,
36 in the Winograd domain (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
2016, interpolation points 0, ±1, ±2): the 6×6 input tile is transformed (V = Bᵀ d B), multiplied
element-wise with the transformed filter (U = G g Gᵀ, once per layer) — over channels, 36
independent matrix products — and transformed back (Y = Aᵀ M A).

Against F(2×2, 3×3) (:mod:`convdesigner.core.kernels.winograd`) it does 1.8× fewer products and
its transformed arrays are smaller (36 values per 16 outputs instead of 16 per 4). The transforms
are BLAS products too: Bᵀ (6×6) and Aᵀ (4×6) applied to whole bands through overlapping strided
views, one pass over memory each instead of a dozen element-wise NumPy passes; before that they
took three times as long as the products. The price is float32 error several times that of
direct convolution (the transforms multiply by up to 8, the filter transform divides by 24):
about 2e-6 of the map's largest value, which is why only large layers take this path.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from convdesigner.core.kernels.buffers import Scratch, scratch_array

FloatArray = np.ndarray

MIN_CHANNELS = 32
"""Input channels from which a 3×3 stride-1 convolution may take this path."""

MIN_WORK = 400_000_000
"""... and multiply-adds (of the direct convolution) from which it does. Measured on one core,
F(4×4, 3×3) against im2col: 1.3-1.6× faster on the reference network's 32→64 at 256², 64→128 at
128² and 128→128 at 64² (0.6-1.2 G MAC), but 10-40 % slower on layers of 0.07-0.3 G MAC such as
32→64 at 128² or 64→64 at 64², where the 36 products per band are too small for BLAS to run
them efficiently against one im2col product."""

WIDE_CHANNELS = 128
"""... or from this many input channels whatever the work: each of the 36 products then has
enough columns for BLAS. Measured on one core: ResNet-50's 128→128 at 28² (0.12 G MAC) takes
1.1 ms here against 1.6 ms with F(2×2, 3×3) and 2.0 ms with im2col; at 64 channels (64→64 at
56²) im2col stays faster (2.5 ms against 3.8 ms)."""

MIN_SIZE = 16
"""Smallest output height and width for this path: below it, rounding up to whole 4×4 tiles
wastes too much; F(2×2, 3×3) takes over there (from its own channel threshold)."""

TARGET_CHUNK = 6 * 1024 * 1024
"""Bytes of transform buffers per band (see :class:`convdesigner.core.kernels.conv.ConvKernel`)."""


_BT = np.array(
    [
        [4, 0, -5, 0, 1, 0],
        [0, -4, -4, 1, 1, 0],
        [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0],
        [0, 2, -1, -2, 1, 0],
        [0, 4, 0, -5, 0, 1],
    ],
    dtype=np.float32,
)
"""Bᵀ of the input transform (small integers: exact in float32)."""

_AT = np.array(
    [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
    dtype=np.float32,
)
"""Aᵀ of the output transform (small integers: exact in float32)."""


def _g_rows(g: FloatArray) -> list[FloatArray]:
    """The six rows of G·g for g stacked along axis 0 (three kernel rows)."""
    outer = g[0] + g[2]
    r1 = (outer + g[1]) * (-1 / 6)
    r2 = (outer - g[1]) * (-1 / 6)
    base = g[0] * (1 / 24) + g[2] * (1 / 6)
    mid = g[1] * (1 / 12)
    return [g[0] * 0.25, r1, r2, base + mid, base - mid, g[2]]


def transform_filters(weight: FloatArray) -> FloatArray:
    """(C_out, C_in, 3, 3) torch layout → U = G g Gᵀ of shape (36, C_in, C_out), column index
    first (U[b·6 + a] = (G g Gᵀ)[a, b]), the order in which :func:`band` transforms its input.

    Written out as whole-array sums over all filters at once (float64, then rounded once): a
    generic product (einsum) takes about 10 ms for 128×128 filters, this about 1 ms."""
    c_out, c_in = weight.shape[:2]
    g = np.ascontiguousarray(weight.transpose(2, 3, 1, 0), dtype=np.float64)  # (i, j, C_in, C_out)
    u = np.empty((6, 6, c_in, c_out), dtype=np.float32)
    for a, row in enumerate(_g_rows(g)):  # row: (j, C_in, C_out)
        for b, value in enumerate(_g_rows(row)):
            u[b, a] = value
    return u.reshape(36, c_in, c_out)


def _buf(scratch: Scratch, name: str, shape: tuple[int, ...]) -> FloatArray:
    return scratch_array(scratch, "w4_" + name, shape)


def band(
    slab: FloatArray,
    u: FloatArray,
    bias: FloatArray | None,
    target: FloatArray,
    scratch: Scratch,
) -> None:
    """Output rows of ``target`` (rows, cols, C_out) from the zero-padded input ``slab``, which
    spans 4·ceil(rows/4) + 2 rows and 4·ceil(cols/4) + 2 columns."""
    rows, cols, k = target.shape
    tr, tc = -(-rows // 4), -(-cols // 4)
    c = slab.shape[2]
    wp = slab.shape[1]
    # Input transform V = Bᵀ d B. Rows: the six input rows of a tile row are one (6, W·C) matrix
    # in memory (tile rows overlap by two), so Bᵀ is one BLAS product per tile row.
    t = _buf(scratch, "t", (tr, 6, wp, c))
    if slab.strides[1:] != (c * slab.itemsize, slab.itemsize):
        slab = np.ascontiguousarray(slab)  # the engine's slabs always have contiguous rows
    rs, cs = slab.strides[0], slab.itemsize
    d = as_strided(slab, (tr, 6, wp * c), (4 * rs, rs, cs), writeable=False)
    np.matmul(_BT, d, out=t.reshape(tr, 6, wp * c))
    # Columns: the six columns of a tile are gathered (one strided copy, 1.5× the row transform's
    # output), then Bᵀ is one BLAS product over all tiles. V comes out column index first.
    s_tr, s_i, s_w, s_c = t.strides
    windows = as_strided(t, (6, 6, tr, tc, c), (s_w, s_i, s_tr, 4 * s_w, s_c), writeable=False)
    gathered = _buf(scratch, "g", (6, 6, tr, tc, c))
    gathered[...] = windows
    v = _buf(scratch, "v", (6, 6 * tr * tc * c))
    np.matmul(_BT, gathered.reshape(6, -1), out=v)
    # 36 products (tiles, C_in) @ (C_in, C_out), one BLAS call each (U in the same order as V).
    m = _buf(scratch, "m", (36, tr * tc, k))
    np.matmul(v.reshape(36, tr * tc, c), u, out=m)
    if bias is not None:
        m[7] += bias  # Aᵀ e₁ = (1, 1, 1, 1): M[1, 1] reaches every output of its tile once
    # Output transform Y = Aᵀ M A as two BLAS products with the 4×6 matrix Aᵀ (each one pass
    # over contiguous memory, where element-wise NumPy needs about 13 passes per stage), then one
    # strided copy that interleaves the tiles into output rows.
    p = _buf(scratch, "p", (4, 6 * tr * tc * k))
    np.matmul(_AT, m.reshape(6, -1), out=p)
    y = _buf(scratch, "y", (4, 4, tr * tc * k))
    np.matmul(_AT, p.reshape(4, 6, -1), out=y)
    # y is (column offset b, row offset a, ...), as M was (column index, row index, ...).
    tiles = y.reshape(4, 4, tr, tc, k).transpose(2, 1, 3, 0, 4)  # (tile row, a, tile col, b, k)
    even = rows % 4 == 0 and cols % 4 == 0
    if even:
        target.reshape(tr, 4, tc, 4, k)[...] = tiles
    else:
        out = _buf(scratch, "o", (tr, 4, tc, 4, k))
        out[...] = tiles
        target[...] = out.reshape(4 * tr, 4 * tc, k)[:rows, :cols]
