"""Pooling acts per channel: the viewer shows a pooling layer's input and output maps of the same
channel side by side, on one scale (issue 13, question 4): the core, without Qt."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from convdesigner.core.analysis import analyse
from convdesigner.core.engine.forward import run_design
from convdesigner.core.images import load_image
from convdesigner.core.mosaic import render
from convdesigner.core.templates import load_template
from convdesigner.core.viewer import channel_detail, pooled_input, side_by_side

CHELSEA = Path(importlib.import_module("convdesigner.resources").SAMPLES) / "chelsea.png"


def test_side_by_side_puts_both_maps_on_one_scale() -> None:
    first = np.arange(24, dtype=np.float32).reshape(4, 6)
    second = first[::2, ::2] * 1.0  # what a 2×2 stride-2 "pooling" keeps, by hand
    rgba, left = side_by_side(first, second, "greyscale")
    assert left == 6 + 2  # the input's width, then a gap of two transparent columns
    assert rgba.shape == (4, 6 + 2 + 6, 4)
    assert (rgba[:, 6:8, 3] == 0).all()  # the gap is transparent
    expected = render(first[None], colormap="greyscale")  # the output's range is within
    np.testing.assert_array_equal(rgba[:, :6], expected.rgba)
    # the output's values get the input's colours: equal values, equal pixels
    np.testing.assert_array_equal(rgba[0, left], rgba[0, 0])
    np.testing.assert_array_equal(rgba[1, left + 1], rgba[2, 2])
    assert (rgba[2:, left:, 3] == 0).all()  # below the smaller map: transparent


def test_channel_detail_of_a_pooling_layer_carries_its_input() -> None:
    design = load_template("qa-example")
    image = load_image(CHELSEA, 1, (25, 64))
    arrays = run_design(design, image)
    detail = channel_detail(arrays[2], 7, "viridis", arrays[1])
    assert detail.input_hw == (25, 64)
    assert detail.output_left == 64 + 4
    plain = channel_detail(arrays[2], 7, "viridis")
    assert plain.output_left == 0
    assert plain.input_hw is None
    np.testing.assert_array_equal(detail.counts, plain.counts)  # the stats are the output's


def test_pooled_input_only_for_pooling_layers() -> None:
    from convdesigner.core.viewer import Activations, SourceImage

    design = load_template("qa-example")
    image = load_image(CHELSEA, 1, (25, 64))
    arrays = tuple(run_design(design, image))
    acts = Activations(design, SourceImage(np.zeros((2, 2, 3), np.float32), "x"), 0, arrays)
    analysis = analyse(design)
    got = pooled_input(analysis, acts, "1")
    assert got is arrays[1]
    assert pooled_input(analysis, acts, "2") is None
    assert pooled_input(analysis, acts, None) is None


def test_channel_detail_of_values_near_the_float32_limit() -> None:
    """A picture or weights of ±3e38 (valid float32) gave the enlarged channel no histogram: its
    span and sum overflow float32 (found by dropping a mutated .npy on the viewer)."""
    maps = np.full((1, 16, 16), 0.5, np.float32)
    maps[0, 0, :4] = -3.3e38
    maps[0, 1, :3] = 3.0e38
    detail = channel_detail(maps, 0, "viridis", before=maps)
    assert detail.stats == "mean -1.641e+36<br>min -3.3e+38 · max 3e+38"
    assert detail.counts.sum() == 16 * 16  # every value in a bin
    assert detail.counts[0] == 4
    assert detail.counts[-1] == 3
