"""Designs with branches in the window: cards with ids and what merges read, skip edges, the
table's graph columns, the properties' inputs, edits by id and the viewer on any node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from convdesigner.core.analysis import Analysis, analyse
from convdesigner.core.design import INPUT_ID, Design, InputSpec, Node
from convdesigner.core.engine.forward import run_design
from convdesigner.core.fileformat import load_design, save_design
from convdesigner.core.images import load_image
from convdesigner.core.layers import Concat, Conv2D
from convdesigner.ui import cards
from convdesigner.ui.analysis_feed import prepare
from convdesigner.ui.cards import GUTTER_PAD, LANE_WIDTH, MAX_LANES, make_card
from convdesigner.ui.main_window import MainWindow
from convdesigner.ui.pipeline_view import PipelineModel
from convdesigner.ui.table_model import GRAPH_COLUMNS
from convdesigner.ui.viewer_dock import install_feature_maps, sample_path
from tests.graph_designs import dense_block, small_resnet
from tests.ui.ui_helpers import drag_and_drop, explained


@pytest.fixture
def resnet_file(tmp_path: Path) -> Path:
    path = tmp_path / "resnet.json"
    save_design(small_resnet(), path)
    return path


@pytest.fixture
def graph_window(window: MainWindow, resnet_file: Path) -> MainWindow:
    assert window.open_design(str(resnet_file))
    return window


def test_opening_a_graph_shows_every_node_as_a_card_with_what_it_reads(
    graph_window: MainWindow, resnet_file: Path
) -> None:
    window = graph_window
    design = window.design
    assert design == load_design(resnet_file)
    assert not design.is_sequential
    model = window.pipeline_model
    assert model.rowCount() == len(design) + 1
    for row, node_id in enumerate(design.ids, start=1):
        assert model.index(row, 0).data() == f"{node_id} {design.node(node_id).label}"
    analysis = window.analysis
    add = make_card(analysis.row("add"), analysis)
    assert add.title == "add  Add"
    assert add.detail == "← bn2, stem_relu"
    assert add.family == "merge"
    assert add.icon_key == "add"
    conv = make_card(analysis.row("conv1"), analysis)
    assert conv.detail == "16 filters · 3×3 · pad 1 · no bias"  # reads the card above: no arrow
    # One skip edge: from stem_relu (row 3) into add (row 9), in the first lane.
    assert model.edges == [(3, 9, 0)]
    assert model.gutter > 0


def test_the_skip_edge_is_drawn_beside_the_cards(graph_window: MainWindow, qtbot: QtBot) -> None:
    view = graph_window.pipeline
    model = graph_window.pipeline_model
    view.scrollTo(model.index(6, 0))
    qtbot.wait(20)
    top = view.visualRect(model.index(3, 0)).center().y()
    bottom = view.visualRect(model.index(9, 0)).center().y()
    image = view.viewport().grab().toImage()
    ratio = image.devicePixelRatio()
    x = model.gutter - GUTTER_PAD // 2
    background = view.viewport().palette().color(view.viewport().backgroundRole())
    ys = range(max(top + 10, 2), min(bottom - 10, view.viewport().height() - 2), 7)
    assert len(ys) > 3
    for y in ys:
        pixel = QColor(image.pixel(round(x * ratio), round(y * ratio)))
        assert pixel != background, y
    # A chain has no margin at all.
    graph_window.document.load(Design(), None)
    assert graph_window.pipeline_model.gutter == 0


def test_edges_drawn_from_their_cache_match_freshly_drawn_ones(
    graph_window: MainWindow, qtbot: QtBot
) -> None:
    view = graph_window.pipeline
    model = graph_window.pipeline_model
    view.scrollTo(model.index(6, 0))
    qtbot.wait(20)

    def grab(fresh: bool = False) -> QImage:
        if fresh:
            view._edge_pixmap = None
        view.viewport().repaint()
        return view.viewport().grab().toImage()

    graph_window.select_node("conv1")  # an edit selects the node it changes
    grab()
    assert view._edge_pixmap is not None
    lines = view._edge_pixmap[1]
    # A settings edit keeps the wiring, so the lines are drawn from the same pixmap...
    conv = graph_window.design.node("conv1").op
    assert isinstance(conv, Conv2D)
    graph_window.document.change("conv1", filters=conv.filters + 1)
    edited = grab()
    assert view._edge_pixmap[1] is lines
    assert edited == grab(fresh=True)
    # ...while selecting a card they touch highlights them: drawn again, as a fresh view would.
    graph_window.select_node("add")
    selected = grab()
    assert view._edge_pixmap[1] is not lines
    assert selected != edited
    assert selected == grab(fresh=True)


def test_the_table_shows_ids_inputs_and_outputs(graph_window: MainWindow) -> None:
    model = graph_window.table_model
    assert model.columns == GRAPH_COLUMNS
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert titles[:5] == ["#", "Id", "Name", "Type", "Output H×W×C"]
    assert titles[9:11] == ["Inputs", "Design output"]
    design = graph_window.design

    def cells(node: str) -> dict[str, str]:
        row = design.index_of(node) + 1
        return {t: model.index(row, c).data() for c, t in enumerate(titles)}

    assert cells("add")["Id"] == "add"
    assert cells("add")["Inputs"] == "bn2, stem_relu"
    assert cells("conv1")["Inputs"] == ""  # it simply reads the node above
    assert [n for n in design.ids if cells(n)["Design output"] == "yes"] == ["fc"]
    assert cells("add")["Padding"] == ""
    assert cells("stem")["Padding"] == "1"
    # Back to a sequential design: the first version's columns again.
    graph_window.document.load(Design(), None)
    assert model.columnCount() == len(titles) - 3


def test_selection_and_edits_follow_node_ids(graph_window: MainWindow, qtbot: QtBot) -> None:
    window = graph_window
    selections: list[object] = []
    window.selectedNodeChanged.connect(selections.append)
    window.select_node("add")
    assert window.table.currentIndex().row() == window.design.index_of("add") + 1
    inputs = window.properties.editors["inputs"]
    assert inputs.text() == "bn2 (32×32×16), stem_relu (32×32×16)"  # type: ignore[attr-defined]
    assert explained(qtbot, window).toPlainText().startswith("add: Add")
    window.insert_entry("relu", 0)  # above everything: positions shift, ids stay
    assert window.selected_node() == "relu_1"
    window.select_node("conv2")
    window.properties.editors["filters"].setValue(8)  # type: ignore[attr-defined]
    assert window.design.node("conv2").op.filters == 8  # type: ignore[attr-defined]
    assert window.selected_node() == "conv2"
    assert window.history.model().index(2, 0).data() == "Change filters of Conv2D"
    assert selections == ["add", "relu_1", "conv2"]
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert window.design == small_resnet()


def test_a_move_the_graph_forbids_is_explained_and_changes_nothing(
    graph_window: MainWindow,
) -> None:
    window = graph_window
    before = window.design
    view = window.pipeline
    count = window.undo_stack.count()
    rect = view.layer_rect(0)
    drag_and_drop(
        view.viewport(),
        view.move_mime("add"),
        QPoint(rect.center().x(), rect.top() + 3),
        Qt.DropAction.MoveAction,
    )
    assert window.design == before
    assert window.undo_stack.count() == count
    assert "cannot move 'add'" in window.statusBar().currentMessage()


def test_the_viewer_shows_a_merge_nodes_maps(graph_window: MainWindow, qtbot: QtBot) -> None:
    window = graph_window
    controller = install_feature_maps(window, lazy=False)
    try:
        panel = controller.panel
        window.select_node("add")

        def shows_add() -> bool:
            result = panel.result
            return result is not None and result.request.options.node == "add" and not panel.busy

        qtbot.waitUntil(shows_add, timeout=30000)
        spec = window.design.input
        image = load_image(sample_path("chelsea.png"), spec.channels, (spec.height, spec.width))
        expected = run_design(window.design, image)[window.design.index_of("add") + 1]
        result = panel.result
        assert result is not None
        np.testing.assert_array_equal(result.layer_array, expected)
        assert panel.mosaic_title.text.startswith("add: Add")
    finally:
        controller.shutdown()


def test_a_wide_merge_lists_its_first_inputs_in_the_table() -> None:
    from convdesigner.core.analysis import analyse
    from convdesigner.core.design import InputSpec, Node
    from convdesigner.core.layers import Concat, ReLU
    from convdesigner.ui.table_model import LayerTableModel

    branches = [Node(f"b{i}", ReLU(), ("input",)) for i in range(5)]
    design = Design(
        InputSpec(4, 4, 2),
        nodes=(*branches, Node("cat", Concat(), tuple(n.id for n in branches))),
    )
    model = LayerTableModel(analyse(design))
    inputs = [c.title for c in model.columns].index("Inputs")
    assert model.index(6, inputs).data() == "b0, b1, b2, … (5 in all)"
    assert model.index(1, inputs).data() == ""  # b0 reads the input, right above it


def test_the_analysis_worker_places_the_skip_edges_the_pipeline_draws(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Placing a new 10,000-node graph's edges took 10-12 ms of the UI thread as its analysis
    arrived; the worker's ``prepare`` places them, and the pipeline finds them placed."""
    placed: list[Design] = []
    place = cards._place_edges

    def counted(analysis: Analysis) -> cards.Edges | None:
        placed.append(analysis.design)
        return place(analysis)

    monkeypatch.setattr(cards, "_place_edges", counted)
    design = small_resnet()
    model = PipelineModel(analyse(Design(design.input, layers=[Conv2D(4, 3)])))
    analysis = prepare(design, None)  # what the worker runs
    assert placed[-1] is design
    edges = cards.skip_edges(analysis)
    model.set_analysis(analysis)
    assert model.edges is edges
    assert edges == [(3, 9, 0)]
    assert [d for d in placed if d is design] == [design]  # placed once, on the worker
    edited = design.replace_layer(design.index_of("conv1"), Conv2D(8, 3, padding=1))
    prepare(edited, analysis)  # a settings edit: same wiring, nothing placed
    assert placed[-1] is design


