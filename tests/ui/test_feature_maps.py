"""The feature-map panel draws exactly the engine's activations and keeps up with edits."""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from convdesigner.core.design import Design, InputSpec
from convdesigner.core.engine.forward import run_design
from convdesigner.core.images import load_image
from convdesigner.core.layers import AvgPool2D, Conv2D, Dense, Flatten, ReLU
from convdesigner.core.mosaic import Scale, render
from convdesigner.core.templates import load_template
from convdesigner.ui import feature_maps
from convdesigner.ui.feature_maps import FeatureMapPanel

SAMPLES = Path(importlib.import_module("convdesigner.resources").SAMPLES)
CHELSEA = SAMPLES / "chelsea.png"


@pytest.fixture
def qa() -> Design:
    return load_template("qa-example")


@pytest.fixture
def panel(qtbot: QtBot, qa: Design) -> Iterator[FeatureMapPanel]:
    p = FeatureMapPanel(qa)
    qtbot.addWidget(p)
    p.resize(1000, 600)
    p.show()
    yield p
    p.shutdown()


def wait_render(qtbot: QtBot, panel: FeatureMapPanel, count: int) -> None:
    qtbot.waitUntil(lambda: panel.render_count >= count and not panel.busy, timeout=30000)


def engine_maps(design: Design, path: Path, node: str | None) -> np.ndarray:
    spec = design.input
    image = load_image(path, spec.channels, (spec.height, spec.width))
    return run_design(design, image)[0 if node is None else design.index_of(node) + 1]


def assert_shows(panel: FeatureMapPanel, design: Design, path: Path, node: str | None) -> None:
    """The ImageItem holds the mosaic of the engine's output for ``node``, pixel for pixel."""
    result = panel.result
    assert result is not None
    assert result.request.design == design
    assert result.request.options.node == node
    expected = engine_maps(design, path, node)
    np.testing.assert_array_equal(result.layer_array, expected)
    mosaic = render(
        expected,
        scale=panel.scale,
        colormap=panel.colormap,
        aspect=result.request.options.aspect,
    )
    shown = panel.mosaic_item.image
    assert shown is not None
    np.testing.assert_array_equal(shown, mosaic.rgba)
    assert panel.stack.currentWidget() is panel.mosaic_widget
    assert result.mosaic is not None
    assert result.mosaic.layout.channels == expected.shape[0]


@pytest.mark.parametrize("node", ["0", "1", "2", None])
def test_loading_a_sample_draws_the_engine_activations(
    qtbot: QtBot, panel: FeatureMapPanel, qa: Design, node: str | None
) -> None:
    panel.set_selected_node(node)
    assert panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)
    assert_shows(panel, qa, CHELSEA, node)
    # the input view shows what the network sees: the greyscale, resized picture
    net = engine_maps(qa, CHELSEA, None)
    shown_input = panel.input_item.image
    assert shown_input is not None
    assert shown_input.shape[:2] == (25, 64)
    np.testing.assert_array_equal(shown_input[..., 0], np.round(net[0] * 255).astype(np.uint8))
    assert "resized to the design's input 25×64" in panel.source_label.toolTip()
    assert panel.source_label.text() == "chelsea.png 170×256 → 25×64"


def test_editing_a_property_re_renders(qtbot: QtBot, panel: FeatureMapPanel, qa: Design) -> None:
    panel.set_selected_node("0")
    panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)
    edited = qa.replace_layer(0, qa.layers[0].with_changes(filters=12, kernel=(3, 3)))
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        panel.set_design(edited)
    assert_shows(panel, edited, CHELSEA, "0")
    assert panel.result is not None
    assert panel.result.layer_array is not None
    assert panel.result.layer_array.shape == (12, 25, 64)


