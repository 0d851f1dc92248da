"""The window's side of autosave (core/autosave.py): when to write, and the recovery dialog.

The copy is written two seconds after the first unsaved change, then at most every two seconds
while edits continue (a held spin-box arrow does not postpone it for ever), and removed as soon
as the document matches its file again (saved, or undone back) and when the window closes
normally (the user saved or discarded). Only a crash or a kill leaves it behind.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from convdesigner.core.autosave import Autosaver, Recovered, age_text, discard, orphaned_copies
from convdesigner.core.autosave import recover as recover_into
from convdesigner.core.document import Change, ChangeKind
from convdesigner.core.fileformat import DesignFileError, load_design
from convdesigner.ui.settings import app_data_dir

if TYPE_CHECKING:
    from convdesigner.ui.main_window import MainWindow

AUTOSAVE_DELAY_MS = 2000
log = logging.getLogger(__name__)


def autosave_dir() -> Path:
    return app_data_dir() / "autosave"


class Autosave(QObject):
    """Keeps the window's autosave copy up to date."""

    def __init__(self, window: MainWindow, folder: Path | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.saver = Autosaver(autosave_dir() if folder is None else folder)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(AUTOSAVE_DELAY_MS)
        self.timer.timeout.connect(self._write_soon)
        self._failed = False
        self.document.subscribe(self._changed)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._quitting)

    def _changed(self, change: Change) -> None:
        if change.kind is ChangeKind.SELECT:
            return
        if self.document.is_clean:
            self.timer.stop()
            self.saver.remove()
        elif not self.timer.isActive():
            self.timer.start()

    def _write_soon(self) -> None:
        if self.document.is_clean:
            self.saver.remove()
            return
        error = self.saver.last_error  # of the previous background write
        if error is not None and not self._failed:  # say it once, not every two seconds
            self.window.statusBar().showMessage(f"Autosave failed: {error}", 10000)
        self._failed = error is not None
        self.saver.write_soon(self.document)

    def write_now(self) -> bool:
        """Write the copy at once (also after an unexpected error); False if it failed."""
        self.timer.stop()
        if self.document.is_clean:
            self.saver.remove()
            return True
        try:
            self.saver.write(self.document)
        except (OSError, ValueError) as exc:
            log.warning("autosave to %s failed: %s", self.saver.file, exc)
            if not self._failed:  # say it once, not every two seconds
                self.window.statusBar().showMessage(f"Autosave failed: {exc}", 10000)
            self._failed = True
            return False
        self._failed = False
        return True

    def _quitting(self) -> None:
        # Closed normally means saved or discarded; still shown means the app is quitting
        # some other way (logout), so the copy is kept up to date instead.
        if self.window.isVisible():
            self.write_now()
        else:
            self.timer.stop()
            self.saver.remove()


class RecoveryDialog(QDialog):
    """The copies killed windows left: recover one, delete some, or decide later."""

    def __init__(self, copies: list[Recovered], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recover Unsaved Changes")
        self.chosen: Recovered | None = None
        layout = QVBoxLayout(self)
        text = QLabel(
            "ConvDesigner was closed without saving these designs. Recover one of them?\n"
            "(Later keeps them for the next start.)"
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        self.list = QListWidget()
        for copy in copies:
            item = QListWidgetItem(copy_text(copy))
            item.setData(Qt.ItemDataRole.UserRole, copy)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _item: self._recover())
        # Wide enough for each copy's name, file and time (the time was cut off behind a
        # horizontal scroll bar), up to most of the screen; longer ones end in the tooltip.
        metrics = self.list.fontMetrics()
        widest = max((metrics.horizontalAdvance(copy_text(c)) for c in copies), default=0)
        screen = self.screen().availableGeometry().width() if self.screen() else 1024
        room = (
            widest + 2 * self.list.frameWidth() + self.list.verticalScrollBar().sizeHint().width()
        )
        self.list.setMinimumWidth(min(room + 16, screen * 3 // 4))
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setToolTip(item.text())
        layout.addWidget(self.list)
        buttons = QDialogButtonBox()
        self.recover_button = QPushButton("&Recover")
        self.delete_button = QPushButton("&Delete")
        self.later_button = QPushButton("&Later")
        buttons.addButton(self.recover_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.delete_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton(self.later_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.recover_button.clicked.connect(self._recover)
        self.delete_button.clicked.connect(self._delete)
        self.later_button.clicked.connect(self.reject)
        self.recover_button.setDefault(True)
        layout.addWidget(buttons)

    def _current(self) -> Recovered | None:
        if self.list.currentRow() < 0:
            return None
        copy = self.list.currentItem().data(Qt.ItemDataRole.UserRole)
        return copy if isinstance(copy, Recovered) else None

    def _recover(self) -> None:
        chosen = self._current()
        if chosen is not None:
            self.chosen = chosen
            self.accept()

    def _delete(self) -> None:
        copy = self._current()
        if copy is None:
            return
        discard(copy)
        self.list.takeItem(self.list.currentRow())
        if self.list.count() == 0:
            self.reject()


def copy_text(copy: Recovered) -> str:
    where = Path(copy.path).name if copy.path else "never saved"
    return f"“{copy.name}” ({where}), autosaved {age_text(copy.saved_at)}"


def choose_copy(parent: QWidget, copies: list[Recovered]) -> Recovered | None:
    """Ask which copy to recover (None: none now). Tests replace this function."""
    dialog = RecoveryDialog(copies, parent)
    dialog.exec()
    return dialog.chosen


def offer_recovery(window: MainWindow, autosave: Autosave) -> bool:
    """Offer the copies of windows that are gone; True if one was recovered into ``window``."""
    copies = orphaned_copies(autosave.saver.folder)
    if not copies:
        return False
    copy = choose_copy(window, copies)
    if copy is None or not window.files.maybe_save():
        return False
    file_design = None
    if copy.path is not None:
        try:
            file_design = load_design(copy.path)
        except DesignFileError:
            file_design = None  # moved or damaged since: no file version to undo to
    recover_into(window.document, copy, file_design)
    if autosave.write_now():  # the recovered work is safe in this window's copy first
        discard(copy)
    window.statusBar().showMessage(
        f"Recovered “{copy.name}” as autosaved {age_text(copy.saved_at)}", 10000
    )
    return True
