"""Per-value activations (ReLU6, LeakyReLU, sigmoid, tanh, SiLU, Hardswish, GELU) and softmax over
channels, as PyTorch computes them, on float32 arrays of any shape.

Every formula is a handful of NumPy passes. Over a whole map each pass would stream the map
through memory again, so the values are processed in blocks of :data:`BLOCK` values: a block, its
result and one or two temporaries stay in the core's L2 cache for all the passes of the formula.
Blocks are shared out over the engine's threads (:mod:`convdesigner.core.kernels.blocks`). Each
function takes ``out=`` (which may be ``x`` itself) so a caller computing bands of rows can write
into its own output, and ``workers=`` (pass 1 from inside a band of the pipeline).

NumPy has no ``erf``, so GELU uses its own: ``erf(x) = tanh(x·P(x²))`` with a polynomial ``P`` of
degree 6 in ``x²`` fitted to ``atanh(erf(x))/x`` (weighted minimax, fitted in float64). The
polynomial grows fast enough that ``tanh`` saturates at ±1 exactly where float32's ``erf`` does,
so no clamping pass is needed, and ``x·P(x²)`` keeps ``erf`` odd (``-0`` stays ``-0``) and
relatively accurate near zero. The same polynomial gives GELU without ``erf``:
``Φ(x) = (1 + erf(x/√2))/2 = σ(2·atanh(erf(x/√2)))``, hence ``gelu(x) = x / (1 + exp(x·Q(x²)))``
with ``Q`` a rescaling of ``P``: 17 passes instead of 27 for a rational ``erf``, and more accurate
in the negative tail than ``x·(1 + erf)/2``, which cancels there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np

from convdesigner.core.kernels import buffers
from convdesigner.core.kernels.blocks import run_blocks, scratch
from convdesigner.core.kernels.buffers import Scratch

FloatArray = np.ndarray

BLOCK = 65536
"""Values per block: 128 KiB per array, so input, output and temporaries sit in L2 together
(measured on GELU over a 56×56×256 map: 64-128 Ki values per block are 1.6× faster than one
pass over the whole map; blocks of 4-16 Ki values lose to NumPy's per-call overhead)."""

_ERF_P = (
    1.1283793300548899,
    0.10276785264293287,
    -0.00018862895603859178,
    -0.0006226396347385381,
    8.869976644488835e-05,
    -5.837140785887508e-06,
    1.5117024004812946e-07,
)
"""``atanh(erf(x)) ≈ x·Σ P[k]·x^(2k)``: fitted on [0, 3.9] (beyond, float32's erf is ±1), max
error of the fit 7e-8 in erf; float32 evaluation brings it to 1.6e-7 (≤ 3 ulp of the result)."""

_ERF_COEFFS = tuple(np.float32(c) for c in _ERF_P)
_GELU_COEFFS = tuple(np.float32(-math.sqrt(2.0) * c / 2.0**k) for k, c in enumerate(_ERF_P))
"""``-2·atanh(erf(x/√2)) = x·Σ G[k]·x^(2k)``: the exponent of ``1 + exp(...)`` in :func:`gelu`."""

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_TANH_GELU_C1 = np.float32(-2.0 * _SQRT_2_OVER_PI)
_TANH_GELU_C3 = np.float32(-2.0 * _SQRT_2_OVER_PI * 0.044715)
_ONE = np.float32(1.0)
_ZERO = np.float32(0.0)
_THREE = np.float32(3.0)
_SIX = np.float32(6.0)

Kernel = Callable[[FloatArray, FloatArray, list[FloatArray]], None]
"""``kernel(src, dst, temps)`` on one flat block; ``dst`` may be ``src``, so a kernel writes
``dst`` only in its last pass or in passes that read nothing but ``dst``."""


def _prepare(x: FloatArray, out: FloatArray | None) -> tuple[FloatArray, FloatArray]:
    src = np.asarray(x, dtype=np.float32)  # not ascontiguousarray: it makes scalars 1-D
    if not src.flags.c_contiguous:
        src = np.ascontiguousarray(src)
    if out is None:
        return src, buffers.empty(src.shape)
    if out.shape != src.shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(
            f"out must be a C-contiguous float32 array of shape {src.shape}, "
            f"got {out.dtype} {out.shape}" + ("" if out.flags.c_contiguous else " (not contiguous)")
        )
    return src, out


_TEMP_NAMES = ("activation_t0", "activation_t1")


def _per_value(
    x: FloatArray, out: FloatArray | None, kernel: Kernel, temps: int, workers: int | None
) -> FloatArray:
    src, dst = _prepare(x, out)
    flat_src, flat_dst = src.reshape(-1), dst.reshape(-1)
    n = flat_src.size

    def work(i: int, store: Scratch) -> None:
        a, b = i * BLOCK, min(n, (i + 1) * BLOCK)
        t = [scratch(store, _TEMP_NAMES[k], (b - a,)) for k in range(temps)]
        # Overflow to ±inf and inf·0 = NaN are the intended results (as in torch), not errors;
        # set here, as NumPy's error state belongs to each thread.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            kernel(flat_src[a:b], flat_dst[a:b], t)

    run_blocks(-(-n // BLOCK), work, n, workers)
    return dst


def _odd_polynomial(
    x: FloatArray, coeffs: tuple[np.float32, ...], x2: FloatArray, acc: FloatArray
) -> None:
    """``acc = x · Σ coeffs[k]·x^(2k)`` by Horner's scheme in ``x²`` (``x2`` is a temporary).

    The leading coefficient is positive, so for huge ``x`` the sum overflows to +inf, never to
    inf - inf = NaN."""
    np.multiply(x, x, out=x2)
    np.multiply(x2, coeffs[-1], out=acc)
    for c in coeffs[-2:0:-1]:
        acc += c
        acc *= x2
    acc += coeffs[0]
    acc *= x


# --------------------------------------------------------------------------- kernels on blocks


def _relu6_block(src: FloatArray, dst: FloatArray, _t: list[FloatArray]) -> None:
    # clip keeps -0 as -0 and propagates NaN, as torch's clamp does (maximum(x, 0) gives +0).
    np.clip(src, _ZERO, _SIX, out=dst)


def _sigmoid_block(src: FloatArray, dst: FloatArray, _t: list[FloatArray]) -> None:
    # torch's own formula, 1 / (1 + exp(-x)): exact 0 and 1 at the ends, no cancellation.
    np.negative(src, out=dst)
    np.exp(dst, out=dst)
    dst += _ONE
    np.divide(_ONE, dst, out=dst)


def _silu_block(src: FloatArray, dst: FloatArray, t: list[FloatArray]) -> None:
    tmp = t[0]
    np.negative(src, out=tmp)
    np.exp(tmp, out=tmp)
    tmp += _ONE
    np.divide(src, tmp, out=dst)


def _hardswish_block(src: FloatArray, dst: FloatArray, t: list[FloatArray]) -> None:
    # torch's order of operations, x * clamp(x + 3, 0, 6) / 6, so results agree to the bit.
    tmp = t[0]
    np.add(src, _THREE, out=tmp)
    np.clip(tmp, _ZERO, _SIX, out=tmp)
    tmp *= src
    np.divide(tmp, _SIX, out=dst)


def _tanh_block(src: FloatArray, dst: FloatArray, _t: list[FloatArray]) -> None:
    np.tanh(src, out=dst)


def _erf_block(src: FloatArray, dst: FloatArray, t: list[FloatArray]) -> None:
    x2, acc = t
    _odd_polynomial(src, _ERF_COEFFS, x2, acc)
    np.tanh(acc, out=dst)


def _gelu_block(src: FloatArray, dst: FloatArray, t: list[FloatArray]) -> None:
    x2, acc = t
    _odd_polynomial(src, _GELU_COEFFS, x2, acc)
    np.exp(acc, out=acc)
    acc += _ONE
    np.divide(src, acc, out=dst)


def _gelu_tanh_block(src: FloatArray, dst: FloatArray, t: list[FloatArray]) -> None:
    # 0.5·x·(1 + tanh(u)) = x / (1 + exp(-2u)), u = √(2/π)·(x + 0.044715·x³): three passes
    # fewer than the tanh form, and no cancellation in 1 + tanh(u) for negative x.
    tmp = t[0]
    np.multiply(src, src, out=tmp)
    tmp *= _TANH_GELU_C3
    tmp += _TANH_GELU_C1
    tmp *= src
    np.exp(tmp, out=tmp)
    tmp += _ONE
    np.divide(src, tmp, out=dst)


# --------------------------------------------------------------------------- public functions


def relu6(x: FloatArray, out: FloatArray | None = None, workers: int | None = None) -> FloatArray:
    """``min(max(x, 0), 6)`` (torch.nn.ReLU6)."""
    return _per_value(x, out, _relu6_block, 0, workers)


def leaky_relu(
    x: FloatArray,
    negative_slope: float = 0.01,
    out: FloatArray | None = None,
    workers: int | None = None,
) -> FloatArray:
    """``x`` where ``x > 0``, else ``negative_slope·x`` (torch.nn.LeakyReLU), any slope."""
    slope = np.float32(negative_slope)
    # One product and one comparison: for a slope ≤ 1 the larger of x and slope·x is the answer
    # on both sides of zero (also for negative slopes), for a slope > 1 the smaller.
    pick = np.maximum if slope <= 1 else np.minimum

    def block(src: FloatArray, dst: FloatArray, t: list[FloatArray]) -> None:
        np.multiply(src, slope, out=t[0])
        pick(src, t[0], out=dst)

    return _per_value(x, out, block, 1, workers)


def sigmoid(x: FloatArray, out: FloatArray | None = None, workers: int | None = None) -> FloatArray:
    """``1 / (1 + exp(-x))`` (torch.sigmoid)."""
    return _per_value(x, out, _sigmoid_block, 0, workers)


def tanh(x: FloatArray, out: FloatArray | None = None, workers: int | None = None) -> FloatArray:
    """Hyperbolic tangent (torch.tanh)."""
    return _per_value(x, out, _tanh_block, 0, workers)


def silu(x: FloatArray, out: FloatArray | None = None, workers: int | None = None) -> FloatArray:
    """``x · sigmoid(x)`` (torch.nn.SiLU), computed as torch does: ``x / (1 + exp(-x))``."""
    return _per_value(x, out, _silu_block, 1, workers)


def hardswish(
    x: FloatArray, out: FloatArray | None = None, workers: int | None = None
) -> FloatArray:
    """``x · relu6(x + 3) / 6`` (torch.nn.Hardswish)."""
    return _per_value(x, out, _hardswish_block, 1, workers)


def erf(x: FloatArray, out: FloatArray | None = None, workers: int | None = None) -> FloatArray:
    """The error function in float32: max error 1.6e-7 (≤ 3 ulp of the result) against the
    exact values, odd (``erf(-0) = -0``), ±1 from |x| ≈ 3.9 on, NaN for NaN."""
    return _per_value(x, out, _erf_block, 2, workers)


GeluApproximation = Literal["none", "tanh"]


def gelu(
    x: FloatArray,
    approximate: GeluApproximation = "none",
    out: FloatArray | None = None,
    workers: int | None = None,
) -> FloatArray:
    """``x·Φ(x)`` (torch.nn.GELU): the exact erf form by default, or torch's tanh approximation.

    Both are computed as ``x / (1 + exp(...))`` (see the module notes): finite inputs agree with
    torch to its own accuracy (torch's erf-based GELU is off by up to 3.7e-7·|x| in float32;
    this one by about 1e-7·|x|). At the infinities this gives ``gelu(inf) = inf`` and
    ``gelu(-inf) = NaN``, where torch gives NaN for both with the erf form."""
    if approximate == "none":
        return _per_value(x, out, _gelu_block, 2, workers)
    if approximate == "tanh":
        return _per_value(x, out, _gelu_tanh_block, 1, workers)
    raise ValueError(f"gelu approximate must be 'none' or 'tanh', got {approximate!r}")


def softmax(x: FloatArray, out: FloatArray | None = None, workers: int | None = None) -> FloatArray:
    """Softmax over the last axis: the channels of a channels-last map, or a whole vector
    (torch.softmax over the channel dimension).

    Stable for any input. Rows of channels are processed in blocks of about :data:`BLOCK`
    values; when all values of a block lie where ``exp`` can neither overflow (even summed over
    the channels) nor leave the normal range, ``exp(x)`` is used as it is: the same ratios as
    ``exp(x - max)`` to float32 rounding, without the per-pixel maximum and subtraction (two of
    the five passes, and the slowest ones: NumPy's per-row reductions and broadcasts over 256
    channels cost 3-4× a plain pass). Otherwise, as in torch, each pixel's largest value is
    subtracted first, so a pixel with a NaN, or with +inf, gives NaN for all its channels.
    The sums are matrix-vector products with a vector of ones (4× faster than ``np.sum`` over
    the last axis, with BLAS's vector accumulation: a few ulp, like torch's own)."""
    src, dst = _prepare(x, out)
    if src.ndim == 0:
        raise ValueError("softmax needs at least one axis (the channels), got a scalar")
    channels = src.shape[-1]
    if src.size == 0:
        return dst
    rows_src = src.reshape(-1, channels)
    rows_dst = dst.reshape(-1, channels)
    n = rows_src.shape[0]
    step = max(1, BLOCK // channels)
    ones = np.ones(channels, dtype=np.float32)
    high = _softmax_high(channels)

    def work(i: int, store: Scratch) -> None:
        a, b = i * step, min(n, (i + 1) * step)
        s, d = rows_src[a:b], rows_dst[a:b]
        r = scratch(store, "softmax_sums", (b - a,))
        with np.errstate(invalid="ignore", over="ignore", under="ignore"):
            if s.min() >= _SOFTMAX_LOW and s.max() <= high:  # False for NaN
                np.exp(s, out=d)
            else:
                peak = r[:, None]
                np.max(s, axis=1, keepdims=True, out=peak)
                np.subtract(s, peak, out=d)
                np.exp(d, out=d)
            np.matmul(d, ones, out=r)
            np.divide(d, r[:, None], out=d)

    run_blocks(-(-n // step), work, src.size, workers)
    return dst


_SOFTMAX_LOW = np.float32(-80.0)
"""exp(-80) = 1.8e-35 is still a normal float32 (the smallest is 1.2e-38): full precision."""


def _softmax_high(channels: int) -> np.float32:
    """Largest value whose exp, summed over ``channels`` of them, stays below float32's maximum
    (exp(88.7)) with a margin of e."""
    return np.float32(min(80.0, 87.7 - math.log(channels)))
