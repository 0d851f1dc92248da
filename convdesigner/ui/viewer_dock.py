"""Puts the feature-map viewer into the main window: dock, menus, drops, sample at start.

:func:`install_feature_maps` is the one call the app makes. It adds the dock and the menu entries
at once but builds the viewer itself (which imports pyqtgraph and the engine, about half a second
here) only after the window is on screen, so start-up stays fast. Everything goes through the
window's public API (``add_dock``, ``file_menu``, the signals, ``apply_design``), so the window
does not know the viewer exists.
"""

from __future__ import annotations

import importlib
import os
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMenu,
    QMessageBox,
)

from convdesigner.core.design import Design, InputSpec

if TYPE_CHECKING:
    import numpy as np

    from convdesigner.ui.feature_maps import FeatureMapPanel
    from convdesigner.ui.main_window import MainWindow
    from convdesigner.ui.workers import LatestWorker

SAMPLES: dict[str, str] = {
    "chelsea.png": "Chelsea the cat (RGB photo)",
    "camera.png": "Photographer (greyscale photo)",
    "coffee.png": "Coffee cup (RGB photo)",
    "shapes.png": "Shapes and edges (synthetic)",
}
"""Bundled sample images with their menu titles, in menu order."""
DEFAULT_SAMPLE = "chelsea.png"


def image_filter() -> str:
    """The Load Image dialog's filter, from the suffixes the image reader takes."""
    from convdesigner.core.images import IMAGE_SUFFIXES

    return f"Images ({' '.join('*' + s for s in IMAGE_SUFFIXES)});;All files (*)"


class Fit(Enum):
    """What to do when an image's size differs from the design's input size."""

    RESIZE = "resize"
    """Scale the image to the input size (the design is unchanged)."""
    SET_INPUT = "set-input"
    """Change the design's input size to the image's (an undoable edit)."""
    CANCEL = "cancel"


def sample_path(name: str) -> Path:
    resources = importlib.import_module("convdesigner.resources")
    return Path(resources.SAMPLES) / name


