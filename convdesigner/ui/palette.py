"""The layer palette: a drag source listing every layer type with its icon and name (the
description in its tooltip and the status bar), two to a row.

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
MIN_ENTRY_WIDTH = 105
"""Narrowest an entry gets before the palette shows one per row."""


class PaletteDelegate(QStyledItemDelegate):
    """Compact entries: a small icon and the name, two to a row (the description is in the
    tooltip and the status bar); headings span the row. About 27 entries then fit a narrow
    column without hiding half of them below the fold."""

    ICON = 20

    def __init__(self, view: QListWidget) -> None:
        super().__init__(view)
        self._view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        fm = QFontMetrics(option.font)
        row = self._view.viewport().width() - 2
        if index.data(FAMILY_ROLE):
            return QSize(max(row, 80), fm.height() + 8)
        columns = 2 if row >= 2 * MIN_ENTRY_WIDTH else 1
        return QSize(max(row // columns, 60), max(self.ICON + 6, fm.height() + 8))

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
        else:
            if state & QStyle.StateFlag.State_MouseOver:
                painter.fillRect(rect, pal.color(QPalette.ColorRole.AlternateBase))
            text_colour = pal.color(QPalette.ColorRole.Text)
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        top = rect.top() + (rect.height() - self.ICON) // 2
        icon_rect = QRect(rect.left() + 4, top, self.ICON, self.ICON)
        if icon is not None:
            icon.paint(painter, icon_rect)
        fm = QFontMetrics(option.font)
        left = icon_rect.right() + 6
        width = max(20, rect.right() - left - 2)
        painter.setFont(option.font)
        painter.setPen(text_colour)
        name = str(index.data(Qt.ItemDataRole.DisplayRole))
        painter.drawText(
            QRect(left, rect.top(), width, rect.height()),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            fm.elidedText(name, Qt.TextElideMode.ElideRight, width),
        )
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
        # Entries flow left to right and wrap: two to a row, a heading on a row of its own.
        self.setFlow(QListWidget.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
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
        item.setStatusTip(f"{entry.title}: {entry.description}")
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