def test_a_dense_block_too_wide_to_draw_shows_the_selected_cards_edges(
    window: MainWindow, qtbot: QtBot
) -> None:
    """A 200-conv dense block has about 20,000 skip edges: listed and placed they took seconds, and
    every repaint walked them all. The pipeline stops listing at MAX_EDGES and draws the
    selected card's edges instead, each in a lane of its own up to the margin's eight."""
    design = dense_block(200)
    analysis = analyse(design)
    assert cards.skip_edges(analysis) is None
    window.document.load(design, None)
    # an opened design of this size fills the pipeline a frame after the table
    qtbot.waitUntil(lambda: not window.updating and not window.following, timeout=10_000)
    model = window.pipeline_model
    assert model.edges is None
    assert model.gutter == GUTTER_PAD + LANE_WIDTH * MAX_LANES
    cat5 = design.index_of("cat5") + 1  # reads c0..c4; c4 is the card right above it
    assert cat5 == 9
    into = cards.selected_edges(window.analysis, cat5)
    assert [(start, end) for start, end, _lane in into] == [(6, 9), (4, 9), (2, 9), (1, 9)]
    assert [lane for *_, lane in into] == [0, 1, 2, 3]  # the shortest nearest the cards
    # c4's output is read by every later concat: 194 edges out (cat5 is right below),
    # beyond eight lanes they share the last.
    c4 = design.index_of("c4") + 1
    out = cards.selected_edges(window.analysis, c4)
    assert len(out) == 194
    assert all(start == c4 for start, _end, _lane in out)
    assert {lane for *_, lane in out} == set(range(MAX_LANES))
    window.document.select("c4")
    window.pipeline.viewport().repaint()
    drawn = window.pipeline._edge_pixmap
    assert drawn is not None
    assert drawn[0][0] == out  # the margin was drawn from the selected card's edges


