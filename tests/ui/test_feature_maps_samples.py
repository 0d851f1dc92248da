"""The bundled sample images: small, licensed, listed in the menu, and shapes.png reproducible."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from convdesigner.core.images import read_image
from convdesigner.ui.viewer_dock import SAMPLES, sample_path

RESOURCES = Path(importlib.import_module("convdesigner.resources").ROOT)
IMAGES = sorted(p.name for p in (RESOURCES / "samples").glob("*.png"))


def test_every_sample_is_in_the_menu() -> None:
    assert sorted(SAMPLES) == IMAGES


@pytest.mark.parametrize("name", IMAGES)
def test_sample_is_small_readable_and_licensed(name: str) -> None:
    pixels = read_image(sample_path(name))
    assert max(pixels.shape[:2]) <= 256
    assert pixels.shape[2] in (1, 3)
    assert float(pixels.std()) > 0.05  # a real picture, not a flat fill
    readme = (RESOURCES / "README.md").read_text(encoding="utf-8")
    licences = (RESOURCES / "samples" / "LICENSES.md").read_text(encoding="utf-8")
    h, w = pixels.shape[:2]
    row = next(line for line in readme.splitlines() if f"`samples/{name}`" in line)
    assert f"{w}×{h}" in row
    assert "CC0" in row
    assert name in licences


def test_shapes_png_is_what_the_script_draws() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_synthetic", RESOURCES / "samples" / "make_synthetic.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    drawn = module.draw()
    stored = np.round(read_image(sample_path("shapes.png")) * 255).astype(np.uint8)
    np.testing.assert_array_equal(stored, drawn)
