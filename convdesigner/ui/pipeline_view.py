"""The pipeline editor: the input and each node as a card, a drop target and a reorder source.

Nodes are listed in execution order (the table's order too, as torchinfo lists a network). A
node that does not simply read the card above says what it reads ("← bn2, input"), and a thin
line in the left margin joins it to each of those cards: a residual connection shows as a skip
edge beside the block it bypasses.

Drops are handled here rather than through ``QAbstractItemModel.dropMimeData`` so the view can
turn a pixel position into an insertion gap, draw its own indicator line between cards, and
report *intentions* (``paletteDropped(key, index)``, ``nodeMoved(id, destination)``). The main
window turns those into document edits, napari-style: the Qt model never edits data.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QAccessible,
    QColor,
    QDrag,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QFontMetrics,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from convdesigner.core.analysis import Analysis
from convdesigner.ui import mime
from convdesigner.ui.cards import (
    GUTTER_PAD,
    LANE_WIDTH,
    MAX_LANES,
    Card,
    Edges,
    make_card,
    same_wiring,
    selected_edges,
    skip_edges,
)
from convdesigner.ui.icons import layer_icon
from convdesigner.ui.rows import changed_span
from convdesigner.ui.theme import family_colour
from convdesigner.ui.workers import hold_background

ROW_ROLE = Qt.ItemDataRole.UserRole + 1
ERROR_COLOUR = QColor(214, 48, 49)

Index = QModelIndex | QPersistentModelIndex


_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
_ACCESSIBLE = Qt.ItemDataRole.AccessibleTextRole.value
_ROW = ROW_ROLE.value if hasattr(ROW_ROLE, "value") else int(ROW_ROLE)
_CARD = _ROW + 1
_LAYER_FLAGS = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
)
_INPUT_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class PipelineModel(QAbstractListModel):
    """Row 0 is the input, row ``i + 1`` is ``design.nodes[i]``."""

    def __init__(self, analysis: Analysis) -> None:
        super().__init__()
        self._install(analysis)

    def _install(self, analysis: Analysis) -> None:
        previous: Analysis | None = getattr(self, "_analysis", None)
        old_cards: dict[int, Card] = getattr(self, "_cards", {})
        self._analysis = analysis
        self._rows = analysis.rows
        self._cards: dict[int, Card] = {}
        if previous is None or not same_wiring(previous.design, analysis.design):
            self.edges = skip_edges(analysis)
            """(source row, target row, lane) of the lines drawn beside the cards; None: too
            many to draw (only the selected card's are, see ``cards.MAX_EDGES``)."""
        elif len(previous.rows) == len(analysis.rows):
            # Same wiring: a card depends only on its row, which analyse() hands back
            # unchanged (the same object) when the edit did not reach it.
            rows = analysis.rows
            self._cards = {r: card for r, card in old_cards.items() if card.row is rows[r]}
        if self.edges is None:
            lanes = MAX_LANES
        else:
            lanes = 1 + max((lane for _s, _t, lane in self.edges), default=-1)
        self.gutter = GUTTER_PAD + LANE_WIDTH * lanes if lanes else 0
        """Pixels left of the cards kept for those lines."""

    @property
    def analysis(self) -> Analysis:
        return self._analysis

    def card(self, r: int) -> Card:
        card = self._cards.get(r)
        if card is None:
            card = self._cards[r] = make_card(self._rows[r], self._analysis)
        return card

    def set_analysis(self, analysis: Analysis) -> None:
        """Show a new analysis; only cards whose row changed are announced (and repainted)."""
        old_rows, old_analysis = self._rows, self._analysis
        old_input = old_analysis.design.input
        if len(analysis.rows) != len(old_rows):
            self.beginResetModel()
            self._install(analysis)
            self.endResetModel()
            return
        old_edges, old_gutter = self.edges, self.gutter
        self._install(analysis)
        if (self.edges, self.gutter) != (old_edges, old_gutter):
            # Lines and margins move: every card may be drawn elsewhere.
            self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1))
            return
        span = changed_span(old_analysis, analysis)
        if analysis.design.input != old_input:
            span = (0, span[1] if span is not None else 0)
        if span is not None:
            self.dataChanged.emit(self.index(span[0]), self.index(span[1]))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _LAYER_FLAGS if index.row() > 0 else _INPUT_FLAGS

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        role = int(role)
        if role == _CARD:
            return self.card(index.row())
        row = self._rows[index.row()]
        if role == _ROW:
            return row
        if role == _DISPLAY:
            return row.name if row.index is None else f"{row.id} {row.name}"
        if role == _TOOLTIP:
            if not row.ok:
                return row.message
            if row.layer is None:
                return "The image fed to the network"
            return row.layer.description
        if role == _ACCESSIBLE:
            return f"{row.name}: {row.shape_text}"
        return None


