"""The cost chart: MACs and parameters of every layer as bars, the selected layer highlighted.

Where wide layers follow each other the MAC bars jump: a conv's MACs are H·W·C_in·C_out·k², the
product of its own width and the width before it, so widening a chain grows its cost
quadratically. The numbers come from :func:`convdesigner.core.teaching.cost_bars`.

This module imports pyqtgraph; the window builds the chart only when its tab is first shown.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

# isort: split
import pyqtgraph as pg  # after PySide6, so pyqtgraph binds to it

# isort: split
from convdesigner.core.analysis import Analysis, analysis_cost
from convdesigner.core.cancel import CancelToken
from convdesigner.core.teaching import Bar, WhatIf, cost_bars, what_if_double
from convdesigner.core.units import si
from convdesigner.ui.feature_items import TitleLabel
from convdesigner.ui.workers import LatestWorker, Progress

BACKGROUND_WHAT_IF = 150
"""From this analysis cost on (ResNet-50, GoogLeNet, DenseNet-121 and up), the outlines (an
analysis of the design with the selected layer doubled) are computed on a worker: DenseNet-121's
took 10-20 ms of each click on the UI thread, with the Costs tab in front."""
BAR_BRUSH = (70, 130, 200)
SELECTED_BRUSH = (230, 126, 34)
LABEL_CHARS = 14
"""Longer layer names keep their last characters ("…layer1.conv1"): ids like torchvision's
module paths share their beginning ("features.denseblock1.…"), which said nothing of the bar.
The pointer over a bar, the table and the pipeline show them whole."""
LABEL_GAP_PX = 10
NICE_STEPS = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8)
"""Bars between two names, times a power of ten (whole numbers only): fine enough that a few more
names fit (1-2-5 went from every 20th of ResNet-18's bars to every 50th, and from DenseNet's
every 100th to every 200th), coarse enough that zooming does not move every name each notch."""


class CountAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph ships no type hints
    """Counts as people read them (156 M, not 1.56e+08), so the label never overlaps."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)  # the ticks carry the prefix themselves

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [_compact(v) for v in values]


class LayerAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph ships no type hints
    """The layer axis: every n-th bar named, n as small as lets the names not overlap.

    A fixed share of the bars (every n-th of 40) overlapped into an unreadable smear in the
    narrow Costs tab for ResNet-18's long ids, and never showed more names when the user zoomed
    in; the step is worked out from the axis's width in pixels on each paint instead.
    """

    def __init__(self) -> None:
        super().__init__("bottom")
        self.enableAutoSIPrefix(False)
        self.labels: list[str] = []
        self._label_px = 0
        self._font: QFont | None = None
        self._known: dict[str, int] = {}
        self._metrics = QFontMetrics(self.font())

    def set_labels(self, labels: list[str]) -> None:
        self.labels = [_short(label) for label in labels]
        font = self.style["tickFont"] or self.font()
        if font != self._font:  # widths by name, kept across edits
            self._font, self._known = QFont(font), {}
            self._metrics = QFontMetrics(font)
        # The step needs the widest name only: measured among the 16 longest by characters, not
        # all 10,000 (10 ms on each open of a large design). The names placed are measured when
        # placed (:meth:`label_width`).
        longest = heapq.nlargest(16, self.labels, key=len)
        widest = max((self.label_width(label) for label in longest), default=0)
        self._label_px = widest + LABEL_GAP_PX
        self.picture = None  # pyqtgraph's cached drawing
        self.update()

    def label_width(self, label: str) -> int:
        """Pixels ``label`` takes on the axis (measured once per name and font)."""
        known = self._known.get(label)
        if known is None:
            known = self._known[label] = self._metrics.horizontalAdvance(label)
        return known

    def step(self, lo: float, hi: float, size: float) -> int:
        """Bars between two names: the smallest of :data:`NICE_STEPS` whose spacing fits the
        widest name."""
        if size <= 0 or hi <= lo:
            return 1
        bars_per_label = self._label_px * (hi - lo) / size
        magnitude = 1
        while True:
            for nice in NICE_STEPS:
                step = nice * magnitude
                if step == int(step) and step >= bars_per_label:
                    return int(step)
            magnitude *= 10

    def tickValues(
        self, minVal: float, maxVal: float, size: float
    ) -> list[tuple[float, list[float]]]:
        lo, hi = sorted((minVal, maxVal))
        if not self.labels:
            return []
        step = self.step(lo, hi, size)
        first = max(0, math.ceil(lo / step) * step)
        last = min(len(self.labels) - 1, math.floor(hi))
        # pyqtgraph drops a name that would stick out of the axis: keep to those that fit.
        per_px = (hi - lo) / size if size > 0 else 0.0
        fits = [
            float(i)
            for i in range(first, last + 1, step)
            if lo <= i - self.label_width(self.labels[i]) / 2 * per_px
            and i + self.label_width(self.labels[i]) / 2 * per_px <= hi
        ]
        return [(float(step), fits)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        labels = self.labels
        return [labels[int(v)] if 0 <= int(v) < len(labels) else "" for v in values]


def _short(label: str) -> str:
    if len(label) <= LABEL_CHARS:
        return label
    return "…" + label[-(LABEL_CHARS - 1) :].lstrip(".")


def _compact(value: float) -> str:
    if value < 0:
        return ""
    for div, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= div:
            return f"{value / div:.4g} {unit}"
    return f"{value:.4g}"


class CostChart(QWidget):
    """Two bar plots sharing the layer axis: MACs above, parameters below.

    Only some bars are named on the axis, so the pointer over a bar names it with its numbers,
    and a click selects that layer in the window, as a row or a card does.
    """

    barClicked = Signal(str)
    """The node id of the bar clicked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("costChart")
        self._bars: list[Bar] | None = []
        self.analysis: Analysis | None = None
        self.selected: str | None = None
        self.caption = QLabel(
            "A conv's MACs are H·W·C_in·C_out·k²: the product of its width and the width before "
            "it, so widening chained layers grows the cost quadratically. Orange outlines: the "
            "MACs if the selected layer had twice the filters."
        )
        self.caption.setWordWrap(True)
        self.plots = pg.GraphicsLayoutWidget()
        # Not the plot's own title: pyqtgraph makes its text's width the plot's minimum, and in
        # the narrow Explain column (1366×768) the plots then ran past the right edge, cutting
        # off the last bars, the selected layer's included.
        self.title = TitleLabel(lines=2)
        self.plots.addItem(self.title, row=0, col=0)
        self.macs_axis, self.params_axis = LayerAxis(), LayerAxis()
        self.macs_plot = self.plots.addPlot(
            row=1, col=0, axisItems={"left": CountAxis("left"), "bottom": self.macs_axis}
        )
        self.params_plot = self.plots.addPlot(
            row=2, col=0, axisItems={"left": CountAxis("left"), "bottom": self.params_axis}
        )
        self.params_plot.setXLink(self.macs_plot)
        for plot, name in ((self.macs_plot, "MACs"), (self.params_plot, "params")):
            plot.setLabel("left", name)
            plot.getAxis("left").setWidth(self.fontMetrics().horizontalAdvance("000.0 M") + 24)
            plot.setMouseEnabled(x=True, y=False)
            plot.hideButtons()
            plot.showGrid(y=True, alpha=0.3)
            # Grid lines at the labelled ticks only: the finer levels' lines cost 5-15 ms of
            # each repaint after a change of range (every edit of a large design).
            plot.getAxis("left").setStyle(maxTickLevel=0)
        self.params_plot.setLabel("bottom", "layer")
        # Outlined in their own colour: the default grey outline of thousands of thin bars
        # turned a large design's chart grey.
        self.macs_item = pg.BarGraphItem(
            x=[], height=[], width=0.8, brush=BAR_BRUSH, pen=pg.mkPen(BAR_BRUSH)
        )
        self.params_item = pg.BarGraphItem(
            x=[], height=[], width=0.8, brush=BAR_BRUSH, pen=pg.mkPen(BAR_BRUSH)
        )
        # Outlines: every layer's MACs if the selected layer had twice the filters (the next
        # conv's bar grows with it: the quadratic cost of chained widths, seen).
        self.doubled_item = pg.BarGraphItem(
            x=[], height=[], width=0.8, brush=None, pen=pg.mkPen(SELECTED_BRUSH, width=1.5)
        )
        self.doubled: tuple[int, ...] = ()
        self.macs_plot.addItem(self.doubled_item)
        self.macs_plot.addItem(self.macs_item)
        self.params_plot.addItem(self.params_item)
        # The selected layer's bars, drawn over the others in orange.
        self.selected_macs, self.selected_params = (
            pg.BarGraphItem(
                x=[], height=[], width=0.8, brush=SELECTED_BRUSH, pen=pg.mkPen(SELECTED_BRUSH)
            )
            for _ in range(2)
        )
        self.macs_plot.addItem(self.selected_macs)
        self.params_plot.addItem(self.selected_params)
        self._index: dict[str, int] = {}
        self._labels: list[str] = []
        self._ids: tuple[str, ...] = ()
        self._macs = np.zeros(0, dtype=np.float64)
        self._params = np.zeros(0, dtype=np.float64)
        self._drawn_step = 0
        """Bars per drawn bar (0: none drawn yet)."""
        self.macs_plot.vb.sigXRangeChanged.connect(lambda *_: self._draw_bars())
        self.macs_plot.vb.sigResized.connect(lambda *_: self._draw_bars())
        self._what_if_worker: LatestWorker | None = None
        self._what_if_of: tuple[Analysis, str | None] | None = None
        """The (analysis, selection) whose outlines are shown or computed."""
        self._what_if_for: tuple[Analysis, str] | None = None
        """The (analysis, selection) whose outlines the worker computes."""
        # A line through the selected layer's column: its bar is orange, but an activation's or a
        # merge's bar has no height to colour.
        self.markers = [
            pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(SELECTED_BRUSH, width=1))
            for _ in range(2)
        ]
        for plot, marker in zip((self.macs_plot, self.params_plot), self.markers, strict=True):
            marker.setZValue(-10)  # behind the bars
            plot.addItem(marker, ignoreBounds=True)
        scene = self.plots.scene()
        scene.sigMouseMoved.connect(self._hover)
        scene.sigMouseClicked.connect(self._clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.plots, 1)

    def bar_at(self, scene_pos: QPointF) -> Bar | None:
        """The bar whose column (of either plot) is under a point of the scene, or None."""
        for plot in (self.macs_plot, self.params_plot):
            box = plot.vb
            if not box.sceneBoundingRect().contains(scene_pos):
                continue
            x = box.mapSceneToView(scene_pos).x()
            i = round(x)
            if self.analysis is not None and 0 <= i < len(self._labels) and abs(x - i) <= 0.5:
                row = self.analysis.rows[i + 1]  # (not ``bars``, which a new design makes anew)
                return Bar(row.id, self._labels[i], row.macs, row.params)
        return None

    def _hover(self, scene_pos: QPointF) -> None:
        bar = self.bar_at(scene_pos)
        if bar is None:
            self.plots.setToolTip("")
            return
        row = self.analysis.row(bar.node) if self.analysis is not None else None
        name = bar.label  # as the cards name a layer: "0 C1 (Conv2D)", "2 Conv2D"
        if row is not None and row.layer is not None:
            kind = row.layer.label
            named = row.name and row.name not in (kind, bar.label)
            name += f" {row.name} ({kind})" if named else f" {kind}"
        macs = f"{bar.macs:,} MACs" + (f" ({si(bar.macs)})" if bar.macs >= 1000 else "")
        self.plots.setToolTip(f"{name}\n{macs} · {bar.params:,} params")

    def _clicked(self, event: object) -> None:
        # pyqtgraph's MouseClickEvent (no type hints); drags pan the plots and are not clicks
        if event.button() != Qt.MouseButton.LeftButton:  # type: ignore[attr-defined]
            return
        bar = self.bar_at(event.scenePos())  # type: ignore[attr-defined]
        if bar is not None:
            self.barClicked.emit(bar.node)

    @property
    def bars(self) -> list[Bar]:
        """The shown analysis's bars (made when first asked for: 22 ms for 10,000 layers)."""
        if self._bars is None:
            self._bars = cost_bars(self.analysis) if self.analysis is not None else []
        return self._bars

    def set_state(self, analysis: Analysis, selected: str | None) -> None:
        """Show ``analysis``'s bars with ``selected`` marked.

        The bars are set only when the analysis changed, all in one colour (pyqtgraph then draws
        them with one call), and the selected layer's bars are a separate item of one bar: a
        bar colour per layer cost 10,000 brushes and a bar-by-bar paint, 0.4 s per click on a
        10,000-layer design with this tab open. The numbers are read into arrays straight from
        the rows; more bars than the plot has pixels are drawn as the highest of each pixel's
        (:meth:`_draw_bars`).
        """
        if analysis is not self.analysis:
            rows = analysis.rows[1:]  # every node's row, in order (the input's first)
            n = len(rows)
            macs = np.fromiter((r.macs for r in rows), dtype=np.float64, count=n)
            params = np.fromiter((r.params for r in rows), dtype=np.float64, count=n)
            ids = analysis.design.ids
            moved = ids != self._ids  # an edit of a layer's settings keeps every name
            changed = moved or not (
                np.array_equal(macs, self._macs) and np.array_equal(params, self._params)
            )
            self.analysis, self._bars = analysis, None
            if changed:
                if moved:
                    self._ids = ids
                    self._labels = [r.id if r.id != str(r.index) else str(r.index) for r in rows]
                    self._index = {node: i for i, node in enumerate(ids)}
                    for axis in (self.macs_axis, self.params_axis):
                        axis.set_labels(self._labels)
                self._macs, self._params = macs, params
                self._drawn_step = 0
                self._draw_bars()
                for plot in (self.macs_plot, self.params_plot):
                    plot.enableAutoRange()
        self.selected = selected
        at = self._index.get(selected) if selected is not None else None
        for marker in self.markers:
            marker.setVisible(at is not None)
            if at is not None:
                marker.setValue(float(at))
        if at is not None:
            self.selected_macs.setOpts(x=[float(at)], height=[self._macs[at]])
            self.selected_params.setOpts(x=[float(at)], height=[self._params[at]])
        else:
            self.selected_macs.setOpts(x=[], height=[])
            self.selected_params.setOpts(x=[], height=[])
        self._ask_what_if(analysis, selected)
        total = analysis.totals.macs
        self.title.setText(
            f"MACs per layer (total {si(total)})"
            + (
                f"<br>selected: {si(int(self._macs[at]))} ({100 * self._macs[at] / total:.1f} %)"
                if at is not None and total
                else ""
            )
        )

    def _draw_bars(self) -> None:
        """Every bar in view, or where the bars outnumber the plot's pixels, the highest of each
        run of ``step`` bars as one bar: drawing 10,000 bars in 400 pixels cost 15 ms a paint
        and showed no more. Called again as the user zooms (the step follows the view)."""
        n = len(self._macs)
        lo, hi = self.macs_plot.vb.viewRange()[0]
        pixels = max(self.macs_plot.vb.width(), 1.0)
        step = max(1, int((min(hi, n) - max(lo, 0)) / pixels)) if n > pixels else 1
        if step == self._drawn_step:
            return
        self._drawn_step = step
        if step == 1:
            x = np.arange(n, dtype=np.float64)
            self.macs_item.setOpts(x=x, height=self._macs, width=0.8)
            self.params_item.setOpts(x=x, height=self._params, width=0.8)
            return
        starts = np.arange(0, n, step)
        x = starts + (np.minimum(starts + step, n) - starts - 1) / 2
        width = 0.8 * step
        self.macs_item.setOpts(x=x, height=np.maximum.reduceat(self._macs, starts), width=width)
        self.params_item.setOpts(x=x, height=np.maximum.reduceat(self._params, starts), width=width)

    @property
    def pending(self) -> bool:
        """The outlines of the selected layer doubled are being computed on the worker."""
        return self._what_if_for is not None

    def shutdown(self) -> None:
        """Stop the what-if worker (the window closes)."""
        self._what_if_for = None
        if self._what_if_worker is not None:
            self._what_if_worker.shutdown()

    def _ask_what_if(self, analysis: Analysis, selected: str | None) -> None:
        """Outline what doubling the selected layer would do: here, or for a large design on a
        worker (it analyses the doubled design: 38 ms for a 10,000-layer chain)."""
        if self._what_if_of == (analysis, selected):
            return  # shown, or on its way
        self._what_if_of = (analysis, selected)
        self._what_if_for = None
        if selected is None:
            self._show_doubled(())
            return
        cost = analysis_cost(analysis.design, at_least=BACKGROUND_WHAT_IF)
        if cost < BACKGROUND_WHAT_IF:
            what_if = what_if_double(analysis, selected)
            self._show_doubled(what_if.macs_after if what_if is not None else ())
            return
        self._show_doubled(())  # until the worker has them
        self._what_if_for = (analysis, selected)
        if self._what_if_worker is None:
            self._what_if_worker = LatestWorker(
                self, background=True, python_bound=True, priority=1
            )
            self._what_if_worker.resultReady.connect(self._what_if_arrived)
            self._what_if_worker.jobFailed.connect(self._what_if_failed)

        def job(_token: CancelToken, _progress: Progress) -> WhatIf | None:
            return what_if_double(analysis, selected)

        self._what_if_worker.submit(job)

    def _what_if_arrived(self, _request: int, what_if: object) -> None:
        wanted = self._what_if_for
        if wanted is None or wanted[0] is not self.analysis or wanted[1] != self.selected:
            return  # showing another layer or design since
        self._what_if_for = None
        self._show_doubled(what_if.macs_after if isinstance(what_if, WhatIf) else ())

    def _what_if_failed(self, _request: int, _error: object) -> None:
        self._what_if_for = None  # the bars stay; the outlines are an extra

    def _show_doubled(self, doubled: tuple[int, ...]) -> None:
        self.doubled = doubled
        if len(doubled) != len(self._macs):
            self.doubled_item.setOpts(x=[], height=[])
            return
        after = np.array(doubled, dtype=np.float64)
        changed = np.flatnonzero(after != self._macs)
        self.doubled_item.setOpts(x=changed.astype(np.float64), height=after[changed])
