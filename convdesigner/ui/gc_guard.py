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

from PySide6.QtCore import QObject, QTimer


def collect_if_due() -> None:
    """Collect the generations whose thresholds were crossed, as the automatic collector would."""
    count0, count1, count2 = gc.get_count()
    limit0, limit1, limit2 = gc.get_threshold()
    if count0 > limit0:
        gc.collect(0)
        if count1 > limit1:
            gc.collect(1)
            if count2 > limit2:
                gc.collect(2)


def freeze_long_lived() -> None:
    """Collect once, then exempt every object alive now from later collections (``gc.freeze``).

    Called once the window and the viewer are up: what exists then (modules, classes, widgets,
    NumPy and pyqtgraph) lives until exit, yet a full collection walked all of it again, 20-30 ms
    on the UI thread each time it came due. Afterwards a full collection only walks what was
    made since. Objects frozen here are still freed by reference counting; only reference cycles
    among them would outlive their use, and the start-up objects form none that matter.
    """
    gc.collect()
    gc.freeze()


class MainThreadCollector(QObject):
    """Owns the timer; parent it to the QApplication so it lives as long as the app."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 500) -> None:
        super().__init__(parent)
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(collect_if_due)
        self._timer.start(interval_ms)