class FeatureMapsController(QObject):
    """Owns the dock and its actions; forwards the window's signals to the panel."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._panel: FeatureMapPanel | None = None
        self._reader: LatestWorker | None = None
        self._reading: tuple[int, str, bool] | None = None
        """(request, file name, ask how to fit) of the image being decoded."""
        self.dock = QDockWidget("Feature Maps", window)
        self.dock.setObjectName("featureMapsDock")
        placeholder = QLabel("Loading the feature-map viewer…")
        placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.dock.setWidget(placeholder)
        window.add_dock(self.dock, Qt.DockWidgetArea.BottomDockWidgetArea)
        if window.isVisible():
            # Qt shows a dock with its window; one added to a window already on screen stays
            # hidden until shown (the app installs before showing, so a saved layout that
            # closed the dock is still honoured there).
            self.dock.show()
        self._default_place()
        self._build_actions()
        window.designOpened.connect(self._on_design_opened)
        window.designChanged.connect(self._on_design)
        window.selectedNodeChanged.connect(self._on_selection)
        window.imageFileDropped.connect(self.open_image)
        reset = getattr(window, "layoutReset", None)
        if reset is not None:
            reset.connect(self.place_default)
        fitted = getattr(window, "layoutFitted", None)
        if fitted is not None:
            fitted.connect(self.size_default)
        window.installEventFilter(self)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ------------------------------------------------------------------ building

    def _build_actions(self) -> None:
        window = self.window
        menu = window.file_menu
        first = next((a for a in menu.actions() if a.isSeparator()), None)
        if first is not None:  # our group goes after Open/Recent, between two separators
            menu.insertSeparator(first)

        def add(text: str, slot: object, shortcut: str | None = None) -> QAction:
            action = QAction(text, window)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda _checked=False: slot())  # type: ignore[operator]
            if first is not None:
                menu.insertAction(first, action)
            else:
                menu.addAction(action)
            return action

        self.load_action = add("Load &Image…", self.load_image_dialog, "Ctrl+I")
        self.samples_menu = QMenu("Sample &Images", menu)
        if first is not None:
            menu.insertMenu(first, self.samples_menu)
        else:
            menu.addMenu(self.samples_menu)
        for name, title in SAMPLES.items():
            action = self.samples_menu.addAction(title)
            action.triggered.connect(lambda _c=False, n=name: self.load_sample(n))
        self.export_png_action = add("Export Feature &Maps as PNG…", self.export_png_dialog)
        self.export_npz_action = add("Export &Activations (.npz)…", self.export_npz_dialog)

    def _default_place(self) -> None:
        """First run: under the layer table, taking two fifths of the height.

        A saved layout (which already places this dock) is left alone.
        """
        from convdesigner.ui.settings import app_settings

        if app_settings().value("mainWindow/state") is None:
            self.place_default()

    def place_default(self) -> None:
        """Put the dock under the layer table (first run, and View → Reset Layout): the table
        keeps the width its number columns need."""
        window = self.window
        table = getattr(window, "table_dock", None)
        if table is None:
            return
        self.dock.setFloating(False)
        window.splitDockWidget(table, self.dock, Qt.Orientation.Vertical)
        self.size_default()
        # Sizes only hold once the window has its real size: applied again after showing.
        QTimer.singleShot(0, window, self.size_default)

    def size_default(self) -> None:
        """The table and the viewer share the height under the pipeline as on first run (also
        when a layout saved in a larger window is restored: its pixel heights squeezed the
        pipeline or the table); where the docks are is left as it is."""
        window = self.window
        table = getattr(window, "table_dock", None)
        if table is None or self.dock.isFloating():
            return
        height = max(window.height(), 600)
        window.resizeDocks(
            [table, self.dock],
            [max(170, height * 26 // 100), max(240, height * 40 // 100)],
            Qt.Orientation.Vertical,
        )

    @property
    def panel(self) -> FeatureMapPanel:
        """The viewer, built on first use (this is where pyqtgraph gets imported)."""
        if self._panel is None:
            from convdesigner.ui.feature_maps import FeatureMapPanel

            panel = FeatureMapPanel(self.window.design)
            panel.set_selected_node(self.window.selected_node())
            panel.statusMessage.connect(
                lambda text: self.window.statusBar().showMessage(text, 4000)
            )
            old = self.dock.widget()
            self.dock.setWidget(panel)
            panel.set_active(not self.dock.isHidden())  # closed in the saved layout: wait
            self.dock.visibilityChanged.connect(panel.set_active)
            if old is not None:
                old.deleteLater()
            self._panel = panel
        return self._panel

    @property
    def built(self) -> bool:
        return self._panel is not None

    def start(self, sample: str | None = DEFAULT_SAMPLE) -> None:
        """Build the viewer and show a bundled sample, so a new user sees maps at once."""
        panel = self.panel
        if sample is not None and panel.source is None:
            self.load_sample(sample)

    def shutdown(self) -> None:
        if self._reader is not None:
            self._reader.shutdown()
        self._reading = None
        if self._panel is not None:
            self._panel.shutdown()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close:
            # The window may refuse to close (unsaved changes): decide once it has answered.
            QTimer.singleShot(0, self, self._after_close)
        return False

    def _after_close(self) -> None:
        if not self.window.isVisible():
            self.shutdown()

    # ------------------------------------------------------------------ following the window

    def _on_design(self, _design: object) -> None:
        if self._panel is not None:
            self._panel.set_design(self.window.design, self.window.analysis)

    def _on_design_opened(self, design: Design) -> None:
        if self._panel is not None:
            self._panel.forget_shown(f"Computing the feature maps of {design.name}…")

    def _on_selection(self, _node: object) -> None:
        if self._panel is not None:
            self._panel.set_selected_node(self.window.selected_node())

    # ------------------------------------------------------------------ images

    def fit_texts(self, name: str, image_hw: tuple[int, int]) -> tuple[str, str, str]:
        """The question, and the resize and adopt buttons' texts; sizes as H×W, the way the
        table, the properties and the cards write them."""
        spec = self.window.design.input
        h, w = image_hw
        return (
            f"{name} is {h}×{w} pixels (H×W); the design's input is {spec.height}×{spec.width}.",
            f"Resize to {spec.height}×{spec.width}",
            f"Set Input to {h}×{w}",
        )

    def choose_fit(self, name: str, image_hw: tuple[int, int]) -> Fit:
        """Ask whether to resize the image or adopt its size (tests replace this)."""
        question, resize_text, adopt_text = self.fit_texts(name, image_hw)
        box = QMessageBox(self.window)
        box.setWindowTitle("Image size")
        box.setIcon(QMessageBox.Icon.Question)
        box.setText(question)
        box.setInformativeText(
            "Resize the image to the input, or change the design's input size to the image "
            "(an edit you can undo)?"
        )
        resize = box.addButton(resize_text, QMessageBox.ButtonRole.AcceptRole)
        adopt = box.addButton(adopt_text, QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(resize)
        box.exec()
        clicked = box.clickedButton()
        if clicked is resize:
            return Fit.RESIZE
        if clicked is adopt:
            return Fit.SET_INPUT
        return Fit.CANCEL

    def load_image(self, path: str | os.PathLike[str], *, ask: bool = True) -> bool:
        """Load an image file as the viewer's input now; a bad file leaves the current one
        shown. Blocks while decoding: the window's own entry points use :meth:`open_image`."""
        from convdesigner.core.images import read_image

        try:
            pixels = read_image(path)
        except (ValueError, OSError) as exc:
            self._cannot_read(exc)
            return False
        return self._use_pixels(Path(path).name, pixels, ask)

    def open_image(self, path: str | os.PathLike[str], *, ask: bool = True) -> None:
        """Decode ``path`` in the background, then use it as :meth:`load_image` does.

        A 12-megapixel photo takes about a quarter of a second to decode (an 8192×8192 one over
        a second), which must not freeze the window. Opening another file before this one is
        read supersedes it: only the newest is used."""
        from convdesigner.core.images import read_image
        from convdesigner.ui.workers import LatestWorker

        if self._reader is None:
            self._reader = LatestWorker(self)
            self._reader.resultReady.connect(self._on_read)
            self._reader.jobFailed.connect(self._on_read_failed)
        name = Path(path).name
        request = self._reader.submit(lambda _token, _progress: read_image(path))
        self._reading = (request, name, ask)
        self.window.statusBar().showMessage(f"Reading {name}…")

    @property
    def reading(self) -> bool:
        """An image opened with :meth:`open_image` is still being decoded."""
        return self._reader is not None and self._reader.busy

    def _on_read(self, request: int, pixels: object) -> None:
        if self._reading is None or self._reading[0] != request:
            return
        _request, name, ask = self._reading
        self._reading = None
        self.window.statusBar().clearMessage()
        self._use_pixels(name, pixels, ask)  # type: ignore[arg-type]

    def _on_read_failed(self, request: int, error: object) -> None:
        if self._reading is None or self._reading[0] != request:
            return
        self._reading = None
        self.window.statusBar().clearMessage()
        self._cannot_read(error)

    def _cannot_read(self, error: object) -> None:
        self.panel.show_problem(f"Cannot use this image: {error}. The current image is kept.")
        if self.dock.isHidden():
            self.dock.show()

    def _use_pixels(self, name: str, pixels: np.ndarray, ask: bool) -> bool:
        """Fit a decoded picture to the design (asking how, if the sizes differ) and show it."""
        panel = self.panel
        h, w = int(pixels.shape[0]), int(pixels.shape[1])
        spec = self.window.design.input
        if ask and (h, w) != (spec.height, spec.width):
            fit = self.choose_fit(name, (h, w))
            if fit is Fit.CANCEL:
                return False
            if fit is Fit.SET_INPUT:
                try:
                    new_input = InputSpec(h, w, spec.channels)
                except ValueError as exc:
                    panel.show_problem(f"Cannot use {h}×{w} as the input size: {exc}")
                    return False
                self.window.apply_design(
                    self.window.design.with_input(new_input), f"Set Input Size to {h}×{w}"
                )
        panel.set_image(pixels, name)
        self.dock.show()
        return True

    def load_sample(self, name: str) -> bool:
        return self.load_image(sample_path(name), ask=False)

    def load_image_dialog(self) -> bool:
        """Ask for a file and start reading it; False if the user cancelled."""
        path, _filter = QFileDialog.getOpenFileName(self.window, "Load Image", "", image_filter())
        if not path:
            return False
        self.open_image(path)
        return True

    # ------------------------------------------------------------------ export

    def _save_path(self, title: str, suggestion: str, file_filter: str) -> str:
        path, _filter = QFileDialog.getSaveFileName(self.window, title, suggestion, file_filter)
        return path

    def export_png_dialog(self) -> bool:
        path = self._save_path("Export Feature Maps", "feature-maps.png", "PNG images (*.png)")
        if not path:
            return False
        try:
            self.panel.export_mosaic_png(path)
        except (ValueError, OSError) as exc:
            QMessageBox.warning(self.window, "Cannot export", str(exc))
            return False
        self.window.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def export_npz_dialog(self) -> bool:
        path = self._save_path("Export Activations", "activations.npz", "NumPy archives (*.npz)")
        if not path:
            return False
        try:
            self.panel.export_activations_npz(path)
        except (ValueError, OSError) as exc:
            QMessageBox.warning(self.window, "Cannot export", str(exc))
            return False
        self.window.statusBar().showMessage(f"Saved {path}", 5000)
        return True


def install_feature_maps(
    window: MainWindow, *, sample: str | None = DEFAULT_SAMPLE, lazy: bool = True
) -> FeatureMapsController:
    """Add the viewer to ``window``; with ``lazy`` it is built once the event loop runs."""
    controller = FeatureMapsController(window)
    if lazy:
        after_paint = getattr(window, "call_after_first_paint", None)
        if after_paint is not None:
            after_paint(lambda: controller.start(sample))
        else:
            QTimer.singleShot(0, window, lambda: controller.start(sample))
    else:
        controller.start(sample)
    window.feature_maps = controller  # type: ignore[attr-defined]
    return controller
