"""The file side of the window: open, save, export, templates, recent files, the unsaved-changes
question and dropped files.

:class:`DocumentFiles` works on the window's :class:`~convdesigner.core.document.Document` (the
state and its clean mark live there) and only adds what needs a user: dialogs, message boxes,
status-bar messages and the recent-files list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from convdesigner.core.design import Design
from convdesigner.core.document import Document
from convdesigner.core.fileformat import DesignFileError, load_design, save_design
from convdesigner.core.table import to_csv
from convdesigner.ui import mime
from convdesigner.ui.settings import add_recent_file, recent_files


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

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 5000)

    def open_design(self, path: str) -> bool:
        """Open a design file, asking first to save unsaved changes. False if not opened."""
        if not self.maybe_save():
            return False
        try:
            design = load_design(path)
        except DesignFileError as exc:
            problems = "\n".join(f"• {p}" for p in exc.problems[:10])
            QMessageBox.warning(
                self.window,
                "Cannot open design",
                f"{Path(path).name} could not be opened; the current design is unchanged.\n\n"
                f"{problems}",
            )
            return False
        self.document.load(design, str(path))
        add_recent_file(str(path))
        self._status(f"Opened {path}")
        return True

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
