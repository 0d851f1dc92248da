"""Designs of thousands of nodes keep the window responsive (issue 12 item 8: a 10,000-layer
design stalled the event loop 0.4-0.6 s per edit; budget 30 ms).

Their analysis runs on a worker thread; the views keep the older table (marked as updating) and
follow when the result for the current design arrives. Here the threshold is lowered and the
analysis slowed down, so the tests are quick and their timing certain.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from convdesigner.core import fileformat
from convdesigner.core.analysis import Analysis, analysis_cost
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.fileformat import save_design
from convdesigner.core.layers import Conv2D, ReLU
from convdesigner.core.templates import load_template
from convdesigner.ui import analysis_feed, files, table_view
from convdesigner.ui.main_window import MainWindow
from tests.graph_designs import dense_block
from tests.ui.ui_helpers import explained

SLOW = 0.3
"""Seconds each background analysis is held back."""


def _chain(n: int) -> Design:
    layers = [
        Conv2D(filters=4, kernel=3, padding="same") if i % 2 == 0 else ReLU() for i in range(n)
    ]
    return Design(InputSpec(16, 16, 3), layers=layers)


@pytest.fixture
def deep(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    """The window with a 200-node design analysed in the background, each analysis taking at
    least SLOW seconds (the worker sleeps, as a long analysis would keep it busy)."""
    real = analysis_feed.prepare

    def slow(design: Design, previous: Analysis | None) -> Analysis:
        time.sleep(SLOW)
        return real(design, previous)

    monkeypatch.setattr(analysis_feed, "prepare", slow)
    window.analysis_feed.threshold = 100
    window.document.load(_chain(200), None)
    return window


def _marked(window: MainWindow) -> bool:
    """The table shows it is an earlier design's (a label over its corner)."""
    label = window.table.findChild(QLabel, "tableUpdating")
    assert label is not None
    return window.table.updating and label.isVisible()


def _settle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.updating, timeout=5000)


def test_opening_and_editing_a_deep_design_leave_the_event_loop_running(
    deep: MainWindow, qtbot: QtBot
) -> None:
    window = deep
    assert window.updating  # opened: the analysis is on its way
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(5)
    _settle(qtbot, window)
    assert len(ticks) >= 10  # the loop ran while the worker analysed
    assert window.table_model.analysis.design is window.design
    first = window.design.nodes[0].id
    window.select_node(first)
    before = window.table_model.display_texts(1)
    start = time.perf_counter()
    window.document.change(first, filters=9)
    assert time.perf_counter() - start < SLOW  # the edit returned without the analysis
    assert window.updating
    assert _marked(window)
    assert window.table_model.display_texts(1) == before  # the older table, meanwhile
    ticks.clear()
    _settle(qtbot, window)
    timer.stop()
    assert len(ticks) >= 10
    assert not _marked(window)
    assert window.table_model.display_texts(1) != before
    assert window.analysis.row(first).output_shape == (9, 16, 16)
    shape = window.analysis.row(first).shape_text
    assert shape in explained(qtbot, window).toPlainText()


def test_stale_results_are_dropped_and_listeners_told_once(deep: MainWindow, qtbot: QtBot) -> None:
    window = deep
    _settle(qtbot, window)
    shown: list[Design] = []
    changed: list[object] = []
    window.designChanged.connect(changed.append)
    set_analysis = window.table_model.set_analysis

    def spy(analysis: Analysis) -> None:
        shown.append(analysis.design)
        set_analysis(analysis)

    window.table_model.set_analysis = spy  # type: ignore[method-assign]
    node = window.design.nodes[0].id
    for filters in (5, 6, 7):  # faster than the analysis: each request replaces the last
        window.document.change(node, filters=filters)
        qtbot.wait(20)
    final = window.design
    _settle(qtbot, window)
    qtbot.wait(int(SLOW * 1000) + 100)  # any late result would arrive by now
    assert shown == [final]
    assert changed == [final]
    assert window.table_model.analysis.design is final


def test_a_selection_made_while_updating_is_shown_with_the_result(
    deep: MainWindow, qtbot: QtBot
) -> None:
    window = deep
    _settle(qtbot, window)
    selections: list[object] = []
    window.selectedNodeChanged.connect(selections.append)
    window.document.insert_entry("relu", 3)  # one more row: the views' rows are off by one
    new = window.document.selection
    assert window.updating
    assert window.table_model.rowCount() == 202  # input, 200 nodes, totals: still the older
    target = window.design.nodes[150].id
    window.select_node(target)
    assert selections == []  # told with the analysis, not before
    _settle(qtbot, window)
    assert selections == [target]
    assert new != target
    assert window.table.currentIndex().row() == 151
    assert window.properties.design is window.design


def test_a_small_design_is_still_refreshed_within_the_edit(window: MainWindow) -> None:
    node = window.design.nodes[0].id
    window.document.change(node, filters=window.design.nodes[0].op.filters + 1)  # type: ignore[attr-defined]
    assert not window.updating
    assert window.table_model.analysis.design is window.design


