"""2-D convolution on channels-last (H, W, C) float32 maps, computed in bands of output rows.

Why channels-last: a window of a channels-last map is ``kh*kw`` runs of ``C`` contiguous values,
so the im2col matrix of a band of output rows is a handful of long contiguous copies, and one BLAS
matrix product per band writes straight into the output rows (an (H*W, C_out) matrix *is* the
channels-last output). Bands are small (:data:`TARGET_CHUNK` bytes of columns), so the columns
are still in cache when the product reads them, the layers that follow (ReLU, pooling) can consume
a band while it is hot (see :mod:`convdesigner.core.engine.pipeline`), and the temporaries stay
under :data:`~convdesigner.core.kernels.budget.CHUNK_BUDGET` whatever the image size.

Grouped convolutions use one batched product per band; depthwise ones (one input channel per
group) a multiply-add per kernel tap, because tiny per-channel matrix products would spend their
time in call overhead. Padding is materialised per band only, never for the whole map.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from convdesigner.core.kernels import buffers, winograd, winograd4
from convdesigner.core.kernels.budget import CHUNK_BUDGET, PLANAR_MAX_CHANNELS
from convdesigner.core.kernels.buffers import Scratch, scratch_array

FloatArray = np.ndarray  # float32 arrays; numpy's generic aliases add nothing for the checker here

TARGET_CHUNK = 4 * 1024 * 1024
"""Bytes of im2col columns per band: about the L2 cache, so the GEMM reads them from cache."""


@dataclass(frozen=True)
class ConvGeometry:
    """Everything about a convolution except its weights; padding is (top, bottom, left, right)."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[int, int, int, int]
    groups: int
    out_hw: tuple[int, int]


def winograd_tile(geo: ConvGeometry, c_in: int, c_out: int) -> int:
    """Output tile of the Winograd variant this convolution takes: 4 for F(4×4, 3×3), 2 for
    F(2×2, 3×3), 0 for none (im2col and one product per band)."""
    if not (
        geo.kernel == (3, 3) and geo.stride == (1, 1) and geo.dilation == (1, 1) and geo.groups == 1
    ):
        return 0
    ho, wo = geo.out_hw
    macs = ho * wo * c_in * c_out * 9
    if (
        c_in >= winograd4.MIN_CHANNELS
        and (macs >= winograd4.MIN_WORK or c_in >= winograd4.WIDE_CHANNELS)
        and min(ho, wo) >= winograd4.MIN_SIZE
    ):
        return 4
    return 2 if c_in >= winograd.MIN_CHANNELS and min(ho, wo) >= winograd.MIN_SIZE else 0


