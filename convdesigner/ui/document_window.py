"""The document side of the main window: one design, its file, its undo stack.

:class:`DocumentWindow` owns the current :class:`DocState` and replaces it only through undo
commands, so every edit, undo, redo and load takes one path (:meth:`_apply_state`) and ends in
one ``designChanged`` signal. It also does what concerns the file: open, save, export, templates,
the Save/Discard/Cancel question and dropped files. The views live in the subclass
(:class:`convdesigner.ui.main_window.MainWindow`), which the hooks below keep informed.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path

from PySide6.QtCore import QMetaMethod, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent, QUndoStack
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from convdesigner.core.analysis import Analysis, analyse
from convdesigner.core.design import Design
from convdesigner.core.fileformat import DesignFileError, load_design, save_design
from convdesigner.core.table import to_csv
from convdesigner.ui import mime
from convdesigner.ui.commands import DocState, ReplaceDesignCommand
from convdesigner.ui.settings import add_recent_file, recent_files

APP_TITLE = "ConvDesigner"


class DocumentWindow(QMainWindow):
    designChanged = Signal(object)
    """The new Design, after every edit, undo, redo or load."""
    imageFileDropped = Signal(str)
    """An image file (png/jpg/jpeg/bmp/npy) was dropped on the window."""

    def __init__(self, design: Design, path: str | None = None) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        self.undo_stack = QUndoStack(self)
        self._state = DocState(design, None, path)
        self._selection: int | None = None
        self._analysis = analyse(design)
        self.undo_stack.cleanChanged.connect(self._clean_changed)

    # ------------------------------------------------------------------ hooks for the views

    def _state_installed(self, state: DocState) -> None:
        """A new state is in place (edit, undo, redo or load): update every view."""

    def _loaded(self) -> None:
        """A file or template was loaded (views may re-fit their columns)."""

    def _closing(self) -> None:
        """The window is about to close for good (save the layout)."""

    def _update_title(self) -> None:
        name = Path(self.path).name if self.path else "not saved"
        self.setWindowTitle(f"{self.design.name} ({name})[*] — {APP_TITLE}")
        self.setWindowFilePath(self.path or "")

    # ------------------------------------------------------------------ the document

    @property
    def design(self) -> Design:
        return self._state.design

    @property
    def analysis(self) -> Analysis:
        if self._analysis.design is not self._state.design:
            self._analysis = analyse(self._state.design)
        return self._analysis

    @property
    def path(self) -> str | None:
        """The file the design was opened from or saved to (None: never saved)."""
        return self._state.path

    def apply_design(self, new: Design, text: str) -> None:
        """Replace the whole design as one undoable step (e.g. input size taken from an image)."""
        selection = self._selection
        if selection is not None and selection >= len(new.layers):
            selection = len(new.layers) - 1 if new.layers else None
        self._push(new, text, selection)

    def open_design(self, path: str) -> bool:
        """Open a design file, asking first to save unsaved changes. False if not opened."""
        if not self.maybe_save():
            return False
        try:
            design = load_design(path)
        except DesignFileError as exc:
            problems = "\n".join(f"• {p}" for p in exc.problems[:10])
            QMessageBox.warning(
                self,
                "Cannot open design",
                f"{Path(path).name} could not be opened; the current design is unchanged.\n\n"
                f"{problems}",
            )
            return False
        self._load(design, str(path))
        self._remember(str(path))
        self.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    def save_design_as(self, path: str) -> bool:
        """Save to ``path`` (atomically) and make it the current file."""
        try:
            save_design(self.design, path)
        except OSError as exc:
            QMessageBox.warning(
                self, "Cannot save", f"Could not save to {path}: {exc.strerror or exc}"
            )
            return False
        self._state = DocState(self.design, self._selection, str(path))
        self.undo_stack.setClean()
        self.setWindowModified(False)
        self._remember(str(path))
        self._update_title()
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def save(self) -> bool:
        if self.path is None:
            return self.save_as_dialog()
        return self.save_design_as(self.path)

    def open_dialog(self) -> bool:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Open Design", self._dialog_folder(), "Design files (*.json);;All files (*)"
        )
        return bool(path) and self.open_design(path)

    def save_as_dialog(self) -> bool:
        suggested = self.path or str(
            Path(self._dialog_folder()) / f"{_slug(self.design.name)}.json"
        )
        path, _filter = QFileDialog.getSaveFileName(
            self, "Save Design As", suggested, "Design files (*.json)"
        )
        if not path:
            return False
        if not path.lower().endswith(".json"):
            path += ".json"
        return self.save_design_as(path)

    def export_table_dialog(self) -> bool:
        """File → Export Layer Table: the same CSV as ``convdesigner summary --format csv``."""
        stem = Path(self.path).stem if self.path else _slug(self.design.name)
        suggested = str(Path(self._dialog_folder()) / f"{stem}-layers.csv")
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export Layer Table", suggested, "CSV files (*.csv)"
        )
        if not path:
            return False
        return self.export_table(path)

    def export_table(self, path: str) -> bool:
        try:
            to_csv(self.analysis, path)
        except OSError as exc:
            QMessageBox.warning(
                self, "Cannot export", f"Could not write {path}: {exc.strerror or exc}"
            )
            return False
        self.statusBar().showMessage(f"Exported the layer table to {path}", 5000)
        return True

    def maybe_save(self) -> bool:
        """Ask Save/Discard/Cancel if there are unsaved changes; True means "go ahead"."""
        if self.undo_stack.isClean():
            return True
        name = Path(self.path).name if self.path else self.design.name
        answer = QMessageBox.question(
            self,
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
            design = load_template(template_id)
        except (KeyError, DesignFileError) as exc:
            QMessageBox.warning(self, "Cannot load template", str(exc))
            return False
        before = DocState(self.design, self._selection, self.path, sets_path=True)
        after = DocState(design, None, None, sets_path=True)
        self.undo_stack.push(
            ReplaceDesignCommand(f"New from {design.name}", before, after, self._apply_state)
        )
        # Nothing to lose yet: closing right away need not ask to save an untouched template.
        self.undo_stack.setClean()
        self._loaded()
        return True

    def open_dropped_files(self, paths: list[str]) -> None:
        designs = [p for p in paths if mime.is_design_file(p)]
        images = [p for p in paths if not mime.is_design_file(p)]
        if designs:
            self.open_design(designs[0])
        if images:
            self.imageFileDropped.emit(images[0])
            if not self.isSignalConnected(QMetaMethod.fromSignal(self.imageFileDropped)):
                self.statusBar().showMessage(
                    f"{Path(images[0]).name}: images are shown by the feature-map viewer, "
                    "which is not available here",
                    5000,
                )

    def _push(
        self,
        design: Design,
        text: str,
        selection: int | None,
        merge_key: Hashable | None = None,
    ) -> None:
        before = DocState(self.design, self._selection, self.path)
        after = DocState(design, selection, self.path)
        self.undo_stack.push(
            ReplaceDesignCommand(text, before, after, self._apply_state, merge_key)
        )

    def _apply_state(self, state: DocState) -> None:
        """Install a state (called by undo commands): the one place the design changes."""
        path = state.path if state.sets_path else self.path
        self._state = DocState(state.design, state.selection, path)
        self._state_installed(self._state)
        self.designChanged.emit(state.design)

    def _load(self, design: Design, path: str | None) -> None:
        self.undo_stack.clear()
        self._apply_state(DocState(design, None, path, sets_path=True))
        self.undo_stack.setClean()
        self.setWindowModified(False)
        self._loaded()

    def _clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)

    def _remember(self, path: str) -> None:
        add_recent_file(path)

    def _dialog_folder(self) -> str:
        if self.path:
            return str(Path(self.path).parent)
        files = recent_files()
        return str(Path(files[0]).parent) if files else str(Path.home())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if mime.dropped_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if mime.dropped_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = mime.dropped_files(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_dropped_files(paths)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self._closing()
        event.accept()


def _slug(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.strip().lower())
    return "-".join(part for part in cleaned.split("-") if part) or "design"
