"""Qt's undo stack mirrors the document's history: same steps, merges, clean mark and index,
whichever side is driven (a shortcut or the History dock, or the document itself)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from convdesigner.core.design import Design
from convdesigner.core.document import Document
from convdesigner.core.layers import Conv2D, ReLU
from convdesigner.ui.main_window import MainWindow
from convdesigner.ui.undo import UndoStack
from tests.ui.ui_helpers import editor


def _conv(filters: int) -> Design:
    return Design(layers=(Conv2D(filters=filters), ReLU()))


def _same(stack: UndoStack, doc: Document) -> None:
    history = doc.history
    assert stack.count() == len(history)
    assert stack.index() == history.index
    assert stack.isClean() == doc.is_clean
    assert [stack.text(i) for i in range(stack.count())] == [s.text for s in history.steps]


def test_the_stack_follows_edits_merges_and_obsolete_steps(qapp: QApplication) -> None:
    doc = Document(_conv(1))
    stack = UndoStack(doc)
    doc.change("0", filters=2)
    doc.change("0", filters=3)  # merges
    _same(stack, doc)
    assert stack.count() == 1
    doc.change("0", filters=1)  # back where it started: no step at all
    _same(stack, doc)
    assert stack.count() == 0
    doc.apply(_conv(5), "five")
    doc.apply(_conv(6), "six")
    doc.undo()  # driven from the document
    _same(stack, doc)
    stack.undo()  # driven from Qt (a shortcut, the History dock)
    assert doc.design == _conv(1)
    _same(stack, doc)
    stack.setIndex(2)
    assert doc.design == _conv(6)
    _same(stack, doc)


def test_clean_mark_limit_and_reset(qapp: QApplication) -> None:
    doc = Document(_conv(1), limit=2)
    stack = UndoStack(doc)
    assert stack.undoLimit() == 2
    for n in (2, 3, 4):
        doc.apply(_conv(n), str(n))
    _same(stack, doc)
    assert stack.count() == 2
    stack.setClean()  # Qt's API marks the document
    assert doc.is_clean
    doc.undo()
    _same(stack, doc)
    assert not stack.isClean()
    doc.load(_conv(9), None)
    _same(stack, doc)
    assert stack.count() == 0


def test_the_history_dock_lists_the_documents_steps(window: MainWindow) -> None:
    window.select_layer(0)
    for value in (1, 12, 128):
        editor(window, "filters").setValue(value)
    window.insert_entry("relu", 1)
    model = window.history.model()
    assert model.rowCount() == 3  # "Opened design" + two steps
    assert model.index(1, 0).data() == "Change filters of Conv2D"
    assert model.index(2, 0).data() == "Insert ReLU"
    _same(window.undo_stack, window.document)
