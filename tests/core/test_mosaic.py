"""Mosaic arithmetic: normalisation, tiling, colormaps, checked against hand-worked tables."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convdesigner.core.mosaic import (
    COLORMAPS,
    Layout,
    Scale,
    colorize,
    grid_shape,
    layout_for,
    normalise,
    render,
    tile,
    value_ranges,
)

NAN = math.nan


def test_core_mosaic_does_not_import_qt() -> None:
    import subprocess
    import sys

    code = (
        "import sys, convdesigner.core.mosaic; "
        "print(any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("channel", "scale", "diverging", "expected"),
    [
        # channel 0 spans 0..4, channel 1 spans -2..2; shared range is -2..4
        ([0, 1, 2, 4], Scale.PER_CHANNEL, False, [0, 0.25, 0.5, 1]),
        ([-2, 0, 1, 2], Scale.PER_CHANNEL, False, [0, 0.5, 0.75, 1]),
        ([0, 1, 2, 4], Scale.SHARED, False, [2 / 6, 3 / 6, 4 / 6, 1]),
        ([-2, 0, 1, 2], Scale.SHARED, False, [0, 2 / 6, 3 / 6, 4 / 6]),
        # diverging: zero is the centre, ±max|x| the ends
        ([0, 1, 2, 4], Scale.PER_CHANNEL, True, [0.5, 0.625, 0.75, 1]),
        ([-2, 0, 1, 2], Scale.PER_CHANNEL, True, [0, 0.5, 0.75, 1]),
        ([-2, 0, 1, 2], Scale.SHARED, True, [0.25, 0.5, 0.625, 0.75]),
    ],
)
def test_normalise_table(
    channel: list[float], scale: Scale, diverging: bool, expected: list[float]
) -> None:
    maps = np.array([[[0, 1, 2, 4]], [[-2, 0, 1, 2]]], dtype=np.float32)
    which = 0 if channel == [0, 1, 2, 4] else 1
    out = normalise(maps, scale, diverging=diverging)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[which, 0], expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("values", "diverging", "expected"),
    [
        ([3, 3, 3], False, [0, 0, 0]),  # constant: no contrast, no division by zero
        ([0, 0, 0], True, [0.5, 0.5, 0.5]),  # all zero on a diverging scale: the centre
        ([-5, -5, -5], True, [0, 0, 0]),  # constant negative: full negative end
        ([1, NAN, 3], False, [0, NAN, 1]),  # NaN ignored for the range, kept as NaN
        ([NAN, NAN, NAN], False, [NAN, NAN, NAN]),  # all NaN: stays NaN, no warning
        ([NAN, 2, NAN], False, [NAN, 0, NAN]),  # one finite value: constant
    ],
)
def test_normalise_degenerate(values: list[float], diverging: bool, expected: list[float]) -> None:
    maps = np.array([[values]], dtype=np.float32)
    out = normalise(maps, diverging=diverging)
    np.testing.assert_array_equal(out[0, 0], np.array(expected, dtype=np.float32))


def test_normalise_rejects_wrong_rank() -> None:
    with pytest.raises(ValueError, match=r"\(channels, height, width\)"):
        normalise(np.zeros((4, 4), dtype=np.float32))


def test_value_ranges_with_nan() -> None:
    maps = np.array([[[1, NAN]], [[NAN, NAN]], [[-1, 5]]], dtype=np.float32)
    got = value_ranges(maps)
    np.testing.assert_array_equal(got, [[1, 1], [NAN, NAN], [-1, 5]])


@pytest.mark.parametrize(
    ("channels", "h", "w", "aspect", "expected"),
    [
        (1, 5, 5, 1.0, (1, 1)),
        (4, 5, 5, 1.0, (2, 2)),
        (16, 8, 8, 1.0, (4, 4)),
        # 17×6 tiles of 25×64: 425×384 px (aspect 0.90), nearer square than 16×7 (448×400, 1.12)
        (100, 25, 64, 1.0, (17, 6)),
        (64, 10, 10, 4.0, (4, 16)),  # a wide view gets a wide mosaic
        (3, 10, 10, 1.0, (2, 2)),  # one empty tile rather than a 1×3 strip
        (7, 10, 10, 100.0, (1, 7)),
    ],
)
def test_grid_shape(
    channels: int, h: int, w: int, aspect: float, expected: tuple[int, int]
) -> None:
    rows, cols = grid_shape(channels, h, w, aspect)
    assert (rows, cols) == expected
    assert rows * cols >= channels
    assert rows * cols - channels < cols  # never a whole empty row


@pytest.mark.parametrize(
    ("args", "message"),
    [((0, 3, 3, 1.0), "cannot tile"), ((2, 3, 3, 0.0), "aspect"), ((2, 3, 3, math.nan), "aspect")],
)
def test_grid_shape_rejects(args: tuple[int, int, int, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        grid_shape(*args)


def test_tile_places_each_channel_with_nan_gaps() -> None:
    maps = np.arange(3 * 2 * 3, dtype=np.float32).reshape(3, 2, 3)
    layout = Layout(channels=3, tile_height=2, tile_width=3, rows=2, cols=2, gap=1)
    out = tile(maps, layout)
    n = NAN
    expected = np.array(
        [
            [0, 1, 2, n, 6, 7, 8],
            [3, 4, 5, n, 9, 10, 11],
            [n, n, n, n, n, n, n],
            [12, 13, 14, n, n, n, n],
            [15, 16, 17, n, n, n, n],
        ],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(out, expected)
    assert out.shape == layout.shape


def test_tile_rejects_mismatched_layout() -> None:
    with pytest.raises(ValueError, match="do not match"):
        tile(np.zeros((2, 3, 3), dtype=np.float32), Layout(3, 3, 3, 2, 2))


@pytest.mark.parametrize(
    ("pixel", "expected"),
    [
        ((0, 0), (0, 0, 0)),
        ((1, 2), (0, 1, 2)),
        ((0, 3), None),  # vertical gap
        ((2, 0), None),  # horizontal gap
        ((0, 4), (1, 0, 0)),
        ((4, 6), None),  # the empty fourth tile
        ((3.7, 1.2), (2, 0, 1)),  # sub-pixel positions from the mouse
        ((-0.5, 0), None),
        ((0, 7), None),
        ((5, 0), None),
    ],
)
def test_layout_locate(pixel: tuple[float, float], expected: tuple[int, int, int] | None) -> None:
    layout = Layout(channels=3, tile_height=2, tile_width=3, rows=2, cols=2, gap=1)
    assert layout.locate(*pixel) == expected


def test_layout_origin_round_trips_locate() -> None:
    layout = layout_for(37, 5, 9, aspect=1.5)
    for channel in range(37):
        r, c = layout.origin(channel)
        assert layout.locate(r + 4, c + 8) == (channel, 4, 8)
    with pytest.raises(IndexError):
        layout.origin(37)


def test_colorize_uses_lut_ends_and_bad_colour() -> None:
    cmap = COLORMAPS["greyscale"]
    rgba = colorize(np.array([[0.0, 1.0, 0.5, NAN, -3.0, 7.0]], dtype=np.float32), cmap)
    assert rgba.shape == (1, 6, 4)
    assert rgba.dtype == np.uint8
    np.testing.assert_array_equal(rgba[0, 0], [0, 0, 0, 255])
    np.testing.assert_array_equal(rgba[0, 1], [255, 255, 255, 255])
    np.testing.assert_array_equal(rgba[0, 2], [128, 128, 128, 255])
    np.testing.assert_array_equal(rgba[0, 3], cmap.bad)
    np.testing.assert_array_equal(rgba[0, 4], rgba[0, 0])  # clipped, not wrapped
    np.testing.assert_array_equal(rgba[0, 5], rgba[0, 1])


def test_colormaps_shape_and_character() -> None:
    for cmap in COLORMAPS.values():
        assert cmap.lut.shape == (256, 4)
        assert (cmap.lut[:, 3] == 255).all()
    viridis = COLORMAPS["viridis"].lut.astype(int)
    # matplotlib's viridis: dark purple (68, 1, 84) to yellow (253, 231, 37)
    assert np.abs(viridis[0, :3] - [68, 1, 84]).max() <= 1
    assert np.abs(viridis[255, :3] - [253, 231, 37]).max() <= 1
    luma = viridis[:, :3] @ [0.299, 0.587, 0.114]
    # perceptually ordered: brightness rises (every 8th level; neighbours may tie after rounding)
    assert (np.diff(luma[::8]) > 0).all()
    diverging = COLORMAPS["diverging"]
    assert diverging.diverging
    blue, centre, red = diverging.lut[0], diverging.lut[128], diverging.lut[255]
    assert blue[2] > blue[0]
    assert red[0] > red[2]
    assert abs(int(centre[0]) - int(centre[2])) < 10  # neutral grey at zero


def test_render_pipeline_matches_its_parts() -> None:
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(5, 4, 6)).astype(np.float32)
    maps[2] = 1.5  # constant channel
    mosaic = render(maps, scale=Scale.SHARED, colormap="diverging", aspect=2.0)
    layout = layout_for(5, 4, 6, aspect=2.0)
    assert mosaic.layout == layout
    expected = tile(normalise(maps, Scale.SHARED, diverging=True), layout)
    np.testing.assert_array_equal(mosaic.normalised, expected)
    np.testing.assert_array_equal(mosaic.rgba, colorize(expected, COLORMAPS["diverging"]))
    np.testing.assert_allclose(mosaic.ranges[2], [1.5, 1.5])
    r, c = layout.origin(3)
    np.testing.assert_array_equal(
        mosaic.normalised[r : r + 4, c : c + 6], normalise(maps, Scale.SHARED, diverging=True)[3]
    )


@pytest.mark.parametrize(
    ("maps", "colormap", "message"),
    [
        (np.zeros((2, 3, 3)), "jet", "unknown colormap 'jet'"),
        (np.zeros((0, 3, 3)), "viridis", "non-empty"),
        (np.zeros(5), "viridis", "non-empty"),
    ],
)
def test_render_rejects(maps: np.ndarray, colormap: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render(maps, colormap=colormap)


# ----------------------------------------------------------------- the fast paths change nothing


def _reference_ranges(data: np.ndarray) -> np.ndarray:
    """Per-channel nanmin/nanmax, the plain way (NaN for an all-NaN channel)."""
    flat = data.reshape(data.shape[0], -1).astype(np.float64)
    out = np.full((data.shape[0], 2), np.nan)
    for c, row in enumerate(flat):
        finite = row[~np.isnan(row)]
        if finite.size:
            out[c] = finite.min(), finite.max()
    return out


def _reference_normalise(data: np.ndarray, scale: Scale, diverging: bool) -> np.ndarray:
    ranges = _reference_ranges(data)
    if scale is Scale.SHARED:
        lows, highs = ranges[:, 0], ranges[:, 1]
        lo_all = np.nanmin(lows) if not np.isnan(lows).all() else np.nan
        hi_all = np.nanmax(highs) if not np.isnan(highs).all() else np.nan
        ranges = np.tile([[lo_all, hi_all]], (data.shape[0], 1))
    out = np.empty(data.shape, dtype=np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        for c, (lo, hi) in enumerate(ranges):
            if diverging:
                half = max(abs(lo), abs(hi))
                safe = half if half > 0 and np.isfinite(half) else 1.0
                out[c] = 0.5 + 0.5 * data[c] / safe if half > 0 else 0.5
            else:
                span = hi - lo
                safe = span if span > 0 and np.isfinite(span) else 1.0
                out[c] = (data[c] - np.nan_to_num(lo)) / safe if span > 0 else 0.0
    out[np.isnan(data)] = np.nan
    return out


def _reference_colorize(values: np.ndarray, lut: np.ndarray, bad: tuple[int, ...]) -> np.ndarray:
    rgba = np.empty((*values.shape, 4), dtype=np.uint8)
    for index in np.ndindex(values.shape):
        v = values[index]
        if np.isnan(v):
            rgba[index] = bad
        else:
            level = float(np.float32(v) * np.float32(255.0) + np.float32(0.5))
            rgba[index] = lut[int(min(max(level, 0.0), 255.0))]
    return rgba


@pytest.mark.parametrize("scale", list(Scale))
@pytest.mark.parametrize("colormap", list(COLORMAPS))
@pytest.mark.parametrize("case", ["plain", "dead channels", "nan", "inf"])
def test_render_equals_the_plain_formulas(scale: Scale, colormap: str, case: str) -> None:
    """render's fast paths (no NaN, packed colour lookup) give the plain computation's bytes."""
    rng = np.random.default_rng(7)
    maps = rng.standard_normal((6, 5, 7)).astype(np.float32) * 3
    if case == "dead channels":
        maps[1] = 0.0  # a ReLU output that never fired
        maps[4] = 2.5
    elif case == "nan":
        maps[2, 1, 3] = np.nan
        maps[5] = np.nan
    elif case == "inf":
        maps[3, 0, 0] = np.inf
    mosaic = render(maps, scale=scale, colormap=colormap, aspect=1.3)
    cmap = COLORMAPS[colormap]
    expected = _reference_normalise(maps, scale, cmap.diverging)
    np.testing.assert_array_equal(mosaic.ranges, _reference_ranges(maps))
    np.testing.assert_array_equal(mosaic.normalised, tile(expected, mosaic.layout))
    np.testing.assert_array_equal(
        mosaic.rgba, _reference_colorize(mosaic.normalised, cmap.lut, cmap.bad)
    )
