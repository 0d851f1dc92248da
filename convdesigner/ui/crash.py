"""Unexpected exceptions in the window: log them, save the user's work, say so, keep running.

Qt calls ``sys.excepthook`` for an exception escaping a slot or an event handler and then goes
on with the event loop, so the app survives; without this hook the user would only see a
traceback in a terminal they probably do not have. Exceptions in Python threads (the feature-map
workers) arrive through ``threading.excepthook`` and are shown by the main thread.

The log is a rotating file in the application-data folder (three old files of 1 MB kept), so a
user can attach it to a bug report; the dialog names it.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

LOG_NAME = "convdesigner.log"
LOG_BYTES = 1_000_000
LOG_BACKUPS = 3
log = logging.getLogger("convdesigner")


def install_log(folder: Path) -> Path | None:
    """Log the app's warnings and errors to ``folder/convdesigner.log``; None if it cannot be
    written (the app then runs without a log rather than not at all)."""
    file = folder / LOG_NAME
    close_log()  # one log at a time (tests start the app many times)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            file, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        print(f"convdesigner: no log file ({exc})", file=sys.stderr)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return file


def close_log() -> None:
    for old in list(log.handlers):
        if isinstance(old, logging.handlers.RotatingFileHandler):
            log.removeHandler(old)
            old.close()


def show_error(parent: QWidget | None, summary: str, details: str, note: str) -> None:
    """The dialog (tests replace this function): the summary, what was done, and the traceback
    as selectable, copyable details."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("Unexpected Error")
    box.setText(f"Something went wrong: {summary}")
    box.setInformativeText(note)
    box.setDetailedText(details)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.exec()


class CrashHandler(QObject):
    """Installed for the lifetime of the app; :meth:`uninstall` puts the old hooks back."""

    _fromThread = Signal(str, str)

    def __init__(
        self,
        parent: QWidget,
        save_work: Callable[[], bool],
        log_file: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._save_work = save_work
        self._log_file = log_file
        self._showing = False
        self._previous_hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        self._fromThread.connect(self._report, Qt.ConnectionType.QueuedConnection)
        sys.excepthook = self._hook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        if sys.excepthook == self._hook:
            sys.excepthook = self._previous_hook
        if threading.excepthook == self._thread_hook:
            threading.excepthook = self._previous_thread_hook

    def _hook(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            self._previous_hook(exc_type, exc, tb)
            return
        summary, details = _texts(exc_type, exc, tb)
        log.error("unexpected error\n%s", details)
        if threading.current_thread() is threading.main_thread():
            self._report(summary, details)
        else:
            self._fromThread.emit(summary, details)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        self._hook(args.exc_type, args.exc_value, args.exc_traceback)

    def _report(self, summary: str, details: str) -> None:
        try:
            saved = self._save_work()
        except Exception:  # the error may well have broken the document too
            log.exception("autosave after the error failed")
            saved = False
        if self._showing:  # an error repeating on every paint: one dialog is enough
            return
        note = (
            "ConvDesigner keeps running. "
            + ("Your unsaved design was autosaved. " if saved else "")
            + "Saving your work under a new name now is wise."
        )
        if self._log_file is not None:
            note += f"\n\nThe details are also in the log: {self._log_file}"
        self._showing = True
        try:
            show_error(self._parent, summary, details, note)
        except RuntimeError:  # the window is already gone (an error while quitting)
            log.exception("could not show the error")
        finally:
            self._showing = False


def _texts(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> tuple[str, str]:
    details = "".join(traceback.format_exception(exc_type, exc, tb))
    summary = f"{exc_type.__name__}: {exc}" if str(exc) else exc_type.__name__
    return summary[:300], details
