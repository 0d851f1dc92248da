"""The engine kernels of issue 11's new operations, against PyTorch and against references
written out here.

Tolerances are as tight as float32 allows and each says why. ``EPS`` is float32's machine
epsilon (2^-23): one rounding of a value ``v`` errs by at most ``EPS/2·|v|``; a sum of ``n``
terms computed in any order errs by at most about ``n·EPS/2·Σ|terms|``, so two such sums
(ours and torch's, in different orders) differ by at most ``n·EPS·Σ|terms|``.

Tests marked ``oracle`` need torch and are skipped without it; the others run on NumPy alone.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from convdesigner.core.kernels import activations, blocks, conv_transpose, merge, resample
from convdesigner.core.kernels.activations import erf, gelu, softmax
from convdesigner.core.kernels.conv_transpose import conv_transpose2d
from convdesigner.core.kernels.resample import upsample, zero_pad

EPS = float(np.finfo(np.float32).eps)
F32 = np.float32

SPECIAL = np.array(
    [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-40, -1e-40, 1e-30, -1e-30, 3.0, -3.0, 6.0,
     -6.0, 88.0, -88.0, 89.0, -89.0, 100.0, -100.0, 1e30, -1e30, 3.4e38, -3.4e38],
    dtype=np.float32,
)  # fmt: skip
"""Zeros of both signs, NaN, infinities, denormals, the kinks of ReLU6/Hardswish, where exp
overflows in float32 (88.7), and the largest floats."""


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch")


def chw(torch: Any, x: np.ndarray) -> Any:
    """A channels-last map as torch's (1, C, H, W) tensor."""
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]


def hwc(t: Any) -> np.ndarray:
    out: np.ndarray = t[0].detach().numpy().transpose(1, 2, 0)
    return out


def ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Distance in units of the last place of ``want`` (float32), for finite values."""
    spacing = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    out: np.ndarray = diff / spacing
    return out


def same_nan_and_inf(got: np.ndarray, want: np.ndarray) -> None:
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)])


def activation_inputs(seed: int) -> np.ndarray:
    """Random values at several scales plus every special value, as a (H, W, C) map."""
    rng = np.random.default_rng(seed)
    values = np.concatenate(
        [
            rng.standard_normal(3000) * 3,
            rng.standard_normal(1000) * 40,
            rng.uniform(-10, 10, 2000),
            np.tile(SPECIAL, 4),
        ]
    ).astype(np.float32)
    rng.shuffle(values)
    return values[: values.size // 32 * 32].reshape(-1, 4, 8)


# =========================================================================== activations


def reference_float64(name: str, x: np.ndarray) -> np.ndarray:
    """The exact function in float64 (finite inputs only), rounded once to float32."""
    v = x.astype(np.float64)
    if name == "relu6":
        out = np.clip(v, 0.0, 6.0)
    elif name == "sigmoid":
        out = 1.0 / (1.0 + np.exp(-v))
    elif name == "silu":
        out = v / (1.0 + np.exp(-v))
    elif name == "tanh":
        out = np.tanh(v)
    elif name == "hardswish":
        out = v * np.clip(v + 3.0, 0.0, 6.0) / 6.0
    else:
        raise AssertionError(name)
    result: np.ndarray = out.astype(np.float32)
    return result


@pytest.mark.parametrize(
    ("name", "max_ulps"),
    [
        # ReLU6 is exact; Hardswish rounds x+3, the product and the quotient: ≤ 1.5 ulp.
        ("relu6", 0),
        ("hardswish", 2),
        # exp (NumPy's SIMD expf: ≤ 1 ulp) and a division; the error of exp(-x) is damped
        # by 1/(1+exp(-x))² where it matters: a few ulp.
        ("sigmoid", 4),
        ("silu", 4),
        ("tanh", 2),
    ],
)
def test_activation_matches_float64_formula(name: str, max_ulps: int) -> None:
    x = activation_inputs(1)
    # Where exp(-x) overflows float32 (x < -88.7) torch's formula, and so this one, gives 0
    # for values that are denormal; those ends are compared with torch below.
    inside = np.isfinite(x) & (np.abs(x) <= 87)
    got = getattr(activations, name)(x)
    want = reference_float64(name, np.where(inside, x, 0.0))
    assert got.shape == x.shape
    assert got.dtype == np.float32
    assert ulps(got[inside], want[inside]).max() <= max_ulps


def test_leaky_relu_any_slope() -> None:
    x = activation_inputs(2)
    finite = np.isfinite(x)
    for slope in (0.01, 0.2, 1.0, 3.0, -0.5):
        got = activations.leaky_relu(x, slope)
        with np.errstate(over="ignore", invalid="ignore"):
            want = np.where(x > 0, x, x * F32(slope))  # one rounding, the same as torch's
        np.testing.assert_array_equal(got[finite], want[finite])
        assert np.isnan(got[np.isnan(x)]).all()


def test_erf_against_math_erf() -> None:
    """Every float32 step near zero and a dense grid out to where erf is ±1 in float32, plus
    huge values: absolute error ≤ 1.6e-7 (3 ulp at 0.85, where it peaks), relative ≤ 3.5e-7."""
    grid = np.concatenate(
        [
            np.linspace(0, 6, 1_200_001, dtype=np.float32),
            np.geomspace(1e-38, 1e-2, 2000).astype(np.float32),
            np.geomspace(6, 3e38, 200).astype(np.float32),
        ]
    )
    x = np.concatenate([grid, -grid])
    got = erf(x).astype(np.float64)
    want = np.array([math.erf(float(v)) for v in x.astype(np.float64)])
    err = np.abs(got - want)
    assert err.max() <= 1.6e-7
    nonzero = want != 0
    assert (err[nonzero] / np.abs(want[nonzero])).max() <= 3.5e-7
    # Odd to the bit, and the ends exact.
    np.testing.assert_array_equal(erf(-grid), -erf(grid))
    specials = erf(np.array([-0.0, 0.0, np.inf, -np.inf, np.nan], dtype=np.float32))
    assert np.signbit(specials[0])
    assert not np.signbit(specials[1])
    np.testing.assert_array_equal(specials[2:4], [1.0, -1.0])
    assert np.isnan(specials[4])


def test_gelu_against_float64() -> None:
    """x·Φ(x) with Φ from math.erfc (no cancellation in the tails): error ≤ 2e-7·|x|, i.e.
    ≤ 1.5 ulp of x in Φ's relative terms (torch's own float32 GELU errs by up to 3.7e-7·|x|)."""
    x = np.concatenate([np.linspace(-12, 12, 480_001), np.geomspace(1e-30, 1e4, 1000)]).astype(
        np.float32
    )
    x = np.concatenate([x, -x])
    want = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x.astype(np.float64)])
    got = gelu(x).astype(np.float64)
    assert (np.abs(got - want) <= 2e-7 * np.abs(x.astype(np.float64))).all()
    xd = x.astype(np.float64)
    tanh_want = 0.5 * xd * (1 + np.tanh(math.sqrt(2 / math.pi) * (xd + 0.044715 * xd**3)))
    tanh_got = gelu(x, "tanh").astype(np.float64)
    assert (np.abs(tanh_got - tanh_want) <= 2e-7 * np.abs(xd)).all()
    # The documented ends: -0 stays -0, +inf → inf, -inf → NaN, NaN → NaN.
    ends = gelu(np.array([-0.0, np.inf, -np.inf, np.nan], dtype=np.float32))
    assert np.signbit(ends[0])
    assert ends[1] == np.inf
    assert np.isnan(ends[2:]).all()


def test_gelu_rejects_unknown_approximation() -> None:
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        gelu(np.zeros(3, dtype=np.float32), "fast")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name", ["relu6", "sigmoid", "tanh", "silu", "hardswish", "erf", "gelu", "softmax"]
)
def test_out_in_place_blocks_and_threads(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any shape; out= may be the input; threads change nothing, to the bit, and neither do
    blocks, except for softmax: its sums are BLAS products whose order depends on the number
    of rows, and a block takes the fast path only if all its values allow it (≤ 8 ulp apart)."""
    fn = getattr(activations, name)
    rng = np.random.default_rng(3)
    for shape in [(5,), (3, 4, 7), (2, 3, 4, 5), (1, 1, 1)]:
        x = (rng.standard_normal(shape) * 4).astype(np.float32)
        x.flat[0] = 100.0  # one block of softmax takes the max-subtracting path
        whole = fn(x, workers=1)
        monkeypatch.setattr(activations, "BLOCK", 7)  # many ragged blocks
        blocked = fn(x, workers=1)
        np.testing.assert_array_equal(fn(x, workers=2), blocked)
        if name == "softmax":  # see test_softmax_against_float64 for the bound
            spread = np.abs(x - x.max(axis=-1, keepdims=True))
            assert (np.abs(blocked - whole) <= (8 * EPS + EPS / 2 * spread) * whole).all()
        else:
            np.testing.assert_array_equal(blocked, whole)
        inplace = x.copy()
        assert fn(inplace, out=inplace, workers=2) is inplace
        np.testing.assert_array_equal(inplace, blocked)
        monkeypatch.undo()
    with pytest.raises(ValueError, match="C-contiguous float32 array of shape"):
        fn(np.zeros((2, 3), dtype=np.float32), out=np.zeros((3, 2), dtype=np.float32))


