"""The cost chart: MACs and parameters of every layer as bars, the selected layer highlighted.

Where wide layers follow each other the MAC bars jump: a conv's MACs are H·W·C_in·C_out·k², the
product of its own width and the width before it, so widening a chain grows its cost
quadratically. The numbers come from :func:`convdesigner.core.teaching.cost_bars`.

This module imports pyqtgraph; the window builds the chart only when its tab is first shown.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

# isort: split
import pyqtgraph as pg  # after PySide6, so pyqtgraph binds to it

# isort: split
from convdesigner.core.analysis import Analysis
from convdesigner.core.teaching import Bar, cost_bars, what_if_double
from convdesigner.core.units import si
from convdesigner.ui.feature_items import TitleLabel

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
        self._widths: list[int] = []
        self._label_px = 0
        self._font: QFont | None = None
        self._known: dict[str, int] = {}

    def set_labels(self, labels: list[str]) -> None:
        self.labels = [_short(label) for label in labels]
        font = self.style["tickFont"] or self.font()
        if font != self._font:  # widths by name, kept across edits (10,000 names: 5-10 ms)
            self._font, self._known = QFont(font), {}
        metrics, known = QFontMetrics(font), self._known
        for label in self.labels:
            if label not in known:
                known[label] = metrics.horizontalAdvance(label)
        self._widths = [known[label] for label in self.labels]
        self._label_px = max(self._widths, default=0) + LABEL_GAP_PX
        self.picture = None  # pyqtgraph's cached drawing
        self.update()

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
            if lo <= i - self._widths[i] / 2 * per_px and i + self._widths[i] / 2 * per_px <= hi
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
        self.bars: list[Bar] = []
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
        self.params_plot.setLabel("bottom", "layer")
        self.macs_item = pg.BarGraphItem(x=[], height=[], width=0.8, brush=BAR_BRUSH)
        self.params_item = pg.BarGraphItem(x=[], height=[], width=0.8, brush=BAR_BRUSH)
        # Outlines: every layer's MACs if the selected layer had twice the filters (the next
        # conv's bar grows with it: the quadratic cost of chained widths, seen).
        self.doubled_item = pg.BarGraphItem(
            x=[], height=[], width=0.8, brush=None, pen=pg.mkPen(SELECTED_BRUSH, width=1.5)
        )
        self.doubled: tuple[int, ...] = ()
        self.macs_plot.addItem(self.doubled_item)
        self.macs_plot.addItem(self.macs_item)
        self.params_plot.addItem(self.params_item)
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
            if 0 <= i < len(self.bars) and abs(x - i) <= 0.5:
                return self.bars[i]
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

    def set_state(self, analysis: Analysis, selected: str | None) -> None:
        bars = cost_bars(analysis)
        changed = bars != self.bars
        self.bars, self.selected, self.analysis = bars, selected, analysis
        x = np.arange(len(bars), dtype=np.float64)
        brushes = [pg.mkBrush(SELECTED_BRUSH if b.node == selected else BAR_BRUSH) for b in bars]
        self.macs_item.setOpts(
            x=x, height=np.array([b.macs for b in bars], dtype=np.float64), brushes=brushes
        )
        self.params_item.setOpts(
            x=x, height=np.array([b.params for b in bars], dtype=np.float64), brushes=brushes
        )
        at = next((i for i, b in enumerate(bars) if b.node == selected), None)
        for marker in self.markers:
            marker.setVisible(at is not None)
            if at is not None:
                marker.setValue(float(at))
        what_if = what_if_double(analysis, selected) if selected is not None else None
        self.doubled = what_if.macs_after if what_if is not None else ()
        changed_only = [
            (i, after)
            for i, (b, after) in enumerate(zip(bars, self.doubled, strict=False))
            if after != b.macs
        ]
        self.doubled_item.setOpts(
            x=np.array([i for i, _ in changed_only], dtype=np.float64),
            height=np.array([a for _, a in changed_only], dtype=np.float64),
        )
        if changed:
            for axis in (self.macs_axis, self.params_axis):
                axis.set_labels([b.label for b in bars])
            for plot in (self.macs_plot, self.params_plot):
                plot.enableAutoRange()
        total = analysis.totals.macs
        chosen = next((b for b in bars if b.node == selected), None)
        self.title.setText(
            f"MACs per layer (total {si(total)})"
            + (
                f"<br>selected: {si(chosen.macs)} ({100 * chosen.macs / total:.1f} %)"
                if chosen is not None and total
                else ""
            )
        )
