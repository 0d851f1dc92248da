"""The layer table: a thin ``QAbstractTableModel`` over the core's analysis rows.

The model formats, it never computes: every number comes from :mod:`convdesigner.core.analysis`
(torchinfo's idea of one plain record per layer). Row ``0`` is the input, rows ``1..n`` the
nodes in execution order, and the last row the totals. A design that is not a plain sequence
also shows each node's id, its inputs and whether it is one of the design's outputs. A new
analysis with the same rows and columns only emits ``dataChanged``, so selection and scroll
position survive live edits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont

from convdesigner.core.analysis import Analysis, LayerRow, Status, Totals
from convdesigner.core.table import inputs_text, partial_note, rf_text
from convdesigner.core.units import bytes_text, fmt
from convdesigner.ui.rows import (
    changed_span,
    padding_text,
    padding_tip,
    param_shapes_text,
    size_text,
    type_text,
    weight_shape_text,
)

ERROR_BACKGROUND = QColor(230, 60, 60, 70)
BLOCKED_BACKGROUND = QColor(150, 150, 150, 50)

Index = QModelIndex | QPersistentModelIndex


def _percent(part: int, whole: int) -> str:
    if whole <= 0:
        return "0%" if part == 0 else ""
    share = 100 * part / whole
    if part and share < 0.1:
        return "<0.1%"
    return f"{share:.1f}%"


def _share(row: LayerRow, part: int, whole: int) -> str:
    return "" if row.index is None else _percent(part, whole)


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[LayerRow, Analysis], str]
    numeric: bool = False
    explains: tuple[str, ...] = ()
    """Derivation keys that explain this column's number (for the explain panel)."""
    tip: str = ""
    share: bool = False
    """The text is a share of the totals, so it changes in every row when the totals do."""
    cell_tip: Callable[[LayerRow], str] | None = None
    """A tooltip per cell (the whole story where the cell shows a short form)."""


_KERNEL = Column("Kernel", lambda r, a: size_text(r.kernel), explains=("output_height",))
_STRIDE = Column("Stride", lambda r, a: size_text(r.stride), explains=("output_height",))
_PADDING = Column(
    "Padding",
    lambda r, a: padding_text(r),
    explains=("padding", "output_height", "output_width"),
    tip="zeros added around the input; one number when every side gets the same",
    cell_tip=padding_tip,
)
_WEIGHT_SHAPE = Column(
    "Weight shape",
    lambda r, a: weight_shape_text(r),
    explains=("weights",),
    tip="the weight tensor: kernel height × width × input channels (per group) × filters",
    cell_tip=param_shapes_text,
)

COLUMNS: tuple[Column, ...] = (
    Column("#", lambda r, a: "" if r.index is None else str(r.index), numeric=True),
    Column("Name", lambda r, a: r.name),
    Column("Type", lambda r, a: type_text(r)),
    # The answers first, so they are on screen without scrolling in a narrow table.
    Column(
        "Output H×W×C",
        lambda r, a: r.shape_text if r.output_shape else "—",
        explains=("output_height", "output_width", "output_channels"),
    ),
    Column(
        "Params", lambda r, a: fmt(r.params), numeric=True, explains=("params", "non_trainable")
    ),
    Column(
        "MACs",
        lambda r, a: fmt(r.macs),
        numeric=True,
        explains=("macs",),
        tip="multiply-accumulates for one image; 1 MAC = 2 FLOPs",
    ),
    Column(
        "% MACs",
        lambda r, a: _share(r, r.macs, a.totals.macs),
        numeric=True,
        explains=("macs",),
        share=True,
    ),
    Column(
        "% Params",
        lambda r, a: _share(r, r.params, a.totals.params),
        numeric=True,
        explains=("params",),
        share=True,
    ),
    _WEIGHT_SHAPE,
    _KERNEL,
    _STRIDE,
    _PADDING,
    Column("Weights", lambda r, a: fmt(r.weights), numeric=True, explains=("weights",)),
    Column("Biases", lambda r, a: fmt(r.biases), numeric=True, explains=("biases",)),
    Column(
        "Receptive field",
        lambda r, a: rf_text(r),
        numeric=True,
        explains=("receptive_field",),
        tip="input pixels (height×width) one output value depends on",
    ),
    Column(
        "Output memory",
        lambda r, a: bytes_text(r.activation_bytes) if r.output_shape else "",
        numeric=True,
        explains=("memory",),
        tip="float32, one image",
    ),
)


