"""Shared fixtures for the Qt tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThreadPool


@pytest.fixture(autouse=True)
def _no_worker_left_running() -> Iterator[None]:
    """Fail a test that leaves a background job running: it would outlive the widgets it reports to.

    A pool thread may still be returning from ``run()`` right after its job signalled completion,
    so allow it a moment; a real leak (a computation still going) takes far longer.
    """
    yield
    pool = QThreadPool.globalInstance()
    if pool.activeThreadCount():
        pool.waitForDone(250)
    assert pool.activeThreadCount() == 0, "a QThreadPool job is still running after the test"
