"""Explicit zero padding and upsampling (nearest, bilinear) of channels-last (H, W, C) maps, as
torch.nn.ZeroPad2d and torch.nn.Upsample compute them.

Upsampling is separable: first along the width (at the input's height, the smaller array), then
along the height. The source positions and weights are computed per output row and column
exactly as PyTorch computes them (in float32, with its special cases), so that nearest picks the
same pixels and bilinear the same pairs: with ``scale_factor`` given, torch maps coordinates with
``1/scale`` rather than ``in/out``, which differs whenever ``in·scale`` is not a whole number.

Bilinear interpolation is written ``a + λ·(b - a)`` with the differences ``b - a`` taken at the
input's resolution: one pass over the output fewer than ``(1-λ)·a + λ·b`` (the results differ
from torch's by float32 rounding, a few ulp). The work goes in blocks of output rows, each doing
the width pass of just the input rows it needs and then its height pass while they are in cache
(:mod:`convdesigner.core.kernels.blocks`); the blocks are shared out over the engine's threads.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import numpy as np

from convdesigner.core.kernels import buffers
from convdesigner.core.kernels.blocks import run_blocks, scratch
from convdesigner.core.kernels.buffers import Scratch

FloatArray = np.ndarray
IndexArray = np.ndarray

UpsampleMode = Literal["nearest", "bilinear"]

ROW_BLOCK_VALUES = 131072
"""Output values per block of rows (512 KiB: with the block's share of the input and the
temporaries, about half the L2 cache; measured best of 64-256 Ki on 112×112×64 outputs)."""

MAX_PHASES = 8
"""Integer ratios up to this are done phase by phase with strided views; beyond, the many
short strided passes cost more than one gather."""


def _check_map(x: FloatArray, what: str) -> FloatArray:
    if x.ndim != 3:
        raise ValueError(f"{what} needs a channels-last map (H, W, C), got shape {x.shape}")
    return np.ascontiguousarray(x, dtype=np.float32)


def zero_pad(x: FloatArray, pads: tuple[tuple[int, int], tuple[int, int]]) -> FloatArray:
    """Pad a channels-last map with zeros: ``pads = ((top, bottom), (left, right))``, like
    torch.nn.ZeroPad2d((left, right, top, bottom)) (non-negative amounts only)."""
    x = _check_map(x, "zero padding")
    (top, bottom), (left, right) = pads
    for name, amount in (("top", top), ("bottom", bottom), ("left", left), ("right", right)):
        if amount < 0:
            raise ValueError(f"zero padding must be non-negative, got {name} = {amount}")
    h, w, c = x.shape
    out = buffers.empty((h + top + bottom, w + left + right, c))
    # Only the border is zeroed: the interior is written once, by the copy.
    out[:top] = 0.0
    out[top + h :] = 0.0
    out[top : top + h, :left] = 0.0
    out[top : top + h, left + w :] = 0.0
    out[top : top + h, left : left + w] = x
    return out


# --------------------------------------------------------------------------- coordinates


def _inverse_scale(n_in: int, n_out: int, scale: float | None) -> np.float32:
    """torch's ``compute_scales_value``: ``1/scale`` when a scale factor was given (rounded to
    float32 from double), else ``in/out`` divided in float32."""
    if scale is not None and scale > 0:
        return np.float32(1.0 / scale)
    return np.float32(n_in) / np.float32(n_out)


def nearest_indices(n_in: int, n_out: int, scale: float | None) -> IndexArray:
    """Source index of every output index along one axis (torch's ``nearest_idx``)."""
    o = np.arange(n_out, dtype=np.int64)
    if n_out == n_in:  # torch's shortcuts, taken whatever the scale factor says
        return o
    if n_out == 2 * n_in:
        return o >> 1
    src = np.floor(o.astype(np.float32) * _inverse_scale(n_in, n_out, scale))
    index: IndexArray = np.minimum(src.astype(np.int64), n_in - 1)
    return index


def linear_coordinates(
    n_in: int, n_out: int, scale: float | None, align_corners: bool
) -> tuple[IndexArray, FloatArray]:
    """Per output index along one axis: the lower source index ``i0`` and the weight ``λ`` of
    the next one (torch's ``compute_source_index_and_lambda``, in float32; at the last index
    torch blends the last value with itself). Equal sizes are a plain copy in torch, whatever
    the scale factor says: callers handle that case before."""
    of = np.arange(n_out, dtype=np.float32)
    if align_corners:
        ratio = np.float32(n_in - 1) / np.float32(n_out - 1) if n_out > 1 else np.float32(0.0)
        src = of * ratio
    else:
        ratio = _inverse_scale(n_in, n_out, scale)
        half = np.float32(0.5)
        src = np.maximum((of + half) * ratio - half, np.float32(0.0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    lam = np.clip(src - i0.astype(np.float32), np.float32(0.0), np.float32(1.0))
    return i0, lam


# --------------------------------------------------------------------------- one axis


@dataclass(frozen=True)
class _Phase:
    """Outputs ``s·i + p`` for ``lo <= i < hi`` read source ``i + shift`` with weight ``lam``."""

    p: int
    shift: int
    lam: np.float32
    lo: int
    hi: int


Plan = tuple[int, list[_Phase], list[int]]


@dataclass(frozen=True)
class _Axis:
    """Torch's coordinates along one axis, and their phases when periodic."""

    i0: IndexArray
    lam: FloatArray
    plan: Plan | None


def _phases(i0: IndexArray, lam: FloatArray, n_in: int, n_out: int) -> Plan | None:
    """When the output is a whole multiple ``s`` of the input, torch's coordinates repeat with
    period ``s`` away from the borders: the output splits into ``s`` phases, each a strided view
    that reads a shifted slice of the source with one weight (no gather, no weight array).
    Returns ``(s, phases, other outputs)``, or None when the coordinates are not periodic. Found
    by checking torch's own float32 coordinates, so an ulp of difference is never glossed over.
    """
    if n_out % n_in or not 1 < n_out // n_in <= MAX_PHASES:
        return None
    s = n_out // n_in
    i = np.arange(n_in, dtype=np.int64)
    mid = n_in // 2
    phases: list[_Phase] = []
    others: list[int] = []
    for p in range(s):
        src, weight = i0[p::s], lam[p::s]
        shift, lp = int(src[mid]) - mid, weight[mid]
        regular = np.flatnonzero((src - i == shift) & (weight == lp))
        lo, hi = int(regular[0]), int(regular[-1]) + 1
        if hi - lo != regular.size:
            return None
        phases.append(_Phase(p, shift, lp, lo, hi))
        others.extend(s * j + p for j in range(n_in) if not lo <= j < hi)
        if len(others) > 2 * s:  # more than the borders: not a periodic layout after all
            return None
    return s, phases, others


@functools.lru_cache(maxsize=64)
def _axis(
    n_in: int, n_out: int, scale: float | None, mode: UpsampleMode, align_corners: bool
) -> _Axis:
    """Remembered: finding the phases costs about 0.05 ms, a tenth of a small upsampling, and
    the app runs the same layer again and again (the arrays are read-only, being shared)."""
    if mode == "nearest":
        i0 = nearest_indices(n_in, n_out, scale)
        lam = np.zeros(n_out, dtype=np.float32)
    else:
        i0, lam = linear_coordinates(n_in, n_out, scale, align_corners)
    i0.setflags(write=False)
    lam.setflags(write=False)
    return _Axis(i0, lam, _phases(i0, lam, n_in, n_out))


def _forward_differences(t: FloatArray, axis: int, store: Scratch, name: str) -> FloatArray:
    """``t[i+1] - t[i]`` along ``axis`` (0 or 1), with zeros after the last index: there
    ``i0 + 1`` does not exist and torch reads the last value twice."""
    n = t.shape[axis]
    diff = scratch(store, name, t.shape)
    if axis == 0:
        np.subtract(t[1:], t[:-1], out=diff[:-1])
        diff[-1] = 0.0
    else:
        np.subtract(t[:, 1:], t[:, :-1], out=diff[:, : n - 1])
        diff[:, n - 1] = 0.0
    return diff


def _columns(x: FloatArray, ax: _Axis, weights: FloatArray | None, out: FloatArray,
             store: Scratch) -> None:  # fmt: skip
    """The width pass, ``out[:, o] = x[:, j0] + λ·(x[:, j0+1] - x[:, j0])``, by gathers.

    Not by phases like the height pass: a strided view along the width has runs of only C
    values, and NumPy's per-run overhead made the phases 3-5× slower than the two gathers
    (whose outputs are contiguous, so the product runs along whole rows of Wo·C values)."""
    np.take(x, ax.i0, axis=1, out=out, mode="clip")  # clip: no defensive copy of out
    if weights is None:
        return
    step = scratch(store, "resample_step", out.shape)
    dx = _forward_differences(x, 1, store, "resample_dx")
    np.take(dx, ax.i0, axis=1, out=step, mode="clip")
    flat = step.reshape(step.shape[0], -1)
    flat *= weights
    out += step


def _rows(t: FloatArray, ax: _Axis, span: tuple[int, int], offset: int, out: FloatArray,
          linear: bool, store: Scratch) -> None:  # fmt: skip
    """The height pass for output rows ``span = [a, b)`` into ``out`` (those rows only), from
    ``t`` holding the source rows from ``offset`` on."""
    a, b = span
    diff = _forward_differences(t, 0, store, "resample_dy") if linear else None
    if ax.plan is None:
        idx = ax.i0[a:b] - offset
        np.take(t, idx, axis=0, out=out, mode="clip")
        if diff is not None:
            step = scratch(store, "resample_step", out.shape)
            np.take(diff, idx, axis=0, out=step, mode="clip")
            step *= ax.lam[a:b, None, None]
            out += step
        return
    s, phases, others = ax.plan
    for ph in phases:
        lo = max(ph.lo, -(-(a - ph.p) // s))  # the i with a <= s·i + p < b
        hi = min(ph.hi, -(-(b - ph.p) // s))
        if hi <= lo:
            continue
        view = out[s * lo + ph.p - a : s * (hi - 1) + ph.p - a + 1 : s]
        src = slice(lo + ph.shift - offset, hi + ph.shift - offset)
        if diff is None:
            view[...] = t[src]
        else:
            np.multiply(diff[src], ph.lam, out=view)
            view += t[src]
    for o in others:  # the few rows at the borders
        if a <= o < b:
            k = int(ax.i0[o]) - offset
            if diff is None:
                out[o - a] = t[k]
            else:
                np.multiply(diff[k], ax.lam[o], out=out[o - a])
                out[o - a] += t[k]


# --------------------------------------------------------------------------- upsampling


def upsample(
    x: FloatArray,
    out_hw: tuple[int, int],
    mode: UpsampleMode = "nearest",
    scale: tuple[float, float] | None = None,
    align_corners: bool = False,
    workers: int | None = None,
) -> FloatArray:
    """Resize a channels-last map to ``out_hw`` as torch.nn.Upsample does.

    ``scale`` is the (height, width) scale factor when torch is given ``scale_factor=`` (then
    ``out_hw`` must be torch's ``floor(size·scale)``), ``None`` when torch is given ``size=``.
    ``align_corners`` applies to bilinear only (torch refuses it for nearest). ``workers``: see
    :func:`~convdesigner.core.kernels.blocks.run_blocks`.

    NaN spreads as in torch (also through a zero weight); infinities may not: ``a + λ·(b - a)``
    gives NaN next to an infinite value where torch's ``(1-λ)·a + λ·b`` gives ±inf."""
    x = _check_map(x, "upsampling")
    ho, wo = out_hw
    if ho < 1 or wo < 1:
        raise ValueError(f"upsampling needs an output of at least 1×1, got {ho}×{wo}")
    if scale is not None and not (scale[0] > 0 and scale[1] > 0):
        raise ValueError(f"upsampling scale factors must be positive, got {scale}")
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"upsampling mode must be 'nearest' or 'bilinear', got {mode!r}")
    if mode == "nearest" and align_corners:
        raise ValueError("align_corners applies to bilinear upsampling only, not nearest")
    sh, sw = (None, None) if scale is None else scale
    h, w, c = x.shape
    out = buffers.empty((ho, wo, c))
    linear = mode == "bilinear"
    # torch copies along an axis whose size does not change, whatever the scale factor says.
    cols = _axis(w, wo, sw, mode, align_corners) if wo != w else None
    rows = _axis(h, ho, sh, mode, align_corners) if ho != h else None
    # λ per output value of a row (Wo·C of them), so the width pass is one broadcast per row.
    col_weights = np.repeat(cols.lam, c) if cols is not None and linear else None
    block = max(1, ROW_BLOCK_VALUES // max(1, wo * c))
    if rows is not None and rows.plan is not None:
        period = rows.plan[0]
        block = max(period, block - block % period)  # blocks of whole periods of the phases

    def work(i: int, store: Scratch) -> None:
        a, b = i * block, min(ho, (i + 1) * block)
        if rows is None:
            r0, r1 = a, b
        else:  # the input rows these output rows read (the coordinates never decrease)
            r0, r1 = int(rows.i0[a]), min(h, int(rows.i0[b - 1]) + (2 if linear else 1))
        with np.errstate(invalid="ignore", over="ignore"):
            if cols is None:
                t = x[r0:r1]
            else:
                t = out[a:b] if rows is None else scratch(store, "resample_t", (r1 - r0, wo, c))
                _columns(x[r0:r1], cols, col_weights, t, store)
            if rows is not None:
                _rows(t, rows, (a, b), r0, out[a:b], linear, store)
            elif cols is None:
                out[a:b] = t

    run_blocks(-(-ho // block), work, ho * wo * c, workers)
    return out
