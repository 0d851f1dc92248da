"""Every layer type and option against the explicit-loop reference, on tiny inputs.

Weights are random (non-zero biases, non-trivial batchnorm statistics) so that a wrong index,
a transposed kernel or a dropped bias cannot go unnoticed. Each case also runs with one-row
bands on one and on two threads, so band seams and the fused conv→ReLU→pool path are covered.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pytest

from convdesigner.core import parallel
from convdesigner.core.analysis import analyse
from convdesigner.core.design import Design, InputSpec, Node
from convdesigner.core.engine import pipeline
from convdesigner.core.engine.forward import run_design
from convdesigner.core.kernels import conv, winograd, winograd4
from convdesigner.core.layers import (
    GELU,
    Add,
    AvgPool2D,
    BatchNorm2D,
    Concat,
    Conv2D,
    ConvTranspose2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Hardswish,
    Identity,
    Layer,
    LeakyReLU,
    MaxPool2D,
    Multiply,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
    Upsample,
    ZeroPad2D,
)
from convdesigner.core.ops import REGISTRY
from convdesigner.core.ops.common import pads4
from convdesigner.core.weights import default_weights
from tests.core.engine.engine_reference import forward as reference_forward


def random_weights(design: Design, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = default_weights(design, seed, classic_filters=False)
    for key, value in weights.items():
        if key.endswith("num_batches_tracked"):
            continue
        if key.endswith("running_var"):
            weights[key] = rng.uniform(0.5, 2.0, value.shape).astype(np.float32)
        else:
            weights[key] = rng.standard_normal(value.shape).astype(np.float32)
    return weights


CASES: dict[str, tuple[Layer, ...]] = {
    "conv valid": (Conv2D(filters=5, kernel=3),),
    "conv same stride 1": (Conv2D(filters=5, kernel=3, padding="same"),),
    "conv same stride 2 (asymmetric)": (Conv2D(filters=5, kernel=3, stride=2, padding="same"),),
    "conv same stride 3": (Conv2D(filters=3, kernel=(4, 3), stride=3, padding="same"),),
    "conv same even kernel": (Conv2D(filters=3, kernel=2, padding="same"),),
    "conv explicit padding": (Conv2D(filters=4, kernel=(3, 2), padding=(1, 2)),),
    "conv stride (2, 1)": (Conv2D(filters=4, kernel=3, stride=(2, 1), padding=1),),
    "conv dilation 2": (Conv2D(filters=4, kernel=3, dilation=2, padding=1),),
    "conv dilation (2, 3) same": (Conv2D(filters=4, kernel=3, dilation=(2, 3), padding="same"),),
    "conv groups 2": (Conv2D(filters=6, kernel=3, groups=2, padding=1),),
    "conv groups same stride 2": (Conv2D(filters=4, kernel=3, groups=2, stride=2, padding="same"),),
    "conv depthwise": (Conv2D(filters=4, kernel=3, groups=4, padding=1),),
    "conv depthwise multiplier 2 strided": (
        Conv2D(filters=8, kernel=3, groups=4, stride=2, dilation=2, padding="same"),
    ),
    "conv 1x1": (Conv2D(filters=6, kernel=1),),
    "conv 1x1 stride 2": (Conv2D(filters=6, kernel=1, stride=2),),
    "conv no bias": (Conv2D(filters=3, kernel=3, bias=False),),
    "conv kernel 1x3": (Conv2D(filters=3, kernel=(1, 3), padding=(0, 1)),),
    "maxpool 2": (MaxPool2D(),),
    "maxpool 3 stride 2 pad 1": (MaxPool2D(kernel=3, stride=2, padding=1),),
    "maxpool ceil_mode": (MaxPool2D(kernel=2, stride=2, ceil_mode=True),),
    "maxpool ceil_mode padded": (MaxPool2D(kernel=3, stride=2, padding=1, ceil_mode=True),),
    "maxpool same": (MaxPool2D(kernel=3, stride=2, padding="same"),),
    "maxpool 2 ceil_mode even rows odd columns": (
        Conv2D(filters=2, kernel=(2, 1)),
        MaxPool2D(kernel=2, ceil_mode=True),
    ),
    "maxpool (2, 3) stride (1, 2)": (MaxPool2D(kernel=(2, 3), stride=(1, 2)),),
    "avgpool 2": (AvgPool2D(),),
    "avgpool pad count_include_pad": (AvgPool2D(kernel=3, stride=2, padding=1),),
    "avgpool pad exclude pad": (AvgPool2D(kernel=3, stride=2, padding=1, count_include_pad=False),),
    "avgpool ceil_mode include pad": (AvgPool2D(kernel=3, stride=2, padding=1, ceil_mode=True),),
    "avgpool ceil_mode exclude pad": (
        AvgPool2D(kernel=2, stride=2, ceil_mode=True, count_include_pad=False),
    ),
    "avgpool same": (AvgPool2D(kernel=3, stride=2, padding="same"),),
    "global avg pool": (GlobalAvgPool2D(),),
    "relu": (ReLU(),),
    "batchnorm": (BatchNorm2D(eps=1e-3),),
    "dropout": (Dropout(rate=0.3),),
    "flatten dense": (Flatten(), Dense(units=5)),
    "flatten dense no bias relu": (Flatten(), Dense(units=3, bias=False), ReLU(), Dropout()),
    "fused conv bn relu dropout maxpool": (
        Conv2D(filters=5, kernel=3, padding="same"),
        BatchNorm2D(),
        ReLU(),
        Dropout(),
        MaxPool2D(kernel=3, stride=2, padding=1, ceil_mode=True),
    ),
    "fused conv relu avgpool": (
        Conv2D(filters=5, kernel=3, stride=2, padding="same"),
        ReLU(),
        AvgPool2D(kernel=2, stride=1, padding=1, count_include_pad=False),
    ),
    "conv relu then pooling then conv": (
        Conv2D(filters=6, kernel=3, padding=1),
        ReLU(),
        MaxPool2D(),
        Conv2D(filters=4, kernel=2, groups=2),
        GlobalAvgPool2D(),
        Flatten(),
        Dense(units=3),
    ),
    "relu6": (ReLU6(),),
    "leaky relu": (LeakyReLU(negative_slope=0.2),),
    "sigmoid": (Sigmoid(),),
    "tanh": (Tanh(),),
    "silu": (SiLU(),),
    "hardswish": (Hardswish(),),
    "gelu exact": (GELU(),),
    "gelu tanh": (GELU(approximate="tanh"),),
    "softmax over channels": (Softmax(),),
    "identity": (Identity(),),
    "zero pad asymmetric": (ZeroPad2D(padding=((0, 2), (1, 3))),),
    "upsample nearest x2": (Upsample(),),
    "upsample nearest x1.5 x0.5": (Upsample(scale=(1.5, 0.5)),),
    "upsample bilinear to a size": (Upsample(size=(10, 4), mode="bilinear"),),
    "upsample bilinear x1.5 align corners": (
        Upsample(scale=1.5, mode="bilinear", align_corners=True),
    ),
    "conv transpose stride 2 output padding 1": (
        ConvTranspose2D(filters=3, kernel=3, stride=2, padding=1, output_padding=1),
    ),
    "conv transpose groups dilation crop": (
        ConvTranspose2D(
            filters=6,
            kernel=(3, 2),
            stride=(1, 3),
            padding=(2, 1),
            dilation=2,
            groups=2,
            bias=False,
        ),
    ),
    "conv relu6 (not fused) maxpool": (
        Conv2D(filters=4, kernel=3, padding=1),
        ReLU6(),
        MaxPool2D(kernel=3, stride=2, padding=1),
    ),
    "conv identity relu maxpool (fused)": (
        Conv2D(filters=4, kernel=3, padding=1),
        Identity(),
        ReLU(),
        MaxPool2D(),
    ),
    "vector activations": (Flatten(), Dense(units=6), GELU(), Softmax(), Dense(units=2)),
}

GRAPH_CASES: dict[str, list[Node]] = {
    "residual add of three": [
        Node("a", Conv2D(filters=4, kernel=3, padding=1)),
        Node("b", BatchNorm2D()),
        Node("c", Conv2D(filters=4, kernel=1), ("input",)),
        Node("sum", Add(), ("b", "input", "c")),
        Node("out", ReLU()),
    ],
    "concat in order": [
        Node("x1", Conv2D(filters=2, kernel=1)),
        Node("x3", Conv2D(filters=3, kernel=3, padding="same"), ("input",)),
        Node("pool", MaxPool2D(kernel=3, stride=1, padding=1), ("input",)),
        Node("cat", Concat(), ("x3", "pool", "x1", "input")),
    ],
    "squeeze and excitation": [
        Node("conv", Conv2D(filters=6, kernel=3, padding=1)),
        Node("gap", GlobalAvgPool2D()),
        Node("squeeze", Conv2D(filters=2, kernel=1)),
        Node("act", SiLU()),
        Node("excite", Conv2D(filters=6, kernel=1)),
        Node("gate", Sigmoid()),
        Node("scaled", Multiply(), ("gate", "conv")),
        Node("scaled2", Multiply(), ("scaled", "gate")),
    ],
    "multiply equal maps, fork read twice": [
        Node("conv", Conv2D(filters=4, kernel=3, padding=1)),
        Node("t", Tanh()),
        Node("s", Sigmoid(), ("conv",)),
        Node("gated", Multiply(), ("t", "s")),
        Node("side", ReLU(), ("conv",)),
    ],
    "vector heads merged": [
        Node("flat", Flatten()),
        Node("d1", Dense(units=5)),
        Node("d2", Dense(units=5, bias=False), ("flat",)),
        Node("sum", Add(), ("d1", "d2")),
        Node("cat", Concat(), ("sum", "d2")),
        Node("prod", Multiply(), ("d1", "d2")),
    ],
    "down and up (U-Net step)": [
        Node("down", MaxPool2D()),
        Node("mid", Conv2D(filters=4, kernel=3, padding=1)),
        Node("up", ConvTranspose2D(filters=4, kernel=2, stride=2, output_padding=(1, 1))),
        Node("join", Concat(), ("up", "input")),
        Node("up2", Upsample(size=(7, 9), mode="bilinear"), ("mid",)),
        Node("join2", Add(), ("up2", "input")),
    ],
}


def _check(design: Design, seed: int, scaled_atol: float = 0.0) -> None:
    """Engine against the reference at rtol 1e-4 and atol 1e-5, or ``scaled_atol`` times the
    largest value of the map when that is larger (Winograd F(4×4, 3×3)'s error scales with the
    map, not with each value)."""
    rng = np.random.default_rng(seed)
    image = rng.uniform(-1, 1, design.input.shape).astype(np.float32)
    weights = random_weights(design, seed)
    expected = reference_forward(design, image, weights)
    got = run_design(design, image, weights)
    assert len(got) == len(expected) == len(design.layers) + 1
    for index, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert g.dtype == np.float32, index
        assert g.shape == e.shape, (index, g.shape, e.shape)
        atol = max(1e-5, scaled_atol * float(np.abs(e).max(initial=0.0)))
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=atol, err_msg=f"output {index}")


@pytest.mark.parametrize("name", list(CASES))
def test_matches_reference(name: str) -> None:
    design = Design(InputSpec(height=7, width=9, channels=4), CASES[name])
    _check(design, seed=len(name))


@pytest.mark.parametrize("name", list(GRAPH_CASES))
def test_graphs_match_reference(name: str) -> None:
    design = Design(InputSpec(height=7, width=9, channels=4), nodes=GRAPH_CASES[name])
    _check(design, seed=len(name))


def test_the_cases_cover_every_op_of_the_registry() -> None:
    chains = {layer.type_name for case in CASES.values() for layer in case}
    graphs = {node.op.type_name for case in GRAPH_CASES.values() for node in case}
    assert chains | graphs == set(REGISTRY)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(
    "name",
    [
        "fused conv bn relu dropout maxpool",
        "fused conv relu avgpool",
        "conv depthwise",
        "flatten dense",
        "conv relu then pooling then conv",
        "conv identity relu maxpool (fused)",
        "conv relu6 (not fused) maxpool",
    ],
)
def test_one_row_bands_match_reference(
    name: str, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bands of one row on several threads: every pooling row is computed in a band or a seam."""
    monkeypatch.setattr(conv, "TARGET_CHUNK", 1)
    monkeypatch.setattr(parallel, "WORKERS", workers)
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_MACS", 0)
    design = Design(InputSpec(height=11, width=6, channels=4), CASES[name])
    _check(design, seed=7)


