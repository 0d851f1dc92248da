"""The undo history's memory is bounded (issue 12 item 8: RSS grew 0.67 MiB per undo step of a
10,000-layer design, with only a 1,000-step cap).

Each snapshot holds its own tuple of node references (80 KB for 10,000 nodes) plus the nodes the
edit made; the history weighs each step so and forgets the oldest beyond its byte budget.
"""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from convdesigner.core.design import Design, InputSpec
from convdesigner.core.document import Document
from convdesigner.core.history import NODE_BYTES, History, snapshot_bytes
from convdesigner.core.layers import Conv2D, ReLU


def _deep(n: int) -> Design:
    layers = [
        Conv2D(filters=4, kernel=3, padding="same") if i % 2 == 0 else ReLU() for i in range(n)
    ]
    return Design(InputSpec(16, 16, 3), layers=layers)


def _edit(doc: Document, i: int) -> None:
    ids = doc.design.ids
    doc.change(ids[(2 * i) % len(ids)], filters=5 + i % 9)  # other nodes: never merged


def test_a_snapshot_is_weighed_by_its_node_tuple_and_the_nodes_it_made() -> None:
    design = _deep(2000)
    edited = design.replace_layer(10, Conv2D(filters=9))
    one = snapshot_bytes(design, edited)
    assert 16_000 <= one <= 17_000  # 2,000 references of 8 bytes, one new node
    again = edited.replace_layer(20, Conv2D(filters=9))
    assert snapshot_bytes(design, again) == one + NODE_BYTES  # two nodes differ from design
    assert snapshot_bytes(design, design) == 0


def test_the_estimate_matches_the_memory_the_steps_really_hold() -> None:
    doc = Document(_deep(4000))
    for i in range(5):
        _edit(doc, i)
    gc.collect()
    tracemalloc.start()
    try:
        first, bytes_first = tracemalloc.get_traced_memory()[0], doc.history.bytes
        for i in range(5, 45):
            _edit(doc, i)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - first
    finally:
        tracemalloc.stop()
    estimated = doc.history.bytes - bytes_first
    assert estimated > 40 * 32_000
    assert 0.7 * estimated <= held <= 1.5 * estimated


def test_the_oldest_steps_are_forgotten_beyond_the_byte_budget() -> None:
    budget = 20 * 16_500  # about twenty steps of a 2,000-node design
    doc = Document(_deep(2000), byte_budget=budget)
    seen = [doc.design]
    for i in range(60):
        _edit(doc, i)
        seen.append(doc.design)
        assert doc.history.bytes <= budget
    history = doc.history
    assert 15 <= len(history) <= 20
    assert history.forgotten == 60 - len(history)
    assert history.bytes == sum(step.cost for step in history.steps)
    assert history.clean_index is None  # the opened state was forgotten
    assert doc.go_to(0)
    assert doc.design is seen[60 - len(history)]  # the oldest state still reachable
    assert doc.go_to(len(history))
    assert doc.design is seen[60]


def test_the_budget_counts_merges_redo_drops_and_clears() -> None:
    doc = Document(_deep(2000))
    history = doc.history
    node = doc.design.nodes[0].id
    doc.change(node, filters=7)
    doc.change(node, filters=8)  # merged: one step, weighed once
    assert len(history) == 1
    assert history.bytes == history.steps[0].cost > 0
    _edit(doc, 3)
    doc.undo()
    _edit(doc, 5)  # drops the redo step
    assert len(history) == 2
    assert history.bytes == sum(step.cost for step in history.steps)
    doc.load(_deep(10), None)
    assert history.bytes == 0


def test_the_newest_step_is_kept_whatever_it_costs() -> None:
    doc = Document(_deep(2000), byte_budget=1_000)
    _edit(doc, 1)
    _edit(doc, 2)
    assert len(doc.history) == 1
    assert doc.undo()
    with pytest.raises(ValueError, match="budget"):
        History(byte_budget=0)
