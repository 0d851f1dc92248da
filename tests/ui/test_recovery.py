"""Autosave in the window and recovery at start: a killed app's unsaved design comes back exactly,
also when a file is named on the command line; saving or a normal exit removes the copy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from convdesigner.core.autosave import Recovered, orphaned_copies, read_copy
from convdesigner.core.fileformat import design_to_dict, save_design
from convdesigner.core.templates import load_template
from convdesigner.ui import recovery
from convdesigner.ui.main_window import MainWindow
from convdesigner.ui.recovery import Autosave, RecoveryDialog, offer_recovery

# The app is started as a user would (convdesigner.ui.app.main) and driven from a timer that
# finds its window: no test hook in the app itself.
_EDIT_THEN_WAIT = textwrap.dedent(
    """
    import json, sys
    from PySide6.QtCore import QTimer
    from convdesigner.core.fileformat import design_to_dict
    from convdesigner.ui import app
    from convdesigner.ui.main_window import MainWindow

    qapp = app.create_app()

    def edit():
        window = next(w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow))
        doc = window.document
        for n in range(25):
            first = doc.design.nodes[0].id
            if n % 5 == 0:
                doc.insert_entry("relu", 1)
            elif n % 5 == 1:
                doc.change(first, filters=3 + n)
            elif n % 5 == 2:
                doc.rename(f"edited {n}")
            elif n % 5 == 3:
                doc.move(doc.design.nodes[1].id, 2)
            else:
                doc.undo()
        print(json.dumps(design_to_dict(doc.design)), flush=True)

    QTimer.singleShot(0, edit)
    sys.exit(app.main(sys.argv[1:]))
    """
)

_RECOVER_AND_REPORT = textwrap.dedent(
    """
    import json, os, sys
    from PySide6.QtCore import QTimer
    from convdesigner.core.fileformat import design_to_dict
    from convdesigner.ui import app, recovery
    from convdesigner.ui.main_window import MainWindow

    qapp = app.create_app()

    def choose(parent, copies):
        offered = [[c.name, c.saved_at.isoformat()] for c in copies]
        QTimer.singleShot(0, lambda: report(parent, offered))
        return copies[0]

    def report(window, offered):
        doc = window.document
        print(json.dumps({
            "design": design_to_dict(doc.design),
            "path": doc.path,
            "clean": doc.is_clean,
            "offered": offered,
        }), flush=True)
        os._exit(0)

    recovery.choose_copy = choose
    QTimer.singleShot(20000, lambda: os._exit(3))  # never offered
    sys.exit(app.main(sys.argv[1:]))
    """
)


def _env(data: Path, settings: Path) -> dict[str, str]:
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "CONVDESIGNER_DATA_DIR": str(data),
        "CONVDESIGNER_SETTINGS_DIR": str(settings),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }


def _wait_for_copy(folder: Path, expected: dict[str, Any], timeout: float = 30.0) -> float:
    """Seconds until a copy holding ``expected`` appears."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        for file in folder.glob("autosave-*.json"):
            try:
                if design_to_dict(read_copy(file).design) == expected:
                    return time.monotonic() - start
            except Exception:  # being written: try again
                pass
        time.sleep(0.05)
    raise AssertionError("no autosave copy of the edited design appeared")


