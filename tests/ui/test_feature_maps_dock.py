"""The viewer in the main window: menus, samples, drops, selection, edits, exports, screenshot."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from convdesigner.core.engine.forward import run_design
from convdesigner.core.images import load_image
from convdesigner.core.mosaic import render
from convdesigner.ui.main_window import MainWindow
from convdesigner.ui.viewer_dock import (
    SAMPLES,
    FeatureMapsController,
    Fit,
    install_feature_maps,
    sample_path,
)
from tests.ui.ui_helpers import record

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "feature-maps.png"


@pytest.fixture
def viewer(qtbot: QtBot, window: MainWindow) -> Iterator[FeatureMapsController]:
    window.resize(1500, 1000)
    controller = install_feature_maps(window, lazy=False)
    wait_idle(qtbot, controller, 1)
    yield controller
    controller.shutdown()


def wait_idle(qtbot: QtBot, controller: FeatureMapsController, renders: int) -> None:
    panel = controller.panel
    qtbot.waitUntil(lambda: panel.render_count >= renders and not panel.busy, timeout=30000)


def expected_rgba(window: MainWindow, controller: FeatureMapsController, path: Path) -> np.ndarray:
    panel = controller.panel
    design = window.design
    layer = window.selected_layer()
    spec = design.input
    acts = run_design(design, load_image(path, spec.channels, (spec.height, spec.width)))
    result = panel.result
    assert result is not None
    return render(
        acts[0 if layer is None else layer + 1],
        scale=panel.scale,
        colormap=panel.colormap,
        aspect=result.request.options.aspect,
    ).rgba


def test_menus_and_default_sample(window: MainWindow, viewer: FeatureMapsController) -> None:
    texts = [a.text() for a in window.file_menu.actions()]
    assert "Load &Image…" in texts
    assert "Export Feature &Maps as PNG…" in texts
    assert "Export &Activations (.npz)…" in texts
    assert [a.text() for a in viewer.samples_menu.actions()] == list(SAMPLES.values())
    assert viewer.dock.objectName() == "featureMapsDock"
    assert viewer.dock.toggleViewAction() in window.view_menu.actions()
    panel = viewer.panel
    assert panel.source is not None
    assert panel.source.name == "chelsea.png"
    # nothing selected: the panel shows the network's input channels
    np.testing.assert_array_equal(
        panel.mosaic_item.image, expected_rgba(window, viewer, sample_path("chelsea.png"))
    )


def test_follows_selection_and_edits(
    qtbot: QtBot, window: MainWindow, viewer: FeatureMapsController
) -> None:
    panel = viewer.panel
    path = sample_path("chelsea.png")
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        window.select_layer(2)
    assert panel.selected_node == "2"
    np.testing.assert_array_equal(panel.mosaic_item.image, expected_rgba(window, viewer, path))
    edited = window.design.replace_layer(2, window.design.layers[2].with_changes(filters=9))
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        window.apply_design(edited, "Edit filters")
    assert panel.design == window.design
    np.testing.assert_array_equal(panel.mosaic_item.image, expected_rgba(window, viewer, path))
    assert panel.result is not None
    assert panel.result.layer_array is not None
    assert panel.result.layer_array.shape[0] == 9
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        window.undo_stack.undo()
    assert panel.result.layer_array.shape[0] == 150


def test_samples_menu_and_dropped_file(
    qtbot: QtBot,
    window: MainWindow,
    viewer: FeatureMapsController,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    panel = viewer.panel
    asked: list[str] = []
    monkeypatch.setattr(viewer, "choose_fit", lambda name, hw: record(asked, name, Fit.RESIZE))
    shapes = next(a for a in viewer.samples_menu.actions() if "synthetic" in a.text())
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        shapes.trigger()
    assert panel.source is not None
    assert panel.source.name == "shapes.png"
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        window.imageFileDropped.emit(str(sample_path("camera.png")))
    assert panel.source.name == "camera.png"
    assert asked == ["camera.png"]  # a dropped file asks how to fit; a sample does not
    np.testing.assert_array_equal(
        panel.mosaic_item.image, expected_rgba(window, viewer, sample_path("camera.png"))
    )


def test_load_image_resize_or_set_input_size(
    qtbot: QtBot,
    window: MainWindow,
    viewer: FeatureMapsController,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    panel = viewer.panel
    coffee = str(sample_path("coffee.png"))  # 256×171, the design's input is 64×25
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (coffee, ""))
    asked: list[tuple[int, int]] = []

    def choose(name: str, hw: tuple[int, int]) -> Fit:
        asked.append(hw)
        return answer

    monkeypatch.setattr(viewer, "choose_fit", choose)
    original = window.design

    answer = Fit.CANCEL
    viewer.load_action.trigger()
    qtbot.waitUntil(lambda: not viewer.reading, timeout=10000)
    assert panel.source is not None
    assert panel.source.name == "chelsea.png"  # cancelled: nothing changed

    answer = Fit.RESIZE
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        viewer.load_action.trigger()
    assert panel.source.name == "coffee.png"
    assert window.design == original
    assert "resized to the design's input 25×64" in panel.source_label.toolTip()
    assert panel.source_label.text() == "coffee.png 171×256 → 25×64"

    answer = Fit.SET_INPUT
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        viewer.load_action.trigger()
    qtbot.waitUntil(lambda: not panel.busy, timeout=10000)
    assert asked == [(171, 256)] * 3
    assert (window.design.input.height, window.design.input.width) == (171, 256)
    assert window.design.input.channels == 1  # greyscale conversion follows the input
    assert panel.result is not None
    assert panel.result.activations.arrays[0].shape == (1, 171, 256)
    assert "resized" not in panel.source_label.toolTip()
    assert "→" not in panel.source_label.text()
    window.undo_stack.undo()  # the size change is one undoable step
    assert window.design == original


def test_opened_files_are_decoded_off_the_ui_thread_newest_wins(
    qtbot: QtBot,
    window: MainWindow,
    viewer: FeatureMapsController,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A dropped or chosen file is decoded in the background: the window keeps handling events
    while a big photo decodes, and a file opened meanwhile supersedes it."""
    import threading

    from convdesigner.core import images

    panel = viewer.panel
    source = panel.source
    asked: list[str] = []
    monkeypatch.setattr(viewer, "choose_fit", lambda name, hw: record(asked, name, Fit.RESIZE))
    release = threading.Event()
    decoders: list[str] = []
    real_read = images.read_image

    def slow_read(path: str | os.PathLike[str]) -> np.ndarray:
        decoders.append(threading.current_thread().name)
        if Path(path).name == "coffee.png":
            assert release.wait(10)  # a slow decode, until the test lets it finish
        return real_read(path)

    monkeypatch.setattr(images, "read_image", slow_read)
    viewer.open_image(sample_path("coffee.png"))
    assert viewer.reading
    assert panel.source is source  # returned at once, nothing replaced yet
    qtbot.waitUntil(lambda: bool(decoders), timeout=5000)
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(5)
    qtbot.wait(100)  # the event loop runs while the decode is stuck
    timer.stop()
    assert len(ticks) >= 5
    assert "coffee" in window.statusBar().currentMessage()
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        viewer.open_image(sample_path("camera.png"))  # supersedes coffee.png
        release.set()
    qtbot.waitUntil(lambda: not viewer.reading, timeout=10000)
    assert panel.source is not None
    assert panel.source.name == "camera.png"
    assert asked == ["camera.png"]  # the superseded file was never offered
    assert threading.current_thread().name not in decoders


