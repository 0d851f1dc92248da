"""``convdesigner --self-test``: prove that this copy of the app works end to end, headless.

A frozen bundle can build fine and still fail on a user's machine: a Qt plugin, a template or a
sample image left out, a lazily imported module never collected. So the self-test drives what a
user would do, through the real window: open the app on the Q&A example, load a bundled sample
image, compute the feature maps, export the layer table as CSV, and check every result against the
Qt-free core. It prints one ``OK`` line per step and exits 0; on the first failure it prints one
line naming the step and the problem and exits 1. It never touches the user's settings.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import numpy as np

    from convdesigner.core.design import Design
    from convdesigner.core.viewer import ViewResult
    from convdesigner.ui.main_window import MainWindow
    from convdesigner.ui.viewer_dock import FeatureMapsController

PROG = "convdesigner --self-test"
SAMPLE = "chelsea.png"
"""The bundled sample the self-test feeds the network (an RGB photo: exercises the conversion)."""
TIMEOUT_S = 120.0
"""A hung step (a deadlocked worker, a dialog waiting for a click) fails instead of hanging CI."""
COMPUTE_TIMEOUT_MS = 60_000


class SelfTestFailure(Exception):
    """One step failed; the message names the step and the problem."""


@contextmanager
def _step(name: str, current: list[str]) -> Iterator[None]:
    current[0] = name
    try:
        yield
    except SelfTestFailure as exc:
        raise SelfTestFailure(f"{name}: {exc}") from None
    except Exception as exc:  # anything a step raises is that step's failure, not a traceback
        detail = str(exc) or type(exc).__name__
        raise SelfTestFailure(f"{name}: {type(exc).__name__}: {detail}") from exc


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise SelfTestFailure(message)


def _prepare_environment(settings_dir: Path) -> None:
    """Must run before Qt is imported: the platform plugin is chosen at QApplication creation."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    from convdesigner.ui.settings import SETTINGS_DIR_ENV

    os.environ[SETTINGS_DIR_ENV] = str(settings_dir)


OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints()"
"""Qt's offscreen platform says this for every dock; it says nothing about the app."""


@contextmanager
def _without_offscreen_noise() -> Iterator[None]:
    """Drop that one Qt message; pass every other one on (to pytest-qt's handler, in tests)."""
    from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if message == OFFSCREEN_NOISE:
            return
        if previous is not None:
            previous(kind, context, message)
        else:
            print(message, file=sys.stderr, flush=True)

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


def _where() -> str:
    import convdesigner

    kind = "frozen" if getattr(sys, "frozen", False) else "installed"
    return f"{kind} at {Path(convdesigner.__file__).resolve().parent}"


def _sample_dir() -> Path:
    import importlib

    return Path(importlib.import_module("convdesigner.resources").SAMPLES)


def _sample_path() -> Path:
    path = _sample_dir() / SAMPLE
    _check(path.is_file(), f"the bundled sample image is missing: {path}")
    return path


def _wait(predicate: Callable[[], bool], timeout_ms: int) -> bool:
    """Run the Qt event loop until ``predicate()`` holds (True) or the time is up (False)."""
    from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QEventLoop

    deadline = QDeadlineTimer(timeout_ms)
    while not predicate():
        if deadline.hasExpired():
            return False
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.005)
    return True


def _engine_maps(design: Design, sample: Path) -> list[np.ndarray]:
    """The reference activations: the core engine on the sample, resized to the design's input."""
    from convdesigner.core.engine.forward import run_design
    from convdesigner.core.images import load_image

    spec = design.input
    image = load_image(sample, spec.channels, (spec.height, spec.width))
    return run_design(design, image)


def _viewer(window: MainWindow) -> FeatureMapsController | None:
    """The window's feature-map viewer, installed the way the app does it if it is not there yet
    (None in a build without the viewer)."""
    controller = getattr(window, "feature_maps", None)
    if controller is None:
        try:
            from convdesigner.ui.viewer_dock import install_feature_maps
        except ImportError:
            return None
        controller = install_feature_maps(window, sample=None, lazy=False)
    return cast("FeatureMapsController", controller)


