"""The layer palette: a drag source listing every layer type with its icon and description.

Entries come from the ops registry, grouped by family under small headings. Dragging carries
our own MIME type (:data:`mime.LAYER_TYPE_MIME`), so the pipeline can tell a palette entry from
a file or text. Enter or double-click emits :attr:`insertRequested`, the keyboard path to the
same insertion.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from convdesigner.ui import mime
from convdesigner.ui.catalog import ENTRIES, FAMILIES, PaletteEntry
from convdesigner.ui.icons import layer_icon
from convdesigner.ui.theme import family_colour

KEY_ROLE = Qt.ItemDataRole.UserRole + 1
DESCRIPTION_ROLE = Qt.ItemDataRole.UserRole + 2
FAMILY_ROLE = Qt.ItemDataRole.UserRole + 3
"""Set on group headings only (the family key)."""

Index = QModelIndex | QPersistentModelIndex


class PaletteDelegate(QStyledItemDelegate):
    """Icon, bold name and a wrapped description in the secondary text colour."""

    ICON = 32

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        fm = QFontMetrics(option.font)
        if index.data(FAMILY_ROLE):
            return QSize(200, fm.height() + 12)
        return QSize(200, max(self.ICON + 12, 3 * fm.height() + 12))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        family = index.data(FAMILY_ROLE)
        if family:
            self._paint_heading(painter, option, index, str(family))
            return
        rect: QRect = option.rect
        pal: QPalette = option.palette
        state = option.state
        painter.save()
        if state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, pal.color(QPalette.ColorRole.Highlight))
            text_colour = pal.color(QPalette.ColorRole.HighlightedText)
            dim_colour = text_colour
        else:
            if state & QStyle.StateFlag.State_MouseOver:
                painter.fillRect(rect, pal.color(QPalette.ColorRole.AlternateBase))
            text_colour = pal.color(QPalette.ColorRole.Text)
            dim_colour = pal.color(QPalette.ColorRole.PlaceholderText)
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        icon_rect = QRect(rect.left() + 8, rect.top() + 6, self.ICON, self.ICON)
        if icon is not None:
            icon.paint(painter, icon_rect)
        font = QFont(option.font)
        bold = QFont(font)
        bold.setBold(True)
        fm = QFontMetrics(font)
        left = icon_rect.right() + 10
        width = max(20, rect.right() - left - 6)
        painter.setFont(bold)
        painter.setPen(text_colour)
        painter.drawText(
            QRect(left, rect.top() + 5, width, fm.height()),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            index.data(Qt.ItemDataRole.DisplayRole),
        )
        painter.setFont(font)
        painter.setPen(dim_colour)
        description = str(index.data(DESCRIPTION_ROLE) or "")
        body = QRect(left, rect.top() + 5 + fm.height(), width, 2 * fm.height())
        # Two lines at most; the full text is in the tooltip.
        text = _two_lines(description, fm, width)
        painter.drawText(body, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), text)
        painter.restore()

    def _paint_heading(
        self, painter: QPainter, option: QStyleOptionViewItem, index: Index, family: str
    ) -> None:
        """A group heading: the family's colour as a short bar, then its name in small bold."""
        rect: QRect = option.rect
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(family_colour(family))
        bar = QRect(rect.left() + 10, rect.center().y() - 2, 18, 5)
        painter.drawRoundedRect(bar, 2, 2)
        font = QFont(option.font)
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 0.9)
        painter.setFont(font)
        painter.setPen(option.palette.color(QPalette.ColorRole.PlaceholderText))
        text_rect = rect.adjusted(bar.right() + 8, 0, -6, 0)
        painter.drawText(
            text_rect,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            str(index.data(Qt.ItemDataRole.DisplayRole)).upper(),
        )
        painter.restore()


def _two_lines(text: str, fm: QFontMetrics, width: int) -> str:
    words = text.split()
    first: list[str] = []
    while words and fm.horizontalAdvance(" ".join([*first, words[0]])) <= width:
        first.append(words.pop(0))
    if not first and words:
        first.append(words.pop(0))
    rest = " ".join(words)
    if not rest:
        return " ".join(first)
    return " ".join(first) + "\n" + fm.elidedText(rest, Qt.TextElideMode.ElideRight, width)


class PaletteWidget(QListWidget):
    insertRequested = Signal(str)
    """A palette entry key to insert after the selected layer (keyboard or double-click)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paletteList")
        self.setAccessibleName("Layer palette")
        self.setItemDelegate(PaletteDelegate(self))
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setMouseTracking(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        family = None
        for entry in ENTRIES:
            if entry.family != family:
                family = entry.family
                self.addItem(self._heading(family))
            self.addItem(self._item(entry))
        self.itemDoubleClicked.connect(self._activated)

    @staticmethod
    def _heading(family: str) -> QListWidgetItem:
        item = QListWidgetItem(FAMILIES.get(family, family.capitalize()))
        item.setData(FAMILY_ROLE, family)
        item.setFlags(Qt.ItemFlag.NoItemFlags)  # not selectable, dragged or reached by keys
        return item

    @staticmethod
    def _item(entry: PaletteEntry) -> QListWidgetItem:
        item = QListWidgetItem(layer_icon(entry.key, entry.family), entry.title)
        item.setData(KEY_ROLE, entry.key)
        item.setData(DESCRIPTION_ROLE, entry.description)
        item.setToolTip(
            f"<b>{entry.title}</b><br>{entry.description}<br><i>Drag into the pipeline, "
            "or press Enter to insert after the selected layer.</i>"
        )
        item.setFlags(
            Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        )
        return item

    def entry_items(self) -> list[QListWidgetItem]:
        """The entries' items, headings left out."""
        items = (self.item(i) for i in range(self.count()))
        return [item for item in items if item.data(KEY_ROLE)]

    def entry_keys(self) -> list[str]:
        return [str(item.data(KEY_ROLE)) for item in self.entry_items()]

    def item_for_key(self, key: str) -> QListWidgetItem:
        for item in self.entry_items():
            if item.data(KEY_ROLE) == key:
                return item
        raise KeyError(key)

    def current_key(self) -> str | None:
        """The key of the current entry (the first entry if none is current)."""
        item: QListWidgetItem | None = self.currentItem()
        if item is None or not item.data(KEY_ROLE):
            items = self.entry_items()
            item = items[0] if items else None
        return None if item is None else str(item.data(KEY_ROLE))

    def mimeTypes(self) -> list[str]:
        return [mime.LAYER_TYPE_MIME]

    def mimeData(self, items: Sequence[QListWidgetItem]) -> QMimeData:
        key = str(items[0].data(KEY_ROLE)) if items else ""
        return mime.palette_mime(key)

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def _activated(self, item: QListWidgetItem) -> None:
        key = item.data(KEY_ROLE)
        if key:
            self.insertRequested.emit(str(key))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # itemActivated covers Enter on most styles; make Return/Enter explicit for all of them.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentItem() is not None:
            self._activated(self.currentItem())
            event.accept()
            return
        super().keyPressEvent(event)
