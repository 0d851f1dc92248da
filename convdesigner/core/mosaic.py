"""Feature maps as one picture: normalisation, tiling into a mosaic, colormaps.

The viewer shows every channel of a layer at once. Hundreds of small plots would be slow to draw and
to lay out, so the channels are tiled into one 2-D array with 1-pixel gaps and drawn as a single
image. All the arithmetic lives here, in NumPy, without Qt, so it is tested with plain tables and
reused by the PNG export and the command line.

Conventions:
- maps are (C, H, W) float arrays, the engine's layout; a mosaic is
  (rows·(H+gap)−gap, cols·(W+gap)−gap);
- normalised values lie in [0, 1]; NaN marks "no data" (the gaps, missing tiles, NaN activations)
  and is painted with the colormap's "bad" colour, so a NaN never poisons a whole scale;
- a constant map (or an all-NaN one) has no contrast to show: it maps to 0 on a sequential scale
  and to the centre (0.5) on a diverging one; its range is reported so the user still sees it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
ByteArray = npt.NDArray[np.uint8]


class Scale(StrEnum):
    """How values become brightness: each channel on its own range, or all on one."""

    PER_CHANNEL = "per-channel"
    SHARED = "shared"


# --------------------------------------------------------------------------- colormaps


@dataclass(frozen=True)
class Colormap:
    """A 256-entry RGBA lookup table; ``diverging`` ones centre on zero instead of min..max."""

    name: str
    lut: ByteArray
    diverging: bool = False
    bad: tuple[int, int, int, int] = (0, 0, 0, 0)
    """Colour of NaN pixels (gaps between tiles, missing tiles): transparent, so the theme shows."""


def _interpolate(anchors: list[tuple[float, float, float]]) -> ByteArray:
    """A 256×4 table through equally spaced RGB anchors (components 0..1)."""
    points = np.asarray(anchors, dtype=np.float64)
    xs = np.linspace(0.0, 1.0, len(points))
    t = np.linspace(0.0, 1.0, 256)
    rgb = np.stack([np.interp(t, xs, points[:, k]) for k in range(3)], axis=1)
    lut = np.empty((256, 4), dtype=np.uint8)
    lut[:, :3] = np.round(rgb * 255.0).astype(np.uint8)
    lut[:, 3] = 255
    return lut


# Every 16th entry of matplotlib's viridis (CC0; Smith, van der Walt, Firing), plus the last one; a
# linear interpolation between them differs from the full table by at most one or two levels.
_VIRIDIS = [
    (0.267004, 0.004874, 0.329415),
    (0.282327, 0.094955, 0.417331),
    (0.278826, 0.175490, 0.483397),
    (0.258965, 0.251537, 0.524736),
    (0.229739, 0.322361, 0.545706),
    (0.199430, 0.387607, 0.554642),
    (0.172719, 0.448791, 0.557885),
    (0.149039, 0.508051, 0.557250),
    (0.127568, 0.566949, 0.550556),
    (0.120638, 0.625828, 0.533488),
    (0.157851, 0.683765, 0.501686),
    (0.246070, 0.738910, 0.452024),
    (0.369214, 0.788888, 0.382914),
    (0.515992, 0.831158, 0.294279),
    (0.678489, 0.863742, 0.189503),
    (0.845561, 0.887322, 0.099702),
    (0.993248, 0.906157, 0.143936),
]
# Blue - light grey - red, after Moreland's "cool to warm" end and centre colours: negative and
# positive values read as opposites and zero as neutral.
_COOLWARM = [
    (0.230, 0.299, 0.754),
    (0.552, 0.690, 0.996),
    (0.865, 0.865, 0.865),
    (0.958, 0.603, 0.482),
    (0.706, 0.016, 0.150),
]

COLORMAPS: dict[str, Colormap] = {
    "viridis": Colormap("viridis", _interpolate(_VIRIDIS)),
    "greyscale": Colormap("greyscale", _interpolate([(0.0, 0.0, 0.0), (1.0, 1.0, 1.0)])),
    "diverging": Colormap("diverging", _interpolate(_COOLWARM), diverging=True),
}
DEFAULT_COLORMAP = "viridis"


def colorize(normalised: npt.NDArray[np.floating], cmap: Colormap) -> ByteArray:
    """RGBA uint8 (…, 4) of values in [0, 1]; NaN gets the ``bad`` colour; the rest is clipped.

    The lookup gathers one packed 32-bit RGBA word per pixel through uint8 indices: five times
    faster than indexing the (256, 4) table with an intp array (a 64-channel 224×224 mosaic took
    50 ms, most of the time from an edit to its maps on screen)."""
    values = np.asarray(normalised, dtype=np.float32)
    level = values * np.float32(255.0)
    level += np.float32(0.5)
    bad = np.isnan(level)
    has_bad = bool(bad.any())
    if has_bad:
        level[bad] = 0.0
    np.clip(level, 0.0, 255.0, out=level)
    index = level.astype(np.uint8)  # truncates: level + 0.5 rounds to the nearest entry
    packed = np.ascontiguousarray(cmap.lut).view(np.uint32).reshape(256)
    rgba: ByteArray = packed[index].view(np.uint8).reshape(*values.shape, 4)
    if has_bad:
        rgba[bad] = cmap.bad
    return rgba


# --------------------------------------------------------------------------- normalisation


def value_ranges(maps: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """(C, 2) min and max of each channel ignoring NaN; NaN, NaN for an all-NaN channel."""
    data = np.asarray(maps, dtype=np.float32).reshape(maps.shape[0], -1)
    out = np.full((data.shape[0], 2), np.nan)
    if not data.shape[1]:
        return out
    if not np.isnan(data).any():  # the usual case: one pass each, no masks
        out[:, 0] = data.min(axis=1)
        out[:, 1] = data.max(axis=1)
        return out
    finite = ~np.isnan(data)
    has = finite.any(axis=1)
    if has.any():
        rows = data[has]
        ok = finite[has]
        out[has, 0] = np.where(ok, rows, np.inf).min(axis=1)
        out[has, 1] = np.where(ok, rows, -np.inf).max(axis=1)
    return out


def normalise(
    maps: npt.NDArray[np.floating], scale: Scale = Scale.PER_CHANNEL, *, diverging: bool = False
) -> FloatArray:
    """(C, H, W) values → [0, 1] (NaN kept), per channel or on the scale shared by all channels.

    Sequential: ``(x - lo) / (hi - lo)``. Diverging: zero maps to 0.5 and ``±max|x|`` to 0 and 1, so
    the sign of a value is never hidden by the normalisation.
    """
    data = np.asarray(maps, dtype=np.float32)
    if data.ndim != 3:
        raise ValueError(f"feature maps must be (channels, height, width), got shape {data.shape}")
    return _normalise(data, value_ranges(data), scale, diverging)


def _normalise(
    data: FloatArray, ranges: npt.NDArray[np.float64], scale: Scale, diverging: bool
) -> FloatArray:
    if scale is Scale.SHARED:
        lo_all = np.nanmin(ranges[:, 0]) if not np.isnan(ranges[:, 0]).all() else np.nan
        hi_all = np.nanmax(ranges[:, 1]) if not np.isnan(ranges[:, 1]).all() else np.nan
        ranges = np.tile(np.array([[lo_all, hi_all]]), (data.shape[0], 1))
    lo = ranges[:, 0].reshape(-1, 1, 1)
    hi = ranges[:, 1].reshape(-1, 1, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if diverging:
            half = np.fmax(np.abs(lo), np.abs(hi))
            safe = np.where((half > 0) & np.isfinite(half), half, 1.0)
            out = np.where(half > 0, 0.5 + 0.5 * data / safe, 0.5)
        else:
            span = hi - lo
            safe = np.where((span > 0) & np.isfinite(span), span, 1.0)
            if np.isfinite(lo).all() and not np.isnan(data).any():
                # The usual case, the same values with two fewer passes over the maps (a
                # constant channel, span 0, is divided by 1 and gives the 0 it should).
                return ((data - lo) / safe).astype(np.float32)
            out = np.where(span > 0, (data - np.nan_to_num(lo)) / safe, 0.0)
    out = out.astype(np.float32)
    out[np.isnan(data)] = np.nan
    return out


# --------------------------------------------------------------------------- tiling


def grid_shape(channels: int, height: int, width: int, aspect: float = 1.0) -> tuple[int, int]:
    """(rows, cols) whose mosaic is closest to ``aspect`` (width / height) with few empty tiles.

    Tried exhaustively over the column count: at most a few thousand channels, so a plain loop is
    cheap and always finds the best layout instead of a rounded square root.
    """
    if channels < 1 or height < 1 or width < 1:
        raise ValueError(f"cannot tile {channels} maps of {height}×{width}")
    if aspect <= 0 or not math.isfinite(aspect):
        raise ValueError(f"aspect must be a positive number, got {aspect}")
    best: tuple[float, int, int] | None = None
    for cols in range(1, channels + 1):
        rows = -(-channels // cols)
        if rows * cols - channels >= cols:  # a whole empty row: never better than fewer columns
            continue
        mosaic_aspect = (cols * width) / (rows * height)
        cost = abs(math.log(mosaic_aspect / aspect)) + 0.05 * (rows * cols - channels) / channels
        if best is None or cost < best[0]:
            best = (cost, rows, cols)
    assert best is not None
    return best[1], best[2]


@dataclass(frozen=True)
class Layout:
    """Where each channel sits in a mosaic; maps mosaic pixels back to (channel, y, x)."""

    channels: int
    tile_height: int
    tile_width: int
    rows: int
    cols: int
    gap: int = 1

    @property
    def shape(self) -> tuple[int, int]:
        return (
            self.rows * (self.tile_height + self.gap) - self.gap,
            self.cols * (self.tile_width + self.gap) - self.gap,
        )

    def origin(self, channel: int) -> tuple[int, int]:
        """(row, col) of the top-left pixel of ``channel``'s tile."""
        if not 0 <= channel < self.channels:
            raise IndexError(f"channel {channel} is out of range 0..{self.channels - 1}")
        r, c = divmod(channel, self.cols)
        return r * (self.tile_height + self.gap), c * (self.tile_width + self.gap)

    def locate(self, row: float, col: float) -> tuple[int, int, int] | None:
        """(channel, y, x) under mosaic pixel coordinates; None on a gap, empty tile or outside."""
        if row < 0 or col < 0:
            return None
        r, c = int(row), int(col)
        tr, y = divmod(r, self.tile_height + self.gap)
        tc, x = divmod(c, self.tile_width + self.gap)
        if y >= self.tile_height or x >= self.tile_width or tr >= self.rows or tc >= self.cols:
            return None
        channel = tr * self.cols + tc
        return (channel, y, x) if channel < self.channels else None