def test_a_wide_merge_names_its_first_inputs_and_counts_the_rest(
    window: MainWindow, qtbot: QtBot
) -> None:
    """A dense block's concat reads up to 2,000 inputs: its card, its Properties list and its
    channel sum were each laid out whole on every click (a 25 KB label, a 30 KB derivation,
    12 KB per card to elide), 100+ ms per click."""
    convs = [Node(f"c{i}", Conv2D(2 + i % 3, 1), (INPUT_ID,)) for i in range(150)]
    cat = Node("cat", Concat(), tuple(n.id for n in convs))
    design = Design(InputSpec(8, 8, 3), nodes=[*convs, cat])
    window.document.load(design, None)
    analysis = window.analysis
    row = analysis.row("cat")
    card = make_card(row, analysis)
    assert card.detail == "← c0, c1, c2, c3, c4, c5, c6, c7, … (150 in all)"  # a merge: no settings
    channels = sum(2 + i % 3 for i in range(150))
    assert row.output_shape == (channels, 8, 8)
    text = row.derivations["output_channels"]
    assert text.startswith("C_out = 2 ('c0') + 3 ('c1') + 4 ('c2') + 2 ('c3') + 3 ('c4') + … + ")
    assert f"3 ('c148') + 4 ('c149') (150 inputs) = {channels}:" in text
    assert len(text) < 300
    window.document.select("cat")
    qtbot.waitUntil(lambda: window.properties._node == "cat", timeout=2000)
    listed = window.properties.editors["inputs"]
    assert isinstance(listed, QLabel)
    shown = listed.text().replace("\u200b", "")
    assert shown.startswith("c0 (8×8×2), c1 (8×8×3), ")
    assert "c99 (8×8×2), … (150 in all)" in shown
    assert "c100" not in shown
    # The explain panel: 44 KB of inputs and 25 KB of receptive fields for a 2,000-input
    # concat took it 15-20 ms to lay out on each click.
    field = row.derivations["receptive_field"]
    assert "('c0' 1×1, 'c1' 1×1, 'c2' 1×1, 'c3' 1×1, 'c4' 1×1, …, 'c148' 1×1, " in field
    assert "'c149' 1×1, 150 inputs), so it is that of 'c0'" in field
    panel = explained(qtbot, window).toPlainText()
    assert "c10 (8×8×3), c11 (8×8×4), … (150 in all) → " in panel
    assert "c12 (" not in panel
    assert len(panel) < 2000
    three = Node("cat", Concat(), ("c0", "c1", "c2"))
    small = Design(InputSpec(8, 8, 3), nodes=[*convs[:3], three])
    few = analyse(small).row("cat").derivations["output_channels"]
    assert few.startswith("C_out = 2 ('c0') + 3 ('c1') + 4 ('c2') = 9")  # written out
