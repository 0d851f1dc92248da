"""The window with a FIFO for a design (File → Open, drop, Open Recent) and with control
characters pasted into names (issue 12, items 4 and 9): a message, never a freeze or an
exception, and the field always shows what the design holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QUrl
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox

from convdesigner.core.templates import load_template
from convdesigner.ui.main_window import MainWindow
from convdesigner.ui.settings import add_recent_file
from tests.special_files import guarded_fifo
from tests.ui.ui_helpers import drag_and_drop, editor, layer

FIFO_MESSAGE = "is a named pipe (FIFO), not a design file"


def _warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    return shown


def test_file_open_on_a_fifo_warns_and_keeps_the_design(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = _warnings(monkeypatch)
    with guarded_fifo(tmp_path / "pipe.json") as fifo:
        monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(fifo.path), ""))
        assert window.open_dialog() is False
        assert not fifo.rescued, "the window blocked on the FIFO"
    assert len(shown) == 1
    assert FIFO_MESSAGE in shown[0]
    assert window.design == load_template("qa-example")


def test_dropping_a_fifo_warns(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = _warnings(monkeypatch)
    with guarded_fifo(tmp_path / "dropped.json") as fifo:
        data = QMimeData()
        data.setUrls([QUrl.fromLocalFile(str(fifo.path))])
        accepted, dropped = drag_and_drop(window, data, QPoint(10, 10))
        assert accepted
        assert dropped
        assert not fifo.rescued, "the window blocked on the FIFO"
    assert len(shown) == 1
    assert FIFO_MESSAGE in shown[0]


def test_open_recent_on_what_became_a_fifo_warns(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = _warnings(monkeypatch)
    with guarded_fifo(tmp_path / "recent.json") as fifo:
        add_recent_file(str(fifo.path))
        window._fill_recent()
        action = next(a for a in window.recent_menu.actions() if a.text() == "&1 recent.json")
        action.trigger()
        assert not fifo.rescued, "the window blocked on the FIFO"
    assert len(shown) == 1
    assert FIFO_MESSAGE in shown[0]


def _paste(field: QLineEdit, text: str) -> None:
    """What a user does with text copied from elsewhere: select all, paste."""
    QApplication.clipboard().setText(text)
    field.selectAll()
    field.paste()


@pytest.mark.parametrize("char", ["\t", "\n", "\r", "\x1b", "\x00", "\x7f"])
def test_a_control_character_pasted_into_the_design_name_is_refused(
    window: MainWindow, char: str
) -> None:
    window.select_layer(None)
    field = editor(window, "design_name")
    before, count = window.design.name, window.undo_stack.count()
    _paste(field, f"my{char}net")
    assert window.design.name == before
    assert window.undo_stack.count() == count
    assert field.text() == before  # the field reverts to what the design holds
    assert "one line of text" in window.properties.feedback_text
    _paste(field, "my net")  # a good name afterwards is taken and clears the message
    assert window.design.name == "my net"
    assert window.properties.feedback_text == ""


def test_a_control_character_pasted_into_a_layer_name_is_refused(window: MainWindow) -> None:
    window.select_layer(1)
    field = editor(window, "name")
    before = layer(window, 1).name
    _paste(field, "pool\x1b[2J")
    assert layer(window, 1).name == before
    assert field.text() == before
    assert "one line of text" in window.properties.feedback_text


def test_half_a_surrogate_pair_never_reaches_a_name(window: MainWindow) -> None:
    """The loader refuses "\\ud800" (item 10); in the window, Qt's strings cannot carry one to
    Python at all, so whatever is pasted or emitted, the design stays savable."""
    window.select_layer(None)
    field = editor(window, "design_name")
    field.textEdited.emit("a\ud800b")
    _paste(field, "c\udc00d")
    assert window.design.name == "cd"
    window.design.name.encode("utf-8")