def layout_for(
    channels: int, height: int, width: int, *, aspect: float = 1.0, gap: int = 1
) -> Layout:
    rows, cols = grid_shape(channels, height, width, aspect)
    return Layout(channels, height, width, rows, cols, gap)


def tile(maps: npt.NDArray[np.floating], layout: Layout) -> FloatArray:
    """(C, H, W) → one 2-D float32 array laid out by ``layout``; gaps and empty tiles are NaN.

    One reshape/transpose copy instead of a loop over channels: pad the channel axis to rows·cols
    and every tile to (H+gap)×(W+gap), then interleave the grid and pixel axes.
    """
    data = np.asarray(maps, dtype=np.float32)
    c, h, w = data.shape
    if (c, h, w) != (layout.channels, layout.tile_height, layout.tile_width):
        raise ValueError(f"maps of shape {data.shape} do not match the layout {layout}")
    g = layout.gap
    padded = np.full((layout.rows * layout.cols, h + g, w + g), np.nan, dtype=np.float32)
    padded[:c, :h, :w] = data
    grid = padded.reshape(layout.rows, layout.cols, h + g, w + g).transpose(0, 2, 1, 3)
    full = grid.reshape(layout.rows * (h + g), layout.cols * (w + g))
    out_h, out_w = layout.shape
    return np.ascontiguousarray(full[:out_h, :out_w])


