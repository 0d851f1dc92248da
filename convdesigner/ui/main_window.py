"""The main window: docks, menus and actions around one immutable design and its undo stack.

Data flows one way. The current :class:`DocState` (design, selection, file) is replaced only by
undo commands (:mod:`convdesigner.ui.commands`), in :class:`DocumentWindow`, which also handles
the file; installing a state re-runs the analysis once and hands the result to every view
(pipeline, table, property and explain panels). Views report
intentions (insert this entry here, move that layer, this is the new layer) and never patch each
other, so undo, redo and live updates all take the same path.

Other parts of the app extend the window through a small public API: :meth:`add_dock`, the
``file_menu``/``view_menu``/``help_menu`` attributes and the signals below.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
    QItemSelectionModel,
    QModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QKeySequence,
    QPaintEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMenu,
    QMessageBox,
    QUndoView,
    QWidget,
)

from convdesigner import __version__
from convdesigner.core.analysis import bytes_text
from convdesigner.core.design import Design
from convdesigner.core.fileformat import DesignFileError
from convdesigner.ui.catalog import BY_KEY, make_layer
from convdesigner.ui.commands import DocState
from convdesigner.ui.document_window import APP_TITLE, DocumentWindow
from convdesigner.ui.explain import ExplainPanel
from convdesigner.ui.icons import app_icon
from convdesigner.ui.palette import PaletteWidget
from convdesigner.ui.pipeline_view import PipelineModel, PipelineView
from convdesigner.ui.properties import PropertyPanel
from convdesigner.ui.settings import app_settings, clear_recent_files, recent_files
from convdesigner.ui.table_model import COLUMNS, LayerTableModel
from convdesigner.ui.table_view import LayerTableView

STATE_VERSION = 1
"""Bump when the dock layout changes, so an old saved layout is not applied to new docks."""


def _fallback_design() -> Design:
    """The Q&A example (used if the bundled templates cannot be read)."""
    from convdesigner.core.design import InputSpec
    from convdesigner.core.layers import Conv2D, MaxPool2D

    return Design(
        input=InputSpec(height=25, width=64, channels=1),
        layers=(
            Conv2D(filters=100, kernel=(7, 7), padding="same"),
            MaxPool2D(kernel=(2, 2), stride=(2, 2), padding="same"),
            Conv2D(filters=150, kernel=(5, 5), padding="same"),
        ),
        name="Q&A example",
    )


def default_design() -> Design:
    try:
        from convdesigner.core.templates import default_design as template_default

        return template_default()
    except (ImportError, KeyError, DesignFileError, OSError):
        return _fallback_design()


def _si(n: int) -> str:
    for div, unit in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")):
        if n >= div:
            return f"{n / div:.2f} {unit}"
    return str(n)


class MainWindow(DocumentWindow):
    selectedLayerChanged = Signal(object)
    """``int | None``: index in ``design.layers``; None for the input row or nothing."""
    layoutReset = Signal()
    """View → Reset Layout put every dock back in its area (docks may refine their place)."""

    def __init__(self, design: Design | None = None, path: str | None = None) -> None:
        super().__init__(default_design() if design is None else design, path)
        self.setObjectName("mainWindow")
        self.setWindowIcon(app_icon())
        self.setDockNestingEnabled(True)
        self._syncing = False
        self._docks: list[QDockWidget] = []
        self._dock_areas: dict[str, Qt.DockWidgetArea] = {}
        self._painted = False
        self._after_paint: list[Callable[[], object]] = []

        self.pipeline_model = PipelineModel(self._analysis)
        self.pipeline = PipelineView(self.pipeline_model)
        self.setCentralWidget(self.pipeline)
        self.table_model = LayerTableModel(self._analysis)
        self.table = LayerTableView(self.table_model)
        self.palette_list = PaletteWidget()
        self.properties = PropertyPanel()
        self.explain = ExplainPanel()

        self.file_menu: QMenu
        self.edit_menu: QMenu
        self.view_menu: QMenu
        self.help_menu: QMenu
        self._build_menus()
        self._build_docks()
        self._build_status_bar()
        self._connect()

        self.undo_stack.indexChanged.connect(self._undo_index_changed)
        self._refresh_views()
        self._set_selection(None, force=True)
        self._update_title()
        self._restore_layout()

    # ================================================================== public API

    def selected_layer(self) -> int | None:
        return self._selection

    def select_layer(self, index: int | None) -> None:
        if index is not None and not 0 <= index < len(self.design.layers):
            raise IndexError(
                f"layer index {index} is out of range 0..{len(self.design.layers) - 1}"
            )
        self._set_selection(index)

    def add_dock(self, dock: QDockWidget, area: Qt.DockWidgetArea) -> None:
        """Add a dock set up like the built-in ones; its toggle goes into the View menu."""
        if not dock.objectName():
            raise ValueError("every dock needs an objectName (the saved layout refers to it)")
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        self._docks.append(dock)
        self._dock_areas[dock.objectName()] = area
        self.view_menu.insertAction(self._view_separator, dock.toggleViewAction())
        # Docks created after the saved layout was restored get their saved place back.
        self.restoreDockWidget(dock)

    def docks(self) -> list[QDockWidget]:
        return list(self._docks)

    def call_after_first_paint(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` once the window has been painted (at once if it already was).

        For start-up work that need not delay the first frame (heavy imports, opening the file
        given on the command line). A window that is never painted (e.g. started minimised)
        runs the callbacks after two seconds anyway.
        """
        if self._painted:
            QTimer.singleShot(0, self, callback)
            return
        if not self._after_paint:
            QTimer.singleShot(2000, self, self._run_after_paint)
        self._after_paint.append(callback)

    def _run_after_paint(self) -> None:
        self._painted = True
        callbacks, self._after_paint = self._after_paint, []
        for callback in callbacks:
            callback()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            # Queued: the docks and the central widget are painted in this same pass.
            QTimer.singleShot(0, self, self._run_after_paint)

    # ================================================================== building

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("&File")
        self.edit_menu = bar.addMenu("&Edit")
        self.view_menu = bar.addMenu("&View")
        self.help_menu = bar.addMenu("&Help")

        self.new_menu = self.file_menu.addMenu("&New from Template")
        self._fill_templates()
        self.action_open = self._action(
            self.file_menu, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open
        )
        self.recent_menu = self.file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._fill_recent()
        self.file_menu.addSeparator()
        self.action_save = self._action(
            self.file_menu, "&Save", self.save, QKeySequence.StandardKey.Save
        )
        self.action_save_as = self._action(
            self.file_menu, "Save &As…", self.save_as_dialog, QKeySequence.StandardKey.SaveAs
        )
        self.file_menu.addSeparator()
        self.action_export = self._action(
            self.file_menu, "&Export Layer Table…", self.export_table_dialog, QKeySequence("Ctrl+E")
        )
        self.file_menu.addSeparator()
        self.action_quit = self._action(
            self.file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit
        )
        self.action_quit.setMenuRole(QAction.MenuRole.QuitRole)

        undo = self.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        self.edit_menu.addAction(undo)
        self.edit_menu.addAction(redo)
        self.action_undo, self.action_redo = undo, redo
        self.edit_menu.addSeparator()
        self.action_insert = self._action(
            self.edit_menu, "&Insert Palette Entry", self._insert_current_palette_entry
        )
        self.action_duplicate = self._action(
            self.edit_menu, "&Duplicate Layer", self.duplicate_selected, QKeySequence("Ctrl+D")
        )
        self.action_delete = self._action(
            self.edit_menu, "De&lete Layer", self.remove_selected, QKeySequence.StandardKey.Delete
        )
        self.action_move_up = self._action(
            self.edit_menu, "Move Layer &Up", lambda: self.move_selected(-1), QKeySequence("Alt+Up")
        )
        self.action_move_down = self._action(
            self.edit_menu,
            "Move Layer Do&wn",
            lambda: self.move_selected(1),
            QKeySequence("Alt+Down"),
        )
        self.edit_menu.addSeparator()
        self.action_copy = self._action(
            self.edit_menu, "&Copy Table Cells", lambda: self.table.copy_selection()
        )

        self._view_separator = self.view_menu.addSeparator()
        self.action_reset_layout = self._action(self.view_menu, "Reset &Layout", self.reset_layout)

        self.action_about = self._action(self.help_menu, "&About ConvDesigner", self.about)
        self.action_about.setMenuRole(QAction.MenuRole.AboutRole)
        self.action_about_qt = self._action(self.help_menu, "About &Qt", QApplication.aboutQt)
        self.action_about_qt.setMenuRole(QAction.MenuRole.AboutQtRole)

    def _action(
        self,
        menu: QMenu,
        text: str,
        slot: object,
        shortcut: QKeySequence | QKeySequence.StandardKey | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _checked=False: slot())  # type: ignore[operator]
        menu.addAction(action)
        return action

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.add_dock(dock, area)
        return dock

    def _build_docks(self) -> None:
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.palette_dock = self._dock("Layer Palette", "paletteDock", self.palette_list, left)
        self.properties_dock = self._dock("Properties", "propertiesDock", self.properties, right)
        self.explain_dock = self._dock("Explain", "explainDock", self.explain, right)
        self.table_dock = self._dock("Layer Table", "tableDock", self.table, bottom)
        self.history = QUndoView(self.undo_stack)
        self.history.setObjectName("historyView")
        self.history.setEmptyLabel("Opened design")
        self.history_dock = self._dock("History", "historyDock", self.history, right)
        self._default_layout()

    def _default_layout(self) -> None:
        self.splitDockWidget(self.properties_dock, self.explain_dock, Qt.Orientation.Vertical)
        # The undo history (click an entry to go back to it) shares the Explain panel's place.
        self.tabifyDockWidget(self.explain_dock, self.history_dock)
        self.explain_dock.raise_()
        self.resizeDocks([self.palette_dock], [300], Qt.Orientation.Horizontal)
        self.resizeDocks([self.properties_dock], [380], Qt.Orientation.Horizontal)
        self.resizeDocks(
            [self.properties_dock, self.explain_dock], [420, 300], Qt.Orientation.Vertical
        )
        self.resizeDocks([self.table_dock], [300], Qt.Orientation.Vertical)

    def _build_status_bar(self) -> None:
        self.totals_label = QLabel()
        self.totals_label.setObjectName("totalsLabel")
        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setStyleSheet("color: #d63031;")
        self.statusBar().addWidget(self.error_label, 1)
        self.statusBar().addPermanentWidget(self.totals_label)

    def _connect(self) -> None:
        self.pipeline.paletteDropped.connect(self.insert_entry)
        self.pipeline.layerMoved.connect(self.move_layer)
        self.pipeline.filesDropped.connect(self.open_dropped_files)
        self.pipeline.activated.connect(self._edit_current)
        self.explain_dock.visibilityChanged.connect(self.explain.set_active)
        self.palette_list.insertRequested.connect(self.insert_entry_after_selection)
        self.properties.designEdited.connect(self._property_edit)
        self.pipeline.selectionModel().currentRowChanged.connect(self._pipeline_current_changed)
        self.table.selectionModel().currentChanged.connect(self._table_current_changed)

    # ================================================================== state plumbing

    def _state_installed(self, state: DocState) -> None:
        self._refresh_views()
        self._set_selection(state.selection, force=True)
        self._update_title()

    def _loaded(self) -> None:
        self.table.fit_columns()

    def _closing(self) -> None:
        self._save_layout()

    def _refresh_views(self) -> None:
        analysis = self.analysis
        self._syncing = True
        try:
            self.pipeline_model.set_analysis(analysis)
            self.table_model.set_analysis(analysis)
        finally:
            self._syncing = False
        totals = analysis.totals
        self.totals_label.setText(
            f"Params {totals.params:,}   ·   MACs {_si(totals.macs)} "
            f"({_si(totals.flops)} FLOPs)   ·   Activations {bytes_text(totals.activation_bytes)}"
        )
        first = analysis.first_error
        if first is None:
            self.error_label.clear()
            self.error_label.setToolTip("")
        else:
            count = totals.errors
            self.error_label.setText(
                f"⚠ {count} error{'s' if count > 1 else ''}: layer {first.index} "
                f"({first.name}): {first.message}"
            )
            self.error_label.setToolTip(first.message)
        self._update_actions()

    def _set_selection(self, index: int | None, *, force: bool = False) -> None:
        """Select a layer in every view; emit selectedLayerChanged if it changed."""
        if index is not None and not 0 <= index < len(self.design.layers):
            index = None
        changed = index != self._selection
        if not changed and not force:
            return
        self._selection = index
        row = 0 if index is None else index + 1
        self._syncing = True
        try:
            pipe_index = self.pipeline_model.index(row, 0)
            if self.pipeline.currentIndex() != pipe_index:
                self.pipeline.selectionModel().setCurrentIndex(
                    pipe_index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                )
            elif not self.pipeline.selectionModel().isSelected(pipe_index):
                self.pipeline.selectionModel().select(
                    pipe_index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                )
            current = self.table.currentIndex()
            if not current.isValid() or current.row() != row:
                column = current.column() if current.isValid() else 1
                self.table.selectionModel().setCurrentIndex(
                    self.table_model.index(row, column),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect,
                )
        finally:
            self._syncing = False
        if changed:
            self.pipeline.scrollTo(self.pipeline_model.index(row, 0))
        self._show_selection_details()
        self._update_actions()
        if changed:
            self.selectedLayerChanged.emit(index)

    def _show_selection_details(self) -> None:
        analysis = self.analysis
        row = analysis.rows[0 if self._selection is None else self._selection + 1]
        self.properties.set_state(analysis, self._selection)
        current = self.table.currentIndex()
        focus: tuple[str, ...] = ()
        if current.isValid() and current.row() == (
            0 if self._selection is None else self._selection + 1
        ):
            focus = COLUMNS[current.column()].explains
        self.explain.show_row(row, focus)
        if not row.ok:
            self.statusBar().showMessage(f"Layer {row.index} ({row.name}): {row.message}")
        else:
            self.statusBar().clearMessage()

    def _pipeline_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._syncing or not current.isValid():
            return
        self._set_selection(None if current.row() == 0 else current.row() - 1)

    def _table_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._syncing or not current.isValid():
            return
        if self.table_model.is_totals_row(current.row()):
            self.explain.show_totals(self.analysis)
            return
        index = None if current.row() == 0 else current.row() - 1
        if index == self._selection:
            self._show_selection_details()  # another column: refocus the explanation
        else:
            self._set_selection(index)

    def _undo_index_changed(self, _index: int) -> None:
        self._update_actions()

    def _update_actions(self) -> None:
        has = self._selection is not None
        n = len(self.design.layers)
        self.action_duplicate.setEnabled(has)
        self.action_delete.setEnabled(has)
        self.action_move_up.setEnabled(has and (self._selection or 0) > 0)
        self.action_move_down.setEnabled(has and (self._selection or 0) < n - 1)

    # ================================================================== edits

    def insert_entry(self, key: str, index: int) -> None:
        """Insert palette entry ``key`` at ``index`` of ``design.layers`` (drop or keyboard)."""
        if key not in BY_KEY:
            self.statusBar().showMessage(f"Unknown layer type {key!r}", 5000)
            return
        index = max(0, min(index, len(self.design.layers)))
        layer = make_layer(key, self.analysis, index)
        self._push(self.design.insert(index, layer), f"Insert {BY_KEY[key].title}", index)

    def insert_entry_after_selection(self, key: str) -> None:
        if self._selection is not None:
            index = self._selection + 1
        elif self.pipeline.currentIndex().row() == 0:
            index = 0
        else:
            index = len(self.design.layers)
        self.insert_entry(key, index)

    def _insert_current_palette_entry(self) -> None:
        item = self.palette_list.currentItem() or self.palette_list.item(0)
        self.insert_entry_after_selection(
            self.palette_list.entry_keys()[self.palette_list.row(item)]
        )

    def remove_selected(self) -> None:
        index = self._selection
        if index is None:
            return
        label = self.design.layers[index].label
        design = self.design.remove(index)
        selection = min(index, len(design.layers) - 1) if design.layers else None
        self._push(design, f"Remove {label}", selection)

    def duplicate_selected(self) -> None:
        index = self._selection
        if index is None:
            return
        layer = self.design.layers[index]
        self._push(self.design.insert(index + 1, layer), f"Duplicate {layer.label}", index + 1)

    def move_selected(self, delta: int) -> None:
        index = self._selection
        if index is None:
            return
        destination = index + delta
        if 0 <= destination < len(self.design.layers):
            self.move_layer(index, destination)

    def move_layer(self, source: int, destination: int) -> None:
        if source == destination:
            return
        label = self.design.layers[source].label
        where = "up" if destination < source else "down"
        self._push(self.design.move(source, destination), f"Move {label} {where}", destination)

    def _edit_current(self, _index: QModelIndex) -> None:
        self.properties_dock.show()
        self.properties_dock.raise_()
        self.properties.focus_first_editor()

    def _property_edit(self, design: Design, text: str, merge_key: Hashable | None) -> None:
        self._push(design, text, self._selection, merge_key)

    # ================================================================== files

    def _fill_templates(self) -> None:
        self.new_menu.clear()
        try:
            from convdesigner.core.templates import list_templates

            templates = list_templates()
        except ImportError:
            templates = []
        for template in templates:
            action = self.new_menu.addAction(template.title)
            if template.description:
                action.setToolTip(template.description)
                action.setStatusTip(template.description)
            action.triggered.connect(
                lambda _checked=False, t=template.id: self.new_from_template(t)
            )
        if templates and templates[0].id == "qa-example":
            self.new_menu.actions()[0].setShortcut(QKeySequence.StandardKey.New)
        self.new_menu.setEnabled(bool(templates))

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = recent_files()
        for number, path in enumerate(files, 1):
            action = self.recent_menu.addAction(f"&{number} {Path(path).name}")
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_design(p))
        if files:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("Clear Recent Files")
            clear.triggered.connect(lambda _checked=False: clear_recent_files())
        self.recent_menu.setEnabled(bool(files))

    # ================================================================== layout & about

    def _restore_layout(self) -> None:
        settings = app_settings()
        geometry = settings.value("mainWindow/geometry")
        if isinstance(geometry, QByteArray) and self.restoreGeometry(geometry):
            pass
        else:
            self.resize(1400, 900)
        state = settings.value("mainWindow/state")
        if isinstance(state, QByteArray):
            self.restoreState(state, STATE_VERSION)

    def _save_layout(self) -> None:
        settings = app_settings()
        settings.setValue("mainWindow/geometry", self.saveGeometry())
        settings.setValue("mainWindow/state", self.saveState(STATE_VERSION))

    def reset_layout(self) -> None:
        """Every dock back where it was first added, shown and docked."""
        for dock in self._docks:
            dock.setFloating(False)
            self.addDockWidget(self._dock_areas[dock.objectName()], dock)
            dock.show()
        self._default_layout()
        self.layoutReset.emit()

    def about(self) -> None:
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion

        QMessageBox.about(
            self,
            f"About {APP_TITLE}",
            f"<h3>{APP_TITLE} {__version__}</h3>"
            "<p>Design convolutional networks and see their shapes, costs and feature maps "
            "live.</p>"
            "<p>MIT licence.</p>"
            "<p><b>Built with</b></p><ul>"
            f"<li>Qt {qVersion()} and Qt for Python (PySide6 {pyside_version}): LGPL v3</li>"
            "<li>pyqtgraph: MIT licence</li>"
            "<li>NumPy: BSD 3-clause licence</li>"
            "</ul><p>The bundled sample images are public domain (CC0).</p>"
            "<p>1 MAC (multiply-accumulate) = 2 FLOPs.</p>",
        )
