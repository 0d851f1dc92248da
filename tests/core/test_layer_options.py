"""Every option of every layer type, each checked against hand-worked values.

Shapes are (C, H, W). Expected numbers are worked out in the comments from the formulas in
docs/formulas.md, not copied from the code's output.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from convdesigner.core.analysis import Analysis, LayerRow, Status, analyse
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.layers import (
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Layer,
    MaxPool2D,
    ReLU,
)


def run(*layers: Layer, h: int = 8, w: int = 8, c: int = 3) -> Analysis:
    return analyse(Design(InputSpec(height=h, width=w, channels=c), tuple(layers)))


def last(*layers: Layer, h: int = 8, w: int = 8, c: int = 3) -> LayerRow:
    row = run(*layers, h=h, w=w, c=c).rows[-1]
    assert row.status is Status.OK, row.message
    return row


# ------------------------------------------------------------------------------------ conv2d


def test_conv_defaults_are_pytorchs() -> None:
    layer = Conv2D()
    assert layer.kernel == (3, 3)
    assert layer.stride == (1, 1)
    assert layer.padding == (0, 0)
    assert layer.dilation == (1, 1)
    assert layer.groups == 1
    assert layer.bias is True
    # 8 - 3 + 1 = 6; weights 3·3·3·1 = 27, one bias.
    row = last(layer)
    assert row.output_shape == (1, 6, 6)
    assert (row.weights, row.biases) == (27, 1)
    assert row.macs == 6 * 6 * 1 * 3 * 9


@pytest.mark.parametrize(
    ("stride", "expected_hw"),
    [
        (1, (6, 6)),  # floor((8-3)/1)+1
        (2, (3, 3)),  # floor(5/2)+1
        (3, (2, 2)),  # floor(5/3)+1
        ((1, 2), (6, 3)),
        ([2, 1], (3, 6)),
    ],
)
def test_conv_stride(stride: object, expected_hw: tuple[int, int]) -> None:
    row = last(Conv2D(filters=4, stride=stride))  # type: ignore[arg-type]
    assert row.output_shape == (4, *expected_hw)
    assert row.macs == expected_hw[0] * expected_hw[1] * 4 * 3 * 9


@pytest.mark.parametrize(
    ("padding", "expected_hw", "applied"),
    [
        (0, (6, 6), ((0, 0), (0, 0))),
        (1, (8, 8), ((1, 1), (1, 1))),
        (2, (10, 10), ((2, 2), (2, 2))),
        ((1, 0), (8, 6), ((1, 1), (0, 0))),
        ([0, 2], (6, 10), ((0, 0), (2, 2))),
        ("valid", (6, 6), ((0, 0), (0, 0))),
        ("same", (8, 8), ((1, 1), (1, 1))),
    ],
)
def test_conv_padding(
    padding: object, expected_hw: tuple[int, int], applied: tuple[tuple[int, int], ...]
) -> None:
    row = last(Conv2D(filters=2, padding=padding))  # type: ignore[arg-type]
    assert row.output_shape == (2, *expected_hw)
    assert row.padding == applied


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "out", "before", "after"),
    [
        # out = ceil(n/s); total = max((out-1)·s + k - n, 0); before = total // 2.
        (8, 3, 1, 8, 1, 1),
        (8, 4, 1, 8, 1, 2),  # even kernel: total 3, the extra one after
        (8, 3, 2, 4, 0, 1),  # (4-1)·2 + 3 - 8 = 1
        (7, 3, 2, 4, 1, 1),  # (4-1)·2 + 3 - 7 = 2
        (9, 3, 3, 3, 0, 0),  # (3-1)·3 + 3 - 9 = 0
        (10, 3, 3, 4, 1, 1),  # (4-1)·3 + 3 - 10 = 2
        (10, 5, 3, 4, 2, 2),  # 9 + 5 - 10 = 4
        (11, 4, 3, 4, 1, 1),  # 9 + 4 - 11 = 2
        (8, 5, 3, 3, 1, 2),  # 6 + 5 - 8 = 3: asymmetric at stride 3
        (5, 1, 4, 2, 0, 0),  # 4 + 1 - 5 = 0
        (3, 1, 5, 1, 0, 0),  # stride larger than the input: one output, no padding
    ],
)
def test_conv_same_padding_tensorflow_rule(
    size: int, kernel: int, stride: int, out: int, before: int, after: int
) -> None:
    row = last(Conv2D(filters=1, kernel=kernel, stride=stride, padding="same"), h=size, w=size)
    assert row.output_shape == (1, out, out)
    assert row.padding == ((before, after), (before, after))


def test_conv_same_with_dilation_pads_the_effective_kernel() -> None:
    # k_eff = 2·(3-1)+1 = 5 → total 4 at stride 1.
    row = last(Conv2D(filters=1, kernel=3, dilation=2, padding="same"), h=9, w=9)
    assert row.output_shape == (1, 9, 9)
    assert row.padding == ((2, 2), (2, 2))


@pytest.mark.parametrize(
    ("dilation", "expected_hw", "rf"),
    [
        (1, (6, 6), (3, 3)),
        (2, (4, 4), (5, 5)),  # k_eff = 5: 8-5+1 = 4
        (3, (2, 2), (7, 7)),  # k_eff = 7
        ((1, 3), (6, 2), (3, 7)),
    ],
)
def test_conv_dilation(dilation: object, expected_hw: tuple[int, int], rf: tuple[int, int]) -> None:
    row = last(Conv2D(filters=5, dilation=dilation))  # type: ignore[arg-type]
    assert row.output_shape == (5, *expected_hw)
    assert row.weights == 3 * 3 * 3 * 5  # dilation spreads the kernel, it adds no weights
    assert row.receptive_field == rf
    expected = (dilation, dilation) if isinstance(dilation, int) else tuple(dilation)  # type: ignore[arg-type]
    assert row.dilation == expected


def test_conv_kernel_pair() -> None:
    row = last(Conv2D(filters=2, kernel=(3, 5)), h=10, w=10)
    assert row.output_shape == (2, 8, 6)
    assert row.weights == 3 * 5 * 3 * 2
    assert row.kernel == (3, 5)


def test_conv_one_by_one_is_just_kernel_one() -> None:
    row = last(Conv2D(filters=16, kernel=1), c=32)
    assert row.output_shape == (16, 8, 8)
    assert row.weights == 32 * 16
    assert row.macs == 8 * 8 * 16 * 32


@pytest.mark.parametrize(
    ("c_in", "filters", "groups", "weights", "macs_per_position"),
    [
        (8, 16, 1, 3 * 3 * 8 * 16, 16 * 8 * 9),
        (8, 16, 2, 3 * 3 * 4 * 16, 16 * 4 * 9),
        (8, 8, 8, 3 * 3 * 1 * 8, 8 * 1 * 9),  # depthwise
        (8, 16, 8, 3 * 3 * 1 * 16, 16 * 1 * 9),  # depthwise with multiplier 2
        (6, 9, 3, 3 * 3 * 2 * 9, 9 * 2 * 9),
    ],
)
def test_conv_groups(
    c_in: int, filters: int, groups: int, weights: int, macs_per_position: int
) -> None:
    row = last(Conv2D(filters=filters, groups=groups, padding=1), c=c_in)
    assert row.output_shape == (filters, 8, 8)
    assert row.weights == weights
    assert row.biases == filters
    assert row.macs == 64 * macs_per_position


def test_depthwise_derivation_says_so() -> None:
    row = last(Conv2D(filters=8, groups=8), c=8)
    assert "depthwise" in row.derivations["output_channels"]
    assert "(8 / 8)" in row.derivations["weights"]


def test_conv_bias_off() -> None:
    row = last(Conv2D(filters=10, bias=False))
    assert row.biases == 0
    assert row.trainable == row.weights == 3 * 3 * 3 * 10
    assert row.derivations["biases"] == "bias is off: 0"


# ------------------------------------------------------------------------------------ pooling


@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
def test_pool_stride_defaults_to_kernel(cls: type[MaxPool2D | AvgPool2D]) -> None:
    layer = cls(kernel=3)
    assert layer.stride is None
    assert layer.effective_stride == (3, 3)
    row = last(layer, h=10, w=7, c=4)
    assert row.stride == (3, 3)
    assert row.output_shape == (4, 3, 2)  # floor((10-3)/3)+1 = 3, floor((7-3)/3)+1 = 2
    assert (row.weights, row.biases, row.params, row.macs) == (0, 0, 0, 0)
    assert "stride defaults to the window size" in row.derivations["output_height"]


@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
def test_pool_explicit_stride_and_padding(cls: type[MaxPool2D | AvgPool2D]) -> None:
    # floor((8 + 2 - 3)/2)+1 = 4
    row = last(cls(kernel=3, stride=2, padding=1), c=5)
    assert row.output_shape == (5, 4, 4)
    assert row.padding == ((1, 1), (1, 1))
    row = last(cls(kernel=(2, 3), stride=(1, 2)), c=5)
    assert row.output_shape == (5, 7, 3)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "floor_out", "ceil_out"),
    [
        (7, 2, 2, 0, 3, 4),  # ceil((7-2)/2)+1 = 4: a last, partial window
        (8, 2, 2, 0, 4, 4),  # fits exactly: no difference
        (13, 2, 2, 1, 7, 7),  # ceil(13/2)+1 = 8, but window 8 would start at 14 ≥ 13+1: dropped
        (6, 3, 2, 1, 3, 4),  # ceil((6+2-3)/2)+1 = 4; (4-1)·2 = 6 < 6+1: kept
        (5, 3, 3, 1, 2, 2),  # ceil((5+2-3)/3)+1 = 3; (3-1)·3 = 6 ≥ 5+1: dropped
        (10, 3, 4, 0, 2, 3),  # ceil(7/4)+1 = 3; 8 < 10: kept
    ],
)
@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
def test_pool_ceil_mode_and_drop_last_window_rule(
    cls: type[MaxPool2D | AvgPool2D],
    size: int,
    kernel: int,
    stride: int,
    padding: int,
    floor_out: int,
    ceil_out: int,
) -> None:
    kw: dict[str, Any] = {"kernel": kernel, "stride": stride, "padding": padding}
    assert last(cls(**kw), h=size, w=size).output_shape == (3, floor_out, floor_out)
    row = last(cls(**kw, ceil_mode=True), h=size, w=size)
    assert row.output_shape == (3, ceil_out, ceil_out)


def test_ceil_mode_derivation_explains_the_dropped_window() -> None:
    row = last(MaxPool2D(kernel=2, stride=2, padding=1, ceil_mode=True), h=13, w=13)
    text = row.derivations["output_height"]
    assert "= 8" in text
    assert "drops it: H_out = 7" in text


@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
def test_ceil_mode_window_larger_than_the_map_is_clipped_like_pytorch(
    cls: type[MaxPool2D | AvgPool2D],
) -> None:
    # MaxPool2d(3, 2, ceil_mode=True) on 2×2 gives 1×1 in PyTorch (GoogLeNet's pools on small
    # maps): the one window starts inside the map and is cut at its edge.
    row = last(cls(kernel=3, stride=2, ceil_mode=True), h=2, w=2, c=5)
    assert row.status is Status.OK, row.message
    assert row.output_shape == (5, 1, 1)
    text = row.derivations["output_height"]
    assert "H_out = ceil((2 + 0 + 0 - (3-1) - 1) / 2) + 1 = 1" in text
    assert "the window (3) is larger than the padded input (2)" in text
    assert "cuts the window at the bottom edge" in text
    assert "cuts the window at the right edge" in row.derivations["output_width"]
    # Without ceil_mode PyTorch refuses it, and so do we.
    assert run(cls(kernel=3, stride=2), h=2, w=2).rows[-1].status is Status.ERROR
    # Where even ceil_mode gives no window, it stays an error.
    row = run(cls(kernel=3, stride=2, ceil_mode=True), h=1, w=1).rows[-1]
    assert row.status is Status.ERROR
    assert "pooling window height 3 is larger than the padded input height 1" in row.message


def test_ceil_mode_is_ignored_with_same_padding() -> None:
    plain = last(MaxPool2D(kernel=3, stride=2, padding="same"), h=7, w=7)
    ceil = last(MaxPool2D(kernel=3, stride=2, padding="same", ceil_mode=True), h=7, w=7)
    assert plain.output_shape == ceil.output_shape == (3, 4, 4)
    assert "no effect" in ceil.derivations["output_height"]


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "out", "before", "after"),
    [
        (25, 2, 2, 13, 0, 1),  # the Q&A example's pool
        (64, 2, 2, 32, 0, 0),
        (7, 3, 2, 4, 1, 1),
        (8, 3, 3, 3, 0, 1),  # (3-1)·3 + 3 - 8 = 1
    ],
)
def test_pool_same_padding(
    size: int, kernel: int, stride: int, out: int, before: int, after: int
) -> None:
    row = last(MaxPool2D(kernel=kernel, stride=stride, padding="same"), h=size, w=size)
    assert row.output_shape == (3, out, out)
    assert row.padding == ((before, after), (before, after))


def test_avgpool_count_include_pad_changes_the_divisor_not_the_shape() -> None:
    on = last(AvgPool2D(kernel=3, stride=1, padding=1))
    off = last(AvgPool2D(kernel=3, stride=1, padding=1, count_include_pad=False))
    assert AvgPool2D().count_include_pad is True
    assert on.output_shape == off.output_shape == (3, 8, 8)
    assert "divides by 3×3 = 9" in on.derivations["average"]
    assert "only by the number of real" in off.derivations["average"]
    same = last(AvgPool2D(kernel=3, stride=1, padding="same"))
    assert "left out" in same.derivations["average"]


def test_global_average_pool() -> None:
    row = last(GlobalAvgPool2D(), h=7, w=5, c=64)
    assert row.output_shape == (64, 1, 1)
    assert (row.weights, row.biases, row.macs) == (0, 0, 0)
    # It sees the whole 7×5 map.
    assert row.receptive_field == (7, 5)


# ------------------------------------------------------------------------------------ the rest


@pytest.mark.parametrize("layer", [ReLU(), Dropout(), Dropout(rate=0.0), Dropout(rate=0.9)])
def test_shape_preserving_layers(layer: Layer) -> None:
    row = last(Conv2D(filters=4), layer)
    assert row.output_shape == (4, 6, 6)
    assert (row.params, row.macs) == (0, 0)
    row = last(Flatten(), layer)
    assert row.output_shape == (3 * 8 * 8,)


def test_dropout_rate_default() -> None:
    assert Dropout().rate == 0.5


@pytest.mark.parametrize("channels", [1, 3, 64])
def test_batchnorm_trainable_and_non_trainable(channels: int) -> None:
    row = last(BatchNorm2D(), c=channels)
    assert row.output_shape == (channels, 8, 8)
    assert row.weights == channels  # gamma
    assert row.biases == channels  # beta
    assert row.trainable == 2 * channels
    assert row.non_trainable == 2 * channels  # running mean and variance
    assert row.params == 4 * channels
    assert row.macs == 0
    assert BatchNorm2D().eps == 1e-5


def test_batchnorm_totals_split() -> None:
    analysis = run(Conv2D(filters=16, bias=False), BatchNorm2D(), ReLU())
    t = analysis.totals
    assert t.trainable == 3 * 3 * 3 * 16 + 32
    assert t.non_trainable == 32
    assert t.params == t.trainable + 32


def test_flatten_is_channels_times_height_times_width() -> None:
    row = last(Conv2D(filters=5, kernel=1), Flatten(), h=3, w=4)
    assert row.output_shape == (5 * 3 * 4,)
    assert row.output_channels == 60
    assert row.output_height is None
    assert row.output_width is None
    assert "C, H, W order" in row.derivations["output_channels"]
    # Flatten of a vector is a no-op.
    assert last(Flatten(), Flatten(), h=3, w=4).output_shape == (36,)


@pytest.mark.parametrize(("bias", "biases"), [(True, 10), (False, 0)])
def test_dense(bias: bool, biases: int) -> None:
    row = last(Flatten(), Dense(units=10, bias=bias), h=4, w=4, c=2)
    assert row.output_shape == (10,)
    assert row.weights == 32 * 10
    assert row.biases == biases
    assert row.macs == 32 * 10
    assert Dense().units == 10


def test_dense_after_global_pool_and_flatten() -> None:
    row = last(GlobalAvgPool2D(), Flatten(), Dense(units=7), c=12)
    assert row.weights == 12 * 7


def test_receptive_field_and_jump_through_a_stack() -> None:
    # Araujo et al.: r += (k_eff-1)·j, j *= s, start -= pad·j.
    a = run(
        Conv2D(filters=2, kernel=3, padding=1),  # r 3, j 1, start -1
        MaxPool2D(kernel=2),  # r 4, j 2, start -1
        Conv2D(filters=2, kernel=3, stride=2, padding=1),  # r 4+2·2 = 8, j 4, start -3
        Conv2D(filters=2, kernel=3, dilation=2, padding=2),  # k_eff 5: r 8+4·4 = 24, start -11
        h=32,
        w=32,
    )
    assert [r.receptive_field for r in a.rows[1:]] == [(3, 3), (4, 4), (8, 8), (24, 24)]
    assert [r.jump for r in a.rows[1:]] == [(1, 1), (2, 2), (4, 4), (4, 4)]
    assert [r.rf_start for r in a.rows[1:]] == [(-1, -1), (-1, -1), (-3, -3), (-11, -11)]
    rf_text = a.rows[4].derivations["receptive_field"]
    assert "k_eff = dilation·(k-1) + 1 = 2·(3-1) + 1 = 5" in rf_text


def test_receptive_field_after_flatten_is_the_whole_input() -> None:
    row = last(Flatten(), Dense(units=3))
    assert row.receptive_field is None
    assert row.jump is None
    assert row.status is Status.OK


def test_memory_is_float32_output_values() -> None:
    row = last(Conv2D(filters=10, kernel=1), h=5, w=6)
    assert row.activation_bytes == 10 * 5 * 6 * 4
    assert "5 × 6 × 10 values × 4 bytes" in row.derivations["memory"]


def test_every_ok_row_explains_every_number() -> None:
    analysis = run(
        Conv2D(filters=4, padding="same"),
        BatchNorm2D(),
        ReLU(),
        MaxPool2D(),
        AvgPool2D(kernel=3, stride=1, padding=1),
        GlobalAvgPool2D(),
        Flatten(),
        Dropout(),
        Dense(units=3),
    )
    for row in analysis.rows:
        for key in ("output_channels", "weights", "biases", "macs", "memory", "receptive_field"):
            assert row.derivations[key], (row.name, key)
        if row.is_map:
            assert row.derivations["output_height"]
            assert row.derivations["output_width"]
    assert analysis.rows[2].derivations["non_trainable"].endswith("= 8")


def test_names_and_labels() -> None:
    analysis = run(Conv2D(name="my conv"), ReLU())
    assert analysis.rows[1].name == "my conv"
    assert analysis.rows[2].name == "ReLU"
    assert analysis.rows[0].name == "Input"
    assert analysis.rows[0].index is None
    assert analysis.row_for_layer(1) is analysis.rows[2]


def test_rows_are_complete_frozen_records() -> None:
    analysis = run(Conv2D(), Dense(), ReLU())  # an ok row, an error row, a blocked row
    names = {f.name for f in dataclasses.fields(LayerRow)}
    for row in analysis.rows:
        assert set(vars(row)) == names
        rebuilt = LayerRow(**{name: getattr(row, name) for name in names})
        assert rebuilt == row
        with pytest.raises(dataclasses.FrozenInstanceError):
            row.weights = 1  # type: ignore[misc]
