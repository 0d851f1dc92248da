"""Cooperative cancellation of long computations (engine runs, viewer jobs).

Its own module because both the engine and the code that schedules it (the GUI's worker, a
script) need it, and neither should depend on the other to get it.
"""

from __future__ import annotations

import threading

__all__ = ["CancelToken", "Cancelled"]


class Cancelled(Exception):
    """The run was abandoned through its :class:`CancelToken`."""


class CancelToken:
    """Set from any thread; the running computation notices between layers and chunks."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()
