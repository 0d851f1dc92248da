"""The layer table's view: cell selection, Ctrl+C as tab-separated text, sensible widths.

Column widths are measured from the model's formatted texts with the view's font metrics, the
way Qt's ``sizeHintForColumn`` measures them, but without a ``data()`` call per cell and role:
on VGG-16 that walk took ~10 ms of the UI thread per edit (20-40 ms while the feature-map
worker competes for the interpreter), enough to make the viewer stutter. A table of thousands
of rows measures the rows in view (and widens as more scroll into view): formatting every row
of a 10,000-node design took hundreds of milliseconds per edit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import (
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QHelpEvent,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolTip,
    QWidget,
)

from convdesigner.core.table import safe_text
from convdesigner.ui.table_model import LayerTableModel
from convdesigner.ui.workers import hold_background

LAST_KEY_COLUMN = "% MACs"
"""The table's answers run from "Output" to this column: they must be in view without scrolling."""

Index = QModelIndex | QPersistentModelIndex

MEASURE_ALL_ROWS = 500
"""Tables with more rows than this size their columns from the rows in view only (and widen as
others scroll into view). Measuring every text after an edit that changes every row costs
about 37 µs a row: DenseNet-121's 429 rows 9 ms, a 1,900-layer chain's 37 ms."""

REST_DELAY_MS = 50
"""Milliseconds after a new design is shown before the rows out of view are measured: after
the frame that fills the pipeline (``main_window.FOLLOW_MS``, 16 ms), which a first slice of
rows measured 20 ms after the open joined (a 21 ms frame instead of 16)."""

MEASURE_AT_ONCE_ROWS = 100
"""Rows measured in one event-loop pass (about 3 ms when their texts are new). A new design
with more rows than this (up to :data:`MEASURE_ALL_ROWS`) has its columns sized from the rows
in view at once and from every row a moment later, off the frame that shows it: opening
DenseNet-121 measured 429 rows of new texts in that frame, 15-26 ms of a 60 ms stall. Those
later measures, and the widening after an edit that changed every row, go this many rows per
pass: all 429 rows in one pass took 8-14 ms, and fell in the frame that drew the pipeline's
cards for the first time (a 34 ms stall); 150 rows a pass, 4.6 ms."""


class EdgeDelegate(QStyledItemDelegate):
    """For the one column cut by the view's right edge: its cells are drawn into the visible part
    only, so a number too long for it ends in "…" instead of being silently cut ("102,760,"
    for 102,760,448 read as a smaller number)."""

    def __init__(self, view: QTableView) -> None:
        super().__init__(view)
        self._view = view

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        visible = self._view.viewport().rect()
        if option.rect.right() > visible.right():
            option = QStyleOptionViewItem(option)
            option.rect = option.rect.intersected(visible)
        super().paint(painter, option, index)

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: Index,
    ) -> bool:
        """The pointer over a cut cell shows its whole text ("98.7%", not "98.…") above the
        column's usual tip."""
        cut = option.rect.right() > self._view.viewport().rect().right()
        if event.type() != QEvent.Type.ToolTip or not cut:
            return super().helpEvent(event, view, option, index)
        text = index.data(Qt.ItemDataRole.DisplayRole)
        tip = index.data(Qt.ItemDataRole.ToolTipRole)
        whole = "\n".join(str(part) for part in (text, tip) if part)
        QToolTip.showText(event.globalPos(), whole, view.viewport(), option.rect)
        return True


