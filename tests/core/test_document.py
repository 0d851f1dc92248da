"""The Qt-free document: history rules, edit operations, selection by node id, graph edits."""

from __future__ import annotations

import pytest

from convdesigner.core.design import Design, InputSpec
from convdesigner.core.document import (
    Change,
    ChangeKind,
    Document,
    EditError,
    channels_at,
)
from convdesigner.core.history import MAX_HISTORY, DocState, History, Pushed, Step
from convdesigner.core.layers import Add, Conv2D, Dense, MaxPool2D, ReLU
from tests.graph_designs import residual_block


def _conv(filters: int) -> Design:
    return Design(layers=(Conv2D(filters=filters), ReLU()))


def _step(before: Design, after: Design, key: object = None) -> Step:
    return Step("edit", DocState(before), DocState(after), key)


def clean(doc: Document) -> bool:
    """Read afresh each time (a type checker would keep the value it narrowed before)."""
    return doc.is_clean


def path(doc: Document) -> str | None:
    return doc.path


class Recorder:
    def __init__(self, doc: Document) -> None:
        self.changes: list[Change] = []
        doc.subscribe(self.changes.append)

    @property
    def kinds(self) -> list[ChangeKind]:
        return [c.kind for c in self.changes]


# ---------------------------------------------------------------------- history


def test_undo_and_redo_restore_the_exact_states() -> None:
    doc = Document(_conv(1))
    doc.apply(_conv(2), "two")
    doc.apply(_conv(3).remove(1), "three")
    assert doc.design == Design(layers=(Conv2D(filters=3),))
    assert doc.history.undo_text == "three"
    assert doc.undo()
    assert doc.design == _conv(2)
    assert doc.undo()
    assert doc.design == _conv(1)
    assert not doc.undo()  # nothing left
    assert doc.history.redo_text == "two"
    assert doc.redo()
    assert doc.redo()
    assert not doc.redo()
    assert doc.design == Design(layers=(Conv2D(filters=3),))


def test_steps_of_one_control_merge_and_others_do_not() -> None:
    history = History()
    designs = [_conv(n) for n in range(1, 11)]
    designs.insert(0, _conv(99))
    for n in (2, 3, 4, 5):
        pushed = history.push(_step(designs[n - 1], designs[n], ("node", "0", "filters")))
        assert pushed is (Pushed.ADDED if n == 2 else Pushed.MERGED)
    assert len(history) == 1
    assert history.steps[0].before.design == designs[1]
    assert history.steps[0].after.design == designs[5]
    history.push(_step(designs[5], designs[6], ("node", "0", "kernel")))
    history.push(_step(designs[6], designs[7]))  # no key: never merges
    history.push(_step(designs[7], designs[8]))
    assert len(history) == 4


def test_stepping_back_to_the_start_leaves_no_step() -> None:
    doc = Document(_conv(4))
    recorder = Recorder(doc)
    doc.change("0", filters=5)
    doc.change("0", filters=4)
    assert len(doc.history) == 0
    assert doc.design == _conv(4)
    assert recorder.kinds == [ChangeKind.EDIT, ChangeKind.OBSOLETE]
    assert clean(doc)


def test_no_merge_across_a_save_and_the_clean_mark() -> None:
    doc = Document(_conv(1))
    doc.change("0", filters=2)
    doc.mark_clean("saved.json")
    assert clean(doc)
    assert doc.path == "saved.json"
    doc.change("0", filters=3)  # same control, but after the save: a step of its own
    assert len(doc.history) == 2
    assert not clean(doc)
    doc.undo()
    assert clean(doc)
    doc.undo()
    assert not clean(doc)
    doc.change("0", filters=9)  # drops the redo step holding the saved state
    assert doc.history.clean_index is None
    assert not clean(doc)


def test_the_history_keeps_at_most_its_limit() -> None:
    assert MAX_HISTORY == 1000
    doc = Document(_conv(1), limit=3)
    for n in range(2, 7):
        doc.apply(_conv(n), f"to {n}")
    assert len(doc.history) == 3
    assert doc.history.clean_index is None  # the opened state was forgotten
    while doc.undo():
        pass
    assert doc.design == _conv(3)  # the oldest state still reachable
    with pytest.raises(ValueError, match="at least one"):
        History(0)


