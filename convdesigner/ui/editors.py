"""Small editors the property panel is made of: spin boxes, height × width pairs, padding,
explicit per-side padding, an optional stride and an upsampling scale or size.

Each editor reports a complete new value through a callback and can be set from the model
without echoing a change back (signals are blocked while it follows undo or another view). Their
limits are given by the caller, from the op's field metadata: the core's limits, never others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from convdesigner.core.validate import AxisPads, Padding, Pair
from convdesigner.ui.spin_boxes import LimitedSpinBox, limit_text, undo_goes_to_document


def spin_box(minimum: int, maximum: int, value: int, tip: str = "") -> QSpinBox:
    box = LimitedSpinBox()
    box.setRange(minimum, maximum)
    box.setValue(value)
    box.setGroupSeparatorShown(True)
    box.setAccelerated(True)
    box.setMinimumWidth(70)
    range_text = limit_text(minimum, maximum)
    box.setToolTip(f"{tip} ({range_text})" if tip else range_text.capitalize())
    undo_goes_to_document(box)
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


def double_spin_box(
    minimum: float, maximum: float, value: float, decimals: int, step: float, tip: str = ""
) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(minimum, maximum)
    box.setSingleStep(step)
    box.setValue(value)
    box.setMinimumWidth(70)
    if tip:
        box.setToolTip(tip)
    undo_goes_to_document(box)
    return box


class PaddingEditor(QWidget):
    """valid / same / explicit, with the explicit amounts as a pair."""

    MODES = ("valid", "same", "explicit")

    def __init__(self, value: Padding, on_change: Callable[[Padding], None], maximum: int) -> None:
        super().__init__()
        self._on_change = on_change
        self.mode = QComboBox()
        self.mode.addItems(["valid (none)", "same (TensorFlow)", "explicit"])
        self.mode.setToolTip(
            "valid: no padding. same: output = ceil(input / stride), padding split with the "
            "larger half after (TensorFlow). explicit: that many zeros on each side (PyTorch)."
        )
        pair = value if isinstance(value, tuple) else (0, 0)
        self.amount = PairEditor(pair, 0, maximum, lambda _v: self._changed(), "padding")
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


class OptionalPairEditor(QWidget):
    """A pair that may be left unset, meaning another setting's value (a pooling stride left
    unset is the window size): a check box, and the pair it stands for, greyed while checked."""

    def __init__(
        self,
        value: Pair | None,
        shown: Pair,
        minimum: int,
        maximum: int,
        on_change: Callable[[Pair | None], None],
        what: str,
        unset_text: str,
    ) -> None:
        super().__init__()
        self._on_change = on_change
        self.unset = QCheckBox(unset_text)
        self.pair = PairEditor(shown, minimum, maximum, lambda v: on_change(v), what)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.unset)
        layout.addWidget(self.pair)
        self.set_value(value, shown)
        self.unset.toggled.connect(self._toggled)

    def set_value(self, value: Pair | None, shown: Pair) -> None:
        set_check(self.unset, value is None)
        self.pair.setEnabled(value is not None)
        self.pair.set_value(shown)

    def _toggled(self, on: bool) -> None:
        self.pair.setEnabled(not on)
        self._on_change(None if on else self.pair.value())


class AxisPadsEditor(QWidget):
    """Explicit padding per side: top and bottom, left and right."""

    SIDES = ("top", "bottom", "left", "right")

    def __init__(
        self, value: AxisPads, minimum: int, maximum: int, on_change: Callable[[AxisPads], None]
    ) -> None:
        super().__init__()
        self._on_change = on_change
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setHorizontalSpacing(6)
        layout.setVerticalSpacing(2)
        self.boxes: dict[str, QSpinBox] = {}
        for i, side in enumerate(self.SIDES):
            box = spin_box(minimum, maximum, 0, f"zeros added at the {side}")
            box.valueChanged.connect(lambda _v: self._on_change(self.value()))
            self.boxes[side] = box
            layout.addWidget(QLabel(side.capitalize()), i // 2, 2 * (i % 2))
            layout.addWidget(box, i // 2, 2 * (i % 2) + 1)
        layout.setColumnStretch(1, 1)
        layout.setColumnStretch(3, 1)
        self.set_value(value)

    def value(self) -> AxisPads:
        b = self.boxes
        return (b["top"].value(), b["bottom"].value()), (b["left"].value(), b["right"].value())

    def set_value(self, value: AxisPads) -> None:
        (top, bottom), (left, right) = value
        for side, v in zip(self.SIDES, (top, bottom, left, right), strict=True):
            set_spin(self.boxes[side], v)


class ScaleEditor(QWidget):
    """An upsampling factor per axis, or (checked "size instead") the output size."""

    def __init__(
        self,
        scale: tuple[float, float] | None,
        size: Pair | None,
        scale_limits: tuple[float, float, int, float],
        size_limits: tuple[int, int],
        on_change: Callable[[tuple[float, float] | None, Pair | None], None],
    ) -> None:
        super().__init__()
        self._on_change = on_change
        low, high, decimals, step = scale_limits
        self.use_size = QCheckBox("size instead")
        self.use_size.setToolTip("Give the output height × width instead of a factor")
        self.height_scale = double_spin_box(low, high, 2.0, decimals, step, "height factor")
        self.width_scale = double_spin_box(low, high, 2.0, decimals, step, "width factor")
        self.scales = QWidget()
        row = QHBoxLayout(self.scales)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.height_scale, 1)
        row.addWidget(QLabel("×"))
        row.addWidget(self.width_scale, 1)
        self.size_pair = PairEditor(
            size or (1, 1), *size_limits, lambda _v: self._changed(), "size"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.use_size)
        layout.addWidget(self.scales)
        layout.addWidget(self.size_pair)
        self.set_value(scale, size)
        self.use_size.toggled.connect(lambda _on: self._changed())
        self.height_scale.valueChanged.connect(lambda _v: self._changed())
        self.width_scale.valueChanged.connect(lambda _v: self._changed())

    def value(self) -> tuple[tuple[float, float] | None, Pair | None]:
        if self.use_size.isChecked():
            return None, self.size_pair.value()
        return (self.height_scale.value(), self.width_scale.value()), None

    def set_value(self, scale: tuple[float, float] | None, size: Pair | None) -> None:
        set_check(self.use_size, scale is None)
        if scale is not None:
            set_spin(self.height_scale, scale[0])
            set_spin(self.width_scale, scale[1])
        if size is not None:
            self.size_pair.set_value(size)
        self.scales.setVisible(scale is not None)
        self.size_pair.setVisible(scale is None)

    def _changed(self) -> None:
        self.scales.setVisible(not self.use_size.isChecked())
        self.size_pair.setVisible(self.use_size.isChecked())
        self._on_change(*self.value())


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


def set_combo(box: QComboBox, text: str) -> None:
    if box.currentText() != text:
        box.blockSignals(True)
        box.setCurrentText(text)
        box.blockSignals(False)


def set_text(edit: QLineEdit, value: str) -> None:
    if edit.text() != value:
        edit.blockSignals(True)
        edit.setText(value)
        edit.blockSignals(False)
