"""Undo history by snapshots: each step holds the document state before and after it.

Designs are immutable, so a snapshot is just a reference, and the snapshots of consecutive steps
share every node an edit did not touch. The rules are QUndoStack's (the window mirrors this
history into one, for the standard actions and the History dock): a new step drops what could be
redone; consecutive steps of one control merge unless the document was saved between them; a
merged step that comes back to where it started disappears; beyond the limit the oldest steps are
forgotten; the clean mark is the step at which the document matches its file.

Besides the step limit there is a memory budget: each snapshot holds its own tuple of node
references (80 KB for 10,000 nodes, whatever the edit changed), so 1,000 steps of the deepest
design the loader accepts kept about 100 MB. Steps are weighed as they are pushed
(:func:`snapshot_bytes`) and the oldest are forgotten beyond :data:`MAX_HISTORY_BYTES`, a tenth
more at a time, so a front end mirroring the history rebuilds its copy rarely, not on every
edit once the budget is reached.
"""

from __future__ import annotations

import sys
from collections.abc import Hashable
from dataclasses import dataclass, field
from enum import StrEnum

from convdesigner.core.design import Design

MAX_HISTORY = 1000
"""Undo steps kept; the oldest are forgotten beyond this. Snapshots share unchanged nodes, so a
step costs little more than the nodes it changed, but a long session of spin-box edits on a
500-node design must not grow without bound (1,000 steps of such a design is tens of MB)."""

MAX_HISTORY_BYTES = 32 * 2**20
"""Estimated memory the undo snapshots may hold (:func:`snapshot_bytes`): about 400 steps of a
10,000-node design, the whole step limit of designs up to about 4,000 nodes."""

NODE_BYTES = 400
"""Estimated cost of a node an edit made (its record, op and settings), beyond the tuple slot."""


def snapshot_bytes(before: Design, after: Design) -> int:
    """Estimated memory that keeping ``after`` adds to keeping ``before``: its own tuple of node
    references, and the nodes it does not share with ``before`` (unchanged nodes are the same
    objects in both)."""
    old = before.nodes
    new = after.nodes
    if new is old:
        return 0
    if len(new) == len(old):
        fresh = sum(1 for a, b in zip(old, new, strict=True) if a is not b)
    else:
        shared = {id(n) for n in old}
        fresh = sum(1 for n in new if id(n) not in shared)
    return sys.getsizeof(new) + NODE_BYTES * fresh


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
    cost: int = field(default=0, compare=False)
    """Estimated bytes this step's snapshot holds (set by :meth:`History.push`)."""


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

    def __init__(self, limit: int = MAX_HISTORY, byte_budget: int = MAX_HISTORY_BYTES) -> None:
        if limit < 1:
            raise ValueError("the history must keep at least one step")
        if byte_budget < 1:
            raise ValueError("the history's memory budget must be at least one byte")
        self.limit = limit
        self.byte_budget = byte_budget
        self.steps: list[Step] = []
        self.index = 0
        self.clean_index: int | None = 0
        self.bytes = 0
        """Estimated memory of the steps kept (the sum of their ``cost``)."""
        self.forgotten = 0
        """Steps dropped from the start so far, by the limit or the budget (a mirror compares
        it to know when to rebuild)."""

    def __len__(self) -> int:
        return len(self.steps)

    def push(self, step: Step) -> Pushed:
        """Add ``step`` after the current one (dropping what could be redone), merging it into
        the step before when both edit the same control and the document was not saved between.
        """
        self.bytes -= sum(s.cost for s in self.steps[self.index :])
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
            self.bytes -= top.cost
            if top.after.design == top.before.design:
                # Stepped back to where it started: no change at all.
                self.steps.pop()
                self.index -= 1
                return Pushed.OBSOLETE
            top.cost = snapshot_bytes(top.before.design, top.after.design)
            self.bytes += top.cost
            return Pushed.MERGED
        step.cost = snapshot_bytes(step.before.design, step.after.design)
        self.steps.append(step)
        self.bytes += step.cost
        self.index += 1
        excess = len(self.steps) - self.limit
        if self.bytes > self.byte_budget:
            # Down to a tenth below the budget, so the next steps do not each drop one again;
            # the newest step is always kept.
            target, kept, dropped = self.byte_budget * 9 // 10, self.bytes, 0
            while dropped < len(self.steps) - 1 and kept > target:
                kept -= self.steps[dropped].cost
                dropped += 1
            excess = max(excess, dropped)
        if excess > 0:
            self._forget(excess)
        return Pushed.ADDED

    def _forget(self, excess: int) -> None:
        """Drop the ``excess`` oldest steps."""
        self.bytes -= sum(s.cost for s in self.steps[:excess])
        del self.steps[:excess]
        self.forgotten += excess
        self.index -= excess
        if self.clean_index is not None:
            self.clean_index = self.clean_index - excess if self.clean_index >= excess else None

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
        self.bytes = 0
        self.index = 0
        self.clean_index = 0
