"""Winograd F(2×2, 3×3): 3×3 stride-1 convolutions with 2.25× fewer multiplications.

Each 2×2 block of output needs 36 multiply-adds per (input, output) channel pair done directly,
but only 16 in the Winograd domain (Lavin & Gray, "Fast Algorithms for Convolutional Neural
Networks", 2016): the 4×4 input tile is transformed (V = Bᵀ d B, additions only), multiplied
element-wise with the transformed filter (U = G g Gᵀ, once per layer) — which over channels is 16
independent matrix products — and transformed back (Y = Aᵀ M A, additions only).

In NumPy the transforms are whole-array additions over a band, so they cost memory passes; the
products dominate only with enough channels. Large layers take F(4×4, 3×3) instead
(:mod:`convdesigner.core.kernels.winograd4`); this path serves the smaller ones with many channels
(:data:`MIN_CHANNELS`, e.g. VGG-16's 14²-28² blocks). F(2×2, 3×3) keeps float32 error at the
level of direct convolution (about 1e-6 relative).
"""

from __future__ import annotations

import numpy as np

from convdesigner.core.kernels.buffers import Scratch, scratch_array

FloatArray = np.ndarray

MIN_CHANNELS = 128
"""Input channels from which a 3×3 stride-1 convolution takes this path, when F(4×4, 3×3) does
not (:mod:`convdesigner.core.kernels.winograd4`: small layers). Measured on one core against
im2col: faster with 128-256 channels on 14²-28² maps (VGG-16's last blocks), slower at 64."""

MIN_SIZE = 8
"""Smallest output height and width for this path. On a 7×7 map (ResNet-50's last stage) the
4×4 tiles cover 8×8, so it saves few multiplications while its transformed filters (16 values
per filter tap pair against 9) are the larger read: measured on one core, 512→512 at 7² takes
the same time either way, and im2col keeps 40 % less weight data cached."""

TARGET_CHUNK = 16 * 1024 * 1024
"""Bytes of transform buffers per band: larger than im2col's bands, because each band's work is
16 separate products whose efficiency grows with the number of tiles (measured best at 16 MiB)."""


def _g_rows(g: FloatArray) -> list[FloatArray]:
    """The four rows of G·g for g stacked along axis 0 (three kernel rows)."""
    half_sum = (g[0] + g[2]) * 0.5
    half_mid = g[1] * 0.5
    return [g[0], half_sum + half_mid, half_sum - half_mid, g[2]]


def transform_filters(weight: FloatArray) -> FloatArray:
    """(C_out, C_in, 3, 3) torch layout → U = G g Gᵀ of shape (16, C_in, C_out).

    Written out as whole-array sums over all filters at once (float64, then rounded once): a
    generic product would spend milliseconds on 3×3 matrices."""
    c_out, c_in = weight.shape[:2]
    g = np.ascontiguousarray(weight.transpose(2, 3, 1, 0), dtype=np.float64)  # (i, j, C_in, C_out)
    u = np.empty((4, 4, c_in, c_out), dtype=np.float32)
    for a, row in enumerate(_g_rows(g)):  # row: (j, C_in, C_out)
        for b, value in enumerate(_g_rows(row)):
            u[a, b] = value
    return u.reshape(16, c_in, c_out)


def _buf(scratch: Scratch, name: str, shape: tuple[int, ...]) -> FloatArray:
    return scratch_array(scratch, "w_" + name, shape)


def band(
    slab: FloatArray,
    u: FloatArray,
    bias: FloatArray | None,
    target: FloatArray,
    scratch: Scratch,
) -> None:
    """Output rows of ``target`` (rows, cols, C_out) from the zero-padded input ``slab``, which
    spans 2·ceil(rows/2) + 2 rows and 2·ceil(cols/2) + 2 columns."""
    rows, cols, k = target.shape
    tr, tc = -(-rows // 2), -(-cols // 2)
    c = slab.shape[2]
    # Input transform, rows then columns: V[i, j] = (Bᵀ d B)[i, j] for every tile at once.
    d = [slab[i : i + 2 * tr : 2] for i in range(4)]  # (tr, 2·tc + 2, C) each
    t = _buf(scratch, "t", (4, tr, slab.shape[1], c))
    np.subtract(d[0], d[2], out=t[0])
    np.add(d[1], d[2], out=t[1])
    np.subtract(d[2], d[1], out=t[2])
    np.subtract(d[1], d[3], out=t[3])
    v = _buf(scratch, "v", (4, 4, tr, tc, c))
    for i in range(4):
        e = [t[i][:, j : j + 2 * tc : 2] for j in range(4)]
        np.subtract(e[0], e[2], out=v[i, 0])
        np.add(e[1], e[2], out=v[i, 1])
        np.subtract(e[2], e[1], out=v[i, 2])
        np.subtract(e[1], e[3], out=v[i, 3])
    # 16 products (tiles, C_in) @ (C_in, C_out), one BLAS call each.
    m = _buf(scratch, "m", (16, tr * tc, k))
    np.matmul(v.reshape(16, tr * tc, c), u, out=m)
    if bias is not None:
        m[5] += bias  # Aᵀ e₁ = (1, 1): M[1, 1] reaches every output of its tile once
    m5 = m.reshape(4, 4, tr, tc, k)
    # Output transform Y = Aᵀ M A, Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]], rows then columns.
    p = _buf(scratch, "p", (2, 4, tr, tc, k))
    for j in range(4):
        np.add(m5[0, j], m5[1, j], out=p[0, j])
        p[0, j] += m5[2, j]
        np.subtract(m5[1, j], m5[2, j], out=p[1, j])
        p[1, j] -= m5[3, j]
    even = rows % 2 == 0 and cols % 2 == 0
    out = target if even else _buf(scratch, "y", (2 * tr, 2 * tc, k))
    for i in range(2):
        left, right = out[i::2, 0::2], out[i::2, 1::2]
        np.add(p[i, 0], p[i, 1], out=left)
        left += p[i, 2]
        np.subtract(p[i, 1], p[i, 2], out=right)
        right -= p[i, 3]
    if not even:
        target[...] = out[:rows, :cols]
