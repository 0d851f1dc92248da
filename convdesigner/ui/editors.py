"""Small editors the property panel is made of: spin boxes, height × width pairs, padding.

Each editor reports a complete new value through a callback and can be set from the model
without echoing a change back (signals are blocked while it follows undo or another view).

Ranges come from the core's limits (``core.layers.MAX_SIZE``, ``MAX_COUNT``), never from numbers of
the UI's own: a spin box silently clamps a value outside its range, and a pair editor sends both
of its boxes, so a tighter UI range would rewrite settings a file legitimately holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from convdesigner.core.layers import MAX_SIZE, Padding


def spin_box(minimum: int, maximum: int, value: int, tip: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(minimum, maximum)
    box.setValue(value)
    box.setGroupSeparatorShown(True)
    box.setAccelerated(True)
    box.setMinimumWidth(70)
    if tip:
        box.setToolTip(tip)
    return box


class PairEditor(QWidget):
    """Height and width spin boxes with a "square" toggle that keeps them equal."""

    def __init__(
        self,
        value: tuple[int, int],
        minimum: int,
        maximum: int,
        on_change: Callable[[tuple[int, int]], None],
        what: str,
    ) -> None:
        super().__init__()
        self._on_change = on_change
        self.height_box = spin_box(minimum, maximum, value[0], f"{what} height")
        self.width_box = spin_box(minimum, maximum, value[1], f"{what} width")
        self.square = QToolButton()
        self.square.setText("Square")
        self.square.setCheckable(True)
        self.square.setChecked(value[0] == value[1])
        self.square.setToolTip(f"Keep the {what} height and width equal")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.height_box, 1)
        times = QLabel("×")
        layout.addWidget(times)
        layout.addWidget(self.width_box, 1)
        layout.addWidget(self.square)
        self.height_box.valueChanged.connect(lambda v: self._edited(self.height_box, v))
        self.width_box.valueChanged.connect(lambda v: self._edited(self.width_box, v))
        self.square.toggled.connect(self._square_toggled)

    def value(self) -> tuple[int, int]:
        return (self.height_box.value(), self.width_box.value())

    def set_value(self, value: tuple[int, int]) -> None:
        for box, v in ((self.height_box, value[0]), (self.width_box, value[1])):
            if box.value() != v:
                box.blockSignals(True)
                box.setValue(v)
                box.blockSignals(False)

    def _edited(self, source: QSpinBox, value: int) -> None:
        if self.square.isChecked():
            other = self.width_box if source is self.height_box else self.height_box
            other.blockSignals(True)
            other.setValue(value)
            other.blockSignals(False)
        self._on_change(self.value())

    def _square_toggled(self, on: bool) -> None:
        if on and self.height_box.value() != self.width_box.value():
            self._edited(self.height_box, self.height_box.value())


class PaddingEditor(QWidget):
    """valid / same / explicit, with the explicit amounts as a pair."""

    MODES = ("valid", "same", "explicit")

    def __init__(self, value: Padding, on_change: Callable[[Padding], None]) -> None:
        super().__init__()
        self._on_change = on_change
        self.mode = QComboBox()
        self.mode.addItems(["valid (none)", "same (TensorFlow)", "explicit"])
        self.mode.setToolTip(
            "valid: no padding. same: output = ceil(input / stride), padding split with the "
            "larger half after (TensorFlow). explicit: that many zeros on each side (PyTorch)."
        )
        pair = value if isinstance(value, tuple) else (0, 0)
        self.amount = PairEditor(pair, 0, MAX_SIZE, lambda _v: self._changed(), "padding")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.mode)
        layout.addWidget(self.amount)
        self.set_value(value)
        self.mode.currentIndexChanged.connect(lambda _i: self._changed())

    def value(self) -> Padding:
        mode = self.MODES[self.mode.currentIndex()]
        if mode == "explicit":
            return self.amount.value()
        return mode  # type: ignore[return-value]

    def set_value(self, value: Padding) -> None:
        self.mode.blockSignals(True)
        if isinstance(value, str):
            self.mode.setCurrentIndex(self.MODES.index(value))
        else:
            self.mode.setCurrentIndex(2)
            self.amount.set_value(value)
        self.mode.blockSignals(False)
        self.amount.setVisible(not isinstance(value, str))

    def _changed(self) -> None:
        self.amount.setVisible(self.mode.currentIndex() == 2)
        self._on_change(self.value())


def set_spin(box: QSpinBox | QDoubleSpinBox, value: Any) -> None:
    if box.value() != value:
        box.blockSignals(True)
        box.setValue(value)
        box.blockSignals(False)


def set_check(box: QCheckBox, value: bool) -> None:
    if box.isChecked() != value:
        box.blockSignals(True)
        box.setChecked(value)
        box.blockSignals(False)


def set_text(edit: QLineEdit, value: str) -> None:
    if edit.text() != value:
        edit.blockSignals(True)
        edit.setText(value)
        edit.blockSignals(False)
