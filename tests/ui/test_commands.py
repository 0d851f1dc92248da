"""Undo commands on a bare QUndoStack: no widgets involved (glue-style testable commands)."""

from __future__ import annotations

from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication

from convdesigner.core.design import Design
from convdesigner.core.layers import Conv2D, ReLU
from convdesigner.ui.commands import DocState, ReplaceDesignCommand


class Document:
    def __init__(self, design: Design) -> None:
        self.state = DocState(design)
        self.applied = 0

    def apply(self, state: DocState) -> None:
        self.state = state
        self.applied += 1

    def edit(self, stack: QUndoStack, design: Design, key: object = None) -> None:
        stack.push(ReplaceDesignCommand("edit", self.state, DocState(design), self.apply, key))


def _conv(filters: int) -> Design:
    return Design(layers=(Conv2D(filters=filters), ReLU()))


def test_push_undo_redo_restore_exact_states(qapp: QApplication) -> None:
    stack = QUndoStack()
    doc = Document(_conv(1))
    doc.edit(stack, _conv(2))
    doc.edit(stack, _conv(3).remove(1))
    assert doc.state.design == Design(layers=(Conv2D(filters=3),))
    stack.undo()
    assert doc.state.design == _conv(2)
    stack.undo()
    assert doc.state.design == _conv(1)
    stack.redo()
    stack.redo()
    assert doc.state.design == Design(layers=(Conv2D(filters=3),))


def test_steps_of_one_control_merge(qapp: QApplication) -> None:
    stack = QUndoStack()
    doc = Document(_conv(1))
    for n in (2, 3, 4, 5):
        doc.edit(stack, _conv(n), key=("layer", 0, "filters"))
    assert stack.count() == 1
    doc.edit(stack, _conv(6), key=("layer", 0, "kernel"))
    assert stack.count() == 2
    doc.edit(stack, _conv(7))  # no key: never merges
    doc.edit(stack, _conv(8))
    assert stack.count() == 4
    stack.undo()
    stack.undo()
    stack.undo()
    assert doc.state.design == _conv(5)
    stack.undo()
    assert doc.state.design == _conv(1)


def test_stepping_back_to_the_start_leaves_no_command(qapp: QApplication) -> None:
    stack = QUndoStack()
    doc = Document(_conv(4))
    doc.edit(stack, _conv(5), key="filters")
    doc.edit(stack, _conv(4), key="filters")
    assert stack.count() == 0
    assert doc.state.design == _conv(4)
