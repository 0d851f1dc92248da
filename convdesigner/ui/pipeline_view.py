"""The pipeline editor: the input and each layer as a card, a drop target and a reorder source.

Drops are handled here rather than through ``QAbstractItemModel.dropMimeData`` so the view can
turn a pixel position into an insertion gap, draw its own indicator line between cards, and
report *intentions* (``paletteDropped(key, index)``, ``layerMoved(src, dst)``). The main window
turns those into undo commands on the core design, napari-style: the Qt model never edits data.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDrag,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from convdesigner.core.analysis import Analysis, LayerRow, Status
from convdesigner.ui import mime
from convdesigner.ui.catalog import FAMILY_OF_TYPE, icon_key
from convdesigner.ui.icons import family_colour, layer_icon
from convdesigner.ui.summaries import input_summary, layer_summary

ROW_ROLE = Qt.ItemDataRole.UserRole + 1
ERROR_COLOUR = QColor(214, 48, 49)

Index = QModelIndex | QPersistentModelIndex


class PipelineModel(QAbstractListModel):
    """Row 0 is the input, row ``i + 1`` is ``design.layers[i]``."""

    def __init__(self, analysis: Analysis) -> None:
        super().__init__()
        self._analysis = analysis

    @property
    def analysis(self) -> Analysis:
        return self._analysis

    def set_analysis(self, analysis: Analysis) -> None:
        if len(analysis.rows) == len(self._analysis.rows):
            self._analysis = analysis
            self.dataChanged.emit(self.index(0), self.index(len(analysis.rows) - 1))
            return
        self.beginResetModel()
        self._analysis = analysis
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._analysis.rows)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.row() > 0:
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        return flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._analysis.rows):
            return None
        row = self._analysis.rows[index.row()]
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            return row.name if row.index is None else f"{row.index} {row.name}"
        if role == Qt.ItemDataRole.ToolTipRole:
            if not row.ok:
                return row.message
            return (
                row.layer.description if row.layer is not None else "The image fed to the network"
            )
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{row.name}: {row.shape_text}"
        return None


def _details(row: LayerRow, analysis: Analysis) -> str:
    if row.layer is None:
        return input_summary(analysis.design.input)
    return layer_summary(row.layer)


class PipelineDelegate(QStyledItemDelegate):
    """Paints a card: colour stripe, icon, index and name, key settings, output shape."""

    MARGIN = 4

    def _metrics(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont, int]:
        bold = QFont(option.font)
        bold.setBold(True)
        small = QFont(option.font)
        line = QFontMetrics(bold).height()
        return bold, small, line

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        _bold, _small, line = self._metrics(option)
        return QSize(260, 2 * line + 16 + 2 * self.MARGIN)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        row: LayerRow | None = index.data(ROW_ROLE)
        model = index.model()
        if row is None or not isinstance(model, PipelineModel):
            super().paint(painter, option, index)
            return
        analysis = model.analysis
        pal: QPalette = option.palette
        rect: QRect = option.rect.adjusted(
            self.MARGIN + 2, self.MARGIN, -self.MARGIN - 2, -self.MARGIN
        )
        state = option.state
        selected = bool(state & QStyle.StateFlag.State_Selected)
        family = "input" if row.layer is None else FAMILY_OF_TYPE.get(row.type, "input")
        accent = family_colour(family)
        bad = row.status is Status.ERROR
        blocked = row.status is Status.NOT_COMPUTABLE

        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        base = pal.color(QPalette.ColorRole.Base)
        if selected:
            base = pal.color(QPalette.ColorRole.Highlight)
            base.setAlpha(60)
            base = _blend(pal.color(QPalette.ColorRole.Base), base)
        elif bad:
            base = _blend(base, QColor(230, 60, 60, 45))
        border = (
            ERROR_COLOUR
            if bad
            else (
                pal.color(QPalette.ColorRole.Highlight)
                if selected
                else pal.color(QPalette.ColorRole.Mid)
            )
        )
        painter.setPen(QPen(border, 2 if (bad or selected) else 1))
        painter.setBrush(base)
        painter.drawRoundedRect(rect, 6, 6)
        stripe = QRect(rect.left(), rect.top(), 5, rect.height())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(ERROR_COLOUR if bad else accent)
        painter.drawRoundedRect(stripe.adjusted(1, 1, 0, -1), 2, 2)

        bold, small, line = self._metrics(option)
        icon_size = min(32, rect.height() - 12)
        icon_rect = QRect(
            rect.left() + 12, rect.center().y() - icon_size // 2, icon_size, icon_size
        )
        key = "input" if row.layer is None else icon_key(row.layer)
        layer_icon(key, family).paint(painter, icon_rect)

        text_pen = pal.color(QPalette.ColorRole.Text)
        dim = pal.color(QPalette.ColorRole.PlaceholderText)
        left = icon_rect.right() + 10
        right = rect.right() - 10
        top = rect.top() + 6

        # Right column: output shape (the number learners watch) and parameter count.
        painter.setFont(bold)
        shape = f"→ {row.shape_text}" if row.output_shape else ("error" if bad else "—")
        fm_bold = QFontMetrics(bold)
        shape_w = fm_bold.horizontalAdvance(shape)
        painter.setPen(ERROR_COLOUR if bad else text_pen)
        painter.drawText(
            QRect(right - shape_w, top, shape_w, line),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            shape,
        )
        painter.setFont(small)
        fm_small = QFontMetrics(small)
        if row.output_shape is not None and row.layer is not None:
            sub = f"{row.params:,} params"
        else:
            sub = ""
        sub_w = fm_small.horizontalAdvance(sub)
        painter.setPen(dim)
        if sub:
            painter.drawText(
                QRect(right - sub_w, top + line + 2, sub_w, line),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                sub,
            )

        # Left column: index and name, then the key settings (or the error).
        title_w = max(40, right - max(shape_w, sub_w) - 12 - left)
        painter.setFont(bold)
        painter.setPen(text_pen if not blocked else dim)
        title = row.name if row.index is None else f"{row.index}  {row.name}"
        if row.layer is not None and row.layer.name:
            title += f"  ({row.layer.display_name})"
        painter.drawText(
            QRect(left, top, title_w, line),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            fm_bold.elidedText(title, Qt.TextElideMode.ElideRight, title_w),
        )
        painter.setFont(small)
        if bad:
            painter.setPen(ERROR_COLOUR)
            detail = row.message
        else:
            painter.setPen(dim)
            detail = _details(row, analysis)
            if blocked:
                detail = "not computable (an earlier layer has an error) · " + detail
        detail_w = right - left
        if sub:
            detail_w -= sub_w + 12
        painter.drawText(
            QRect(left, top + line + 2, max(40, detail_w), line),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            fm_small.elidedText(detail, Qt.TextElideMode.ElideRight, max(40, detail_w)),
        )
        painter.restore()


def _blend(base: QColor, over: QColor) -> QColor:
    a = over.alphaF()
    return QColor.fromRgbF(
        base.redF() * (1 - a) + over.redF() * a,
        base.greenF() * (1 - a) + over.greenF() * a,
        base.blueF() * (1 - a) + over.blueF() * a,
    )


class PipelineView(QListView):
    """Cards of the design; accepts palette entries, reorders layers, forwards dropped files."""

    paletteDropped = Signal(str, int)
    """(palette entry key, insertion index in ``design.layers``)"""
    layerMoved = Signal(int, int)
    """(source index, destination index after removal), as ``Design.move`` takes them"""
    filesDropped = Signal(list)

    def __init__(self, model: PipelineModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pipelineView")
        self.setModel(model)
        self.setItemDelegate(PipelineDelegate(self))
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDropIndicatorShown(False)  # we draw our own line between cards
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSpacing(0)
        self.setAccessibleName("Pipeline")
        self._gap: int | None = None
        self._token = f"{os.getpid()}-{id(self)}"

    def pipeline_model(self) -> PipelineModel:
        model = self.model()
        assert isinstance(model, PipelineModel)
        return model

    # ------------------------------------------------------------------ geometry

    def gap_at(self, pos: QPoint) -> int:
        """Insertion index in ``design.layers`` for a drop at viewport position ``pos``."""
        n_layers = self.pipeline_model().rowCount() - 1
        index = self.indexAt(pos)
        if not index.isValid():
            if self.model().rowCount() == 0:
                return 0
            first = self.visualRect(self.model().index(0, 0))
            return 0 if pos.y() < first.top() else n_layers
        row = index.row()
        if row == 0:
            return 0
        rect = self.visualRect(index)
        layer = row - 1
        return layer if pos.y() < rect.center().y() else layer + 1

    def gap_y(self, gap: int) -> int:
        """Viewport y of the indicator line for ``gap`` (below the card above it)."""
        model = self.model()
        return self.visualRect(model.index(gap, 0)).bottom()

    def layer_rect(self, index: int | None) -> QRect:
        """Viewport rectangle of a layer's card (None: the input card); for tests and tools."""
        row = 0 if index is None else index + 1
        return self.visualRect(self.model().index(row, 0))

    # ------------------------------------------------------------------ drag source

    def move_mime(self, layer: int) -> QMimeData:
        """The payload this view drags when the user picks up layer ``layer``."""
        return mime.move_mime(layer, self._token)

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        index = self.currentIndex()
        if not index.isValid() or index.row() == 0:
            return
        drag = QDrag(self)
        drag.setMimeData(self.move_mime(index.row() - 1))
        rect = self.visualRect(index)
        drag.setPixmap(self.viewport().grab(rect))
        drag.setHotSpot(self.viewport().mapFromGlobal(self.cursor().pos()) - rect.topLeft())
        drag.exec(Qt.DropAction.MoveAction)

    # ------------------------------------------------------------------ drop target

    def _accepts(self, event: QDragEnterEvent | QDragMoveEvent | QDropEvent) -> str | None:
        data = event.mimeData()
        if mime.palette_key(data) is not None:
            return "palette"
        if mime.moved_index(data, self._token) is not None:
            return "move"
        if mime.dropped_files(data):
            return "files"
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        kind = self._accepts(event)
        if kind is None:
            event.ignore()
            return
        event.setDropAction(
            Qt.DropAction.MoveAction if kind == "move" else Qt.DropAction.CopyAction
        )
        event.accept()
        self._set_gap(self.gap_at(event.position().toPoint()) if kind != "files" else None)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        kind = self._accepts(event)
        if kind is None:
            event.ignore()
            return
        event.setDropAction(
            Qt.DropAction.MoveAction if kind == "move" else Qt.DropAction.CopyAction
        )
        event.accept()
        self._set_gap(self.gap_at(event.position().toPoint()) if kind != "files" else None)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_gap(None)
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        kind = self._accepts(event)
        self._set_gap(None)
        if kind is None:
            event.ignore()
            return
        data = event.mimeData()
        gap = self.gap_at(event.position().toPoint())
        if kind == "palette":
            key = mime.palette_key(data)
            assert key is not None
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            self.paletteDropped.emit(key, gap)
        elif kind == "move":
            source = mime.moved_index(data, self._token)
            assert source is not None
            # The drop already moved the layer; tell QDrag not to delete anything.
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            destination = gap - 1 if gap > source else gap
            if destination != source:
                self.layerMoved.emit(source, destination)
        else:
            event.acceptProposedAction()
            self.filesDropped.emit(mime.dropped_files(data))

    @property
    def drop_gap(self) -> int | None:
        """The insertion gap the indicator currently shows (None: no indicator)."""
        return self._gap

    def _set_gap(self, gap: int | None) -> None:
        if gap != self._gap:
            self._gap = gap
            self.viewport().update()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._gap is None:
            return
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = self.palette().color(QPalette.ColorRole.Highlight)
        painter.setPen(QPen(colour, 3))
        painter.setBrush(colour)
        y = self.gap_y(self._gap)
        x0, x1 = 6, self.viewport().width() - 6
        painter.drawLine(x0 + 6, y, x1 - 6, y)
        painter.drawEllipse(QPoint(x0 + 4, y), 4, 4)
        painter.drawEllipse(QPoint(x1 - 4, y), 4, 4)
        painter.end()
