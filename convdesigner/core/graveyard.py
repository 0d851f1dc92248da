"""Large analyses released on a background thread, a few hundred rows at a time.

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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from convdesigner.core.analysis import Analysis

MIN_ROWS = 1000
"""Smaller analyses are freed where they are dropped (well under a millisecond)."""

DELAY = 0.3
"""Seconds a buried analysis is kept: the views follow the new one within an event-loop pass or
two. Short, because each one kept is tens of MB for a 10,000-node design, and a user editing
fast replaces several a second."""

SLICE = 256
"""Work freed at a time (about 0.3 ms) before the thread sleeps, in rows: a row of a chain
counts 1, a merge's row 1 more per :data:`INPUTS_PER_ROW` inputs."""

INPUTS_PER_ROW = 32
"""Inputs of a merge whose row costs about as much to free as one row: 256 concat rows of a
dense block of 2,000 convs (up to 2,000 inputs each, their shapes and names) took 7.7 ms to free
in one go, holding the interpreter while the window repainted beside it."""

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
                free_slice(held)
                time.sleep(0.001)
        with _lock:
            if _queue.empty():
                _idle.set()


def free_slice(held: list[Any]) -> None:
    """Drop rows from the end of ``held`` until about :data:`SLICE` rows' worth of work is done
    (at least one row)."""
    work = 0
    end = len(held)
    while end and work < SLICE:
        end -= 1
        work += 1 + len(getattr(held[end], "inputs", ())) // INPUTS_PER_ROW
    del held[end:]
