"""Issue 13, "what was seen": the viewer follows appended layers, sizes read H×W, nothing stale,
limits said, numbers never cut off, panels that fit their contents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from convdesigner.core.design import MAX_INPUT_SIDE
from convdesigner.ui.main_window import MainWindow
from convdesigner.ui.viewer_dock import FeatureMapsController, install_feature_maps
from tests.ui.ui_helpers import drag_and_drop, editor, layer


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


def _press(qtbot: QtBot, widget: QWidget, shortcut: QKeySequence) -> None:
    """Press the first key combination of ``shortcut`` (the platform's own), as a user would."""
    combo = cast(Any, shortcut)[0]  # QKeyCombination; the stubs lack QKeySequence.__getitem__
    qtbot.keyClick(widget, combo.key(), combo.keyboardModifiers())


def test_undo_in_a_number_field_undoes_the_document_repeatedly(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.select_layer(0)
    box = editor(window, "filters")
    original = window.design
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    box.setValue(64)
    editor(window, "dilation").height_box.setValue(2)  # another field: another undo step
    box.setValue(32)
    assert window.undo_stack.count() == 3
    for filters, dilation in ((64, 2), (64, 1), (100, 1)):
        _press(qtbot, box, window.action_undo.shortcut())
        conv = layer(window, 0)
        assert (conv.filters, conv.dilation[0]) == (filters, dilation)
        assert box.value() == filters
        assert window.action_redo.isEnabled()
    assert window.design == original
    _press(qtbot, box, window.action_redo.shortcut())
    assert layer(window, 0).filters == 64
    assert box.hasFocus()


def test_a_value_past_the_limit_says_the_limit(qtbot: QtBot, window: MainWindow) -> None:
    window.select_layer(None)
    box = editor(window, "height")
    assert f"to {MAX_INPUT_SIDE:,}" in box.toolTip()
    box.setFocus()
    box.selectAll()
    typed = str(MAX_INPUT_SIDE * 2)
    qtbot.keyClicks(box, typed)
    assert box.value() == int(typed[:-1])  # the last digit was refused...
    message = window.statusBar().currentMessage()
    assert f"{int(typed):,} is more than the limit" in message  # ...and the user is told why
    assert f"to {MAX_INPUT_SIDE:,}" in message