def test_a_long_table_measures_the_rows_in_view_only(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Formatting every row of a 10,000-node design to size the columns took hundreds of
    milliseconds after each edit."""
    monkeypatch.setattr(table_view, "MEASURE_ALL_ROWS", 100)
    window.document.load(_chain(600), None)
    model = window.table_model
    measured: list[int] = []
    texts = model.display_texts

    def spy(row: int) -> tuple[str, ...]:
        measured.append(row)
        return texts(row)

    monkeypatch.setattr(model, "display_texts", spy)
    window.document.change(window.design.nodes[0].id, filters=50)  # every share changes
    window.table.widen_columns()
    in_view = window.table.viewport().height() // window.table.rowHeight(0) + 2
    assert 0 < len(set(measured)) <= in_view + 1  # and the totals row
    assert max(measured) == model.rowCount() - 1


def test_a_large_design_file_is_read_without_blocking(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsing and checking a 10,000-layer file took 275-410 ms of the UI thread."""
    path = tmp_path / "deep.json"
    save_design(_chain(200), str(path))
    monkeypatch.setattr(files, "BACKGROUND_BYTES", 1000)
    real = fileformat.load_design

    def slow(source: str) -> Design:
        time.sleep(SLOW)
        return real(source)

    monkeypatch.setattr(files, "load_design", slow)
    start = time.perf_counter()
    assert window.open_design(str(path))
    assert time.perf_counter() - start < SLOW
    assert window.files.reading
    assert len(window.design) != 200  # the example, until the file is read
    qtbot.waitUntil(lambda: not window.files.reading, timeout=5000)
    assert len(window.design) == 200
    assert window.path == str(path)
    assert window.document.is_clean


def test_a_large_file_that_cannot_be_read_warns_later(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{" + " " * 2000)
    monkeypatch.setattr(files, "BACKGROUND_BYTES", 1000)
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warnings.append(args[2]))
    before = window.design
    assert window.open_design(str(path))
    qtbot.waitUntil(lambda: bool(warnings), timeout=5000)
    assert "broken.json could not be opened" in warnings[0]
    assert window.design is before


def test_an_arrived_analysis_is_not_walked_by_the_next_young_collection(
    deep: MainWindow, qtbot: QtBot
) -> None:
    """An analysis of a 10,000-node graph makes 300,000 objects while the previous one's are
    freed, so the young generation's count stayed small and the next collection on the UI
    thread walked them all (20-37 ms). They are frozen when they arrive."""
    window = deep
    _settle(qtbot, window)
    gc.unfreeze()
    try:
        window.document.change(window.design.nodes[0].id, filters=7)
        _settle(qtbot, window)
        young = {id(o) for o in gc.get_objects(0)}
        rows = window.analysis.rows
        assert gc.get_freeze_count() > len(rows)
        assert not any(id(row) in young for row in rows)
    finally:
        gc.unfreeze()


def test_a_dense_block_under_the_cost_threshold_is_analysed_in_the_background(
    window: MainWindow, qtbot: QtBot
) -> None:
    """A 200-layer dense block costs 450 to analyse, under the threshold, but its 5,150
    inputs made every edit redraw thousands of skip edges in the edit's own frame: 31-36 ms.
    Designs reading BACKGROUND_INPUTS inputs go to the worker; DenseNet-121 (593) does not."""
    feed = window.analysis_feed
    dense = dense_block(60)  # 118 nodes reading 1,829 inputs
    assert analysis_cost(dense) < feed.threshold
    window.document.load(dense, None)
    assert window.updating  # the table waits for the worker
    assert sum(len(n.inputs or ()) for n in dense.nodes) >= analysis_feed.BACKGROUND_INPUTS
    qtbot.waitUntil(lambda: not window.updating, timeout=20_000)
    assert window.analysis.design is dense
    window.document.load(load_template("densenet121"), None)  # opened: on the worker too
    qtbot.waitUntil(lambda: not window.updating, timeout=20_000)
    window.document.change(window.design.nodes[0].id, filters=65)
    assert not window.updating  # an edit of it analysed at once


def test_an_opened_design_of_hundreds_of_nodes_is_analysed_in_the_background(
    window: MainWindow, qtbot: QtBot
) -> None:
    """Opening DenseNet-121 (cost 456) analysed it in the frame that first drew its table: 6-10
    ms of an 18 ms frame, 28-30 ms in one open of eight. A file of cost BACKGROUND_OPEN_COST or
    more is analysed on the worker; a smaller one, and any edit under the threshold, at once."""
    densenet = load_template("densenet121")
    cost = analysis_cost(densenet)
    assert analysis_feed.BACKGROUND_OPEN_COST <= cost < window.analysis_feed.threshold

    def updating() -> bool:
        return window.updating

    window.document.load(densenet, None)
    assert updating()
    qtbot.waitUntil(lambda: not updating(), timeout=20_000)
    assert window.table_model.analysis.design is densenet
    window.document.select(densenet.nodes[0].id)
    window.document.change(densenet.nodes[0].id, filters=65)
    assert not updating()
    assert "112×112×65" in window.table_model.display_texts(1)
    window.document.load(load_template("resnet50"), None)  # cost 176: at once
    assert not updating()


def test_a_design_of_few_nodes_but_wide_merges_is_analysed_in_the_background(
    window: MainWindow, qtbot: QtBot
) -> None:
    """A dense block of 700 convs has 1,400 nodes, under the threshold, but 245,000 inputs:
    analysed on the UI thread it froze the window 280-480 ms per edit."""
    feed = window.analysis_feed
    dense = dense_block(feed.threshold // 2 - 50)  # fewer nodes than the threshold
    assert len(dense) < feed.threshold
    window.document.load(dense, None)
    assert window.updating  # the table waits for the worker
    qtbot.waitUntil(lambda: not window.updating, timeout=20_000)
    assert window.analysis.design is dense
    window.document.load(_chain(len(dense)), None)  # as many nodes in a chain
    qtbot.waitUntil(lambda: not window.updating, timeout=20_000)  # opened: on the worker
    window.document.change(window.design.nodes[0].id, filters=5)
    assert not window.updating  # an edit: at once


def test_a_click_in_a_large_design_moves_one_view_now_and_the_rest_a_frame_apart(
    deep: MainWindow, qtbot: QtBot
) -> None:
    """On a dense block of 2,000 convs a click froze the window 37-49 ms: the views' current
    rows, the panels and the listeners (the viewer) in one go; both views repainting a scrolled
    viewport together still took 27-35 ms. One view moves now, the other a frame later, the
    panels a frame after, then the listeners, and only for the newest click."""
    window = deep
    _settle(qtbot, window)
    selections: list[object] = []
    window.selectedNodeChanged.connect(selections.append)
    ids = [node.id for node in window.design.nodes]
    first, second = ids[10], ids[41]
    window.document.select(first)  # from elsewhere (History, Properties): the pipeline first
    assert window.pipeline.currentIndex().row() == 11  # at once
    assert window.table.currentIndex().row() != 11  # not yet
    assert window.following
    qtbot.waitUntil(lambda: window.table.currentIndex().row() == 11, timeout=2000)
    assert window.properties._node != first  # not yet
    window.document.select(second)  # a second click before the first was followed
    assert window.pipeline.currentIndex().row() == 42
    qtbot.waitUntil(lambda: selections == [second], timeout=2000)
    assert window.table.currentIndex().row() == 42
    qtbot.waitUntil(lambda: not window.following, timeout=2000)
    assert window.properties._node == second
    qtbot.wait(100)
    assert selections == [second]  # the first click was never announced


def test_a_table_click_in_a_large_design_moves_the_pipeline_a_frame_later(
    deep: MainWindow, qtbot: QtBot
) -> None:
    """The view clicked repaints now: the other one waits a frame, whichever it is."""
    window = deep
    _settle(qtbot, window)
    node = window.design.nodes[20].id
    column = window.table.currentIndex().column() if window.table.currentIndex().isValid() else 1
    window.table.setCurrentIndex(window.table_model.index(21, column))
    assert window.document.selection == node
    assert window.pipeline.currentIndex().row() != 21  # not yet
    qtbot.waitUntil(lambda: window.pipeline.currentIndex().row() == 21, timeout=2000)
    qtbot.waitUntil(lambda: window.properties._node == node, timeout=2000)
    assert window.table.currentIndex().row() == 21


def test_a_right_click_while_the_analysis_is_on_the_worker_does_not_compute_it(
    deep: MainWindow, qtbot: QtBot
) -> None:
    """The menu's Make Separable/Normal are judged on the views' analysis meanwhile: reading the
    window's analysis would run the new one on the UI thread (0.15 s at 10,000 nodes)."""
    from tests.ui.test_layer_menu import entries, right_click

    window = deep
    window.show()
    qtbot.waitExposed(window)
    _settle(qtbot, window)
    window.document.change("0", filters=8)
    assert window.updating
    menu = right_click(window.pipeline, 3)  # a conv of the chain (0, 2, 4, … are convs)
    assert not window.document.analysis_ready  # still the worker's to compute
    assert entries(menu)["Make Separable"] is True
    assert window.selected_node() == "2"
    menu.close()
    _settle(qtbot, window)


def test_showing_the_costs_tab_while_the_analysis_is_on_the_worker_does_not_compute_it(
    deep: MainWindow, qtbot: QtBot
) -> None:
    """The chart first draws the analysis the views show; the new one follows when the worker
    has it (the window's ``analysis`` would compute it on the UI thread: 0.15 s at 10,000)."""
    window = deep
    _settle(qtbot, window)
    window.document.change("0", filters=8)
    assert window.updating
    window.learner.chart_dock.raise_()
    window.learner._chart_visible(True)
    chart = window.learner.chart
    assert chart is not None
    assert not window.document.analysis_ready  # still the worker's to compute
    assert chart.analysis is window.shown_analysis
    _settle(qtbot, window)
    qtbot.waitUntil(lambda: not window.learner.pending, timeout=5000)
    assert chart.analysis is window.analysis  # followed once it arrived
