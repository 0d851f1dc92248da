"""A click far back in the History dock is one refresh of the window (issue 12 item 8: 2,600
undo steps of a deep design froze the window for 12 to 19 s, one full refresh per step)."""

from __future__ import annotations

from convdesigner.core.design import Design, InputSpec
from convdesigner.core.layers import Conv2D, ReLU
from convdesigner.ui.main_window import MainWindow


def test_undo_across_many_steps_refreshes_once_and_stays_in_step(window: MainWindow) -> None:
    layers = [
        Conv2D(filters=4, kernel=3, padding="same") if i % 2 == 0 else ReLU() for i in range(60)
    ]
    start = Design(InputSpec(16, 16, 3), layers=layers)
    window.document.load(start, None)
    ids = start.ids
    for i in range(300):
        window.document.change(ids[(2 * i) % 60], filters=5 + i % 9)
    final = window.design
    refreshed: list[object] = []
    window.designChanged.connect(refreshed.append)
    stack = window.undo_stack
    stack.setIndex(0)  # what a click on "Opened design" in the History dock does
    assert window.design == start
    assert window.table_model.analysis.design is window.design
    assert len(refreshed) == 1
    assert stack.index() == window.document.history.index == 0
    stack.setIndex(150)
    assert len(refreshed) == 2
    assert window.document.history.index == 150
    stack.redo()
    window.action_undo.trigger()
    window.action_redo.trigger()
    assert window.document.history.index == 151
    stack.setIndex(stack.count())
    assert window.design == final
    window.document.undo()  # the document's own undo moves the stack
    assert stack.index() == 299


def test_snapshots_kept_by_the_window_hold_no_lookup_tables(window: MainWindow) -> None:
    """The views compare the old design with the new one after each edit (the pipeline's
    wiring check filled the old design's lookups again, 1 MiB per step of 10,000 nodes)."""
    for i in range(5):
        window.document.change(window.design.nodes[0].id, filters=10 + i)
        window.document.insert_entry("relu", 1)
    lookups = {"_index", "resolved_inputs", "consumers", "outputs"}
    history = window.document.history
    for step in history.steps:
        for design in (step.before.design, step.after.design):
            if design is not window.design:
                assert not lookups & set(vars(design))


def test_the_history_dock_follows_steps_forgotten_for_the_memory_budget(
    window: MainWindow,
) -> None:
    """Qt's undo stack drops commands only by its step limit; when the document's history
    forgets its oldest steps to stay within its byte budget, the stack (and so the History
    dock and the Undo action) must still match it step for step."""
    start = Design(InputSpec(16, 16, 3), layers=[ReLU() for _ in range(600)])
    window.document.load(start, None)
    history = window.document.history
    history.byte_budget = 12 * 5_000  # about a dozen steps of 600 nodes
    seen = [window.design]
    rebuilt = 0
    for i in range(40):
        forgotten = history.forgotten
        if i % 2:
            window.document.rename(f"v{i}")
        else:
            window.document.apply(window.design.replace_layer(i, Conv2D(filters=2 + i)), f"{i}")
        seen.append(window.design)
        stack = window.undo_stack
        assert stack.count() == len(history)
        assert stack.index() == history.index
        if history.forgotten - forgotten > 1:  # the stack was rebuilt: the list told too
            rebuilt += 1
            assert window.history.currentIndex().row() == stack.index()
    assert history.forgotten > 0
    assert rebuilt > 0
    assert window.history.model().rowCount() == stack.count() + 1  # and "Opened design"
    assert window.action_undo.text().endswith(history.undo_text)
    assert stack.text(stack.count() - 1) == history.steps[-1].text
    assert not stack.isClean()
    assert history.clean_index is None
    stack.setIndex(0)  # a click on the History dock's first entry
    assert window.design is seen[40 - len(history)]
    window.action_redo.trigger()
    assert window.design is seen[41 - len(history)]
    stack.setIndex(stack.count())
    assert window.design is seen[40]