def test_softmax_sums_to_one_and_is_stable() -> None:
    rng = np.random.default_rng(4)
    for scale in (1.0, 30.0, 1e4):
        x = (rng.standard_normal((6, 5, 64)) * scale).astype(np.float32)
        p = softmax(x)
        assert (p >= 0).all()
        # 64 terms ≤ 1, each rounded, summed in some order: ≤ 64·EPS.
        assert np.abs(p.sum(axis=-1, dtype=np.float64) - 1).max() <= 64 * EPS
    # Shift invariance, also across the fast (exp(x)) and the max-subtracting path: values
    # on a 1/64 grid stay exact after adding up to 2^17, so the ratios are the same numbers.
    base = (np.round(rng.standard_normal((4, 4, 32)) * 64) / 64).astype(np.float32)
    want = softmax(base)
    for shift in (256.0, 2.0**17, -(2.0**17)):
        shifted = softmax(base + F32(shift))
        assert (np.abs(shifted - want) <= 8 * EPS * np.maximum(want, 1e-30)).all()
    # A vector is one set of channels.
    v = rng.standard_normal(1000).astype(np.float32)
    exact = np.exp(v.astype(np.float64))
    np.testing.assert_allclose(softmax(v), exact / exact.sum(), rtol=8 * EPS)
    with pytest.raises(ValueError, match="scalar"):
        softmax(np.array(1.0, dtype=np.float32))


def test_softmax_against_float64() -> None:
    """Where exp(x) cannot overflow, exp, the sum and the quotient round: ≤ 8 ulp from the
    exact ratios (measured ≤ 5 up to 4096 channels). Beyond, x - max is rounded first, which
    errs by EPS/2·|x - max| in the exponent: that much more, relatively."""
    rng = np.random.default_rng(9)
    for channels in (3, 64, 1000, 4096):
        for scale in (1.0, 10.0, 300.0):
            x = (rng.standard_normal((4, 3, channels)) * scale).astype(np.float32)
            exact = np.exp(x - x.max(axis=-1, keepdims=True).astype(np.float64))
            exact /= exact.sum(axis=-1, keepdims=True)
            spread = np.abs(x - x.max(axis=-1, keepdims=True)) if scale > 80 else 0.0
            tolerance = (8 * EPS + EPS / 2 * spread) * exact + 1e-40
            assert (np.abs(softmax(x) - exact) <= tolerance).all(), (channels, scale)


def test_softmax_nan_and_infinities_per_pixel() -> None:
    x = np.zeros((1, 4, 3), dtype=np.float32)
    x[0, 0] = [np.nan, 0, 1]
    x[0, 1] = [np.inf, 0, 1]
    x[0, 2] = [-np.inf, 0, 1]
    x[0, 3] = [-1e30, 1e30, 0]
    p = softmax(x)
    assert np.isnan(p[0, :2]).all()
    np.testing.assert_allclose(p[0, 2], [0, 1 / (1 + math.e), math.e / (1 + math.e)], rtol=4 * EPS)
    np.testing.assert_array_equal(p[0, 3], [0, 1, 0])


# =========================================================================== zero padding


def test_zero_pad_shapes_and_values() -> None:
    x = np.random.default_rng(5).standard_normal((3, 4, 2)).astype(np.float32) + 10
    for pads in [((0, 0), (0, 0)), ((1, 2), (3, 0)), ((0, 5), (0, 1)), ((2, 2), (2, 2))]:
        (t, b), (left, r) = pads
        got = zero_pad(x, pads)
        assert got.shape == (3 + t + b, 4 + left + r, 2)
        np.testing.assert_array_equal(got, np.pad(x, ((t, b), (left, r), (0, 0))))
    with pytest.raises(ValueError, match="non-negative, got left = -1"):
        zero_pad(x, ((0, 0), (-1, 0)))
    with pytest.raises(ValueError, match=r"channels-last map \(H, W, C\)"):
        zero_pad(np.zeros(4, dtype=np.float32), ((1, 1), (1, 1)))


# =========================================================================== upsampling


