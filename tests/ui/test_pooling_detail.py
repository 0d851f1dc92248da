"""Pooling acts per channel: the viewer shows a pooling layer's input and output maps of the same
channel side by side, on one scale (issue 13, question 4)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np
from pytestqt.qtbot import QtBot

from convdesigner.core.engine.forward import run_design
from convdesigner.core.images import load_image
from convdesigner.core.templates import load_template
from convdesigner.core.viewer import side_by_side
from convdesigner.ui.feature_maps import FeatureMapPanel

CHELSEA = Path(importlib.import_module("convdesigner.resources").SAMPLES) / "chelsea.png"
SHOTS = os.environ.get("CONVDESIGNER_SHOTS")


def test_viewer_shows_a_pooling_channel_beside_its_input(qtbot: QtBot, tmp_path: Path) -> None:
    design = load_template("qa-example")
    panel = FeatureMapPanel(design)
    qtbot.addWidget(panel)
    panel.resize(900, 500)
    panel.show()
    try:
        panel.set_selected_node("1")
        assert panel.load_image_file(CHELSEA)
        qtbot.waitUntil(lambda: panel.render_count >= 1 and not panel.busy, timeout=30000)
        panel.select_position(5, 3, 10)
        image = load_image(CHELSEA, 1, (25, 64))
        arrays = run_design(design, image)
        shown = panel.detail_item.image
        assert shown is not None
        expected, left = side_by_side(arrays[1][5], arrays[2][5], panel.colormap)
        np.testing.assert_array_equal(shown, expected)
        assert "Channel 5: 25×64 → 13×32" in panel.detail_title.text
        # Clicking the output half locates the output position; the input half is not output.
        assert panel._locate("detail", 3.5, left + 10.5) == (5, 3, 10)
        assert panel._locate("detail", 3.5, 10.5) is None
        path = Path(SHOTS) / "pooling-detail.png" if SHOTS else tmp_path / "pooling-detail.png"
        assert panel.grab().save(str(path))
        # Another layer: the enlarged channel alone again.
        panel.set_selected_node("2")
        qtbot.waitUntil(lambda: panel.render_count >= 2 and not panel.busy, timeout=30000)
        panel.select_position(5, 3, 10)
        assert "→" not in panel.detail_title.text
        assert panel._locate("detail", 3.5, 10.5) == (5, 3, 10)
    finally:
        panel.shutdown()


def test_the_pooling_channel_title_fits_the_narrow_column(qtbot: QtBot) -> None:
    """The left column is about 200 px wide on a 1366×768 screen: "Channel 0: input 25×64 →
    output 13×32" and "mean … · min … · max …" were cut off there."""
    panel = FeatureMapPanel(load_template("qa-example"))
    qtbot.addWidget(panel)
    panel.resize(580, 290)  # the feature-map dock at 1366×768
    panel.show()
    try:
        panel._body.setSizes([200, 380])
        panel.set_selected_node("1")
        assert panel.load_image_file(CHELSEA)
        qtbot.waitUntil(lambda: panel.render_count >= 1 and not panel.busy, timeout=30000)
        panel.select_position(0, 3, 10)
        qtbot.wait(20)
        title = panel.detail_title
        assert title.itemRect().width() <= title.rect().width()
    finally:
        panel.shutdown()
