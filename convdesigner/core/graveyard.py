"""Large analyses released on a background thread, a millisecond of freeing at a time.

Freeing an analysis of a 10,000-node graph (its rows, their derivations, the receptive fields
it carried) is one uninterrupted run of C code that holds the interpreter lock for 10-15 ms.
Whoever drops the last reference pays it: in the window that was the UI thread, in the middle
of the refresh that shows the next analysis. A replaced analysis is therefore handed here
first; the views let go of it as they follow the new one, this thread keeps the last
reference, and a moment later drops it in slices, sleeping between them so that any other
thread wanting the interpreter gets it within a slice. Rows the new analysis reuses are not
freed at all (they are still referenced).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from convdesigner.core.analysis import Analysis

MIN_ROWS = 1000
"""Smaller analyses are freed where they are dropped (well under a millisecond)."""

DELAY = 0.3
"""Seconds a buried analysis is kept: the views follow the new one within an event-loop pass or
two. Short, because each one kept is tens of MB for a 10,000-node design, and a user editing
fast replaces several a second."""

SLICE_SECONDS = 0.001
"""Time a slice frees rows for before the thread sleeps. Counted in time, not rows: 256 rows of
a chain take 0.3 ms, but 256 concat rows of a dense block of 2,000 convs (up to 2,000 inputs
each, their shapes and names) took 7.7 ms in one go, holding the interpreter while the window
repainted beside it."""

ROWS_PER_STEP = 4
"""Rows dropped between two looks at the clock (a dense block's concat row: about 30 µs)."""

PAUSE = 0.004
"""Seconds the thread sleeps between slices. Not less: slices of a fraction of a millisecond
with 1 ms sleeps meant 460 wake-ups for one dense block, each taking the interpreter from the
UI thread or a worker mid-task, and a redo's refresh beside them froze the window up to 53 ms."""


def _no_pause() -> None:
    """Outside the window (the command line, tests) nothing waits."""


_pause: Callable[[], object] = _no_pause


def set_pause(pause: Callable[[], object]) -> None:
    """Call ``pause()`` on the graveyard's thread before each slice. The window installs one
    that waits while it refreshes (``ui.workers.wait_while_held``): a slice beside a repaint
    takes the interpreter from it, and beside a redo's refresh, its views' repaints and two
    workers, 4% of the runs froze the window 40-53 ms."""
    global _pause
    _pause = pause


_queue: queue.SimpleQueue[tuple[float, Analysis | list[Any]]] = queue.SimpleQueue()
_thread: threading.Thread | None = None
_lock = threading.Lock()
_idle = threading.Event()
_idle.set()


def bury(analysis: Analysis) -> None:
    """Let ``analysis`` be freed on the graveyard's thread (if it is large; else do nothing:
    the caller's reference goes as usual)."""
    if len(analysis.rows) >= MIN_ROWS:
        _put(analysis)


def bury_rows(rows: list[Any]) -> None:
    """Let the rows of an analysis that stopped half-way (cancelled by a newer edit) be freed
    on the graveyard's thread; the list is taken over: the caller must not use it again."""
    if len(rows) >= MIN_ROWS:
        _put(rows)


def _put(buried: Analysis | list[Any]) -> None:
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_work, name="convdesigner-graveyard", daemon=True)
            _thread.start()
        _idle.clear()
        _queue.put((time.monotonic() + DELAY, buried))


def wait_until_empty(timeout: float | None = None) -> bool:
    """True once every buried analysis has been released (for tests)."""
    return _idle.wait(timeout)


def _work() -> None:
    while True:
        due, buried = _queue.get()
        time.sleep(max(0.0, due - time.monotonic()))
        if isinstance(buried, list):
            rows, fields = buried, []
        else:
            rows = list(buried.rows)
            fields = list(buried.carried_fields.values())
        del buried  # the analysis object, its tuples and dicts: the rows are still ours
        for held in (rows, fields):
            while held:
                _pause()
                free_slice(held)
                time.sleep(PAUSE)
        with _lock:
            if _queue.empty():
                _idle.set()


def free_slice(held: list[Any], clock: Callable[[], float] = time.perf_counter) -> None:
    """Drop rows from the end of ``held`` for about :data:`SLICE_SECONDS` (at least a step)."""
    deadline = clock() + SLICE_SECONDS
    while held:
        del held[-ROWS_PER_STEP:]
        if clock() >= deadline:
            return
