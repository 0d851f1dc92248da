"""The document: one design being edited, the file it belongs to, the selected node, the history.

Everything an edit decides lives here, without Qt, so the rules can be tested and reused by any
front end (the window, a notebook, a future web view): which node is selected afterwards, what
the undo entry says, which consecutive edits merge into one undo step, when the document counts
as saved. The window owns a :class:`Document` and only translates user gestures into its
methods; Qt's undo stack is a thin mirror of :class:`History` (``ui/undo.py``).

The history keeps snapshots: designs are immutable, so "undo" is "put the old value back", and
snapshots share every node an edit did not touch (a new design reuses the old ``Node`` objects).
Selection is by node id, never by position, so it follows a node wherever an edit moves it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from convdesigner.core import separable
from convdesigner.core.analysis import Analysis, analyse
from convdesigner.core.design import INPUT_ID, Design, GraphError, InputSpec, Node, fresh_id
from convdesigner.core.graveyard import bury
from convdesigner.core.history import (
    MAX_HISTORY,
    MAX_HISTORY_BYTES,
    DocState,
    History,
    Pushed,
    Step,
)
from convdesigner.core.ops import Add, Layer, palette_entries
from convdesigner.core.validate import LayerSettingError


class EditError(ValueError):
    """An edit that cannot be made; the message says why, in a learner's words."""


class ChangeKind(StrEnum):
    EDIT = "edit"
    """A new undo step."""
    MERGED = "merged"
    OBSOLETE = "obsolete"
    UNDO = "undo"
    REDO = "redo"
    RESET = "reset"
    """A file was loaded: new design, history cleared, clean."""
    SELECT = "select"
    CLEAN = "clean"
    """Saved (or declared saved): the clean mark moved to the current step; or, after
    :meth:`Document.restore` without a file, no step is clean any more."""


@dataclass(frozen=True)
class Change:
    """What a listener is told after every change of the document."""

    kind: ChangeKind
    before: DocState
    after: DocState
    step: Step | None = None

    @property
    def design_changed(self) -> bool:
        return self.before.design is not self.after.design

    @property
    def selection_changed(self) -> bool:
        return self.before.selection != self.after.selection


Listener = Callable[[Change], None]
_KEEP: Any = object()
"""Default of arguments whose None means something (no selection, no file)."""


