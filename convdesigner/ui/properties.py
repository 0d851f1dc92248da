"""The property panel: the selected node's (or the input's) settings as a form.

The form is generated from the op's field metadata (``Layer.FIELDS``), magicgui-style: each
field's kind picks an editor (a count a spin box, a size a height × width pair, padding the
padding editor...) and the field's limits are the editor's, so the panel can never disagree with
the loader about what a valid value is. A few rows are added by hand where they help a learner:
the pooling kind (max or average), the depthwise shortcut beside the groups, and the inputs a
node reads when the design has branches.

Editing creates nothing itself: every change goes to the document (``Document.change``), which
validates it, records the undo step and tells every view. Combinations that only fail in
context (a kernel larger than the input) are accepted and shown as errors by the analysis; the
panel repeats the selected row's error below the form, and says why an edit was refused.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, QTimer
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
from convdesigner.core.design import (
    MAX_INPUT_CHANNELS,
    MAX_INPUT_SIDE,
    SPATIAL_NAMES,
    Design,
    InputSpec,
)
from convdesigner.core.document import Document, EditError
from convdesigner.core.ops import AvgPool2D, FieldSpec, Layer, MaxPool2D
from convdesigner.core.teaching import summary_line
from convdesigner.core.units import shape_text
from convdesigner.core.validate import MAX_NAME, LayerSettingError
from convdesigner.ui.editors import (
    AxisPadsEditor,
    OptionalPairEditor,
    PaddingEditor,
    PairEditor,
    ScaleEditor,
    double_spin_box,
    set_check,
    set_combo,
    set_spin,
    set_text,
    spin_box,
)

Update = Callable[[Any], None]
"""Shows a new value of what the form edits (a layer, or the design for the input form)."""

POOL_KINDS: tuple[type[Layer], ...] = (MaxPool2D, AvgPool2D)

KEPT_FORMS = 24
"""Forms kept built (the most recently shown, and those built ahead for an opened design): a
click between a conv and a batch norm swaps two kept forms instead of building one, 4-5 ms of
widgets plus as much again of their first polish and layout, on every such click and on every
edit that selects a node of another type. The input's forms are always kept."""

PREPARE_DELAY_MS = 150
"""Milliseconds after a design is opened before the forms of its layer types are built ahead,
off the frames of the open (see :meth:`PropertyPanel.prepare`)..."""

PREPARE_GAP_MS = 50
"""...and between two of those forms (each 5-9 ms of the UI thread)..."""

PREPARE_QUIET_MS = 150
"""...and only this long after the panel last showed a change: a form built in the pass after
an edit's landed in the edit's frame (14 ms became 20-24)."""

FormKey = tuple[object, ...]


@dataclass
class _Form:
    """A built form and the widgets the panel fills and reads (see ``PropertyPanel._build``)."""

    page: QWidget
    updaters: list[Update]
    editors: dict[str, QWidget]
    title: QLabel
    summary: QLabel
    error: QLabel
    feedback: QLabel
    inputs: QLabel


