"""A convolution and the cheap layers after it, computed together band by band on all cores.

A conv layer is usually followed by per-value layers (ReLU, batch norm, dropout) and often a
pooling layer. Done one after the other, each of them streams the whole map through memory again;
done per band of rows, each band is convolved, rectified and pooled while it is still in cache.
Bands are independent, so one band at a time runs on each core (:mod:`convdesigner.core.parallel`).

Pooling windows that straddle two bands (overlapping windows, or padding) are computed after all
bands, from the finished map: the "seams". Every output value is computed exactly once either way,
so fused and unfused runs give identical results.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from convdesigner.core import parallel
from convdesigner.core.kernels import buffers, pool
from convdesigner.core.kernels.conv import ConvKernel
from convdesigner.core.parallel import Check, Scratch

FloatArray = np.ndarray

CHANNEL_SPLIT_MAX_PIXELS = 8 * 8
"""Output maps of at most this many pixels are shared out between the threads by blocks of
output channels, not by bands of rows: a band of a few rows of a 7×7 map is a product too small
to pay for reading the whole weight matrix, which each thread would. Measured on two threads
(ResNet-50's 7² stage, 512→512 3×3: 1.8 ms against 2.0 by rows and 2.6 on one thread;
2048→512 1×1: 0.79 against 0.86 and 1.05); from 14×14 on, bands of rows are faster."""

CHANNEL_ALIGN = 16
"""Channel blocks start at multiples of this (whole SIMD registers in the products)."""

PARALLEL_MIN_MACS = 20_000_000
"""Convolutions with less work run on the calling thread alone (about half a millisecond of
work; dispatching bands to other threads costs about 0.1-0.3 ms per layer)."""


# --------------------------------------------------------------------------- stages


class Elementwise:
    """A per-value layer applied to rows of the previous stage's output: a scale and shift
    (batch norm), a rectifier, or a sum with maps computed earlier (a residual connection's
    add, whose other inputs are complete before the band loop starts).

    ``inplace`` writes into the previous stage's rows instead of a map of its own: allowed
    when no one will look at the previous stage's output (a run keeping only the design's
    outputs), it saves the new map's memory and its page faults."""

    def __init__(
        self,
        shape: tuple[int, ...],
        scale: FloatArray | None,
        shift: FloatArray | None,
        relu: bool,
        passthrough: bool = False,
        *,
        addends: Sequence[FloatArray] = (),
        inplace: bool = False,
    ) -> None:
        self.scale = scale
        self.shift = shift
        self.relu = relu
        self.passthrough = passthrough
        self.addends = tuple(addends)
        self.out: FloatArray | None = None if passthrough or inplace else buffers.empty(shape)

    def result(self, src: FloatArray) -> FloatArray:
        return src if self.out is None else self.out

    def band(self, src: FloatArray, a: int, b: int) -> None:
        if self.passthrough:
            return
        s = src[a:b]
        dst = s if self.out is None else self.out[a:b]
        if self.addends:
            np.add(s, self.addends[0][a:b], out=dst)
            for extra in self.addends[1:]:
                dst += extra[a:b]
            s = dst
        if self.scale is not None:
            assert self.shift is not None
            np.multiply(s, self.scale, out=dst)
            dst += self.shift
            s = dst
        if self.relu:
            np.maximum(s, np.float32(0.0), out=dst)


@dataclass
class PoolStage:
    geo: pool.PoolGeometry
    is_max: bool
    include_pad: bool
    channels: int

    def __post_init__(self) -> None:
        ho, wo = self.geo.out_hw
        self.out: FloatArray = buffers.empty((ho, wo, self.channels))

    def compute(self, src: FloatArray, lo: int, hi: int) -> None:
        if self.is_max:
            pool.max_pool(src, self.geo, self.out, (lo, hi))
        else:
            pool.avg_pool(src, self.geo, self.include_pad, self.out, (lo, hi))

    def window_bounds(self, height: int) -> tuple[FloatArray, FloatArray]:
        """Input rows [start, end) each output row reads, clipped to the map."""
        k, s, top = self.geo.kernel[0], self.geo.stride[0], self.geo.padding[0]
        o = np.arange(self.geo.out_hw[0], dtype=np.int64) * s - top
        return np.maximum(o, 0), np.minimum(o + k, height)


# --------------------------------------------------------------------------- running


