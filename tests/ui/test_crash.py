"""Unexpected exceptions: a dialog with the details, the work autosaved, the app still running,
the traceback in a rotating log file in the application-data folder."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from convdesigner.core.autosave import read_copy
from convdesigner.ui import crash
from convdesigner.ui.crash import CrashHandler, install_log
from convdesigner.ui.main_window import MainWindow
from convdesigner.ui.recovery import Autosave

pytestmark = pytest.mark.qt_no_exception_capture  # the hook under test must see them


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    dialogs: list[tuple[str, str, str]] = []
    monkeypatch.setattr(crash, "show_error", lambda _p, *texts: dialogs.append(texts))
    return dialogs


@pytest.fixture
def handler(window: MainWindow, tmp_path: Path) -> Iterator[tuple[CrashHandler, Autosave]]:
    autosave = Autosave(window, tmp_path / "autosave")
    installed = CrashHandler(window, autosave.write_now, install_log(tmp_path))
    yield installed, autosave
    installed.uninstall()
    crash.close_log()


def _raise_in_slot() -> None:
    raise RuntimeError("broken slot 1234")


def test_error_in_a_slot_shows_the_details_saves_the_work_and_the_app_runs_on(
    window: MainWindow,
    handler: tuple[CrashHandler, Autosave],
    shown: list[tuple[str, str, str]],
    qtbot: QtBot,
    tmp_path: Path,
) -> None:
    _, autosave = handler
    window.document.change(window.design.nodes[0].id, filters=55)  # unsaved work
    QTimer.singleShot(0, _raise_in_slot)
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=5000)
    summary, details, note = shown[0]
    assert summary == "RuntimeError: broken slot 1234"
    assert "Traceback" in details
    assert "_raise_in_slot" in details
    assert "autosaved" in note
    assert str(tmp_path / crash.LOG_NAME) in note
    assert read_copy(autosave.saver.file).design == window.design
    # Still processing events, still editable.
    later: list[bool] = []
    QTimer.singleShot(0, lambda: later.append(True))
    qtbot.waitUntil(lambda: later == [True], timeout=5000)
    window.document.change(window.design.nodes[0].id, filters=56)
    assert window.table_model.analysis.design == window.design
    log_text = (tmp_path / crash.LOG_NAME).read_text(encoding="utf-8")
    assert "broken slot 1234" in log_text
    assert "Traceback" in log_text


def test_error_in_a_thread_is_shown_by_the_main_thread(
    handler: tuple[CrashHandler, Autosave],
    shown: list[tuple[str, str, str]],
    qtbot: QtBot,
    tmp_path: Path,
) -> None:
    def worker() -> None:
        raise ValueError("worker failed")

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=5000)
    assert shown[0][0] == "ValueError: worker failed"
    assert "worker failed" in (tmp_path / crash.LOG_NAME).read_text(encoding="utf-8")


def test_an_error_repeating_while_the_dialog_is_open_shows_one_dialog(
    handler: tuple[CrashHandler, Autosave], monkeypatch: pytest.MonkeyPatch
) -> None:
    installed, _ = handler
    dialogs: list[str] = []

    def show_and_fail_again(_parent: object, summary: str, *_texts: str) -> None:
        dialogs.append(summary)
        if len(dialogs) == 1:
            try:
                raise KeyError("again")
            except KeyError:
                sys.excepthook(*sys.exc_info())

    monkeypatch.setattr(crash, "show_error", show_and_fail_again)
    try:
        raise RuntimeError("first")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    assert dialogs == ["RuntimeError: first"]
    installed.uninstall()
    assert sys.excepthook != installed._hook


def test_the_dialog_has_the_traceback_as_copyable_details(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    boxes: list[QMessageBox] = []

    def keep(box: QMessageBox) -> int:
        boxes.append(box)
        return 0

    monkeypatch.setattr(QMessageBox, "exec", keep)
    crash.show_error(window, "RuntimeError: x", "Traceback (most recent call last): ...", "note")
    assert boxes[0].detailedText().startswith("Traceback")
    assert "RuntimeError: x" in boxes[0].text()
    assert boxes[0].icon() == QMessageBox.Icon.Critical


def test_the_log_rotates_at_a_megabyte_keeping_three(tmp_path: Path) -> None:
    file = install_log(tmp_path)
    try:
        assert file == tmp_path / "convdesigner.log"
        line = "x" * 100_000
        for _ in range(45):
            logging.getLogger("convdesigner.ui").warning(line)
        names = sorted(p.name for p in tmp_path.iterdir())
        assert names == [f"convdesigner.log{s}" for s in ("", ".1", ".2", ".3")]
        assert all(p.stat().st_size <= 1_200_000 for p in tmp_path.iterdir())
    finally:
        crash.close_log()


def test_the_app_installs_the_hook_while_it_runs_and_logs_to_the_data_folder(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    from convdesigner.ui import app as app_module
    from convdesigner.ui.settings import app_data_dir

    monkeypatch.setattr("convdesigner.ui.app.signal.signal", lambda *args: None)
    monkeypatch.setattr(app_module, "_install_viewer", lambda _window: None)
    hooks: list[object] = []
    windows: list[MainWindow] = []

    def exec_once(_app: QApplication) -> int:
        for _ in range(5):  # the after-paint callbacks run now, not in a later test
            QApplication.processEvents()
        hooks.append(sys.excepthook)
        windows.extend(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
        return 0

    monkeypatch.setattr(QApplication, "exec", exec_once)
    before = sys.excepthook
    assert app_module.main([]) == 0
    assert isinstance(getattr(hooks[0], "__self__", None), CrashHandler)
    assert sys.excepthook == before  # put back when the app is done
    assert (app_data_dir() / crash.LOG_NAME).is_file()
    for window in windows:
        window.undo_stack.setClean()
        window.close()
        window.deleteLater()  # with its timers
