"""The app's own garbage collection: on the UI thread, by generation, start-up objects frozen."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from convdesigner.ui.gc_guard import collect_if_due, freeze_long_lived


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    """A reference cycle nobody holds: only the cyclic collector can free it."""
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_due_generations_are_collected_and_young_garbage_is_freed() -> None:
    assert not gc.isenabled()  # the tests, like the app, collect by hand
    gc.collect()
    dead = _cycle()
    collect_if_due()  # below the threshold: nothing yet
    assert dead() is not None
    keep: list[list[int]] = [[] for _ in range(gc.get_threshold()[0] + 1)]  # noqa: F841
    collect_if_due()
    assert dead() is None
    assert gc.get_count()[0] < gc.get_threshold()[0]


def test_freezing_keeps_start_up_objects_out_and_still_frees_new_cycles(unfrozen: None) -> None:
    alive = _Node()
    freeze_long_lived()
    assert gc.get_freeze_count() > 0
    assert alive.other is None  # frozen objects stay usable
    frozen = gc.get_freeze_count()
    dead = _cycle()  # made after the freeze: collected as usual
    gc.collect()
    assert dead() is None
    assert gc.get_freeze_count() == frozen
