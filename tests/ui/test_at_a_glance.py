"""Issue 13, "what was seen": the viewer follows appended layers, sizes read H×W, nothing stale,
limits said, numbers never cut off, panels that fit their contents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from PySide6.QtCore import QEvent, QPoint, QSize, Qt, QUrl
from PySide6.QtGui import QHelpEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QTextEdit, QToolTip, QWidget
from pytestqt.qtbot import QtBot

from convdesigner.core.analysis import analysis_cost
from convdesigner.core.design import MAX_INPUT_SIDE, Design, InputSpec
from convdesigner.core.layers import Conv2D, ReLU
from convdesigner.core.templates import list_templates, load_template
from convdesigner.ui import main_window, table_view
from convdesigner.ui.explain import FORMULA_SECTIONS
from convdesigner.ui.feature_maps import LEFT_MIN_WIDTH
from convdesigner.ui.help_docs import HelpViewer, page_path
from convdesigner.ui.main_window import STATE_VERSION, MainWindow, first_size
from convdesigner.ui.properties import ZERO_WIDTH_SPACE
from convdesigner.ui.table_view import EdgeDelegate
from convdesigner.ui.viewer_dock import FeatureMapsController, install_feature_maps
from tests.graph_designs import dense_block
from tests.ui.ui_helpers import drag_and_drop, editor, explained, layer


@pytest.fixture
def viewer(qtbot: QtBot, window: MainWindow) -> Iterator[FeatureMapsController]:
    controller = install_feature_maps(window, lazy=True)
    controller.start()
    panel = controller.panel
    qtbot.waitUntil(lambda: panel.render_count >= 1 and not panel.busy, timeout=30000)
    yield controller
    controller.shutdown()


def _assert_viewer_shows_last(
    qtbot: QtBot, window: MainWindow, viewer: FeatureMapsController
) -> None:
    last = window.design.nodes[-1].id
    assert window.selected_node() == last
    panel = viewer.panel
    assert panel.selected_node == last
    qtbot.waitUntil(lambda: not panel.busy, timeout=30000)
    result = panel.result
    assert result is not None
    assert result.request.options.node == last


def test_viewer_follows_a_layer_dropped_below_the_last_card(
    qtbot: QtBot, window: MainWindow, viewer: FeatureMapsController
) -> None:
    view = window.pipeline
    rect = view.layer_rect(len(window.design) - 1)
    palette = window.palette_list
    data = palette.mimeData([palette.item_for_key("relu")])
    _, dropped = drag_and_drop(view.viewport(), data, QPoint(rect.center().x(), rect.bottom() + 20))
    assert dropped
    _assert_viewer_shows_last(qtbot, window, viewer)


def test_viewer_follows_a_layer_appended_from_the_palette_with_enter(
    qtbot: QtBot, window: MainWindow, viewer: FeatureMapsController
) -> None:
    window.select_layer(len(window.design) - 1)
    palette = window.palette_list
    palette.setFocus()
    palette.setCurrentItem(palette.item_for_key("relu"))
    qtbot.keyClick(palette, Qt.Key.Key_Return)
    _assert_viewer_shows_last(qtbot, window, viewer)


def test_image_size_prompt_says_height_by_width(
    window: MainWindow, viewer: FeatureMapsController
) -> None:
    controller = viewer
    spec = window.design.input
    assert (spec.height, spec.width) == (25, 64)
    question, resize, adopt = controller.fit_texts("cat.png", (170, 256))
    assert question.startswith("cat.png is 170×256 pixels (H×W)")
    assert "input is 25×64" in question
    assert resize == "Resize to 25×64"
    assert adopt == "Set Input to 170×256"


def _press(qtbot: QtBot, widget: QWidget, shortcut: QKeySequence) -> None:
    """Press the first key combination of ``shortcut`` (the platform's own), as a user would."""
    combo = cast(Any, shortcut)[0]  # QKeyCombination; the stubs lack QKeySequence.__getitem__
    qtbot.keyClick(widget, combo.key(), combo.keyboardModifiers())


def test_undo_in_a_number_field_undoes_the_document_repeatedly(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.select_layer(0)
    box = editor(window, "filters")
    original = window.design
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    box.setValue(64)
    editor(window, "dilation").height_box.setValue(2)  # another field: another undo step
    box.setValue(32)
    assert window.undo_stack.count() == 3
    for filters, dilation in ((64, 2), (64, 1), (100, 1)):
        _press(qtbot, box, window.action_undo.shortcut())
        conv = layer(window, 0)
        assert (conv.filters, conv.dilation[0]) == (filters, dilation)
        assert box.value() == filters
        assert window.action_redo.isEnabled()
    assert window.design == original
    _press(qtbot, box, window.action_redo.shortcut())
    assert layer(window, 0).filters == 64
    assert box.hasFocus()


def test_a_value_past_the_limit_says_the_limit(qtbot: QtBot, window: MainWindow) -> None:
    window.select_layer(None)
    box = editor(window, "height")
    assert f"to {MAX_INPUT_SIDE:,}" in box.toolTip()
    box.setFocus()
    box.selectAll()
    typed = str(MAX_INPUT_SIDE * 2)
    qtbot.keyClicks(box, typed)
    assert box.value() == int(typed[:-1])  # the last digit was refused...
    message = window.statusBar().currentMessage()
    assert f"{int(typed):,} is more than the limit" in message  # ...and the user is told why
    assert f"to {MAX_INPUT_SIDE:,}" in message


def test_file_new_empty_design(window: MainWindow) -> None:
    texts = [a.text() for a in window.new_menu.actions()]
    assert texts[0] == "&Empty Design"
    assert window.action_new_empty.shortcut() == QKeySequence(QKeySequence.StandardKey.New)
    original = window.design
    window.action_new_empty.trigger()
    assert len(window.design) == 0
    assert window.design.name == "Untitled"
    assert window.path is None
    assert not window.isWindowModified()
    window.undo_stack.undo()
    assert window.design == original


def test_a_design_from_a_template_has_its_own_name_and_description_shown(
    window: MainWindow,
) -> None:
    assert window.new_from_template("vgg16")
    template = load_template("vgg16")
    assert window.design.name == f"Untitled (from {template.name})"
    assert template.description not in window.design.description
    assert window.design.description == f"Started from the {template.name} template."
    assert window.design.name in window.windowTitle()
    window.select_node(None)
    shown = editor(window, "description")
    assert shown.text() == window.design.description


def test_opening_another_design_clears_the_previous_maps_at_once(
    qtbot: QtBot, window: MainWindow, viewer: FeatureMapsController
) -> None:
    panel = viewer.panel
    assert panel.mosaic_title.text  # the Q&A example's maps are on screen
    panel.hover_label.setText("channel 0 · row 1, col 2 · value 0.5")
    assert window.new_from_template("lenet5")
    # Synchronously, before any new map is computed:
    assert panel.stack.currentWidget() is panel.message
    assert "Computing the feature maps of Untitled (from LeNet-5)" in panel.message.text()
    assert panel.mosaic_item.image is None
    assert panel.hover_label.text().strip() == ""
    qtbot.waitUntil(lambda: not panel.busy, timeout=30000)


def test_hover_readout_is_cleared_by_an_edit(
    window: MainWindow, viewer: FeatureMapsController
) -> None:
    panel = viewer.panel
    panel.hover_label.setText("channel 0 · row 1, col 2 · value 0.5")
    window.select_layer(0)
    editor(window, "filters").setValue(50)
    assert panel.hover_label.text().strip() == ""


def _break_first_layer(window: MainWindow) -> None:
    window.select_layer(0)
    # A 30×30 kernel without padding does not fit the 25×64 input.
    window.document.change(window.design.nodes[0].id, kernel=(30, 30), padding="valid")


def test_an_errored_layer_shows_a_message_not_an_empty_histogram(
    qtbot: QtBot, window: MainWindow, viewer: FeatureMapsController
) -> None:
    panel = viewer.panel
    _break_first_layer(window)
    assert not window.analysis.ok
    qtbot.waitUntil(lambda: not panel.busy, timeout=30000)
    assert panel.stack.currentWidget() is panel.message
    assert panel.histogram.isVisible() is False
    assert panel.detail_title.text.startswith("No values to show")


def test_the_enlarged_channels_note_fits_its_column_at_1366x768(
    qtbot: QtBot, window: MainWindow, small_screen: FeatureMapsController
) -> None:
    """Where there is no channel to enlarge (a vector, an errored layer) the note in its place
    is read whole: on one line it was cut at "A vector: its values are the ba"."""
    window.apply_design(load_template("lenet5"), "LeNet-5")
    small_screen.start()
    panel = small_screen.panel
    qtbot.waitUntil(lambda: panel.render_count >= 1 and not panel.busy, timeout=30000)
    window.select_layer(len(window.design) - 1)  # the last dense layer: 10 values
    qtbot.waitUntil(lambda: panel.detail_title.text.startswith("A vector"), timeout=30000)
    shown = [panel.detail_title.text]
    window.select_layer(0)
    window.document.change(window.design.nodes[0].id, kernel=(40, 40))  # larger than 32×32
    qtbot.waitUntil(lambda: panel.detail_title.text.startswith("No values"), timeout=30000)
    shown.append(panel.detail_title.text)
    for text in shown:
        panel.detail_title.setText(text)
        qtbot.wait(10)
        assert panel.detail_title.itemRect().width() <= panel.detail_title.rect().width(), text


def test_totals_say_they_are_partial(window: MainWindow) -> None:
    _break_first_layer(window)
    n = len(window.design)
    last = window.table_model.rowCount() - 1
    assert window.table_model.index(last, 1).data() == "Total (partial)"
    tip = window.table_model.index(last, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert f"partial: {n} layers not computed" in tip
    assert f"partial: {n} layers not computed" in window.totals_label.text()
    window.undo_stack.undo()
    assert window.table_model.index(last, 1).data() == "Total"
    assert "partial" not in window.totals_label.text()


@pytest.mark.parametrize(
    ("action", "heading"),
    [("action_user_guide", "ConvDesigner user guide"), ("action_formulas", "Formulas")],
)
def test_help_menu_opens_the_bundled_pages(window: MainWindow, action: str, heading: str) -> None:
    menu = [a.text() for a in window.help_menu.actions()]
    assert menu[:2] == ["User &Guide", "&Formulas"]
    getattr(window, action).trigger()
    viewer = window.findChild(HelpViewer)
    assert viewer is not None
    assert viewer.isVisible()
    assert viewer.browser.isReadOnly()
    text = viewer.browser.toPlainText()
    assert text.startswith(heading)  # rendered Markdown: the "#" is gone
    assert "# " not in text.splitlines()[0]
    assert viewer.windowTitle().split(" — ")[0] in ("User Guide", "Formulas")
    viewer.close()


def test_weight_tensor_shapes_in_properties_and_explain(window: MainWindow, qtbot: QtBot) -> None:
    window.select_layer(2)  # Conv2D 5×5, 100 → 150 channels
    page = window.properties.widget()  # the form shown (others are kept, hidden)
    assert page is not None
    summary = page.findChild(QLabel, "propertySummary")
    assert summary is not None
    assert "5×5×100×150" in summary.text()
    assert "Weights 5×5×100×150 (375,000) · Bias 150" in explained(qtbot, window).toPlainText()
    window.insert_entry("batchnorm2d", 3)  # no learner's note for it: Explain lists its tensors
    assert "Parameter tensors: weights 150, bias 150" in explained(qtbot, window).toPlainText()


KEY_COLUMNS = ("Output H×W×C", "Params", "MACs", "% MACs")


@pytest.fixture
def small_screen(qtbot: QtBot, window: MainWindow) -> Iterator[FeatureMapsController]:
    """The window as on a 1366×768 laptop, in the default layout, with the viewer docked."""
    window.resize(1366, 768)
    controller = install_feature_maps(window, lazy=True)
    window.reset_layout()
    qtbot.wait(50)
    yield controller
    controller.shutdown()


def _numbers_fit(window: MainWindow) -> None:
    table = window.table
    header = table.horizontalHeader()
    widths = table.content_widths(range(window.table_model.rowCount()))
    for c, column in enumerate(window.table_model.columns):
        if column.numeric and c < header.count() - 1:
            assert header.sectionSize(c) >= widths[c], column.title


def test_key_columns_and_whole_numbers_in_view_at_1366x768(
    qtbot: QtBot, window: MainWindow, small_screen: FeatureMapsController
) -> None:
    window.apply_design(load_template("vgg16"), "VGG-16")
    window.table.widen_columns()
    table = window.table
    header = table.horizontalHeader()
    titles = [c.title for c in window.table_model.columns]
    for title in KEY_COLUMNS:
        c = titles.index(title)
        right = header.sectionViewportPosition(c) + header.sectionSize(c)
        assert header.sectionViewportPosition(c) >= 0, title
        assert right <= table.viewport().width(), title
    dense = next(r for r in window.analysis.rows if r.type == "dense")
    assert dense.params == 102_764_544
    _numbers_fit(window)


def test_a_huge_input_does_not_keep_the_output_column_wide(
    qtbot: QtBot, window: MainWindow, small_screen: FeatureMapsController
) -> None:
    header = window.table.horizontalHeader()
    output = [c.title for c in window.table_model.columns].index("Output H×W×C")
    before = header.sectionSize(output)
    window.select_node(None)
    editor(window, "height").setValue(16000)
    editor(window, "width").setValue(16000)
    window.table.widen_columns()
    assert header.sectionSize(output) > before
    _numbers_fit(window)
    window.undo_stack.undo()
    window.undo_stack.undo()
    window.table.widen_columns()
    assert header.sectionSize(output) == before


def _derivation_height(explain: QTextEdit) -> tuple[float, float]:
    """Heights of the whole text and of the derivation (from "Output height" to the end)."""
    doc = explain.document()
    start = doc.documentLayout().blockBoundingRect(doc.find("Output height").block()).top()
    return doc.size().height(), doc.size().height() - start


def test_explain_shows_a_conv_layers_whole_derivation_at_1366x768(
    qtbot: QtBot, window: MainWindow, small_screen: FeatureMapsController
) -> None:
    window.select_layer(2)  # Conv2D 5×5, "same" padding: the longest derivation of the example
    qtbot.wait(20)
    explain = explained(qtbot, window)
    assert "Receptive field" in explain.toPlainText()
    # The learner's notes come first, and they and the derivation below them fit the panel in
    # one view: no scrolling to see how any number of the layer came about.
    assert "Why the output is 3-D" in explain.toPlainText()
    whole, _derivation = _derivation_height(explain)
    assert whole <= explain.viewport().height()
    assert not explain.verticalScrollBar().isVisible()
    # Made separable, each layer of the pair has a longer note (the pair's counts, the next
    # conv's cost): both still fit.
    window.learner.run("make-separable")
    for index in (2, 3):
        window.select_layer(index)
        qtbot.wait(20)
        assert "Depthwise-separable" in explain.toPlainText()
        whole, _derivation = _derivation_height(explain)
        assert whole <= explain.viewport().height(), index


def test_explain_fits_a_layer_with_every_learner_note_at_1366x768(
    qtbot: QtBot, window: MainWindow, small_screen: FeatureMapsController
) -> None:
    # MobileNet v1's last pointwise conv gets all four notes (3-D output, 1×1, the separable
    # pair's counts, and the next layer's cost): the longest Explain of the templates.
    window.apply_design(load_template("mobilenet-v1"), "MobileNet v1")
    window.select_layer(window.design.index_of("78"))
    qtbot.wait(20)
    explain = window.explain
    text = explain.toPlainText()
    for heading in ("Why the output is 3-D", "What a 1×1", "Depthwise-separable", "twice as wide"):
        assert heading in text
    whole, _derivation = _derivation_height(explain)
    assert whole <= explain.viewport().height()


def test_explain_shows_everything_of_a_conv_layer_at_1920x1080(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.resize(*first_size(QSize(1920, 1080)))
    controller = install_feature_maps(window, lazy=True)
    try:
        window.reset_layout()
        qtbot.wait(50)
        window.select_layer(2)
        qtbot.wait(20)
        whole, _derivation = _derivation_height(window.explain)
        assert whole <= window.explain.viewport().height()
        assert not window.explain.verticalScrollBar().isVisible()
    finally:
        controller.shutdown()


def test_properties_of_every_op_without_a_scroll_bar_at_1366x768(
    qtbot: QtBot, window: MainWindow, small_screen: FeatureMapsController
) -> None:
    panel = window.properties
    for key in window.palette_list.entry_keys():
        window.insert_entry(key, 0)
        window.select_layer(0)
        qtbot.wait(5)
        assert not panel.verticalScrollBar().isVisible(), key
        page = panel.widget()
        assert page is not None
        assert page.sizeHint().height() <= panel.viewport().height(), key
        window.undo_stack.undo()
    window.select_layer(0)
    for name in ("dilation", "groups", "bias"):
        assert editor(window, name).isVisible(), name


def test_properties_of_every_op_fit_the_panels_width_at_1366x768(
    qtbot: QtBot, window: MainWindow, small_screen: FeatureMapsController
) -> None:
    """No form wider than its panel (the horizontal scroll bar is off, so the right end of a
    pooling layer's kernel, stride and padding editors, "Square" included, was cut off)."""
    panel = window.properties
    for key in window.palette_list.entry_keys():
        window.insert_entry(key, 0)
        window.select_layer(0)
        qtbot.wait(5)
        page = panel.widget()
        assert page is not None
        assert page.minimumSizeHint().width() <= panel.viewport().width(), key
        window.undo_stack.undo()


def test_the_palette_is_a_compact_grid(
    qtbot: QtBot, window: MainWindow, small_screen: FeatureMapsController
) -> None:
    palette = window.palette_list
    assert window.palette_dock.width() <= 1366 * 23 // 100
    first, second = (palette.visualItemRect(item) for item in palette.entry_items()[:2])
    assert first.top() == second.top()  # two entries to a row
    assert second.left() > first.left()


def test_a_number_cut_by_the_tables_edge_is_elided_not_cut(
    qtbot: QtBot, window: MainWindow, small_screen: FeatureMapsController
) -> None:
    window.apply_design(load_template("vgg16"), "VGG-16")
    table = window.table
    table.widen_columns()
    edge = table.edge_column()
    assert edge is not None  # 16 columns do not all fit beside the feature maps
    header = table.horizontalHeader()
    assert (
        header.sectionViewportPosition(edge) + header.sectionSize(edge) > table.viewport().width()
    )
    assert isinstance(table.itemDelegateForColumn(edge), EdgeDelegate)
    # The pointer over a cut cell shows its whole text (an ellipsis alone looked like a bug).
    index = window.table_model.index(2, edge)
    cell = table.visualRect(index)
    pos = QPoint(min(cell.left() + 2, table.viewport().width() - 1), cell.center().y())
    help_event = QHelpEvent(QEvent.Type.ToolTip, pos, table.viewport().mapToGlobal(pos))
    QApplication.sendEvent(table.viewport(), help_event)
    whole = str(index.data())
    qtbot.waitUntil(lambda: QToolTip.isVisible() and QToolTip.text().startswith(whole))
    QToolTip.hideText()
    table.horizontalScrollBar().setValue(table.horizontalScrollBar().maximum())
    assert table.edge_column() is None  # scrolled to the end: every column whole
    assert table.itemDelegateForColumn(edge) is None


def test_feature_map_side_column_keeps_room_for_its_labels(
    qtbot: QtBot, window: MainWindow, viewer: FeatureMapsController
) -> None:
    panel = viewer.panel
    panel._body.setSizes([10, 2000])  # what a restored layout with a narrow dock could give
    assert panel._body.sizes()[0] >= LEFT_MIN_WIDTH
    assert not panel.histogram.getAxis("bottom").autoSIPrefix


def test_each_derivation_links_to_its_formula(qtbot: QtBot, window: MainWindow) -> None:
    window.select_layer(2)
    html_text = explained(qtbot, window).toHtml()
    sections = sorted(set(FORMULA_SECTIONS.values()))
    for section in sections:
        assert f"formula:{section}" in html_text, section
    formulas = page_path("formulas").read_text(encoding="utf-8").splitlines()
    for section in sections:  # every link names a real heading of the page
        assert any(line.lstrip("#").strip() == section for line in formulas if line.startswith("#"))
    window.explain.anchorClicked.emit(QUrl("formula:MACs and FLOPs"))
    viewer = window.findChild(HelpViewer)
    assert viewer is not None
    assert viewer.isVisible()
    assert viewer.current_section == "MACs and FLOPs"
    qtbot.waitUntil(lambda: viewer.browser.verticalScrollBar().value() > 0, timeout=2000)
    viewer.close()


@pytest.mark.parametrize("template", [t.id for t in list_templates()])
def test_a_long_design_description_wraps_inside_properties_at_1366x768(
    qtbot: QtBot, window: MainWindow, small_screen: FeatureMapsController, template: str
) -> None:
    """Descriptions name things like ``torchvision.models.mobilenet_v2``: one long word that
    must wrap, not widen the form past the panel's right edge (its scroll bar is off)."""
    window.apply_design(load_template(template), template)
    qtbot.waitUntil(lambda: not window.updating, timeout=5000)  # DenseNet-121: on the worker
    window.select_node(None)
    panel = window.properties
    page = panel.widget()
    assert page is not None
    qtbot.waitUntil(lambda: page.isVisible())
    qtbot.wait(20)
    assert page.minimumSizeHint().width() <= panel.viewport().width(), template
    assert page.width() <= panel.viewport().width(), template
    about = editor(window, "description")
    right = about.mapTo(page, QPoint(about.width(), 0)).x()
    assert right <= panel.viewport().width(), template
    assert about.text().replace(ZERO_WIDTH_SPACE, "") == window.design.description
    # No line cut off, once the form has laid out the new text.
    qtbot.waitUntil(lambda: about.height() >= about.heightForWidth(about.width()), timeout=3000)


def _key_columns_in_view(window: MainWindow) -> bool:
    table = window.table
    header = table.horizontalHeader()
    titles = [c.title for c in window.table_model.columns]
    return all(
        header.sectionViewportPosition(titles.index(title)) >= 0
        and header.sectionViewportPosition(titles.index(title))
        + header.sectionSize(titles.index(title))
        <= table.viewport().width()
        for title in KEY_COLUMNS
    )


def test_a_layout_saved_on_a_large_screen_leaves_the_key_columns_in_view_at_1366x768(
    qtbot: QtBot, window: MainWindow
) -> None:
    """Wide side docks saved on a 1920×1080 screen, restored in a 1366×768 window."""
    window.resize(1920, 1080)
    window.reset_layout()
    qtbot.wait(50)
    horizontal = Qt.Orientation.Horizontal
    window.resizeDocks([window.palette_dock, window.explain_dock], [520, 760], horizontal)
    qtbot.wait(20)
    state = window.saveState(STATE_VERSION)
    window.resize(1366, 768)
    assert window.restoreState(state, STATE_VERSION)
    qtbot.wait(50)
    assert not _key_columns_in_view(window)  # what the restored sizes alone give
    window.clamp_side_docks()
    qtbot.wait(50)
    assert _key_columns_in_view(window)
    assert window.explain_dock.width() >= 520  # the side docks keep at least their defaults
    assert window.palette_dock.width() >= 300


def test_the_enlarged_channel_has_room_at_1366x768(
    qtbot: QtBot, window: MainWindow, small_screen: FeatureMapsController
) -> None:
    """A click on a value of the enlarged channel explains it (question 6) and a pooling layer
    shows its input and output channel there (question 4): it must not be squeezed to nothing
    by its title and the histogram in the short feature-map dock of a laptop screen."""
    small_screen.start()
    panel = small_screen.panel
    qtbot.waitUntil(lambda: panel.render_count >= 1 and not panel.busy, timeout=30000)
    qtbot.wait(50)
    assert panel.detail_view.sceneBoundingRect().height() >= 60
    panel.select_position(0, 3, 10)  # a click on a channel keeps it so
    assert not panel.histogram.isVisible()
    assert not panel.histogram.getAxis("bottom").isVisible()
    assert panel.detail_view.sceneBoundingRect().height() >= 60
    window.resize(1920, 1080)  # where there is room, the histogram is back
    window.reset_layout()
    qtbot.waitUntil(lambda: panel.histogram.sceneBoundingRect().height() >= 56, timeout=5000)
    assert panel.detail_view.sceneBoundingRect().height() >= 50


@pytest.mark.parametrize("template", [t.id for t in list_templates()])
def test_key_columns_in_view_for_every_template_at_1366x768(
    qtbot: QtBot, window: MainWindow, small_screen: FeatureMapsController, template: str
) -> None:
    """A graph design adds an id column, and torchvision's ids and names are long: the name
    columns give way (elided, whole in the tooltip) so the answers stay in view."""
    window.apply_design(load_template(template), template)
    qtbot.waitUntil(lambda: not window.updating, timeout=5000)  # DenseNet-121: on the worker
    window.table.widen_columns()
    qtbot.waitUntil(lambda: not window.table.measuring, timeout=5000)  # a slice of rows per pass
    qtbot.wait(5)
    assert _key_columns_in_view(window), template
    _numbers_fit(window)


def test_the_cost_chart_shows_every_bar_at_1366x768(
    qtbot: QtBot, window: MainWindow, small_screen: FeatureMapsController
) -> None:
    """The chart's title is long ("… · selected: 156.00 M (95.2 %)"); it must not widen the
    plots past the Costs tab's edge, where the selected (largest) bar was cut off."""
    window.select_layer(2)
    views = window.learner
    views.chart_dock.raise_()
    qtbot.waitUntil(lambda: views.chart is not None and views.chart.isVisible())
    chart = views.chart
    assert chart is not None
    qtbot.wait(50)
    for plot in (chart.macs_plot, chart.params_plot):
        assert plot.sceneBoundingRect().right() <= chart.plots.viewport().width(), plot


def test_a_layout_saved_in_a_larger_window_gives_the_table_its_rows_at_1366x768(
    qtbot: QtBot, window: MainWindow
) -> None:
    """Saved at 1920×1080 (a 1728×972 window), restored on a 1366×768 screen: the pixel sizes
    of the saved docks left the table 86 px, a row and a half."""
    first_viewer = install_feature_maps(window, lazy=True)
    window.resize(1728, 972)
    window.reset_layout()
    qtbot.wait(50)
    window.close()  # saves the layout and the window's size
    first_viewer.shutdown()
    second = MainWindow()
    viewer: FeatureMapsController | None = None
    try:
        second.resize(1366, 768)
        second.show()
        qtbot.wait(20)
        viewer = install_feature_maps(second, lazy=True)  # after the first paint, as in main()
        qtbot.wait(300)
        qtbot.waitUntil(lambda: second.table_dock.height() >= 180, timeout=3000)
        assert _key_columns_in_view(second)
        assert second.pipeline.height() >= 180  # and the pipeline keeps its four cards
    finally:
        if viewer is not None:
            viewer.shutdown()
        second.undo_stack.setClean()
        second.close()
        second.deleteLater()


def test_a_new_design_of_hundreds_of_rows_has_its_other_rows_measured_a_moment_later(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening DenseNet-121 measured the new texts of all its 429 rows in the frame that
    showed it (15-26 ms of a 60 ms stall). The rows in view are measured at once, the others a
    moment later: then every number fits."""
    model = window.table_model
    measured: set[int] = set()
    original = model.display_texts

    def display_texts(row: int) -> tuple[str, ...]:
        measured.add(row)
        return original(row)

    monkeypatch.setattr(model, "display_texts", display_texts)
    shown: list[int] = []  # rows measured when the table shows it (analysed on the worker)
    window.analysis_feed.ready.connect(lambda _design: shown.append(len(measured)))
    window.apply_design(load_template("densenet121"), "DenseNet-121")
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    rows = model.rowCount()
    assert shown[0] < rows // 4  # in the frame that shows the design: the rows in view
    assert table_view.MEASURE_AT_ONCE_ROWS < rows <= table_view.MEASURE_ALL_ROWS
    qtbot.waitUntil(lambda: len(measured) == rows, timeout=5000)  # then all of them
    _numbers_fit(window)


def test_an_edit_of_every_row_widens_the_columns_a_slice_of_rows_at_a_time(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit of DenseNet-121's first conv changes all 429 rows; measuring their new texts
    in one pass took 8-14 ms of one frame. They are measured a slice at a time, and then every
    number fits."""
    window.apply_design(load_template("densenet121"), "DenseNet-121")
    qtbot.waitUntil(
        lambda: not (window.updating or window.table.measuring or window.following), timeout=5000
    )
    model = window.table_model
    first_conv = window.design.nodes[0].id
    window.document.change(first_conv, filters=65)
    measured: set[int] = set()
    original = model.display_texts

    def display_texts(row: int) -> tuple[str, ...]:
        measured.add(row)
        return original(row)

    monkeypatch.setattr(model, "display_texts", display_texts)
    window.table.widen_columns()
    assert 0 < len(measured) <= table_view.MEASURE_AT_ONCE_ROWS
    assert window.table.measuring
    qtbot.waitUntil(lambda: not window.table.measuring, timeout=5000)
    assert len(measured) == model.rowCount()
    _numbers_fit(window)


def test_an_edit_of_a_design_of_hundreds_of_nodes_reaches_the_pipeline_a_frame_later(
    qtbot: QtBot, window: MainWindow
) -> None:
    """An edit of DenseNet-121 repainted a screenful of rows and one of cards in one frame
    (15 ms, 25-35 ms on a busy machine). The table shows it in the edit's frame, the pipeline
    a frame later, where the user had scrolled it."""
    window.document.load(load_template("densenet121"), None)
    qtbot.waitUntil(lambda: not window.following, timeout=2000)
    first_conv = window.design.nodes[0].id
    window.document.select(first_conv)
    qtbot.waitUntil(lambda: not window.following, timeout=2000)
    bar = window.pipeline.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)  # the user scrolls the pipeline away from the selection
    scrolled = bar.value()
    shown = window.pipeline_model.analysis
    window.document.change(first_conv, filters=65)
    assert window.table_model.analysis is window.analysis
    assert "112×112×65" in window.table_model.display_texts(1)
    assert window.pipeline_model.analysis is shown  # for a frame
    assert window.following
    qtbot.waitUntil(lambda: not window.following, timeout=2000)
    assert window.pipeline_model.analysis is window.analysis
    assert window.pipeline_model.card(1).shape.endswith("112×112×65")
    assert bar.value() == scrolled
    window.undo_stack.undo()  # undo selects what it changed, and both views show it
    qtbot.waitUntil(lambda: not window.following, timeout=2000)
    assert window.pipeline.currentIndex().row() == window.table.currentIndex().row() == 1


def test_an_edit_of_a_small_design_of_wide_merges_reaches_the_pipeline_a_frame_later(
    qtbot: QtBot, window: MainWindow
) -> None:
    """A 40-layer dense block (analysis cost 51) repainted its table and its cards with 190
    skip edges in one frame, 21-27 ms: its merges read enough inputs to go the same way."""
    block = dense_block(21)  # 40 nodes, its concats reading 209 inputs
    assert analysis_cost(block) < main_window.PIPELINE_LATER_COST
    window.document.load(block, None)
    qtbot.waitUntil(lambda: not window.following and not window.updating, timeout=2000)
    shown = window.pipeline_model.analysis
    window.document.change("c0", filters=5)
    assert window.table_model.analysis is window.analysis
    assert window.pipeline_model.analysis is shown  # for a frame
    qtbot.waitUntil(lambda: not window.following, timeout=2000)
    assert window.pipeline_model.analysis is window.analysis
    window.document.load(_chain_of(40), None)  # a chain of as many nodes: both at once
    assert window.pipeline_model.analysis is window.analysis
    assert not window.following


def test_an_opened_design_of_hundreds_of_nodes_fills_the_pipeline_a_frame_after_the_table(
    qtbot: QtBot, window: MainWindow
) -> None:
    """Opening DenseNet-121 analysed it and drew the table and the pipeline, each for the first
    time, in one frame. It is analysed on the worker; when it arrives the table shows it, the
    pipeline a frame later; a click on its stale cards meanwhile selects nothing, and then both
    views show the selection."""
    old_rows = window.pipeline_model.rowCount()
    selection = window.document.selection
    design = load_template("densenet121")
    at_arrival: list[tuple[int, int, bool]] = []
    window.analysis_feed.ready.connect(  # after the window's own slot
        lambda _design: at_arrival.append(
            (
                window.table_model.rowCount(),
                window.pipeline_model.rowCount(),
                window.following,
            )
        )
    )
    window.document.load(design, None)
    assert window.updating  # analysed on the worker: the previous design's rows, marked
    assert window.table_model.rowCount() != len(design) + 2
    qtbot.waitUntil(lambda: bool(at_arrival), timeout=5000)
    # The input, the nodes and the totals in the table; the previous design's cards for a frame.
    assert at_arrival == [(len(design) + 2, old_rows, True)]
    if window.following:
        stale = 2 if window.pipeline.currentIndex().row() != 2 else 1
        window.pipeline.setCurrentIndex(window.pipeline_model.index(stale, 0))
        assert window.document.selection == selection  # the stale card selected nothing
    qtbot.waitUntil(lambda: not window.following and not window.updating, timeout=2000)
    assert window.pipeline_model.rowCount() == len(design) + 1
    assert window.pipeline.currentIndex().row() == window.table.currentIndex().row()
    assert window.table_model.analysis.design is window.design


def _chain_of(layers: int) -> Design:
    return Design(
        InputSpec(8, 8, 3),
        layers=[Conv2D(4, 3, padding=1) if i % 2 else ReLU() for i in range(layers)],
    )