def test_corrupt_file_keeps_current_image(
    qtbot: QtBot, window: MainWindow, viewer: FeatureMapsController, tmp_path: Path
) -> None:
    panel = viewer.panel
    shown = panel.mosaic_item.image.copy()
    source = panel.source
    bad = tmp_path / "photo.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    window.imageFileDropped.emit(str(bad))
    qtbot.waitUntil(lambda: not viewer.reading, timeout=10000)
    assert panel.source is source
    assert panel.banner.isVisible()
    assert "photo.jpg" in panel.banner.text()
    np.testing.assert_array_equal(panel.mosaic_item.image, shown)
    assert window.design.input.height == 25


def test_export_dialogs(
    qtbot: QtBot,
    window: MainWindow,
    viewer: FeatureMapsController,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from convdesigner.cli import main as cli_main
    from convdesigner.core.fileformat import save_design

    panel = viewer.panel
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        window.select_layer(0)
    png, npz = tmp_path / "maps.png", tmp_path / "acts.npz"
    targets = iter([str(png), str(npz)])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (next(targets), ""))
    assert viewer.export_png_dialog()
    assert viewer.export_npz_dialog()
    image = QImage(str(png))
    result = panel.result
    assert result is not None
    assert result.mosaic is not None
    assert (image.height(), image.width()) == result.mosaic.rgba.shape[:2]
    # the .npz is what `convdesigner run --resize` writes for the same design and image
    design_file = tmp_path / "design.json"
    save_design(window.design, design_file)
    cli_out = tmp_path / "cli.npz"
    code = cli_main(
        [
            "run",
            str(design_file),
            "--input",
            str(sample_path("chelsea.png")),
            "--resize",
            "--out",
            str(cli_out),
        ]
    )
    assert code == 0
    with np.load(npz) as ours, np.load(cli_out) as theirs:
        assert sorted(ours.files) == sorted(theirs.files)
        for key in theirs.files:
            np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-6, atol=1e-6)


