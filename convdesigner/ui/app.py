"""Application entry: ``convdesigner [DESIGN.json]`` (via ``convdesigner.cli``) opens the window.

Only PySide6 is imported on the way to the first paint; pyqtgraph and the engine load when the
feature-map viewer first needs them, which keeps cold start well under the 1.5 s budget.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from convdesigner import __version__
from convdesigner.cli.errors import UsageParser

if TYPE_CHECKING:
    from convdesigner.ui.main_window import MainWindow
    from convdesigner.ui.recovery import Autosave


def build_parser() -> argparse.ArgumentParser:
    """The app's own options; add more here (e.g. ``--self-test``)."""
    parser = UsageParser(prog="convdesigner", description="Open the ConvDesigner app.")
    parser.add_argument(
        "design",
        nargs="?",
        metavar="DESIGN.json",
        help="a design file to open (default: the Q&A example)",
    )
    return parser


def create_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication, created once (reused if it already exists, e.g. under pytest-qt)."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    QCoreApplication.setOrganizationName("convdesigner")
    QCoreApplication.setApplicationName("convdesigner")
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication([sys.argv[0] if sys.argv else "convdesigner", *(argv or [])])
    QGuiApplication.setApplicationDisplayName("ConvDesigner")
    try:
        from convdesigner.appinfo import APP_ID

        QGuiApplication.setDesktopFileName(APP_ID)
    except ImportError:  # pragma: no cover - partial checkout
        pass
    from convdesigner.core import graveyard
    from convdesigner.ui.gc_guard import MainThreadCollector
    from convdesigner.ui.icons import app_icon
    from convdesigner.ui.theme import follow_system_scheme
    from convdesigner.ui.workers import wait_while_held

    app.setWindowIcon(app_icon())
    follow_system_scheme(app)
    MainThreadCollector(app)
    graveyard.set_pause(wait_while_held)  # large analyses are freed between refreshes
    return app


def main(argv: list[str]) -> int:
    """Run the app; ``argv`` excludes the program name. Returns the exit status."""
    args = build_parser().parse_args(argv)
    app = create_app()
    from convdesigner.ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    from convdesigner.ui.crash import CrashHandler, close_log, install_log
    from convdesigner.ui.recovery import Autosave
    from convdesigner.ui.settings import app_data_dir

    autosave = Autosave(window)
    crash = CrashHandler(window, autosave.write_now, install_log(app_data_dir()))
    # The viewer (NumPy engine, pyqtgraph: about half a second of imports) and a file named on
    # the command line wait for the first paint, so the window appears at once and a bad file's
    # message box shows over a working window.
    window.call_after_first_paint(lambda: _install_viewer(window))
    window.call_after_first_paint(lambda: _start(window, autosave, args.design))
    _close_on_interrupt(app)
    try:
        return app.exec()
    finally:
        crash.uninstall()
        close_log()


def _close_on_interrupt(app: QApplication) -> QTimer:
    """Ctrl+C in the terminal closes the windows (asking to save), as users of a CLI expect.

    Python only runs signal handlers between bytecodes, which the Qt event loop seldom gives it;
    a slow timer lets the interpreter in often enough to react within a fraction of a second.
    """
    signal.signal(signal.SIGINT, lambda _signum, _frame: app.closeAllWindows())
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(250)
    return timer


def _start(window: MainWindow, autosave: Autosave, design: str | None) -> None:
    """Offer what a killed session left, then open the file named on the command line (unless
    recovered work now fills the window: the user can open it again)."""
    from convdesigner.ui.recovery import offer_recovery

    if offer_recovery(window, autosave):
        if design:
            window.statusBar().showMessage(
                f"Recovered unsaved work; {design} was not opened (open it again to see it)", 15000
            )
    elif design:
        window.open_design(design)


def _install_viewer(window: MainWindow) -> None:
    from convdesigner.ui.gc_guard import freeze_long_lived
    from convdesigner.ui.viewer_dock import install_feature_maps

    install_feature_maps(window)
    freeze_long_lived()  # start-up is over: what exists now lives until exit