_ALIGN_LEFT = (Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter).value
_ALIGN_RIGHT = (Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value
_SELECTED = QStyle.StateFlag.State_Selected
_PIXMAP_BUDGET = 32 * 1024 * 1024
"""Bytes of drawn cards kept: about 280 cards of 620×46 pixels (70 on a 2× screen), a screenful
many times over."""


class PipelineDelegate(QStyledItemDelegate):
    """Paints a card: colour stripe, icon, index and name, key settings, output shape."""

    MARGIN = 4

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fonts: dict[str, tuple[QFont, QFont, QFontMetrics, QFontMetrics, int]] = {}
        self._pixmaps: dict[tuple[object, ...], QPixmap] = {}
        self._pixmap_bytes = 0

    def _metrics(
        self, option: QStyleOptionViewItem
    ) -> tuple[QFont, QFont, QFontMetrics, QFontMetrics, int]:
        font: QFont = option.font
        key = font.key()
        cached = self._fonts.get(key)
        if cached is None:
            bold = QFont(font)
            bold.setBold(True)
            small = QFont(font)
            fm_bold, fm_small = QFontMetrics(bold), QFontMetrics(small)
            cached = self._fonts[key] = (bold, small, fm_bold, fm_small, fm_bold.height())
        return cached

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        line = self._metrics(option)[4]
        return QSize(260, 2 * line + 16 + 2 * self.MARGIN)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        """Draw the card from a pixmap cache: an edit repaints every card in view, and drawing
        one from scratch takes about forty calls from Python into Qt (a quarter of a
        millisecond, several times that while the engine's threads compete for the GIL)."""
        card: Card | None = index.data(_CARD)
        if card is None:
            super().paint(painter, option, index)
            return
        rect: QRect = option.rect
        model = index.model()
        gutter = model.gutter if isinstance(model, PipelineModel) else 0
        if gutter:
            rect = rect.adjusted(gutter, 0, 0, 0)
        selected = bool(option.state & _SELECTED)
        pal: QPalette = option.palette
        ratio = painter.device().devicePixelRatioF()
        key = (
            card.title,
            card.detail,
            card.shape,
            card.params,
            card.icon_key,
            card.family,
            card.row.status,
            selected,
            rect.width(),
            rect.height(),
            ratio,
            pal.cacheKey(),
            option.font.key(),
        )
        pixmap = self._pixmaps.get(key)
        if pixmap is None:
            pixmap = QPixmap(
                max(1, math.ceil(rect.width() * ratio)), max(1, math.ceil(rect.height() * ratio))
            )
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(Qt.GlobalColor.transparent)
            pix_painter = QPainter(pixmap)
            try:
                self._draw_card(pix_painter, option, QRect(0, 0, rect.width(), rect.height()), card)
            finally:
                pix_painter.end()
            self._pixmaps[key] = pixmap
            self._pixmap_bytes += _bytes(pixmap)
            while self._pixmap_bytes > _PIXMAP_BUDGET and len(self._pixmaps) > 1:
                oldest = self._pixmaps.pop(next(iter(self._pixmaps)))
                self._pixmap_bytes -= _bytes(oldest)
        painter.drawPixmap(rect.topLeft(), pixmap)

    def _draw_card(
        self, painter: QPainter, option: QStyleOptionViewItem, cell: QRect, card: Card
    ) -> None:
        pal: QPalette = option.palette
        m = self.MARGIN
        rect = cell.adjusted(m + 2, m, -m - 2, -m)
        selected = bool(option.state & _SELECTED)
        bad, blocked = card.bad, card.blocked

        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        base = pal.color(QPalette.ColorRole.Base)
        if selected:
            over = pal.color(QPalette.ColorRole.Highlight)
            over.setAlpha(60)
            base = _blend(base, over)
        elif bad:
            base = _blend(base, QColor(230, 60, 60, 45))
        if bad:
            border = ERROR_COLOUR
        elif selected:
            border = pal.color(QPalette.ColorRole.Highlight)
        else:
            border = pal.color(QPalette.ColorRole.Mid)
        painter.setPen(QPen(border, 2 if (bad or selected) else 1))
        painter.setBrush(base)
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(ERROR_COLOUR if bad else family_colour(card.family))
        painter.drawRoundedRect(QRect(rect.left() + 1, rect.top() + 1, 5, rect.height() - 2), 2, 2)

        bold, small, fm_bold, fm_small, line = self._metrics(option)
        icon_size = min(32, rect.height() - 12)
        icon_top = rect.center().y() - icon_size // 2
        icon_rect = QRect(rect.left() + 12, icon_top, icon_size, icon_size)
        layer_icon(card.icon_key, card.family).paint(painter, icon_rect)

        text_colour = pal.color(QPalette.ColorRole.Text)
        dim = pal.color(QPalette.ColorRole.PlaceholderText)
        left = icon_rect.right() + 10
        right = rect.right() - 10
        top = rect.top() + 6

        # Right column: output shape (the number learners watch) and parameter count.
        painter.setFont(bold)
        shape_w = fm_bold.horizontalAdvance(card.shape)
        painter.setPen(ERROR_COLOUR if bad else text_colour)
        painter.drawText(QRect(right - shape_w, top, shape_w, line), _ALIGN_RIGHT, card.shape)
        painter.setFont(small)
        sub_w = fm_small.horizontalAdvance(card.params) if card.params else 0
        if card.params:
            painter.setPen(dim)
            painter.drawText(
                QRect(right - sub_w, top + line + 2, sub_w, line), _ALIGN_RIGHT, card.params
            )

        # Left column: index and name, then the key settings (or the error).
        title_w = max(40, right - max(shape_w, sub_w) - 12 - left)
        painter.setFont(bold)
        painter.setPen(dim if blocked else text_colour)
        painter.drawText(
            QRect(left, top, title_w, line),
            _ALIGN_LEFT,
            fm_bold.elidedText(card.title, Qt.TextElideMode.ElideRight, title_w),
        )
        painter.setFont(small)
        painter.setPen(ERROR_COLOUR if bad else dim)
        detail_w = max(40, right - left - (sub_w + 12 if sub_w else 0))
        painter.drawText(
            QRect(left, top + line + 2, detail_w, line),
            _ALIGN_LEFT,
            fm_small.elidedText(card.detail, Qt.TextElideMode.ElideRight, detail_w),
        )
        painter.restore()


def _bytes(pixmap: QPixmap) -> int:
    return pixmap.width() * pixmap.height() * 4


def _blend(base: QColor, over: QColor) -> QColor:
    a = over.alphaF()
    return QColor.fromRgbF(
        base.redF() * (1 - a) + over.redF() * a,
        base.greenF() * (1 - a) + over.greenF() * a,
        base.blueF() * (1 - a) + over.blueF() * a,
    )


LAYOUT_BATCH = 2000
"""Cards laid out per event-loop pass (about 4 ms of the UI thread here)."""


class PipelineView(QListView):
    """Cards of the design; accepts palette entries, reorders nodes, forwards dropped files."""

    paletteDropped = Signal(str, int)
    """(palette entry key, insertion position in the design)"""
    nodeMoved = Signal(str, int)
    """(node id, destination position counted without it), as ``Document.move`` takes them"""
    filesDropped = Signal(list)

    def __init__(self, model: PipelineModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pipelineView")
        self.setModel(model)
        self.setItemDelegate(PipelineDelegate(self))
        self.setUniformItemSizes(True)
        # Laid out in batches, one per event-loop pass: Qt asks Python for the row count twice
        # per row while laying out, 18 ms for a 10,000-node design in one go. A design up to
        # the batch size is laid out at once, as before.
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(LAYOUT_BATCH)
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
        self._edge_pixmap: tuple[tuple[object, ...], QPixmap] | None = None
        """The skip edges as last drawn, with what they depend on."""
        self._token = f"{os.getpid()}-{id(self)}"

    def dataChanged(
        self,
        topLeft: Index,
        bottomRight: Index,
        roles: Sequence[int] = (),
    ) -> None:
        """Repaint the changed cards in view, and nothing else.

        QListView answers any data change with a delayed layout of every item (a zero-time
        timer, so the cards are painted one event-loop pass later, after walking all rows):
        the cards have one fixed size whatever they show, so a change of their texts never
        moves them.
        """
        if QAccessible.isActive():
            # Qt's own handling also tells assistive tools what changed; keep it for them.
            super().dataChanged(topLeft, bottomRight, roles)
            return
        if not topLeft.isValid() or not bottomRight.isValid():
            return
        viewport = self.viewport()
        area = viewport.rect()
        first, last = self.visualRect(topLeft), self.visualRect(bottomRight)
        # Rows are stacked top to bottom: the rows in between lie between these two.
        span = QRect(area.left(), first.top(), area.width(), last.bottom() - first.top() + 1)
        span = span.intersected(area)
        if not span.isEmpty():
            viewport.update(span)

    def pipeline_model(self) -> PipelineModel:
        model = self.model()
        assert isinstance(model, PipelineModel)
        return model

    # ------------------------------------------------------------------ geometry

    def gap_at(self, pos: QPoint) -> int:
        """Insertion position in the design for a drop at viewport position ``pos``."""
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
        """Viewport rectangle of the card at position ``index`` (None: the input card); for
        tests and tools."""
        row = 0 if index is None else index + 1
        return self.visualRect(self.model().index(row, 0))

    # ------------------------------------------------------------------ drag source

    def move_mime(self, node_id: str) -> QMimeData:
        """The payload this view drags when the user picks up node ``node_id``."""
        return mime.move_mime(node_id, self._token)

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        index = self.currentIndex()
        if not index.isValid() or index.row() == 0:
            return
        drag = QDrag(self)
        design = self.pipeline_model().analysis.design
        drag.setMimeData(self.move_mime(design.nodes[index.row() - 1].id))
        rect = self.visualRect(index)
        card = self.viewport().grab(rect)
        # Translucent, so the drop indicator under the card stays visible.
        pixmap = QPixmap(card.size())
        pixmap.setDevicePixelRatio(card.devicePixelRatio())
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setOpacity(0.7)
        painter.drawPixmap(0, 0, card)
        painter.end()
        drag.setPixmap(pixmap)
        drag.setHotSpot(self.viewport().mapFromGlobal(self.cursor().pos()) - rect.topLeft())
        drag.exec(Qt.DropAction.MoveAction)

    # ------------------------------------------------------------------ drop target

    def _accepts(self, event: QDragEnterEvent | QDragMoveEvent | QDropEvent) -> str | None:
        data = event.mimeData()
        if mime.palette_key(data) is not None:
            return "palette"
        if mime.moved_node(data, self._token) is not None:
            return "move"
        if mime.dropped_files(data):
            return "files"
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self.dragMoveEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        """Accept what we can take and show where it would land (enter and move alike)."""
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
            node = mime.moved_node(data, self._token)
            design = self.pipeline_model().analysis.design
            if node is None or node not in design:  # the design changed under the drag
                event.ignore()
                return
            # The drop already moved the node; tell QDrag not to delete anything.
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            source = design.index_of(node)
            destination = gap - 1 if gap > source else gap
            if destination != source:
                self.nodeMoved.emit(node, destination)
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
        hold_background()  # every card painted is a call into Python
        super().paintEvent(event)
        self._draw_edges()
        if self.model().rowCount() == 1:  # only the input: say what to do next
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            top = self.visualRect(self.model().index(0, 0)).bottom() + 24
            area = self.viewport().rect().adjusted(20, top, -20, 0)
            painter.drawText(
                area,
                int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
                | Qt.TextFlag.TextWordWrap.value,
                "Drag layers here from the palette, or select one there and press Enter.",
            )
            painter.end()
        if self._gap is None:
            return
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = self.palette().color(QPalette.ColorRole.Highlight)
        painter.setPen(QPen(colour, 3))
        painter.setBrush(colour)
        y = self.gap_y(self._gap)
        x0, x1 = 6 + self.pipeline_model().gutter, self.viewport().width() - 6
        painter.drawLine(x0 + 6, y, x1 - 6, y)
        painter.drawEllipse(QPoint(x0 + 4, y), 4, 4)
        painter.drawEllipse(QPoint(x1 - 4, y), 4, 4)
        painter.end()

    def _draw_edges(self) -> None:
        """The skip edges: from the left side of each source card, along its lane in the
        margin, into the left side of the card that reads it (an arrowhead), highlighted when
        they touch the selected card.

        Only what is in view is drawn, one path per lane (the vertical runs of a lane merged):
        DenseNet-121 has over 500 such edges, and a path per edge took 50 ms per repaint. A
        design with more than ``cards.MAX_EDGES`` shows only the selected card's.
        """
        model = self.pipeline_model()
        current = self.currentIndex().row()
        edges = model.edges
        if edges is None:
            edges = selected_edges(model.analysis, current)
        if not edges:
            return
        viewport = self.viewport()
        first = self.visualRect(model.index(0, 0))
        card_left = model.gutter + PipelineDelegate.MARGIN + 2
        ratio = viewport.devicePixelRatioF()
        # An edit that keeps the wiring keeps the lines: draw them from a pixmap of the margin
        # (half a millisecond of path building and antialiasing saved on every such repaint).
        key = (
            edges,
            model.gutter,
            first.top(),
            first.height(),
            viewport.height(),
            current,
            self.palette().cacheKey(),
            ratio,
        )
        cached = self._edge_pixmap
        if cached is None or cached[0] != key:
            width = card_left + 4  # the arrowheads and dots reach just past the card's edge
            pixmap = QPixmap(
                max(1, math.ceil(width * ratio)), max(1, math.ceil(viewport.height() * ratio))
            )
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(Qt.GlobalColor.transparent)
            pix_painter = QPainter(pixmap)
            try:
                self._paint_edges(pix_painter, edges, first, current, card_left)
            finally:
                pix_painter.end()
            cached = self._edge_pixmap = (key, pixmap)
        painter = QPainter(viewport)
        painter.drawPixmap(0, 0, cached[1])
        painter.end()

    def _paint_edges(
        self, painter: QPainter, edges: Edges, first: QRect, current: int, card_left: int
    ) -> None:
        model = self.pipeline_model()
        height = max(first.height(), 1)  # uniform rows, no spacing: row r is r heights down
        centre = first.top() + height // 2
        top, bottom = -height, self.viewport().height() + height
        runs: dict[tuple[int, bool], list[tuple[int, int]]] = {}
        ends: dict[bool, QPainterPath] = {False: QPainterPath(), True: QPainterPath()}
        tips: dict[bool, set[int]] = {False: set(), True: set()}
        dots: dict[bool, set[int]] = {False: set(), True: set()}
        # Each bend into or out of a lane once: a card read by 2,000 others (a dense block's
        # first conv, selected) drew 2,000 antialiased curves on top of each other, 20 ms.
        bends: set[tuple[int, int, bool]] = set()
        for start, end, lane in edges:
            y0 = centre + start * height + 4
            y1 = centre + end * height - 4
            if y1 < top or y0 > bottom:
                continue
            on = current in (start, end)
            x = model.gutter - GUTTER_PAD // 2 - lane * LANE_WIDTH
            runs.setdefault((x, on), []).append((max(y0 + 4, top), min(y1 - 4, bottom)))
            path = ends[on]
            if top <= y0 <= bottom and (x, y0, on) not in bends:
                bends.add((x, y0, on))
                path.moveTo(card_left, y0)
                path.lineTo(x + 4, y0)
                path.quadTo(x, y0, x, y0 + 4)
                dots[on].add(y0)
            if top <= y1 <= bottom and (x, y1, on) not in bends:
                bends.add((x, y1, on))
                path.moveTo(x, y1 - 4)
                path.quadTo(x, y1, x + 4, y1)
                path.lineTo(card_left - 1, y1)
                tips[on].add(y1)
        pal = self.palette()
        colours = {
            False: pal.color(QPalette.ColorRole.PlaceholderText),
            True: pal.color(QPalette.ColorRole.Highlight),
        }
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for on in (False, True):  # the selected card's edges on top
            colour = colours[on]
            path = ends[on]
            for (x, lane_on), spans in runs.items():
                if lane_on == on:
                    for a, b in _union(spans):
                        path.moveTo(x, a)
                        path.lineTo(x, b)
            painter.setPen(QPen(colour, 2 if on else 1.4))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            for y in tips[on]:
                tip = card_left
                painter.drawPolygon(
                    QPolygonF([QPointF(tip, y), QPointF(tip - 6, y - 4), QPointF(tip - 6, y + 4)])
                )
            for y in dots[on]:
                painter.drawEllipse(QPointF(card_left - 1, y), 2.5, 2.5)


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping (start, end) intervals merged."""
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if a > b:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged
