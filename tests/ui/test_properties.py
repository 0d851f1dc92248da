"""The property panel edits the design live, through undo commands, without clamping."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QSpinBox
from pytestqt.qtbot import QtBot

from convdesigner.core.design import Design
from convdesigner.core.document import Document
from convdesigner.core.fileformat import load_design
from convdesigner.core.layers import MAX_COUNT, MAX_SIZE, AvgPool2D, Conv2D, MaxPool2D
from convdesigner.core.templates import load_template
from convdesigner.ui import properties
from convdesigner.ui.editors import PaddingEditor, PairEditor
from convdesigner.ui.main_window import MainWindow
from convdesigner.ui.properties import PropertyPanel
from tests.ui.ui_helpers import editor, layer


def test_spin_box_edit_updates_the_table_row(window: MainWindow, qtbot: QtBot) -> None:
    window.select_layer(2)
    filters = editor(window, "filters")
    assert filters.value() == 150
    filters.setValue(200)
    assert layer(window, 2).filters == 200
    model = window.table_model
    row = 3  # input, layer 0, layer 1, layer 2
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    cell = {t: model.index(row, c).data() for c, t in enumerate(titles)}
    assert cell["Output H×W×C"] == "13×32×200"
    assert cell["Weights"] == "500,000"  # 5 × 5 × 100 × 200
    assert cell["Params"] == "500,200"
    assert window.analysis.row_for_layer(2).output_shape == (200, 13, 32)


def test_typing_a_value_steps_merge_into_one_undo(window: MainWindow) -> None:
    original = window.design
    window.select_layer(0)
    filters = editor(window, "filters")
    for value in (1, 12, 128):  # what keyboard tracking reports while typing "128"
        filters.setValue(value)
    assert layer(window, 0).filters == 128
    assert window.undo_stack.count() == 1
    window.undo_stack.undo()
    assert window.design == original
    assert filters.value() == 100  # the editor follows undo


def test_edits_of_different_fields_are_separate_undo_steps(window: MainWindow) -> None:
    window.select_layer(0)
    editor(window, "filters").setValue(64)
    editor(window, "dilation").height_box.setValue(2)
    assert window.undo_stack.count() == 2


def test_square_kernel_toggle_links_height_and_width(window: MainWindow) -> None:
    window.select_layer(2)
    kernel = editor(window, "kernel")
    assert kernel.square.isChecked()
    kernel.height_box.setValue(3)
    assert layer(window, 2).kernel == (3, 3)
    kernel.square.setChecked(False)
    kernel.width_box.setValue(1)
    assert layer(window, 2).kernel == (3, 1)


def test_padding_modes(window: MainWindow) -> None:
    window.select_layer(0)
    padding = editor(window, "padding")
    padding.mode.setCurrentIndex(0)  # valid
    assert layer(window, 0).padding == "valid"
    assert window.analysis.row_for_layer(0).output_shape == (100, 19, 58)
    padding.mode.setCurrentIndex(2)  # explicit
    padding.amount.height_box.setValue(3)
    assert layer(window, 0).padding == (3, 3)
    assert window.analysis.row_for_layer(0).output_shape == (100, 25, 64)


def test_impossible_settings_show_as_row_errors_not_clamped(window: MainWindow) -> None:
    window.select_layer(0)
    editor(window, "padding").mode.setCurrentIndex(0)
    kernel = editor(window, "kernel")
    kernel.height_box.setValue(30)  # larger than the 25-pixel input
    assert layer(window, 0).kernel == (30, 30)  # kept as typed
    row = window.analysis.row_for_layer(0)
    assert not row.ok
    assert "larger than the padded input" in row.message
    assert row.message in window.properties.error_text
    assert window.table_model.index(1, 0).data(Qt.ItemDataRole.ToolTipRole) == row.message
    assert window.statusBar().currentMessage().endswith(row.message)


def test_depthwise_shortcut_sets_groups_and_filters_to_input_channels(window: MainWindow) -> None:
    window.select_layer(2)
    editor(window, "depthwise").click()
    conv = layer(window, 2)
    assert (conv.groups, conv.filters) == (100, 100)
    assert window.analysis.row_for_layer(2).weights == 5 * 5 * 1 * 100


def test_groups_that_do_not_divide_show_an_error(window: MainWindow) -> None:
    window.select_layer(2)
    editor(window, "groups").setValue(7)
    assert layer(window, 2).groups == 7
    assert "must divide" in window.analysis.row_for_layer(2).message


def test_pooling_kind_switch_keeps_the_window(window: MainWindow) -> None:
    window.select_layer(1)
    editor(window, "kind").setCurrentIndex(1)
    pool = window.design.layers[1]
    assert isinstance(pool, AvgPool2D)
    assert (pool.kernel, pool.stride, pool.padding) == ((2, 2), (2, 2), "same")
    editor(window, "count_include_pad").setChecked(False)
    assert layer(window, 1).count_include_pad is False
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert isinstance(window.design.layers[1], MaxPool2D)
    assert editor(window, "kind").currentText() == "Max"  # the max pool's form, kept, refilled


def test_pool_stride_same_as_kernel(window: MainWindow) -> None:
    window.select_layer(1)
    editor(window, "stride_same").setChecked(True)
    assert layer(window, 1).stride is None
    editor(window, "ceil_mode").setChecked(True)
    assert layer(window, 1).ceil_mode is True


def test_input_size_edit_reshapes_everything(window: MainWindow) -> None:
    window.select_layer(None)
    editor(window, "height").setValue(32)
    editor(window, "channels").setValue(3)
    assert window.design.input.height == 32
    assert window.analysis.rows[-1].output_shape == (150, 16, 32)
    assert window.analysis.row_for_layer(0).weights == 7 * 7 * 3 * 100


def test_layer_name_edit(window: MainWindow) -> None:
    window.select_layer(0)
    name = editor(window, "name")
    for text in ("c", "co", "conv1"):
        name.setText(text)
        name.textEdited.emit(text)
    assert window.design.layers[0].name == "conv1"
    assert window.undo_stack.count() == 1
    assert window.pipeline_model.index(1, 0).data() == "0 conv1"


def test_dense_dropout_and_batchnorm_editors(window: MainWindow) -> None:
    window.insert_entry("flatten", 3)
    window.insert_entry("dense", 4)
    editor(window, "units").setValue(42)
    editor(window, "bias").setChecked(False)
    assert window.analysis.row_for_layer(4).params == 13 * 32 * 150 * 42
    window.insert_entry("dropout", 5)
    editor(window, "rate").setValue(0.25)
    assert layer(window, 5).rate == 0.25
    window.insert_entry("batchnorm2d", 1)
    editor(window, "eps").setValue(0.001)
    assert layer(window, 1).eps == 0.001


def test_selecting_another_layer_rebuilds_the_form(window: MainWindow) -> None:
    window.select_layer(1)
    assert "filters" not in window.properties.editors
    assert "kind" in window.properties.editors
    window.select_layer(0)
    assert editor(window, "filters").value() == 100
    assert isinstance(window.design.layers[0], Conv2D)


def test_moving_between_layers_of_one_type_refills_the_same_form(window: MainWindow) -> None:
    panel = window.properties
    window.select_layer(0)
    filters = editor(window, "filters")
    filters.setValue(200)
    name = editor(window, "name")
    assert isinstance(name, QLineEdit)
    name.textEdited.emit("conv\x1b[2J")  # pasted: refused by the core, the panel says why
    assert "one line of text" in panel.feedback_text
    window.select_layer(2)
    # The same editors now show layer 2 (Conv2D 5×5, 150 filters), with its own title, and
    # the refusal about layer 0 is gone.
    assert editor(window, "filters") is filters
    assert filters.value() == 150
    assert editor(window, "kernel").value() == (5, 5)
    assert panel._title.text().startswith("Layer 2:")
    assert panel.feedback_text == ""
    filters.setValue(160)
    assert layer(window, 2).filters == 160
    assert layer(window, 0).filters == 200


def test_a_form_shown_before_is_kept_and_refilled(window: MainWindow) -> None:
    """Building a conv's form took 4-5 ms of widgets and as much of their first layout, on
    every click between layers of two types. The form is kept, hidden, and shown again with
    the selected layer's values; only the shown one's editors are the panel's."""
    panel = window.properties
    window.select_layer(0)  # Conv2D 7×7, 100 filters
    conv_page, filters = panel.widget(), editor(window, "filters")
    assert conv_page is not None
    window.select_layer(1)  # a max pool
    assert panel.widget() is not conv_page
    assert not conv_page.isVisible()
    assert "filters" not in panel.editors
    editor(window, "kind").setCurrentIndex(1)  # to an average pool, from the kept max pool form
    window.select_layer(2)  # Conv2D 5×5, 150 filters
    assert panel.widget() is conv_page
    assert conv_page.isVisible()
    assert editor(window, "filters") is filters
    assert filters.value() == 150
    assert editor(window, "kernel").value() == (5, 5)
    assert panel._title.text().startswith("Layer 2:")
    filters.setValue(160)
    assert layer(window, 2).filters == 160
    window.select_layer(1)
    assert editor(window, "kind").currentText() == "Average"
    assert editor(window, "count_include_pad").isVisible()


def test_the_forms_kept_are_bounded_and_the_inputs_is_always_among_them(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forms built ahead for an opened design pushed the input's out, and every open and
    every undo to the start built it again (3 ms of widgets and as much of first layout)."""
    monkeypatch.setattr(properties, "KEPT_FORMS", 2)
    panel = window.properties
    window.select_layer(None)
    input_page = panel.widget()
    window.select_layer(0)  # conv
    window.select_layer(1)  # max pool
    window.insert_entry("batchnorm2d", 2)  # inserted and selected
    window.insert_entry("relu", 3)
    assert panel.title_text.endswith("ReLU")
    assert len(panel._forms) == 2  # the input's and the one shown
    window.select_layer(None)
    assert panel.widget() is input_page
    window.select_layer(0)
    assert editor(window, "filters").value() == 100  # built again, and filled


def test_the_forms_of_an_opened_designs_layer_types_are_built_ahead(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first click on a layer of a type not shown before built its form in that frame
    (6-9 ms of a 15-25 ms frame). They are built a moment after the design opens."""
    panel = window.properties
    window.apply_design(load_template("resnet18"), "ResNet-18")
    assert panel.preparing
    qtbot.waitUntil(lambda: not panel.preparing, timeout=5000)
    built: list[object] = []
    monkeypatch.setattr(panel, "_build", lambda *a, **k: built.append(a))
    kinds: dict[type, str] = {}
    for node in window.design.nodes:
        kinds.setdefault(type(node.op), node.id)
    assert len(kinds) >= 6  # conv, batch norm, ReLU, max pool, add, global pool...
    for node_id in kinds.values():
        window.document.select(node_id)
        assert panel.editors  # the kept form, shown and filled
        assert panel.title_text.endswith(window.design.node(node_id).op.display_name)
    assert built == []
    assert panel.preparing is False


def test_forms_are_built_ahead_only_while_the_panel_is_quiet(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A form built ahead in the pass after an edit landed in the edit's frame (14 ms became
    20-24). None is built while changes keep coming, then all are."""
    panel = window.properties
    built: list[float] = []
    original = panel._build_aside

    def build_aside(*args: Any) -> None:
        built.append(time.monotonic())
        original(*args)

    monkeypatch.setattr(panel, "_build_aside", build_aside)
    window.apply_design(load_template("resnet18"), "ResNet-18")
    ids = [node.id for node in window.design.nodes[:3]]  # conv, batch norm, ReLU
    end = time.monotonic() + 1.2  # well past PREPARE_DELAY_MS
    changes: list[float] = []
    step = 0
    while time.monotonic() < end:
        window.document.select(ids[step % 3])
        changes.append(time.monotonic())
        step += 1
        qtbot.wait(60)
    assert all(
        b - max((c for c in changes if c <= b), default=0) >= properties.PREPARE_QUIET_MS / 1000
        for b in built
    )
    qtbot.waitUntil(lambda: not panel.preparing, timeout=5000)
    assert len(built) >= 3  # max pool, add, global pool... (conv, BN, ReLU were shown)


def test_undo_keys_in_a_focused_number_field_undo_the_document(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow())
    window.select_layer(0)
    filters = editor(window, "filters")
    filters.setFocus()
    qtbot.waitUntil(filters.hasFocus)
    filters.setValue(64)
    assert layer(window, 0).filters == 64
    qtbot.keyClick(filters, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert layer(window, 0).filters == 100  # the document's undo, not the field's text
    qtbot.keyClick(
        filters,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert layer(window, 0).filters == 64


def _panel_on_file(
    qtbot: QtBot, tmp_path: Path, layer_entry: dict[str, object]
) -> tuple[PropertyPanel, list[Design]]:
    """A property panel showing the only layer of a design read from a file, and the designs
    its edits make."""
    path = tmp_path / "big.json"
    path.write_text(
        json.dumps(
            {
                "format": "convdesigner-design",
                "version": 1,
                "input": {"height": 32, "width": 32, "channels": 3},
                "layers": [layer_entry],
            }
        ),
        encoding="utf-8",
    )
    document = Document(load_design(path))
    panel = PropertyPanel(document)
    qtbot.addWidget(panel)
    panel.set_state(document.analysis, "0")
    emitted: list[Design] = []
    document.subscribe(lambda change: emitted.append(change.after.design))
    return panel, emitted


def test_editing_the_width_keeps_a_kernel_height_above_the_old_ui_cap(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """A kernel of 2000 is valid in a file; the editor used to cap it at 1024 and, since a pair
    editor sends both boxes, writing the width silently wrote height 1024."""
    panel, emitted = _panel_on_file(qtbot, tmp_path, {"type": "conv2d", "kernel": [2000, 3]})
    kernel = panel.editors["kernel"]
    assert isinstance(kernel, PairEditor)
    kernel.width_box.setValue(5)
    assert len(emitted) == 1
    edited = emitted[0].layers[0]
    assert isinstance(edited, Conv2D)
    assert edited.kernel == (2000, 5)


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ({"type": "conv2d", "filters": MAX_COUNT}, "filters"),
        ({"type": "conv2d", "filters": MAX_COUNT, "groups": MAX_COUNT}, "groups"),
        ({"type": "conv2d", "kernel": MAX_SIZE}, "kernel"),
        ({"type": "conv2d", "stride": MAX_SIZE}, "stride"),
        ({"type": "conv2d", "dilation": MAX_SIZE}, "dilation"),
        ({"type": "conv2d", "padding": MAX_SIZE}, "padding"),
        ({"type": "maxpool2d", "kernel": MAX_SIZE}, "kernel"),
        ({"type": "maxpool2d", "stride": MAX_SIZE}, "stride"),
        ({"type": "avgpool2d", "padding": MAX_SIZE}, "padding"),
        ({"type": "dense", "units": MAX_COUNT}, "units"),
    ],
)
def test_editors_show_every_value_the_core_accepts(
    qtbot: QtBot, tmp_path: Path, entry: dict[str, object], key: str
) -> None:
    """The editors' ranges are the core's limits, so nothing a file may hold is clamped."""
    panel, _ = _panel_on_file(qtbot, tmp_path, entry)
    value = entry[key]
    widget = panel.editors[key]
    if isinstance(widget, PaddingEditor | PairEditor):
        assert widget.value() == (value, value)
    else:
        assert isinstance(widget, QSpinBox)
        assert widget.value() == value


def test_every_op_gets_a_form_from_its_fields(window: MainWindow) -> None:
    """The form is generated from the op's FIELDS: one editor per field, with the field's
    limits, whatever the op (the new ones included)."""
    from convdesigner.core.ops import REGISTRY

    for name, spec in REGISTRY.items():
        window.document.load(Design(layers=(spec.cls(),)), None)
        window.select_layer(0)
        editors = window.properties.editors
        for field in spec.cls.FIELDS:
            if field.kind == "optional_size" and name == "upsample":
                assert "scale" in editors  # edited as "size instead" of the scale
                continue
            assert field.name in editors, (name, field.name)
            widget = editors[field.name]
            if isinstance(widget, QSpinBox):
                assert (widget.minimum(), widget.maximum()) == (field.minimum, field.maximum)


def test_new_ops_are_edited_through_their_generated_forms(window: MainWindow) -> None:
    from convdesigner.core.layers import GELU, LeakyReLU, Upsample, ZeroPad2D
    from convdesigner.ui.editors import AxisPadsEditor, ScaleEditor

    window.insert_entry("zeropad2d", 3)
    pads = editor(window, "padding")
    assert isinstance(pads, AxisPadsEditor)
    pads.boxes["bottom"].setValue(3)
    assert layer(window, 3) == ZeroPad2D(padding=((1, 3), (1, 1)))
    assert window.analysis.row_for_layer(3).output_shape == (150, 17, 34)

    window.insert_entry("leakyrelu", 4)
    editor(window, "negative_slope").setValue(0.2)
    assert layer(window, 4) == LeakyReLU(negative_slope=0.2)

    window.insert_entry("gelu", 5)
    editor(window, "approximate").setCurrentText("tanh")
    assert layer(window, 5) == GELU(approximate="tanh")

    window.insert_entry("upsample", 6)
    scale = editor(window, "scale")
    assert isinstance(scale, ScaleEditor)
    scale.width_scale.setValue(3.0)
    assert layer(window, 6) == Upsample(scale=(2.0, 3.0))
    scale.use_size.setChecked(True)
    scale.size_pair.height_box.setValue(40)
    assert layer(window, 6).scale is None
    assert layer(window, 6).size == (40, 40)
    assert window.analysis.row_for_layer(6).output_shape == (150, 40, 40)
    editor(window, "align_corners").setChecked(True)  # only for bilinear: refused, said why
    assert layer(window, 6).align_corners is False
    assert "bilinear" in window.properties.feedback_text
    assert not editor(window, "align_corners").isChecked()  # shows what the layer holds
