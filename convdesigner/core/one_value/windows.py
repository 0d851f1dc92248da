"""Values computed from a window of the input: convolutions (plain and transposed) and pooling.

Windows are taken with the padding the analysis applied, so these explanations and the engine
can never disagree about geometry; taps in the padding are marked, since seeing zeros come from
outside the image is part of the lesson.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from convdesigner.core.one_value.results import (
    ConvTransposeValue,
    ConvValue,
    Explained,
    OtherValue,
)
from convdesigner.core.one_value.spot import Spot
from convdesigner.core.ops.conv import Conv2D, ConvTranspose2D
from convdesigner.core.ops.pool import AvgPool2D, MaxPool2D, include_pad


def _window_indices(
    out: int, stride: int, dilation: int, pad_before: int, kernel: int
) -> np.ndarray:
    start = out * stride - pad_before
    return start + dilation * np.arange(kernel)


def _gather(
    array: np.ndarray, channels: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The (channels, rows, cols) taps of ``array`` as float64, 0 outside it; and the mask of
    the taps outside it (kh, kw)."""
    h, w = array.shape[1:]
    row_ok = (rows >= 0) & (rows < h)
    col_ok = (cols >= 0) & (cols < w)
    inside = row_ok[:, None] & col_ok[None, :]
    taken = array[np.ix_(channels, np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1))]
    window = np.where(inside[None], taken.astype(np.float64), 0.0)
    return window, ~inside


def conv(spot: Spot) -> ConvValue:
    layer = spot.row.layer
    assert isinstance(layer, Conv2D)
    row = spot.row
    source = spot.source()
    assert row.padding is not None  # a conv row without an error has its applied padding
    (top, _), (left, _) = row.padding
    (kh, kw), (sh, sw), (dh, dw) = layer.kernel, layer.stride, layer.dilation
    per_group = source.shape[0] // layer.groups
    group = spot.channel // (layer.filters // layer.groups)
    channels = np.arange(group * per_group, (group + 1) * per_group)
    rows = _window_indices(spot.y, sh, dh, top, kh)
    cols = _window_indices(spot.x, sw, dw, left, kw)
    window, padded = _gather(source, channels, rows, cols)
    kernel = spot.param("weight")[spot.channel]
    partial = (window * kernel).sum(axis=(1, 2))
    bias = float(spot.param("bias")[spot.channel]) if layer.bias else 0.0
    return ConvValue(
        node=row.id,
        channel=spot.channel,
        y=spot.y,
        x=spot.x,
        source=row.inputs[0],
        in_channels=tuple(int(c) for c in channels),
        rows=tuple(int(r) for r in rows),
        cols=tuple(int(c) for c in cols),
        window=window,
        padded=padded,
        kernel=kernel,
        partial_sums=partial,
        bias=bias,
        total=float(partial.sum()) + bias,
        engine_value=spot.value,
    )


def _landing_sources(out: int, pad: int, stride: int, dilation: int, kernel: int) -> np.ndarray:
    """Per kernel index k, the input coordinate whose spread reaches output ``out`` through
    tap k: ``(out + pad - k·dilation) / stride`` (out = in·stride - pad + k·dilation)."""
    return (out + pad - dilation * np.arange(kernel)) / stride


def conv_transpose(spot: Spot) -> ConvTransposeValue:
    layer = spot.row.layer
    assert isinstance(layer, ConvTranspose2D)
    row = spot.row
    source = spot.source()
    c_in, h, w = source.shape
    (kh, kw), (sh, sw), (dh, dw) = layer.kernel, layer.stride, layer.dilation
    (ph, pw) = layer.padding
    per_group_out = layer.filters // layer.groups
    group, local = divmod(spot.channel, per_group_out)
    per_group_in = c_in // layer.groups
    channels = np.arange(group * per_group_in, (group + 1) * per_group_in)
    row_src = _landing_sources(spot.y, ph, sh, dh, kh)
    col_src = _landing_sources(spot.x, pw, sw, dw, kw)

    def taps(src: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        whole = src == np.floor(src)
        index = np.floor(src).astype(np.int64)
        return whole & (index >= 0) & (index < size), index

    row_ok, rows = taps(row_src, h)
    col_ok, cols = taps(col_src, w)
    lands = row_ok[:, None] & col_ok[None, :]
    taken = source[np.ix_(channels, np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1))]
    window = np.where(lands[None], taken.astype(np.float64), 0.0)
    kernel = spot.param("weight")[channels, local]
    partial = (window * kernel).sum(axis=(1, 2))
    bias = float(spot.param("bias")[spot.channel]) if layer.bias else 0.0
    return ConvTransposeValue(
        node=row.id,
        channel=spot.channel,
        y=spot.y,
        x=spot.x,
        source=row.inputs[0],
        in_channels=tuple(int(c) for c in channels),
        in_size=(h, w),
        row_sources=tuple(float(v) for v in row_src),
        col_sources=tuple(float(v) for v in col_src),
        window=window,
        lands=lands,
        kernel=kernel,
        partial_sums=partial,
        bias=bias,
        total=float(partial.sum()) + bias,
        engine_value=spot.value,
    )


