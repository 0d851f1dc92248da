"""Transposed 2-D convolution (torch.nn.ConvTranspose2d) on channels-last (H, W, C) maps.

Each input pixel scatters ``weight[c_in, :, i, j]·x`` to output pixel ``(r·s_h + i·d_h - p_h,
c·s_w + j·d_w - p_w)``. So the work is matrix products of the input pixels with the weights
(BLAS: nearly all the arithmetic), then one vectorised add per kernel tap into a strided view of
the output, clipped to the output (padding crops, output_padding extends the bottom and right).

The adds are what NumPy is slow at when they are strided: along the width a tap's outputs are
``s_w·C_out`` values apart, runs of only C_out, and NumPy's per-run overhead made them 3-4×
slower than contiguous adds. For the usual case (no groups, no dilation along the width) the
taps are therefore taken ``s_w`` at a time: taps ``g·s_w … g·s_w + s_w - 1`` of one kernel row
send an input pixel to ``s_w`` adjacent output pixels, and consecutive input pixels to the next
``s_w`` ones, so their results form one contiguous run per row on both sides. One product per
group of taps (a batched product) lays the results out that way; a kernel width that is not a
multiple of the stride is padded with zero taps (wasted products, but few). Grouped, depthwise
and width-dilated convolutions take the general way: one product, strided adds per tap.

The work goes in blocks of input rows, small enough that a block's products are still in cache
when its adds read them, and shared out over the engine's threads: first the even blocks, then
the odd ones, so that no two threads add into the same output rows at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convdesigner.core.kernels import buffers
from convdesigner.core.kernels.blocks import resolve_workers, run_blocks, scratch
from convdesigner.core.kernels.buffers import Scratch

FloatArray = np.ndarray
Pair = tuple[int, int]

PRODUCTS_PER_BLOCK = 1 << 17
"""Values of products (float32) per block of input rows: 512 KiB, so the products are still in
the L2 cache when the adds read them."""


def output_size(size: int, kernel: int, stride: int, padding: int, output_padding: int,
                dilation: int) -> int:  # fmt: skip
    """torch's ``(size - 1)·stride - 2·padding + dilation·(kernel - 1) + output_padding + 1``."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


@dataclass(frozen=True)
class _Layer:
    x: FloatArray
    bias: FloatArray | None
    kernel: Pair
    stride: Pair
    padding: Pair
    dilation: Pair
    groups: int
    out_hw: Pair
    c_out: int
    weights: FloatArray
    """Grouped taps: (kh·G, C_in, s_w·C_out); general: (groups, C_in/groups, kh·kw·C_out/groups)."""
    tap_groups: int
    """G, the groups of s_w taps per kernel row (0: the general way)."""


def _check(
    x: FloatArray,
    weight: FloatArray,
    bias: FloatArray | None,
    stride: Pair,
    padding: Pair,
    output_padding: Pair,
    dilation: Pair,
    groups: int,
) -> Pair:
    """Validate like torch, with the reason spelled out; returns the output size."""
    if x.ndim != 3:
        raise ValueError(f"conv_transpose2d needs a channels-last map (H, W, C), got {x.shape}")
    if weight.ndim != 4:
        raise ValueError(
            f"conv_transpose2d weight must be (C_in, C_out/groups, kh, kw), got {weight.shape}"
        )
    h, w, c_in = x.shape
    if groups < 1 or c_in % groups:
        raise ValueError(f"groups must divide the {c_in} input channels, got groups={groups}")
    if weight.shape[0] != c_in:
        raise ValueError(
            f"conv_transpose2d weight has {weight.shape[0]} input channels, the map has {c_in}"
        )
    if min(weight.shape) < 1:
        raise ValueError(f"conv_transpose2d weight has an empty axis: {weight.shape}")
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"stride and dilation must be at least 1, got {stride} and {dilation}")
    if min(padding) < 0 or min(output_padding) < 0:
        raise ValueError(
            f"padding and output_padding must be non-negative, got {padding} and {output_padding}"
        )
    for axis, name in enumerate(("height", "width")):
        if output_padding[axis] >= max(stride[axis], dilation[axis]):
            raise ValueError(
                f"output_padding along the {name} ({output_padding[axis]}) must be smaller than "
                f"the stride ({stride[axis]}) or the dilation ({dilation[axis]}), as in torch: "
                "it only chooses among the output sizes that the stride makes ambiguous"
            )
    c_out = weight.shape[1] * groups
    if bias is not None and bias.shape != (c_out,):
        raise ValueError(f"conv_transpose2d bias must have {c_out} values, got {bias.shape}")
    kh, kw = weight.shape[2:]
    ho = output_size(h, kh, stride[0], padding[0], output_padding[0], dilation[0])
    wo = output_size(w, kw, stride[1], padding[1], output_padding[1], dilation[1])
    if ho < 1 or wo < 1:
        raise ValueError(
            f"conv_transpose2d output would be {ho}×{wo}: the padding {padding} crops more than "
            f"the {h}×{w} input spreads to (size - 1)·stride + dilation·(kernel - 1) + 1"
        )
    return ho, wo