def run_chain(
    conv: ConvKernel,
    stages: Sequence[Elementwise],
    pooling: PoolStage | None,
    check: Check,
    workers: int | None = None,
) -> list[FloatArray]:
    """Compute the conv, its per-value followers and an optional pooling layer band by band;
    returns each layer's output (channels-last), in order."""
    height = conv.geo.out_hw[0]
    workers = parallel.WORKERS if workers is None else workers
    if conv.macs < PARALLEL_MIN_MACS:
        workers = 1  # handing bands to another thread would cost more than it saves
    # As many bands as the cache target asks for, but a multiple of the thread count, so that
    # no thread waits for another at the end of the layer.
    n_bands = -(-height // conv.band_rows)
    n_bands = min(height, -(-n_bands // workers) * workers)
    rows = -(-height // n_bands)
    step = conv.row_multiple
    if pooling is not None:
        step = math.lcm(step, pooling.geo.stride[0])
    rows = max(step, -(-rows // step) * step)
    bands = [(a, min(height, a + rows)) for a in range(0, height, rows)]
    split = _channel_blocks(conv, workers)
    if split:

        def conv_block(i: int, scratch: Scratch) -> None:
            for a in range(0, height, conv.band_rows):
                conv.band(a, min(height, a + conv.band_rows), scratch, split[i])

        parallel.run_bands(len(split), conv_block, check, workers)
    outs = [conv.out]
    for st in stages:
        outs.append(st.result(outs[-1]))
    last = outs[-1]
    starts = ends = None
    if pooling is not None:
        starts, ends = pooling.window_bounds(height)

    def inside(a: int, b: int) -> tuple[int, int]:
        """Pooling rows whose whole (clipped) window lies in rows [a, b)."""
        assert starts is not None
        assert ends is not None
        lo = int(np.searchsorted(starts, a, side="left"))
        hi = int(np.searchsorted(ends, b, side="right"))
        return lo, max(lo, hi)

    def work(i: int, scratch: Scratch) -> None:
        a, b = bands[i]
        if not split:
            conv.band(a, b, scratch)
        src = conv.out
        for st in stages:
            st.band(src, a, b)
            src = st.result(src)
        if pooling is not None:
            lo, hi = inside(a, b)
            if hi > lo:
                pooling.compute(src, lo, hi)

    parallel.run_bands(len(bands), work, check, workers)
    if pooling is not None:
        covered = np.zeros(pooling.geo.out_hw[0], dtype=bool)
        for a, b in bands:
            lo, hi = inside(a, b)
            covered[lo:hi] = True
        seams = np.flatnonzero(~covered)
        for o in seams:  # rows straddling two bands: a few per band at most
            check()
            pooling.compute(last, int(o), int(o) + 1)
        outs.append(pooling.out)
    return outs


def _channel_blocks(conv: ConvKernel, workers: int) -> list[tuple[int, int]]:
    """One block of output channels per thread for a small map (see
    :data:`CHANNEL_SPLIT_MAX_PIXELS`), or none: split by rows."""
    ho, wo = conv.geo.out_hw
    if workers < 2 or ho * wo > CHANNEL_SPLIT_MAX_PIXELS or not conv.splits_channels:
        return []
    per = -(-conv.c_out // workers)
    per = -(-per // CHANNEL_ALIGN) * CHANNEL_ALIGN
    if per >= conv.c_out:
        return []
    return [(lo, min(conv.c_out, lo + per)) for lo in range(0, conv.c_out, per)]


def dense(x: FloatArray, weight: FloatArray, bias: FloatArray | None, check: Check) -> FloatArray:
    """A dense layer with its output units split over the cores.

    A matrix-vector product is limited by reading the weights (AlexNet's first dense layer alone
    is 151 MB), and BLAS runs single-threaded during a run, so the rows are shared out here."""
    units = weight.shape[0]
    out = np.empty(units, dtype=np.float32)
    workers = parallel.WORKERS if weight.size >= PARALLEL_MIN_MACS else 1
    n_blocks = min(units, 4 * workers)
    edges = np.linspace(0, units, n_blocks + 1).astype(int)

    def work(i: int, _scratch: Scratch) -> None:
        lo, hi = int(edges[i]), int(edges[i + 1])
        np.matmul(weight[lo:hi], x, out=out[lo:hi])

    parallel.run_bands(n_blocks, work, check, workers)
    if bias is not None:
        out += bias
    return out
