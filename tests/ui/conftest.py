"""Shared fixtures for the Qt tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThreadPool
from pytestqt.qtbot import QtBot

from convdesigner.ui.main_window import MainWindow


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
    from convdesigner.ui.workers import running_jobs  # private pools of background workers

    assert running_jobs() == 0, "a LatestWorker job is still running after the test"


@pytest.fixture(autouse=True)
def _isolated_settings(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep the app's QSettings (layout, recent files) and its data (autosave copies, log) out
    of the user's real configuration."""
    from PySide6.QtCore import QSettings

    folder = str(tmp_path_factory.mktemp("settings"))
    monkeypatch.setenv("CONVDESIGNER_SETTINGS_DIR", folder)
    monkeypatch.setenv("CONVDESIGNER_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, folder)


@pytest.fixture(autouse=True)
def _no_unexpected_dialogs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A modal message box would hang an offscreen test: fail instead (tests that expect one
    monkeypatch it themselves, which overrides this)."""
    from PySide6.QtWidgets import QMessageBox

    def unexpected(*args: object, **kwargs: object) -> object:
        raise AssertionError(f"unexpected message box: {args[1:3]}")

    for name in ("warning", "critical", "information", "question", "about"):
        monkeypatch.setattr(QMessageBox, name, unexpected)


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    """A shown MainWindow with the Q&A example; closed without a save prompt at teardown."""
    win = MainWindow()
    win.show()
    qtbot.waitExposed(win)
    yield win
    # Not qtbot.addWidget: pytest-qt would close it before this fixture could mark it saved.
    win.undo_stack.setClean()
    win.close()
    win.deleteLater()