def test_killed_app_is_recovered_exactly_at_the_next_start(tmp_path: Path) -> None:
    data, settings = tmp_path / "data", tmp_path / "settings"
    env = _env(data, settings)
    app = subprocess.Popen(
        [sys.executable, "-c", _EDIT_THEN_WAIT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert app.stdout is not None
        edited = json.loads(app.stdout.readline())
        _wait_for_copy(data / "autosave", edited)
    finally:
        app.send_signal(signal.SIGKILL)
        app.communicate(timeout=30)
    assert app.returncode == -signal.SIGKILL

    # Started with another file on the command line: the lost work is offered first.
    other = tmp_path / "lenet.json"
    save_design(load_template("lenet5"), other)
    again = subprocess.run(
        [sys.executable, "-c", _RECOVER_AND_REPORT, str(other)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["design"] == edited
    assert report["path"] is None
    assert not report["clean"]
    assert [name for name, _when in report["offered"]] == [edited["name"]]
    # The recovered copy became the new window's own (written before the old one went).
    left = list((data / "autosave").glob("autosave-*.json"))
    assert len(left) == 1
    assert design_to_dict(read_copy(left[0]).design) == edited


_RENAME_THEN_WAIT = textwrap.dedent(
    """
    import json, os, sys
    from PySide6.QtCore import QTimer
    from convdesigner.core.fileformat import design_to_dict
    from convdesigner.ui import app
    from convdesigner.ui.main_window import MainWindow

    qapp = app.create_app()

    def edit():
        window = next(w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow))
        doc = window.document
        doc.rename(os.environ["WINDOW_NAME"])
        doc.change(doc.design.nodes[0].id, filters=int(os.environ["WINDOW_FILTERS"]))
        print(json.dumps(design_to_dict(doc.design)), flush=True)

    QTimer.singleShot(0, edit)
    sys.exit(app.main([]))
    """
)


def test_two_killed_apps_leave_two_copies_and_both_are_offered(tmp_path: Path) -> None:
    """Two windows of two processes at once, each with its own unsaved work, both killed: the
    next start offers both designs (neither copy overwrote the other)."""
    data, settings = tmp_path / "data", tmp_path / "settings"
    apps = [
        subprocess.Popen(
            [sys.executable, "-c", _RENAME_THEN_WAIT],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**_env(data, settings), "WINDOW_NAME": name, "WINDOW_FILTERS": filters},
        )
        for name, filters in (("first window", "11"), ("second window", "22"))
    ]
    try:
        edited = []
        for app in apps:
            assert app.stdout is not None
            edited.append(json.loads(app.stdout.readline()))
        for design in edited:
            _wait_for_copy(data / "autosave", design)
    finally:
        for app in apps:
            app.send_signal(signal.SIGKILL)
            app.communicate(timeout=30)
    again = subprocess.run(
        [sys.executable, "-c", _RECOVER_AND_REPORT],
        capture_output=True,
        text=True,
        env=_env(data, settings),
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert sorted(name for name, _when in report["offered"]) == ["first window", "second window"]
    assert report["design"] in edited  # the one chosen is recovered exactly


def _edit(window: MainWindow) -> None:
    doc = window.document
    doc.change(doc.design.nodes[0].id, filters=77)


def test_copy_written_after_the_delay_and_removed_by_a_save(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    autosave = Autosave(window, tmp_path)
    _edit(window)
    assert autosave.timer.isActive()
    assert autosave.timer.interval() == recovery.AUTOSAVE_DELAY_MS
    assert not autosave.saver.file.exists()
    _edit(window)  # more edits do not postpone the write
    qtbot.waitUntil(autosave.saver.file.exists, timeout=5000)
    assert read_copy(autosave.saver.file).design == window.design
    assert window.save_design_as(str(tmp_path / "saved.json"))
    assert list(tmp_path.glob("autosave-*")) == []


def test_undoing_back_to_the_file_removes_the_copy(window: MainWindow, tmp_path: Path) -> None:
    autosave = Autosave(window, tmp_path)
    _edit(window)
    assert autosave.write_now()
    assert autosave.saver.file.exists()
    window.document.undo()
    assert not autosave.saver.file.exists()
    assert not autosave.timer.isActive()


def test_normal_exit_removes_the_copy_and_a_quit_with_the_window_open_keeps_it(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    autosave = Autosave(window, tmp_path)
    _edit(window)
    autosave._quitting()  # e.g. logout with the window still open
    assert autosave.saver.file.exists()
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Discard)
    window.close()
    autosave._quitting()
    assert list(tmp_path.glob("autosave-*")) == []


def test_dialog_names_each_copy_with_its_time_and_deletes_on_request(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from convdesigner.core.autosave import Autosaver

    dead = tmp_path / "autosave-99999999-00000000.json"  # beyond any pid
    saver = Autosaver(tmp_path)
    _edit(window)
    saver.write(window.document)
    saver.file.rename(dead)
    saver.remove()  # releases the lock: the copy at ``dead`` is now nobody's
    copies = orphaned_copies(tmp_path)
    assert len(copies) == 1
    dialog = RecoveryDialog(copies, window)
    qtbot.addWidget(dialog)
    text = dialog.list.item(0).text()
    local = copies[0].saved_at.astimezone()
    assert window.design.name in text
    assert f"{local:%H:%M:%S}" in text
    assert copies[0].saved_at <= datetime.now(UTC)
    # The whole line in view, the time included (it was cut off behind a scroll bar).
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.list.viewport().width() >= dialog.list.fontMetrics().horizontalAdvance(text)
    assert not dialog.list.horizontalScrollBar().isVisible()
    dialog.delete_button.click()
    assert not dead.exists()
    assert dialog.result() == RecoveryDialog.DialogCode.Rejected


def test_offer_does_nothing_without_copies_and_later_keeps_them(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    autosave = Autosave(window, tmp_path)
    asked: list[list[Recovered]] = []
    monkeypatch.setattr(recovery, "choose_copy", lambda _w, c: asked.append(c))
    assert not offer_recovery(window, autosave)
    assert asked == []