def _viewer_maps(window: MainWindow, sample: Path) -> list[np.ndarray] | None:
    """Load ``sample`` through the viewer, wait for the last layer's mosaic on screen, and return
    the activations behind it (None without a viewer)."""
    import numpy as np

    controller = _viewer(window)
    if controller is None:
        return None
    panel = controller.panel
    rendered: list[ViewResult] = []
    panel.rendered.connect(rendered.append)
    last = window.design.outputs[-1]
    window.select_node(last)
    _check(controller.load_sample(sample.name), f"the viewer could not load {sample.name}")

    def shown() -> bool:  # the newest image and the last layer, not an earlier render
        newest = rendered[-1] if rendered else None
        return (
            newest is not None
            and newest.request.source is panel.source
            and newest.request.options.node == last
        )

    _check(
        _wait(shown, COMPUTE_TIMEOUT_MS),
        f"no feature maps on screen after {COMPUTE_TIMEOUT_MS / 1000:.0f} s",
    )
    result = panel.result
    _check(result is not None, "the viewer reported a render but shows nothing")
    assert result is not None
    _check(result.activations.design == window.design, "the viewer ran another design")
    _check(result.note == "", f"the viewer shows no maps: {result.note}")
    _check(result.request.options.node == last, f"the viewer shows node {panel.selected_node}")
    _check(
        result.mosaic is not None and result.mosaic.rgba.size > 0,
        "the selected layer's mosaic is empty",
    )
    maps = list(result.activations.arrays)
    _check(
        result.layer_array is not None and np.array_equal(result.layer_array, maps[-1]),
        "the mosaic is not drawn from the last layer's activations",
    )
    return maps


def _same_maps(viewer: list[Any], engine: list[Any]) -> None:
    """The viewer's arrays are the engine's: same count and shapes, equal values."""
    import numpy as np

    _check(
        len(viewer) == len(engine),
        f"{len(viewer)} arrays from the viewer, {len(engine)} from the engine",
    )
    for i, (a, b) in enumerate(zip(viewer, engine, strict=True)):
        what = "the input" if i == 0 else f"layer {i - 1}"
        _check(a.shape == b.shape, f"{what}: the viewer has {a.shape}, the engine {b.shape}")
        _check(
            bool(np.allclose(a, b, rtol=1e-5, atol=1e-6)),
            f"{what}: the viewer's values differ from the engine's "
            f"(max difference {float(np.max(np.abs(a - b))):.3g})",
        )


def _dispose(window: MainWindow) -> None:
    """Delete the window and its viewer now: widgets left for interpreter shutdown (pyqtgraph's
    above all) can crash it, and in-process callers (the tests) go on using the QApplication."""
    from PySide6.QtCore import QCoreApplication, QEvent

    # First let handlers queued by the close (zero-time timers) run while the window still exists.
    deadline = time.perf_counter() + 0.1
    while time.perf_counter() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.005)
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _check_maps(maps: list[Any], design: Design) -> str:
    import numpy as np

    from convdesigner.core.analysis import analyse

    analysis = analyse(design)
    _check(
        len(maps) == len(design.layers) + 1,
        f"{len(maps)} activations for {len(design.layers)} layers and the input",
    )
    for row, array in zip(analysis.rows, maps, strict=True):
        _check(
            tuple(array.shape) == tuple(row.output_shape or ()),
            f"{row.name}: the engine gave {array.shape}, the analysis says {row.output_shape}",
        )
        _check(bool(np.isfinite(array).all()), f"{row.name}: non-finite values in the activations")
    _check(float(np.ptp(maps[0])) > 0, "the input image is blank")
    last = analysis.rows[-1]
    return f"{len(maps) - 1} layers, last {last.name}: {last.shape_text}"


