"""The output-size rule, checked against a brute-force count of window positions.

The brute force never uses the closed-form formula: it places windows at 0, s, 2s, ... on the
padded axis and counts the ones that satisfy each mode's definition.
"""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convdesigner.core.analysis import Status, analyse
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.layers import Conv2D, MaxPool2D


def floor_count(n: int, before: int, after: int, k_eff: int, s: int) -> int:
    """Windows that lie entirely inside the padded axis."""
    return len(window_starts(n + before + after, k_eff, s))


def ceil_count(n: int, pad: int, k: int, s: int) -> int:
    """PyTorch's ceil_mode counted as windows: those that fit entirely on the padded axis
    lengthened by stride - 1 values at its end (its rounding up, so the last window may hang
    over the end by less than a stride, even when the window is longer than the whole padded
    axis), except any window that starts inside the right-hand padding."""
    return sum(1 for start in window_starts(n + 2 * pad + s - 1, k, s) if start < n + pad)


def window_starts(padded: int, k_eff: int, s: int) -> list[int]:
    """Starts 0, s, 2s, ... of the windows that lie entirely inside an axis of ``padded``."""
    starts = []
    start = 0
    while start + k_eff <= padded:
        starts.append(start)
        start += s
    return starts


def axis_of(layer: Conv2D | MaxPool2D, n: int) -> tuple[Status, int | None, tuple[int, int] | None]:
    row = analyse(Design(InputSpec(height=n, width=1, channels=1), (layer,))).rows[1]
    h = row.output_height
    return row.status, h, None if row.padding is None else row.padding[0]


sizes = st.integers(1, 60)
kernels = st.integers(1, 9)
strides = st.integers(1, 6)
dilations = st.integers(1, 4)
pads = st.integers(0, 6)


@settings(max_examples=500, deadline=None)
@given(n=sizes, k=kernels, s=strides, d=dilations, p=pads)
def test_explicit_padding_matches_brute_force(n: int, k: int, s: int, d: int, p: int) -> None:
    layer = Conv2D(kernel=(k, 1), stride=(s, 1), dilation=(d, 1), padding=(p, 0))
    status, out, padding = axis_of(layer, n)
    expected = floor_count(n, p, p, d * (k - 1) + 1, s)
    if expected == 0:
        assert status is Status.ERROR
    else:
        assert status is Status.OK
        assert out == expected
        assert padding is not None
        assert padding == (p, p)


@settings(max_examples=500, deadline=None)
@given(n=sizes, k=kernels, s=strides, p=pads)
def test_ceil_mode_matches_brute_force(n: int, k: int, s: int, p: int) -> None:
    assume(p <= k // 2)  # PyTorch's limit for pooling padding
    status, out, _ = axis_of(MaxPool2D(kernel=(k, 1), stride=(s, 1), padding=(p, 0),
                                       ceil_mode=True), n)  # fmt: skip
    expected = ceil_count(n, p, k, s)
    if expected == 0:
        assert status is Status.ERROR
        return
    assert status is Status.OK
    assert out == expected
    # ceil_mode never gives fewer windows than floor mode, and at most one more.
    floor_out = floor_count(n, p, p, k, s)
    assert floor_out <= out <= floor_out + 1


@settings(max_examples=500, deadline=None)
@given(n=sizes, k=kernels, s=strides, d=dilations)
def test_same_padding_is_minimal_and_centred_like_tensorflow(
    n: int, k: int, s: int, d: int
) -> None:
    layer = Conv2D(kernel=(k, 1), stride=(s, 1), dilation=(d, 1), padding="same")
    status, out, padding = axis_of(layer, n)
    assert status is Status.OK
    assert padding is not None
    before, after = padding
    k_eff = d * (k - 1) + 1
    # One output per stride step that starts inside the input: 0, s, 2s, ... < n.
    assert out == len(range(0, n, s))
    # That many windows really fit with the padding applied...
    assert floor_count(n, before, after, k_eff, s) == out
    # ...and with one padding value less, the last window would not fit (padding is minimal).
    if before + after > 0:
        assert floor_count(n, before, after - 1, k_eff, s) < out
    # The smaller half goes before, the larger after.
    assert after - before in (0, 1)


@settings(max_examples=200, deadline=None)
@given(n=sizes, k=kernels, s=strides, p=pads)
def test_pooling_without_ceil_mode_matches_brute_force(n: int, k: int, s: int, p: int) -> None:
    assume(p <= k // 2)
    status, out, _ = axis_of(MaxPool2D(kernel=(k, 1), stride=(s, 1), padding=(p, 0)), n)
    expected = floor_count(n, p, p, k, s)
    assert (status is Status.OK and out == expected) or (expected == 0 and status is Status.ERROR)