def gemm_weights(weight: FloatArray, groups: int) -> FloatArray:
    """Torch layout (C_out, C_in/g, kh, kw) → (g, kh*kw*C_in/g, C_out/g), rows in (i, j, c) order,
    matching the channels-last im2col columns."""
    c_out, cg, kh, kw = weight.shape
    w = weight.reshape(groups, c_out // groups, cg, kh, kw).transpose(0, 3, 4, 2, 1)
    return np.ascontiguousarray(w.reshape(groups, kh * kw * cg, c_out // groups), dtype=np.float32)


_prepared: dict[tuple[int, int], tuple[bytes, FloatArray]] = {}
_prepared_lock = threading.Lock()


def fingerprint(weight: FloatArray) -> bytes:
    """Read-only arrays that own their data (the engine's cached defaults, weights read from a
    file) cannot change; any other array is identified by a hash of its contents (about 1 ms
    per MB, a fraction of the reshuffle or transform it saves), so weights changed in place are
    never served stale."""
    if not weight.flags.writeable and weight.base is None:
        return b""
    return hashlib.blake2b(weight.data.cast("B"), digest_size=16).digest()


def prepared_weights(weight: FloatArray, groups: int) -> FloatArray:
    """:func:`gemm_weights` (``groups`` > 0), the planar columns' weights (``groups`` = 0, see
    :data:`PLANAR_MAX_CHANNELS`) or the Winograd filter transform (``groups`` = -2 for
    F(2×2, 3×3), -4 for F(4×4, 3×3)), remembered for as long as the weight array lives and
    keeps its contents: re-running an unchanged layer skips the reshuffle."""

    def compute() -> FloatArray:
        if groups == 0:  # planar columns: rows in torch's own (c, i, j) order
            return np.ascontiguousarray(weight.reshape(weight.shape[0], -1).T, dtype=np.float32)
        if groups > 0:
            return gemm_weights(weight, groups)
        if groups == -4:
            return winograd4.transform_filters(weight)
        return winograd.transform_filters(weight)

    if not weight.flags.c_contiguous:
        return compute()
    key = (id(weight), groups)
    digest = fingerprint(weight)
    with _prepared_lock:
        entry = _prepared.get(key)
    if entry is not None and entry[0] == digest:
        return entry[1]
    hit = compute()
    hit.setflags(write=False)
    with _prepared_lock:
        _prepared[key] = (digest, hit)
    if entry is None:  # one finalizer per array and variant; a changed array replaces its entry
        weakref.finalize(weight, _prepared.pop, key, None)
    return hit


def _slab(
    x: FloatArray, r_lo: int, r_hi: int, c_lo: int, c_hi: int, scratch: Scratch
) -> FloatArray:
    """Input rows [r_lo, r_hi) and columns [c_lo, c_hi), zero outside the map (the padding)."""
    h, w, c = x.shape
    if r_lo >= 0 and c_lo >= 0 and r_hi <= h and c_hi <= w:
        return x[r_lo:r_hi, c_lo:c_hi]
    slab = scratch_array(scratch, "slab", (r_hi - r_lo, c_hi - c_lo, c))
    y0, y1 = max(r_lo, 0), min(r_hi, h)
    x0, x1 = max(c_lo, 0), min(c_hi, w)
    # Zero only the padding border; the interior is overwritten by the copy below.
    slab[: max(0, y0 - r_lo)] = 0.0
    slab[max(0, y1 - r_lo) :] = 0.0
    slab[:, : max(0, x0 - c_lo)] = 0.0
    slab[:, max(0, x1 - c_lo) :] = 0.0
    if y1 > y0 and x1 > x0:
        slab[y0 - r_lo : y1 - r_lo, x0 - c_lo : x1 - c_lo] = x[y0:y1, x0:x1]
    return slab


class ConvKernel:
    """A :class:`~convdesigner.core.layers.Conv2D` layer made ready to run (weights reshaped,
    output allocated) once, then computed band by band, possibly from several threads (bands
    never overlap)."""

    def __init__(
        self,
        x: FloatArray,
        weight: FloatArray,
        bias: FloatArray | None,
        geo: ConvGeometry,
        budget: int = CHUNK_BUDGET,
    ) -> None:
        self.x = x
        self.geo = geo
        self.bias = bias
        c_in = x.shape[2]
        c_out, cg, kh, kw = weight.shape
        self.c_out = c_out
        ho, wo = geo.out_hw
        self.out: FloatArray = buffers.empty((ho, wo, c_out))
        self.macs = ho * wo * c_out * cg * kh * kw
        self.depthwise = cg == 1 and geo.groups > 1
        self.tile = winograd_tile(geo, c_in, c_out)
        self.winograd = self.tile > 0
        self.u = prepared_weights(weight, -self.tile) if self.winograd else None
        self.planar: FloatArray | None = None
        """Padded channels-first copy of the input, for the planar columns."""
        if (
            not self.winograd
            and geo.groups == 1
            and geo.stride[1] == 1
            and c_in <= PLANAR_MAX_CHANNELS
            # The memory estimate allows for a padded copy of up to twice the input (a huge
            # padding would make it larger; im2col pads band by band instead).
            and c_in * (x.shape[0] + sum(geo.padding[:2])) * (x.shape[1] + sum(geo.padding[2:]))
            <= 2 * x.size
        ):
            top, bottom, left, right = geo.padding
            planar = np.zeros(
                (c_in, x.shape[0] + top + bottom, x.shape[1] + left + right), np.float32
            )
            for c in range(c_in):  # a strided copy per channel: fast with few channels
                planar[c, top : top + x.shape[0], left : left + x.shape[1]] = x[:, :, c]
            self.planar = planar
            w = prepared_weights(weight, 0)
            # The bias as one more row under the weights, against a row of ones in the columns.
            row = np.zeros((1, c_out), np.float32) if bias is None else bias[None, :]
            self.wplanar = np.concatenate([w, row.astype(np.float32)])
        self.wmat = (
            None
            if self.depthwise or self.winograd or self.planar is not None
            else prepared_weights(weight, geo.groups)
        )
        pointwise = kh == kw == 1 and geo.stride == (1, 1)
        k = kh * kw * cg
        # Fold the bias into the product (a column of ones in the im2col matrix, a row of biases
        # under the weights): one pass over the output fewer. Worth it when the output has many
        # more pixels than the weight matrix has rows (copying the weights costs that much).
        self.fold_bias = (
            bias is not None
            and self.wmat is not None
            and geo.groups == 1
            and not pointwise
            and ho * wo > 4 * (k + 1)
        )
        if self.fold_bias:
            assert self.wmat is not None
            assert bias is not None
            self.wmat = np.concatenate([self.wmat[0], bias[None, :]])[None]
        # Depthwise taps: (kh, kw, C_in, multiplier), broadcast against (rows, cols, C_in, 1).
        self.wtap = (
            np.ascontiguousarray(weight.reshape(geo.groups, c_out // geo.groups, kh, kw))
            .transpose(2, 3, 0, 1)
            .copy()
            if self.depthwise
            else None
        )
        if self.tile == 4:  # transformed tiles, products and partial output transforms
            per_pixel = 4 * (5 * c_in + 5 * c_out)
            target = winograd4.TARGET_CHUNK
        elif self.tile == 2:  # tiles' transforms: about 6 values per pixel per channel
            per_pixel = 4 * (7 * c_in + 7 * c_out)
            target = winograd.TARGET_CHUNK
        else:  # im2col row, GEMM result, slab
            per_pixel = 4 * (kh * kw * c_in + 2 * c_out + geo.stride[0] * c_in)
            target = TARGET_CHUNK
        self.row_multiple = max(1, self.tile)
        """Bands must start at multiples of this (Winograd works on whole output tiles)."""
        rows = max(1, min(ho, min(budget, target) // max(1, per_pixel * wo)))
        self.band_rows = -(-rows // self.row_multiple) * self.row_multiple
        cols = wo if per_pixel * wo <= budget else max(1, budget // per_pixel)
        self.band_cols = (
            cols if cols == wo else max(1, cols // self.row_multiple) * self.row_multiple
        )

    @property
    def splits_channels(self) -> bool:
        """Whether :meth:`band` may compute a block of output channels alone (every variant but
        grouped and depthwise convolutions, whose channel blocks are their groups)."""
        return self.geo.groups == 1

    def band(
        self, a: int, b: int, scratch: Scratch, channels: tuple[int, int] | None = None
    ) -> None:
        """Compute output rows [a, b) into ``self.out``; only output channels [lo, hi) with
        ``channels`` (see :attr:`splits_channels`): on small maps two threads then each read
        half the weights, instead of each reading all of them for half the rows."""
        lo, hi = (0, self.c_out) if channels is None else channels
        part = channels is not None and (lo, hi) != (0, self.c_out)
        bias = self.bias if self.bias is None or not part else self.bias[lo:hi]
        geo = self.geo
        sh, sw = geo.stride
        dh, dw = geo.dilation
        kh, kw = geo.kernel
        top, _bottom, left, _right = geo.padding
        wo = geo.out_hw[1]
        keh, kew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
        for p in range(0, wo, self.band_cols):
            q = min(wo, p + self.band_cols)
            r_lo, r_hi = a * sh - top, (b - 1) * sh - top + keh
            c_lo, c_hi = p * sw - left, (q - 1) * sw - left + kew
            target = self.out[a:b, p:q, lo:hi] if part else self.out[a:b, p:q]
            if self.u is not None:
                # Whole tiles: more rows/columns of padding when the band is not a multiple.
                t = self.tile
                r_hi, c_hi = r_lo + t * (-(-(b - a) // t)) + 2, c_lo + t * (-(-(q - p) // t)) + 2
                slab = _slab(self.x, r_lo, r_hi, c_lo, c_hi, scratch)
                variant = winograd4 if t == 4 else winograd
                variant.band(slab, self.u[..., lo:hi] if part else self.u, bias, target, scratch)
                continue
            if self.planar is not None:
                w = self.wplanar[:, lo:hi] if part else self.wplanar
                _planar_band(self.planar, w, target, a, p, geo, scratch)
                continue
            slab = _slab(self.x, r_lo, r_hi, c_lo, c_hi, scratch)
            if self.wtap is not None:
                assert not part, "depthwise convolutions are not split by channel"
                _depthwise_band(slab, self.wtap, target, geo.stride, geo.dilation, scratch)
            else:
                assert self.wmat is not None
                wmat = self.wmat[..., lo:hi] if part else self.wmat
                _gemm_band(slab, wmat, target, geo, scratch, self.fold_bias)
            if bias is not None and not self.fold_bias:
                target += bias


def _gemm_band(
    slab: FloatArray,
    wmat: FloatArray,
    target: FloatArray,
    geo: ConvGeometry,
    scratch: Scratch,
    ones_column: bool = False,
) -> None:
    rows, cols, c_out = target.shape
    kh, kw = geo.kernel
    sh, sw = geo.stride
    dh, dw = geo.dilation
    groups = geo.groups
    c_in = slab.shape[2]
    n = rows * cols
    a: FloatArray
    if kh == kw == 1 and groups == 1 and sh == sw == 1 and slab.flags.c_contiguous:
        a = slab.reshape(n, c_in)
    else:
        win = sliding_window_view(slab, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(0, 1))
        win = win[::sh, ::sw, :, ::dh, ::dw][:rows, :cols]  # (rows, cols, C, kh, kw)
        if groups == 1:
            k = kh * kw * c_in
            buf = scratch_array(scratch, "cols", (n, k + 1 if ones_column else k))
            dst = buf[:, :k].reshape(rows, cols, kh, kw, c_in)
            assert np.may_share_memory(dst, buf), "reshape must be a view"
            dst[...] = win.transpose(0, 1, 3, 4, 2)
            if ones_column:
                buf[:, k] = 1.0
            a = buf
        else:
            cg = c_in // groups
            win = win.reshape(rows, cols, groups, cg, kh, kw)
            cols6 = scratch_array(scratch, "cols", (groups, rows, cols, kh, kw, cg))
            cols6[...] = win.transpose(2, 0, 1, 4, 5, 3)
            a = cols6.reshape(groups, n, kh * kw * cg)
    if groups == 1:
        out2d = _as_matrix(target)
        if out2d is not None:
            np.matmul(a, wmat[0], out=out2d)
        else:
            target[...] = (a @ wmat[0]).reshape(rows, cols, c_out)
    else:
        res = np.matmul(a, wmat)  # (g, n, C_out/g)
        target[...] = res.transpose(1, 0, 2).reshape(rows, cols, c_out)


def _as_matrix(target: FloatArray) -> FloatArray | None:
    """``target`` (rows, cols, C) as a (rows·cols, C) view, or None where that needs a copy: a
    block of channels of whole rows is still one strided matrix BLAS writes into directly."""
    view = target.view()
    try:
        view.shape = (target.shape[0] * target.shape[1], target.shape[2])
    except AttributeError:
        return None
    return view


def _planar_band(
    planar: FloatArray,
    wmat: FloatArray,
    target: FloatArray,
    row0: int,
    col0: int,
    geo: ConvGeometry,
    scratch: Scratch,
) -> None:
    """Output rows starting at ``row0`` and columns at ``col0`` (``target``'s extent) from the
    padded channels-first input: columns (c·kh·kw + 1, rows, cols), the last row ones (the
    bias), multiplied transposed against the (c, i, j)-ordered weights."""
    rows, cols, c_out = target.shape
    c_in = planar.shape[0]
    kh, kw = geo.kernel
    sh, sw = geo.stride
    dh, dw = geo.dilation
    k = c_in * kh * kw
    buf = scratch_array(scratch, "planar", (k + 1, rows, cols))
    for c in range(c_in):
        for i in range(kh):
            y0 = row0 * sh + i * dh
            src = planar[c, y0 : y0 + sh * (rows - 1) + 1 : sh]
            for j in range(kw):
                x0 = col0 * sw + j * dw
                buf[(c * kh + i) * kw + j] = src[:, x0 : x0 + sw * (cols - 1) + 1 : sw]
    buf[k] = 1.0
    a = buf.reshape(k + 1, rows * cols).T
    out2d = _as_matrix(target)
    if out2d is not None:
        np.matmul(a, wmat, out=out2d)
    else:
        target[...] = (a @ wmat).reshape(rows, cols, c_out)


def _depthwise_band(
    slab: FloatArray,
    wtap: FloatArray,
    target: FloatArray,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    scratch: Scratch,
) -> None:
    rows, cols, c_out = target.shape
    kh, kw, c_in, mult = wtap.shape
    sh, sw = stride
    dh, dw = dilation
    acc = scratch_array(scratch, "acc", (rows, cols, c_in, mult))
    prod = scratch_array(scratch, "prod", (rows, cols, c_in, mult))
    acc.fill(0.0)
    for i in range(kh):
        for j in range(kw):
            tap = slab[
                i * dh : i * dh + sh * (rows - 1) + 1 : sh,
                j * dw : j * dw + sw * (cols - 1) + 1 : sw,
            ]
            np.multiply(tap[..., None], wtap[i, j], out=prod)
            acc += prod
    target[...] = acc.reshape(rows, cols, c_out)


def conv2d(
    x: FloatArray,
    weight: FloatArray,
    bias: FloatArray | None,
    geo: ConvGeometry,
    budget: int = CHUNK_BUDGET,
) -> FloatArray:
    """Convolve channels-last ``x`` with torch-layout ``weight`` in one thread (for tests and
    callers outside a pipeline); returns (H_out, W_out, C_out)."""
    layer = ConvKernel(x, weight, bias, geo, budget)
    scratch: Scratch = {}
    ho = geo.out_hw[0]
    for a in range(0, ho, layer.band_rows):
        layer.band(a, min(ho, a + layer.band_rows), scratch)
    return layer.out
