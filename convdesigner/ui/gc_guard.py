"""Run Python's cyclic garbage collector only on the GUI thread, between events.

Automatic collection can start inside any allocation, including one made while Qt holds its
internal signal/slot mutex (pyqtgraph disconnecting a signal, say). If that collection frees a
Python wrapper that owns a QObject, ``~QObject`` takes the same mutex and the thread deadlocks:
seen with PySide6 6.11 in this project's test suite. pyqtgraph documents the same hazard
(``pyqtgraph.util.garbage_collector``). So automatic collection is switched off and the
generations are collected from a timer on the main thread, where no Qt lock is held.
"""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QObject, QTimer

from convdesigner.ui.workers import running_jobs

FULL_GROWTH = 1.25
"""A full collection waits until the heap grew by a quarter since the last one."""

BURST = 100_000
"""Young objects beyond which they are frozen instead of walked (see :func:`collect_if_due`)."""

WALK_BUDGET = 300_000
"""References a collection may follow (a few milliseconds); generations that hold more are
frozen instead of walked (see :func:`_too_heavy`)."""

_SIZED = frozenset({tuple, list, dict, set, frozenset})

_blocks_after_full = 0


def collect_if_due() -> None:
    """Collect the generations whose thresholds were crossed, as the automatic collector would.

    Like CPython's own collector, a full collection also waits until the objects added since the
    last one are a quarter of those it walked then (here: pymalloc's block count, which costs
    nothing to read). Without that rule a full collection came every ten young ones: with a
    10,000-node design open (its rows, derivations and undo snapshots) that was 50 ms of the UI
    thread every few seconds of editing.
    """
    global _blocks_after_full
    count0, count1, count2 = gc.get_count()
    limit0, limit1, limit2 = gc.get_threshold()
    if count0 > BURST:
        # A burst of new objects between two timer ticks: the analysis of a design of
        # thousands of nodes (300,000 objects for 10,000 nodes: rows, their lazily formatted
        # derivations). Walking them took 28 ms in the young generation and 46 ms again in the
        # middle one; freezing them costs nothing. They form no reference cycles (they are
        # freed by reference counting when the design changes); only a cycle made in the same
        # half second would now never be collected.
        gc.freeze()
        return
    if count0 > limit0 and running_jobs() and count0 < BURST:
        # A worker is running (an analysis, the viewer, the explain panel's what-if): it
        # allocates and frees its own objects all along, and the collection would walk them
        # beside it, fighting it for the interpreter: 7-18 ms of the UI thread every tick
        # during a dense block's redo, up to 28 ms frozen. Garbage cycles wait for it to end.
        return
    if count0 > limit0:
        if _too_heavy(0):
            gc.freeze()
            return
        gc.collect(0)
        if count1 > limit1:
            if _too_heavy(1):
                gc.freeze()
                return
            gc.collect(1)
            if count2 > limit2 and sys.getallocatedblocks() > _blocks_after_full * FULL_GROWTH:
                if _too_heavy(2):
                    gc.freeze()
                else:
                    gc.collect(2)
                _blocks_after_full = sys.getallocatedblocks()


def _too_heavy(generation: int) -> bool:
    """Would collecting ``generation`` (and the younger ones) follow more than
    :data:`WALK_BUDGET` references?

    A collection follows every reference of every object it walks, old targets included, so
    its cost is not the number of young objects but the size of the young containers: a redo
    across 200 steps of a 10,000-node design made 3,000 young objects, among them dozens of
    10,000-entry tuples and dicts (each snapshot's nodes, each analysed design's maps), and
    walking them took 15-67 ms on the UI thread. Listing the objects costs a small fraction
    of that. Such containers hold immutable design data that reference counting frees; they
    are frozen like a burst.
    """
    weight = 0
    for gen in range(generation + 1):
        objects = gc.get_objects(gen)
        weight += len(objects)
        if weight > WALK_BUDGET // 4:
            return True  # looking at each would cost milliseconds itself
        for o in objects:
            if type(o) in _SIZED:
                weight += len(o)
                if weight > WALK_BUDGET:
                    return True
    return False


def freeze_arrived() -> None:
    """Exempt what exists now from later collections: called when a large design's analysis
    arrives from its worker, whose rows live as long as the design is shown.

    The young-generation count the timer checks is allocations minus frees, and an analysis
    of a 10,000-node graph frees about as many objects (the previous analysis) as it makes
    (300,000: rows, their lazily formatted derivations' closures), so the count stayed small
    while the young generation held them all: the next ``gc.collect(0)`` walked them on the UI
    thread, 20-37 ms. Frozen objects are still freed by reference counting; only a reference
    cycle made since the last collection would now outlive its use, as with a burst above.
    """
    gc.freeze()


def freeze_long_lived() -> None:
    """Collect once, then exempt every object alive now from later collections (``gc.freeze``).

    Called once the window and the viewer are up: what exists then (modules, classes, widgets,
    NumPy and pyqtgraph) lives until exit, yet a full collection walked all of it again, 20-30 ms
    on the UI thread each time it came due. Afterwards a full collection only walks what was
    made since. Objects frozen here are still freed by reference counting; only reference cycles
    among them would outlive their use, and the start-up objects form none that matter.
    """
    global _blocks_after_full
    gc.collect()
    gc.freeze()
    _blocks_after_full = sys.getallocatedblocks()


class MainThreadCollector(QObject):
    """Owns the timer; parent it to the QApplication so it lives as long as the app."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 500) -> None:
        super().__init__(parent)
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(collect_if_due)
        self._timer.start(interval_ms)
