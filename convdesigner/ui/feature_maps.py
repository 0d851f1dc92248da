"""The feature-map viewer: the image, and every channel of the selected node, live while editing.

Layout: the network's input on the left (with the receptive field of a clicked position outlined),
and below it one channel enlarged with its histogram; on the right all channels of the selected
node tiled into one mosaic image, or a bar plot for a vector (flatten, dense). What is shown
(node, colormap, scale) is a :class:`~convdesigner.core.viewer.ViewerState`; the widgets only
display it. The engine runs in
a :class:`LatestWorker`, so the window never freezes: each edit cancels the run in progress and
only the newest design's maps are drawn; runs longer than a moment show which layer is computing.

This module imports pyqtgraph; the main window imports it only once it is on screen, so start-up
does not pay for it (see :mod:`convdesigner.ui.viewer_dock`).
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

# isort: split
import pyqtgraph as pg  # after PySide6, so pyqtgraph binds to it rather than another Qt binding

# isort: split
from convdesigner.core.analysis import Analysis, LayerRow, analyse
from convdesigner.core.atomic import atomic_savez
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.engine.forward import MemoryLimitError
from convdesigner.core.images import read_image
from convdesigner.core.mosaic import COLORMAPS, Mosaic, Scale
from convdesigner.core.table import title
from convdesigner.core.viewer import (
    Activations,
    RenderOptions,
    Request,
    SourceImage,
    ViewerState,
    ViewResult,
    channel_detail,
    compute,
    pooled_input,
    receptive_field_rect,
    reusable,
    runnable_part,
)
from convdesigner.ui.elided_label import ElidedLabel
from convdesigner.ui.feature_items import (
    ChannelNumbers,
    TitleLabel,
    image_view,
    network_picture,
)
from convdesigner.ui.one_value_view import OneValueWindow, explain_click
from convdesigner.ui.progress_strip import ProgressStrip
from convdesigner.ui.workers import Job, LatestWorker

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

HISTOGRAM_MIN_HEIGHT = 56
"""Room for the bars and the value axis with its label."""
LEFT_MIN_WIDTH = 200
"""Narrowest the input / enlarged channel column gets."""
HISTOGRAM_ROOM = 180
"""Below this height the enlarged channel's view drops the histogram: at 1366×768 the view
would otherwise get no height at all, and a click on a value there (issue 13, question 6) and a
pooling layer's input and output channel side by side (question 4) would be out of sight."""
BUSY_DELAY_MS = 200
"""Runs shorter than this finish without flashing a busy indicator."""
DETAIL_DELAY_MS = 10
"""The enlarged channel is drawn this long after the mosaic: in the next event-loop pass."""
DEFER_MIN_MACS = 1_000_000_000
PYTHON_BOUND_MACS = 1_000_000
"""Below this many MACs per node on average a run is mostly the engine's Python per layer (a
10,000-layer design of 32×32 maps), not NumPy kernels that release the interpreter: the worker
then lets the UI thread have the interpreter more often (``workers.PYTHON_SWITCH_INTERVAL``)."""
"""Runs at least this heavy (about 15 ms of engine time and up) start a moment after the edit."""
DEFER_MS = 25
"""How long such a run waits: a frame and a bit, so the window repaints the edit first. The
table and pipeline repaint within a few ms once the edit lands, but took 2-4 times longer
while the engine's threads competed with the UI thread for the cores and the GIL."""


