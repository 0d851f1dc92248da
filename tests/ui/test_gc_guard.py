"""The app's own garbage collection: on the UI thread, by generation, start-up objects frozen."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator

import pytest

from convdesigner.ui import gc_guard
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


def test_young_garbage_waits_while_a_worker_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A collection beside a running worker walked the worker's objects and fought it for the
    interpreter: 7-18 ms of the UI thread per tick during a dense block's redo."""
    gc.collect()
    dead = _cycle()
    keep: list[list[int]] = [[] for _ in range(gc.get_threshold()[0] + 1)]  # noqa: F841
    monkeypatch.setattr(gc_guard, "running_jobs", lambda: 1)
    collect_if_due()
    assert dead() is not None  # due, but a job runs: later
    monkeypatch.setattr(gc_guard, "running_jobs", lambda: 0)
    collect_if_due()
    assert dead() is None


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


class _FakeGc:
    """The gc functions collect_if_due uses, with counts set by the test."""

    def __init__(
        self, counts: tuple[int, int, int], generations: tuple[list[object], ...] = ([], [], [])
    ) -> None:
        self.counts = counts
        self.generations = generations
        self.collected: list[int] = []
        self.frozen = 0

    def get_objects(self, generation: int) -> list[object]:
        return self.generations[generation]

    def get_count(self) -> tuple[int, int, int]:
        return self.counts

    def get_threshold(self) -> tuple[int, int, int]:
        return (700, 10, 10)

    def collect(self, generation: int = 2) -> int:
        self.collected.append(generation)
        return 0

    def freeze(self) -> None:
        self.frozen += 1


def test_a_full_collection_waits_until_the_heap_grew_a_quarter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A full collection walks every object: with a 10,000-node design open, 50 ms of the UI
    thread, which came every ten young collections."""
    fake = _FakeGc((701, 11, 11))
    monkeypatch.setattr(gc_guard, "gc", fake)
    monkeypatch.setattr(gc_guard, "_blocks_after_full", sys.getallocatedblocks())
    collect_if_due()
    assert fake.collected == [0, 1]
    monkeypatch.setattr(gc_guard, "_blocks_after_full", sys.getallocatedblocks() // 2)
    collect_if_due()
    assert fake.collected == [0, 1, 0, 1, 2]


def test_a_burst_of_young_objects_is_frozen_not_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deep design's analysis makes 300,000 objects at once (28 ms to walk them young, 46 ms
    again in the middle generation)."""
    fake = _FakeGc((gc_guard.BURST + 1, 0, 0))
    monkeypatch.setattr(gc_guard, "gc", fake)
    collect_if_due()
    assert fake.frozen == 1
    assert fake.collected == []


def test_young_containers_too_large_to_walk_are_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """A redo across 200 steps of a 10,000-node design made 3,000 young objects, among them
    dozens of 10,000-entry tuples: a young collection follows every entry, 15-67 ms."""
    snapshots: list[object] = [tuple(range(10_000)) for _ in range(gc_guard.WALK_BUDGET // 10_000)]
    fake = _FakeGc((701, 0, 0), (snapshots, [], []))
    monkeypatch.setattr(gc_guard, "gc", fake)
    collect_if_due()
    assert fake.collected == []
    assert fake.frozen == 1
    fake = _FakeGc((701, 0, 0), (snapshots[:2], [], []))  # 20,000 references: walked
    monkeypatch.setattr(gc_guard, "gc", fake)
    collect_if_due()
    assert fake.collected == [0]
    assert fake.frozen == 0


def test_a_middle_generation_too_large_to_walk_is_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    heavy: list[object] = [list(range(gc_guard.WALK_BUDGET))]
    fake = _FakeGc((701, 11, 0), ([], heavy, []))
    monkeypatch.setattr(gc_guard, "gc", fake)
    collect_if_due()
    assert fake.collected == [0]  # the young one is light; the middle one would walk 300,000
    assert fake.frozen == 1


def test_a_young_generation_of_many_small_objects_is_frozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Counted before their sizes are looked at (that loop is Python: milliseconds itself)."""
    many: list[object] = [() for _ in range(gc_guard.WALK_BUDGET // 4 + 1)]
    fake = _FakeGc((701, 0, 0), (many, [], []))
    monkeypatch.setattr(gc_guard, "gc", fake)
    collect_if_due()
    assert (fake.collected, fake.frozen) == ([], 1)
    fake = _FakeGc((701, 0, 0), (many[:-2], [], []))
    monkeypatch.setattr(gc_guard, "gc", fake)
    collect_if_due()
    assert (fake.collected, fake.frozen) == ([0], 0)


def test_a_real_young_generation_of_big_containers_is_frozen(unfrozen: None) -> None:
    gc.collect()
    before = gc.get_freeze_count()
    held = [_Node() for _ in range(gc_guard.WALK_BUDGET // 1000)]
    snapshots = [tuple(held) for _ in range(1001)]  # young tuples of tracked objects
    assert gc.get_count()[0] > gc.get_threshold()[0]
    collect_if_due()
    assert gc.get_freeze_count() > before + len(snapshots)
    assert gc.get_count()[0] == 0
