"""Qt's undo stack as a mirror of the document's history (the rules live in core/history.py).

Kept only for what Qt gives with it: the Undo/Redo actions with their standard shortcuts and
texts, and the History dock (``QUndoView``). Every document step is pushed here as a command that
does nothing when pushed; undoing or redoing it (a shortcut, a click in the History dock) asks
the document, and the document's own undo, merge and clean mark are copied back.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QUndoCommand, QUndoStack

from convdesigner.core.document import Change, ChangeKind, Document

_MERGE_ID = 0x436F6E76  # any constant: QUndoStack asks every command whether it merges


class UndoStack(QUndoStack):
    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setUndoLimit(document.history.limit)
        self.document = document
        self.following = False
        """True while copying a document change here: the commands must not act on it."""
        document.subscribe(self._follow)

    def setClean(self) -> None:
        self.document.mark_clean()

    def _follow(self, change: Change) -> None:
        if self.following:
            return
        self.following = True
        try:
            kind = change.kind
            if kind in (ChangeKind.EDIT, ChangeKind.MERGED, ChangeKind.OBSOLETE):
                assert change.step is not None
                self.push(_Step(self, change.step.text, kind))
            elif kind is ChangeKind.UNDO:
                self.undo()
            elif kind is ChangeKind.REDO:
                self.redo()
            elif kind is ChangeKind.RESET:
                self.clear()
            elif kind is ChangeKind.CLEAN:
                super().setClean()
        finally:
            self.following = False


class _Step(QUndoCommand):
    def __init__(self, stack: UndoStack, text: str, kind: ChangeKind) -> None:
        super().__init__(text)
        self._stack = stack
        self._kind = kind

    def id(self) -> int:
        return _MERGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        # The document already decided; QUndoStack only asks when its own rule allows a merge,
        # which is the same rule.
        kind = other._kind if isinstance(other, _Step) else ChangeKind.EDIT
        if kind is ChangeKind.OBSOLETE:
            self.setObsolete(True)
        return kind is not ChangeKind.EDIT

    def undo(self) -> None:
        self._ask(self._stack.document.undo)

    def redo(self) -> None:
        self._ask(self._stack.document.redo)

    def _ask(self, action: Callable[[], bool]) -> None:
        stack = self._stack
        if stack.following:  # pushed or replayed from the document: it is done already
            return
        stack.following = True
        try:
            action()
        finally:
            stack.following = False
