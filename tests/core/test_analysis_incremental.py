"""``analyse(design, previous)`` reuses unchanged rows and must give what a fresh walk gives."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from convdesigner.core.analysis import Analysis, analyse
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.fileformat import load_design
from convdesigner.core.layers import Conv2D, ReLU
from tests.core.design_strategies import designs, graph_designs, layers

DESIGNS = Path(__file__).resolve().parents[2] / "resources" / "designs"


def assert_same(incremental: Analysis, fresh: Analysis) -> None:
    assert incremental.design is fresh.design
    assert len(incremental.rows) == len(fresh.rows)
    for a, b in zip(incremental.rows, fresh.rows, strict=True):
        assert a == b  # every field, derivation texts included
        assert dict(a.derivations) == dict(b.derivations)
    assert incremental.carried_fields == fresh.carried_fields


def _edited(design: Design, data: st.DataObject) -> Design:
    kind = data.draw(st.sampled_from(["replace", "remove", "insert", "input", "same"]))
    n = len(design)
    if kind == "input" or n == 0:
        return design.with_input(design.input.resized(height=data.draw(st.integers(1, 40))))
    i = data.draw(st.integers(0, n - 1))
    if kind == "replace":
        return design.replace_layer(i, data.draw(layers))
    if kind == "remove":
        try:
            return design.remove(i)
        except ValueError:  # a merge whose inputs cannot be handed on (GraphError too)
            return design
    if kind == "insert":
        return design.insert(i, ReLU())
    return design


@settings(max_examples=150, deadline=None)
@given(st.one_of(designs, graph_designs()), st.data())
def test_an_edit_analysed_from_the_previous_analysis_matches_a_fresh_one(
    design: Design, data: st.DataObject
) -> None:
    before = analyse(design)
    edited = _edited(design, data)
    assert_same(analyse(edited, before), analyse(edited))
    again = _edited(edited, data)  # a chain of edits, each from the last
    assert_same(analyse(again, analyse(edited, before)), analyse(again))
    # What the views repaint: the rows that are not the previous analysis's very objects.
    after = analyse(edited, before)
    walked = [
        i for i, (a, b) in enumerate(zip(before.rows, after.rows, strict=False)) if a is not b
    ]
    assert list(after.changed_since(before)) == walked
    # From another analysis than its base, the hint is not used (every row differs).
    other = analyse(edited)
    assert list(after.changed_since(other)) == list(range(min(len(other), len(after))))


def test_densenet_edit_reuses_the_rows_it_does_not_change() -> None:
    design = load_design(DESIGNS / "densenet121.json")
    before = analyse(design)
    conv = design.layers[0]
    assert isinstance(conv, Conv2D)
    edited = design.replace_layer(0, conv.with_changes(filters=conv.filters + 1))
    after = analyse(edited, before)
    assert_same(after, analyse(edited))
    same = [a is b for a, b in zip(after.rows, before.rows, strict=True)]
    # The first dense block and the transition's conv read the changed channels; the
    # rest (after the transition fixes the channel count again) is untouched.
    assert not same[1]
    assert 300 < sum(same) < len(same)
    assert after.base == before.serial
    assert list(after.fresh) == [i for i, kept in enumerate(same) if not kept]
    # An error in the first conv blocks everything below; undoing it brings the rows back.
    broken = design.replace_layer(0, conv.with_changes(kernel=(999, 999)))
    blocked = analyse(broken, before)
    assert_same(blocked, analyse(broken))
    assert_same(analyse(design, blocked), before)


def test_a_node_whose_input_keeps_its_shape_but_not_its_receptive_field_is_redone() -> None:
    design = Design(
        InputSpec(16, 16, 3),
        (Conv2D(filters=4, kernel=(3, 3), padding="same"), ReLU(), Conv2D(filters=2)),
    )
    before = analyse(design)
    edited = design.replace_layer(0, Conv2D(filters=4, kernel=(5, 5), padding="same"))
    after = analyse(edited, before)
    assert_same(after, analyse(edited))
    assert after.rows[2].input_shapes == before.rows[2].input_shapes
    assert after.rows[2].receptive_field == (5, 5)


def test_rows_below_an_error_are_reused_while_the_culprit_stays() -> None:
    """A 2,000-node design broken near the top: each edit above the error made every row
    below anew, and the views compared them key by key (10 ms per 2,000 rows)."""
    design = Design(
        InputSpec(16, 16, 3),
        (Conv2D(filters=4, kernel=(99, 99)), *[ReLU() for _ in range(2000)]),
    )
    before = analyse(design)
    assert before.rows[2].status.value == "not computable"
    still_broken = design.replace_layer(0, Conv2D(filters=5, kernel=(99, 99)))
    after = analyse(still_broken, before)
    assert_same(after, analyse(still_broken))
    assert list(after.changed_since(before)) == [1]  # only the conv itself
    assert all(a is b for a, b in zip(after.rows[2:], before.rows[2:], strict=True))
    # Another culprit: every row below says so.
    other = Design(
        InputSpec(16, 16, 3),
        (Conv2D(filters=4, kernel=(3, 3)), Conv2D(filters=4, kernel=(99, 99)), *design.layers[2:]),
    )
    moved = analyse(other, before)
    assert_same(moved, analyse(other))
    assert moved.rows[3].message.startswith("Not computable: layer 1 (")
    assert before.rows[3].message.startswith("Not computable: layer 0 (")
    assert not any(a is b for a, b in zip(moved.rows[3:], before.rows[3:], strict=True))
