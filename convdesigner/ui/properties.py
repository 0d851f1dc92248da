"""The property panel: the selected layer's (or the input's) settings as editors.

The panel is bound to the frozen layer dataclasses in both directions, magicgui-style: building
the form reads the settings, and every editor change creates a *new* layer with
``Layer.with_changes`` and a new design, announced by :attr:`PropertyPanel.designEdited`. It never
edits anything itself; the main window turns the new design into an undo command. Combinations
that only fail in context (a kernel larger than the input) are accepted here and shown as errors
by the analysis; the panel repeats the selected row's error below the form.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from convdesigner.core.analysis import Analysis, LayerRow
from convdesigner.core.design import MAX_INPUT_CHANNELS, MAX_INPUT_SIDE, Design, InputSpec
from convdesigner.core.layers import (
    MAX_COUNT,
    MAX_NAME,
    MAX_SIZE,
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    Dense,
    Dropout,
    Layer,
    LayerSettingError,
    MaxPool2D,
)
from convdesigner.ui.editors import (
    PaddingEditor,
    PairEditor,
    set_check,
    set_spin,
    set_text,
    spin_box,
)


class PropertyPanel(QScrollArea):
    """Editors for the selected layer or the input; emits whole new designs."""

    designEdited = Signal(object, str, object)
    """(new Design, undo text, merge key or None)"""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("propertyPanel")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._analysis: Analysis | None = None
        self._selection: int | None = None
        self._form_key: tuple[int | None, type | None] | None = None
        self._updaters: list[Callable[[Any], None]] = []
        self.editors: dict[str, QWidget] = {}
        """Editors by setting name (``"filters"``, ``"kernel"``, ``"height"``...), for tests."""
        self._error = QLabel()
        self._feedback = QLabel()

    # ------------------------------------------------------------------ public

    def set_state(self, analysis: Analysis, selection: int | None) -> None:
        """Show ``selection`` (a layer index, or None for the input) of ``analysis``."""
        self._analysis = analysis
        design = analysis.design
        if selection is not None and not 0 <= selection < len(design.layers):
            selection = None
        self._selection = selection
        layer = None if selection is None else design.layers[selection]
        key = (selection, type(layer) if layer is not None else None)
        if key != self._form_key:
            self._build(layer)
            self._form_key = key
        else:
            for update in self._updaters:
                update(layer if layer is not None else design)
        self._show_row(analysis.rows[0 if selection is None else selection + 1])

    @property
    def design(self) -> Design:
        assert self._analysis is not None
        return self._analysis.design

    # ------------------------------------------------------------------ building

    def _build(self, layer: Layer | None) -> None:
        self._updaters = []
        self.editors = {}
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.setContentsMargins(10, 8, 10, 8)
        title = QLabel()
        title.setObjectName("propertyTitle")
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        title.setFont(font)
        description = QLabel()
        description.setWordWrap(True)
        description.setObjectName("propertyDescription")
        description.setForegroundRole(description.foregroundRole())
        outer.addWidget(title)
        outer.addWidget(description)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        outer.addLayout(form)
        self._error = QLabel()
        self._error.setWordWrap(True)
        self._error.setObjectName("propertyError")
        self._error.setStyleSheet("color: #d63031;")
        self._error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._feedback = QLabel()
        self._feedback.setWordWrap(True)
        self._feedback.setStyleSheet("color: #d63031;")
        outer.addWidget(self._error)
        outer.addWidget(self._feedback)
        outer.addStretch(1)
        if layer is None:
            title.setText("Input")
            description.setText("The image fed to the network: height × width × channels.")
            self._build_input(form)
        else:
            title.setText(f"Layer {self._selection}: {layer.display_name}")
            description.setText(layer.description)
            self._build_layer(form, layer)
        old = self.takeWidget()
        if old is not None:
            # The edit that triggered this rebuild may be emitting from an editor on the old
            # page (switching the pooling kind): delete it later, not in the middle of that.
            old.hide()
            old.deleteLater()
        self.setWidget(page)

    def _build_input(self, form: QFormLayout) -> None:
        design = self.design
        name = QLineEdit(design.name)
        name.setMaxLength(MAX_NAME)
        name.textEdited.connect(lambda text: self._rename_design(name, text))
        self._bind_update(lambda d: set_text(name, d.name))
        form.addRow("Design name", name)
        self.editors["design_name"] = name
        for attr, limit, tip in (
            ("height", MAX_INPUT_SIDE, "input height in pixels"),
            ("width", MAX_INPUT_SIDE, "input width in pixels"),
            ("channels", MAX_INPUT_CHANNELS, "1 for greyscale, 3 for RGB"),
        ):
            box = spin_box(1, limit, getattr(design.input, attr), tip)
            self._bind_input(box, attr)
            form.addRow(attr.capitalize(), box)
            self.editors[attr] = box

    def _bind_input(self, box: QSpinBox, attr: str) -> None:
        box.valueChanged.connect(lambda v: self._edit_input(attr, v))

        def update(design: Design) -> None:
            set_spin(box, getattr(design.input, attr))

        self._bind_update(update)

    def _build_layer(self, form: QFormLayout, layer: Layer) -> None:
        name = QLineEdit(layer.name)
        name.setPlaceholderText(layer.display_name)
        name.setMaxLength(MAX_NAME)
        name.textEdited.connect(lambda text: self._rename_layer(name, text))
        self._bind_update(lambda lay: set_text(name, lay.name))
        form.addRow("Name", name)
        self.editors["name"] = name

        if isinstance(layer, MaxPool2D | AvgPool2D):
            kind = QComboBox()
            kind.addItems(["Max", "Average"])
            kind.setCurrentIndex(0 if isinstance(layer, MaxPool2D) else 1)
            kind.setToolTip("Keep the largest value of each window, or average it")
            kind.currentIndexChanged.connect(self._switch_pool_kind)
            form.addRow("Pooling", kind)
            self.editors["kind"] = kind

        if isinstance(layer, Conv2D):
            self._int_row(
                form, "filters", "Filters", 1, MAX_COUNT, "number of filters = output channels"
            )
        if isinstance(layer, Conv2D | MaxPool2D | AvgPool2D):
            self._pair_row(form, "kernel", "Kernel", 1, MAX_SIZE)
        if isinstance(layer, Conv2D):
            self._pair_row(form, "stride", "Stride", 1, MAX_SIZE)
        if isinstance(layer, MaxPool2D | AvgPool2D):
            self._pool_stride_row(form, layer)
        if isinstance(layer, Conv2D | MaxPool2D | AvgPool2D):
            padding = PaddingEditor(layer.padding, lambda v: self._edit("padding", v, merge=True))
            self._bind_update(lambda lay: padding.set_value(lay.padding))
            form.addRow("Padding", padding)
            self.editors["padding"] = padding
        if isinstance(layer, Conv2D):
            self._pair_row(form, "dilation", "Dilation", 1, MAX_SIZE)
            self._groups_row(form)
            self._bool_row(form, "bias", "Bias", "add one learned bias per filter")
        if isinstance(layer, MaxPool2D | AvgPool2D):
            self._bool_row(
                form, "ceil_mode", "Ceil mode", "round the output size up (PyTorch ceil_mode)"
            )
        if isinstance(layer, AvgPool2D):
            self._bool_row(
                form,
                "count_include_pad",
                "Count padding",
                "average over padded zeros too (PyTorch count_include_pad)",
            )
        if isinstance(layer, Dense):
            self._int_row(form, "units", "Units", 1, MAX_COUNT, "number of outputs")
            self._bool_row(form, "bias", "Bias", "add one learned bias per unit")
        if isinstance(layer, Dropout):
            self._float_row(
                form, "rate", "Rate", 0.0, 0.99, 0.05, 3, "fraction of values zeroed while training"
            )
        if isinstance(layer, BatchNorm2D):
            self._float_row(
                form,
                "eps",
                "Epsilon",
                1e-8,
                0.5,
                1e-5,
                8,
                "added to the variance for numerical stability",
            )

    def _bind_update(self, update: Callable[[Any], None]) -> None:
        self._updaters.append(update)

    def _int_row(
        self, form: QFormLayout, attr: str, label: str, lo: int, hi: int, tip: str
    ) -> None:
        layer = self._layer()
        box = spin_box(lo, hi, getattr(layer, attr), tip)
        box.valueChanged.connect(lambda v: self._edit(attr, v, merge=True))
        self._bind_update(lambda lay: set_spin(box, getattr(lay, attr)))
        form.addRow(label, box)
        self.editors[attr] = box

    def _float_row(
        self,
        form: QFormLayout,
        attr: str,
        label: str,
        lo: float,
        hi: float,
        step: float,
        decimals: int,
        tip: str,
    ) -> None:
        layer = self._layer()
        box = QDoubleSpinBox()
        box.setDecimals(decimals)
        box.setRange(lo, hi)
        box.setSingleStep(step)
        box.setValue(getattr(layer, attr))
        box.setToolTip(tip)
        box.valueChanged.connect(lambda v: self._edit(attr, float(v), merge=True))
        self._bind_update(lambda lay: set_spin(box, getattr(lay, attr)))
        form.addRow(label, box)
        self.editors[attr] = box

    def _pair_row(self, form: QFormLayout, attr: str, label: str, lo: int, hi: int) -> None:
        layer = self._layer()
        editor = PairEditor(
            getattr(layer, attr), lo, hi, lambda v: self._edit(attr, v, merge=True), attr
        )
        self._bind_update(lambda lay: editor.set_value(getattr(lay, attr)))
        form.addRow(label, editor)
        self.editors[attr] = editor

    def _bool_row(self, form: QFormLayout, attr: str, label: str, tip: str) -> None:
        layer = self._layer()
        box = QCheckBox()
        box.setChecked(bool(getattr(layer, attr)))
        box.setToolTip(tip)
        box.toggled.connect(lambda on: self._edit(attr, bool(on)))
        self._bind_update(lambda lay: set_check(box, bool(getattr(lay, attr))))
        form.addRow(label, box)
        self.editors[attr] = box

    def _pool_stride_row(self, form: QFormLayout, layer: MaxPool2D | AvgPool2D) -> None:
        holder = QWidget()
        layout = QVBoxLayout(holder)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        same = QCheckBox("same as kernel")
        same.setChecked(layer.stride is None)
        editor = PairEditor(
            layer.effective_stride,
            1,
            MAX_SIZE,
            lambda v: self._edit("stride", v, merge=True),
            "stride",
        )
        editor.setEnabled(layer.stride is not None)
        layout.addWidget(same)
        layout.addWidget(editor)

        def toggled(on: bool) -> None:
            editor.setEnabled(not on)
            current = self._layer()
            assert isinstance(current, MaxPool2D | AvgPool2D)
            self._edit("stride", None if on else current.effective_stride)

        same.toggled.connect(toggled)

        def update(lay: MaxPool2D | AvgPool2D) -> None:
            set_check(same, lay.stride is None)
            editor.setEnabled(lay.stride is not None)
            editor.set_value(lay.effective_stride)

        self._bind_update(update)
        form.addRow("Stride", holder)
        self.editors["stride"] = editor
        self.editors["stride_same"] = same

    def _groups_row(self, form: QFormLayout) -> None:
        layer = self._layer()
        assert isinstance(layer, Conv2D)
        holder = QWidget()
        layout = QHBoxLayout(holder)
        layout.setContentsMargins(0, 0, 0, 0)
        box = spin_box(
            1,
            MAX_COUNT,
            layer.groups,
            "split channels into groups; each filter sees C_in / groups channels",
        )
        box.valueChanged.connect(lambda v: self._edit("groups", v, merge=True))
        button = QPushButton("Depthwise")
        button.setToolTip("groups = filters = input channels: one filter per channel")
        button.clicked.connect(self._make_depthwise)
        layout.addWidget(box, 1)
        layout.addWidget(button)
        self._bind_update(lambda lay: set_spin(box, lay.groups))
        form.addRow("Groups", holder)
        self.editors["groups"] = box
        self.editors["depthwise"] = button

    # ------------------------------------------------------------------ editing

    def _layer(self) -> Layer:
        assert self._selection is not None
        return self.design.layers[self._selection]

    def _input_channels(self) -> int | None:
        assert self._analysis is not None
        assert self._selection is not None
        row = self._analysis.rows[self._selection + 1]
        shape = row.input_shape
        return shape[0] if shape is not None and len(shape) == 3 else None

    def _make_depthwise(self) -> None:
        c_in = self._input_channels()
        if c_in is None:
            self._feedback.setText(
                "The input to this layer is unknown (an earlier layer has an "
                "error), so depthwise cannot be set."
            )
            return
        self._replace(self._layer(), {"groups": c_in, "filters": c_in}, "Make depthwise", None)

    def _switch_pool_kind(self, kind_index: int) -> None:
        layer = self._layer()
        assert isinstance(layer, MaxPool2D | AvgPool2D)
        cls = MaxPool2D if kind_index == 0 else AvgPool2D
        if isinstance(layer, cls):
            return
        new = cls(
            kernel=layer.kernel,
            stride=layer.stride,
            padding=layer.padding,
            ceil_mode=layer.ceil_mode,
            name=layer.name,
        )
        self._emit_design(
            self.design.replace_layer(self._selection or 0, new),
            f"Change pooling to {new.display_name}",
            None,
        )

    def _edit(self, attr: str, value: object, *, merge: bool = False) -> None:
        key: Hashable | None = ("layer", self._selection, attr) if merge else None
        self._replace(self._layer(), {attr: value}, f"Change {attr}", key)

    def _rename_design(self, field: QLineEdit, text: str) -> None:
        try:
            new = self.design.with_name(text)
        except LayerSettingError as exc:
            # Pasted text with a tab or an escape: say why, and show what the design holds.
            self._feedback.setText(f"Design name {exc.message}")
            set_text(field, self.design.name)
            return
        self._feedback.clear()
        self._emit_design(new, "Rename design", ("design", "name"))

    def _rename_layer(self, field: QLineEdit, text: str) -> None:
        key = ("layer", self._selection, "name")
        if not self._replace(self._layer(), {"name": text}, "Change name", key):
            set_text(field, self._layer().name)  # refused: show what the layer holds

    def _replace(
        self, layer: Layer, changes: dict[str, object], text: str, key: Hashable | None
    ) -> bool:
        try:
            new = layer.with_changes(**changes)
        except LayerSettingError as exc:
            self._feedback.setText(str(exc))
            return False
        self._feedback.clear()
        assert self._selection is not None
        label = layer.label
        self._emit_design(
            self.design.replace_layer(self._selection, new), f"{text} of {label}", key
        )
        return True

    def _edit_input(self, attr: str, value: int) -> None:
        spec = self.design.input
        values = {"height": spec.height, "width": spec.width, "channels": spec.channels}
        values[attr] = value
        try:
            new = InputSpec(**values)
        except LayerSettingError as exc:
            self._feedback.setText(str(exc))
            return
        self._feedback.clear()
        self._emit_design(self.design.with_input(new), f"Change input {attr}", ("input", attr))

    def _emit_design(self, design: Design, text: str, key: Hashable | None) -> None:
        if design != self.design:
            self.designEdited.emit(design, text, key)

    def _show_row(self, row: LayerRow) -> None:
        self._error.setText("" if row.ok else f"⚠ {row.message}")
        self._error.setVisible(not row.ok)

    def focus_first_editor(self) -> None:
        """Keyboard path from the pipeline: Enter on a card starts editing its settings."""
        order = ("filters", "units", "rate", "eps", "kernel", "height", "name")
        for name in order:
            editor = self.editors.get(name)
            if editor is None:
                continue
            target = editor.height_box if isinstance(editor, PairEditor) else editor
            target.setFocus(Qt.FocusReason.OtherFocusReason)
            if isinstance(target, QSpinBox | QDoubleSpinBox):
                target.selectAll()
            return

    @property
    def error_text(self) -> str:
        return self._error.text()

    @property
    def feedback_text(self) -> str:
        """Why the last edit was refused ("" after an accepted one)."""
        return self._feedback.text()
