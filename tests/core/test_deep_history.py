"""Long histories of deep designs: going far back is one change, snapshots cost their nodes only
(issue 12 item 8)."""

from __future__ import annotations

from convdesigner.core.design import Design, InputSpec
from convdesigner.core.document import Change, ChangeKind, Document
from convdesigner.core.layers import Conv2D, ReLU


def _deep(n: int) -> Design:
    layers = [
        Conv2D(filters=4, kernel=3, padding="same") if i % 2 == 0 else ReLU() for i in range(n)
    ]
    return Design(InputSpec(16, 16, 3), layers=layers)


def _edited(steps: int, n: int = 400) -> tuple[Document, list[Design]]:
    doc = Document(_deep(n))
    seen = [doc.design]
    ids = doc.design.ids
    for i in range(steps):
        doc.change(ids[(2 * i) % n], filters=5 + i % 9)  # other nodes: never merged
        seen.append(doc.design)
    return doc, seen


def test_go_to_any_index_is_one_change_and_equals_stepwise_undo() -> None:
    doc, seen = _edited(120)
    changes: list[Change] = []
    doc.subscribe(changes.append)
    assert doc.go_to(7)
    assert doc.design is seen[7]
    assert [c.kind for c in changes] == [ChangeKind.UNDO]
    assert changes[0].before.design is seen[120]
    assert doc.go_to(10_000)  # clamped: everything redone
    assert doc.design is seen[120]
    assert [c.kind for c in changes][1:] == [ChangeKind.REDO]
    assert not doc.go_to(120)  # already there
    assert doc.go_to(-5)
    assert doc.design is seen[0]
    assert not doc.history.can_undo


def test_go_to_keeps_the_file_rules_of_single_steps() -> None:
    doc = Document(_deep(4), "/tmp/file.json")
    doc.start_from(_deep(6), "New from template")  # sets the path (to none)
    doc.change(doc.design.nodes[0].id, filters=9)
    doc.mark_clean("/tmp/saved.json")  # Save As: not undone by undoing edits
    doc.change(doc.design.nodes[0].id, filters=10)
    doc.go_to(1)
    assert doc.path == "/tmp/saved.json"
    doc.go_to(0)  # before the template: its file comes back
    assert doc.path == "/tmp/file.json"
    doc.go_to(3)
    assert doc.path is None  # the template's step sets no file, as a single redo does


def test_snapshots_in_the_history_keep_no_lookup_tables() -> None:
    doc, seen = _edited(30)  # each edit looked its node up in the design then current
    doc.analysis  # noqa: B018 - fills every lookup of the current design
    doc.undo()
    for design in seen[:-2] + seen[-1:]:
        assert not {"_index", "resolved_inputs", "consumers", "outputs"} & set(vars(design))
    assert doc.design.index_of(doc.design.nodes[1].id) == 1  # rebuilt when needed