def _pool_window(spot: Spot) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pooled channel's window (rows, cols, values with 0 outside the map, outside mask)."""
    row = spot.row
    assert row.padding is not None
    assert row.kernel is not None
    assert row.stride is not None
    (top, _), (left, _) = row.padding
    rows = _window_indices(spot.y, row.stride[0], 1, top, row.kernel[0])
    cols = _window_indices(spot.x, row.stride[1], 1, left, row.kernel[1])
    window, outside = _gather(spot.source(), np.array([spot.channel]), rows, cols)
    return rows, cols, window[0], outside


def _span(rows: np.ndarray, cols: np.ndarray, outside: np.ndarray) -> str:
    """Where the window lies, and how much of it is in the map."""
    text = f"the {len(rows)}×{len(cols)} window from row {int(rows[0])}, col {int(cols[0])}"
    inside = int((~outside).sum())
    if inside < outside.size:
        text += f" ({inside} of its {outside.size} positions inside the map)"
    return text


def max_pool(spot: Spot) -> OtherValue:
    rows, cols, window, outside = _pool_window(spot)
    # Max pooling pads with -inf, and a ceil_mode window is cut at the edge: positions outside
    # the map never win.
    best = float(np.where(outside, -np.inf, window).max())
    at = np.unravel_index(int(np.argmax(np.where(outside, -np.inf, window))), window.shape)
    return spot.say(
        f"{spot.head} = max of {_span(rows, cols, outside)} of channel {spot.channel} of "
        f"'{spot.row.inputs[0]}': the largest is at row {int(rows[at[0]])}, col "
        f"{int(cols[at[1]])} = {best:.4g}",
        best,
        abs(best),
    )


def _divisor(start: int, kernel: int, size: int, after: int, counts_padding: bool) -> int:
    """How many positions along one axis PyTorch's average divides by: with count_include_pad
    those inside the padded input (a ceil_mode window is cut at its far edge), else only those
    inside the map."""
    end = start + kernel
    if counts_padding:
        return min(end, size + after) - start
    return min(end, size) - max(start, 0)


def avg_pool(spot: Spot) -> OtherValue:
    layer = spot.row.layer
    assert isinstance(layer, AvgPool2D)
    rows, cols, window, outside = _pool_window(spot)
    assert spot.row.padding is not None
    (_, bottom), (_, right) = spot.row.padding
    _, h, w = spot.source().shape
    counted = include_pad(layer)
    div_h = _divisor(int(rows[0]), len(rows), h, bottom, counted)
    div_w = _divisor(int(cols[0]), len(cols), w, right, counted)
    taps = div_h * div_w
    if counted:
        why = "padding zeros included"
        if taps < outside.size:
            why += "; the window is cut at the edge of the padded input (ceil_mode)"
    elif layer.padding == "same":
        why = 'padding not counted: "same" padding'
    else:
        why = "padding not counted"
    total = float(window.sum())
    mean = total / taps
    return spot.say(
        f"{spot.head} = mean of {_span(rows, cols, outside)} of channel {spot.channel} of "
        f"'{spot.row.inputs[0]}' = {total:.4g} / {taps} ({why}) = {mean:.4g}",
        mean,
        float(np.abs(window).sum()) / taps,
    )


def global_avg_pool(spot: Spot) -> OtherValue:
    values = spot.source()[spot.channel].astype(np.float64)
    h, w = values.shape
    total = float(values.sum())
    mean = total / values.size
    return spot.say(
        f"{spot.head} = mean of the whole {h}×{w} map of channel {spot.channel} of "
        f"'{spot.row.inputs[0]}' = {total:.4g} / {values.size} = {mean:.4g}",
        mean,
        float(np.abs(values).mean()),
    )


EXPLAINERS: dict[str, Callable[[Spot], Explained]] = {
    Conv2D.type_name: conv,
    ConvTranspose2D.type_name: conv_transpose,
    MaxPool2D.type_name: max_pool,
    AvgPool2D.type_name: avg_pool,
    "globalavgpool2d": global_avg_pool,
}
