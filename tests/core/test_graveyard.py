"""Large analyses replaced in a document are freed on the graveyard's thread, not by whoever
drops them last (the UI thread, mid-refresh)."""

from __future__ import annotations

import math
import threading
import traceback
import weakref

import pytest

from convdesigner.core import graveyard, teaching
from convdesigner.core.analysis import Analysis, LayerRow, analyse
from convdesigner.core.cancel import Cancelled
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.document import Document
from convdesigner.core.layers import Conv2D, ReLU
from convdesigner.core.switching import checkpoints
from convdesigner.core.teaching import what_if_double
from tests.graph_designs import dense_block


def _chain(n: int) -> Design:
    return Design(InputSpec(16, 16, 3), layers=[Conv2D(4, 3, padding=1), *[ReLU()] * (n - 1)])


def test_a_replaced_large_analysis_is_freed_on_the_graveyards_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Long enough that the check below comes first even on a loaded machine (nothing slow runs
    # between the bury and the check; no gc.collect(): the rows are freed by reference counts).
    monkeypatch.setattr(graveyard, "DELAY", 0.5)
    document = Document(_chain(1500))
    old = document.analysis
    row = weakref.ref(old.rows[-1])
    freed_on: list[str] = []
    # A row's derivations are a mapping: watch the one object only the old analysis holds.
    weakref.finalize(old.rows[-1], lambda: freed_on.append(threading.current_thread().name))
    document.change(document.design.nodes[0].id, filters=5)  # every row below changes
    new = document.analysis
    assert new.rows[-1] is not old.rows[-1]
    del old
    assert row() is not None  # the graveyard holds it until its delay is over
    assert graveyard.wait_until_empty(5)
    assert row() is None
    assert freed_on == ["convdesigner-graveyard"]


def test_small_analyses_are_left_to_reference_counting() -> None:
    analysis = analyse(_chain(10))
    row = weakref.ref(analysis.rows[-1])
    graveyard.bury(analysis)
    del analysis
    assert row() is None


def _freed_on(obj: object) -> list[str]:
    names: list[str] = []
    weakref.finalize(obj, lambda: names.append(threading.current_thread().name))
    return names


def test_a_cancelled_analysis_leaves_its_rows_to_the_graveyard(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A newer edit stops a worker's analysis at a checkpoint: the rows made so far (thousands)
    are freed on the graveyard's thread, not where the exception unwinds."""
    monkeypatch.setattr(graveyard, "DELAY", 0.5)
    made: list[list[LayerRow]] = []
    calls = 0

    def stop_late() -> None:
        nonlocal calls
        calls += 1
        if calls == 6:  # 1,280 nodes analysed
            raise Cancelled

    with checkpoints(stop_late), pytest.raises(Cancelled) as raised:
        analyse(_chain(3000))
    frames = [frame for frame, _ in traceback.walk_tb(raised.value.__traceback__)]
    made.extend(f.f_locals["rows"] for f in frames if f.f_code.co_name == "analyse")
    freed = _freed_on(made[0][-1])
    del made, frames, raised
    assert freed == []  # the graveyard keeps them for its delay
    assert graveyard.wait_until_empty(5)
    assert freed == ["convdesigner-graveyard"]


def test_the_what_if_analysis_is_freed_on_the_graveyards_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Doubling the first conv changes every row below it: the explain panel's worker dropped
    10,000 of them at once (10-20 ms holding the interpreter the window waited for)."""
    monkeypatch.setattr(graveyard, "DELAY", 0.5)
    buried: list[Analysis] = []

    def bury(analysis: Analysis) -> None:
        buried.append(analysis)
        graveyard.bury(analysis)

    monkeypatch.setattr(teaching, "bury", bury)
    analysis = analyse(_chain(1500))
    what_if = what_if_double(analysis, analysis.design.nodes[0].id)
    assert what_if is not None
    assert what_if.after == 8
    (doubled,) = buried
    assert doubled.rows[1].output_shape == (8, 16, 16)
    freed = _freed_on(doubled.rows[-1])
    del doubled
    buried.clear()
    assert freed == []
    assert graveyard.wait_until_empty(5)
    assert freed == ["convdesigner-graveyard"]


def test_a_slice_ends_when_its_time_is_up_whatever_the_rows_cost() -> None:
    """256 concat rows of a dense block of 2,000 convs (up to 2,000 inputs each) took 7.7 ms
    to free in one go, holding the interpreter while the window repainted beside it: a slice
    is counted in time. The clock here is the test's: each look at it is 0.3 ms later."""
    looks: list[float] = []

    def clock() -> float:
        looks.append(len(looks) * 0.0003)
        return looks[-1]

    rows = list(analyse(dense_block(100)).rows)
    total = len(rows)
    graveyard.free_slice(rows, clock)
    steps = len(looks) - 1  # the first look sets the deadline
    assert steps == math.ceil(graveyard.SLICE_SECONDS / 0.0003)
    assert total - len(rows) == steps * graveyard.ROWS_PER_STEP
    few = list(analyse(_chain(3)).rows)
    graveyard.free_slice(few, clock)
    assert few == []  # the rows ran out first


def test_the_graveyard_asks_before_each_slice(monkeypatch: pytest.MonkeyPatch) -> None:
    """The window installs a pause that waits while it refreshes: every slice asks first."""
    monkeypatch.setattr(graveyard, "DELAY", 0.0)
    monkeypatch.setattr(graveyard, "_pause", graveyard._pause)  # restored after the test
    asked: list[int] = []
    rows = list(analyse(_chain(1500)).rows)
    sizes: list[int] = []
    free = graveyard.free_slice

    def recording_free(held: list[object], *args: object) -> None:
        sizes.append(len(held))
        free(held)

    monkeypatch.setattr(graveyard, "free_slice", recording_free)
    graveyard.set_pause(lambda: asked.append(len(sizes)))
    graveyard.bury_rows(rows)
    del rows
    assert graveyard.wait_until_empty(5)
    assert sizes  # it freed in slices
    assert asked[: len(sizes)] == list(range(len(sizes)))  # each slice after its own ask