def test_export_without_maps_explains(
    qtbot: QtBot,
    window: MainWindow,
    viewer: FeatureMapsController,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from convdesigner.core.layers import Dense, Flatten

    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warnings.append(text))
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "x.png"), "")
    )
    panel = viewer.panel
    design = window.design.append(Flatten()).append(Dense(units=5))
    window.apply_design(design, "Add classifier")
    window.select_layer(4)

    def shows_layer_4() -> bool:
        result = panel.result
        return result is not None and result.request.options.node == "4"

    qtbot.waitUntil(lambda: shows_layer_4() and not panel.busy, timeout=20000)
    assert panel.stack.currentWidget() is panel.bar_plot
    assert not viewer.export_png_dialog()
    assert warnings
    assert "no mosaic" in warnings[0]
    assert not (tmp_path / "x.png").exists()


def test_screenshot_of_viewer_with_qa_example(
    qtbot: QtBot, window: MainWindow, viewer: FeatureMapsController, tmp_path: Path
) -> None:
    panel = viewer.panel
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        window.select_layer(0)
    result = panel.result
    assert result is not None
    assert result.mosaic is not None
    panel.select_position(5, 12, 30)
    qtbot.wait(100)
    assert panel.rf_rect.isVisible()
    out = tmp_path / "feature-maps.png"
    assert window.grab().save(str(out), "PNG")
    dock_shot = panel.grab()
    assert dock_shot.save(str(tmp_path / "panel.png"), "PNG")
    image = QImage(str(out))
    assert image.width() >= 1000
    # viridis colours from the mosaic are on screen (not a blank or grey dock)
    step = 5
    colours = {
        image.pixel(x, y)
        for x in range(0, image.width(), step)
        for y in range(0, image.height(), step)
    }
    assert len(colours) > 200
    if os.environ.get("CONVDESIGNER_SCREENSHOTS"):
        DOCS_SHOT.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(DOCS_SHOT), "PNG")


def test_closed_dock_pauses_and_catches_up_when_shown(
    qtbot: QtBot, window: MainWindow, viewer: FeatureMapsController
) -> None:
    panel = viewer.panel
    path = sample_path("chelsea.png")
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        window.select_layer(0)
    viewer.dock.close()
    qtbot.waitUntil(lambda: not panel.active, timeout=5000)
    renders = panel.render_count
    design = window.design
    for filters in (7, 8, 9):
        design = design.replace_layer(0, design.layers[0].with_changes(filters=filters))
        window.apply_design(design, "Edit filters")
    qtbot.wait(200)
    assert panel.render_count == renders  # nothing computed for a closed dock
    with qtbot.waitSignal(panel.rendered, timeout=10000):
        viewer.dock.show()
    qtbot.waitUntil(lambda: not panel.busy, timeout=10000)
    assert panel.result is not None
    assert panel.result.request.design == window.design
    np.testing.assert_array_equal(panel.mosaic_item.image, expected_rgba(window, viewer, path))


def test_installed_on_a_shown_window_without_sample(qtbot: QtBot, window: MainWindow) -> None:
    controller = install_feature_maps(window, sample=None, lazy=False)
    try:
        panel = controller.panel
        assert controller.dock.isVisible()
        assert panel.active
        assert panel.source is None
        assert panel.stack.currentWidget() is panel.message  # asks for an image
        with qtbot.waitSignal(panel.rendered, timeout=10000):
            controller.load_sample("shapes.png")
    finally:
        controller.shutdown()


def test_reset_layout_puts_the_dock_under_the_table(
    qtbot: QtBot, window: MainWindow, viewer: FeatureMapsController
) -> None:
    from PySide6.QtCore import Qt

    viewer.dock.setFloating(True)
    window.reset_layout()
    qtbot.wait(50)
    assert not viewer.dock.isFloating()
    assert viewer.dock.isVisible()
    assert window.dockWidgetArea(viewer.dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    table = window.table_dock
    assert viewer.dock.geometry().top() >= table.geometry().bottom()  # under the table
