"""Drag and drop with real Qt drag events: palette → pipeline, reordering, files onto the window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QRect, Qt, QUrl
from pytestqt.qtbot import QtBot

from convdesigner.core.fileformat import save_design
from convdesigner.core.layers import Conv2D, Dense, MaxPool2D
from convdesigner.ui.catalog import BY_KEY
from convdesigner.ui.main_window import MainWindow
from convdesigner.ui.pipeline_view import PipelineView
from tests.ui.ui_helpers import drag_and_drop


def _palette_data(window: MainWindow, key: str) -> QMimeData:
    """The palette's own drag payload for entry ``key`` (what QDrag would carry)."""
    palette = window.palette_list
    return palette.mimeData([palette.item_for_key(key)])


def _upper(rect: QRect) -> QPoint:
    return QPoint(rect.center().x(), rect.top() + 3)


def _lower(rect: QRect) -> QPoint:
    return QPoint(rect.center().x(), rect.bottom() - 3)


def test_palette_drop_inserts_that_layer_at_the_drop_position(window: MainWindow) -> None:
    before = window.design
    view = window.pipeline
    # The upper half of layer 1's card means "insert before layer 1".
    pos = _upper(view.layer_rect(1))
    accepted, dropped = drag_and_drop(view.viewport(), _palette_data(window, "dense"), pos)
    assert accepted
    assert dropped
    assert len(window.design.layers) == len(before.layers) + 1
    assert window.design.layers[1] == Dense(units=10)
    assert window.design.layers[:1] + window.design.layers[2:] == before.layers
    assert window.selected_layer() == 1
    assert window.table_model.index(2, 2).data() == "dense"


def _gap(view: PipelineView) -> int | None:
    """Read afresh each time (a type checker would keep the value it narrowed before)."""
    return view.drop_gap


def test_drop_below_a_card_inserts_after_it_and_indicator_follows(window: MainWindow) -> None:
    view = window.pipeline
    pos = _lower(view.layer_rect(2))
    accepted, _ = drag_and_drop(
        view.viewport(), _palette_data(window, "maxpool2d"), pos, drop=False
    )
    assert accepted
    assert _gap(view) == 3  # indicator below the last card
    _, dropped = drag_and_drop(view.viewport(), _palette_data(window, "maxpool2d"), pos)
    assert dropped
    assert _gap(view) is None
    assert window.design.layers[3] == MaxPool2D(kernel=(2, 2))


def test_drop_on_the_input_card_inserts_first(window: MainWindow) -> None:
    view = window.pipeline
    drag_and_drop(view.viewport(), _palette_data(window, "conv1x1"), _lower(view.layer_rect(None)))
    assert window.design.layers[0] == Conv2D(filters=64, kernel=(1, 1))


def test_depthwise_entry_takes_the_channels_reaching_the_drop_point(window: MainWindow) -> None:
    view = window.pipeline
    # After layer 0 (100 filters) the map has 100 channels.
    drag_and_drop(view.viewport(), _palette_data(window, "depthwise"), _lower(view.layer_rect(0)))
    layer = window.design.layers[1]
    assert isinstance(layer, Conv2D)
    assert (layer.groups, layer.filters) == (100, 100)
    assert window.analysis.row_for_layer(1).ok


def test_every_palette_entry_can_be_dropped(window: MainWindow) -> None:
    view = window.pipeline
    for key in window.palette_list.entry_keys():
        n = len(window.design.layers)
        pos = _lower(view.layer_rect(n - 1))
        drag_and_drop(view.viewport(), _palette_data(window, key), pos)
        assert len(window.design.layers) == n + 1, key
        assert window.design.layers[n].type_name == BY_KEY[key].make(3).type_name


def test_reorder_by_drag(window: MainWindow) -> None:
    before = window.design
    view = window.pipeline
    data = view.move_mime("0")
    pos = _lower(view.layer_rect(2))  # below the last card
    accepted, dropped = drag_and_drop(view.viewport(), data, pos, Qt.DropAction.MoveAction)
    assert accepted
    assert dropped
    assert window.design.layers == (before.layers[1], before.layers[2], before.layers[0])
    assert window.selected_layer() == 2
    window.undo_stack.undo()
    assert window.design == before


def test_reorder_upwards_and_onto_itself(window: MainWindow) -> None:
    before = window.design
    view = window.pipeline
    drag_and_drop(
        view.viewport(), view.move_mime("2"), _upper(view.layer_rect(1)), Qt.DropAction.MoveAction
    )
    assert window.design.layers == (before.layers[0], before.layers[2], before.layers[1])
    count = window.undo_stack.count()
    # Dropping a card right where it is changes nothing and adds no undo step.
    drag_and_drop(
        view.viewport(), view.move_mime("1"), _upper(view.layer_rect(1)), Qt.DropAction.MoveAction
    )
    assert window.undo_stack.count() == count


def test_layer_drag_from_another_window_is_refused(window: MainWindow, qtbot: QtBot) -> None:
    from convdesigner.ui.main_window import MainWindow

    other = MainWindow()
    qtbot.addWidget(other)
    before = window.design
    data = other.pipeline.move_mime("0")
    accepted, dropped = drag_and_drop(
        window.pipeline.viewport(), data, _lower(window.pipeline.layer_rect(2))
    )
    assert not accepted
    assert not dropped
    assert window.design == before


def test_foreign_text_is_refused(window: MainWindow) -> None:
    data = QMimeData()
    data.setText("conv2d")
    accepted, _ = drag_and_drop(window.pipeline.viewport(), data, QPoint(20, 20))
    assert not accepted


def _urls(*paths: Path) -> QMimeData:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return data


def test_dropping_a_design_file_opens_it(window: MainWindow, tmp_path: Path) -> None:
    design = window.design.append(Dense(units=3)).with_name("Dropped")
    path = tmp_path / "dropped.json"
    save_design(design, path)
    accepted, dropped = drag_and_drop(window.pipeline.viewport(), _urls(path), QPoint(30, 30))
    assert accepted
    assert dropped
    assert window.design == design
    assert window.path == str(path)


def test_dropping_an_image_emits_the_signal(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(b"not really a png; the viewer reads it")
    before = window.design
    with qtbot.waitSignal(window.imageFileDropped, timeout=1000) as blocker:
        drag_and_drop(window.table.viewport(), _urls(image), QPoint(10, 10))
    assert blocker.args == [str(image)]
    assert window.design == before


def test_unsupported_files_are_refused(window: MainWindow, tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    accepted, _ = drag_and_drop(window.pipeline.viewport(), _urls(other), QPoint(30, 30))
    assert not accepted