def test_nearest_integer_scales_repeat_pixels() -> None:
    x = np.random.default_rng(6).standard_normal((5, 7, 3)).astype(np.float32)
    for sh, sw in [(2, 2), (3, 1), (1, 4), (2, 3)]:
        want = np.repeat(np.repeat(x, sh, axis=0), sw, axis=1)
        out_hw = (5 * sh, 7 * sw)
        np.testing.assert_array_equal(upsample(x, out_hw, "nearest"), want)
        np.testing.assert_array_equal(upsample(x, out_hw, "nearest", (sh, sw)), want)


@pytest.mark.parametrize("align_corners", [False, True])
def test_bilinear_reproduces_affine_maps(align_corners: bool) -> None:
    """Bilinear interpolation is exact on f(y, x) = 3 + 0.5·y - 0.25·x at torch's source
    coordinates (clamped to the map), up to float32 rounding: values below 8, a handful of
    roundings in the blends, and the float32 coordinates (off by EPS·|src| ≤ EPS·8)."""
    h, w = 6, 9
    ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    x = np.stack([3 + 0.5 * ys - 0.25 * xs, -(3 + 0.5 * ys - 0.25 * xs)], -1).astype(np.float32)
    for (ho, wo), scale in [((12, 18), None), ((15, 13), None), ((9, 13), (1.5, 1.5)),
                            ((3, 4), (0.5, 0.5)), ((1, 1), None)]:  # fmt: skip

        def source(n_in: int, n_out: int, s: float | None) -> np.ndarray:
            o = np.arange(n_out, dtype=np.float64)
            if align_corners:
                src = o * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
            else:
                src = np.maximum((o + 0.5) * (1 / s if s else n_in / n_out) - 0.5, 0)
            result: np.ndarray = np.minimum(src, n_in - 1)
            return result

        sy = source(h, ho, scale[0] if scale else None)
        sx = source(w, wo, scale[1] if scale else None)
        want = 3 + 0.5 * sy[:, None] - 0.25 * sx[None, :]
        got = upsample(x, (ho, wo), "bilinear", scale, align_corners)
        np.testing.assert_allclose(got[..., 0], want, rtol=0, atol=8 * EPS * 8)
        np.testing.assert_allclose(got[..., 1], -want, rtol=0, atol=8 * EPS * 8)


def test_upsample_blocks_and_threads_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.random.default_rng(7).standard_normal((9, 8, 5)).astype(np.float32)
    cases: list[tuple[tuple[int, int], str, tuple[float, float] | None, bool]] = [
        ((18, 16), "bilinear", (2.0, 2.0), False),
        ((27, 11), "bilinear", None, True),
        ((13, 12), "bilinear", (1.5, 1.5), False),
        ((18, 24), "nearest", (2.0, 3.0), False),
        ((7, 5), "nearest", None, False),
    ]
    for out_hw, mode, scale, corners in cases:
        want = upsample(x, out_hw, mode, scale, corners, workers=1)  # type: ignore[arg-type]
        monkeypatch.setattr(resample, "ROW_BLOCK_VALUES", 1)  # one row (or period) a block
        for workers in (1, 2):
            got = upsample(x, out_hw, mode, scale, corners, workers=workers)  # type: ignore[arg-type]
            np.testing.assert_array_equal(got, want)
        monkeypatch.undo()


def test_upsample_rejects_bad_settings() -> None:
    x = np.zeros((2, 2, 1), dtype=np.float32)
    with pytest.raises(ValueError, match="bilinear upsampling only"):
        upsample(x, (4, 4), "nearest", None, True)
    with pytest.raises(ValueError, match="'nearest' or 'bilinear'"):
        upsample(x, (4, 4), "bicubic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 1×1"):
        upsample(x, (0, 4), "nearest")
    with pytest.raises(ValueError, match="must be positive"):
        upsample(x, (4, 4), "nearest", (2.0, -2.0))


# =========================================================================== transposed conv