_GRAPH_ONLY = (
    Column("Id", lambda r, a: "" if r.index is None else r.id, tip="the node's id"),
    Column(
        "Inputs",
        lambda r, a: inputs_text(r, a, MAX_INPUTS_SHOWN),
        tip="the nodes this one reads, when it is not simply the one above (the Properties "
        "panel lists up to 100, with their shapes)",
    ),
    Column(
        "Design output",
        lambda r, a: "yes" if r.is_output else "",
        tip="nothing reads this node's output: it is one of the design's results",
    ),
)
MAX_INPUTS_SHOWN = 3
"""Inputs the table's Inputs column lists before "… (N in all)": a DenseNet concat reads up to
48, which would make the column wider than the screen."""


GRAPH_COLUMNS: tuple[Column, ...] = (
    COLUMNS[0],
    _GRAPH_ONLY[0],
    *COLUMNS[1:3],
    *COLUMNS[3:8],
    *_GRAPH_ONLY[1:],
    *COLUMNS[8:],
)
"""The columns of a design with branches (or ids of its own)."""


def columns_for(analysis: Analysis) -> tuple[Column, ...]:
    return COLUMNS if analysis.design.is_sequential else GRAPH_COLUMNS


def _totals_text(title: str, t: Totals, partial: bool = False) -> str:
    return {
        "Name": "Total (partial)" if partial else "Total",
        "Weights": fmt(t.weights),
        "Biases": fmt(t.biases),
        "Params": fmt(t.params),
        "% Params": "100%" if t.params else "",
        "MACs": fmt(t.macs),
        "% MACs": "100%" if t.macs else "",
        "Output memory": bytes_text(t.activation_bytes),
    }.get(title, "")