@dataclass(frozen=True)
class Mosaic:
    """A rendered mosaic: the normalised array, its colours, and how to read it back."""

    layout: Layout
    normalised: FloatArray
    """2-D, values in [0, 1], NaN on gaps."""
    rgba: ByteArray
    """(H, W, 4) uint8, what is drawn and exported."""
    ranges: npt.NDArray[np.float64]
    """(C, 2) raw min/max of each channel (before any shared scaling)."""


def render(
    maps: npt.NDArray[np.floating],
    *,
    scale: Scale = Scale.PER_CHANNEL,
    colormap: str = DEFAULT_COLORMAP,
    aspect: float = 1.0,
    gap: int = 1,
) -> Mosaic:
    """The whole pipeline: normalise, tile, colorize. ``maps`` is (C, H, W)."""
    try:
        cmap = COLORMAPS[colormap]
    except KeyError:
        raise ValueError(
            f"unknown colormap {colormap!r}; choose one of {', '.join(COLORMAPS)}"
        ) from None
    # One contiguous copy up front when the engine hands over a channels-last view: every
    # pass below then reads memory in order (62 ms → 35 ms for VGG-16's first layer).
    data = np.ascontiguousarray(maps, dtype=np.float32)
    if data.ndim != 3 or 0 in data.shape:
        raise ValueError(
            f"feature maps must be non-empty (channels, height, width), got {data.shape}"
        )
    layout = layout_for(*data.shape, aspect=aspect, gap=gap)
    ranges = value_ranges(data)
    normalised = tile(_normalise(data, ranges, scale, cmap.diverging), layout)
    return Mosaic(layout, normalised, colorize(normalised, cmap), ranges)
