"""The learner's questions in the window, each within two clicks of selecting a layer, with the
Q&A example's own numbers (issue 13)."""

from __future__ import annotations

import os
from itertools import pairwise
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from pytestqt.qtbot import QtBot

from convdesigner.core import teaching
from convdesigner.core.analysis import Analysis
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.ops.conv import Conv2D
from convdesigner.ui.explain import explain_html
from convdesigner.ui.main_window import MainWindow
from tests.ui.ui_helpers import explained

SHOTS = os.environ.get("CONVDESIGNER_SHOTS")
"""A folder to keep the rendered PNGs in (the tests render them anyway, into tmp_path)."""


def separable_design() -> Design:
    return Design(
        InputSpec(10, 10, 100),
        [
            Conv2D(filters=100, kernel=3, padding="same", groups=100, bias=False),
            Conv2D(filters=150, kernel=1),
        ],
    )


def shot_path(tmp_path: Path, name: str) -> Path:
    return Path(SHOTS) / name if SHOTS else tmp_path / name


def test_weights_tab_shows_the_filters_of_the_selected_conv(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    views = window.learner
    window.select_layer(2)
    views.weights_dock.raise_()
    qtbot.waitUntil(lambda: views.weights.isVisible())
    weights = views.weights
    assert weights.sentence.text() == (
        "Each of the 150 filters spans all 100 input channels and gives one map."
    )
    assert weights.shapes.text() == "Weights 5×5×100×150 (375,000) · Bias 150"
    picture = weights.canvas.picture
    assert picture is not None
    assert (picture.filters, picture.depth, picture.kernel) == (150, 100, (5, 5))
    weights.resize(760, 360)
    path = shot_path(tmp_path, "weights-view.png")
    image = weights.grab()
    assert image.save(str(path))
    # Something was drawn: the canvas is not one flat colour.
    canvas = weights.canvas.grab().toImage()
    colours = {canvas.pixel(x, canvas.height() // 2) for x in range(0, canvas.width(), 3)}
    assert len(colours) > 5
    window.select_layer(1)  # pooling: no weights to draw, and the tab says what to select
    assert picture is not weights.canvas.picture
    assert weights.canvas.picture is None
    assert weights.sentence.text().startswith("Select a convolution")


def test_depthwise_filters_say_what_they_span(window: MainWindow, qtbot: QtBot) -> None:
    window.apply_design(separable_design(), "Separable")
    window.select_layer(0)
    sentence = window.learner.weights.sentence.text()
    assert sentence.startswith(
        "Depthwise: each of the 100 filters spans one input channel only (groups = 100)"
    )
    picture = window.learner.weights.canvas.picture
    assert picture is not None
    assert picture.depth == 1


def test_properties_header_answers_in_one_line(window: MainWindow, qtbot: QtBot) -> None:
    window.select_layer(2)
    assert window.properties.summary_text == (
        "Weights 5×5×100×150 (375,000) · Bias 150. Each of the 150 filters spans all 100 input "
        "channels and gives one map."
    )
    window.select_layer(1)
    assert window.properties.summary_text == (
        "Acts on each of the 100 channels separately: 100 maps in, 100 out."
    )
    window.apply_design(separable_design(), "Separable")
    window.select_layer(1)
    assert window.properties.summary_text.endswith(
        "1×1: mixes the 100 channels at each position into 150; params C_in·C_out = 100·150."
    )


def test_explain_answers_with_the_users_numbers(window: MainWindow, qtbot: QtBot) -> None:
    window.select_layer(2)
    text = explained(qtbot, window).toPlainText()
    assert "Why the output is 3-D" in text
    assert "Each of the 150 filters spans all 100 input channels and gives one map" in text
    assert (
        "This conv: 375,000 weights and 156,000,000 MACs; as a depthwise 5×5 conv + a 1×1 conv "
        "100→150 instead: 2,500 + 15,000 = 17,500 weights and 7,280,000 MACs (21.4× fewer)."
    ) in text
    assert "Make separable" in text
    assert "Doubling this layer's filters (150 → 300) multiplies this layer's MACs by 2" in text
    window.select_layer(0)
    text = explained(qtbot, window).toPlainText()
    assert (
        "multiplies this layer's MACs by 2 and the next conv's (layer 2) by 2: +163,840,000 MACs "
        "(+100.0 % of the network)"
    ) in text
    window.select_layer(1)
    text = explained(qtbot, window).toPlainText()
    assert "Pooling acts per channel" in text
    assert "100 maps in, 100 maps out (25×64×100 → 13×32×100)" in text
    window.select_layer(None)
    assert "Why the output" not in explained(qtbot, window).toPlainText()


def test_explain_follows_an_edit_elsewhere(window: MainWindow, qtbot: QtBot) -> None:
    """The what-if share of the network changes when another layer changes, even though the
    selected row itself does not."""
    window.select_layer(2)
    assert "(+95.2 % of the network)" in explained(qtbot, window).toPlainText()
    window.document.change("0", kernel=3)  # 1,440,000 MACs instead of 7,840,000
    window.select_layer(2)
    assert "(+99.1 % of the network)" in explained(qtbot, window).toPlainText()


def test_one_by_one_and_the_separable_pair(window: MainWindow, qtbot: QtBot) -> None:
    window.apply_design(separable_design(), "Separable")
    window.select_layer(1)
    text = explained(qtbot, window).toPlainText()
    assert "What a 1×1 convolution does" in text
    assert "Params = C_in · C_out = 100 × 150 = 15,000 weights + 150 biases." in text
    assert (
        "This pair: 900 + 15,000 = 15,900 weights and 1,590,000 MACs; one 3×3 conv 100→150 "
        "instead: 135,000 weights and 13,500,000 MACs (8.5× more)."
    ) in text


def test_make_normal_and_separable_from_the_explain_link_and_the_menu(
    window: MainWindow,
) -> None:
    window.apply_design(separable_design(), "Separable")
    window.select_layer(0)
    views = window.learner
    assert views.action_normal.isEnabled()
    assert not views.action_separable.isEnabled()
    assert "action:make-normal" in explain_html(
        window.analysis.row("0"),
        learner=__import__("convdesigner.core.teaching").core.teaching.notes(window.analysis, "0"),
    )
    window.explain.anchorClicked.emit(QUrl("action:make-normal"))  # one click on the link
    assert len(window.design) == 1
    assert window.analysis.rows[1].weights == 135_000
    assert window.undo_stack.undoText() == "Make separable pair normal"
    assert views.action_separable.isEnabled()
    views.action_separable.trigger()
    assert [r.weights for r in window.analysis.rows[1:]] == [900, 15_000]
    assert window.selected_layer() == 0
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert window.design == separable_design()


def test_refused_rewrite_is_explained_in_the_status_bar(window: MainWindow, qtbot: QtBot) -> None:
    window.select_layer(0)  # a conv on the single greyscale channel
    assert not window.learner.action_separable.isEnabled()
    window.learner.run("make-separable")
    assert "single input channel has no channels to mix" in window.statusBar().currentMessage()


def test_cost_chart_tab_draws_macs_and_params(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    views = window.learner
    assert views.chart is None  # pyqtgraph waits until the tab is shown
    window.select_layer(2)
    views.chart_dock.raise_()
    qtbot.waitUntil(lambda: views.chart is not None and views.chart.isVisible())
    chart = window.learner.chart  # built by the wait above
    assert chart is not None
    assert [(b.label, b.macs, b.params) for b in chart.bars] == [
        ("0", 7_840_000, 5_000), ("1", 0, 0), ("2", 156_000_000, 375_150),
    ]  # fmt: skip
    assert chart.selected == "2"
    assert chart.doubled == (7_840_000, 0, 312_000_000)  # outlines: layer 2 twice as wide
    assert "selected: 156.00 M (95.2 %)" in chart.title.text
    window.document.change("0", filters=200)  # a wider first conv doubles the second's MACs
    assert [b.macs for b in chart.bars] == [15_680_000, 0, 312_000_000]
    # Layer 0 is selected now: doubling it again would double both convs' bars.
    assert chart.doubled == (31_360_000, 0, 624_000_000)
    chart.resize(760, 420)
    path = shot_path(tmp_path, "cost-chart.png")
    assert chart.grab().save(str(path))


@pytest.mark.parametrize("template", ["vgg16", "mobilenet-v1"])
def test_chart_and_notes_on_bigger_templates(
    window: MainWindow, template: str, tmp_path: Path
) -> None:
    from convdesigner.core.templates import load_template

    window.apply_design(load_template(template), template)
    window.select_layer(len(window.design) // 2)
    window.learner.chart_dock.raise_()
    window.learner._chart_visible(True)
    chart = window.learner.chart
    assert chart is not None
    assert len(chart.bars) == len(window.design)
    assert [b.macs for b in chart.bars] == [r.macs for r in window.analysis.rows[1:]]
    chart.resize(900, 420)
    assert chart.grab().save(str(shot_path(tmp_path, f"cost-chart-{template}.png")))


def test_weights_and_costs_are_tabs_beside_explain_after_a_reset(
    window: MainWindow, qtbot: QtBot
) -> None:
    views = window.learner
    for _ in range(2):  # as first built, then after View → Reset Layout
        tabbed = window.tabifiedDockWidgets(window.explain_dock)
        assert views.weights_dock in tabbed
        assert views.chart_dock in tabbed
        assert views.weights_dock.toggleViewAction() in window.view_menu.actions()
        window.learner.weights_dock.setFloating(True)
        window.reset_layout()
    assert not views.weights_dock.isFloating()


def test_cost_chart_names_bars_without_overlap_and_more_when_zoomed_in(
    window: MainWindow, qtbot: QtBot
) -> None:
    """ResNet-18's 69 bars in the Costs tab: a fixed share of its ids (every 2nd) overlapped
    into an unreadable smear; the names shown must sit at least their own width apart, and
    zooming in names more bars."""
    from PySide6.QtGui import QFontMetrics

    from convdesigner.core.templates import load_template

    window.apply_design(load_template("resnet18"), "resnet18")
    window.learner.chart_dock.raise_()
    window.learner._chart_visible(True)
    chart = window.learner.chart
    assert chart is not None
    chart.resize(500, 680)
    chart.show()
    qtbot.wait(50)
    axis = chart.params_axis
    metrics = QFontMetrics(axis.style["tickFont"] or axis.font())

    def shown() -> tuple[list[float], float]:
        lo, hi = chart.params_plot.viewRange()[0]
        levels = axis.tickValues(lo, hi, axis.width())
        values = levels[0][1] if levels else []
        return values, axis.width() / (hi - lo)  # pixels per bar

    values, px_per_bar = shown()
    assert 2 <= len(values) < len(chart.bars)
    names = axis.tickStrings(values, 1.0, 1.0)
    assert all(len(name) <= 14 for name in names)
    # Long ids keep their ends, which tell the bars apart: their beginnings are shared (all of
    # DenseNet's read "features.de…" when cut at the end).
    where = [b.node for b in chart.bars].index("layer3.0.downsample.1")
    assert axis.labels[where] == "…downsample.1"
    widest = max(metrics.horizontalAdvance(name) for name in names)
    gaps = [(b - a) * px_per_bar for a, b in pairwise(values)]
    assert min(gaps) >= widest
    chart.params_plot.setXRange(0, 6, padding=0)
    qtbot.wait(20)
    zoomed, zoomed_px = shown()
    assert zoomed[1] - zoomed[0] < values[1] - values[0]  # closer names: every 2nd bar, not 20th
    zoomed_names = axis.tickStrings(zoomed, 1.0, 1.0)
    widest = max(metrics.horizontalAdvance(name) for name in zoomed_names)
    assert (zoomed[1] - zoomed[0]) * zoomed_px >= widest


def test_cost_chart_bar_under_the_pointer_is_named_and_a_click_selects_it(
    window: MainWindow, qtbot: QtBot
) -> None:
    from PySide6.QtCore import QPointF, Qt

    window.learner.chart_dock.raise_()
    qtbot.waitUntil(lambda: window.learner.chart is not None and window.learner.chart.isVisible())
    chart = window.learner.chart
    assert chart is not None
    qtbot.wait(50)
    box = chart.macs_plot.vb
    top = box.viewRange()[1][1]
    over_bar_2 = box.mapViewToScene(QPointF(2.0, top / 2))
    chart._hover(over_bar_2)
    assert chart.plots.toolTip().splitlines() == [
        "2 Conv2D",
        "156,000,000 MACs (156.00 M) · 375,150 params",
    ]
    chart._hover(box.mapViewToScene(QPointF(2.7, top / 2)))  # between bars 2 and 3: none
    assert chart.plots.toolTip() == ""
    chart._hover(box.mapViewToScene(QPointF(1.0, top / 2)))  # the pool: no MACs to abbreviate
    assert chart.plots.toolTip().splitlines() == ["1 MaxPool2D", "0 MACs · 0 params"]
    window.select_layer(0)
    assert [m.value() for m in chart.markers if m.isVisible()] == [0.0, 0.0]
    qtbot.mouseClick(
        chart.plots.viewport(), Qt.MouseButton.LeftButton, pos=chart.plots.mapFromScene(over_bar_2)
    )
    qtbot.waitUntil(lambda: window.selected_node() == "2")
    assert [m.value() for m in chart.markers if m.isVisible()] == [2.0, 2.0]
    window.select_node(None)
    assert not any(m.isVisible() for m in chart.markers)
    # A bar of a layer gone meanwhile (the chart of a large design follows an edit late): the
    # click selects nothing, and raises nothing.
    chart.barClicked.emit("no-such-layer")
    assert window.selected_node() is None


def test_cost_chart_moves_only_the_selection_on_a_click(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A click sets no bars: all bars are one item in one colour (pyqtgraph draws them in one
    call), the selected layer's a separate item of one bar. A colour per bar cost 10,000
    brushes and a bar-by-bar paint: 0.4 s per click on a 10,000-layer design."""
    from convdesigner.ui import cost_chart

    window.learner.chart_dock.raise_()
    qtbot.waitUntil(lambda: window.learner.chart is not None and window.learner.chart.isVisible())
    chart = window.learner.chart
    assert chart is not None
    made: list[object] = []
    real = teaching.cost_bars

    def counted(analysis: Analysis) -> list[teaching.Bar]:
        made.append(analysis)
        return real(analysis)

    monkeypatch.setattr(cost_chart, "cost_bars", counted)
    window.select_layer(0)
    window.select_layer(2)
    assert made == []  # the same analysis: its bars are drawn already
    assert chart.macs_item.opts["brushes"] is None  # one brush for every bar
    assert list(chart.selected_macs.opts["x"]) == [2.0]
    assert list(chart.selected_macs.opts["height"]) == [156_000_000]
    assert list(chart.selected_params.opts["height"]) == [375_150]
    window.document.change("0", filters=200)
    assert list(chart.macs_item.opts["height"]) == [15_680_000, 0, 312_000_000]
    assert made == []  # read from the rows into arrays; the Bar objects only when asked for
    assert [b.macs for b in chart.bars] == [15_680_000, 0, 312_000_000]
    assert made == [window.analysis]


def test_cost_chart_outlines_of_a_large_design_come_from_a_worker(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outlines analyse the design with the selected layer doubled (38 ms for a 10,000-layer
    chain): for a large design that runs on a worker, as the explain panel's notes do."""
    import threading

    from convdesigner.ui import cost_chart

    threads: list[threading.Thread] = []
    real = teaching.what_if_double

    def recorded(analysis: Analysis, node: str) -> teaching.WhatIf | None:
        threads.append(threading.current_thread())
        return real(analysis, node)

    monkeypatch.setattr(cost_chart, "what_if_double", recorded)
    monkeypatch.setattr(cost_chart, "BACKGROUND_WHAT_IF", 1)  # the Q&A example counts as large
    window.learner.chart_dock.raise_()
    qtbot.waitUntil(lambda: window.learner.chart is not None and window.learner.chart.isVisible())
    chart = window.learner.chart
    assert chart is not None
    qtbot.waitUntil(lambda: not chart.pending)
    window.select_layer(2)
    assert chart.pending  # asked for; meanwhile no outlines
    assert len(chart.doubled) == 0
    qtbot.waitUntil(lambda: not chart.pending)
    assert tuple(chart.doubled) == (7_840_000, 0, 312_000_000)
    assert threads
    assert all(thread is not threading.main_thread() for thread in threads)
    assert list(chart.doubled_item.opts["x"]) == [2.0]


def test_cost_chart_draws_the_highest_of_each_pixels_bars_and_all_when_zoomed_in(
    qtbot: QtBot,
) -> None:
    """4,000 bars in a few hundred pixels: each drawn bar is the highest of its run (a peak is
    never lost), and zoomed in every bar is drawn again."""
    from convdesigner.core.analysis import analyse
    from convdesigner.core.layers import ReLU
    from convdesigner.ui.cost_chart import CostChart

    layers: list[Conv2D | ReLU] = [
        Conv2D(filters=4, kernel=3, padding="same") if i % 2 == 0 else ReLU() for i in range(4000)
    ]
    layers[2001] = Conv2D(filters=64, kernel=3, padding="same")  # one tall bar, and the next
    analysis = analyse(Design(InputSpec(16, 16, 3), layers))
    chart = CostChart()
    qtbot.addWidget(chart)
    chart.resize(500, 600)
    chart.show()
    qtbot.waitExposed(chart)
    chart.set_state(analysis, None)
    qtbot.wait(20)
    drawn = chart.macs_item.opts
    assert 100 <= len(drawn["x"]) < 1000  # about one per pixel, not 4,000
    macs = [row.macs for row in analysis.rows[1:]]
    assert max(drawn["height"]) == max(macs)  # the peak survives
    step = chart._drawn_step
    runs = [max(macs[i : i + step]) for i in range(0, 4000, step)]
    assert list(drawn["height"]) == runs  # each drawn bar: the highest of its run
    chart.macs_plot.setXRange(1990, 2010, padding=0)
    qtbot.wait(20)
    zoomed = chart.macs_item.opts
    assert len(zoomed["x"]) == 4000  # every bar again
    assert list(zoomed["height"][1995:2005]) == macs[1995:2005]
    chart.shutdown()


def test_cost_chart_of_a_large_design_follows_a_frame_after_the_other_panels(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its new bars and their repaint fell in the frame that repainted the rest (with the other
    changes of session 11, a 10,000-layer chain's edit with this tab in front went from 251 to
    22 ms: benchmarks/bench_deep.py --costs)."""
    from convdesigner.ui import learner

    monkeypatch.setattr(learner, "CHART_LATER_COST", 1)  # the Q&A example counts as large
    window.learner.chart_dock.raise_()
    qtbot.waitUntil(lambda: window.learner.chart is not None and window.learner.chart.isVisible())
    chart = window.learner.chart
    assert chart is not None
    qtbot.waitUntil(lambda: not window.learner.pending)
    window.select_layer(2)
    assert window.learner.pending
    assert chart.selected != "2"  # not in the click's own frame
    qtbot.waitUntil(lambda: not window.learner.pending)
    assert chart.selected == "2"
    assert list(chart.selected_macs.opts["x"]) == [2.0]
