"""Undo history by snapshots: each step holds the document state before and after it.

Designs are immutable, so a snapshot is just a reference, and the snapshots of consecutive steps
share every node an edit did not touch. The rules are QUndoStack's (the window mirrors this
history into one, for the standard actions and the History dock): a new step drops what could be
redone; consecutive steps of one control merge unless the document was saved between them; a
merged step that comes back to where it started disappears; beyond the limit the oldest steps are
forgotten; the clean mark is the step at which the document matches its file.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from enum import StrEnum

from convdesigner.core.design import Design

MAX_HISTORY = 1000
"""Undo steps kept; the oldest are forgotten beyond this. Snapshots share unchanged nodes, so a
step costs little more than the nodes it changed, but a long session of spin-box edits on a
500-node design must not grow without bound (1,000 steps of such a design is tens of MB)."""


@dataclass(frozen=True)
class DocState:
    """What an edit changes: the design, the selected node and the file it belongs to."""

    design: Design
    selection: str | None = None
    """Id of the selected node; None is the input (or nothing)."""
    path: str | None = None


@dataclass
class Step:
    """One undo step: the states before and after it."""

    text: str
    before: DocState
    after: DocState
    merge_key: Hashable | None = None
    """Steps of one control (e.g. ``("node", "conv1", "filters")``) merge while consecutive."""
    sets_path: bool = False
    """Loading a template changes the file; a plain edit's undo must not undo a Save As."""


class Pushed(StrEnum):
    ADDED = "added"
    MERGED = "merged"
    """Folded into the step before it (same control, edited again)."""
    OBSOLETE = "obsolete"
    """Folded into the step before it, which now changes nothing and was dropped."""


class History:
    """Snapshot undo steps with merging, a clean mark and a size limit (QUndoStack's rules).

    ``index`` is the number of steps applied; ``steps[index:]`` can be redone. The clean mark is
    the index at which the document matches its file (None: no reachable state does).
    """

    def __init__(self, limit: int = MAX_HISTORY) -> None:
        if limit < 1:
            raise ValueError("the history must keep at least one step")
        self.limit = limit
        self.steps: list[Step] = []
        self.index = 0
        self.clean_index: int | None = 0

    def __len__(self) -> int:
        return len(self.steps)

    def push(self, step: Step) -> Pushed:
        """Add ``step`` after the current one (dropping what could be redone), merging it into
        the step before when both edit the same control and the document was not saved between.
        """
        del self.steps[self.index :]
        if self.clean_index is not None and self.clean_index > self.index:
            self.clean_index = None  # the saved state was in the dropped redo steps
        top = self.steps[-1] if self.steps else None
        if (
            top is not None
            and step.merge_key is not None
            and top.merge_key == step.merge_key
            and self.index != self.clean_index
            and top.after.design == step.before.design
        ):
            top.after = step.after
            if top.after.design == top.before.design:
                # Stepped back to where it started: no change at all.
                self.steps.pop()
                self.index -= 1
                return Pushed.OBSOLETE
            return Pushed.MERGED
        self.steps.append(step)
        self.index += 1
        excess = len(self.steps) - self.limit
        if excess > 0:
            del self.steps[:excess]
            self.index -= excess
            if self.clean_index is not None:
                self.clean_index = self.clean_index - excess if self.clean_index >= excess else None
        return Pushed.ADDED

    @property
    def can_undo(self) -> bool:
        return self.index > 0

    @property
    def can_redo(self) -> bool:
        return self.index < len(self.steps)

    def undo(self) -> Step | None:
        if not self.can_undo:
            return None
        self.index -= 1
        return self.steps[self.index]

    def redo(self) -> Step | None:
        if not self.can_redo:
            return None
        step = self.steps[self.index]
        self.index += 1
        return step

    @property
    def undo_text(self) -> str:
        return self.steps[self.index - 1].text if self.can_undo else ""

    @property
    def redo_text(self) -> str:
        return self.steps[self.index].text if self.can_redo else ""

    @property
    def is_clean(self) -> bool:
        return self.index == self.clean_index

    def set_clean(self) -> None:
        self.clean_index = self.index

    def clear(self) -> None:
        self.steps.clear()
        self.index = 0
        self.clean_index = 0
