"""Graphics pieces of the feature-map viewer: image views, the input picture, channel numbers."""

from __future__ import annotations

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