def test_load_clears_the_history_and_start_from_is_undoable() -> None:
    doc = Document(_conv(1), "a.json")
    recorder = Recorder(doc)
    doc.change("0", filters=2)
    doc.load(_conv(7), "b.json")
    assert len(doc.history) == 0
    assert clean(doc)
    assert path(doc) == "b.json"
    doc.start_from(_conv(9), "New from template")
    assert path(doc) is None
    assert clean(doc)  # an untouched template: nothing to lose
    doc.undo()
    assert (doc.design, doc.path) == (_conv(7), "b.json")
    assert not clean(doc)
    assert recorder.kinds[1:] == [
        ChangeKind.RESET,
        ChangeKind.EDIT,
        ChangeKind.CLEAN,
        ChangeKind.UNDO,
    ]


def test_undoing_an_edit_made_before_save_as_keeps_the_new_file() -> None:
    doc = Document(_conv(1))
    doc.change("0", filters=2)
    doc.mark_clean("mine.json")
    doc.undo()
    assert doc.path == "mine.json"


# ---------------------------------------------------------------------- edits and selection


def test_insert_selects_the_new_node_and_names_the_step() -> None:
    doc = Document(_conv(1))
    new = doc.insert(1, MaxPool2D())
    assert new == "1"  # a sequential design keeps ids = positions
    assert doc.selection == "1"
    assert doc.design.layers == (Conv2D(filters=1), MaxPool2D(), ReLU())
    assert doc.history.undo_text == "Insert MaxPool2D"
    doc.undo()
    assert doc.selection is None


def test_insert_entry_takes_the_channels_at_the_drop_point() -> None:
    doc = Document(Design(InputSpec(8, 8, 3), (Conv2D(filters=24), ReLU())))
    doc.insert_entry("depthwise", 1)
    layer = doc.design.layers[1]
    assert isinstance(layer, Conv2D)
    assert (layer.groups, layer.filters) == (24, 24)
    assert doc.history.undo_text == "Insert Depthwise Conv2D"
    assert channels_at(doc.analysis, 0) == 3
    with pytest.raises(EditError, match="unknown layer type"):
        doc.insert_entry("nonsense", 0)


def test_remove_duplicate_and_move_keep_the_selection_on_the_right_node() -> None:
    doc = Document(Design(layers=(Conv2D(filters=1), ReLU(), Conv2D(filters=2))))
    doc.select("1")
    doc.duplicate("1")
    assert doc.selection == "2"
    assert doc.history.undo_text == "Duplicate ReLU"
    doc.move("2", 0)  # the copy to the top: ids follow positions in a sequential design
    assert doc.selection == "0"
    assert doc.design.layers[0] == ReLU()
    assert doc.history.undo_text == "Move ReLU up"
    doc.remove("0")
    assert doc.selection == "0"  # the node now in its place
    assert doc.history.undo_text == "Remove ReLU"
    doc.remove("2")
    assert doc.selection == "1"  # the last one
    doc.move("0", 0)  # onto itself: no step
    assert len(doc.history) == 4


def test_ids_are_stable_in_a_graph_and_the_selection_follows_its_node() -> None:
    doc = Document(residual_block())
    doc.select("conv2")
    doc.insert(0, ReLU())  # above everything: positions shift, ids do not
    assert doc.selection == "relu_1"
    doc.select("conv2")
    doc.change("conv2", filters=4)
    assert doc.selection == "conv2"
    assert doc.design.ids[:3] == ("relu_1", "conv1", "bn1")
    with pytest.raises(KeyError):
        doc.select("nope")


def test_change_merges_per_node_and_setting() -> None:
    doc = Document(_conv(1))
    for n in (2, 12, 128):
        doc.change("0", filters=n)
    assert len(doc.history) == 1
    assert doc.history.undo_text == "Change filters of Conv2D"
    doc.change("0", kernel=(5, 5))
    assert len(doc.history) == 2
    doc.undo()
    doc.undo()
    assert doc.design == _conv(1)


def test_input_and_name_edits() -> None:
    doc = Document(_conv(1))
    doc.select("0")
    for h in (30, 31, 32):
        doc.set_input(InputSpec(h, 224, 3), "Change input height", merge="height")
    assert len(doc.history) == 1
    assert doc.design.input.height == 32
    assert doc.selection == "0"
    for name in ("m", "my", "my net"):
        doc.rename(name)
    assert doc.design.name == "my net"
    assert len(doc.history) == 2
    with pytest.raises(EditError):
        doc.rename("x" * 1000)


def test_apply_keeps_the_selection_by_id_or_by_position() -> None:
    doc = Document(Design(layers=(Conv2D(), ReLU(), Conv2D())))
    doc.select("2")
    doc.apply(Design(layers=(Conv2D(), ReLU())), "shorter")
    assert doc.selection == "1"  # node "2" is gone: the same place, clamped
    assert not doc.apply(doc.design, "no change")
    assert len(doc.history) == 1


