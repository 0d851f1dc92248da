"""The weights view: a conv's kernel tensor drawn as one block per filter, each as deep as the
channels it spans, between the input it slides over and the stack of maps it gives.

It answers "why is the output 3-D, not 4-D?": every filter spans all input channels at once and
sums over them, so it gives one map, and the maps of all filters stack into the output. The
picture and its sentence come from :func:`convdesigner.core.teaching.weights_picture`; this
module only draws them (QPainter, no pyqtgraph: it costs nothing at start-up).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from convdesigner.core.analysis import LayerRow
from convdesigner.core.teaching import WeightsPicture, weights_picture

FILTER_COLOURS = ("#e17055", "#0984e3", "#00b894", "#fdcb6e", "#6c5ce7", "#e84393", "#00cec9")
INPUT_COLOUR = "#b2bec3"
SLANT = math.radians(35)


def depth_px(channels: int, limit: float) -> float:
    """Pixels of depth for ``channels``: logarithmic, so 3 and 512 channels both fit and a
    filter spanning all channels is exactly as deep as the input block beside it."""
    return min(limit, 6 + 11 * math.log2(1 + channels))


class TensorCanvas(QWidget):
    """Paints one :class:`WeightsPicture`: input block, filter blocks, output stack."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picture: WeightsPicture | None = None
        self.setMinimumSize(360, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(640, 300)

    def set_picture(self, picture: WeightsPicture | None) -> None:
        self.picture = picture
        self.update()

    # ------------------------------------------------------------------ drawing

    def paintEvent(self, event: QPaintEvent) -> None:
        picture = self.picture
        if picture is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        margin, gap = 10.0, 28.0
        metrics = self.fontMetrics()
        line = metrics.height()
        label_h = 3 * line
        cos, sin = math.cos(SLANT), math.sin(SLANT)
        in_h, in_w = picture.input_hw
        out_h, out_w = picture.output_hw
        kh, kw = picture.kernel
        in_label = f"input\n{in_h}×{in_w}×{picture.channels_in}"
        out_label = f"output\n{out_h}×{out_w}×{picture.filters}"

        def text_width(label: str) -> float:
            return max(metrics.horizontalAdvance(part) for part in label.split("\n")) + 6.0

        # Sizes at scale 1: faces at most 120 px, depths by depth_px. Blocks then shrink alike
        # (a filter stays exactly as deep as the input) and, in a narrow dock, fewer filters
        # are drawn, until the row and its labels fit.
        scale = 120 / max(in_h, in_w, out_h, out_w, 1)
        d_in = depth_px(picture.channels_in, 90)
        d_f = d_in if picture.groups == 1 else depth_px(picture.depth, 90)
        d_out = depth_px(picture.filters, 90)
        k_scale = max(scale, 14 / max(kh, kw))
        min_slot = metrics.horizontalAdvance("#000") + 4.0
        shown = list(picture.shown)
        dots = text_width(f"…+{picture.filters}")

        def widths(f: float) -> tuple[float, float, float, float]:
            inp = max((in_w * scale + d_in * cos) * f, text_width(in_label))
            one = max((kw * k_scale + d_f * cos) * f + 6, min_slot)
            out = max((out_w * scale + d_out * cos) * f, text_width(out_label))
            more = max(one, dots) if picture.filters > len(shown) else 0.0
            return inp, one, out, inp + len(shown) * one + more + out + 2 * gap + 2 * margin

        tall = max(in_h * scale + d_in * sin, out_h * scale + d_out * sin)
        f = min(1.0, (self.height() - 2 * margin - label_h) / max(tall, 1.0))
        while widths(f)[3] > self.width():
            if f > 0.4:
                f *= 0.9
            elif len(shown) > 2:
                del shown[-2]  # keep the first filters and the last one
            elif f > 0.05:
                f *= 0.9
            else:
                break
        hidden = picture.filters - len(shown)
        inp_w, one_w, _out_w, total = widths(f)
        height = tall * f
        x = max(margin, (self.width() - total) / 2 + margin)
        base_y = (self.height() - label_h + height) / 2

        # The input: one block as deep as its channels (dashed lines between groups).
        self._cuboid(
            painter, x, base_y, in_w * scale * f, in_h * scale * f, d_in * f, QColor(INPUT_COLOUR)
        )
        if picture.groups > 1:
            painter.setPen(QPen(text, 1, Qt.PenStyle.DashLine))
            shown_groups = min(picture.groups, 12)
            for g in range(1, shown_groups):
                self._depth_line(
                    painter,
                    x,
                    base_y,
                    in_w * scale * f,
                    in_h * scale * f,
                    d_in * f * g / shown_groups,
                )
        self._label(painter, x, base_y, inp_w, in_label)
        painter.setPen(text)
        self._symbol(painter, x + inp_w, base_y, gap, "∗")
        x += inp_w + gap

        # The filters: kernel-sized faces, each as deep as the channels it spans.
        fx = x
        fw, fh = kw * k_scale * f, kh * k_scale * f
        for i, index in enumerate(shown):
            if hidden and i == len(shown) - 1:
                painter.setPen(text)
                painter.drawText(
                    QRectF(fx, base_y - line, max(one_w, dots), line),
                    Qt.AlignmentFlag.AlignCenter,
                    f"…+{hidden}",
                )
                fx += max(one_w, dots)
            colour = QColor(FILTER_COLOURS[index % len(FILTER_COLOURS)])
            self._cuboid(painter, fx, base_y, fw, fh, d_f * f, colour)
            painter.setPen(text)
            painter.drawText(
                QRectF(fx, base_y + 2, one_w, line), Qt.AlignmentFlag.AlignLeft, f"#{index}"
            )
            fx += one_w
        painter.drawText(
            QRectF(x, base_y + line + 4, fx - x, 2 * line),
            Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap,
            f"{picture.filters} filters, each {kh}×{kw}×{picture.depth}",
        )
        self._symbol(painter, fx, base_y, gap, "=")
        x = fx + gap

        # The output: one map per filter, stacked; the drawn filters' maps in their colours.
        ow, oh = out_w * scale * f, out_h * scale * f
        self._cuboid(painter, x, base_y, ow, oh, d_out * f, QColor(INPUT_COLOUR))
        for index in shown:
            painter.setPen(QPen(QColor(FILTER_COLOURS[index % len(FILTER_COLOURS)]), 2))
            self._depth_line(
                painter, x, base_y, ow, oh, d_out * f * (index + 0.5) / picture.filters
            )
        self._label(painter, x, base_y, self.width() - x, out_label)
        painter.end()

    def _symbol(self, painter: QPainter, x: float, bottom: float, width: float, text: str) -> None:
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        painter.save()
        painter.setFont(font)
        painter.drawText(QRectF(x, bottom - 40, width, 30), Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def _offset(self, depth: float) -> QPointF:
        return QPointF(depth * math.cos(SLANT), -depth * math.sin(SLANT))

    def _cuboid(
        self, painter: QPainter, x: float, bottom: float, w: float, h: float, d: float, c: QColor
    ) -> None:
        """A box whose front face is w×h with its lower left corner at (x, bottom), receding
        ``d`` pixels up and to the right."""
        off = self._offset(d)
        front = QRectF(x, bottom - h, w, h)
        top = QPolygonF(
            [front.topLeft(), front.topLeft() + off, front.topRight() + off, front.topRight()]
        )
        side = QPolygonF(
            [
                front.topRight(),
                front.topRight() + off,
                front.bottomRight() + off,
                front.bottomRight(),
            ]
        )
        painter.setPen(QPen(c.darker(170), 1))
        painter.setBrush(c.lighter(115))
        painter.drawPolygon(top)
        painter.setBrush(c.darker(120))
        painter.drawPolygon(side)
        painter.setBrush(c)
        painter.drawRect(front)

    def _depth_line(
        self, painter: QPainter, x: float, bottom: float, w: float, h: float, d: float
    ) -> None:
        """A slice at depth ``d`` of a box, drawn on its top and side faces."""
        off = self._offset(d)
        top_left = QPointF(x, bottom - h) + off
        top_right = QPointF(x + w, bottom - h) + off
        bottom_right = QPointF(x + w, bottom) + off
        painter.drawPolyline(QPolygonF([top_left, top_right, bottom_right]))

    def _label(self, painter: QPainter, x: float, y: float, width: float, text: str) -> None:
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(
            QRectF(x, y + 4, width, 3 * self.fontMetrics().height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
            text,
        )


class WeightsView(QWidget):
    """The selected conv's filters, its weight shapes and the sentence that explains them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("weightsView")
        self.heading = QLabel()
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.sentence = QLabel()
        self.sentence.setWordWrap(True)
        self.sentence.setObjectName("weightsSentence")
        self.shapes = QLabel()
        self.shapes.setObjectName("weightsShapes")
        self.shapes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.canvas = TensorCanvas()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        for widget in (self.heading, self.sentence, self.shapes):
            layout.addWidget(widget)
        layout.addWidget(self.canvas, 1)
        self.show_row(None)

    def show_row(self, row: LayerRow | None) -> None:
        picture = weights_picture(row) if row is not None else None
        self.canvas.set_picture(picture)
        self.canvas.setVisible(picture is not None)
        if picture is None:
            self.heading.setText("Weights")
            self.sentence.setText(
                "Select a convolution to see its filters: one block per filter, each as deep as "
                "the input channels it spans."
            )
            self.shapes.setText("")
            return
        self.heading.setText(picture.title)
        self.sentence.setText(picture.sentence)
        self.shapes.setText(picture.shapes)
