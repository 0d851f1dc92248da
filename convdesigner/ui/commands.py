"""Undo commands: every edit replaces the whole (immutable) design.

Following glue's command pattern, a command only holds the state before and after and a callback
that installs a state; it never touches a widget. That keeps undo exact (the old design *is* the
restored value, compared with ``==`` in tests) and testable with a plain ``QUndoStack``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from PySide6.QtGui import QUndoCommand

from convdesigner.core.design import Design


@dataclass(frozen=True)
class DocState:
    """What an edit changes: the design, the file it belongs to, and which layer is selected."""

    design: Design
    selection: int | None = None
    path: str | None = None
    sets_path: bool = False
    """Only loads (templates) change the file; a plain edit's undo must not undo a Save As."""


Apply = Callable[[DocState], None]

_MERGE_ID = 0x436F6E76  # any constant: QUndoStack only merges commands with equal ids


class ReplaceDesignCommand(QUndoCommand):
    """Replace the document state; optionally merge with the previous command of the same key.

    ``merge_key`` identifies a single control (e.g. ``("layer", 3, "filters")``): consecutive
    spin-box steps on it collapse into one undo step, as users expect from text editors.
    """

    def __init__(
        self,
        text: str,
        before: DocState,
        after: DocState,
        apply: Apply,
        merge_key: Hashable | None = None,
    ) -> None:
        super().__init__(text)
        self.before = before
        self.after = after
        self._apply = apply
        self.merge_key = merge_key

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)

    def id(self) -> int:
        return _MERGE_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, ReplaceDesignCommand) or other.merge_key != self.merge_key:
            return False
        if other.before.design != self.after.design:
            return False
        self.after = other.after
        # A spin box stepped back to where it started is no change at all.
        self.setObsolete(self.after.design == self.before.design)
        return True
