"""Let a responsive thread share the interpreter with pure-Python work running beside it.

CPython lets a thread keep the interpreter lock for the switch interval (5 ms by default) when
another one asks for it. A thread that runs pure Python (an analysis of 10,000 nodes, the JSON
of a large design) therefore makes every call into Python of a UI thread wait up to 5 ms: a
repaint of the window's views that takes 10 ms took 28-139 ms beside such a thread, and
10-23 ms with a 1 ms interval. Work that spends its time in NumPy releases the lock itself and
needs none of this.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator

PYTHON_SWITCH_INTERVAL = 0.001
"""Seconds between the interpreter's thread switches while pure-Python background work runs."""

_lock = threading.Lock()
_users = 0
_default = 0.005


@contextlib.contextmanager
def short_switch_interval() -> Iterator[None]:
    """Switch threads every :data:`PYTHON_SWITCH_INTERVAL` while the block runs (the interval
    is process-wide: the previous one comes back when the last such block ends)."""
    global _users, _default
    with _lock:
        if _users == 0:
            _default = sys.getswitchinterval()
            sys.setswitchinterval(min(PYTHON_SWITCH_INTERVAL, _default))
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                sys.setswitchinterval(_default)


# --------------------------------------------------------------------------- checkpoints

_local = threading.local()


def checkpoint() -> None:
    """Where a long pure-Python loop may wait for a responsive thread (a no-op unless the
    thread running it installed a hook with :func:`checkpoints`).

    The switch interval bounds how long a waiting thread waits for the interpreter, but a UI
    thread that calls into Python hundreds of times per repaint waits up to that long on each
    call: beside a 10,000-node analysis a 10 ms refresh of the window took 25-57 ms. A loop
    that calls this every few hundred steps lets its scheduler pause it while the window
    refreshes instead.
    """
    hook: Callable[[], None] | None = getattr(_local, "hook", None)
    if hook is not None:
        hook()


@contextlib.contextmanager
def checkpoints(hook: Callable[[], None]) -> Iterator[None]:
    """Call ``hook`` at every :func:`checkpoint` this thread reaches inside the block."""
    previous = getattr(_local, "hook", None)
    _local.hook = hook
    try:
        yield
    finally:
        _local.hook = previous