class PropertyPanel(QScrollArea):
    """Editors for the selected node or the input; edits go to the document."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("propertyPanel")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.document = document
        self._analysis: Analysis | None = None
        self._node: str | None = None
        self._form_key: FormKey | None = None
        self._forms: OrderedDict[FormKey, _Form] = OrderedDict()
        """Built forms by key, the current one included, least recently shown first."""
        self._updaters: list[Update] = []
        self.editors: dict[str, QWidget] = {}
        """Editors by setting name (``"filters"``, ``"kernel"``, ``"height"``...), for tests."""
        self._error = QLabel()
        self._feedback = QLabel()
        self._inputs = QLabel()
        self._title = QLabel()
        self._summary = QLabel()
        self._prepare_for: Design | None = None
        self._last_shown = 0.0
        """When the panel last showed a change (``time.monotonic``), see PREPARE_QUIET_MS."""
        self._to_prepare: list[tuple[FormKey, str]] = []
        self._prepare_timer = QTimer(self)
        self._prepare_timer.setSingleShot(True)
        self._prepare_timer.timeout.connect(self._prepare_one)

    # ------------------------------------------------------------------ public

    def set_state(self, analysis: Analysis, node: str | None) -> None:
        """Show node ``node`` (None: the input) of ``analysis``."""
        self._last_shown = time.monotonic()
        self._analysis = analysis
        design = analysis.design
        if node is not None and node not in design:
            node = None
        previous = self._node
        self._node = node
        layer = None if node is None else design.node(node).op
        # A form is kept while the selection moves between nodes of one type (its editors are
        # refilled), and kept aside for when a node of its type is selected again (see
        # KEPT_FORMS).
        key = _form_key(design, layer)
        built = False
        if key != self._form_key:
            built = self._show_form(key, layer)
            self._feedback.clear()
        elif node != previous:
            self._feedback.clear()  # why an edit of the previous node was refused
        if not built:  # a kept form: refill it
            for update in self._updaters:
                update(layer if layer is not None else design)
            if layer is not None:
                self._title.setText(self._layer_title(layer))
        row = analysis.rows[0] if node is None else analysis.row(node)
        self._show_row(row)

    def prepare(self, design: Design) -> None:
        """Build the forms of ``design``'s layer types ahead, one per event-loop pass a moment
        apart: the first click on (or edit of) a layer of a type not shown before built its
        form in that frame, 6-9 ms of a 15-25 ms frame."""
        self._prepare_for = design  # its types are listed in the first pass, not here
        self._to_prepare = []
        self._prepare_timer.start(PREPARE_DELAY_MS)

    @property
    def preparing(self) -> bool:
        """Whether forms are still to be built ahead (see :meth:`prepare`)."""
        return self._prepare_for is not None or bool(self._to_prepare)

    def _prepare_one(self) -> None:
        """Build the next form :meth:`prepare` asked for, unless kept already or the design
        changed so much that its node is gone or of another type."""
        if self._analysis is None:
            return
        quiet_for = (time.monotonic() - self._last_shown) * 1000
        if quiet_for < PREPARE_QUIET_MS:
            self._prepare_timer.start(max(1, round(PREPARE_QUIET_MS - quiet_for)))
            return
        if self._prepare_for is not None:
            self._to_prepare = _first_of_each_type(self._prepare_for, KEPT_FORMS // 2)
            self._prepare_for = None
        design = self.design
        while self._to_prepare:
            key, node = self._to_prepare.pop(0)
            if key in self._forms or node not in design:
                continue
            layer = design.node(node).op
            if key != _form_key(design, layer):
                continue
            self._build_aside(key, layer, node)
            if self._to_prepare:
                self._prepare_timer.start(PREPARE_GAP_MS)
            return

    def _build_aside(self, key: FormKey, layer: Layer, node: str) -> None:
        """Build ``layer``'s form, polished and hidden, and keep it."""
        current = (
            self._updaters,
            self.editors,
            self._title,
            self._summary,
            self._error,
            self._feedback,
            self._inputs,
            self._node,
        )
        self._node = node  # for the title, refilled when shown
        try:
            page = self._build(layer, show=False)
            form = _Form(
                page,
                self._updaters,
                self.editors,
                self._title,
                self._summary,
                self._error,
                self._feedback,
                self._inputs,
            )
        finally:
            (
                self._updaters,
                self.editors,
                self._title,
                self._summary,
                self._error,
                self._feedback,
                self._inputs,
                self._node,
            ) = current
        page.setParent(self)
        page.hide()
        page.ensurePolished()
        self._forms[key] = form
        self._drop_oldest()

    @property
    def design(self) -> Design:
        assert self._analysis is not None
        return self._analysis.design

    @property
    def title_text(self) -> str:
        """The form's title ("Layer 2: Conv2D", "conv1: Conv2D", "Input")."""
        return self._title.text().replace(ZERO_WIDTH_SPACE, "")

    @property
    def summary_text(self) -> str:
        """The header's one-line answer for the selected layer ("" if none)."""
        return self._summary.text()

    @property
    def error_text(self) -> str:
        return self._error.text()

    @property
    def feedback_text(self) -> str:
        """Why the last edit was refused ("" after an accepted one)."""
        return self._feedback.text()

    def focus_first_editor(self) -> None:
        """Keyboard path from the pipeline: Enter on a card starts editing its settings."""
        editors = [e for name, e in self.editors.items() if name not in ("name", "design_name")]
        for editor in [*editors, self.editors.get("name"), self.editors.get("design_name")]:
            if isinstance(editor, PairEditor):
                editor = editor.height_box
            if isinstance(editor, QSpinBox | QDoubleSpinBox | QLineEdit):
                editor.setFocus(Qt.FocusReason.OtherFocusReason)
                if isinstance(editor, QSpinBox | QDoubleSpinBox):
                    editor.selectAll()
                return

    # ------------------------------------------------------------------ building

    def _show_form(self, key: FormKey, layer: Layer | None) -> bool:
        """Show the form for ``key``, from those kept or newly built (then True)."""
        form = self._forms.pop(key, None)
        built = form is None
        if form is None:
            form = _Form(
                self._build(layer),
                self._updaters,
                self.editors,
                self._title,
                self._summary,
                self._error,
                self._feedback,
                self._inputs,
            )
        else:
            self._updaters, self.editors = form.updaters, form.editors
            self._title, self._summary = form.title, form.summary
            self._error, self._feedback, self._inputs = form.error, form.feedback, form.inputs
            self._put(form.page)
        self._forms[key] = form
        self._form_key = key
        self._drop_oldest()
        return built

    def _drop_oldest(self) -> None:
        """Forget the least recently shown forms beyond :data:`KEPT_FORMS`; never the one shown
        or an input's (shown after every open and every undo to the start)."""
        keep = {key for key in self._forms if key == self._form_key or key[0] is type(None)}
        droppable = [key for key in self._forms if key not in keep]
        for key in droppable[: max(0, len(self._forms) - KEPT_FORMS)]:
            # The edit that made this switch may be emitting from an editor on that page
            # (switching the pooling kind): delete it later, not in the middle of that.
            self._forms.pop(key).page.deleteLater()

    def _put(self, page: QWidget) -> None:
        """Make ``page`` the panel's widget; the one shown before is kept, hidden, as a child
        of the panel (its form may be shown again, and it goes when the panel goes)."""
        old = self.takeWidget()
        if old is not None:
            old.setParent(self)
            old.hide()
        self.setWidget(page)

    def _build(self, layer: Layer | None, *, show: bool = True) -> QWidget:
        """Build a form for ``layer`` (None: the input), show it (or not) and return its page."""
        self._updaters = []
        self.editors = {}
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.setContentsMargins(10, 8, 10, 8)
        title = self._title = QLabel()
        title.setWordWrap(True)
        title.setObjectName("propertyTitle")
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        title.setFont(font)
        description = QLabel()
        description.setWordWrap(True)
        description.setObjectName("propertyDescription")
        outer.addWidget(title)
        outer.addWidget(description)
        # The learner's one-line answer for this layer (weight shape, what a 1×1 conv does...).
        self._summary = QLabel()
        self._summary.setWordWrap(True)
        self._summary.setObjectName("propertySummary")
        self._summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self._summary)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # A row whose editor does not fit beside a long label ("Output padding", "Count
        # padding") puts the editor under it instead of pushing it past the panel's edge.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
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
            order = " × ".join(SPATIAL_NAMES[self.design.input.rank])
            description.setText(f"The tensor fed to the network: {order} × channels.")
            self._build_input(form)
        else:
            title.setText(self._layer_title(layer))
            description.setText(layer.description)
            self._build_layer(form, layer)
        if show:
            self._put(page)
        return page

    def _layer_title(self, layer: Layer) -> str:
        assert self._node is not None
        design = self.design
        where = f"Layer {design.index_of(self._node)}" if design.is_sequential else self._node
        return breakable(f"{where}: {layer.display_name}")

    def _build_input(self, form: QFormLayout) -> None:
        design = self.design
        name = QLineEdit(design.name)
        name.setMaxLength(MAX_NAME)
        name.textEdited.connect(lambda text: self._rename_design(name, text))
        self._updaters.append(lambda d: set_text(name, d.name))
        form.addRow("Design name", name)
        self.editors["design_name"] = name
        about = QLabel(wrappable(design.description) or "(none)")
        about.setWordWrap(True)
        # Whatever word is still too long is cut at the edge rather than widening the form (an
        # explicit minimum width, not an Ignored size policy: with that the form lost track of
        # the wrapped text's height and cut its last lines).
        about.setMinimumWidth(1)
        about.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        about.setToolTip("The design's description, saved in its file")
        self._updaters.append(lambda d: about.setText(wrappable(d.description) or "(none)"))
        form.addRow("Description", about)
        self.editors["description"] = about
        spec = design.input
        axes = SPATIAL_NAMES[spec.rank]
        limits = [(axis, MAX_INPUT_SIDE, f"input {axis}") for axis in axes]
        limits.append(("channels", MAX_INPUT_CHANNELS, "1 for greyscale, 3 for RGB"))
        for i, (attr, limit, tip) in enumerate(limits):
            value = spec.channels if attr == "channels" else spec.spatial[i]
            box = spin_box(1, limit, value, tip)
            self._bind_input(box, attr)
            form.addRow(attr.capitalize(), box)
            self.editors[attr] = box

    def _bind_input(self, box: QSpinBox, attr: str) -> None:
        box.valueChanged.connect(lambda v: self._edit_input(attr, v))

        def update(design: Design) -> None:
            spec = design.input
            set_spin(box, spec.channels if attr == "channels" else spec.sizes()[attr])

        self._updaters.append(update)

    def _build_layer(self, form: QFormLayout, layer: Layer) -> None:
        name = QLineEdit(layer.name)
        name.setPlaceholderText(layer.display_name)
        name.setMaxLength(MAX_NAME)
        name.textEdited.connect(lambda text: self._change(name=text))
        self._updaters.append(lambda lay: set_text(name, lay.name))
        form.addRow("Name", name)
        self.editors["name"] = name
        self._inputs_row(form)
        if isinstance(layer, POOL_KINDS):
            kind = QComboBox()
            kind.addItems(["Max", "Average"])
            kind.setCurrentIndex(POOL_KINDS.index(type(layer)))
            kind.setToolTip("Keep the largest value of each window, or average it")
            kind.currentIndexChanged.connect(self._switch_pool_kind)
            # A kept form (see KEPT_FORMS) may have been switched to the other kind since.
            self._updaters.append(
                lambda lay: set_combo(kind, kind.itemText(POOL_KINDS.index(type(lay))))
            )
            form.addRow("Pooling", kind)
            self.editors["kind"] = kind
        names = {spec.name for spec in layer.FIELDS}
        for spec in layer.FIELDS:
            if spec.kind == "optional_size" and "scale" in names:
                continue  # edited with the scale ("size instead")
            widget = self._field_editor(spec, layer, names)
            if spec.name == "groups" and "filters" in names:
                widget = self._with_depthwise(widget)
            form.addRow(spec.label, widget)

    def _inputs_row(self, form: QFormLayout) -> None:
        """What a node reads, when the design has branches (read-only for now)."""
        if self.design.is_sequential:
            return
        self._inputs = QLabel()
        self._inputs.setWordWrap(True)
        self._inputs.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._inputs.setToolTip("The nodes this node reads, in order")
        form.addRow("Inputs", self._inputs)
        self.editors["inputs"] = self._inputs

    # ------------------------------------------------------------------ editors per field kind

    def _field_editor(self, spec: FieldSpec, layer: Layer, names: set[str]) -> QWidget:
        attr, tip = spec.name, spec.tooltip
        lo, hi = int(spec.minimum), int(spec.maximum)
        value = getattr(layer, attr)
        kind = spec.kind
        widget: QWidget
        if kind == "count":
            box = spin_box(lo, hi, value, tip)
            box.valueChanged.connect(lambda v: self._change(**{attr: v}))
            self._updaters.append(lambda lay: set_spin(box, getattr(lay, attr)))
            widget = box
        elif kind == "size":
            pair = PairEditor(value, lo, hi, lambda v: self._change(**{attr: v}), attr)
            pair.setToolTip(tip)
            self._updaters.append(lambda lay: pair.set_value(getattr(lay, attr)))
            widget = pair
        elif kind == "optional_size":
            optional = OptionalPairEditor(
                value,
                _shown_pair(layer, attr),
                lo,
                hi,
                lambda v: self._change(**{attr: v}),
                attr,
                "same as kernel" if "kernel" in names else "not set",
            )
            optional.setToolTip(tip)
            self._updaters.append(
                lambda lay: optional.set_value(getattr(lay, attr), _shown_pair(lay, attr))
            )
            self.editors[f"{attr}_same"] = optional.unset
            widget = optional
            self.editors[attr] = optional.pair
            return widget
        elif kind == "padding":
            padding = PaddingEditor(value, lambda v: self._change(**{attr: v}), hi)
            padding.setToolTip(tip)
            self._updaters.append(lambda lay: padding.set_value(getattr(lay, attr)))
            widget = padding
        elif kind == "axis_pads":
            pads = AxisPadsEditor(value, lo, hi, lambda v: self._change(**{attr: v}))
            pads.setToolTip(tip)
            self._updaters.append(lambda lay: pads.set_value(getattr(lay, attr)))
            widget = pads
        elif kind == "bool":
            check = QCheckBox()
            check.setChecked(bool(value))
            check.setToolTip(tip)
            check.toggled.connect(lambda on: self._change(**{attr: bool(on)}))
            self._updaters.append(lambda lay: set_check(check, bool(getattr(lay, attr))))
            widget = check
        elif kind == "choice":
            combo = QComboBox()
            combo.addItems(list(spec.choices))
            combo.setCurrentText(str(value))
            combo.setToolTip(tip)
            combo.currentTextChanged.connect(lambda text: self._change(**{attr: text}))
            self._updaters.append(lambda lay: set_combo(combo, str(getattr(lay, attr))))
            widget = combo
        elif kind == "optional_scale":
            size_spec = type(layer).field_spec("size")
            scale = ScaleEditor(
                value,
                getattr(layer, "size", None),
                (spec.minimum, spec.maximum, spec.decimals, spec.step),
                (int(size_spec.minimum), int(size_spec.maximum)),
                lambda s, z: self._change(**{attr: s, "size": z}),
            )
            scale.setToolTip(tip)
            self._updaters.append(lambda lay: scale.set_value(getattr(lay, attr), lay.size))
            widget = scale
        else:  # number
            number = double_spin_box(
                spec.minimum, spec.maximum, float(value), spec.decimals, spec.step, tip
            )
            number.valueChanged.connect(lambda v: self._change(**{attr: float(v)}))
            self._updaters.append(lambda lay: set_spin(number, getattr(lay, attr)))
            widget = number
        self.editors[attr] = widget
        return widget

    def _with_depthwise(self, groups: QWidget) -> QWidget:
        holder = QWidget()
        layout = QHBoxLayout(holder)
        layout.setContentsMargins(0, 0, 0, 0)
        button = QPushButton("Depthwise")
        button.setToolTip("groups = filters = input channels: one filter per channel")
        button.clicked.connect(self._make_depthwise)
        layout.addWidget(groups, 1)
        layout.addWidget(button)
        self.editors["depthwise"] = button
        return holder

    # ------------------------------------------------------------------ editing

    def _layer(self) -> Layer:
        assert self._node is not None
        return self.design.node(self._node).op

    def _refused(self, reason: str) -> None:
        """Say why, and show again what the document holds."""
        self._feedback.setText(reason)
        target = self._layer() if self._node is not None else self.design
        for update in self._updaters:
            update(target)

    def _change(self, **changes: object) -> None:
        assert self._node is not None
        try:
            self.document.change(self._node, **changes)
        except (LayerSettingError, EditError) as exc:
            self._refused(str(exc))
            return
        self._feedback.clear()

    def _rename_design(self, field: QLineEdit, text: str) -> None:
        try:
            self.document.rename(text)
        except EditError as exc:
            # Pasted text with a tab or an escape: say why, and show what the design holds.
            self._refused(str(exc))
            set_text(field, self.design.name)
            return
        self._feedback.clear()

    def _input_channels(self) -> int | None:
        assert self._analysis is not None
        assert self._node is not None
        shape = self._analysis.row(self._node).input_shape
        return shape[0] if shape is not None and len(shape) >= 2 else None

    def _make_depthwise(self) -> None:
        c_in = self._input_channels()
        if c_in is None:
            self._feedback.setText(
                "The input to this layer is unknown (an earlier layer has an "
                "error), so depthwise cannot be set."
            )
            return
        try:
            new = self._layer().with_changes(groups=c_in, filters=c_in)
        except LayerSettingError as exc:
            self._refused(str(exc))
            return
        assert self._node is not None
        self.document.replace_layer(self._node, new, f"Make {self._layer().label} depthwise")

    def _switch_pool_kind(self, kind_index: int) -> None:
        layer = self._layer()
        cls = POOL_KINDS[kind_index]
        if isinstance(layer, cls):
            return
        shared = {f.name: getattr(layer, f.name) for f in cls.FIELDS if hasattr(layer, f.name)}
        new = cls(**shared, name=layer.name)
        assert self._node is not None
        self.document.replace_layer(self._node, new, f"Change pooling to {new.display_name}")

    def _edit_input(self, attr: str, value: int) -> None:
        spec = self.design.input
        spatial = list(spec.spatial)
        channels = spec.channels
        if attr == "channels":
            channels = value
        else:
            spatial[SPATIAL_NAMES[spec.rank].index(attr)] = value
        try:
            new = InputSpec(spatial=spatial, channels=channels)
        except LayerSettingError as exc:
            self._refused(str(exc))
            return
        self._feedback.clear()
        self.document.set_input(new, f"Change input {attr}", merge=attr)

    def _show_row(self, row: LayerRow) -> None:
        summary = summary_line(row)
        self._summary.setText(summary)
        self._summary.setVisible(bool(summary))
        self._error.setText("" if row.ok else f"⚠ {row.message}")
        self._error.setVisible(not row.ok)
        if row.index is not None and "inputs" in self.editors:
            pairs = list(zip(row.inputs, row.input_shapes, strict=True))
            text = ", ".join(
                f"{source} ({shape_text(shape)})" for source, shape in pairs[:PROPERTY_INPUTS]
            )
            if len(pairs) > PROPERTY_INPUTS:
                text += f", … ({len(pairs):,} in all)"
            self._inputs.setText(breakable(text))


