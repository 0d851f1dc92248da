"""Graphics pieces of the feature-map viewer: image views, the input picture, channel numbers."""

from __future__ import annotations

import re

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QGraphicsItem

# isort: split
import pyqtgraph as pg  # after PySide6, so pyqtgraph binds to it rather than another Qt binding

# isort: split
from convdesigner.core.mosaic import COLORMAPS, Layout, colorize

MAX_LABELLED_CHANNELS = 512
LABEL_MIN_TILE_PX = (40, 20)
"""Channel numbers are drawn only when a tile is at least this big on screen (width, height)."""


def image_view(widget: pg.GraphicsLayoutWidget) -> tuple[pg.ViewBox, pg.ImageItem]:
    view = widget.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
    item = pg.ImageItem(axisOrder="row-major")
    view.addItem(item)
    return view, item


def network_picture(image_chw: np.ndarray) -> np.ndarray:
    """What the network sees, as a displayable array: RGB for 3 channels, grey otherwise."""
    data = np.nan_to_num(np.asarray(image_chw, dtype=np.float32))
    if data.shape[0] == 3:
        rgb = np.clip(data.transpose(1, 2, 0), 0.0, 1.0)
        return np.round(rgb * 255.0).astype(np.uint8)
    return colorize(np.clip(data[0], 0.0, 1.0), COLORMAPS["greyscale"])


class ChannelNumbers(QGraphicsItem):
    """Every tile's channel number, drawn in one item at screen size whatever the zoom.

    One item painting all numbers, rather than one text item per channel: adding hundreds of
    graphics items to a view costs milliseconds each time a layer is shown, and pyqtgraph's
    TextItem recomputes its anchor on every view change. Numbers are skipped while tiles are too
    small on screen to carry them.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setZValue(5)
        self._layout: Layout | None = None
        self._font = QFont()
        self._font.setPointSizeF(8.0)

    def set_layout(self, layout: Layout | None) -> None:
        self.prepareGeometryChange()
        self._layout = layout
        self.update()

    def boundingRect(self) -> QRectF:
        layout = self._layout
        if layout is None:
            return QRectF()
        h, w = layout.shape
        return QRectF(0.0, 0.0, float(w), float(h))

    def paint(self, painter: QPainter, option: object, widget: object = None) -> None:
        layout = self._layout
        if layout is None or layout.channels > MAX_LABELLED_CHANNELS:
            return
        transform = painter.worldTransform()
        if (
            abs(transform.m11()) * layout.tile_width < LABEL_MIN_TILE_PX[0]
            or abs(transform.m22()) * layout.tile_height < LABEL_MIN_TILE_PX[1]
        ):
            return
        painter.save()
        painter.resetTransform()
        painter.setFont(self._font)
        metrics = painter.fontMetrics()
        height = metrics.height()
        background = QColor(0, 0, 0, 150)
        painter.setPen(QColor(255, 255, 255))
        for channel in range(layout.channels):
            r, c = layout.origin(channel)
            corner = transform.map(QPointF(c, r))
            text = str(channel)
            box = QRectF(corner.x(), corner.y(), metrics.horizontalAdvance(text) + 4.0, height)
            painter.fillRect(box, background)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


class TitleLabel(pg.LabelItem):  # type: ignore[misc]  # pyqtgraph ships no type hints
    """A view's title that keeps the height of ``lines`` lines and asks for no width.

    pyqtgraph's LabelItem makes its text's size its minimum and invalidates the layout on every
    ``setText``: a title growing from one line to two, or a longer layer name, re-lays out the
    whole GraphicsLayout, resizes the image view under it, refits it and paints it again, a
    second paint of the view in the event-loop pass that draws a result. With the height
    reserved up front and no width pinned, a new text repaints the label only (longer text is
    clipped to the column instead of widening the dock).
    """

    def __init__(self, text: str = " ", lines: int = 1) -> None:
        self._reserved: float | None = None
        self._announced: float | None = None
        super().__init__(" ")
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape, True)
        super().setText("<br>".join(["Xg"] * max(lines, 1)))
        self._reserved = float(self.itemRect().height())
        self.setText(text)

    def setText(self, text: str, **args: object) -> None:
        if not args and text == getattr(self, "text", None):
            return  # unchanged: no repaint
        super().setText(text, **args)
        # The whole text on hover, for when the column is too narrow to show it.
        self.setToolTip(re.sub(r"<[^>]+>", "", text.replace("<br>", "\n")))

    def resizeEvent(self, ev: object) -> None:
        """Centred while the text fits, else left-aligned so that only its end is clipped."""
        fits = self.itemRect().width() <= self.rect().width()
        self.opts["justify"] = "center" if fits else "left"
        super().resizeEvent(ev)

    def updateMin(self) -> None:
        bounds = self.itemRect()
        height = float(bounds.height()) if self._reserved is None else self._reserved
        self.setMinimumSize(0, height)
        self.setMaximumHeight(height)
        self._sizeHint = {
            Qt.SizeHint.MinimumSize: (0, height),
            Qt.SizeHint.PreferredSize: (bounds.width(), height),
            Qt.SizeHint.MaximumSize: (-1, height),
            Qt.SizeHint.MinimumDescent: (0, 0),
        }
        self.updateGeometry()

    def updateGeometry(self) -> None:
        """Invalidate the layout only when the height changed: once, when the height is set.
        (The width the label would like does not matter: it shares its column with the view.)"""
        height = self._sizeHint[Qt.SizeHint.MinimumSize][1] if self._sizeHint else None
        if height != self._announced:
            self._announced = height
            super().updateGeometry()
