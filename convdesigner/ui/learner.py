"""The learner's views in the window: the Weights and Costs tabs beside Explain, and the
"Make Separable" / "Make Normal" rewrites (Edit menu, and links in the explain panel).

Everything goes through the window's public API (``add_dock``, ``edit_menu``, the signals,
``document``), so the window only creates a :class:`LearnerViews`. Each answer is within two
clicks of selecting a layer: the Explain tab shows the texts, one click on Weights or Costs
shows the pictures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QLabel, QMenu, QStatusBar

from convdesigner.core.analysis import Analysis, analysis_cost
from convdesigner.core.design import Design
from convdesigner.core.document import Document, EditError
from convdesigner.core.separable import find_pair, is_normal_conv
from convdesigner.ui.explain import ExplainPanel
from convdesigner.ui.weights_view import WeightsView

if TYPE_CHECKING:
    from convdesigner.ui.cost_chart import CostChart
    from convdesigner.ui.layer_menu import LayerMenu


CHART_LATER_COST = 150
"""Designs of this analysis cost (``analysis_cost``: ResNet-50, GoogLeNet, DenseNet-121 and up)
update the Costs chart a frame after the other panels: its new bars and their repaint fell in
the frame that repainted the rest (a 10,000-layer chain's edit, 22 ms now; DenseNet-121's
36-48 ms with the outlines on the UI thread)."""
CHART_FOLLOW_MS = 16


class Window(Protocol):
    """What these views use of the main window (which creates them: naming its class here
    would make the two modules an import cycle)."""

    document: Document
    explain: ExplainPanel
    explain_dock: QDockWidget
    edit_menu: QMenu
    layer_menu: LayerMenu
    designChanged: Any
    selectedNodeChanged: Any
    layoutReset: Any
    """Signals (PySide6 types them per instance, which a protocol cannot spell)."""

    @property
    def analysis(self) -> Analysis: ...
    @property
    def shown_analysis(self) -> Analysis: ...
    @property
    def design(self) -> Design: ...
    def selected_node(self) -> str | None: ...
    def select_node(self, node_id: str | None) -> None: ...
    def add_dock(self, dock: QDockWidget, area: Qt.DockWidgetArea) -> None: ...
    def tabifyDockWidget(self, first: QDockWidget, second: QDockWidget) -> None: ...
    def statusBar(self) -> QStatusBar: ...


class LearnerViews(QObject):
    def __init__(self, window: Window) -> None:
        super().__init__()
        self.window = window
        self.weights = WeightsView()
        self.weights_dock = QDockWidget("Weights")
        self.weights_dock.setObjectName("weightsDock")
        self.weights_dock.setWidget(self.weights)
        self.chart: CostChart | None = None
        self._chart_wanted: tuple[Analysis, str | None] | None = None
        self._chart_timer = QTimer(self)
        self._chart_timer.setSingleShot(True)
        self._chart_timer.setInterval(CHART_FOLLOW_MS)
        self._chart_timer.timeout.connect(self._chart_follows)
        self.chart_dock = QDockWidget("Costs")
        self.chart_dock.setObjectName("costChartDock")
        self.chart_dock.setWidget(QLabel("The cost chart is drawn when this tab is shown."))
        right = Qt.DockWidgetArea.RightDockWidgetArea
        window.add_dock(self.weights_dock, right)
        window.add_dock(self.chart_dock, right)
        self.place_default()

        menu = window.edit_menu
        menu.addSeparator()
        self.action_separable = QAction("Make &Separable", menu)
        self.action_separable.setStatusTip(
            "Split the selected conv into a depthwise conv and a 1×1 conv"
        )
        self.action_separable.triggered.connect(lambda: self.run("make-separable"))
        self.action_normal = QAction("Make &Normal", menu)
        self.action_normal.setStatusTip("Replace the selected depthwise-separable pair by one conv")
        self.action_normal.triggered.connect(lambda: self.run("make-normal"))
        menu.addAction(self.action_separable)
        menu.addAction(self.action_normal)
        window.layer_menu.add_section(
            (self.action_separable, self.action_normal), self.update_actions
        )

        window.designChanged.connect(lambda _design: self.refresh())
        window.selectedNodeChanged.connect(lambda _node: self.refresh())
        window.explain.actionRequested.connect(self._explain_action)
        window.layoutReset.connect(self.place_default)
        self.chart_dock.visibilityChanged.connect(self._chart_visible)
        self.refresh()

    def place_default(self) -> None:
        """Tabs beside Explain (first run and View → Reset Layout); Explain stays in front."""
        window = self.window
        window.tabifyDockWidget(window.explain_dock, self.weights_dock)
        window.tabifyDockWidget(self.weights_dock, self.chart_dock)
        window.explain_dock.raise_()

    # ------------------------------------------------------------------ following the window

    def refresh(self) -> None:
        window = self.window
        analysis = window.analysis
        node = window.selected_node()
        row = analysis.row(node) if node is not None else None
        self.weights.show_row(row)
        self.update_actions()
        if self.chart is not None and not self.chart_dock.isHidden():
            cost = analysis_cost(analysis.design, at_least=CHART_LATER_COST)
            if cost >= CHART_LATER_COST:
                self._chart_wanted = (analysis, node)
                self._chart_timer.start()
            else:
                self.chart.set_state(analysis, node)

    @property
    def pending(self) -> bool:
        """The cost chart has yet to show the newest change (a frame later, or its outlines
        from the worker)."""
        return self._chart_timer.isActive() or (self.chart is not None and self.chart.pending)

    def _chart_follows(self) -> None:
        wanted, self._chart_wanted = self._chart_wanted, None
        if wanted is not None and self.chart is not None and not self.chart_dock.isHidden():
            self.chart.set_state(*wanted)

    def shutdown(self) -> None:
        """Stop the cost chart's worker (the window closes)."""
        self._chart_timer.stop()
        if self.chart is not None:
            self.chart.shutdown()

    def update_actions(self) -> None:
        """Enable Make Separable / Make Normal where they apply to the selected layer."""
        # A rewrite that no longer applies to the current design is refused with a message
        # when run.
        analysis = self._ready_analysis()
        node = self.window.selected_node()
        if node is not None and node not in analysis.design:
            node = None
        self.action_separable.setEnabled(node is not None and is_normal_conv(analysis, node))
        pair = find_pair(analysis, node) if node is not None else None
        self.action_normal.setEnabled(pair is not None and not pair.between)

    def _chart_visible(self, visible: bool) -> None:
        if not visible:
            return
        if self.chart is None:
            from convdesigner.ui.cost_chart import CostChart  # imports pyqtgraph: on demand

            self.chart = CostChart()
            self.chart.barClicked.connect(self._bar_clicked)
            old = self.chart_dock.widget()
            self.chart_dock.setWidget(self.chart)
            if old is not None:
                old.deleteLater()
        self.chart.set_state(self._ready_analysis(), self.window.selected_node())

    def _ready_analysis(self) -> Analysis:
        """The current design's analysis if computed, else the one the views show: right after
        an edit of a large design it is on the worker, and reading ``window.analysis`` would
        compute it here, on the UI thread (0.15 s for 10,000 layers)."""
        window = self.window
        return window.analysis if window.document.analysis_ready else window.shown_analysis

    def _bar_clicked(self, node: str) -> None:
        # The chart may still show the bars of the design before an edit (a large design's
        # analysis is on the worker): a layer the edit removed is not selected.
        if node in self.window.design:
            self.window.select_node(node)

    # ------------------------------------------------------------------ rewrites

    def _explain_action(self, action: str, node: str) -> None:
        if node in self.window.design:
            self.window.select_node(node)
        self.run(action)

    def run(self, action: str) -> None:
        """Rewrite the selected layer: "make-separable" or "make-normal" (one undo step)."""
        document = self.window.document
        node = document.selection
        if node is None:
            return
        try:
            if action == "make-separable":
                document.make_separable(node)
            elif action == "make-normal":
                document.make_normal(node)
            else:
                raise EditError(f"unknown action {action!r}")
        except EditError as exc:
            self.window.statusBar().showMessage(str(exc), 8000)