def _form_key(design: Design, layer: Layer | None) -> FormKey:
    """What a form's widgets depend on: the layer's type, the input's rank (the input form's
    axes), and whether the design is a chain (a graph's form lists a node's inputs)."""
    return (type(layer), design.input.rank, layer is not None and design.is_sequential)


def _first_of_each_type(design: Design, limit: int) -> list[tuple[FormKey, str]]:
    """(form key, node id) for the first node of each layer type, up to ``limit`` types."""
    found: dict[FormKey, str] = {}
    for node in design.nodes:
        key = _form_key(design, node.op)
        if key not in found:
            found[key] = node.id
            if len(found) >= limit:
                break
    return list(found.items())


PROPERTY_INPUTS = 100
"""Inputs the panel lists with their shapes before "… (N in all)": the widest concat of a dense
block reads 1,670, and laying out that wrapped text took Qt tens of milliseconds per click."""

ZERO_WIDTH_SPACE = "\u200b"


def breakable(text: str) -> str:
    """``text`` that may wrap after the dots of an id: torchvision-style ids
    (``features.denseblock3.denselayer11.conv2``) are one long word, which would otherwise
    widen the panel beyond its dock."""
    return text.replace(".", "." + ZERO_WIDTH_SPACE)


WORD_BREAKS = re.compile(r"([._/,])(?=[A-Za-z])")


def wrappable(text: str) -> str:
    """Prose that may also wrap inside the API names it quotes (``torchvision.models.
    mobilenet_v2``, ``np.savez(path,``): after a dot, underscore, slash or comma followed by a
    letter (never inside a number such as 1,516 or 15.47)."""
    return WORD_BREAKS.sub("\\1" + ZERO_WIDTH_SPACE, text)


def _shown_pair(layer: Layer, attr: str) -> tuple[int, int]:
    """What an unset optional pair stands for: the kernel (a pooling stride), else 1×1."""
    value = getattr(layer, attr)
    if value is not None:
        return value
    kernel = getattr(layer, "kernel", None)
    return kernel if isinstance(kernel, tuple) else (1, 1)
