"""Large analyses replaced in a document are freed on the graveyard's thread, not by whoever
drops them last (the UI thread, mid-refresh)."""

from __future__ import annotations

import threading
import weakref

import pytest

from convdesigner.core import graveyard
from convdesigner.core.analysis import analyse
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.document import Document
from convdesigner.core.layers import Conv2D, ReLU


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