def test_edits_reuse_the_converted_picture(
    qtbot: QtBot, panel: FeatureMapPanel, qa: Design, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Converting and resizing the picture is done once per input shape, not on every edit
    (0.2 s for a 12-megapixel photo)."""
    from convdesigner.core import viewer
    from convdesigner.core.images import to_input as original

    conversions: list[tuple[int, ...]] = []

    def counting(array: np.ndarray, channels: int, size: tuple[int, int]) -> np.ndarray:
        conversions.append((channels, *size))
        return original(array, channels, size)

    monkeypatch.setattr(viewer, "to_input", counting)
    panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)
    for filters in (7, 8):
        with qtbot.waitSignal(panel.rendered, timeout=10000):
            panel.set_design(qa.replace_layer(0, qa.layers[0].with_changes(filters=filters)))
    assert conversions == [(1, 25, 64)]
    wider = qa.with_input(InputSpec(25, 80, 1))
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        panel.set_design(wider)
    assert conversions == [(1, 25, 64), (1, 25, 80)]
    assert panel.result is not None
    shown = panel.result.activations.arrays[0]
    np.testing.assert_array_equal(shown, load_image(CHELSEA, 1, (25, 80)))
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        panel.set_design(qa)  # back to the first size: remembered
    assert len(conversions) == 2


def test_a_result_draws_the_mosaic_first_then_the_enlarged_channel(
    qtbot: QtBot, panel: FeatureMapPanel, qa: Design
) -> None:
    """The mosaic is drawn when the result arrives, the enlarged channel and its histogram in
    the next pass (``busy`` until then); the input picture is set again only if it changed."""
    panel.set_selected_node("0")
    panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)
    picture = panel.input_item.image
    edited = qa.replace_layer(0, qa.layers[0].with_changes(filters=9))
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        panel.set_design(edited)
    assert panel.busy  # the enlarged channel is still to come
    assert panel.result is not None
    array = panel.result.layer_array
    assert array is not None
    assert panel.mosaic_item.image.shape == panel.result.mosaic.rgba.shape  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: not panel.busy, timeout=5000)
    expected = render(array[0][None], colormap=panel.colormap).rgba
    np.testing.assert_array_equal(panel.detail_item.image, expected)
    assert panel.detail_title.text.startswith("Channel 0 · mean")
    assert panel.input_item.image is picture  # a layer edit leaves the input picture alone
    taller = edited.with_input(InputSpec(30, 64, 1))
    panel.set_design(taller)
    wait_render(qtbot, panel, 3)
    assert panel.input_item.image.shape[0] == 30
    assert panel.input_title.text == "Input 30×64×1"


def test_the_input_title_forgets_a_receptive_field_no_longer_shown(
    qtbot: QtBot, panel: FeatureMapPanel
) -> None:
    panel.set_selected_node("2")
    panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)
    panel.select_position(3, 5, 7)
    assert "receptive field" in panel.input_title.text
    panel.set_selected_node("0")
    wait_render(qtbot, panel, 2)
    assert panel.input_title.text == "Input 25×64×1"
    assert not panel.rf_rect.isVisible()


def test_burst_of_edits_renders_once_the_final_design(
    qtbot: QtBot, panel: FeatureMapPanel, qa: Design
) -> None:
    panel.set_selected_node("2")
    panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)
    before = panel.render_count
    stats_before = replace(panel.worker.stats)
    design = qa
    for filters in range(101, 121):  # 20 quick edits, as from holding a spin-box arrow
        design = design.replace_layer(2, design.layers[2].with_changes(filters=filters))
        panel.set_design(design)
    wait_render(qtbot, panel, before + 1)
    qtbot.wait(50)  # nothing else arrives later
    assert panel.render_count == before + 1
    assert_shows(panel, design, CHELSEA, "2")
    stats = panel.worker.stats
    started = stats.started - stats_before.started
    submitted = stats.submitted - stats_before.submitted
    assert submitted == 20
    assert started <= 2  # the first edit may have started; the rest collapsed into the newest
    assert stats.superseded - stats_before.superseded == submitted - started
    stale = (stats.cancelled - stats_before.cancelled) + (stats.discarded - stats_before.discarded)
    assert stale == started - 1  # every started job but the newest was stopped or thrown away
    assert stats.finished - stats_before.finished == 1


def test_colormap_and_scale_re_render_without_re_running(
    qtbot: QtBot, panel: FeatureMapPanel, qa: Design
) -> None:
    panel.set_selected_node("0")
    panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)
    activations = panel.activations
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        panel.set_colormap("diverging")
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        panel.set_scale(Scale.SHARED)
    assert panel.activations is activations  # the engine did not run again
    assert_shows(panel, qa, CHELSEA, "0")
    with pytest.raises(ValueError, match="unknown colormap"):
        panel.set_colormap("jet")


def test_corrupt_image_gives_a_message_and_changes_nothing(
    qtbot: QtBot, panel: FeatureMapPanel, qa: Design, tmp_path: Path
) -> None:
    panel.set_selected_node("0")
    panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)
    source, shown = panel.source, panel.mosaic_item.image.copy()
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a picture" * 10)
    assert not panel.load_image_file(bad)
    qtbot.wait(100)
    assert panel.banner.isVisible()
    assert "broken.png" in panel.banner.text()
    assert "current image is kept" in panel.banner.text()
    assert panel.source is source
    np.testing.assert_array_equal(panel.mosaic_item.image, shown)
    assert not panel.busy


def test_hover_reads_back_the_value_under_the_mouse(
    qtbot: QtBot, panel: FeatureMapPanel, qa: Design
) -> None:
    panel.set_selected_node("0")
    panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)
    result = panel.result
    assert result is not None
    assert result.mosaic is not None
    assert result.layer_array is not None
    r, c = result.mosaic.layout.origin(7)
    scene_pos = panel.mosaic_item.mapToScene(pg_point(c + 5.5, r + 3.5))
    panel._on_hover(panel.mosaic_widget, scene_pos)
    value = float(result.layer_array[7, 3, 5])
    assert panel.hover_label.text() == f"channel 7 · row 3, col 5 · value {value:.5g}"


def pg_point(x: float, y: float) -> object:
    from PySide6.QtCore import QPointF

    return QPointF(x, y)


def test_receptive_field_outline_matches_brute_force(qtbot: QtBot) -> None:
    """Perturb each input pixel of a linear network: those that change output (y, x) are its RF."""
    design = Design(
        input=InputSpec(height=14, width=13, channels=1),
        layers=(
            Conv2D(filters=2, kernel=(3, 3), padding="same"),
            AvgPool2D(kernel=(2, 2), stride=(2, 2)),
            Conv2D(filters=2, kernel=(3, 3), dilation=(2, 2), padding=(1, 1)),
        ),
    )
    panel = FeatureMapPanel(design)
    qtbot.addWidget(panel)
    rng = np.random.default_rng(1)
    panel.set_image(rng.random((14, 13, 1), dtype=np.float32), "noise")
    panel.set_selected_node("2")
    wait_render(qtbot, panel, 1)
    base = rng.random((1, 14, 13), dtype=np.float32)
    reference = run_design(design, base)[3]
    # (1, 1) and (2, 1) see no padding through the dilated taps: the outline is exact there.
    # At the corners some taps of the dilated kernel fall in the padding, so fewer pixels matter,
    # but none outside the outline.
    for y, x, exact in [(1, 1, True), (2, 1, True), (0, 0, False), (4, 3, False)]:
        panel.select_position(0, y, x)
        rect = panel.receptive_field_rect()
        assert rect is not None
        top, left, h, w = rect
        hits = np.zeros((14, 13), dtype=bool)
        for i in range(14):
            for j in range(13):
                bumped = base.copy()
                bumped[0, i, j] += 1.0
                hits[i, j] = run_design(design, bumped)[3][0, y, x] != reference[0, y, x]
        rows, cols = np.nonzero(hits)
        clipped = (max(top, 0), max(left, 0), min(top + h, 14) - 1, min(left + w, 13) - 1)
        found = (rows.min(), cols.min(), rows.max(), cols.max())
        if exact:
            assert found == clipped
        else:
            assert clipped[0] <= found[0]
            assert clipped[1] <= found[1]
            assert found[2] <= clipped[2]
            assert found[3] <= clipped[3]
        assert panel.rf_rect.isVisible()
    panel.shutdown()


def test_vector_output_is_a_bar_plot(qtbot: QtBot) -> None:
    design = Design(
        input=InputSpec(height=16, width=16, channels=3),
        layers=(Conv2D(filters=4, kernel=(3, 3)), ReLU(), Flatten(), Dense(units=10)),
    )
    panel = FeatureMapPanel(design)
    qtbot.addWidget(panel)
    panel.set_selected_node("3")
    panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)
    bar_plot = panel.bar_plot
    assert panel.stack.currentIndex() == panel.stack.indexOf(bar_plot)
    expected = engine_maps(design, CHELSEA, "3")
    assert expected.shape == (10,)
    np.testing.assert_allclose(panel.bars.opts["height"], expected, rtol=1e-6)
    axis = bar_plot.getAxis("left")
    bar_plot.setYRange(-0.004, 0.004)  # values of a few thousandths
    assert axis.labelText == "value"  # no "(x0.001)": the ticks read the values themselves
    assert axis.autoSIPrefixScale == 1.0
    panel.shutdown()


def test_design_error_shows_maps_up_to_the_bad_layer(qtbot: QtBot, qa: Design) -> None:
    bad = qa.replace_layer(2, qa.layers[2].with_changes(kernel=(40, 40), padding="valid"))
    panel = FeatureMapPanel(bad)
    qtbot.addWidget(panel)
    panel.set_selected_node("2")
    panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)
    assert panel.stack.currentWidget() is panel.message
    assert "Layer 2" in panel.message.text()
    assert "up to layer 1" in panel.message.text()
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        panel.set_selected_node("1")
    assert panel.stack.currentWidget() is panel.mosaic_widget
    panel.shutdown()


def test_memory_limit_shows_the_estimate_instead_of_running(qtbot: QtBot) -> None:
    huge = Design(
        input=InputSpec(height=8192, width=8192, channels=3),
        layers=(Conv2D(filters=64, kernel=(3, 3), padding="same"),),
    )
    panel = FeatureMapPanel(huge)
    qtbot.addWidget(panel)
    panel.set_selected_node("0")
    t0 = time.monotonic()
    with qtbot.waitSignal(panel.worker.jobFailed, timeout=10000):
        panel.load_image_file(CHELSEA)
    assert time.monotonic() - t0 < 2.0  # refused up front, nothing resized or allocated
    assert panel.stack.currentWidget() is panel.message
    text = panel.message.text()
    assert "GiB" in text
    assert "limit" in text
    assert text.lower().count("fewer filters") == 1  # the advice once, not twice
    panel.shutdown()


def test_long_run_shows_busy_layer_and_shutdown_stops_it(qtbot: QtBot) -> None:
    vgg = load_template("vgg16")
    panel = FeatureMapPanel(vgg)
    qtbot.addWidget(panel)
    panel.show()
    panel.set_selected_node("0")
    panel.load_image_file(CHELSEA)
    qtbot.waitUntil(lambda: panel.busy_label.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: "Computing layer" in panel.busy_label.text(), timeout=20000)
    t0 = time.monotonic()
    panel.shutdown()
    assert time.monotonic() - t0 < 2.0
    assert not panel.busy
    assert panel.render_count == 0


def test_exports(qtbot: QtBot, panel: FeatureMapPanel, qa: Design, tmp_path: Path) -> None:
    from PySide6.QtGui import QImage

    panel.set_selected_node("1")
    panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)
    png = tmp_path / "maps.png"
    panel.export_mosaic_png(png)
    image = QImage(str(png)).convertToFormat(QImage.Format.Format_RGBA8888)
    assert panel.result is not None
    assert panel.result.mosaic is not None
    rgba = panel.result.mosaic.rgba
    assert (image.height(), image.width()) == rgba.shape[:2]
    ptr = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    np.testing.assert_array_equal(ptr[:, : rgba.shape[1] * 4].reshape(rgba.shape), rgba)

    npz = tmp_path / "acts.npz"
    panel.export_activations_npz(npz)
    spec = qa.input
    expected = run_design(qa, load_image(CHELSEA, spec.channels, (spec.height, spec.width)))
    with np.load(npz) as data:
        assert sorted(data.files) == sorted(["input", "0", "1", "2"])
        np.testing.assert_array_equal(data["input"], expected[0])
        for i in range(3):
            assert data[str(i)].dtype == np.float32
            np.testing.assert_array_equal(data[str(i)], expected[i + 1])


def test_clicked_channel_is_shown_large_with_its_histogram(
    qtbot: QtBot, panel: FeatureMapPanel, qa: Design
) -> None:
    panel.set_selected_node("2")
    panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)
    panel.select_position(17, 4, 9)
    channel = engine_maps(qa, CHELSEA, "2")[17]
    np.testing.assert_array_equal(
        panel.detail_item.image, render(channel[None], colormap=panel.colormap).rgba
    )
    edges, counts = panel.histogram_curve.getData()
    expected_counts, expected_edges = np.histogram(
        channel, bins=64, range=(float(channel.min()), float(channel.max()))
    )
    np.testing.assert_array_equal(counts, expected_counts)
    np.testing.assert_allclose(edges, expected_edges)
    title = panel.detail_title.text
    assert "Channel 17" in title
    assert f"min {float(channel.min()):.4g}" in title
    assert f"max {float(channel.max()):.4g}" in title
    # the tile of channel 17 is outlined in the mosaic
    assert panel.tile_rect.isVisible()


def test_image_that_cannot_feed_the_input_says_why(qtbot: QtBot) -> None:
    design = Design(
        input=InputSpec(height=8, width=8, channels=5), layers=(Conv2D(filters=2, kernel=3),)
    )
    panel = FeatureMapPanel(design)
    qtbot.addWidget(panel)
    panel.set_selected_node("0")
    with qtbot.waitSignal(panel.worker.jobFailed, timeout=10000):
        panel.load_image_file(CHELSEA)
    assert panel.stack.currentWidget() is panel.message
    assert "3 channel(s), but the design's input needs 5" in panel.message.text()
    panel.shutdown()


def test_resizing_the_view_lays_the_tiles_out_again(
    qtbot: QtBot, panel: FeatureMapPanel, qa: Design
) -> None:
    panel.set_selected_node("0")
    panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)
    assert panel.result is not None
    assert panel.result.mosaic is not None
    before = panel.result.mosaic.layout
    activations = panel.activations
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        panel.resize(1800, 300)  # a much wider view
    assert panel.result.mosaic is not None
    after = panel.result.mosaic.layout
    assert after.cols > before.cols
    assert panel.activations is activations  # laid out again, not recomputed
    assert_shows(panel, qa, CHELSEA, "0")


def test_heavy_runs_start_after_the_window_has_shown_the_edit(
    qtbot: QtBot, panel: FeatureMapPanel, qa: Design, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A heavy run waits a frame (so the window's own repaint does not compete with the engine);
    # quick edits in that frame collapse into one run, and a re-render from cached activations
    # (another layer selected) never waits.
    monkeypatch.setattr(feature_maps, "DEFER_MIN_MACS", 0)  # treat the Q&A example as heavy
    panel.set_selected_node("0")
    panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)
    before, submitted = panel.render_count, panel.worker.stats.submitted
    design = qa
    for filters in (7, 8, 9):
        design = design.replace_layer(0, design.layers[0].with_changes(filters=filters))
        panel.set_design(design)
        assert panel.busy
        assert panel.worker.stats.submitted == submitted  # not yet: the window paints first
    wait_render(qtbot, panel, before + 1)
    assert panel.worker.stats.submitted == submitted + 1
    assert_shows(panel, design, CHELSEA, "0")
    panel.set_selected_node("2")  # same network and image: rendered from the cache, at once
    assert panel.worker.stats.submitted == submitted + 2
    wait_render(qtbot, panel, before + 2)
    assert_shows(panel, design, CHELSEA, "2")
    panel.set_design(design.replace_layer(0, design.layers[0].with_changes(filters=10)))
    panel.shutdown()  # a run still waiting to start is dropped with the panel
    qtbot.wait(2 * feature_maps.DEFER_MS)
    assert panel.worker.stats.submitted == submitted + 2
    assert not panel.busy


def test_a_narrow_panel_ends_the_image_name_in_an_ellipsis(
    qtbot: QtBot, panel: FeatureMapPanel
) -> None:
    panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)
    label = panel.source_label
    full = "chelsea.png 170×256 → 25×64"
    assert label.text() == full
    assert label.shown_text() == full  # 1000 px wide: all of it
    label.resize(label.fontMetrics().horizontalAdvance(full) // 2, label.height())
    shown = label.shown_text()
    assert shown.endswith("…")
    assert full.startswith(shown[:-1])  # cut at the end, never mid-way without a mark
    assert label.text() == full
    assert full.split(" → ")[0].split(" ")[0] in label.toolTip()


def test_new_titles_never_re_lay_out_the_views(
    qtbot: QtBot, panel: FeatureMapPanel, qa: Design
) -> None:
    """A result or a click changes titles (one to three lines, any width): the image views keep
    their geometry, so drawing a result paints each view once instead of laying it out again."""
    from PySide6.QtCore import QRectF

    panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)
    qtbot.wait(50)
    views = (panel.input_view, panel.detail_view, panel.mosaic_view, panel.histogram)

    def geometry() -> list[QRectF]:
        return [QRectF(view.geometry()) for view in views]

    before = geometry()
    panel.set_selected_node("2")
    wait_render(qtbot, panel, 2)
    qtbot.wait(50)
    panel.select_position(5, 3, 0)  # input title: three lines, reaching into the padding
    assert panel.input_title.text.count("<br>") == 2
    assert "Channel 5" in panel.detail_title.text
    qtbot.wait(50)
    assert geometry() == before
    # The full text is on hover, in case the column is too narrow to show it all.
    assert panel.input_title.toolTip().count("\n") == 2
    assert "<" not in panel.detail_title.toolTip()
    assert "Channel 5 · mean" in panel.detail_title.toolTip()


def test_a_title_wider_than_its_column_is_cut_at_the_end(qtbot: QtBot) -> None:
    import pyqtgraph as pg

    from convdesigner.ui.feature_items import TitleLabel

    widget = pg.GraphicsLayoutWidget()
    qtbot.addWidget(widget)
    title = TitleLabel("short", lines=2)
    widget.addItem(title, row=0, col=0)
    widget.resize(200, 200)
    widget.show()
    qtbot.waitExposed(widget)
    height = title.geometry().height()
    assert title.opts["justify"] == "center"
    title.setText("a long title " * 10 + "<br>and a second line")
    widget.resize(201, 200)  # a relayout, as a dock resize would do
    qtbot.waitUntil(lambda: title.geometry().width() >= 150)
    assert title.opts["justify"] == "left"  # the start stays readable
    assert title.geometry().height() == height
    assert title.geometry().width() <= widget.width()


def test_selecting_a_position_outside_the_output_is_refused(
    qtbot: QtBot, panel: FeatureMapPanel
) -> None:
    panel.load_image_file(CHELSEA)
    wait_render(qtbot, panel, 1)  # the input: 1×25×64
    with pytest.raises(ValueError, match="channel 5, row 3, col 0 is outside the shown 1×25×64"):
        panel.select_position(5, 3, 0)
    with pytest.raises(ValueError, match="outside"):
        panel.select_position(0, 25, 0)
    assert panel.receptive_field_rect() is None  # nothing half-selected
