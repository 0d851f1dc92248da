"""The entry point: argument parsing, a bad file on the command line, the shared QApplication."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from convdesigner.core.fileformat import save_design
from convdesigner.core.templates import load_template
from convdesigner.ui import app as app_module
from convdesigner.ui.main_window import MainWindow
from tests.ui.ui_helpers import record


def test_create_app_reuses_the_running_instance(qapp: QApplication) -> None:
    assert app_module.create_app() is qapp
    assert app_module.create_app() is QApplication.instance()


def test_parser_takes_an_optional_design() -> None:
    parser = app_module.build_parser()
    assert parser.parse_args([]).design is None
    assert parser.parse_args(["x.json"]).design == "x.json"


def test_unknown_option_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        app_module.build_parser().parse_args(["--frobnicate"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--frobnicate" in err


def _run_main(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> list[MainWindow]:
    """Run main() with the event loop replaced by one pass of pending events."""
    # Keep pytest's own Ctrl+C handling: main() would install the app's.
    monkeypatch.setattr("convdesigner.ui.app.signal.signal", lambda *args: None)
    # The feature-map viewer has its own tests; here it would only start background work.
    installed: list[MainWindow] = []
    monkeypatch.setattr(app_module, "_install_viewer", installed.append)
    windows: list[MainWindow] = []
    original_show = MainWindow.show

    def show(self: MainWindow) -> None:
        windows.append(self)
        original_show(self)

    monkeypatch.setattr(MainWindow, "show", show)

    def exec_once(self: QApplication) -> int:
        for _ in range(5):
            QApplication.processEvents()
        return 0

    monkeypatch.setattr(QApplication, "exec", exec_once)
    assert app_module.main(argv) == 0
    assert installed == windows  # the viewer is added once the window has painted
    return windows


def test_main_opens_the_given_design(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "lenet.json"
    save_design(load_template("lenet5"), path)
    windows = _run_main(monkeypatch, [str(path)])
    assert windows[0].design == load_template("lenet5")
    assert windows[0].path == str(path)
    windows[0].close()


def test_main_with_a_bad_file_says_why_and_shows_the_example(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    windows = _run_main(monkeypatch, [str(tmp_path / "nope.json")])
    assert len(shown) == 1
    assert "no such file" in shown[0]
    assert windows[0].design == load_template("qa-example")
    windows[0].close()


def test_ctrl_c_in_the_terminal_closes_windows_asking_to_save(
    qapp: QApplication, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    handlers: dict[int, object] = {}
    monkeypatch.setattr(
        "convdesigner.ui.app.signal.signal", lambda sig, handler: handlers.update({sig: handler})
    )
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    asked: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "question", lambda *a: record(asked, a[2], QMessageBox.StandardButton.Cancel)
    )
    win.apply_design(win.design.with_name("changed"), "Rename")
    timer = app_module._close_on_interrupt(qapp)
    try:
        handlers[signal.SIGINT](signal.SIGINT, None)  # type: ignore[operator]
        assert len(asked) == 1  # unsaved changes: the usual question, and Cancel keeps it open
        assert win.isVisible()
        win.undo_stack.setClean()
        handlers[signal.SIGINT](signal.SIGINT, None)  # type: ignore[operator]
        assert not win.isVisible()
    finally:
        timer.stop()
        timer.deleteLater()