class FeatureMapPanel(QWidget):
    """Shows the selected node's feature maps for the current design and image.

    Feed it with :meth:`set_design`, :meth:`set_selected_node` and :meth:`load_image_file` (or
    :meth:`set_image`); it recomputes in the background and emits ``rendered`` after drawing.
    """

    rendered = Signal(object)
    """A new result is on screen (the :class:`ViewResult`)."""
    statusMessage = Signal(str)
    """Short text for the status bar: hover readout, problems."""

    def __init__(self, design: Design | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("featureMapPanel")
        self._design = design if design is not None else Design()
        self._analysis: Analysis = analyse(self._design)
        self._state = ViewerState()
        self._source: SourceImage | None = None
        self._seed = 0
        self._cache: Activations | None = None
        self._result: ViewResult | None = None
        self._inflight: Request | None = None
        self._rf_target: tuple[str | None, int, int] | None = None
        self._detail_channel: int | None = None
        self._detail_left = 0
        """Column where the enlarged channel starts (after a pooling layer's input)."""
        self.render_count = 0
        self.one_value: OneValueWindow | None = None
        """The "One value" window, once a click on a convolution's enlarged channel opened it."""
        self._active = True
        self.worker = LatestWorker(self, background=True)
        self.worker.resultReady.connect(self._on_result)
        self.worker.jobFailed.connect(self._on_failed)
        self.worker.progressed.connect(self._on_progress)
        self.worker.busyChanged.connect(self._on_busy)
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(BUSY_DELAY_MS)
        self._busy_timer.timeout.connect(self._show_busy)
        # The enlarged channel and its histogram are drawn a moment after the mosaic, so the
        # two are painted in separate event-loop passes (each under ~8 ms instead of one of up
        # to ~20 ms when a new design is first drawn).
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.setInterval(DETAIL_DELAY_MS)
        self._detail_timer.timeout.connect(self._draw_pending_detail)
        self._drawn_input: tuple[SourceImage, InputSpec] | None = None
        self._deferred: Job | None = None
        self._start_timer = QTimer(self)
        self._start_timer.setSingleShot(True)
        self._start_timer.setInterval(DEFER_MS)
        self._start_timer.timeout.connect(self._submit_deferred)
        self._build()

    # ------------------------------------------------------------------ construction

    def _build(self) -> None:
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        # Long file names must not widen the dock: the label shrinks, ends in "…" and the
        # tooltip has it all.
        self.source_label = ElidedLabel("No image")
        bar.addWidget(self.source_label, 1)
        # Fixed sizes, kept when hidden: showing the indicator or changing its text must not
        # re-lay out the panel, which would repaint every view (tens of ms on big mosaics).
        self.busy_label = QLabel()
        self.busy_label.setFixedWidth(self.fontMetrics().horizontalAdvance("M" * 14))
        self.busy_bar = ProgressStrip()  # repaints with the frame, not inside the slot
        self.busy_bar.setFixedWidth(60)
        for w in (self.busy_label, self.busy_bar):
            policy = w.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            w.setSizePolicy(policy)
            w.hide()
            bar.addWidget(w)
        bar.addWidget(QLabel("Colormap:"))
        self.colormap_box = QComboBox()
        self.colormap_box.addItems(list(COLORMAPS))
        self.colormap_box.setCurrentText(self._state.colormap)
        self.colormap_box.setToolTip(
            "viridis: perceptually even; greyscale; diverging: zero is grey, negative blue, "
            "positive red (for signed values such as convolution outputs before ReLU)"
        )
        self.colormap_box.currentTextChanged.connect(self.set_colormap)
        bar.addWidget(self.colormap_box)
        self.shared_scale = QCheckBox("Shared scale")
        self.shared_scale.setToolTip(
            "Off: each channel is stretched over its own min..max, so every map shows its detail. "
            "On: all channels share one scale, so their strengths can be compared."
        )
        self.shared_scale.toggled.connect(
            lambda on: self.set_scale(Scale.SHARED if on else Scale.PER_CHANNEL)
        )
        bar.addWidget(self.shared_scale)

        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel { color: #b00020; padding: 2px 4px; }")
        self.banner.hide()

        # left column: the input and one channel enlarged with its histogram
        self.input_widget = pg.GraphicsLayoutWidget()
        self.input_widget.setToolTip("The image as the network sees it (channels and size)")
        # Titles keep a fixed height (see TitleLabel): a new text must not re-lay out a view.
        self.input_title = TitleLabel("Input", lines=3)
        self.input_widget.addItem(self.input_title, row=0, col=0)
        self.input_widget.nextRow()
        self.input_view, self.input_item = image_view(self.input_widget)
        self.rf_rect = QGraphicsRectItem()
        self.rf_rect.setPen(pg.mkPen(QColor(255, 64, 64), width=2))
        self.rf_rect.setZValue(10)
        self.rf_rect.hide()
        self.input_view.addItem(self.rf_rect, ignoreBounds=True)

        self.detail_widget = pg.GraphicsLayoutWidget()
        self.detail_widget.setToolTip("Click a value of a convolution to see how it was computed")
        self.detail_title = TitleLabel("Click a channel", lines=2)
        self.detail_widget.addItem(self.detail_title, row=0, col=0)
        self.detail_widget.nextRow()
        self.detail_view, self.detail_item = image_view(self.detail_widget)
        self.detail_widget.nextRow()
        self.histogram = self.detail_widget.addPlot()
        self.histogram.setMaximumHeight(110)
        self.histogram.setMouseEnabled(x=False, y=False)
        self.histogram.hideButtons()
        self.histogram.setLabel("bottom", "value")
        # No "(x0.001)" scale in the label: it was clipped in a narrow column; the ticks say it.
        self.histogram.getAxis("bottom").enableAutoSIPrefix(False)
        # No counts axis: the histogram's shape is what a learner reads, and in a short plot
        # (a 768-pixel screen) its tick labels ran into each other.
        self.histogram.hideAxis("left")
        self.histogram.setMinimumHeight(HISTOGRAM_MIN_HEIGHT)
        self.histogram_curve = self.histogram.plot(
            stepMode="center", fillLevel=0, brush=(90, 140, 220, 150), pen=pg.mkPen(60, 100, 180)
        )

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.input_widget)
        left.addWidget(self.detail_widget)
        # The enlarged channel is what the learner clicks into: it gets the larger share.
        left.setStretchFactor(0, 2)
        left.setStretchFactor(1, 3)

        # right: the mosaic, a bar plot for vectors, or a message
        self.mosaic_widget = pg.GraphicsLayoutWidget()
        self.mosaic_title = TitleLabel("", lines=1)
        self.mosaic_widget.addItem(self.mosaic_title, row=0, col=0)
        self.mosaic_widget.nextRow()
        self.mosaic_view, self.mosaic_item = image_view(self.mosaic_widget)
        self.tile_rect = QGraphicsRectItem()
        self.tile_rect.setPen(pg.mkPen(QColor(255, 64, 64), width=2))
        self.tile_rect.setZValue(10)
        self.tile_rect.hide()
        self.mosaic_view.addItem(self.tile_rect, ignoreBounds=True)
        self.channel_numbers = ChannelNumbers()
        self.mosaic_view.addItem(self.channel_numbers, ignoreBounds=True)

        self.bar_plot = pg.PlotWidget()
        self.bar_plot.setLabel("bottom", "unit")
        self.bar_plot.setLabel("left", "value")
        # The values themselves on the axis (0.4, not 400 under "value (x0.001)").
        self.bar_plot.getAxis("left").enableAutoSIPrefix(False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush=(70, 130, 200))
        self.bar_plot.addItem(self.bars)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setMargin(24)

        self.stack = QStackedWidget()
        # After the view changes shape (window resized, splitter dragged), lay the tiles out
        # again to fill it; debounced so a drag re-renders once, from the cached activations.
        self._relayout_timer = QTimer(self)
        self._relayout_timer.setSingleShot(True)
        self._relayout_timer.setInterval(150)
        self._relayout_timer.timeout.connect(self._relayout_if_needed)
        self.stack.installEventFilter(self)
        self._histogram_shown = True
        self._histogram_wanted = True
        """A channel is enlarged (no histogram of nothing for an errored layer)."""
        self.detail_widget.installEventFilter(self)
        for page in (self.mosaic_widget, self.bar_plot, self.message):
            self.stack.addWidget(page)

        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(left)
        body.addWidget(self.stack)
        body.setStretchFactor(0, 1)
        body.setStretchFactor(1, 2)
        # Wide enough for the histogram's ticks and the titles, also when a restored layout
        # gives the dock little room (the splitter's sizes are not part of the saved layout).
        left.setMinimumWidth(LEFT_MIN_WIDTH)
        self._body = body
        self._sized = False

        self.hover_label = QLabel(" ")
        self.hover_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.banner)
        layout.addWidget(body, 1)
        layout.addWidget(self.hover_label)

        for widget in (self.mosaic_widget, self.input_widget, self.detail_widget):
            scene = widget.scene()
            scene.sigMouseMoved.connect(lambda pos, w=widget: self._on_hover(w, pos))
            scene.sigMouseClicked.connect(lambda ev, w=widget: self._on_click(w, ev))
        self._show_message("Load an image: File → Load image…, a sample, or drop a file here.")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._sized and self.width() > 400:
            self._sized = True  # first show: a third for input and detail, the rest for maps
            self._body.setSizes([self.width() // 3, self.width() - self.width() // 3])

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self._sized and self.isVisible() and self.width() > 400:
            self._sized = True
            self._body.setSizes([self.width() // 3, self.width() - self.width() // 3])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.stack and event.type() == QEvent.Type.Resize:
            self._relayout_timer.start()
        elif watched is self.detail_widget and event.type() == QEvent.Type.Resize:
            self._fit_histogram()
        return False

    def _fit_histogram(self, *, force: bool = False) -> None:
        """Show the histogram when there is a channel to count, and only where it leaves the
        enlarged channel room of its own."""
        show = self._histogram_wanted and self.detail_widget.height() >= HISTOGRAM_ROOM
        if show == self._histogram_shown and not force:
            return
        self._histogram_shown = show
        # The plot and its value axis (drawn beyond the plot's own rectangle) go together.
        for item in (self.histogram, self.histogram.getAxis("bottom")):
            item.setVisible(show)
        self.histogram.setMinimumHeight(HISTOGRAM_MIN_HEIGHT if show else 0)
        self.histogram.setMaximumHeight(110 if show else 0)

    def _relayout_if_needed(self) -> None:
        result = self._result
        if result is None or result.mosaic is None:
            return
        shown = result.request.options.aspect
        if abs(math.log(self._options().aspect / shown)) > 0.25:
            self._request()

    # ------------------------------------------------------------------ public API

    @property
    def design(self) -> Design:
        return self._design

    @property
    def source(self) -> SourceImage | None:
        return self._source

    @property
    def result(self) -> ViewResult | None:
        """What is on screen now."""
        return self._result

    @property
    def activations(self) -> Activations | None:
        return self._cache

    @property
    def state(self) -> ViewerState:
        """What is shown: node, colormap and scale."""
        return self._state

    def set_state(self, state: ViewerState) -> None:
        state = state.following(self._design)
        if state == self._state:
            return
        if state.node != self._state.node:
            self._detail_channel = None
            self._rf_target = None
            self._clear_hover()
        self._state = state
        with QSignalBlocker(self.colormap_box), QSignalBlocker(self.shared_scale):
            self.colormap_box.setCurrentText(state.colormap)
            self.shared_scale.setChecked(state.scale is Scale.SHARED)
        self._request()

    @property
    def selected_node(self) -> str | None:
        return self._state.node

    def set_selected_node(self, node: str | None) -> None:
        """Show ``node``'s maps (None, or a node the design lacks: the input)."""
        if node is not None and node not in self._design:
            node = None
        self.set_state(replace(self._state, node=node))

    @property
    def colormap(self) -> str:
        return self._state.colormap

    def set_colormap(self, name: str) -> None:
        self.set_state(replace(self._state, colormap=name))  # ValueError for an unknown one

    @property
    def scale(self) -> Scale:
        return self._state.scale

    def set_scale(self, scale: Scale) -> None:
        self.set_state(replace(self._state, scale=scale))

    def set_design(self, design: Design, analysis: Analysis | None = None) -> None:
        """Show ``design`` (``analysis``: its analysis, when the caller has it)."""
        if design == self._design:
            return
        self._design = design
        self._analysis = (
            analysis if analysis is not None and analysis.design is design else analyse(design)
        )
        self._clear_hover()  # it described a value of the design before this edit
        self._state = self._state.following(design)
        self._request()

    def forget_shown(self, message: str) -> None:
        """Another design was opened: take the previous one's maps, titles and readout off the
        screen now, rather than when the new design's maps are ready (seconds for VGG-16)."""
        self._show_message(message)
        self.mosaic_item.clear()
        self.mosaic_title.setText("")
        self._clear_detail("")
        self._clear_hover()
        self._rf_target = None
        self.rf_rect.hide()

    def set_image(self, pixels_hwc: np.ndarray, name: str) -> None:
        """Use a decoded picture ((H, W, C) float32 in [0, 1]) as the input."""
        self._source = SourceImage(np.asarray(pixels_hwc, dtype=np.float32), name)
        self._cache = None
        self._rf_target = None
        self.banner.hide()
        self._request()

    def load_image_file(self, path: str | os.PathLike[str]) -> bool:
        """Read and show ``path``; on failure say why and keep the current image."""
        try:
            pixels = read_image(path)
        except (ValueError, OSError) as exc:
            self.show_problem(f"Cannot use this image: {exc}. The current image is kept.")
            return False
        self.set_image(pixels, Path(path).name)
        return True

    def show_problem(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.show()
        self.statusMessage.emit(text)

    @property
    def busy(self) -> bool:
        """A run is waiting to start, running or queued, or its result is still being drawn."""
        return self._start_timer.isActive() or self.worker.busy or self._detail_timer.isActive()

    def shutdown(self) -> None:
        """Stop background work; called when the window closes."""
        self._busy_timer.stop()
        self._start_timer.stop()
        self._detail_timer.stop()
        self._deferred = None
        self.worker.shutdown()

    # ------------------------------------------------------------------ export

    def export_mosaic_png(self, path: str | os.PathLike[str]) -> None:
        """Save the mosaic as drawn (one pixel per value, transparent gaps)."""
        result = self._result
        if result is None or result.mosaic is None:
            raise ValueError("there is no mosaic on screen to export (select a layer with maps)")
        rgba = np.ascontiguousarray(result.mosaic.rgba)
        h, w, _ = rgba.shape
        image = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        if not image.save(os.fspath(path)):
            raise OSError(f"could not write {os.fspath(path)}")

    def export_activations_npz(self, path: str | os.PathLike[str]) -> None:
        """Every activation of the shown run, keyed like ``convdesigner run`` (``input``, then
        each node's id)."""
        cache = self._cache
        if cache is None:
            raise ValueError("no activations yet: load an image first")
        arrays = {
            key: np.ascontiguousarray(array, dtype=np.float32)
            for key, array in cache.as_dict().items()
        }
        atomic_savez(path, arrays)

    # ------------------------------------------------------------------ computing

    def _options(self) -> RenderOptions:
        size = self.stack.size()
        aspect = size.width() / size.height() if size.height() > 50 and size.width() > 50 else 1.6
        return RenderOptions.of(self._state, aspect, self._detail_channel or 0)

    @property
    def active(self) -> bool:
        return self._active

    def set_active(self, active: bool) -> None:
        """Pause while the panel cannot be seen (dock closed or behind a tab): edits then cost
        nothing here; the newest state is computed once it shows again."""
        if active == self._active:
            return
        self._active = active
        if active:
            self._request()
        else:
            self._inflight = None
            self._start_timer.stop()
            self._deferred = None
            self.worker.cancel()

    def _request(self) -> None:
        if self._source is None or not self._active:
            return
        request = Request(
            self._design,
            self._source,
            self._options(),
            self._seed,
            self._cache,
            analysis=self._analysis,
        )
        inflight = self._inflight
        if inflight is not None and (inflight.design, inflight.source, inflight.seed) == (
            request.design,
            request.source,
            request.seed,
        ):
            # Same network and image already being computed: let it finish (a selection or
            # colormap change must not restart a long run); _on_result renders the new options.
            return
        self._inflight = request
        job: Job = partial(compute, request)
        if self._analysis.totals.macs >= DEFER_MIN_MACS and self._needs_engine(request):
            # Stop the stale run now, start the new one once the window has shown the edit.
            self.worker.cancel()
            self._deferred = job
            self._start_timer.start()
        else:
            self._start_timer.stop()
            self._deferred = None
            self.worker.submit(job, python_bound=self._python_bound())

    def _python_bound(self) -> bool:
        nodes = max(len(self._design), 1)
        return self._analysis.totals.macs < PYTHON_BOUND_MACS * nodes

    def _needs_engine(self, request: Request) -> bool:
        part, _ = runnable_part(self._design, self._analysis)
        return reusable(request, part) is None

    def _submit_deferred(self) -> None:
        job, self._deferred = self._deferred, None
        if job is not None:
            self.worker.submit(job, python_bound=self._python_bound())

    def _on_busy(self, busy: bool) -> None:
        if busy:
            self._busy_timer.start()
        else:
            self._busy_timer.stop()
            self.busy_label.hide()
            self.busy_bar.hide()

    def _show_busy(self) -> None:
        if self.busy:
            self.busy_label.setText("Computing…")
            self.busy_label.show()
            self.busy_bar.show()

    def _on_progress(self, _request: int, i: int, n: int) -> None:
        self.busy_bar.set_progress(i, n)
        nodes = self._design.nodes  # not ``layers``: a new list per call (10,000 nodes)
        name = nodes[i].op.label if i < len(nodes) else ""
        text = f"Computing layer {i} of {n}: {name}…"
        metrics = self.busy_label.fontMetrics()
        width = self.busy_label.width()
        self.busy_label.setText(metrics.elidedText(text, Qt.TextElideMode.ElideRight, width))
        self.busy_label.setToolTip(text)

    def _on_failed(self, _request: int, error: object) -> None:
        self._inflight = None
        if isinstance(error, MemoryLimitError):
            # the error already says what to change (a smaller input or fewer filters)
            self._show_message(f"Not computed, to keep the computer responsive: {error}")
        else:
            self._show_message(f"Cannot compute the feature maps: {error}")
        self.statusMessage.emit(str(error))

    def _on_result(self, _request: int, result: ViewResult) -> None:
        self._inflight = None
        self._cache = result.activations
        self._result = result
        self._draw(result)
        self.render_count += 1
        self.rendered.emit(result)
        # The options changed while this job ran (e.g. another layer was clicked): render again
        # from the activations just stored, which is quick.
        shown = result.request
        latest = (self._design, self._source, self._options(), self._seed)
        if (shown.design, shown.source, shown.options, shown.seed) != latest and (
            self._source is shown.source
        ):
            self._request()

    # ------------------------------------------------------------------ drawing

    def _draw(self, result: ViewResult) -> None:
        request = result.request
        source = request.source
        spec = request.design.input
        if self._drawn_input != (source, spec):
            # Only when the picture or the input changed: an edit of a layer leaves it as is.
            net_input = result.activations.arrays[0]
            self.input_item.setImage(network_picture(net_input), autoLevels=False)
            self.input_view.enableAutoRange()  # refit on resize too, until the user zooms
            self._drawn_input = (source, spec)
        resized = (source.height, source.width) != (spec.height, spec.width)
        size = f"{source.height}×{source.width}"
        if resized:
            self.source_label.setText(f"{source.name} {size} → {spec.height}×{spec.width}")
            self.source_label.setToolTip(
                f"{source.name}: {size} pixels, resized to the design's input "
                f"{spec.height}×{spec.width} (H×W)"
            )
        else:
            self.source_label.setText(f"{source.name} {size}")
            self.source_label.setToolTip(f"{source.name}: {size} pixels, the design's input size")
        self._draw_outline()
        node = request.options.node
        array = result.layer_array
        if array is None:
            note = result.note or "This node has no output."
            self._show_message(note)
            self._clear_detail("No values to show<br>(why: on the right)")
            return
        row = self._row(result.analysis, node)
        heading = title(row)
        if result.mosaic is not None:
            self._draw_mosaic(result.mosaic, f"{heading} · {row.shape_text}", array.shape[0])
            self._detail_timer.start()  # -> _draw_pending_detail, once the mosaic is painted
        else:
            self._draw_bars(array, f"{heading} · {array.shape[0]:,} values")
            # Two short lines: on one, the 1366×768 layout cut it at "…are the ba".
            self._clear_detail("A vector: its values<br>are the bars on the right")

    def _draw_pending_detail(self) -> None:
        result = self._result
        array = result.layer_array if result is not None else None
        if array is None or array.ndim != 3:
            return
        channel = self._detail_channel
        self._draw_detail(array, channel if channel is not None and channel < len(array) else 0)

    def _row(self, analysis: Analysis, node: str | None) -> LayerRow:
        return analysis.rows[0] if node is None else analysis.row(node)

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    def _draw_mosaic(self, mosaic: Mosaic, title: str, channels: int) -> None:
        previous = self.mosaic_item.image
        self.mosaic_item.setImage(mosaic.rgba, autoLevels=False)
        if previous is None or previous.shape != mosaic.rgba.shape:
            self.mosaic_view.enableAutoRange()
        self.mosaic_title.setText(f"{title} · {channels} channel{'s' if channels != 1 else ''}")
        self.stack.setCurrentWidget(self.mosaic_widget)
        self.channel_numbers.set_layout(mosaic.layout)
        channel = self._detail_channel
        if channel is not None and channel < channels:
            self._mark_tile(mosaic, channel)
        else:
            self.tile_rect.hide()

    def _mark_tile(self, mosaic: Mosaic, channel: int) -> None:
        r, c = mosaic.layout.origin(channel)
        h, w = mosaic.layout.tile_height, mosaic.layout.tile_width
        self.tile_rect.setRect(QRectF(c - 0.5, r - 0.5, w + 1, h + 1))
        self.tile_rect.show()

    def _draw_bars(self, values: np.ndarray, title: str) -> None:
        x = np.arange(values.shape[0])
        self.bars.setOpts(x=x, height=np.asarray(values, dtype=np.float64), width=0.8)
        self.bar_plot.setTitle(title)
        self.bar_plot.autoRange()
        self.stack.setCurrentWidget(self.bar_plot)
        self.tile_rect.hide()

    def _draw_detail(self, array: np.ndarray, channel: int) -> None:
        result = self._result
        detail = result.detail if result is not None else None
        if detail is None or detail.channel != channel or detail.colormap != self.colormap:
            before = None
            if result is not None:
                node = result.request.options.node
                before = pooled_input(result.analysis, result.activations, node)
            detail = channel_detail(array, channel, self.colormap, before)
        self.detail_item.setImage(detail.rgba, autoLevels=False)
        self._detail_left = detail.output_left
        self.detail_view.enableAutoRange()
        self.histogram_curve.setData(detail.edges, detail.counts)
        self._histogram_wanted = True
        self._fit_histogram(force=True)
        if detail.input_hw is not None:  # pooling: the same channel of its input on the left
            (h, w), (oh, ow) = detail.input_hw, array.shape[1:]
            # Two short lines, as the narrow column holds ("input … → output …" and the mean
            # beside it were cut off): the maps under it show which side is which.
            low_high = detail.stats.split("<br>")[-1]
            self.detail_title.setText(f"Channel {channel}: {h}×{w} → {oh}×{ow}<br>{low_high}")
        else:
            self.detail_title.setText(f"Channel {channel} · {detail.stats}")

    def _clear_detail(self, why: str) -> None:
        """No channel to enlarge: say ``why`` instead of an empty histogram on a made-up axis."""
        self.detail_item.clear()
        self._detail_left = 0
        self.histogram_curve.setData([0, 1], [0])
        self._histogram_wanted = False
        self._fit_histogram(force=True)
        self.detail_title.setText(why)

    def _clear_hover(self) -> None:
        self.hover_label.setText(" ")

    # ------------------------------------------------------------------ mouse

    def _pixel(self, widget: QWidget, scene_pos: QPointF) -> tuple[str, float, float] | None:
        """Which picture the mouse is over and where, in that picture's pixels (row, col)."""
        items = {
            self.mosaic_widget: ("mosaic", self.mosaic_item),
            self.input_widget: ("input", self.input_item),
            self.detail_widget: ("detail", self.detail_item),
        }
        kind, item = items[widget]
        if item.image is None:
            return None
        p = item.mapFromScene(scene_pos)
        h, w = item.image.shape[:2]
        if not (0 <= p.x() < w and 0 <= p.y() < h):
            return None
        return kind, p.y(), p.x()

    def _locate(self, kind: str, row: float, col: float) -> tuple[int, int, int] | None:
        """(channel, y, x) of the selected layer's output under the mouse."""
        result = self._result
        if result is None or result.layer_array is None or result.layer_array.ndim != 3:
            return None
        if kind == "mosaic" and result.mosaic is not None:
            return result.mosaic.layout.locate(row, col)
        if kind == "detail":
            channel = self._detail_channel or 0
            left = self._detail_left
            if col < left:
                return None  # the pooled input beside the output
            return channel, int(row), int(col - left)
        return None

    def _on_hover(self, widget: QWidget, scene_pos: QPointF) -> None:
        hit = self._pixel(widget, scene_pos)
        result = self._result
        if hit is None or result is None:
            return
        kind, row, col = hit
        if kind == "input":
            image = result.activations.arrays[0]
            y, x = int(row), int(col)
            values = ", ".join(f"{v:.4g}" for v in image[:, y, x])
            text = f"input · row {y}, col {x} · {values}"
        else:
            where = self._locate(kind, row, col)
            if where is None or result.layer_array is None:
                return
            c, y, x = where
            value = float(result.layer_array[c, y, x])
            text = f"channel {c} · row {y}, col {x} · value {value:.5g}"
        self.hover_label.setText(text)
        self.statusMessage.emit(text)

    def _on_click(self, widget: QWidget, event: object) -> None:
        scene_pos = event.scenePos()  # type: ignore[attr-defined]
        hit = self._pixel(widget, scene_pos)
        if hit is None:
            return
        kind, row, col = hit
        where = self._locate(kind, row, col)
        if where is None:
            return
        self.select_position(*where)
        if kind == "detail" and self._result is not None:
            self.one_value = explain_click(self, self.one_value, self._result, *where)

    def select_position(self, channel: int, y: int, x: int) -> None:
        """Show ``channel`` enlarged and outline the input region that output (y, x) sees."""
        result = self._result
        if result is None or result.layer_array is None or result.layer_array.ndim != 3:
            return
        c, h, w = result.layer_array.shape
        if not (0 <= channel < c and 0 <= y < h and 0 <= x < w):
            raise ValueError(
                f"channel {channel}, row {y}, col {x} is outside the shown {c}×{h}×{w} output"
            )
        self._detail_channel = channel
        self._rf_target = (result.request.options.node, y, x)
        self._draw_detail(result.layer_array, channel)
        if result.mosaic is not None:
            self._mark_tile(result.mosaic, channel)
        self._draw_outline()

    def receptive_field_rect(self) -> tuple[int, int, int, int] | None:
        """(top, left, height, width) in input pixels of the outlined region, or None."""
        target = self._rf_target
        if target is None:
            return None
        node, y, x = target
        if node is not None and node not in self._design:
            return None
        return receptive_field_rect(self._row(self._analysis, node), y, x, self._design.input)

    def _draw_outline(self) -> None:
        target = self._rf_target
        rect = self.receptive_field_rect() if target and target[0] == self._state.node else None
        if rect is None:
            self.rf_rect.hide()
            spec = self._drawn_input[1] if self._drawn_input is not None else self._design.input
            self.input_title.setText(f"Input {spec.height}×{spec.width}×{spec.channels}")
            return
        top, left, h, w = rect
        self.rf_rect.setRect(QRectF(left, top, w, h))
        self.rf_rect.show()
        beyond = top < 0 or left < 0 or top + h > self._design.input.height
        beyond = beyond or left + w > self._design.input.width
        self.input_title.setText(
            f"Input · receptive field {h}×{w}<br>from row {top}, col {left}"
            + ("<br>(reaches into the padding)" if beyond else "")
        )
