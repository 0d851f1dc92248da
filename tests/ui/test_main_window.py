"""The main window's public API, files, undo/redo and the unsaved-changes prompts."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from convdesigner.core.fileformat import load_design, save_design
from convdesigner.core.layers import Dense, ReLU
from convdesigner.core.templates import load_template
from convdesigner.ui.main_window import MainWindow
from convdesigner.ui.settings import recent_files
from tests.ui.ui_helpers import editor, explained, layer

Button = QMessageBox.StandardButton


def test_starts_with_the_qa_example(window: MainWindow) -> None:
    assert window.design == load_template("qa-example")
    assert window.path is None
    assert not window.isWindowModified()
    assert window.analysis.design is window.design
    assert window.analysis is window.analysis  # cached per design
    assert window.selected_layer() is None


def test_signals_on_edit_undo_and_selection(window: MainWindow, qtbot: QtBot) -> None:
    designs: list[object] = []
    selections: list[object] = []
    window.designChanged.connect(designs.append)
    window.selectedNodeChanged.connect(selections.append)
    window.select_layer(1)
    window.select_layer(1)  # no change, no signal
    window.apply_design(window.design.append(ReLU()), "Add ReLU")
    window.undo_stack.undo()
    window.undo_stack.redo()
    assert len(designs) == 3
    assert designs[-1] == window.design
    assert designs[1] == load_template("qa-example")
    assert selections == ["1"]  # node ids (here the positions: a sequential design)
    window.select_layer(None)
    assert selections == ["1", None]
    with pytest.raises(IndexError):
        window.select_layer(10)


def test_pipeline_and_table_selection_stay_in_sync(window: MainWindow) -> None:
    window.pipeline.setCurrentIndex(window.pipeline_model.index(2, 0))
    assert window.selected_layer() == 1
    assert window.table.currentIndex().row() == 2
    window.table.setCurrentIndex(window.table_model.index(3, 4))
    assert window.selected_layer() == 2
    assert window.pipeline.currentIndex().row() == 3


def test_undo_and_redo_restore_the_exact_designs(window: MainWindow) -> None:
    history = [window.design]
    window.insert_entry("relu", 1)
    history.append(window.design)
    window.select_layer(0)
    editor(window, "filters").setValue(12)
    history.append(window.design)
    window.select_layer(3)
    window.move_selected(-1)
    history.append(window.design)
    window.duplicate_selected()
    history.append(window.design)
    window.remove_selected()
    history.append(window.design)
    window.apply_design(
        window.design.with_input(window.design.input.__class__(32, 32, 3)), "Input from image"
    )
    history.append(window.design)
    assert len(set(map(id, history))) == len(history)
    for expected in reversed(history[:-1]):
        window.undo_stack.undo()
        assert window.design == expected
    assert not window.isWindowModified()
    for expected in history[1:]:
        window.undo_stack.redo()
        assert window.design == expected
    assert window.isWindowModified()


def test_keyboard_path_insert_delete_duplicate_move(window: MainWindow, qtbot: QtBot) -> None:
    original = window.design
    window.select_layer(0)
    palette = window.palette_list
    palette.setCurrentItem(palette.item_for_key("relu"))
    palette.setFocus()
    qtbot.keyClick(palette, Qt.Key.Key_Return)
    assert window.design.layers[1] == ReLU()
    assert window.selected_layer() == 1
    window.pipeline.setFocus()
    qtbot.keyClick(window.pipeline, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert window.design.layers[2] == ReLU()
    assert window.selected_layer() == 2
    qtbot.keyClick(window.pipeline, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert window.selected_layer() == 1
    qtbot.keyClick(window.pipeline, Qt.Key.Key_Delete)
    qtbot.keyClick(window.pipeline, Qt.Key.Key_Delete)
    assert window.design == original
    assert window.undo_stack.count() == 5


def test_double_click_on_palette_inserts_after_selection(window: MainWindow, qtbot: QtBot) -> None:
    window.select_layer(2)
    item = window.palette_list.item_for_key("flatten")
    window.palette_list.itemDoubleClicked.emit(item)
    assert layer(window, 3).type_name == "flatten"


def test_title_shows_unsaved_changes(window: MainWindow) -> None:
    assert "[*]" in window.windowTitle()
    assert not window.isWindowModified()
    window.apply_design(window.design.append(ReLU()), "Add ReLU")
    assert window.isWindowModified()
    window.undo_stack.undo()
    assert not window.isWindowModified()


def test_save_as_and_save(window: MainWindow, tmp_path: Path) -> None:
    window.apply_design(window.design.append(Dense(units=5)), "Add dense")
    path = tmp_path / "mine.json"
    assert window.save_design_as(str(path))
    assert load_design(path) == window.design
    assert not window.isWindowModified()
    assert window.path == str(path)
    assert "mine.json" in window.windowTitle()
    assert recent_files()[0] == str(path.resolve())
    window.apply_design(window.design.append(ReLU()), "Add ReLU")
    assert window.save()
    assert load_design(path) == window.design
    # Undoing an edit made before "Save As" does not switch back to the old file.
    window.undo_stack.undo()
    assert window.path == str(path)


def test_save_failure_keeps_state(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    window.apply_design(window.design.append(ReLU()), "Add ReLU")
    assert not window.save_design_as(str(tmp_path / "no-such-folder" / "x.json"))
    assert warnings
    assert "Could not save" in warnings[0]
    assert window.isWindowModified()
    assert window.path is None


def test_open_malformed_file_changes_nothing(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.apply_design(window.design.append(ReLU()), "Add ReLU")
    before, count = window.design, window.undo_stack.count()
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"format": "convdesigner-design", "version": 1, '
        '"input": {"height": 8, "width": 8, "channels": 1}, '
        '"layers": [{"type": "conv2d", "kernel": -3}]}'
    )
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a: Button.Discard)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    assert window.open_design(str(bad)) is False
    assert len(shown) == 1
    assert "layers[0].kernel" in shown[0]
    assert "bad.json" in shown[0]
    assert window.design == before
    assert window.undo_stack.count() == count
    assert window.isWindowModified()
    assert window.path is None


def test_open_not_json_and_missing_file(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    junk = tmp_path / "junk.json"
    junk.write_text("{ not json")
    assert not window.open_design(str(junk))
    assert not window.open_design(str(tmp_path / "missing.json"))
    assert "not valid JSON" in shown[0]
    assert "no such file" in shown[1]
    assert window.design == load_template("qa-example")


def test_open_valid_file_clears_history(window: MainWindow, tmp_path: Path) -> None:
    window.insert_entry("relu", 0)
    window.undo_stack.setClean()  # pretend it was saved, so no prompt
    other = load_template("lenet5")
    path = tmp_path / "lenet.json"
    save_design(other, path)
    assert window.open_design(str(path))
    assert window.design == other
    assert window.undo_stack.count() == 0
    assert not window.isWindowModified()
    assert window.path == str(path)


@pytest.mark.parametrize(
    ("answer", "closes", "saved"),
    [(Button.Cancel, False, False), (Button.Discard, True, False), (Button.Save, True, True)],
)
def test_closing_with_unsaved_changes_asks(
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    answer: QMessageBox.StandardButton,
    closes: bool,
    saved: bool,
) -> None:
    path = tmp_path / "d.json"
    save_design(load_template("qa-example"), path)
    win = MainWindow(load_design(path), str(path))
    win.show()
    win.apply_design(win.design.append(ReLU()), "Add ReLU")
    asked: list[str] = []

    def question(
        parent: object, title: str, text: str, buttons: object, default: object
    ) -> QMessageBox.StandardButton:
        asked.append(text)
        assert buttons == Button.Save | Button.Discard | Button.Cancel
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    assert win.close() is closes
    assert len(asked) == 1
    assert "d.json" in asked[0]
    assert (load_design(path) == win.design) is saved
    if not closes:
        win.undo_stack.setClean()
        win.close()
    win.deleteLater()


def test_closing_unmodified_does_not_ask(qtbot: QtBot) -> None:
    win = MainWindow()
    win.show()
    assert win.close()  # the autouse fixture fails the test if a message box appears


def test_opening_another_file_asks_and_cancel_keeps_everything(
    window: MainWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window.apply_design(window.design.append(ReLU()), "Add ReLU")
    before = window.design
    path = tmp_path / "other.json"
    save_design(load_template("lenet5"), path)
    monkeypatch.setattr(QMessageBox, "question", lambda *a: Button.Cancel)
    assert not window.open_design(str(path))
    assert window.design == before


def test_new_from_template_is_undoable(window: MainWindow) -> None:
    original = window.design
    titles = [a.text() for a in window.new_menu.actions()]
    assert titles[:3] == ["&Empty Design", "From a template", "Q&A example"]
    assert len(titles) >= 5
    assert window.new_from_template("vgg16")
    vgg = load_template("vgg16")
    assert window.design.nodes == vgg.nodes
    assert window.design.input == vgg.input
    assert window.path is None
    assert not window.isWindowModified()
    window.undo_stack.undo()
    assert window.design == original


def test_recent_files_menu(window: MainWindow, tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    save_design(load_template("lenet5"), first)
    save_design(load_template("alexnet"), second)
    assert window.open_design(str(first))
    assert window.open_design(str(second))
    window._fill_recent()
    actions = [a for a in window.recent_menu.actions() if a.text().startswith("&")]
    assert [a.text() for a in actions] == ["&1 b.json", "&2 a.json"]
    actions[1].trigger()
    assert window.design == load_template("lenet5")


def test_open_recent_comes_alive_once_a_file_is_opened(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    """A first run has no recent files, so Open Recent starts disabled; the file opened then
    must be there the next time the File menu opens, not only after a restart."""
    assert recent_files() == []
    assert not window.recent_menu.isEnabled()
    path = tmp_path / "a.json"
    save_design(load_template("lenet5"), path)
    assert window.open_design(str(path))
    window.show()
    window.file_menu.popup(window.mapToGlobal(window.rect().topLeft()))
    qtbot.waitUntil(window.file_menu.isVisible)
    assert window.recent_menu.isEnabled()
    assert window.recent_menu.actions()[0].text() == "&1 a.json"
    window.file_menu.close()


def test_add_dock_and_view_menu(window: MainWindow) -> None:
    names = {d.objectName() for d in window.docks()}
    assert names == {
        "paletteDock", "propertiesDock", "explainDock", "tableDock", "historyDock",
        "weightsDock", "costChartDock",
    }  # fmt: skip
    dock = QDockWidget("Feature Maps")
    dock.setObjectName("featureMapsDock")
    dock.setWidget(QLabel("maps"))
    window.add_dock(dock, Qt.DockWidgetArea.RightDockWidgetArea)
    view_actions = window.view_menu.actions()
    for d in window.docks():
        assert d.toggleViewAction() in view_actions
    assert window.dockWidgetArea(dock) == Qt.DockWidgetArea.RightDockWidgetArea
    unnamed = QDockWidget("x")
    with pytest.raises(ValueError, match="objectName"):
        window.add_dock(unnamed, Qt.DockWidgetArea.LeftDockWidgetArea)
    assert {m.title() for m in (window.file_menu, window.view_menu, window.help_menu)} == {
        "&File",
        "&View",
        "&Help",
    }


def test_layout_is_restored_between_runs(qtbot: QtBot) -> None:
    win = MainWindow()
    win.show()
    win.explain_dock.hide()
    win.resize(700, 500)  # fits the offscreen screen, which restoreGeometry clamps to
    assert win.close()
    again = MainWindow()
    again.show()
    qtbot.addWidget(again)
    assert again.explain_dock.isHidden()
    assert again.size().width() == 700


def test_about_box_names_version_and_licences(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    from convdesigner import __version__

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    window.action_about.trigger()
    for needle in (__version__, "LGPL", "pyqtgraph: MIT", "NumPy: BSD", "CC0"):
        assert needle in shown[0]


def test_status_bar_totals_follow_edits(window: MainWindow) -> None:
    assert "Params 380,150" in window.totals_label.text()
    window.insert_entry("dense", 3)
    assert "error" in window.error_label.text()
    assert "Flatten" in window.error_label.text()


def test_call_after_first_paint(qtbot: QtBot) -> None:
    win = MainWindow()
    qtbot.addWidget(win)
    calls: list[str] = []
    win.call_after_first_paint(lambda: calls.append("early"))
    qtbot.wait(20)
    assert calls == []  # not shown, not painted
    win.show()
    qtbot.waitUntil(lambda: calls == ["early"], timeout=2000)
    win.call_after_first_paint(lambda: calls.append("late"))
    qtbot.waitUntil(lambda: calls == ["early", "late"], timeout=1000)


def test_reset_layout_puts_every_dock_back(window: MainWindow) -> None:
    dock = QDockWidget("Extra")
    dock.setObjectName("extraDock")
    dock.setWidget(QLabel("extra"))
    window.add_dock(dock, Qt.DockWidgetArea.BottomDockWidgetArea)
    window.palette_dock.setFloating(True)
    window.explain_dock.close()
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    resets: list[bool] = []
    window.layoutReset.connect(lambda: resets.append(True))
    window.reset_layout()
    assert resets == [True]
    assert not window.palette_dock.isFloating()
    assert window.explain_dock.isVisible()
    assert window.dockWidgetArea(window.palette_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea


def test_totals_line_explains_the_sums(window: MainWindow, qtbot: QtBot) -> None:
    window.table.setCurrentIndex(window.table_model.index(4, 9))  # totals, Params
    text = explained(qtbot, window).toPlainText()
    assert "5,000 + 375,150 = 380,150" in text
    assert "7,840,000 + 156,000,000 = 163,840,000" in text
    assert "1 MAC = 2 FLOPs" in text


def test_history_panel_jumps_back_to_any_step(window: MainWindow) -> None:
    original = window.design
    window.insert_entry("relu", 1)
    after_relu = window.design
    window.insert_entry("dense", 4)
    history = window.history
    assert history.model().rowCount() == 3  # "Opened design" + two edits
    assert history.model().index(1, 0).data() == "Insert ReLU"
    history.setCurrentIndex(history.model().index(1, 0))
    assert window.design == after_relu
    history.setCurrentIndex(history.model().index(0, 0))
    assert window.design == original


def test_enter_on_a_card_starts_editing_it(window: MainWindow, qtbot: QtBot) -> None:
    window.select_layer(2)
    window.pipeline.setFocus()
    qtbot.keyClick(window.pipeline, Qt.Key.Key_Return)
    filters = editor(window, "filters")
    assert filters.hasFocus()
    qtbot.keyClicks(filters, "64")
    assert layer(window, 2).filters == 64


def test_hidden_explain_panel_catches_up_when_shown(window: MainWindow, qtbot: QtBot) -> None:
    window.history_dock.raise_()  # Explain is now behind the History tab
    qtbot.waitUntil(lambda: window.explain.visibleRegion().isEmpty(), timeout=1000)
    window.select_layer(2)
    assert "Layer 2" not in window.explain.toPlainText()  # not rendered while out of sight
    window.explain_dock.raise_()
    qtbot.waitUntil(lambda: "Layer 2" in window.explain.toPlainText(), timeout=1000)
