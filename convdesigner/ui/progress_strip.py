"""A progress bar that repaints with the next frame instead of at once.

``QProgressBar.setValue`` calls ``repaint()``: the bar, and whatever the window must flush with
it, is painted synchronously inside the caller. For the feature-map viewer that caller is the
slot receiving the engine's per-layer progress, and while the engine's threads compete for the
cores such a synchronous paint took 12 ms of the UI thread at times, once per layer. This widget
draws the same native progress bar through the style, but a new value only schedules an
``update()``, which Qt coalesces with the rest of the frame.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QStyle, QStyleOptionProgressBar, QStylePainter, QWidget


class ProgressStrip(QWidget):
    """Step ``value`` of ``maximum``, drawn as the style's progress bar, without text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._maximum = 1
        self._value = 0
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    @property
    def maximum(self) -> int:
        return self._maximum

    @property
    def value(self) -> int:
        return self._value

    def set_progress(self, value: int, maximum: int) -> None:
        """Show ``value`` of ``maximum`` (clamped to 0..maximum) from the next paint on."""
        maximum = max(int(maximum), 1)
        value = min(max(int(value), 0), maximum)
        if (value, maximum) != (self._value, self._maximum):
            self._value, self._maximum = value, maximum
            self.update()

    def sizeHint(self) -> QSize:
        return QSize(60, self.fontMetrics().height() + 4)

    def _option(self) -> QStyleOptionProgressBar:
        option = QStyleOptionProgressBar()
        option.initFrom(self)
        option.minimum = 0
        option.maximum = self._maximum
        option.progress = self._value
        option.textVisible = False
        option.state |= QStyle.StateFlag.State_Horizontal  # what QProgressBar sets, Qt 6
        return option

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        painter.drawControl(QStyle.ControlElement.CE_ProgressBar, self._option())
