"""The file side of the window: open, save, export, templates, recent files, the unsaved-changes
question and dropped files.

:class:`DocumentFiles` works on the window's :class:`~convdesigner.core.document.Document` (the
state and its clean mark live there) and only adds what needs a user: dialogs, message boxes,
status-bar messages and the recent-files list.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from convdesigner.core.cancel import CancelToken
from convdesigner.core.design import Design
from convdesigner.core.document import Document
from convdesigner.core.fileformat import DesignFileError, load_design, save_design
from convdesigner.core.table import to_csv
from convdesigner.ui import mime
from convdesigner.ui.settings import add_recent_file, recent_files
from convdesigner.ui.workers import LatestWorker, Progress

BACKGROUND_BYTES = 256 * 1024
"""Design files this large are read on a worker thread (the bundled DenseNet-121 is 63 KB, a
10,000-layer chain 735 KB)."""


def _size(path: str) -> int:
    """The file's size, 0 for anything but a regular file (the loader explains those)."""
    try:
        info = os.stat(path)
    except OSError:
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


class DocumentFiles:
    def __init__(
        self,
        window: QMainWindow,
        document: Document,
        on_image: Callable[[str], None],
        on_new_design: Callable[[Design], None] = lambda _design: None,
    ) -> None:
        self.window = window
        self.document = document
        self._on_image = on_image
        """Where a dropped image goes (the feature-map viewer, through the window)."""
        self._on_new_design = on_new_design
        """Told before a new design replaces the document (views clear what they showed)."""
        self._reader: LatestWorker | None = None
        self._reading: tuple[str, Design] | None = None
        """(path, the design shown when the reading started) of a large file being read."""

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 5000)

    def open_design(self, path: str) -> bool:
        """Open a design file, asking first to save unsaved changes. False if not opened.

        A large file (:data:`BACKGROUND_BYTES` and up) is read on a worker thread: parsing and
        checking a 10,000-layer design took 275-410 ms of the UI thread. Then True means the
        reading started; the design replaces the document when it is read (or a warning says
        why it cannot be).
        """
        if not self.maybe_save():
            return False
        if _size(path) >= BACKGROUND_BYTES:
            return self._open_in_background(path)
        try:
            design = load_design(path)
        except DesignFileError as exc:
            self._cannot_open(path, exc)
            return False
        self._opened(design, path)
        return True

    def _opened(self, design: Design, path: str) -> None:
        self.document.load(design, str(path))
        add_recent_file(str(path))
        self._status(f"Opened {path}")

    def _cannot_open(self, path: str, exc: DesignFileError) -> None:
        problems = "\n".join(f"• {p}" for p in exc.problems[:10])
        QMessageBox.warning(
            self.window,
            "Cannot open design",
            f"{Path(path).name} could not be opened; the current design is unchanged.\n\n"
            f"{problems}",
        )

    @property
    def reading(self) -> bool:
        """A large design file is being read on the worker thread."""
        return self._reading is not None

    def _open_in_background(self, path: str) -> bool:
        if self._reader is None:
            self._reader = LatestWorker(self.window, background=True, python_bound=True, priority=0)
            self._reader.resultReady.connect(self._read)
            self._reader.jobFailed.connect(self._read_failed)

        def job(_token: CancelToken, _progress: Progress) -> Design:
            return load_design(path)

        self._reading = (path, self.document.design)
        self._reader.submit(job)
        self.window.statusBar().showMessage(f"Opening {Path(path).name}…")
        return True

    def _read(self, _request: int, design: object) -> None:
        reading, self._reading = self._reading, None
        if reading is None or not isinstance(design, Design):
            return
        path, before = reading
        self.window.statusBar().clearMessage()
        # Edited while the file was read: what was asked to be saved is not what is there now.
        if self.document.design is not before and not self.maybe_save():
            return
        self._opened(design, path)

    def _read_failed(self, _request: int, error: object) -> None:
        reading, self._reading = self._reading, None
        self.window.statusBar().clearMessage()
        if reading is None:
            return
        if isinstance(error, DesignFileError):
            self._cannot_open(reading[0], error)
        else:
            self._cannot_open(reading[0], DesignFileError([str(error)]))

    def shutdown(self) -> None:
        """Stop reading (the window closes)."""
        self._reading = None
        if self._reader is not None:
            self._reader.shutdown()

    def save_design_as(self, path: str) -> bool:
        """Save to ``path`` (atomically) and make it the current file."""
        try:
            save_design(self.document.design, path)
        except OSError as exc:
            QMessageBox.warning(
                self.window, "Cannot save", f"Could not save to {path}: {exc.strerror or exc}"
            )
            return False
        self.document.mark_clean(str(path))
        add_recent_file(str(path))
        self._status(f"Saved {path}")
        return True

    def save(self) -> bool:
        path = self.document.path
        return self.save_as_dialog() if path is None else self.save_design_as(path)

    def open_dialog(self) -> bool:
        path, _filter = QFileDialog.getOpenFileName(
            self.window, "Open Design", self.dialog_folder(), "Design files (*.json);;All files (*)"
        )
        return bool(path) and self.open_design(path)

    def save_as_dialog(self) -> bool:
        doc = self.document
        suggested = doc.path or str(Path(self.dialog_folder()) / f"{_slug(doc.design.name)}.json")
        path, _filter = QFileDialog.getSaveFileName(
            self.window, "Save Design As", suggested, "Design files (*.json)"
        )
        if not path:
            return False
        if not path.lower().endswith(".json"):
            path += ".json"
        return self.save_design_as(path)

    def export_table_dialog(self) -> bool:
        """File → Export Layer Table: the same CSV as ``convdesigner summary --format csv``."""
        doc = self.document
        stem = Path(doc.path).stem if doc.path else _slug(doc.design.name)
        suggested = str(Path(self.dialog_folder()) / f"{stem}-layers.csv")
        path, _filter = QFileDialog.getSaveFileName(
            self.window, "Export Layer Table", suggested, "CSV files (*.csv)"
        )
        return bool(path) and self.export_table(path)

    def export_table(self, path: str) -> bool:
        try:
            to_csv(self.document.analysis, path)
        except OSError as exc:
            QMessageBox.warning(
                self.window, "Cannot export", f"Could not write {path}: {exc.strerror or exc}"
            )
            return False
        self._status(f"Exported the layer table to {path}")
        return True

    def maybe_save(self) -> bool:
        """Ask Save/Discard/Cancel if there are unsaved changes; True means "go ahead"."""
        doc = self.document
        if doc.is_clean:
            return True
        name = Path(doc.path).name if doc.path else doc.design.name
        answer = QMessageBox.question(
            self.window,
            "Unsaved changes",
            f"“{name}” has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_from_template(self, template_id: str) -> bool:
        """Start a new (unsaved) design from a bundled template; undoable."""
        if not self.maybe_save():
            return False
        from convdesigner.core.templates import load_template

        try:
            template = load_template(template_id)
        except (KeyError, DesignFileError) as exc:
            QMessageBox.warning(self.window, "Cannot load template", str(exc))
            return False
        self._start(started_from(template), f"New from {template.name}")
        return True

    def new_empty(self) -> bool:
        """Start an empty design (just an input), undoable like a template."""
        if not self.maybe_save():
            return False
        self._start(Design(), "New empty design")
        return True

    def _start(self, design: Design, text: str) -> None:
        # Views drop the previous design's maps and titles at once (see designOpened).
        self._on_new_design(design)
        self.document.start_from(design, text)

    def open_dropped_files(self, paths: list[str]) -> None:
        designs = [p for p in paths if mime.is_design_file(p)]
        images = [p for p in paths if not mime.is_design_file(p)]
        if designs:
            self.open_design(designs[0])
        if images:
            self._on_image(images[0])

    def dialog_folder(self) -> str:
        path = self.document.path
        if path:
            return str(Path(path).parent)
        files = recent_files()
        return str(Path(files[0]).parent) if files else str(Path.home())


def started_from(template: Design) -> Design:
    """A new design made from ``template``: its own name, and a description that stays true
    once the user edits it (the template's own describes the template)."""
    return replace(
        template,
        name=f"Untitled (from {template.name})",
        description=f"Started from the {template.name} template.",
    )


def _slug(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.strip().lower())
    return "-".join(part for part in cleaned.split("-") if part) or "design"