def run(workdir: Path, current: list[str]) -> Iterator[str]:
    """The checks, in order; yields one line per passed step, raises SelfTestFailure.

    ``current[0]`` is kept set to the running step's name, for the watchdog's message.
    """

    with _step("start Qt", current):
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion
        from PySide6.QtGui import QGuiApplication

        from convdesigner.appinfo import APP_ID
        from convdesigner.ui.app import create_app

        app = create_app()
        _check(
            QGuiApplication.desktopFileName() == APP_ID,
            f"the desktop file name is {QGuiApplication.desktopFileName()!r}, "
            f"expected {APP_ID!r} (the .desktop file and metainfo id)",
        )
        yield (
            f"Qt {qVersion()} (PySide6 {pyside_version}, platform {app.platformName()}), "
            f"convdesigner {_where()}"
        )

    with _step("open the main window", current):
        from convdesigner.core.templates import DEFAULT_TEMPLATE, load_template
        from convdesigner.ui.main_window import MainWindow

        window = MainWindow()
        window.show()
        _wait(window.isVisible, 5_000)
        expected = load_template(DEFAULT_TEMPLATE)
        _check(
            window.design == expected,
            f"it shows {window.design.name!r}, not the {expected.name!r} template",
        )
        _check(not window.windowIcon().isNull(), "the window has no icon")
        _check(
            window.analysis.ok,
            f"the example has errors: {window.analysis.first_error}",
        )
        yield f"main window shows {expected.name!r} ({len(expected.layers)} layers)"

    try:
        with _step("compute the feature maps", current):
            sample = _sample_path()
            started = time.perf_counter()
            maps = _viewer_maps(window, sample)
            elapsed_ms = (time.perf_counter() - started) * 1000
            reference = _engine_maps(window.design, sample)
            if maps is None:  # a build without the viewer: the engine alone
                maps, source = reference, "engine"
            else:
                _same_maps(maps, reference)
                source = "feature-map viewer, equal to the engine's"
            summary = _check_maps(maps, window.design)
            yield f"feature maps of {sample.name} by the {source}: {summary} ({elapsed_ms:.0f} ms)"

        with _step("export the layer table", current):
            from convdesigner.core.analysis import analyse
            from convdesigner.core.table import to_csv

            csv_path = workdir / "layers.csv"
            _check(window.export_table(str(csv_path)), f"writing {csv_path} failed")
            _check(csv_path.is_file(), f"{csv_path} was not written")
            exported = csv_path.read_text(encoding="utf-8")
            expected_csv = to_csv(analyse(window.design))
            _check(
                exported == expected_csv,
                "the exported CSV differs from the core's to_csv",
            )
            lines = exported.splitlines()
            _check(
                len(lines) >= len(window.design.layers) + 2,
                f"only {len(lines)} lines for {len(window.design.layers)} layers",
            )
            yield f"layer table CSV ({len(lines)} lines) equals the core's to_csv"
    finally:
        current[0] = "close the main window"
        closed_cleanly = window.close()
        viewer = getattr(window, "feature_maps", None)
        if viewer is not None:  # stop its worker now, not on the next event-loop turn
            viewer.shutdown()
        _dispose(window)
    with _step("close the main window", current):
        _check(closed_cleanly, "it stayed open (a dialog asked something?)")


def _watchdog(current: list[str]) -> threading.Timer:
    """Fail (exit 1) if the whole test takes longer than TIMEOUT_S, naming the step it hung in."""

    def fire() -> None:
        print(
            f"{PROG}: FAILED: {current[0] or 'start'}: no result after {TIMEOUT_S:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        os._exit(1)

    timer = threading.Timer(TIMEOUT_S, fire)
    timer.daemon = True
    timer.start()
    return timer


def main(argv: list[str] | None = None) -> int:
    """Run every check; 0 if all pass, 1 (one line on stderr) on the first failure, 2 on misuse."""
    if argv:
        print(f"{PROG}: error: takes no arguments (got {' '.join(argv)})", file=sys.stderr)
        return 2
    started = time.perf_counter()
    current = ["prepare"]
    watchdog = _watchdog(current)
    with tempfile.TemporaryDirectory(prefix="convdesigner-selftest-") as tmp:
        workdir = Path(tmp)
        try:
            _prepare_environment(workdir / "settings")
            with _without_offscreen_noise():
                for line in run(workdir, current):
                    print(f"OK  {line}", flush=True)
        except SelfTestFailure as exc:
            print(f"{PROG}: FAILED: {exc}", file=sys.stderr, flush=True)
            return 1
        except Exception as exc:  # e.g. Qt missing entirely: still one line, never a traceback
            print(f"{PROG}: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            return 1
        finally:
            watchdog.cancel()
    print(f"{PROG}: all checks passed in {time.perf_counter() - started:.1f} s", flush=True)
    return 0