def _prepare(weight: FloatArray, groups: int, stride_w: int, grouped_taps: bool) -> tuple[
    FloatArray, int
]:  # fmt: skip
    """The weights as matrices: per (kernel row, group of s_w taps) for the grouped taps,
    else per convolution group with columns in (i, j, c_out) order; and G (0: general)."""
    c_in, cog, kh, kw = weight.shape
    w = np.asarray(weight, dtype=np.float32)
    if grouped_taps:
        g = -(-kw // stride_w)
        padded = np.zeros((c_in, cog, kh, g * stride_w), dtype=np.float32)
        padded[..., :kw] = w
        # (C_in, C_out, kh, G, s_w) → (kh, G, C_in, s_w, C_out): one matrix per (row, group).
        t = padded.reshape(c_in, cog, kh, g, stride_w).transpose(2, 3, 0, 4, 1)
        return np.ascontiguousarray(t.reshape(kh * g, c_in, stride_w * cog)), g
    cg = c_in // groups
    # (C_in, C_out/g, kh, kw) → (g, C_in/g, kh, kw, C_out/g): columns in (i, j, c_out) order.
    t = w.reshape(groups, cg, cog, kh, kw).transpose(0, 1, 3, 4, 2)
    return np.ascontiguousarray(t.reshape(groups, cg, kh * kw * cog)), 0


def conv_transpose2d(
    x: FloatArray,
    weight: FloatArray,
    bias: FloatArray | None,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    output_padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
    groups: int = 1,
    workers: int | None = None,
) -> FloatArray:
    """torch.nn.ConvTranspose2d on a channels-last map: ``weight`` in torch's layout
    (C_in, C_out/groups, kh, kw), ``padding`` per axis as torch takes it (cropped from both
    sides); returns (H_out, W_out, C_out) with ``H_out = (H-1)·stride - 2·padding +
    dilation·(kh-1) + output_padding + 1``. ``workers``: see
    :func:`~convdesigner.core.kernels.blocks.run_blocks`."""
    ho, wo = _check(x, weight, bias, stride, padding, output_padding, dilation, groups)
    x = np.ascontiguousarray(x, dtype=np.float32)
    # Zero taps padding the kernel width would turn an infinite or NaN input into NaN at
    # outputs torch leaves alone (0·inf): such inputs take the general way.
    padded = weight.shape[3] % stride[1] != 0
    grouped = groups == 1 and dilation[1] == 1 and not (padded and not np.isfinite(x).all())
    weights, tap_groups = _prepare(weight, groups, stride[1], grouped)
    layer = _Layer(
        x=x,
        bias=None if bias is None else np.asarray(bias, dtype=np.float32),
        kernel=(weight.shape[2], weight.shape[3]),
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        out_hw=(ho, wo),
        c_out=weight.shape[1] * groups,
        weights=weights,
        tap_groups=tap_groups,
    )
    out = buffers.empty((ho, wo, layer.c_out))
    if layer.bias is not None:
        out[...] = layer.bias
    else:
        out.fill(0.0)
    h, w = x.shape[:2]
    kh, kw = layer.kernel
    macs = x.size * kh * kw * layer.c_out // groups
    threads = resolve_workers(macs, workers)
    # Blocks of input rows. Neighbouring blocks add into a few common output rows, so even
    # blocks run first (on all threads), then odd ones: blocks two apart never share a row
    # when a block has at least (kh-1)·dh // sh rows. No input row is computed twice.
    per_row = w * kh * max(kw, tap_groups * stride[1]) * layer.c_out
    least = max(1, (kh - 1) * dilation[0] // stride[0])
    rows = max(least, PRODUCTS_PER_BLOCK // per_row)
    n_blocks = -(-h // rows)
    if threads > 1:  # whole rounds of threads in both passes
        n_blocks = min(max(1, h // least), -(-n_blocks // (2 * threads)) * 2 * threads)
        rows = max(least, -(-h // n_blocks))
        n_blocks = -(-h // rows)

    for parity in (0, 1):
        mine = list(range(parity, n_blocks, 2))

        def work(i: int, store: Scratch, mine: list[int] = mine) -> None:
            r0 = mine[i] * rows
            _block(layer, out, r0, min(h, r0 + rows), store)

        run_blocks(len(mine), work, macs, threads)
    return out


def _span(lo: int, hi: int, offset: int, step: int, size: int) -> tuple[int, int]:
    """Input indices r in [lo, hi) with 0 <= r·step + offset < size, as a range."""
    first = max(lo, -(offset // step))  # ceil(-offset / step)
    last = min(hi, (size - 1 - offset) // step + 1)
    return first, max(first, last)


def _block(layer: _Layer, out: FloatArray, r0: int, r1: int, store: Scratch) -> None:
    """Add the contributions of input rows [r0, r1) into ``out``."""
    w, c_in = layer.x.shape[1:]
    pixels = layer.x[r0:r1].reshape((r1 - r0) * w, c_in)
    if layer.tap_groups:
        _grouped_taps(layer, pixels, out, (0, r0, r1 - r0), store)
    else:
        _general(layer, pixels, out, (0, r0, r1 - r0), store)


def _row_targets(layer: _Layer, i: int, a: int, b: int, r0: int, rows: int) -> tuple[
    slice, slice
] | None:  # fmt: skip
    """For kernel row ``i``: (rows of the block's products, rows of the output block)."""
    sh, dh, ph = layer.stride[0], layer.dilation[0], layer.padding[0]
    lo, hi = _span(r0, r0 + rows, i * dh - ph - a, sh, b - a)
    if hi <= lo:
        return None
    first = lo * sh + i * dh - ph - a
    return slice(lo - r0, hi - r0), slice(first, first + sh * (hi - lo - 1) + 1, sh)


def _grouped_taps(layer: _Layer, pixels: FloatArray, out: FloatArray,
                  where: tuple[int, int, int], store: Scratch) -> None:  # fmt: skip
    a, r0, rows = where
    b = a + out.shape[0]
    w = layer.x.shape[1]
    kh = layer.kernel[0]
    sw, pw = layer.stride[1], layer.padding[1]
    g_count = layer.tap_groups
    c_out = layer.c_out
    wo = layer.out_hw[1]
    n_mats = layer.weights.shape[0]
    products = scratch(store, "convt_products", (n_mats, pixels.shape[0], sw * c_out))
    np.matmul(pixels, layer.weights, out=products)
    # Per product: (rows, W·s_w, C_out), its output columns contiguous from g·s_w - p_w on.
    runs = products.reshape(n_mats, rows, w * sw, c_out)
    for i in range(kh):
        target = _row_targets(layer, i, a, b, r0, rows)
        if target is None:
            continue
        src_rows, out_rows = target
        for g in range(g_count):
            start = g * sw - pw
            lo, hi = max(0, -start), min(w * sw, wo - start)
            if hi <= lo:
                continue
            view = out[out_rows, start + lo : start + hi]
            view += runs[i * g_count + g, src_rows, lo:hi]


def _general(layer: _Layer, pixels: FloatArray, out: FloatArray,
             where: tuple[int, int, int], store: Scratch) -> None:  # fmt: skip
    a, r0, rows = where
    b = a + out.shape[0]
    w = layer.x.shape[1]
    kh, kw = layer.kernel
    sw, dw, pw = layer.stride[1], layer.dilation[1], layer.padding[1]
    groups = layer.groups
    cg = pixels.shape[1] // groups
    cog = layer.c_out // groups
    wo = layer.out_hw[1]
    n = pixels.shape[0]
    k = kh * kw * cog
    if groups == 1:
        flat = scratch(store, "convt_products", (n, k))
        np.matmul(pixels, layer.weights[0], out=flat)
        taps = flat.reshape(rows, w, 1, kh, kw, cog)
    elif cg == 1:  # depthwise: each input channel times its own kernel, an outer product
        flat = scratch(store, "convt_products", (n, groups, k))
        np.multiply(pixels[:, :, None], layer.weights[:, 0, :], out=flat)
        taps = flat.reshape(rows, w, groups, kh, kw, cog)
    else:
        per_group = scratch(store, "convt_products", (groups, n, k))
        np.matmul(pixels.reshape(n, groups, cg).transpose(1, 0, 2), layer.weights, out=per_group)
        taps = per_group.reshape(groups, rows, w, kh, kw, cog).transpose(1, 2, 0, 3, 4, 5)
    out4 = out.reshape(b - a, wo, groups, cog)
    for i in range(kh):
        target = _row_targets(layer, i, a, b, r0, rows)
        if target is None:
            continue
        src_rows, out_rows = target
        for j in range(kw):
            lo, hi = _span(0, w, j * dw - pw, sw, wo)
            if hi <= lo:
                continue
            first = lo * sw + j * dw - pw
            view = out4[out_rows, first : first + sw * (hi - lo - 1) + 1 : sw]
            view += taps[src_rows, lo:hi, :, i, j]
