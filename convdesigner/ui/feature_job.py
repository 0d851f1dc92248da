"""What the feature-map viewer computes off the UI thread, as one pure function (no Qt).

A request names everything the picture depends on: the design, the source image, the seed, the
selected layer and the display options. The job runs the engine only when the activations it was
given are not for this design and image, then renders the selected layer's mosaic, so changing the
colormap or the selection never re-runs a network and an edit never draws a stale picture.

A design with an error still shows something useful: the engine runs the layers *before* the first
bad one (their maps are exact), and the viewer says why the rest cannot be shown.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from convdesigner.core.analysis import Analysis, analyse
from convdesigner.core.cancel import Cancelled, CancelToken
from convdesigner.core.design import Design
from convdesigner.core.engine.forward import (
    DEFAULT_MEMORY_LIMIT,
    MemoryLimitError,
    estimate_memory,
    run_design,
)
from convdesigner.core.images import to_input
from convdesigner.core.mosaic import Mosaic, Scale, render

Progress = Callable[[int, int], None]

INPUTS_KEPT = 3
"""Network inputs a picture remembers (input sizes a user switches between)."""


@dataclass(frozen=True, eq=False)
class SourceImage:
    """A loaded picture, (H, W, C) float32 in [0, 1] as read; identity is the cache key."""

    pixels: np.ndarray
    name: str
    _inputs: OrderedDict[tuple[int, int, int], np.ndarray] = field(
        default_factory=OrderedDict, repr=False
    )
    """What the network saw of this picture, per (channels, height, width): converting and
    resizing a 12-megapixel photo takes about 0.2 s, and every edit runs the engine again."""

    def network_input(self, channels: int, height: int, width: int) -> np.ndarray:
        """(channels, height, width) float32, read-only. Jobs run one at a time, so the memo is
        not raced (and dict operations stay safe under the GIL if two ever overlap)."""
        key = (channels, height, width)
        image = self._inputs.get(key)
        if image is None:
            image = to_input(self.pixels, channels, (height, width))
            image.setflags(write=False)
            self._inputs[key] = image
            while len(self._inputs) > INPUTS_KEPT:
                self._inputs.popitem(last=False)
        return image

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


@dataclass(frozen=True)
class RenderOptions:
    layer: int | None
    """Index in ``design.layers``; None shows the input the network sees."""
    colormap: str = "viridis"
    scale: Scale = Scale.PER_CHANNEL
    aspect: float = 1.0
    """Width / height of the view, so the mosaic fills it."""
    channel: int = 0
    """The channel shown enlarged."""


@dataclass(frozen=True)
class Activations:
    """The engine's output for one design and image (possibly a prefix of the design)."""

    design: Design
    """The design that was run (the full design, or the layers before its first error)."""
    source: SourceImage
    seed: int
    arrays: tuple[np.ndarray, ...]
    """input, then one array per layer of ``design``."""


@dataclass(frozen=True)
class Request:
    design: Design
    source: SourceImage
    options: RenderOptions
    seed: int = 0
    cached: Activations | None = None
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT


HISTOGRAM_BINS = 64


@dataclass(frozen=True)
class Detail:
    """One channel enlarged: its picture, histogram and value range."""

    channel: int
    colormap: str
    rgba: np.ndarray
    counts: np.ndarray
    edges: np.ndarray
    stats: str


def channel_detail(array: np.ndarray, channel: int, colormap: str) -> Detail:
    """Picture (normalised on its own range), histogram and min/max/mean of one channel."""
    data = np.asarray(array[channel], dtype=np.float32)
    rgba = render(data[None], colormap=colormap).rgba
    finite = data[np.isfinite(data)]
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS, range=(lo, hi))
        stats = f"mean {float(finite.mean()):.4g}<br>min {lo:.4g} · max {hi:.4g}"
    else:
        counts, edges = np.zeros(1, dtype=np.int64), np.array([0.0, 1.0])
        stats = "no finite values"
    return Detail(channel, colormap, rgba, counts, edges, stats)


@dataclass(frozen=True)
class ViewResult:
    request: Request
    activations: Activations
    analysis: Analysis
    """Of the full requested design (rows after an error say why they have no maps)."""
    layer_array: np.ndarray | None
    """The selected layer's output ((C, H, W) map or 1-D vector), None if it was not computed."""
    mosaic: Mosaic | None
    """Rendered when ``layer_array`` is a map."""
    note: str = ""
    """Why the selected layer has no picture (an error in the design), empty otherwise."""
    detail: Detail | None = None
    """The enlarged channel (``options.channel``), prepared here so drawing stays cheap."""


def runnable_prefix(design: Design, analysis: Analysis | None = None) -> tuple[Design, str]:
    """The design cut before its first bad layer, and a sentence saying so (empty if whole)."""
    analysis = analysis if analysis is not None else analyse(design)
    bad = analysis.first_error
    if bad is None or bad.index is None:
        return design, ""
    note = (
        f"Layer {bad.index} ({bad.name}) has an error: {bad.message} "
        f"Feature maps are shown up to layer {bad.index - 1}."
        if bad.index > 0
        else f"Layer 0 ({bad.name}) has an error: {bad.message}"
    )
    return replace(design, layers=design.layers[: bad.index]), note


def network_input(design: Design, source: SourceImage) -> np.ndarray:
    """(C, H, W) for the design: channels converted, resized to the input size when it differs
    (read-only, remembered by the picture)."""
    spec = design.input
    return source.network_input(spec.channels, spec.height, spec.width)


def reusable(request: Request, prefix: Design) -> Activations | None:
    """The request's cached activations if they are this run's (``prefix``: the layers that can
    run, from :func:`runnable_prefix`), else None: the engine must run."""
    cached = request.cached
    if (
        cached is not None
        and cached.design == prefix
        and cached.source is request.source
        and cached.seed == request.seed
    ):
        return cached
    return None


def compute(request: Request, token: CancelToken, progress: Progress | None = None) -> ViewResult:
    """Run (or reuse) the activations and render the selected layer."""
    analysis = analyse(request.design)
    prefix, note = runnable_prefix(request.design, analysis)
    cached = reusable(request, prefix)
    if cached is not None:
        activations = cached
    else:
        # Refuse before resizing the picture: a huge input size must not allocate anything.
        estimate = estimate_memory(prefix)
        if request.memory_limit is not None and estimate > request.memory_limit:
            raise MemoryLimitError(estimate, request.memory_limit)
        image = network_input(prefix, request.source)
        if token.cancelled:
            raise Cancelled("the run was cancelled")
        arrays = run_design(
            prefix,
            image,
            seed=request.seed,
            cancel=token,
            progress=progress,
            memory_limit=request.memory_limit,
        )
        activations = Activations(prefix, request.source, request.seed, tuple(arrays))
    options = request.options
    position = 0 if options.layer is None else options.layer + 1
    if position >= len(activations.arrays):
        return ViewResult(request, activations, analysis, None, None, note)
    array = activations.arrays[position]
    if token.cancelled:
        raise Cancelled("the run was cancelled")
    if array.ndim != 3:
        return ViewResult(request, activations, analysis, array, None, "")
    mosaic = render(array, scale=options.scale, colormap=options.colormap, aspect=options.aspect)
    channel = options.channel if 0 <= options.channel < array.shape[0] else 0
    detail = channel_detail(array, channel, options.colormap)
    return ViewResult(request, activations, analysis, array, mosaic, "", detail)
