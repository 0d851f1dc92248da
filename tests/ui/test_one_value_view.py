"""A click on a convolution's enlarged channel opens "One value" with the engine's number
(issue 13, question 6)."""

from __future__ import annotations

import importlib
from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from pytestqt.qtbot import QtBot

from convdesigner.core.design import Design, InputSpec, Node
from convdesigner.core.engine.forward import run_design
from convdesigner.core.images import load_image
from convdesigner.core.layers import ConvTranspose2D, MaxPool2D
from convdesigner.core.one_value import ConvTransposeValue, ConvValue, Explained, OtherValue
from convdesigner.core.templates import load_template
from convdesigner.ui.feature_maps import FeatureMapPanel
from convdesigner.ui.one_value_view import OneValueWindow

CHELSEA = Path(importlib.import_module("convdesigner.resources").SAMPLES) / "chelsea.png"


def _click_detail(qtbot: QtBot, panel: FeatureMapPanel, y: int, x: int) -> None:
    """A real mouse click on pixel (y, x) of the enlarged channel."""
    scene = panel.detail_item.mapToScene(QPointF(x + panel._detail_left + 0.5, y + 0.5))
    view = panel.detail_widget
    pos = view.mapFromScene(scene)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def _window(panel: FeatureMapPanel) -> OneValueWindow | None:
    return panel.one_value


def _value(window: OneValueWindow) -> Explained | None:
    return window.value


def test_a_click_on_a_conv_value_opens_its_sum(qtbot: QtBot) -> None:
    design = load_template("qa-example")
    panel = FeatureMapPanel(design)
    qtbot.addWidget(panel)
    panel.resize(900, 500)
    panel.show()
    try:
        panel.set_selected_node("2")
        assert panel.load_image_file(CHELSEA)
        qtbot.waitUntil(lambda: panel.render_count >= 1 and not panel.busy, timeout=30000)
        panel.select_position(7, 0, 0)  # enlarge channel 7
        qtbot.wait(50)  # the enlarged channel is drawn in the next event-loop pass
        assert _window(panel) is None  # selecting a channel opens nothing
        _click_detail(qtbot, panel, 4, 9)
        window = _window(panel)
        assert window is not None
        assert window.isVisible()
        value = window.value
        assert isinstance(value, ConvValue)
        assert (value.channel, value.y, value.x) == (7, 4, 9)
        expected = float(run_design(design, load_image(CHELSEA, 1, (25, 64)))[3][7, 4, 9])
        assert value.engine_value == expected
        assert abs(value.total - expected) <= 1e-5 * (1 + abs(expected))
        assert value.in_channels == tuple(range(100))  # all 100 pooled channels
        assert f"{value.total:.4g}" in window.summary.text()
        assert "The other 97 channels add" in window.details.toPlainText()
        # A click on a pooling layer's channel updates the open window with a sentence.
        panel.set_selected_node("1")
        qtbot.waitUntil(lambda: panel.render_count >= 2 and not panel.busy, timeout=30000)
        panel.select_position(7, 0, 0)
        qtbot.wait(50)
        _click_detail(qtbot, panel, 2, 3)
        assert isinstance(window.value, OtherValue)
        assert window.summary.text().startswith("out[c=7, y=2, x=3] = max of the 2×2 window")
        assert window.details.isHidden()
        qtbot.wait(50)  # the layout follows the hidden details in the next event-loop pass
        # The sentence sits at the top, not in the middle of an empty window.
        assert window.summary.height() < window.height() // 3
        # An edit runs the network again: the window follows with the new numbers.
        smaller = design.replace_layer(design.index_of("1"), MaxPool2D(kernel=4, stride=4))
        panel.set_design(smaller)
        qtbot.waitUntil(lambda: panel.render_count >= 3 and not panel.busy, timeout=30000)
        assert isinstance(window.value, OtherValue)
        assert window.summary.text().startswith("out[c=7, y=2, x=3] = max of the 4×4 window")
        panel.set_design(
            smaller.replace_layer(smaller.index_of("1"), MaxPool2D(kernel=16, stride=16))
        )
        qtbot.waitUntil(lambda: panel.render_count >= 4 and not panel.busy, timeout=30000)
        assert _value(window) is None  # nothing stale is left on show
        assert "no longer exists: channel 7, row 2, col 3 is outside" in window.summary.text()
    finally:
        panel.shutdown()


def test_a_click_on_a_transposed_convolution_opens_its_taps(qtbot: QtBot) -> None:
    design = Design(
        InputSpec(12, 12, 3),
        nodes=(Node("up", ConvTranspose2D(filters=4, kernel=3, stride=2, padding=1)),),
    )
    panel = FeatureMapPanel(design)
    qtbot.addWidget(panel)
    panel.resize(900, 500)
    panel.show()
    try:
        panel.set_selected_node("up")
        assert panel.load_image_file(CHELSEA)
        qtbot.waitUntil(lambda: panel.render_count >= 1 and not panel.busy, timeout=30000)
        panel.select_position(2, 0, 0)
        qtbot.wait(50)
        _click_detail(qtbot, panel, 5, 6)
        window = _window(panel)
        assert window is not None
        value = window.value
        assert isinstance(value, ConvTransposeValue)
        assert (value.channel, value.y, value.x) == (2, 5, 6)
        assert abs(value.total - value.engine_value) <= 1e-5 * (1 + value.magnitude)
        # Row 5 = iy·2 - 1 + i: kernel rows 0 and 2 bring input rows 3 and 2, row 1 nothing.
        assert "kernel rows: 0 ← row 3, 2 ← row 2; 1 between input rows" in window.summary.text()
        details = window.details.toPlainText()
        assert "Grey cells are taps that bring nothing here" in details
        assert f"= {value.total:.6g} (the engine computed" in details
    finally:
        panel.shutdown()
