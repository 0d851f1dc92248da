"""Qt's undo stack as a mirror of the document's history (the rules live in core/history.py).

Kept only for what Qt gives with it: the Undo/Redo actions with their standard shortcuts and
texts, and the History dock (``QUndoView``). Every document step is pushed here as a command that
does nothing, pushed or undone; when the stack's index moves (a shortcut, a click in the History
dock, however many steps back) the document goes to that index in one change, and the document's
own undo, merge and clean mark are copied back.
"""

from __future__ import annotations

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
        # Undo, redo and clicks in the History list move the index (a click: across many
        # commands, undoing each); the document then moves once, to the same index.
        self.indexChanged.connect(self._index_moved)

    def setClean(self) -> None:
        self.document.mark_clean()

    def _index_moved(self, index: int) -> None:
        if self.following:  # copying the document's own change
            return
        self.following = True
        try:
            self.document.go_to(index)
        finally:
            self.following = False

    def _follow(self, change: Change) -> None:
        if self.following:
            return
        self.following = True
        try:
            kind = change.kind
            if kind in (ChangeKind.EDIT, ChangeKind.MERGED, ChangeKind.OBSOLETE):
                assert change.step is not None
                self.push(_Step(self, change.step.text, kind))
                if self.count() != len(self.document.history):
                    self._rebuild()
            elif kind in (ChangeKind.UNDO, ChangeKind.REDO):
                self.setIndex(self.document.history.index)  # one step or many (go_to)
            elif kind is ChangeKind.RESET:
                self.clear()
            elif kind is ChangeKind.CLEAN:
                # A recovered copy has no clean state at all (Document.restore).
                if self.document.is_clean:
                    super().setClean()
                else:
                    self.resetClean()
        finally:
            self.following = False

    def _rebuild(self) -> None:
        """Copy the whole history again: it forgot its oldest steps to stay within its memory
        budget (a tenth of it at a time), which a QUndoStack cannot do (it drops commands only
        by its step limit, fixed while it holds any)."""
        history = self.document.history
        # Signals blocked: the History list resets its model on every index change, which
        # made a rebuild of 375 steps take half a second; it is told once at the end.
        self.blockSignals(True)
        try:
            self.clear()
            for i, step in enumerate(history.steps):
                if history.clean_index == i:
                    super().setClean()
                self.push(_Step(self, step.text, ChangeKind.EDIT))
            if history.clean_index == len(history.steps):
                super().setClean()
            elif history.clean_index is None:
                self.resetClean()
            self.setIndex(history.index)
        finally:
            self.blockSignals(False)
        self.indexChanged.emit(self.index())
        self.cleanChanged.emit(self.isClean())
        self.canUndoChanged.emit(self.canUndo())
        self.canRedoChanged.emit(self.canRedo())
        self.undoTextChanged.emit(self.undoText())
        self.redoTextChanged.emit(self.redoText())


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

    # undo() and redo() do nothing: the stack's indexChanged moves the document (see above).
