"""ProgressStrip: the native progress bar, repainted with the frame, never inside the call."""

from __future__ import annotations

from PySide6.QtGui import QImage, QPaintEvent
from PySide6.QtWidgets import QProgressBar
from pytestqt.qtbot import QtBot

from convdesigner.ui.progress_strip import ProgressStrip


def _image(widget: QProgressBar | ProgressStrip) -> QImage:
    return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def test_it_looks_like_the_styles_progress_bar(qtbot: QtBot) -> None:
    strip, bar = ProgressStrip(), QProgressBar()
    bar.setTextVisible(False)
    for widget in (strip, bar):
        qtbot.addWidget(widget)
        widget.setFixedSize(60, 18)
        widget.show()
    for value, maximum in ((0, 39), (13, 39), (39, 39)):
        strip.set_progress(value, maximum)
        bar.setRange(0, maximum)
        bar.setValue(value)
        assert _image(strip) == _image(bar), (value, maximum)
    strip.set_progress(13, 39)
    assert _image(strip) != _image(bar)  # the comparison can tell values apart


def test_values_are_clamped_and_painted_later(qtbot: QtBot) -> None:
    strip = ProgressStrip()
    qtbot.addWidget(strip)
    strip.show()
    qtbot.waitExposed(strip)
    paints: list[int] = []
    original = strip.paintEvent

    def counting(event: QPaintEvent) -> None:
        paints.append(strip.value)
        original(event)

    strip.paintEvent = counting  # type: ignore[method-assign]
    strip.set_progress(50, 10)
    assert (strip.value, strip.maximum) == (10, 10)
    strip.set_progress(-3, 0)
    assert (strip.value, strip.maximum) == (0, 1)
    strip.set_progress(2, 4)
    assert paints == []  # nothing painted inside the calls
    qtbot.waitUntil(lambda: bool(paints))
    assert paints[-1] == 2  # one coalesced paint shows the newest value