def test_an_impossible_move_changes_nothing() -> None:
    doc = Document(residual_block())
    before = doc.design
    with pytest.raises(EditError, match="cannot move 'add'"):
        doc.move("add", 0)  # above the nodes it reads
    assert doc.design is before
    assert len(doc.history) == 0


def test_listeners_hear_every_change_and_can_unsubscribe() -> None:
    doc = Document(_conv(1))
    recorder = Recorder(doc)
    other: list[Change] = []
    stop = doc.subscribe(other.append)
    doc.select("1")
    doc.change("0", filters=3)
    doc.undo()
    doc.redo()
    stop()
    doc.mark_clean()
    assert recorder.kinds == [
        ChangeKind.SELECT,
        ChangeKind.EDIT,
        ChangeKind.UNDO,
        ChangeKind.REDO,
        ChangeKind.CLEAN,
    ]
    assert len(other) == 4
    select, edit = recorder.changes[:2]
    assert select.selection_changed
    assert not select.design_changed
    assert edit.design_changed
    assert edit.after.selection == "0"


def test_analysis_is_computed_once_per_design() -> None:
    doc = Document(_conv(1))
    first = doc.analysis
    assert doc.analysis is first
    doc.change("0", filters=2)
    assert doc.analysis is not first
    assert doc.analysis.design is doc.design


# ---------------------------------------------------------------------- graph edits


def test_connect_and_disconnect_inputs() -> None:
    doc = Document(Design(InputSpec(8, 8, 4), (Conv2D(filters=4, padding="same"), Add())))
    doc.connect("1", "input")
    assert doc.design.inputs_of(1) == ("0", "input")
    assert doc.analysis.ok
    assert doc.selection == "1"
    assert doc.history.undo_text == "Connect input to 1"
    with pytest.raises(EditError, match="already reads"):
        doc.connect("1", "input")
    with pytest.raises(EditError, match="cannot read that"):
        doc.connect("0", "1")  # below it: not an execution order
    doc.disconnect("1", "input")
    assert doc.design.nodes[1].inputs is None  # back to "the entry above": a chain again
    with pytest.raises(EditError, match="only input"):
        doc.disconnect("1", "0")
    with pytest.raises(EditError, match="does not read"):
        doc.disconnect("1", "input")


def test_wrap_a_run_in_a_residual_connection() -> None:
    plain = Design(
        InputSpec(16, 16, 8),
        (
            Conv2D(filters=8, kernel=3, padding=1),
            ReLU(),
            Conv2D(filters=8, kernel=3, padding=1),
            ReLU(),
            Dense(units=3),
        ),
    )
    doc = Document(plain)
    add = doc.wrap_residual("1", "2")
    assert add == "add_1"
    assert doc.selection == "add_1"
    design = doc.design
    assert design.ids == ("0", "1", "2", "add_1", "3", "4")
    assert design.node("add_1").inputs == ("2", "0")  # the run's output and its input
    assert design.inputs_of(design.index_of("3")) == ("add_1",)  # the reader reads the sum
    row = doc.analysis.row("add_1")
    assert row.ok
    assert row.output_shape == (8, 16, 16)
    assert doc.history.undo_text == "Residual connection around 1…2"
    doc.undo()
    assert doc.design == plain


def test_wrap_rewires_explicit_readers_and_refuses_bad_runs() -> None:
    doc = Document(residual_block())
    add = doc.wrap_residual("relu1", "conv2")
    design = doc.design
    assert design.node(add).inputs == ("conv2", "bn1")
    assert design.inputs_of(design.index_of("bn2")) == (add,)
    assert doc.analysis.ok
    with pytest.raises(EditError, match="reads 2 inputs"):
        doc.wrap_residual("add", "relu2")
    with pytest.raises(EditError, match="comes after"):
        doc.wrap_residual("bn2", "conv1")
    with pytest.raises(EditError, match="no node"):
        doc.wrap_residual("x", "conv1")


def test_removing_a_merge_read_by_another_node_is_refused() -> None:
    doc = Document(residual_block())
    with pytest.raises(EditError, match="combines 2 inputs and 'relu2' reads it"):
        doc.remove("add")
    doc.remove("bn2")  # the add now reads conv2
    assert doc.design.node("add").inputs == ("conv2", "input")
    assert doc.selection == "add"