def naive_conv_transpose(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    stride: tuple[int, int],
    padding: tuple[int, int],
    output_padding: tuple[int, int],
    dilation: tuple[int, int],
    groups: int,
) -> np.ndarray:
    """The definition, in float64: every input value scattered through every tap."""
    h, w, c_in = x.shape
    _, cog, kh, kw = weight.shape
    ho = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + output_padding[0] + 1
    wo = (w - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + output_padding[1] + 1
    out = np.zeros((ho, wo, cog * groups))
    cg = c_in // groups
    for r in range(h):
        for c in range(w):
            for ci in range(c_in):
                g = ci // cg
                for i in range(kh):
                    oh = r * stride[0] + i * dilation[0] - padding[0]
                    for j in range(kw):
                        ow = c * stride[1] + j * dilation[1] - padding[1]
                        if 0 <= oh < ho and 0 <= ow < wo:
                            out[oh, ow, g * cog : (g + 1) * cog] += float(x[r, c, ci]) * weight[
                                ci, :, i, j
                            ].astype(np.float64)
    if bias is not None:
        out += bias
    return out


def random_conv_transpose_case(rng: np.random.Generator, small: bool) -> dict[str, Any]:
    groups = int(rng.choice([1, 1, 2, 3]))
    cg = 1 if rng.random() < 0.25 else int(rng.integers(1, 4))  # depthwise a quarter of the time
    stride = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))  # often larger than the kernel
    dilation = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    kernel = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    size = 5 if small else 9
    while True:
        h, w = int(rng.integers(1, size)), int(rng.integers(1, size))  # 1×1 maps included
        padding = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        output_padding = tuple(
            int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation, strict=True)
        )
        ho = conv_transpose.output_size(h, kernel[0], stride[0], padding[0], output_padding[0],
                                        dilation[0])  # fmt: skip
        wo = conv_transpose.output_size(w, kernel[1], stride[1], padding[1], output_padding[1],
                                        dilation[1])  # fmt: skip
        if ho >= 1 and wo >= 1:
            break
    c_in, cog = groups * cg, int(rng.integers(1, 4))
    return {
        "x": rng.standard_normal((h, w, c_in)).astype(np.float32),
        "weight": rng.standard_normal((c_in, cog, *kernel)).astype(np.float32),
        "bias": rng.standard_normal(groups * cog).astype(np.float32)
        if rng.random() < 0.7
        else None,
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
        "groups": groups,
    }


def sum_bound(case: dict[str, Any]) -> np.ndarray:
    """Σ|terms| of every output value: the scale of its rounding errors."""
    absolute = dict(case, x=np.abs(case["x"]), weight=np.abs(case["weight"]))
    absolute["bias"] = None if case["bias"] is None else np.abs(case["bias"])
    return naive_conv_transpose(**absolute)