class Document:
    """A design being edited: state, undo history and the edit operations.

    Every edit returns nothing useful to the caller but tells the listeners (see
    :meth:`subscribe`); invalid edits raise :class:`EditError` and change nothing.
    """

    def __init__(
        self,
        design: Design,
        path: str | None = None,
        *,
        limit: int = MAX_HISTORY,
        byte_budget: int = MAX_HISTORY_BYTES,
    ) -> None:
        self._state = DocState(design, None, path)
        self.history = History(limit, byte_budget)
        self._listeners: list[Listener] = []
        self._analysis = analyse(design)

    # ------------------------------------------------------------------ reading

    @property
    def state(self) -> DocState:
        return self._state

    @property
    def design(self) -> Design:
        return self._state.design

    @property
    def selection(self) -> str | None:
        return self._state.selection

    @property
    def path(self) -> str | None:
        return self._state.path

    @property
    def analysis(self) -> Analysis:
        """The current design's analysis, computed once per design (views and the engine share
        it)."""
        if self._analysis.design is not self._state.design:
            # The analysis before the edit lets the unchanged rows be reused (not recomputed).
            previous = self._analysis
            self._analysis = analyse(self._state.design, previous)
            bury(previous)
        return self._analysis

    @property
    def analysis_ready(self) -> bool:
        """Reading :attr:`analysis` costs nothing: the current design's is computed."""
        return self._analysis.design is self._state.design

    @property
    def last_analysis(self) -> Analysis:
        """The newest analysis computed, maybe of an earlier design: what an analysis of the
        current design can reuse rows from (a front end may compute it on another thread)."""
        return self._analysis

    def adopt_analysis(self, analysis: Analysis) -> bool:
        """Keep ``analysis`` (computed elsewhere, e.g. on a worker thread) if it is the current
        design's; False (nothing kept) for any other design's."""
        if analysis.design is not self._state.design:
            return False
        bury(self._analysis)  # freed off this thread once the views let go of it too
        self._analysis = analysis
        return True

    @property
    def is_clean(self) -> bool:
        """The design is what its file holds (or, never saved, what was opened)."""
        return self.history.is_clean

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(change)`` after every change; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # ------------------------------------------------------------------ installing states

    def _install(self, state: DocState, kind: ChangeKind, step: Step | None = None) -> None:
        before = self._state
        self._state = state
        change = Change(kind, before, state, step)
        for listener in list(self._listeners):  # a listener may unsubscribe itself
            listener(change)
        if before.design is not state.design and self._state.design is not before.design:
            # Now only a snapshot in the history; after the listeners, which may compare it
            # with the new design (and so fill its lookups again).
            before.design.forget_derived()

    def _push(
        self,
        design: Design,
        text: str,
        selection: str | None,
        merge_key: Hashable | None = None,
        *,
        path: str | None = _KEEP,
        sets_path: bool = False,
        always: bool = False,
    ) -> bool:
        """Record and install an edit; False (nothing recorded) when it changes nothing.

        ``always`` records it even then: swapping two equal layers leaves an equal design, but
        the user did move one (and the selection with it).
        """
        if design == self.design and not (sets_path or always):
            return False
        if selection is not None and selection not in design:
            selection = None
        after = DocState(design, selection, self.path if path is _KEEP else path)
        step = Step(text, self._state, after, merge_key, sets_path)
        pushed = self.history.push(step)
        kind = {
            Pushed.ADDED: ChangeKind.EDIT,
            Pushed.MERGED: ChangeKind.MERGED,
            Pushed.OBSOLETE: ChangeKind.OBSOLETE,
        }[pushed]
        self._install(after, kind, step)
        return True

    def _restore(self, state: DocState, sets_path: bool, kind: ChangeKind, step: Step) -> None:
        path = state.path if sets_path else self.path
        self._install(replace(state, path=path), kind, step)

    def undo(self) -> bool:
        step = self.history.undo()
        if step is None:
            return False
        self._restore(step.before, step.sets_path, ChangeKind.UNDO, step)
        return True

    def redo(self) -> bool:
        step = self.history.redo()
        if step is None:
            return False
        self._restore(step.after, step.sets_path, ChangeKind.REDO, step)
        return True

    def go_to(self, index: int) -> bool:
        """Undo or redo until ``index`` steps are applied, telling the listeners once.

        A click far back in the History list is one change for the views (one analysis, one
        refresh), not one per step: 2,600 steps of a 10,000-node design took a minute that way.
        """
        history = self.history
        index = max(0, min(index, len(history)))
        if index == history.index:
            return False
        state, kind = self._state, ChangeKind.UNDO if index < history.index else ChangeKind.REDO
        step: Step | None = None
        while history.index != index:
            step = history.undo() if kind is ChangeKind.UNDO else history.redo()
            assert step is not None
            target = step.before if kind is ChangeKind.UNDO else step.after
            state = replace(target, path=target.path if step.sets_path else state.path)
        self._install(state, kind, step)
        return True

    def load(self, design: Design, path: str | None) -> None:
        """Replace everything by an opened file: new design, empty history, clean."""
        self.history.clear()
        self._install(DocState(design, None, path), ChangeKind.RESET)

    def restore(self, design: Design, path: str | None, *, base: Design | None, text: str) -> None:
        """Replace everything by a recovered copy of unsaved work (core/autosave.py).

        With ``base`` (what the file holds now) the document starts clean at ``base`` and one
        undo step ``text`` leads to ``design``, so Undo shows the file's version and Redo the
        recovered one. Without it there is no step and no clean state: closing asks to save.
        """
        self.load(design if base is None else base, path)
        if base is None or not self._push(design, text, None):
            self.history.clean_index = None
            self._install(self._state, ChangeKind.CLEAN)

    def start_from(self, design: Design, text: str) -> None:
        """Replace the design by a template, as one undoable step that leaves the document clean
        (closing right away need not ask to save an untouched template) and without a file."""
        self._push(design, text, None, path=None, sets_path=True)
        self.mark_clean()

    def mark_clean(self, path: str | None = _KEEP) -> None:
        """The design is now what its file holds (after a save; ``path`` if it was saved as)."""
        self.history.set_clean()
        state = self._state if path is _KEEP else replace(self._state, path=path)
        self._install(state, ChangeKind.CLEAN)

    def select(self, node_id: str | None) -> None:
        """Select a node (None: the input); not an undo step. KeyError for an unknown id."""
        if node_id is not None and node_id not in self.design:
            raise KeyError(f"the design has no node {node_id!r}")
        if node_id != self.selection:
            self._install(replace(self._state, selection=node_id), ChangeKind.SELECT)

    # ------------------------------------------------------------------ edits

    def apply(
        self,
        design: Design,
        text: str,
        *,
        selection: str | None = _KEEP,
        merge_key: Hashable | None = None,
    ) -> bool:
        """Replace the whole design as one undoable step (e.g. the input size of an image).

        The selection stays on its node if the new design has it, else on the same position.
        """
        if selection is _KEEP:
            selection = self._kept_selection(design)
        return self._push(design, text, selection, merge_key)

    def _kept_selection(self, design: Design) -> str | None:
        current = self.selection
        if current is None or current in design:
            return current
        if not design.nodes:
            return None
        old = self.design.index_of(current) if current in self.design else len(design) - 1
        return design.nodes[min(old, len(design) - 1)].id

    def _index(self, node_id: str) -> int:
        try:
            return self.design.index_of(node_id)
        except KeyError:
            raise EditError(f"the design has no node {node_id!r}") from None

    def _label(self, node_id: str) -> str:
        return self.design.node(node_id).label

    def insert(self, index: int, layer: Layer, text: str | None = None) -> str:
        """Insert ``layer`` at position ``index`` (reading the node above); returns its id."""
        index = max(0, min(index, len(self.design)))
        design = self.design.insert(index, layer)
        new_id = design.nodes[index].id
        self._push(design, text or f"Insert {layer.display_name}", new_id)
        return new_id

    def insert_entry(self, key: str, index: int) -> str:
        """Insert palette entry ``key`` at ``index``: the layer it makes there (a depthwise
        convolution takes the channels reaching that point)."""
        entry = PALETTE.get(key)
        if entry is None:
            raise EditError(f"unknown layer type {key!r}")
        index = max(0, min(index, len(self.design)))
        layer = entry.make(channels_at(self.analysis, index))
        return self.insert(index, layer, f"Insert {entry.title}")

    def remove(self, node_id: str) -> None:
        """Remove a node; nodes reading it read what it read. The node now in its place (or the
        last one) is selected."""
        index = self._index(node_id)
        label = self._label(node_id)
        sources = self.design.inputs_of(index)
        readers = self.design.consumers[node_id]
        if len(sources) > 1 and readers:
            raise EditError(
                f"'{node_id}' combines {len(sources)} inputs and '{readers[0]}' reads it: "
                f"connect '{readers[0]}' to another node first"
            )
        try:
            design = self.design.remove(index)
        except ValueError as exc:
            raise EditError(str(exc)) from None
        selection = design.nodes[min(index, len(design) - 1)].id if design.nodes else None
        self._push(design, f"Remove {label}", selection)

    def duplicate(self, node_id: str) -> str:
        """Insert a copy of a node right below it (in a chain, reading it); returns its id."""
        index = self._index(node_id)
        layer = self.design.nodes[index].op
        return self.insert(index + 1, layer, f"Duplicate {layer.label}")

    def move(self, node_id: str, destination: int) -> None:
        """Move a node to position ``destination`` (counted after taking it out)."""
        source = self._index(node_id)
        if destination == source:
            return
        label = self._label(node_id)
        try:
            design = self.design.move(source, destination)
        except (ValueError, IndexError) as exc:
            raise EditError(str(exc)) from None
        where = "up" if destination < source else "down"
        self._push(design, f"Move {label} {where}", design.nodes[destination].id, always=True)

    def replace_layer(
        self,
        node_id: str,
        layer: Layer,
        text: str | None = None,
        merge_key: Hashable | None = None,
    ) -> bool:
        """Give a node new settings (same id, same inputs)."""
        index = self._index(node_id)
        old = self.design.nodes[index].op
        design = self.design.replace_layer(index, layer)
        return self._push(design, text or f"Change {old.label}", node_id, merge_key)

    def change(self, node_id: str, **changes: object) -> bool:
        """Change some settings of a node, validated like a new layer (LayerSettingError).

        A change merges with the next change of the same settings of the same node: holding a
        spin box's arrow, or typing "128", is one undo step.
        """
        index = self._index(node_id)
        layer = self.design.nodes[index].op
        new = layer.with_changes(**changes)
        names = ", ".join(changes)
        key = ("node", node_id, *sorted(changes))
        return self.replace_layer(node_id, new, f"Change {names} of {layer.label}", key)

    def set_input(self, spec: InputSpec, text: str = "Change input", merge: str = "") -> bool:
        """Change the input size or channels; ``merge`` names the control (steps merge)."""
        design = self.design.with_input(spec)
        key = ("input", merge) if merge else None
        return self._push(design, text, self.selection, key)

    def rename(self, name: str) -> bool:
        """Rename the design (typing a name is one undo step)."""
        try:
            design = self.design.with_name(name)
        except LayerSettingError as exc:
            raise EditError(f"Design name {exc.message}") from None
        return self._push(design, "Rename design", self.selection, ("design", "name"))

    # ------------------------------------------------------------------ graph edits

    def _with_inputs(self, node_id: str, inputs: tuple[str, ...]) -> Design:
        """The design with ``node_id`` reading ``inputs`` (written implicitly when that is the
        entry above, so chains stay chains)."""
        index = self._index(node_id)
        node = self.design.nodes[index]
        above = self.design.nodes[index - 1].id if index > 0 else INPUT_ID
        new = replace(node, inputs=None if inputs == (above,) else inputs)
        try:
            return self.design.replace_node(index, new)
        except GraphError as exc:
            raise EditError(f"'{node_id}' cannot read that: {exc.message}") from None

    def connect(self, node_id: str, source: str) -> None:
        """Make ``node_id`` also read ``source`` (a node above it, or ``"input"``)."""
        inputs = self.design.inputs_of(self._index(node_id))
        if source in inputs:
            raise EditError(f"'{node_id}' already reads '{source}'")
        design = self._with_inputs(node_id, (*inputs, source))
        self._push(design, f"Connect {source} to {node_id}", node_id)

    def disconnect(self, node_id: str, source: str) -> None:
        """Stop ``node_id`` reading ``source``; a node keeps at least one input."""
        inputs = self.design.inputs_of(self._index(node_id))
        if source not in inputs:
            raise EditError(f"'{node_id}' does not read '{source}'")
        if len(inputs) == 1:
            raise EditError(
                f"'{source}' is the only input of '{node_id}': connect another one first"
            )
        design = self._with_inputs(node_id, tuple(s for s in inputs if s != source))
        self._push(design, f"Disconnect {source} from {node_id}", node_id)

    def wrap_residual(self, first: str, last: str) -> str:
        """Add the run of nodes from ``first`` to ``last`` to its own input, as a ResNet block
        does: an ``add`` reading ``last`` and the run's input is placed right after ``last``,
        and whatever read ``last`` reads the sum instead. Returns the add's id (selected).
        """
        start, end = self._index(first), self._index(last)
        if start > end:
            raise EditError(f"'{first}' comes after '{last}': select the run from top to bottom")
        design = self.design
        run_inputs = design.inputs_of(start)
        if len(run_inputs) != 1:
            raise EditError(
                f"'{first}' reads {len(run_inputs)} inputs; a residual connection adds one input "
                "to the output of the run that starts there"
            )
        shortcut = run_inputs[0]
        add_id = fresh_id(Add(), design.ids)
        nodes: list[Node] = []
        for i, node in enumerate(design.nodes):
            if i > end and node.inputs is not None and last in node.inputs:
                node = replace(node, inputs=tuple(add_id if s == last else s for s in node.inputs))
            nodes.append(node)
            if i == end:
                nodes.append(Node(add_id, Add(), (last, shortcut)))
        try:
            new = Design(
                design.input, nodes=nodes, name=design.name, description=design.description
            )
        except GraphError as exc:
            raise EditError(str(exc)) from None
        what = self._label(first) if start == end else f"{first}…{last}"
        self._push(new, f"Residual connection around {what}", add_id)
        return add_id

    # ------------------------------------------------------------------ rewrites

    def make_separable(self, node_id: str) -> str:
        """Split a conv into a depthwise conv and a 1×1 conv (one undo step); returns the
        depthwise conv's id, which is selected so the comparison stays in view."""
        try:
            design, selected = separable.make_separable(self.analysis, node_id)
        except separable.RewriteError as exc:
            raise EditError(f"Cannot make '{node_id}' separable: {exc}") from None
        self._push(design, f"Make {self._label(node_id)} separable", selected)
        return selected

    def make_normal(self, node_id: str) -> str:
        """Replace the depthwise-separable pair ``node_id`` belongs to by one conv (one undo
        step); returns that conv's id (selected)."""
        try:
            design, selected = separable.make_normal(self.analysis, node_id)
        except separable.RewriteError as exc:
            raise EditError(f"Cannot make '{node_id}' a normal conv: {exc}") from None
        self._push(design, "Make separable pair normal", selected)
        return selected


PALETTE = {entry.key: entry for entry in palette_entries()}
"""Palette entries by key (what a drag carries)."""


def channels_at(analysis: Analysis, index: int) -> int:
    """Channels reaching position ``index`` of the design: those of the node above (or the last
    map known above it, when that node has an error)."""
    for row in reversed(analysis.rows[: index + 1]):
        if row.output_shape is not None and len(row.output_shape) >= 2:
            return row.output_shape[0]
    return analysis.design.input.channels


__all__ = [
    "MAX_HISTORY",
    "PALETTE",
    "Change",
    "ChangeKind",
    "DocState",
    "Document",
    "EditError",
    "History",
    "Pushed",
    "Step",
    "channels_at",
]
