"""The pipeline's list model, its cards, and following the light/dark colour scheme."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPaintEvent, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from convdesigner.core.analysis import analyse
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.layers import Conv2D, Dense, ReLU
from convdesigner.ui import pipeline_view, theme
from convdesigner.ui.cards import make_card
from convdesigner.ui.main_window import MainWindow
from convdesigner.ui.pipeline_view import PipelineModel, PipelineView


def test_pipeline_model_passes_qtmodeltester(
    qtmodeltester: ModelTester, window: MainWindow
) -> None:
    qtmodeltester.check(window.pipeline_model, force_py=True)
    window.insert_entry("dense", 0)
    window.remove_selected()
    qtmodeltester.check(window.pipeline_model, force_py=True)


def test_cards_show_settings_shape_and_errors() -> None:
    design = Design(
        InputSpec(8, 8, 3),
        (Conv2D(filters=4, kernel=(3, 3), stride=(2, 2), name="stem"), Dense(units=2), ReLU()),
    )
    analysis = analyse(design)
    stem = make_card(analysis.rows[1], analysis)
    assert stem.title == "0  stem  (Conv2D)"
    assert stem.detail == "4 filters · 3×3 · stride 2 · no padding"
    assert stem.shape == "→ 3×3×4"
    assert stem.params == "112 params"
    dense = make_card(analysis.rows[2], analysis)
    assert dense.bad
    assert dense.detail == analysis.rows[2].message
    relu = make_card(analysis.rows[3], analysis)
    assert relu.blocked
    assert relu.detail.startswith("not computable")
    assert make_card(analysis.rows[0], analysis).detail == "8×8 pixels, RGB"


def test_only_changed_cards_are_announced() -> None:
    design = Design(InputSpec(16, 16, 1), (Conv2D(filters=2), ReLU(), Conv2D(filters=3)))
    model = PipelineModel(analyse(design))
    seen: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, roles=(): seen.append((a.row(), b.row())))
    before = analyse(design)
    model.set_analysis(before)
    seen.clear()
    kept, redone = model.card(1), model.card(3)
    model.set_analysis(analyse(design.replace_layer(2, Conv2D(filters=5)), before))
    assert seen == [(3, 3)]
    # Rows the edit did not reach come back from analyse() as the same objects, and so do
    # their cards; the edited one is formatted again.
    assert model.card(1) is kept
    assert model.card(3) is not redone
    assert model.card(3).shape == "→ 12×12×5"
    tooltip = model.index(2).data(Qt.ItemDataRole.ToolTipRole)
    assert tooltip == ReLU.description


def test_changed_cards_repaint_in_the_same_pass_without_a_relayout(qtbot: QtBot) -> None:
    # QListView would answer a data change with a delayed layout of every item and paint only
    # one event-loop pass later; cards never change size, so they repaint straight away.
    design = Design(InputSpec(16, 16, 1), (Conv2D(filters=2), ReLU(), Conv2D(filters=3)))
    model = PipelineModel(analyse(design))
    view = PipelineView(model)
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    qtbot.waitExposed(view)
    QApplication.processEvents()
    painted: list[int] = []
    layouts: list[int] = []
    original_paint, original_layout = view.paintEvent, view.doItemsLayout

    def paint(event: QPaintEvent) -> None:
        painted.append(1)
        original_paint(event)

    def layout() -> None:
        layouts.append(1)
        original_layout()

    view.paintEvent = paint  # type: ignore[method-assign]
    view.doItemsLayout = layout  # type: ignore[method-assign]
    model.set_analysis(analyse(design.replace_layer(0, Conv2D(filters=5))))
    QApplication.processEvents()
    assert painted
    assert not layouts


def test_dark_scheme_installs_a_dark_palette_and_light_restores(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = qapp.palette()
    try:
        monkeypatch.setenv(theme.SCHEME_ENV, "dark")
        theme.apply_scheme(qapp)
        assert theme.is_dark(qapp.palette())
        assert qapp.palette().color(QPalette.ColorRole.Base).lightness() < 60
        monkeypatch.setenv(theme.SCHEME_ENV, "light")
        theme.apply_scheme(qapp)
        assert not theme.is_dark(qapp.palette())
    finally:
        qapp.setPalette(original)


def _card_image(view: PipelineView, row: int) -> QImage:
    view.viewport().repaint()
    return view.viewport().grab(view.visualRect(view.model().index(row, 0))).toImage()


def test_cached_cards_look_like_freshly_drawn_ones_and_follow_edits(qtbot: QtBot) -> None:
    # Cards are drawn once into pixmaps; what shows must always be what a fresh view draws.
    design = Design(InputSpec(16, 16, 1), (Conv2D(filters=2), ReLU(), Conv2D(filters=3)))
    model = PipelineModel(analyse(design))
    view = PipelineView(model)
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    before = _card_image(view, 3)
    assert _card_image(view, 3) == before  # drawn from the cache the second time
    edited = design.replace_layer(2, Conv2D(filters=7))
    model.set_analysis(analyse(edited))
    after = _card_image(view, 3)
    assert after != before
    fresh = PipelineView(PipelineModel(analyse(edited)))
    qtbot.addWidget(fresh)
    fresh.resize(400, 400)
    fresh.show()
    assert _card_image(fresh, 3) == after
    view.setCurrentIndex(model.index(3, 0))  # selection is drawn too
    assert _card_image(view, 3) != after


def test_the_card_cache_keeps_to_its_byte_budget(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    design = Design(InputSpec(16, 16, 1), tuple(Conv2D(filters=f) for f in range(1, 31)))
    view = PipelineView(PipelineModel(analyse(design)))
    qtbot.addWidget(view)
    view.resize(400, 3000)  # every card in view
    view.show()
    delegate = view.itemDelegate()
    assert isinstance(delegate, pipeline_view.PipelineDelegate)
    card_bytes = 400 * 60 * 4  # at most, for one card of this view
    monkeypatch.setattr(pipeline_view, "_PIXMAP_BUDGET", 5 * card_bytes)
    view.viewport().grab()  # paints every card
    assert 1 <= len(delegate._pixmaps) <= 5
    assert delegate._pixmap_bytes == sum(
        p.width() * p.height() * 4 for p in delegate._pixmaps.values()
    )
    assert delegate._pixmap_bytes <= 5 * card_bytes