@pytest.mark.parametrize("workers", [1, 2])
def test_bias_folded_into_the_product_on_larger_maps(
    workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On maps with many more pixels than weight rows the bias rides in the GEMM (a column of
    ones); bands of a few rows on two threads exercise the ones column of reused buffers."""
    monkeypatch.setattr(conv, "TARGET_CHUNK", 2000)
    monkeypatch.setattr(parallel, "WORKERS", workers)
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_MACS", 0)
    design = Design(
        InputSpec(height=24, width=21, channels=6),  # more than the planar path takes
        (
            Conv2D(filters=5, kernel=3, padding="same"),
            ReLU(),
            MaxPool2D(),
            Conv2D(filters=2, kernel=2, stride=2, dilation=1, padding="same"),
        ),
    )
    geo = conv.ConvGeometry((3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1, (24, 21))
    w = np.ones((5, 6, 3, 3), np.float32)
    blank = np.zeros((24, 21, 6), np.float32)
    assert conv.ConvKernel(blank, w, np.ones(5, np.float32), geo).fold_bias
    _check(design, seed=11)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("size", [(8, 10), (9, 7), (13, 12)])
def test_winograd_path_matches_reference(
    size: tuple[int, int], workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3×3 stride-1 convolutions with enough channels go through Winograd F(2×2, 3×3): even
    and odd sizes, "same" and valid padding, two-row bands on one and two threads."""
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 4)
    monkeypatch.setattr(conv, "TARGET_CHUNK", 1)
    monkeypatch.setattr(winograd, "TARGET_CHUNK", 1)
    monkeypatch.setattr(parallel, "WORKERS", workers)
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_MACS", 0)
    design = Design(
        InputSpec(height=size[0], width=size[1], channels=4),
        (
            Conv2D(filters=5, kernel=3, padding="same"),
            ReLU(),
            MaxPool2D(kernel=3, stride=1, padding=1),
            Conv2D(filters=6, kernel=3, padding=(1, 0), bias=False),
            Conv2D(filters=4, kernel=3),
        ),
    )
    layer = conv.ConvKernel(
        np.zeros((8, 8, 4), np.float32),
        np.zeros((5, 4, 3, 3), np.float32),
        None,
        conv.ConvGeometry((3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1, (8, 8)),
    )
    assert layer.winograd
    assert layer.band_rows % 2 == 0
    _check(design, seed=size[0])


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("size", [(8, 12), (9, 7), (13, 14), (18, 5)])
def test_winograd4_path_matches_reference(
    size: tuple[int, int], workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same through Winograd F(4×4, 3×3): sizes that are and are not multiples of 4, "same"
    and valid padding, four-row bands on one and two threads."""
    monkeypatch.setattr(winograd4, "MIN_CHANNELS", 4)
    monkeypatch.setattr(winograd4, "MIN_WORK", 1)
    monkeypatch.setattr(winograd4, "MIN_SIZE", 1)
    monkeypatch.setattr(winograd4, "TARGET_CHUNK", 1)
    monkeypatch.setattr(parallel, "WORKERS", workers)
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_MACS", 0)
    design = Design(
        InputSpec(height=size[0], width=size[1], channels=4),
        (
            Conv2D(filters=5, kernel=3, padding="same"),
            ReLU(),
            MaxPool2D(kernel=3, stride=1, padding=1),
            Conv2D(filters=6, kernel=3, padding=(1, 0), bias=False),
            Conv2D(filters=4, kernel=3),
        ),
    )
    layer = conv.ConvKernel(
        np.zeros((8, 8, 4), np.float32),
        np.zeros((5, 4, 3, 3), np.float32),
        None,
        conv.ConvGeometry((3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1, (8, 8)),
    )
    assert layer.tile == 4
    assert layer.band_rows % 4 == 0
    _check(design, seed=size[0] + size[1], scaled_atol=5e-6)


def test_winograd4_accuracy_at_realistic_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    """F(4×4, 3×3) multiplies by up to 8 in its transforms, so check its float32 error on a
    realistic layer (64 → 128 channels, He-scaled weights, inputs in [0, 1]) against a float64
    direct convolution: within the engine's rtol 1e-4 / atol 1e-5, and near float32 rounding."""
    rng = np.random.default_rng(5)
    x = rng.random((20, 23, 64), dtype=np.float32)
    w = (rng.standard_normal((128, 64, 3, 3)) * np.sqrt(2 / (9 * 64))).astype(np.float32)
    b = rng.uniform(-0.5, 0.5, 128).astype(np.float32)
    geo = conv.ConvGeometry((3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1, (20, 23))
    monkeypatch.setattr(winograd4, "MIN_WORK", 1)
    layer = conv.ConvKernel(x, w, b, geo)
    assert layer.tile == 4
    got = conv.conv2d(x, w, b, geo)
    padded = np.pad(x.astype(np.float64), ((1, 1), (1, 1), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(0, 1))
    expected = np.einsum("hwcij,kcij->hwk", win, w.astype(np.float64)) + b
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert np.abs(got - expected).max() < 2e-5 * np.abs(expected).max()


def test_winograd_variant_choice() -> None:
    """F(4×4, 3×3) for the big 3×3 layers, F(2×2, 3×3) for many channels on small maps, im2col
    otherwise (few channels, other kernels, strides, groups)."""

    def tile(c_in: int, c_out: int, size: int, stride: int = 1, groups: int = 1) -> int:
        out = (size - 1) // stride + 1
        geo = conv.ConvGeometry((3, 3), (stride, stride), (1, 1), (1, 1, 1, 1), groups, (out, out))
        return conv.winograd_tile(geo, c_in, c_out)

    assert tile(32, 64, 256) == 4
    assert tile(64, 128, 128) == 4
    assert tile(128, 128, 64) == 4
    assert tile(256, 256, 8) == 2
    assert tile(64, 64, 64) == 0
    assert tile(3, 32, 512) == 0
    assert tile(16, 32, 256) == 0
    assert tile(128, 128, 64, stride=2) == 0
    assert tile(128, 128, 64, groups=2) == 0


def test_column_tiles_when_one_row_exceeds_the_budget() -> None:
    """A row wider than the budget is split into column tiles with identical results."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 13, 3)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    geo = conv.ConvGeometry((3, 3), (1, 2), (1, 1), (1, 1, 0, 2), 1, (5, 7))
    whole = conv.conv2d(x, w, b, geo)
    tiled_layer = conv.ConvKernel(x, w, b, geo, budget=4 * 40 * 3)
    assert tiled_layer.band_cols < 7
    tiled = conv.conv2d(x, w, b, geo, budget=4 * 40 * 3)
    np.testing.assert_allclose(tiled, whole, rtol=1e-6)


def test_winograd_column_tiles(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((7, 15, 3)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    geo = conv.ConvGeometry((3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1, (7, 15))
    direct = conv.conv2d(x, w, b, geo)
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 1)
    monkeypatch.setattr(winograd, "MIN_SIZE", 1)
    tiled_layer = conv.ConvKernel(x, w, b, geo, budget=4 * 45 * 4)
    assert tiled_layer.winograd
    assert tiled_layer.band_cols % 2 == 0
    assert tiled_layer.band_cols < 15
    np.testing.assert_allclose(conv.conv2d(x, w, b, geo, budget=4 * 45 * 4), direct, rtol=1e-4,
                               atol=1e-5)  # fmt: skip


def test_winograd4_column_tiles(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(6)
    x = rng.standard_normal((9, 23, 3)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    geo = conv.ConvGeometry((3, 3), (1, 1), (1, 1), (1, 1, 1, 1), 1, (9, 23))
    direct = conv.conv2d(x, w, b, geo)
    monkeypatch.setattr(winograd4, "MIN_CHANNELS", 1)
    monkeypatch.setattr(winograd4, "MIN_WORK", 1)
    monkeypatch.setattr(winograd4, "MIN_SIZE", 1)
    tiled_layer = conv.ConvKernel(x, w, b, geo, budget=4 * 40 * 8)
    assert tiled_layer.tile == 4
    assert tiled_layer.band_cols % 4 == 0
    assert tiled_layer.band_cols < 23
    np.testing.assert_allclose(conv.conv2d(x, w, b, geo, budget=4 * 40 * 8), direct, rtol=1e-4,
                               atol=1e-5)  # fmt: skip


def test_prepared_weights_follow_in_place_changes() -> None:
    """Prepared (reshuffled or transformed) weights are reused while the array is unchanged and
    recomputed when its contents change in place, so a run never uses stale weights."""
    rng = np.random.default_rng(7)
    w = rng.standard_normal((8, 4, 3, 3)).astype(np.float32)
    for variant in (1, -2, -4):
        first = conv.prepared_weights(w, variant)
        assert conv.prepared_weights(w, variant) is first
    w[3, 2, 1, 0] += 1.0
    for variant in (1, -2, -4):
        fresh = conv.prepared_weights(w, variant)
        expected = (
            conv.gemm_weights(w, 1)
            if variant == 1
            else (winograd4 if variant == -4 else winograd).transform_filters(w)
        )
        np.testing.assert_array_equal(fresh, expected)
    design = Design(InputSpec(height=6, width=6, channels=4), (Conv2D(filters=8, kernel=3),))
    weights = {"0.weight": w, "0.bias": np.zeros(8, np.float32)}
    image = rng.random(design.input.shape, dtype=np.float32)
    before = run_design(design, image, weights)[-1]
    w *= 2.0
    np.testing.assert_allclose(run_design(design, image, weights)[-1], 2 * before, rtol=1e-6)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(
    ("channels", "kernel", "stride", "dilation", "padding", "bias"),
    [
        (3, (7, 7), (2, 1), (1, 1), "same", True),
        (1, (3, 5), (3, 1), (2, 1), 0, False),
        (4, (2, 3), (3, 1), (1, 2), "same", True),
        (2, (1, 1), (2, 1), (1, 1), 0, True),
    ],
)
def test_planar_columns_for_few_input_channels(
    workers: int,
    channels: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    padding: Literal["same"] | int,
    bias: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Inputs of up to four channels take the planar columns; bands of a few rows and columns
    on two threads exercise the band offsets, strides, dilation and the bias row."""
    monkeypatch.setattr(conv, "TARGET_CHUNK", 3000)
    monkeypatch.setattr(parallel, "WORKERS", workers)
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_MACS", 0)
    layer = Conv2D(
        filters=5, kernel=kernel, stride=stride, dilation=dilation, padding=padding, bias=bias
    )
    design = Design(InputSpec(height=23, width=19, channels=channels), (layer, ReLU()))
    row = analyse(design).rows[1]
    assert row.output_shape is not None
    assert row.padding is not None
    geo = conv.ConvGeometry(
        kernel, stride, dilation, pads4(row.padding), 1, (row.output_shape[1], row.output_shape[2])
    )
    blank = np.zeros((23, 19, channels), np.float32)
    kernel_layer = conv.ConvKernel(blank, np.ones((5, channels, *kernel), np.float32), None, geo)
    assert kernel_layer.planar is not None
    _check(design, seed=13)
    # Bands of a few columns too (the column offset into the planar copy), against im2col.
    rng = np.random.default_rng(5)
    x = rng.standard_normal((23, 19, channels)).astype(np.float32)
    w = rng.standard_normal((5, channels, *kernel)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32) if bias else None
    narrow = 4 * 3 * (channels * kernel[0] * kernel[1] + 10)
    assert conv.ConvKernel(x, w, b, geo, budget=narrow).band_cols < geo.out_hw[1]
    planar = conv.conv2d(x, w, b, geo, budget=narrow)
    monkeypatch.setattr(conv, "PLANAR_MAX_CHANNELS", 0)
    assert conv.ConvKernel(x, w, b, geo).planar is None
    np.testing.assert_allclose(planar, conv.conv2d(x, w, b, geo), rtol=1e-5, atol=1e-5)


def test_planar_columns_never_copy_more_than_a_map_of_the_layer() -> None:
    # A padding far larger than the map would make the padded planar copy bigger than both
    # the input and the output: the memory estimate does not allow for that, im2col then.
    x = np.zeros((4, 4, 1), np.float32)
    w = np.ones((1, 1, 1, 1), np.float32)
    geo = conv.ConvGeometry((1, 1), (40, 1), (1, 1), (30, 30, 0, 0), 1, (2, 4))
    assert conv.ConvKernel(x, w, None, geo).planar is None
    small = conv.ConvGeometry((1, 1), (1, 1), (1, 1), (1, 1, 0, 0), 1, (6, 4))
    assert conv.ConvKernel(x, w, None, small).planar is not None


@pytest.mark.parametrize(
    "name",
    [
        name
        for name, layers in CASES.items()
        if len(layers) == 1 and isinstance(layers[0], Conv2D) and layers[0].groups == 1
    ],
)
def test_channel_blocks_on_two_threads(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every convolution variant computed by blocks of output channels (the small-map split),
    followed by batch norm, ReLU and pooling computed by rows afterwards, on two threads."""
    monkeypatch.setattr(parallel, "WORKERS", 2)
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_MACS", 0)
    monkeypatch.setattr(pipeline, "CHANNEL_SPLIT_MAX_PIXELS", 10**9)
    monkeypatch.setattr(pipeline, "CHANNEL_ALIGN", 2)  # several blocks of these few filters
    layers = (*CASES[name], BatchNorm2D(), ReLU(), MaxPool2D(kernel=2, padding="same"))
    design = Design(InputSpec(height=11, width=9, channels=6), layers)
    first = design.layers[0]
    assert isinstance(first, Conv2D)
    kernel = conv.ConvKernel(
        np.zeros((11, 9, 6), np.float32),
        np.zeros((first.filters, 6, *first.kernel), np.float32),
        None,
        conv.ConvGeometry(first.kernel, first.stride, first.dilation, (0, 0, 0, 0), 1, (5, 5)),
    )
    assert len(pipeline._channel_blocks(kernel, 2)) == 2
    _check(design, seed=17)


@pytest.mark.parametrize("tile", [2, 4])
def test_channel_blocks_of_winograd_layers(tile: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "WORKERS", 2)
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_MACS", 0)
    monkeypatch.setattr(pipeline, "CHANNEL_SPLIT_MAX_PIXELS", 10**9)
    monkeypatch.setattr(conv, "winograd_tile", lambda geo, c_in, c_out: tile)
    design = Design(
        InputSpec(height=9, width=7, channels=8),
        (Conv2D(filters=40, kernel=3, padding="same"), ReLU()),
    )
    _check(design, seed=19, scaled_atol=1e-5)


def test_channel_blocks_are_aligned_and_cover_every_channel() -> None:
    geo = conv.ConvGeometry((1, 1), (1, 1), (1, 1), (0, 0, 0, 0), 1, (7, 7))
    x = np.zeros((7, 7, 8), np.float32)
    kernel = conv.ConvKernel(x, np.zeros((100, 8, 1, 1), np.float32), None, geo)
    blocks = pipeline._channel_blocks(kernel, 2)
    assert blocks == [(0, 64), (64, 100)]
    assert pipeline._channel_blocks(kernel, 1) == []  # one thread: nothing to share
    big = conv.ConvGeometry((1, 1), (1, 1), (1, 1), (0, 0, 0, 0), 1, (56, 56))
    wide = conv.ConvKernel(
        np.zeros((56, 56, 8), np.float32), np.zeros((100, 8, 1, 1), np.float32), None, big
    )
    assert pipeline._channel_blocks(wide, 2) == []  # a large map: bands of rows
    grouped = conv.ConvGeometry((1, 1), (1, 1), (1, 1), (0, 0, 0, 0), 2, (7, 7))
    g = conv.ConvKernel(x, np.zeros((100, 4, 1, 1), np.float32), None, grouped)
    assert pipeline._channel_blocks(g, 2) == []  # groups are split by group, not here