@pytest.mark.parametrize("seed", range(12))
def test_conv_transpose_equals_the_definition(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Against the float64 loop: each output sums at most C_in/groups·kh·kw products and a
    bias, so it is within (that many + 1)·EPS·Σ|terms|. Blocks of one row and two threads."""
    rng = np.random.default_rng(100 + seed)
    for _ in range(6):
        case = random_conv_transpose_case(rng, small=True)
        want = naive_conv_transpose(**case)
        kh, kw = case["weight"].shape[2:]
        terms = case["x"].shape[2] // case["groups"] * kh * kw + 1
        tolerance = terms * EPS * sum_bound(case)
        for workers, block in ((1, conv_transpose.PRODUCTS_PER_BLOCK), (2, 1)):
            monkeypatch.setattr(conv_transpose, "PRODUCTS_PER_BLOCK", block)
            got = conv_transpose2d(**case, workers=workers)
            assert got.shape == want.shape
            assert (np.abs(got - want) <= tolerance).all(), case
        monkeypatch.undo()


def test_conv_transpose_rejects_impossible_settings() -> None:
    x = np.zeros((4, 4, 2), dtype=np.float32)
    w = np.zeros((2, 3, 3, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"output_padding along the height \(1\) must be smaller"):
        conv_transpose2d(x, w, None, (1, 1), (0, 0), (1, 0))
    # Allowed when the dilation is larger, as in torch.
    assert conv_transpose2d(x, w, None, (1, 1), (0, 0), (1, 0), (2, 1)).shape == (9, 6, 3)
    with pytest.raises(ValueError, match="output would be -1×-1"):
        conv_transpose2d(np.zeros((1, 1, 2), dtype=np.float32), w, None, (1, 1), (2, 2))
    with pytest.raises(ValueError, match="groups must divide the 2 input channels"):
        conv_transpose2d(x, w, None, groups=3)
    with pytest.raises(ValueError, match="weight has 2 input channels, the map has 5"):
        conv_transpose2d(np.zeros((4, 4, 5), dtype=np.float32), w, None)
    with pytest.raises(ValueError, match="bias must have 3 values"):
        conv_transpose2d(x, w, np.zeros(2, dtype=np.float32))
    with pytest.raises(ValueError, match="stride and dilation must be at least 1"):
        conv_transpose2d(x, w, None, (0, 1))
    with pytest.raises(ValueError, match="must be non-negative"):
        conv_transpose2d(x, w, None, (1, 1), (-1, 0))


def test_conv_transpose_non_finite_input_takes_the_general_way() -> None:
    """With a kernel width that is not a multiple of the stride the fast way pads the kernel
    with zero taps; an infinite input must not turn into NaN through them (0·inf)."""
    x = np.ones((3, 3, 1), dtype=np.float32)
    x[1, 1, 0] = np.inf
    w = np.ones((1, 1, 3, 3), dtype=np.float32)
    got = conv_transpose2d(x, w, None, (2, 2))
    want = naive_conv_transpose(x, w, None, (2, 2), (0, 0), (0, 0), (1, 1), 1)
    np.testing.assert_array_equal(got[..., 0], want[..., 0])


# =========================================================================== merges


def test_merge_operations() -> None:
    rng = np.random.default_rng(8)
    a, b, c = (rng.standard_normal((3, 4, 5)).astype(np.float32) for _ in range(3))
    np.testing.assert_array_equal(merge.add([a, b]), a + b)
    np.testing.assert_array_equal(merge.add([a, b, c]), (a + b) + c)
    d = rng.standard_normal((3, 4, 2)).astype(np.float32)
    np.testing.assert_array_equal(merge.concat([a, d, b]), np.concatenate([a, d, b], axis=2))
    v, u = np.arange(3, dtype=np.float32), np.arange(4, dtype=np.float32)
    np.testing.assert_array_equal(merge.concat([v, u]), np.concatenate([v, u]))
    np.testing.assert_array_equal(merge.multiply(a, b), a * b)
    se = rng.standard_normal((1, 1, 5)).astype(np.float32)
    np.testing.assert_array_equal(merge.multiply(a, se), a * se)
    np.testing.assert_array_equal(merge.multiply(se, a), a * se)
    with pytest.raises(
        ValueError, match=r"add needs equal shapes: input 0 is \(3, 4, 5\), input 1"
    ):
        merge.add([a, d])
    with pytest.raises(ValueError, match="at least two inputs"):
        merge.add([a])
    with pytest.raises(ValueError, match="same height and width"):
        merge.concat([a, rng.standard_normal((3, 5, 5)).astype(np.float32)])
    with pytest.raises(ValueError, match="vectors only"):
        merge.concat([v, a])
    with pytest.raises(ValueError, match="1×1×C map and an H×W×C map with the same C"):
        merge.multiply(a, rng.standard_normal((1, 1, 4)).astype(np.float32))


def test_blocks_reject_zero_workers() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        blocks.run_blocks(1, lambda i, s: None, 1, 0)


# =========================================================================== against torch


@pytest.mark.oracle
@pytest.mark.parametrize("seed", range(3))
def test_activations_against_torch(torch: Any, seed: int) -> None:
    x = activation_inputs(10 + seed)
    t = chw(torch, x)
    nn = torch.nn
    exact = {  # the same float32 operations as torch: bitwise, signed zeros included
        "relu6": (activations.relu6(x), nn.ReLU6()(t)),
        "leaky_relu": (activations.leaky_relu(x, 0.1), nn.LeakyReLU(0.1)(t)),
        "leaky_relu>1": (activations.leaky_relu(x, 2.5), nn.LeakyReLU(2.5)(t)),
        "leaky_relu<0": (activations.leaky_relu(x, -0.3), nn.LeakyReLU(-0.3)(t)),
        "hardswish": (activations.hardswish(x), nn.Hardswish()(t)),
    }
    for name, (got, ref) in exact.items():
        want = hwc(ref)
        np.testing.assert_array_equal(got, want, err_msg=name)
        numbers = ~np.isnan(want)  # a NaN's sign bit depends on the instruction that made it
        np.testing.assert_array_equal(np.signbit(got[numbers]), np.signbit(want[numbers]), name)
    # Different exp/tanh implementations (NumPy's SIMD ones, torch's Sleef), each ≤ 1-2 ulp,
    # through the same formula: ≤ 4 ulp apart (6 leaves a margin for other CPUs).
    close = {
        "sigmoid": (activations.sigmoid(x), nn.Sigmoid()(t)),
        "silu": (activations.silu(x), nn.SiLU()(t)),
        "tanh": (activations.tanh(x), nn.Tanh()(t)),
    }
    for name, (got, ref) in close.items():
        want = hwc(ref)
        same_nan_and_inf(got, want)
        finite = np.isfinite(want)
        assert ulps(got[finite], want[finite]).max() <= 6, name
    # GELU: torch's float32 erf form errs by up to 3.7e-7·|x| (its vectorised erf is
    # Abramowitz-Stegun 7.1.26) and this one by 1.5e-7·|x|; the tanh forms by ~1.2e-7·|x| each.
    # Near float32's maximum torch's x·(1 + erf) overflows to inf; this one gives x.
    finite = np.isfinite(x) & (np.abs(x) < 1e38)
    for approximate, bound in (("none", 6e-7), ("tanh", 3e-7)):
        got = activations.gelu(x, approximate)  # type: ignore[arg-type]
        want = hwc(nn.GELU(approximate=approximate)(t))
        assert (np.abs(got[finite] - want[finite]) <= bound * np.abs(x[finite]) + 1e-38).all()
        assert np.isnan(got[np.isnan(x)]).all()
        assert (np.signbit(got) == np.signbit(want))[x == 0].all()


@pytest.mark.oracle
@pytest.mark.parametrize("channels", [1, 3, 64, 256, 1000])
def test_softmax_against_torch(torch: Any, channels: int) -> None:
    """torch subtracts each pixel's maximum in float32 first, which rounds x - max by up to
    EPS/2·|x - max|: a relative error of that size in exp (this kernel skips the subtraction
    where exp cannot overflow). And torch sums the channels one after the other: an error
    that grows like √C (measured: 13 ulp from the exact ratios at 1000 channels, 18 at 4096;
    this kernel ≤ 5). Beyond that both round exp and the quotient."""
    rng = np.random.default_rng(channels)
    for scale in (1.0, 10.0, 300.0, 1e6):
        x = (rng.standard_normal((5, 3, channels)) * scale).astype(np.float32)
        got = softmax(x)
        want = hwc(torch.softmax(chw(torch, x), dim=1))
        spread = np.abs(x - x.max(axis=-1, keepdims=True))
        tolerance = ((8 + math.sqrt(channels)) * EPS + EPS / 2 * spread) * want + 1e-38
        assert (np.abs(got - want) <= tolerance).all(), scale
    vector = rng.standard_normal(channels).astype(np.float32) * 5
    np.testing.assert_allclose(softmax(vector), torch.softmax(torch.from_numpy(vector), 0).numpy(),
                               rtol=(8 + math.sqrt(channels)) * EPS + EPS / 2 * 50,
                               atol=1e-38)  # fmt: skip
    pixels = [[np.nan, 0, 1], [np.inf, 0, 1], [-np.inf, 0, 1], [-1e30, 1e30, 0]]
    pixels += [[-np.inf, -np.inf, -np.inf], [1e38, 3e38, -3e38]]
    special = np.array([pixels], dtype=np.float32)
    got = softmax(special)
    want = hwc(torch.softmax(chw(torch, special), dim=1))
    np.testing.assert_allclose(got, want, rtol=8 * EPS, atol=0)  # NaN where torch has NaN


@pytest.mark.oracle
def test_zero_pad_against_torch(torch: Any) -> None:
    x = np.random.default_rng(11).standard_normal((4, 6, 3)).astype(np.float32)
    for (t, b), (left, r) in [((0, 0), (0, 0)), ((1, 0), (2, 3)), ((3, 2), (0, 1))]:
        want = hwc(torch.nn.ZeroPad2d((left, r, t, b))(chw(torch, x)))
        np.testing.assert_array_equal(zero_pad(x, ((t, b), (left, r))), want)


UPSAMPLE_SCALES = [2.0, 3.0, 1.5, 0.5, 1.0, 2.5, 1 / 3, 0.7, 1.3, 4.0]


@pytest.mark.oracle
@pytest.mark.parametrize("seed", range(8))
def test_upsample_against_torch(torch: Any, seed: int) -> None:
    """Nearest picks the same pixels (exact); bilinear blends the same pairs with the same
    float32 weights, computed as a + λ·(b - a) twice where torch sums weighted terms: at
    most 8 roundings of values up to max|x| apart."""
    rng = np.random.default_rng(200 + seed)
    for _ in range(25):
        h, w, c = (int(v) for v in rng.integers(1, 10, 3))
        if rng.random() < 0.2:
            h = w = 1
        x = rng.standard_normal((h, w, c)).astype(np.float32)
        mode = str(rng.choice(["nearest", "bilinear"]))
        corners = bool(rng.integers(0, 2)) if mode == "bilinear" else None
        if rng.random() < 0.5:
            scale = (float(rng.choice(UPSAMPLE_SCALES)), float(rng.choice(UPSAMPLE_SCALES)))
            if min(math.floor(h * scale[0]), math.floor(w * scale[1])) < 1:
                continue
            ref = torch.nn.Upsample(scale_factor=scale, mode=mode, align_corners=corners)
            out_hw = (math.floor(h * scale[0]), math.floor(w * scale[1]))
            given: tuple[float, float] | None = scale
        else:
            out_hw = (int(rng.integers(1, 20)), int(rng.integers(1, 20)))
            ref = torch.nn.Upsample(size=out_hw, mode=mode, align_corners=corners)
            given = None
        want = hwc(ref(chw(torch, x)))
        got = upsample(x, out_hw, mode, given, bool(corners))  # type: ignore[arg-type]
        assert got.shape == want.shape
        if mode == "nearest":
            np.testing.assert_array_equal(got, want)
        else:
            np.testing.assert_allclose(got, want, rtol=0, atol=8 * EPS * np.abs(x).max())


@pytest.mark.oracle
def test_upsample_spreads_nan_like_torch(torch: Any) -> None:
    x = np.random.default_rng(12).standard_normal((6, 7, 2)).astype(np.float32)
    x[2, 3, 0] = np.nan
    x[5, 6, 1] = np.nan  # the last row and column: torch reads them twice there
    for mode, scale, corners in [("bilinear", 2.0, False), ("bilinear", 1.5, True),
                                 ("nearest", 2.5, None), ("bilinear", 0.5, False)]:  # fmt: skip
        ref = torch.nn.Upsample(scale_factor=scale, mode=mode, align_corners=corners)
        want = hwc(ref(chw(torch, x)))
        got = upsample(x, want.shape[:2], mode, (scale, scale), bool(corners))  # type: ignore[arg-type]
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


@pytest.mark.oracle
@pytest.mark.parametrize("seed", range(10))
def test_conv_transpose_against_torch(torch: Any, seed: int) -> None:
    """Same bound as against the definition: two summation orders, (terms + 1)·EPS·Σ|terms|."""
    rng = np.random.default_rng(300 + seed)
    for _ in range(10):
        case = random_conv_transpose_case(rng, small=False)
        module = torch.nn.ConvTranspose2d(
            case["x"].shape[2], case["weight"].shape[1] * case["groups"], case["weight"].shape[2:],
            case["stride"], case["padding"], case["output_padding"], case["groups"],
            case["bias"] is not None, case["dilation"],
        )  # fmt: skip
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(case["weight"]))
            if case["bias"] is not None:
                module.bias.copy_(torch.from_numpy(case["bias"]))
            want = hwc(module(chw(torch, case["x"])))
        got = conv_transpose2d(**case)
        kh, kw = case["weight"].shape[2:]
        terms = case["x"].shape[2] // case["groups"] * kh * kw + 1
        assert got.shape == want.shape
        assert (np.abs(got - want) <= terms * EPS * sum_bound(case)).all(), case


@pytest.mark.oracle
def test_conv_transpose_nan_spreads_like_torch(torch: Any) -> None:
    rng = np.random.default_rng(13)
    for stride, kernel in [((2, 2), (4, 4)), ((2, 2), (3, 3)), ((3, 1), (2, 5))]:
        x = rng.standard_normal((5, 6, 3)).astype(np.float32)
        x[2, 2, 1] = np.nan
        weight = rng.standard_normal((3, 4, *kernel)).astype(np.float32)
        want = hwc(torch.nn.functional.conv_transpose2d(chw(torch, x), torch.from_numpy(weight),
                                                        stride=stride))  # fmt: skip
        got = conv_transpose2d(x, weight, None, stride)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


@pytest.mark.oracle
def test_merges_against_torch(torch: Any) -> None:
    rng = np.random.default_rng(14)
    a, b = (rng.standard_normal((4, 5, 6)).astype(np.float32) for _ in range(2))
    se = rng.uniform(0, 1, (1, 1, 6)).astype(np.float32)
    ta, tb, tse = chw(torch, a), chw(torch, b), chw(torch, se)
    np.testing.assert_array_equal(merge.add([a, b]), hwc(ta + tb))
    np.testing.assert_array_equal(merge.concat([a, b]), hwc(torch.cat([ta, tb], dim=1)))
    np.testing.assert_array_equal(merge.multiply(a, se), hwc(ta * tse))
