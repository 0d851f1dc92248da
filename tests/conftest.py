"""Shared test setup: Qt runs offscreen, so the whole suite works without a display."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")


def pytest_configure(config: object) -> None:
    """Collect garbage only between tests, as the app collects only between events.

    Automatic collection inside a Qt call that holds Qt's signal/slot mutex can free a widget
    whose destructor needs that mutex: a deadlock (see convdesigner/ui/gc_guard.py).
    """
    gc.disable()


@pytest.fixture(autouse=True)
def _collect_garbage_between_tests() -> Iterator[None]:
    yield
    count0, _, _ = gc.get_count()
    limit0, _, _ = gc.get_threshold()
    if count0 > limit0:
        gc.collect()