class LayerTableView(QTableView):
    def __init__(self, model: LayerTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerTable")
        self.setAccessibleName("Layer table")
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setCornerButtonEnabled(True)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # What was measured with which font: keyed by the view's font key and the model's row-font
        # object (stable; kept referenced so its id stays unique), each holding the metrics and
        # the widths of texts seen so far: numbers repeat from edit to edit and row to row.
        self._measured: dict[
            tuple[str, int], tuple[QFont | None, QFontMetricsF, dict[str, int]]
        ] = {}
        self._header_hints: tuple[str, list[int]] = ("", [])
        # Rows changed since the last widening (first, last), or None.
        self._changed_rows: tuple[int, int] | None = None
        self._user_sized: set[int] = set()
        """Columns the user resized: fitting leaves them alone until the next reset."""
        self._fitting = False
        self._text_cap = self.fontMetrics().horizontalAdvance("M" * 11)
        """Widest a text column is made (its longer texts are elided)."""
        self._text_floor = self.fontMetrics().horizontalAdvance("M" * 4)
        """Narrowest a name column is made to leave the answers room ("Conv…", whole in the
        tooltip)."""
        self._last_wanted: list[int] = []
        header.sectionResized.connect(self._section_resized)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        model.modelReset.connect(self.fit_columns)
        # Only the column under the right edge gets the (Python) clipping delegate: a Python
        # paint for every cell would cost milliseconds per repaint.
        self._edge_delegate = EdgeDelegate(self)
        self._edge_column: int | None = None
        header.sectionResized.connect(lambda *_: self._mark_edge_column())
        header.geometriesChanged.connect(self._mark_edge_column)
        self.horizontalScrollBar().valueChanged.connect(lambda _v: self._mark_edge_column())
        # Edits can make numbers longer; widen columns a moment later, off the edit's frame.
        self._widen_timer = QTimer(self)
        self._widen_timer.setSingleShot(True)
        self._widen_timer.setInterval(250)
        self._widen_timer.timeout.connect(self.widen_columns)
        model.dataChanged.connect(self._rows_changed)
        # A long table sizes its columns from the rows in view: widen (never shrink) as others
        # scroll into view.
        self._scroll_timer = QTimer(self)
        self._scroll_timer.setSingleShot(True)
        self._scroll_timer.setInterval(100)
        self._scroll_timer.timeout.connect(self._widen_to_view)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self._rest_timer = QTimer(self)  # see MEASURE_AT_ONCE_ROWS
        self._rest_timer.setSingleShot(True)
        self._rest_timer.setInterval(REST_DELAY_MS)
        self._rest_timer.timeout.connect(self._fit_rest)
        # Rows still to measure (see MEASURE_AT_ONCE_ROWS): the rows, how many are done, the
        # widths so far, and what to do with the widths wanted once all are measured.
        self._measuring: tuple[list[int], int, list[int], Callable[[list[int]], None]] | None
        self._measuring = None
        self._slice_timer = QTimer(self)
        self._slice_timer.setSingleShot(True)
        self._slice_timer.setInterval(0)
        self._slice_timer.timeout.connect(self._measure_slice)
        self._updating = False
        self._updating_label = QLabel("Updating…", self.viewport())
        self._updating_label.setObjectName("tableUpdating")
        self._updating_label.setToolTip("The analysis of the edited design is being computed")
        self._updating_label.setAutoFillBackground(True)  # opaque: the cells under it stay
        self._updating_label.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        self._updating_label.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self._updating_label.setContentsMargins(6, 2, 6, 2)
        self._updating_label.hide()
        self.fit_columns()

    def paintEvent(self, event: QPaintEvent) -> None:
        hold_background()  # every cell painted is a call into Python (see table_model.index)
        super().paintEvent(event)

    def set_updating(self, updating: bool) -> None:
        """Mark the rows as an earlier design's while a large design's analysis is computed on
        a worker thread: a small opaque label over the table's corner, not a repaint of every
        cell (each cell's data is a call into Python, which has to wait for the worker's turn
        with the interpreter: a full repaint then took 30-90 ms instead of 4)."""
        if updating == self._updating:
            return
        self._updating = updating
        label = self._updating_label
        if updating:
            label.adjustSize()
            viewport = self.viewport()
            label.move(max(viewport.width() - label.width() - 4, 0), 2)
            label.show()
            label.raise_()
        else:
            label.hide()

    @property
    def updating(self) -> bool:
        return self._updating

    def measured_rows(self, rows: range | None = None) -> Iterable[int]:
        """The rows (of ``rows``, default all) whose texts size the columns: all of them in a
        table up to :data:`MEASURE_ALL_ROWS` rows, else those in view and the totals row."""
        count = self.model().rowCount()
        wanted = range(count) if rows is None else rows
        if count <= MEASURE_ALL_ROWS:
            return wanted
        return self._rows_in_view(wanted)

    def _rows_in_view(self, wanted: range) -> Iterable[int]:
        """The rows of ``wanted`` in view, and the totals row."""
        count = self.model().rowCount()
        first = max(self.rowAt(0), 0)
        last = self.rowAt(self.viewport().height() - 1)
        height = max(self.verticalHeader().defaultSectionSize(), 1)
        if last < first:  # not laid out yet, or the view ends below the last row
            last = first + max(self.viewport().height(), 600) // height
        in_view = range(max(first, wanted.start), min(last + 1, wanted.stop))
        totals = count - 1
        return [*in_view, totals] if totals in wanted and totals not in in_view else in_view

    def _scrolled(self, _value: int) -> None:
        if self.model().rowCount() > MEASURE_ALL_ROWS:
            self._scroll_timer.start()

    def _widen_to_view(self) -> None:
        hold_background()  # each header and cell measured is a call into Python
        self._fit(self._wanted_widths(self.measured_rows()), shrink=False)

    def _rows_changed(self, top_left: QModelIndex, bottom_right: QModelIndex, *_: object) -> None:
        first, last = top_left.row(), bottom_right.row()
        if self._changed_rows is not None:
            first, last = min(first, self._changed_rows[0]), max(last, self._changed_rows[1])
        self._changed_rows = (first, last)
        self._widen_timer.start()

    def content_widths(self, rows: Iterable[int]) -> list[int]:
        """Width each column's cells in ``rows`` need, as ``sizeHintForColumn`` would give it.

        That is the text's advance in the cell's font (the model's row font resolved against the
        view's font), plus the style's text margin on both sides and one pixel of grid.
        """
        model = self.layer_model()
        base = self.font()
        base_key = base.key()
        style = self.style()
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self) + 1
        extra = 2 * margin + (1 if self.showGrid() else 0)
        if len(self._measured) > 16:  # the view's font changed many times: forget old ones
            self._measured.clear()
        widths = [0] * model.columnCount()
        for r in rows:
            row_font = model.row_font(r)
            slot = (base_key, id(row_font))
            measured = self._measured.get(slot)
            if measured is None or len(measured[2]) > 50_000:
                font = base if row_font is None else row_font.resolve(base)
                measured = self._measured[slot] = (row_font, QFontMetricsF(font), {})
            _, metrics, known = measured
            for c, text in enumerate(model.display_texts(r)):
                width = known.get(text)
                if width is None:
                    width = known[text] = math.ceil(metrics.horizontalAdvance(text))
                if width > widths[c]:
                    widths[c] = width
        return [w + extra for w in widths]

    def header_hints(self) -> list[int]:
        """The header's width hint per column (fixed titles: measured once per style and font)."""
        header = self.horizontalHeader()
        key = f"{header.style().name()}|{header.font().key()}"
        if self._header_hints[0] != key or len(self._header_hints[1]) != header.count():
            self._header_hints = (key, [header.sectionSizeHint(c) for c in range(header.count())])
        return self._header_hints[1]

    def _wanted_widths(self, rows: Iterable[int]) -> list[int]:
        return self._with_titles(self.content_widths(rows))

    def _with_titles(self, content: list[int]) -> list[int]:
        return [max(c, title) for c, title in zip(content, self.header_hints(), strict=True)]

    def _measure(self, rows: Iterable[int], then: Callable[[list[int]], None]) -> None:
        """Call ``then`` with the widths ``rows`` want: at once for up to
        :data:`MEASURE_AT_ONCE_ROWS` rows, else over as many event-loop passes as it takes.
        Replaces a measure still under way (its rows may have changed since)."""
        self._slice_timer.stop()
        self._measuring = (list(rows), 0, [0] * self.model().columnCount(), then)
        self._measure_slice()

    @property
    def measuring(self) -> bool:
        """Whether column widths are still being measured over later passes."""
        return self._measuring is not None

    def _cancel_measure(self) -> None:
        self._slice_timer.stop()
        self._measuring = None

    def _measure_slice(self) -> None:
        job = self._measuring
        if job is None:
            return
        hold_background()  # each cell measured is a call into Python
        rows, done, widths, then = job
        count = self.model().rowCount()
        upto = min(done + MEASURE_AT_ONCE_ROWS, len(rows))
        part = self.content_widths(r for r in rows[done:upto] if r < count)
        widths = [max(a, b) for a, b in zip(widths, part, strict=True)]
        if upto < len(rows):
            self._measuring = (rows, upto, widths, then)
            self._slice_timer.start()
            return
        self._measuring = None
        then(self._with_titles(widths))

    def fit_columns(self) -> None:
        """Size every column to its contents and title (a new design or row count: what the
        user widened before is forgotten)."""
        self._user_sized.clear()
        self._changed_rows = None
        self._cancel_measure()
        hold_background()
        count = self.model().rowCount()
        if MEASURE_AT_ONCE_ROWS < count <= MEASURE_ALL_ROWS:
            self._fit(self._wanted_widths(self._rows_in_view(range(count))), shrink=True)
            self._rest_timer.start()  # every row, a moment later
        else:
            self._rest_timer.stop()
            self._fit(self._wanted_widths(self.measured_rows()), shrink=True)

    def _fit_rest(self) -> None:
        """Widen the columns a new design's rows out of view need (see fit_columns)."""
        self._measure(self.measured_rows(), lambda wanted: self._fit(wanted, shrink=False))

    def widen_columns(self) -> None:
        """Fit the columns to the texts after an edit: numbers always fit (grown when they get
        longer, shrunk back when they get shorter, so one huge value does not keep a column
        wide and push the others off screen); columns the user resized are left alone.

        Every row is measured (in a long table: the rows in view), from cached texts and
        widths where the rows did not change; many changed rows over several passes (see
        :data:`MEASURE_AT_ONCE_ROWS`). Without a change since the last call the columns only
        grow, then shrink to fit.
        """
        changed, self._changed_rows = self._changed_rows, None
        self._rest_timer.stop()  # this measures every row too, and may shrink
        header = self.horizontalHeader()

        def fit(wanted: list[int]) -> None:
            hold_background()  # the header repaints, one call into Python per title and role
            grow = any(
                wanted[c] > header.sectionSize(c) and c not in self._user_sized
                for c in range(len(wanted) - 1)
            )
            if grow or changed is not None:
                self._fit(wanted, shrink=True)

        self._measure(self.measured_rows(), fit)

    def _name_widths(self, wanted: list[int]) -> dict[int, int]:
        """Widths of the columns before the answers that only name things (id, name, type):
        as wide as their texts up to a cap, and narrower, down to a floor, when the view is too
        narrow for the answers after them (a graph design's id column at 1366×768)."""
        columns = self.layer_model().columns
        last = [column.title for column in columns].index(LAST_KEY_COLUMN)
        names = [
            c
            for c in range(last)
            if not columns[c].numeric and not columns[c].explains and c not in self._user_sized
        ]
        others = sum(
            wanted[c] if c not in self._user_sized else self.horizontalHeader().sectionSize(c)
            for c in range(last + 1)
            if c not in names
        )
        room = self.viewport().width() - others
        cap = self._text_cap
        while cap > self._text_floor and sum(min(wanted[c], cap) for c in names) > room:
            cap -= 1
        return {c: min(wanted[c], cap) for c in names}

    def _fit(self, wanted: list[int], *, shrink: bool) -> None:
        header = self.horizontalHeader()
        columns = self.layer_model().columns
        self._last_wanted = wanted
        names = self._name_widths(wanted)
        self._fitting = True
        try:
            for c, width in enumerate(wanted[:-1] if header.stretchLastSection() else wanted):
                if c in self._user_sized:
                    continue
                if c in names:
                    width = names[c]
                elif not columns[c].numeric:
                    # Texts are elided ("…", whole text in the tooltip) rather than pushing the
                    # numbers off screen.
                    width = min(width, self._text_cap)
                if width > header.sectionSize(c) or (shrink and width < header.sectionSize(c)):
                    header.resizeSection(c, width)
        finally:
            self._fitting = False

    def _mark_edge_column(self) -> None:
        header = self.horizontalHeader()
        edge = self.viewport().width() - 1
        column: int | None = header.logicalIndexAt(edge)
        if column is not None and (
            column < 0
            or header.sectionViewportPosition(column) + header.sectionSize(column) <= edge + 1
        ):
            column = None
        if column == self._edge_column:
            return
        if self._edge_column is not None:
            self.setItemDelegateForColumn(self._edge_column, None)  # type: ignore[arg-type]
        if column is not None:
            self.setItemDelegateForColumn(column, self._edge_delegate)
        self._edge_column = column
        self.viewport().update()

    def key_columns_shortfall(self) -> int:
        """Pixels the view lacks to show every column up to "% MACs" (the answers: output,
        params, MACs and their share) without scrolling; 0 or less when they fit."""
        header = self.horizontalHeader()
        titles = [column.title for column in self.layer_model().columns]
        last = titles.index(LAST_KEY_COLUMN)
        return header.sectionPosition(last) + header.sectionSize(last) - self.viewport().width()

    def edge_column(self) -> int | None:
        """The column the view's right edge cuts (drawn elided), if any."""
        return self._edge_column

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._last_wanted and event.size().width() != event.oldSize().width():
            # The name columns' share depends on the width: fit again from the last measure.
            self._fit(self._last_wanted, shrink=True)
        self._mark_edge_column()

    def _section_resized(self, column: int, _old: int, _new: int) -> None:
        if not self._fitting:
            self._user_sized.add(column)

    def layer_model(self) -> LayerTableModel:
        model = self.model()
        assert isinstance(model, LayerTableModel)
        return model

    def selection_text(self) -> str:
        """The selected cells as tab-separated lines (rows and columns in table order)."""
        indexes = self.selectionModel().selectedIndexes()
        if not indexes:
            return ""
        rows = sorted({i.row() for i in indexes})
        columns = sorted({i.column() for i in indexes})
        chosen = {(i.row(), i.column()) for i in indexes}
        model = self.model()
        lines = []
        for r in rows:
            cells = []
            for c in columns:
                text = model.index(r, c).data() if (r, c) in chosen else ""
                # As the CSV export: a pasted "=HYPERLINK(...)" must stay text in a spreadsheet.
                cells.append(safe_text(str(text or "").replace("\t", " ").replace("\n", " ")))
            lines.append("\t".join(cells))
        return "\n".join(lines) + "\n"

    def copy_selection(self) -> None:
        text = self.selection_text()
        if text:
            QGuiApplication.clipboard().setText(text)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            event.accept()
            return
        super().keyPressEvent(event)
