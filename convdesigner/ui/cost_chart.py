"""The cost chart: MACs and parameters of every layer as bars, the selected layer highlighted.

Where wide layers follow each other the MAC bars jump: a conv's MACs are H·W·C_in·C_out·k², the
product of its own width and the width before it, so widening a chain grows its cost
quadratically. The numbers come from :func:`convdesigner.core.teaching.cost_bars`.

This module imports pyqtgraph; the window builds the chart only when its tab is first shown.
"""

from __future__ import annotations

import numpy as np
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
MAX_TICKS = 40
"""Beyond this many layers only every n-th bar is labelled (DenseNet has hundreds)."""


class CountAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph ships no type hints
    """Counts as people read them (156 M, not 1.56e+08), so the label never overlaps."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)  # the ticks carry the prefix themselves

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [_compact(v) for v in values]


def _compact(value: float) -> str:
    if value < 0:
        return ""
    for div, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= div:
            return f"{value / div:.4g} {unit}"
    return f"{value:.4g}"


class CostChart(QWidget):
    """Two bar plots sharing the layer axis: MACs above, parameters below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("costChart")
        self.bars: list[Bar] = []
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
        self.macs_plot = self.plots.addPlot(row=1, col=0, axisItems={"left": CountAxis("left")})
        self.params_plot = self.plots.addPlot(row=2, col=0, axisItems={"left": CountAxis("left")})
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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.plots, 1)

    def set_state(self, analysis: Analysis, selected: str | None) -> None:
        bars = cost_bars(analysis)
        changed = bars != self.bars
        self.bars, self.selected = bars, selected
        x = np.arange(len(bars), dtype=np.float64)
        brushes = [pg.mkBrush(SELECTED_BRUSH if b.node == selected else BAR_BRUSH) for b in bars]
        self.macs_item.setOpts(
            x=x, height=np.array([b.macs for b in bars], dtype=np.float64), brushes=brushes
        )
        self.params_item.setOpts(
            x=x, height=np.array([b.params for b in bars], dtype=np.float64), brushes=brushes
        )
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
            step = max(1, len(bars) // MAX_TICKS + (1 if len(bars) % MAX_TICKS else 0))
            ticks = [[(float(i), b.label) for i, b in enumerate(bars) if i % step == 0]]
            self.params_plot.getAxis("bottom").setTicks(ticks)
            self.macs_plot.getAxis("bottom").setTicks(ticks)
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
