"""Issue 13, "what was seen": the viewer follows appended layers, sizes read H×W, nothing stale,
limits said, numbers never cut off, panels that fit their contents."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from convdesigner.ui.main_window import MainWindow
from convdesigner.ui.viewer_dock import FeatureMapsController, install_feature_maps
from tests.ui.ui_helpers import drag_and_drop


@pytest.fixture
def viewer(qtbot: QtBot, window: MainWindow) -> Iterator[FeatureMapsController]:
    controller = install_feature_maps(window, lazy=True)
    controller.start()
    panel = controller.panel
    qtbot.waitUntil(lambda: panel.render_count >= 1 and not panel.busy, timeout=30000)
    yield controller
    controller.shutdown()


def _assert_viewer_shows_last(
    qtbot: QtBot, window: MainWindow, viewer: FeatureMapsController
) -> None:
    last = window.design.nodes[-1].id
    assert window.selected_node() == last
    panel = viewer.panel
    assert panel.selected_node == last
    qtbot.waitUntil(lambda: not panel.busy, timeout=30000)
    result = panel.result
    assert result is not None
    assert result.request.options.node == last


def test_viewer_follows_a_layer_dropped_below_the_last_card(
    qtbot: QtBot, window: MainWindow, viewer: FeatureMapsController
) -> None:
    view = window.pipeline
    rect = view.layer_rect(len(window.design) - 1)
    palette = window.palette_list
    data = palette.mimeData([palette.item_for_key("relu")])
    _, dropped = drag_and_drop(view.viewport(), data, QPoint(rect.center().x(), rect.bottom() + 20))
    assert dropped
    _assert_viewer_shows_last(qtbot, window, viewer)


def test_viewer_follows_a_layer_appended_from_the_palette_with_enter(
    qtbot: QtBot, window: MainWindow, viewer: FeatureMapsController
) -> None:
    window.select_layer(len(window.design) - 1)
    palette = window.palette_list
    palette.setFocus()
    palette.setCurrentItem(palette.item_for_key("relu"))
    qtbot.keyClick(palette, Qt.Key.Key_Return)
    _assert_viewer_shows_last(qtbot, window, viewer)


def test_image_size_prompt_says_height_by_width(
    window: MainWindow, viewer: FeatureMapsController
) -> None:
    controller = viewer
    spec = window.design.input
    assert (spec.height, spec.width) == (25, 64)
    question, resize, adopt = controller.fit_texts("cat.png", (170, 256))
    assert question.startswith("cat.png is 170×256 pixels (H×W)")
    assert "input is 25×64" in question
    assert resize == "Resize to 25×64"
    assert adopt == "Set Input to 170×256"
