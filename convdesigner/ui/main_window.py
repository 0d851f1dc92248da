"""The main window: docks, menus and actions around one document.

Data flows one way. The window owns a :class:`~convdesigner.core.document.Document` (design,
selection by node id, file, undo history; Qt-free) and turns user gestures into its edit
operations; after every change the document tells the window, which re-runs nothing itself but
hands the document's analysis to every view (pipeline, table, property and explain panels).
Views report intentions (insert this entry here, move that node, this is the new layer) and
never patch each other, so undo, redo and live updates all take the same path.

Other parts of the app extend the window through a small public API: :meth:`add_dock`, the
``file_menu``/``view_menu``/``help_menu`` attributes and the signals below.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QByteArray,
    QItemSelectionModel,
    QMetaMethod,
    QModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
    QPaintEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QUndoView,
    QWidget,
)

from convdesigner import __version__
from convdesigner.core.analysis import Analysis, analysis_cost
from convdesigner.core.design import Design
from convdesigner.core.document import Change, ChangeKind, Document, EditError
from convdesigner.core.fileformat import DesignFileError
from convdesigner.core.table import not_computed, where
from convdesigner.core.units import bytes_text, si
from convdesigner.ui import mime
from convdesigner.ui.analysis_feed import AnalysisFeed
from convdesigner.ui.explain import ExplainPanel
from convdesigner.ui.files import DocumentFiles
from convdesigner.ui.icons import app_icon
from convdesigner.ui.layer_menu import LayerMenu
from convdesigner.ui.learner import LearnerViews
from convdesigner.ui.palette import PaletteWidget
from convdesigner.ui.pipeline_view import PipelineModel, PipelineView
from convdesigner.ui.properties import PropertyPanel
from convdesigner.ui.settings import app_settings, clear_recent_files, recent_files
from convdesigner.ui.table_model import LayerTableModel
from convdesigner.ui.table_view import LayerTableView
from convdesigner.ui.undo import UndoStack
from convdesigner.ui.workers import hold_background

if TYPE_CHECKING:
    from convdesigner.ui.help_docs import HelpViewer

APP_TITLE = "ConvDesigner"
STATE_VERSION = 2
"""Bump when the dock layout changes, so an old saved layout is not applied to new docks."""
PROPERTIES_HEIGHT = 430
"""Room for the tallest form (a convolution: name, filters, kernel, stride, two rows of padding,
dilation, groups, bias) and its header, without a scroll bar."""
FOLLOW_MS = 16
"""Milliseconds between the parts of a large design's refresh (the table and pipeline, then the
panels, then the listeners): a frame, so the repaint the views asked for comes first, and the
input and timers due meanwhile are handled before the next part (a part due sooner ran right
after the repaint, ahead of them)."""

PIPELINE_LATER_COST = 150
"""A design of at least this analysis cost, opened or edited on the UI thread, is shown in the
table (and the panels) in the frame of the change and in the pipeline a frame later. Opening
DenseNet-121 (cost 456) drew both views, each for the first time, in one frame (30-32 ms); an
edit of it repainted a screenful of rows and of cards in one frame (15 ms, 25-35 ms when the
machine was busy). ResNet-50 (176) and GoogLeNet (200) came to 20-29 ms."""

PIPELINE_LATER_INPUTS = 100
"""A design whose merges read at least this many inputs in all goes the same way, whatever its
cost: the pipeline redraws a skip edge per input. A 40-layer dense block (cost 51, 210 inputs)
repainted its table and its cards with their 190 edges in one frame, 21-27 ms."""


def _pipeline_later(design: Design) -> bool:
    """Whether the pipeline shows ``design`` a frame after the table (see
    :data:`PIPELINE_LATER_COST` and :data:`PIPELINE_LATER_INPUTS`)."""
    if analysis_cost(design, at_least=PIPELINE_LATER_COST) >= PIPELINE_LATER_COST:
        return True
    inputs = 0
    for node in design.nodes:
        if node.inputs is not None and len(node.inputs) > 1:
            inputs += len(node.inputs)
            if inputs >= PIPELINE_LATER_INPUTS:
                return True
    return False


def first_size(available: QSize) -> tuple[int, int]:
    """The window's size on first start: 1400×900, or the whole screen when that is smaller
    (a 1366×768 laptop), and most of a large screen."""
    width, height = available.width(), available.height()
    return min(width, max(1400, width * 9 // 10)), min(height, max(900, height * 9 // 10))


def default_design() -> Design:
    """The Q&A example template; an empty design if the bundled templates cannot be read."""
    from convdesigner.core.templates import DEFAULT_TEMPLATE, load_template

    try:
        return load_template(DEFAULT_TEMPLATE)
    except (KeyError, DesignFileError, OSError):
        return Design()


class MainWindow(QMainWindow):
    designChanged = Signal(object)
    """The new Design, after every edit, undo, redo or load."""
    selectedNodeChanged = Signal(object)
    """``str | None``: id of the selected node; None for the input row or nothing."""
    imageFileDropped = Signal(str)
    """An image file (png/jpg/jpeg/bmp/npy) was dropped on the window."""
    designOpened = Signal(object)
    """A design replaced the document (opened, new, from a template): emitted before
    ``designChanged``, so views drop what they showed of the previous design at once."""
    layoutReset = Signal()
    """View → Reset Layout put every dock back in its area (docks may refine their place)."""
    layoutFitted = Signal()
    """A layout saved in a larger window was given this window's default dock sizes (docks
    may size themselves again, where they are)."""

    def __init__(self, design: Design | None = None, path: str | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowIcon(app_icon())
        self.setDockNestingEnabled(True)
        self.setAcceptDrops(True)
        self.document = Document(default_design() if design is None else design, path)
        self.undo_stack = UndoStack(self.document, self)
        self.analysis_feed = AnalysisFeed(self.document, self)
        """Analyses of large designs come from a worker thread (views keep the older one,
        marked as updating, meanwhile)."""
        self.analysis_feed.ready.connect(self._analysis_arrived)
        self._announced_selection: str | None = self.document.selection
        """The selection last told through ``selectedNodeChanged``."""
        self._arrived: Design | None = None
        """A design whose analysis came from the worker, its panels not yet told."""
        self._following = False
        """A click in a large design is being followed, a frame per part (``following``)."""
        self._pipeline_behind: Design | None = None
        """A design the pipeline shows a frame after the table (PIPELINE_LATER_COST)."""
        self._pipeline_scroll = False
        """Whether the pipeline scrolls to the selection when it catches up."""
        self.files = DocumentFiles(
            self, self.document, self.drop_image, lambda design: self.designOpened.emit(design)
        )
        self._syncing = False
        self._docks: list[QDockWidget] = []
        self._dock_areas: dict[str, Qt.DockWidgetArea] = {}
        self._painted = False
        self._after_paint: list[Callable[[], object]] = []
        self._help: HelpViewer | None = None

        analysis = self.document.analysis
        self.pipeline_model = PipelineModel(analysis)
        self.pipeline = PipelineView(self.pipeline_model)
        self.setCentralWidget(self.pipeline)
        self.table_model = LayerTableModel(analysis)
        self.table = LayerTableView(self.table_model)
        self.palette_list = PaletteWidget()
        self.properties = PropertyPanel(self.document)
        self.explain = ExplainPanel()

        self.file_menu: QMenu
        self.edit_menu: QMenu
        self.view_menu: QMenu
        self.help_menu: QMenu
        self._build_menus()
        self._build_docks()
        self._build_status_bar()
        self._connect()
        self.layer_menu = LayerMenu(self)
        # The learner's views (Weights and Costs tabs, Make Separable/Normal), placed before the
        # saved layout is restored so that it places them too.
        self.learner = LearnerViews(self)

        self.document.subscribe(self._document_changed)
        self._refresh_views()
        self._show_selection(scroll=False)
        self.properties.prepare(self.design)
        self._update_title()
        self._restore_layout()

    # ================================================================== the document

    @property
    def design(self) -> Design:
        return self.document.design

    @property
    def analysis(self) -> Analysis:
        """The current design's analysis (one per design, shared by every view).

        While a large design's analysis is computed on the worker thread (see
        :attr:`updating`) this computes it here and now; the window's own views wait instead.
        """
        return self.document.analysis

    @property
    def updating(self) -> bool:
        """The views still show the analysis of an earlier design: the current one's is being
        computed on a worker thread (designs of thousands of nodes), or its panels and
        listeners are told in the next event-loop pass."""
        return self.analysis_feed.pending or self._arrived is not None

    @property
    def following(self) -> bool:
        """A click in a large design is shown in parts a frame apart (the other view, the
        panels and the listeners are not all told yet), or an opened design's pipeline is."""
        return self._following or self._pipeline_behind is not None

    @property
    def shown_analysis(self) -> Analysis:
        """The analysis the table and the pipeline show (an earlier one while updating)."""
        return self.table_model.analysis

    @property
    def path(self) -> str | None:
        """The file the design was opened from or saved to (None: never saved)."""
        return self.document.path

    def selected_node(self) -> str | None:
        """Id of the selected node (None: the input, or nothing)."""
        return self.document.selection

    def select_node(self, node_id: str | None) -> None:
        """Select a node by id in every view (KeyError for an id the design does not have)."""
        self.document.select(node_id)

    def selected_layer(self) -> int | None:
        """Position of the selected node in the design (for scripts and tests)."""
        node = self.document.selection
        return None if node is None else self.design.index_of(node)

    def select_layer(self, index: int | None) -> None:
        """Select the node at ``index`` (None: the input)."""
        n = len(self.design)
        if index is not None and not 0 <= index < n:
            raise IndexError(f"layer index {index} is out of range 0..{n - 1}")
        self.document.select(None if index is None else self.design.nodes[index].id)

    def apply_design(self, new: Design, text: str) -> None:
        """Replace the whole design as one undoable step (e.g. input size taken from an image)."""
        self.document.apply(new, text)

    # File operations (see DocumentFiles).
    def open_design(self, path: str) -> bool:
        return self.files.open_design(path)

    def save_design_as(self, path: str) -> bool:
        return self.files.save_design_as(path)

    def open_dialog(self) -> bool:
        return self.files.open_dialog()

    def save_as_dialog(self) -> bool:
        return self.files.save_as_dialog()

    def save(self) -> bool:
        return self.files.save()

    def export_table(self, path: str) -> bool:
        return self.files.export_table(path)

    def export_table_dialog(self) -> bool:
        return self.files.export_table_dialog()

    def maybe_save(self) -> bool:
        return self.files.maybe_save()

    def new_from_template(self, template_id: str) -> bool:
        return self.files.new_from_template(template_id)

    def new_empty(self) -> bool:
        return self.files.new_empty()

    def open_dropped_files(self, paths: list[str]) -> None:
        self.files.open_dropped_files(paths)

    def drop_image(self, path: str) -> None:
        """An image dropped on the window goes to the feature-map viewer, if there is one."""
        self.imageFileDropped.emit(path)
        if not self.isSignalConnected(QMetaMethod.fromSignal(self.imageFileDropped)):
            self.statusBar().showMessage(
                f"{Path(path).name}: images are shown by the feature-map viewer, "
                "which is not available here",
                5000,
            )

    # ================================================================== public API

    def add_dock(self, dock: QDockWidget, area: Qt.DockWidgetArea) -> None:
        """Add a dock set up like the built-in ones; its toggle goes into the View menu."""
        if not dock.objectName():
            raise ValueError("every dock needs an objectName (the saved layout refers to it)")
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self._docks.append(dock)
        self._dock_areas[dock.objectName()] = area
        self.view_menu.insertAction(self._view_separator, dock.toggleViewAction())
        # Docks created after the saved layout was restored get their saved place back (only
        # when not added first: Qt then keeps the place it was added to).
        if not self.restoreDockWidget(dock):
            self.addDockWidget(area, dock)

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

        self.new_menu = self.file_menu.addMenu("&New")
        self._fill_templates()
        self.action_open = self._action(
            self.file_menu, "&Open…", self.files.open_dialog, QKeySequence.StandardKey.Open
        )
        self.recent_menu = self.file_menu.addMenu("Open &Recent")
        # Filled as the File menu opens: a submenu disabled while the list was empty never shows,
        # so its own aboutToShow never came and Open Recent stayed greyed out for the session
        # after the first files were opened.
        self.file_menu.aboutToShow.connect(self._fill_recent)
        self._fill_recent()
        self.file_menu.addSeparator()
        self.action_save = self._action(
            self.file_menu, "&Save", self.save, QKeySequence.StandardKey.Save
        )
        self.action_save_as = self._action(
            self.file_menu, "Save &As…", self.files.save_as_dialog, QKeySequence.StandardKey.SaveAs
        )
        self.file_menu.addSeparator()
        self.action_export = self._action(
            self.file_menu,
            "&Export Layer Table…",
            self.files.export_table_dialog,
            QKeySequence("Ctrl+E"),
        )
        self.file_menu.addSeparator()
        self.action_quit = self._action(
            self.file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit
        )
        self.action_quit.setMenuRole(QAction.MenuRole.QuitRole)

        undo = self.undo_stack.createUndoAction(self, "&Undo")
        # setShortcuts, not setShortcut: a standard key has several bindings (Redo is Ctrl+Y
        # and Ctrl+Shift+Z on Linux and Windows) and setShortcut kept only the first.
        undo.setShortcuts(QKeySequence.StandardKey.Undo)
        redo = self.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts(QKeySequence.StandardKey.Redo)
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

        self.action_user_guide = self._action(
            self.help_menu,
            "User &Guide",
            lambda: self.show_help("user-guide"),
            QKeySequence.StandardKey.HelpContents,
        )
        self.action_formulas = self._action(
            self.help_menu, "&Formulas", lambda: self.show_help("formulas")
        )
        self.help_menu.addSeparator()
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
        if isinstance(shortcut, QKeySequence.StandardKey):
            action.setShortcuts(shortcut)  # every binding of the platform, not just the first
        elif shortcut is not None:
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
        # The right column (properties, explain) runs the full height, so a derivation fits.
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.palette_dock = self._dock("Layer Palette", "paletteDock", self.palette_list, left)
        self.properties_dock = self._dock("Properties", "propertiesDock", self.properties, left)
        self.explain_dock = self._dock("Explain", "explainDock", self.explain, right)
        self.table_dock = self._dock("Layer Table", "tableDock", self.table, bottom)
        self.history = QUndoView(self.undo_stack)
        self.history.setObjectName("historyView")
        self.history.setEmptyLabel("Opened design")
        self.history_dock = self._dock("History", "historyDock", self.history, right)
        self._default_layout()

    def _default_layout(self) -> None:
        self.splitDockWidget(self.palette_dock, self.properties_dock, Qt.Orientation.Vertical)
        # The undo history (click an entry to go back to it) shares the Explain panel's place.
        self.tabifyDockWidget(self.explain_dock, self.history_dock)
        self.explain_dock.raise_()
        self._size_docks()
        # Dock sizes only hold once the window has its real size: again after showing.
        QTimer.singleShot(0, self, self._size_docks)

    def _size_docks(self) -> None:
        """Share the window so the answers show at a glance (1366×768 and up).

        Left: the compact palette over the properties, which get the height of their form (no
        scroll bar). Right: the explanation, the window's full height, for one layer's whole
        derivation. Middle: the pipeline, with the table (key columns in view) under it.
        """
        height = max(self.height(), 600)
        left, right = self._side_widths()
        self.resizeDocks(
            [self.palette_dock, self.explain_dock], [left, right], Qt.Orientation.Horizontal
        )
        usable = height - self.menuBar().height() - self.statusBar().height()
        properties = max(240, min(PROPERTIES_HEIGHT, usable * 62 // 100))
        self.resizeDocks(
            [self.palette_dock, self.properties_dock],
            [usable - properties, properties],
            Qt.Orientation.Vertical,
        )
        self.resizeDocks([self.table_dock], [max(180, height * 28 // 100)], Qt.Orientation.Vertical)

    def _side_widths(self) -> tuple[int, int]:
        """Default widths of the left column (palette, properties) and of Explain."""
        width = max(self.width(), 1000)
        left = max(300, min(340, width * 20 // 100))
        # 520 px at 1366×768: a conv layer's learner notes and whole derivation in one view,
        # also for each layer of a depthwise-separable pair (the table's name columns give way).
        right = max(520, min(560, width * 30 // 100))
        return left, right

    def clamp_side_docks(self) -> None:
        """Give the table back the room for its key columns (output, params, MACs, % MACs) when
        the side columns are wider than their defaults: a layout saved on a larger screen and
        restored on a laptop would otherwise squeeze the table to a sliver. Docks the user
        narrowed, floated or closed are left alone."""
        lack = self.table.key_columns_shortfall()
        if lack <= 0 or not self.table_dock.isVisible() or self.table_dock.isFloating():
            return
        left, right = self._side_widths()
        for dock, default in ((self.explain_dock, right), (self.palette_dock, left)):
            spare = dock.width() - default
            if lack <= 0 or spare <= 0 or dock.isFloating() or not dock.isVisible():
                continue
            cut = min(spare, lack)
            self.resizeDocks([dock], [dock.width() - cut], Qt.Orientation.Horizontal)
            lack -= cut

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
        self.pipeline.nodeMoved.connect(self.move_node)
        self.pipeline.filesDropped.connect(self.open_dropped_files)
        self.pipeline.activated.connect(self._edit_current)
        self.explain_dock.visibilityChanged.connect(self.explain.set_active)
        self.explain.formulaRequested.connect(lambda section: self.show_help("formulas", section))
        self.palette_list.insertRequested.connect(self.insert_entry_after_selection)
        self.pipeline.selectionModel().currentRowChanged.connect(self._pipeline_current_changed)
        self.table.selectionModel().currentChanged.connect(self._table_current_changed)

    # ================================================================== following the document

    def _document_changed(self, change: Change) -> None:
        hold_background()  # the views repaint next: background pure-Python work waits
        feed = self.analysis_feed
        # Opened, or replaced (a template, an undone replacement): many nodes new to the views.
        replaced = change.kind is ChangeKind.RESET or (
            change.design_changed
            and abs(len(change.after.design.nodes) - len(change.before.design.nodes)) > 1
        )
        if change.design_changed:
            if feed.in_background(change.after.design, opened=replaced):
                # Thousands of nodes (or an opened file of hundreds): analysed on a worker; the
                # views keep the older analysis, marked as updating, and follow when it arrives
                # (_analysis_arrived).
                feed.request()
                self._set_updating(True)
            else:
                feed.cancel()
                self._set_updating(False)
                # Scrolled to the selection when the selection moved, as the table is.
                self._refresh_table_then_pipeline(
                    change.selection_changed or change.kind is ChangeKind.RESET
                )
        self._update_title()
        if replaced:  # maybe of layer types whose forms were never built
            self.properties.prepare(change.after.design)
        if change.kind is ChangeKind.RESET:
            self.designOpened.emit(change.after.design)
        if feed.pending:
            # Rows of the views and the new design differ: the selection, designChanged and
            # selectedNodeChanged wait for the analysis, so no listener computes it here.
            return
        if not change.design_changed and change.selection_changed and self._is_large():
            # A click in a large design: one view's current row now, the other's a frame
            # later, then the panels and the listeners (the viewer) a frame after each. Together,
            # on a dense block of 2,000 convs, a click froze the window 37-49 ms; both views
            # repainting a scrolled viewport in one frame still took 27-35 ms.
            synced = self._sync_one_view()
            selection = self.document.selection
            self._following = True
            QTimer.singleShot(FOLLOW_MS, self, lambda: self._follow_selection(selection, synced))
            return
        if change.design_changed or change.selection_changed:
            self._show_selection(scroll=change.selection_changed)
        if change.design_changed:
            self.designChanged.emit(change.after.design)
        self._announce_selection()

    def _is_large(self) -> bool:
        """A design whose analysis is made on the worker (``AnalysisFeed.is_large``)."""
        return self.analysis_feed.is_large(self.design)

    def _sync_one_view(self) -> bool:
        """Move one view's current row to the selection; whether both views show it now.

        The view the click came from already shows it and repaints in this frame: the other
        one waits. A selection made elsewhere (History, Properties) moves the pipeline first.
        """
        row = self._row_of_selection()
        pipeline_there = self.pipeline.currentIndex().row() == row
        table_there = self.table.currentIndex().row() == row
        if pipeline_there and table_there:
            self._sync_current(scroll=True)
            return True
        if not pipeline_there and not table_there:
            self._sync_pipeline(row, scroll=True)
        return False

    def _follow_selection(self, selection: str | None, views_synced: bool = True) -> None:
        if selection != self.document.selection:
            return  # selected again meanwhile: that click is followed instead
        if self.analysis_feed.pending:
            self._following = False  # edited meanwhile: the analysis's arrival is followed
            return
        if not views_synced:
            self._sync_current(scroll=True)
            QTimer.singleShot(FOLLOW_MS, self, lambda: self._follow_selection(selection))
            return
        self._show_selection_details()
        self.update_actions()
        QTimer.singleShot(FOLLOW_MS, self, lambda: self._announce_later(selection))

    def _announce_later(self, selection: str | None) -> None:
        if selection != self.document.selection:
            return
        self._following = False
        if not self.analysis_feed.pending:
            self._announce_selection()

    def _analysis_arrived(self, design: Design) -> None:
        """A large design's analysis came from the worker: show it in the table and the
        pipeline now, the panels and the listeners one event-loop pass later (each part of a
        10,000-node design's refresh takes milliseconds; together they overran the 30 ms the
        window may freeze)."""
        if design is not self.design:
            return
        hold_background()
        self._set_updating(False)
        scroll = self.document.selection != self._announced_selection
        later = self._refresh_table_then_pipeline(scroll)
        self._sync_current(scroll=scroll)
        self._arrived = design
        # A timer, not a queued call: queued calls and the repaint the views just asked for
        # (also a posted event) ran back to back before Qt looked at input or timers again,
        # one 25-35 ms freeze. A timer lets the event loop handle what is waiting first; the
        # panels come a frame after the pipeline when that comes a frame after the table.
        delay = 2 * FOLLOW_MS if later else FOLLOW_MS
        QTimer.singleShot(delay, self, lambda: self._follow_arrival(design))

    def _follow_arrival(self, design: Design) -> None:
        if self._arrived is not design:
            return
        self._arrived = None
        if design is not self.design or self.analysis_feed.pending:
            return  # edited again meanwhile: that change is followed instead
        self._show_selection_details()
        self.update_actions()
        self.designChanged.emit(design)
        self._announce_selection()

    def _announce_selection(self) -> None:
        selection = self.document.selection
        if selection != self._announced_selection:
            self._announced_selection = selection
            self.selectedNodeChanged.emit(selection)

    def _set_updating(self, updating: bool) -> None:
        self.table.set_updating(updating)
        if updating:
            self.totals_label.setText("Updating the analysis…")

    def _update_title(self) -> None:
        path = self.path
        name = Path(path).name if path else "not saved"
        self.setWindowTitle(f"{self.design.name} ({name})[*] — {APP_TITLE}")
        self.setWindowFilePath(path or "")
        self.setWindowModified(not self.document.is_clean)

    def _refresh_views(self, *, pipeline: bool = True) -> None:
        analysis = self.analysis
        self._syncing = True
        try:
            if pipeline:
                self._pipeline_behind = None
                self._pipeline_scroll = False
                self.pipeline_model.set_analysis(analysis)
            self.table_model.set_analysis(analysis)
        finally:
            self._syncing = False
        totals = analysis.totals
        partial = ""
        if analysis.partial:
            n = not_computed(analysis)
            partial = f"   ·   partial: {n} layer{'s' if n != 1 else ''} not computed"
        self.totals_label.setText(
            f"Params {totals.params:,}   ·   MACs {si(totals.macs)} "
            f"({si(totals.flops)} FLOPs)   ·   Activations {bytes_text(totals.activation_bytes)}"
            + partial
        )
        self.totals_label.setToolTip(
            "These totals leave out the layers that could not be computed (an error, or after one)"
            if partial
            else "Totals for one image (1 MAC = 2 FLOPs)"
        )
        first = analysis.first_error
        if first is None:
            self.error_label.clear()
            self.error_label.setToolTip("")
        else:
            count = totals.errors
            self.error_label.setText(
                f"⚠ {count} error{'s' if count > 1 else ''}: {where(first)} "
                f"({first.name}): {first.message}"
            )
            self.error_label.setToolTip(first.message)

    def _row_of_selection(self) -> int:
        """Row of the selection in the pipeline and the table (0: the input)."""
        node = self.document.selection
        return 0 if node is None else self.design.index_of(node) + 1

    def _show_selection(self, *, scroll: bool) -> None:
        """Make every view show the document's selection."""
        self._sync_current(scroll=scroll)
        self._show_selection_details()
        self.update_actions()

    def _sync_current(self, *, scroll: bool) -> None:
        """Make the pipeline and the table's current row the selection's."""
        row = self._row_of_selection()
        self._sync_pipeline(row, scroll=scroll)
        self._syncing = True
        try:
            current = self.table.currentIndex()
            if not current.isValid() or current.row() != row:
                column = current.column() if current.isValid() else 1
                self.table.selectionModel().setCurrentIndex(
                    self.table_model.index(row, column),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect,
                )
        finally:
            self._syncing = False

    def _refresh_table_then_pipeline(self, scroll: bool) -> bool:
        """Show the current analysis in the table now and, for a design of
        :data:`PIPELINE_LATER_COST` or more, in the pipeline a frame later (then True; it
        scrolls to the selection if ``scroll``)."""
        design = self.design
        later = _pipeline_later(design)
        self._refresh_views(pipeline=not later)
        if later:
            self._pipeline_scroll |= scroll
            self._pipeline_behind = design
            QTimer.singleShot(FOLLOW_MS, self, lambda: self._catch_up_pipeline(design))
        return later

    def _catch_up_pipeline(self, design: Design) -> None:
        """Show the design in the pipeline, a frame after the table (see
        :data:`PIPELINE_LATER_COST`)."""
        if self._pipeline_behind is not design:
            return  # changed again meanwhile: that change refreshed the pipeline
        self._pipeline_behind = None
        scroll, self._pipeline_scroll = self._pipeline_scroll, False
        self._syncing = True
        try:
            self.pipeline_model.set_analysis(self.analysis)
        finally:
            self._syncing = False
        self._sync_pipeline(self._row_of_selection(), scroll=scroll)

    def _sync_pipeline(self, row: int, *, scroll: bool) -> None:
        if self._pipeline_behind is not None:
            return  # its rows are the previous design's: _catch_up_pipeline syncs it
        self._syncing = True
        try:
            pipe_index = self.pipeline_model.index(row, 0)
            selection = self.pipeline.selectionModel()
            if self.pipeline.currentIndex() != pipe_index:
                selection.setCurrentIndex(
                    pipe_index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                )
            elif not selection.isSelected(pipe_index):
                selection.select(pipe_index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        finally:
            self._syncing = False
        if scroll:
            self.pipeline.scrollTo(pipe_index)

    def _show_selection_details(self) -> None:
        analysis = self.analysis
        node = self.document.selection
        row = analysis.row(node) if node is not None else analysis.rows[0]
        self.properties.set_state(analysis, node)
        current = self.table.currentIndex()
        focus: tuple[str, ...] = ()
        if current.isValid() and current.row() == self._row_of_selection():
            focus = self.table_model.columns[current.column()].explains
        self.explain.show_row(row, focus, analysis)
        if not row.ok:
            self.statusBar().showMessage(f"{where(row, capital=True)} ({row.name}): {row.message}")
        else:
            self.statusBar().clearMessage()

    def node_at_row(self, row: int) -> str | None:
        """The node of a row of the views (None: the input).

        The views' rows are the shown analysis's (an older design's while updating)."""
        return None if row == 0 else self.shown_analysis.design.nodes[row - 1].id

    def _pipeline_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._syncing or not current.isValid() or self._pipeline_behind is not None:
            return
        self._select_shown(self.node_at_row(current.row()))

    def _select_shown(self, node: str | None) -> None:
        """Select a node clicked in a view; while updating, one the edit removed is ignored."""
        if node is None or node in self.design:
            self.document.select(node)

    def _table_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._syncing or not current.isValid():
            return
        if self.table_model.is_totals_row(current.row()):
            self.explain.show_totals(self.shown_analysis)
            return
        node = self.node_at_row(current.row())
        if node == self.document.selection:
            if not self.updating:
                self._show_selection_details()  # another column: refocus the explanation
        else:
            self._select_shown(node)

    def update_actions(self) -> None:
        """Enable the layer commands that apply to the selection (also before a right-click's
        menu shows: in a large design the selection's listeners follow a frame later)."""
        node = self.document.selection
        has = node is not None
        position = self.design.index_of(node) if node is not None else 0
        self.action_duplicate.setEnabled(has)
        self.action_delete.setEnabled(has)
        self.action_move_up.setEnabled(has and position > 0)
        self.action_move_down.setEnabled(has and position < len(self.design) - 1)

    # ================================================================== edits

    def _edit(self, action: Callable[[], object]) -> None:
        """Run a document edit; one it refuses is explained in the status bar."""
        try:
            action()
        except EditError as exc:
            self.statusBar().showMessage(str(exc), 8000)

    def insert_entry(self, key: str, index: int) -> None:
        """Insert palette entry ``key`` at position ``index`` (a drop or the keyboard)."""
        self._edit(lambda: self.document.insert_entry(key, index))

    def insert_entry_after_selection(self, key: str) -> None:
        node = self.document.selection
        if node is not None:
            index = self.design.index_of(node) + 1
        elif self.pipeline.currentIndex().row() == 0:
            index = 0
        else:
            index = len(self.design)
        self.insert_entry(key, index)

    def _insert_current_palette_entry(self) -> None:
        key = self.palette_list.current_key()
        if key is not None:
            self.insert_entry_after_selection(key)

    def remove_selected(self) -> None:
        node = self.document.selection
        if node is not None:
            self._edit(lambda: self.document.remove(node))

    def duplicate_selected(self) -> None:
        node = self.document.selection
        if node is not None:
            self._edit(lambda: self.document.duplicate(node))

    def move_selected(self, delta: int) -> None:
        node = self.document.selection
        if node is None:
            return
        destination = self.design.index_of(node) + delta
        if 0 <= destination < len(self.design):
            self.move_node(node, destination)

    def move_node(self, node_id: str, destination: int) -> None:
        """Move a node to position ``destination`` (counted without it)."""
        self._edit(lambda: self.document.move(node_id, destination))

    def _edit_current(self, _index: QModelIndex) -> None:
        self.properties_dock.show()
        self.properties_dock.raise_()
        self.properties.focus_first_editor()

    # ================================================================== files

    def _fill_templates(self) -> None:
        self.new_menu.clear()
        self.action_new_empty = self.new_menu.addAction("&Empty Design")
        self.action_new_empty.setShortcuts(QKeySequence.StandardKey.New)
        self.action_new_empty.setStatusTip("Just an input: add layers from the palette")
        self.action_new_empty.triggered.connect(lambda _checked=False: self.new_empty())
        self.new_menu.addSection("From a template")
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

    # ================================================================== window events

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self.dragMoveEvent(event)

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
        self._save_layout()
        self.analysis_feed.shutdown()
        self.explain.shutdown()
        self.learner.shutdown()
        self.files.shutdown()
        event.accept()

    # ================================================================== layout & about

    def _restore_layout(self) -> None:
        settings = app_settings()
        geometry = settings.value("mainWindow/geometry")
        if isinstance(geometry, QByteArray) and self.restoreGeometry(geometry):
            pass
        else:
            self.resize(*first_size(self.screen().availableGeometry().size()))
        state = settings.value("mainWindow/state")
        if isinstance(state, QByteArray) and self.restoreState(state, STATE_VERSION):
            saved = settings.value("mainWindow/size")
            size = saved if isinstance(saved, QSize) else None
            # Dock sizes hold once the window has its real size on this screen, and once the
            # docks added after the first paint (the feature maps) have their place back.
            self.call_after_first_paint(
                lambda: QTimer.singleShot(0, self, lambda: self.fit_restored_layout(size))
            )

    def fit_restored_layout(self, saved_size: QSize | None) -> None:
        """Fit a restored layout to this window: one saved in a larger window (another screen)
        gets this window's default dock sizes, as its pixel sizes squeezed the table to a row or
        two at 1366×768; and the table keeps its key columns in view."""
        if saved_size is not None and (
            self.width() < saved_size.width() or self.height() < saved_size.height()
        ):
            self._size_docks()
            self.layoutFitted.emit()
        self.clamp_side_docks()

    def _save_layout(self) -> None:
        settings = app_settings()
        settings.setValue("mainWindow/size", self.size())
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

    def show_help(self, page: str, section: str | None = None) -> HelpViewer:
        """Open a bundled help page ("user-guide", "formulas") in the help window, at the
        heading ``section`` if given."""
        from convdesigner.ui.help_docs import HelpViewer

        if self._help is None:
            self._help = HelpViewer(self)
        self._help.show_page(page, section)
        return self._help

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