_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
_ALIGN = Qt.ItemDataRole.TextAlignmentRole.value
_BACKGROUND = Qt.ItemDataRole.BackgroundRole.value
_FONT = Qt.ItemDataRole.FontRole.value
_RIGHT = (Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value
_LEFT = (Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter).value
_TOTALS_TIP = "Totals for one image (1 MAC = 2 FLOPs)"


class LayerTableModel(QAbstractTableModel):
    """Rows: input, layers, totals. Read-only: edits go through the property panel.

    Cell texts are formatted once per row and analysis, on first paint: a repaint asks for
    several roles of every visible cell, and an edit of a 100-layer design must repaint within
    one frame.
    """

    def __init__(self, analysis: Analysis) -> None:
        super().__init__()
        self._bold = QFont()
        self._bold.setBold(True)
        self._italic = QFont()
        self._italic.setItalic(True)
        self._error_brush = QBrush(ERROR_BACKGROUND)
        self._blocked_brush = QBrush(BLOCKED_BACKGROUND)
        self._install(analysis)

    def _install(self, analysis: Analysis) -> None:
        self._analysis = analysis
        self._rows = analysis.rows
        self._n = len(analysis.rows)
        self._texts: dict[int, tuple[str, ...]] = {}
        columns = columns_for(analysis)
        self.columns = columns
        """The columns shown (they depend on whether the design is a plain sequence)."""
        self._n_columns = len(columns)
        self._alignments = tuple(_RIGHT if c.numeric else _LEFT for c in columns)
        self._share_columns = tuple(c for c, column in enumerate(columns) if column.share)

    @property
    def analysis(self) -> Analysis:
        return self._analysis

    def set_analysis(self, analysis: Analysis) -> None:
        """Show a new analysis; only rows whose content changed are announced (and repainted)."""
        old_rows, old_analysis = self._rows, self._analysis
        if len(analysis.rows) != len(old_rows) or columns_for(analysis) is not self.columns:
            self.beginResetModel()
            self._install(analysis)
            self.endResetModel()
            return
        old_totals = (self._analysis.totals, self._analysis.partial)
        self._install(analysis)
        last_column = self._n_columns - 1
        span = changed_span(old_analysis, analysis)  # analyse() says which rows it made anew
        if span is not None:
            self.dataChanged.emit(self.index(span[0], 0), self.index(span[1], last_column))
        if (self._analysis.totals, self._analysis.partial) != old_totals:
            # The totals row, and the share columns of every row; the view repaints only the
            # cells announced (half the table or less for a typical edit).
            self.dataChanged.emit(self.index(self._n, 0), self.index(self._n, last_column))
            for c in self._share_columns:
                self.dataChanged.emit(self.index(0, c), self.index(self._n - 1, c))

    def _row_texts(self, r: int) -> tuple[str, ...]:
        texts = self._texts.get(r)
        if texts is None:
            row = self._rows[r]
            texts = tuple(column.text(row, self._analysis) for column in self.columns)
            self._texts[r] = texts
        return texts

    def display_texts(self, row: int) -> tuple[str, ...]:
        """Every column's text at table row ``row`` (what ``data()`` shows), without Qt calls.

        The view sizes its columns from these: asking ``data()`` cell by cell through Qt costs
        milliseconds per table, spent on the UI thread.
        """
        if row == self._n:
            totals = self._analysis.totals
            partial = self._analysis.partial
            return tuple(_totals_text(c.title, totals, partial) for c in self.columns)
        return self._row_texts(row)

    def row_font(self, row: int) -> QFont | None:
        """The font of a whole row (italic input, bold totals; None: the view's own).

        Always the same objects, so a view can cache what it measured with them.
        """
        if row == self._n:
            return self._bold
        return self._italic if row == 0 else None

    # ------------------------------------------------------------------ mapping helpers

    def is_totals_row(self, row: int) -> bool:
        return row == self._n

    # ------------------------------------------------------------------ Qt model API

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._n + 1

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._n_columns

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < self._n_columns:
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.ToolTipRole and column.tip:
            return column.tip
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._alignments[section]
        return None

    # Painting a cell costs Qt one call into Python per virtual it reaches: ``index()`` (whose
    # default asks ``rowCount`` and ``columnCount``), ``flags()`` and one ``data()`` per role the
    # delegate wants (seven). While the engine computes on other threads, each of those calls
    # waits for the GIL again, and a table repaint grew from 5 ms to 15-25 ms. So ``index`` is
    # answered in one call, ``flags`` is left to Qt's default (enabled, selectable, no
    # children: what this model wants), and the delegate's ``multiData`` gets every role at once.

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if parent.isValid() or not (0 <= row <= self._n and 0 <= column < self._n_columns):
            return QModelIndex()
        return self.createIndex(row, column)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if not (0 <= r <= self._n and 0 <= c < self._n_columns):
            return None
        return self._value(r, c, int(role))

    def multiData(self, index: Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        if not index.isValid():
            return
        r, c = index.row(), index.column()
        if not (0 <= r <= self._n and 0 <= c < self._n_columns):
            return
        # A span is iterable through __getitem__, which the stubs leave out.
        span: Any = (roleDataSpan,) if isinstance(roleDataSpan, QModelRoleData) else roleDataSpan
        for role_data in span:
            # Every role is written, None included: a role left alone kept the previous cell's
            # value (seen with Qt 6.11: a bold totals font leaked into the next row measured).
            role_data.setData(self._value(r, c, role_data.role()))

    def _value(self, r: int, c: int, role: int) -> Any:
        """The cell's value for ``role``; ``r`` and ``c`` are in range."""
        if role == _DISPLAY:
            if r == self._n:
                analysis = self._analysis
                return _totals_text(self.columns[c].title, analysis.totals, analysis.partial)
            return self._row_texts(r)[c]
        if role == _ALIGN:
            return self._alignments[c]
        if role == _FONT:
            return self.row_font(r)
        if r == self._n:
            if role == _TOOLTIP:
                if self._analysis.partial:
                    return _TOTALS_TIP + partial_note(self._analysis) + ": an error stops the rest"
                return _TOTALS_TIP
            return None
        if role == _BACKGROUND:
            status = self._rows[r].status
            if status is Status.OK:
                return None
            return self._error_brush if status is Status.ERROR else self._blocked_brush
        if role == _TOOLTIP:
            row = self._rows[r]
            if not row.ok:
                return row.message
            column = self.columns[c]
            if column.cell_tip is not None:
                return column.cell_tip(row) or column.tip or None
            return column.tip or None
        return None
