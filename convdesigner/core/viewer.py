"""The feature-map viewer's state and what it computes off the UI thread (no Qt).

:class:`ViewerState` is what the user chose (which node, which colormap, which scale); the panel
only shows it. A request names everything a picture depends on: the design, the source image,
the seed, the selected node and the display options. :func:`compute` runs the engine only when
the activations it was given are not for this design and image, then renders the selected
node's mosaic, so changing the colormap or the selection never re-runs a network and an edit
never draws a stale picture.

A design with an error still shows something useful: the engine runs every node that does not
depend on a bad one (their maps are exact), and the viewer says why the rest cannot be shown.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from convdesigner.core.analysis import Analysis, LayerRow, analyse
from convdesigner.core.cancel import Cancelled, CancelToken
from convdesigner.core.design import INPUT_ID, Design, InputSpec
from convdesigner.core.engine.forward import (
    DEFAULT_MEMORY_LIMIT,
    MemoryLimitError,
    estimate_memory,
    run_design,
)
from convdesigner.core.images import to_input
from convdesigner.core.mosaic import COLORMAPS, DEFAULT_COLORMAP, Mosaic, Scale, render
from convdesigner.core.ops import spec_for
from convdesigner.core.table import where

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
class ViewerState:
    """What the viewer shows, as the user chose it: one node's maps, in one colormap and scale.

    Kept apart from the widgets so it can be saved, restored, compared and tested without Qt;
    the panel's combo box and check box only display it.
    """

    node: str | None = None
    """Id of the node whose output is shown; None shows the input the network sees."""
    colormap: str = DEFAULT_COLORMAP
    scale: Scale = Scale.PER_CHANNEL

    def __post_init__(self) -> None:
        if self.colormap not in COLORMAPS:
            raise ValueError(
                f"unknown colormap {self.colormap!r}; choose one of {', '.join(COLORMAPS)}"
            )

    def following(self, design: Design) -> ViewerState:
        """The state for an edited design: a node that is gone shows the input."""
        if self.node is None or self.node in design:
            return self
        return replace(self, node=None)


@dataclass(frozen=True)
class RenderOptions:
    node: str | None
    """Id of the node whose output is shown; None shows the input the network sees."""
    colormap: str = DEFAULT_COLORMAP
    scale: Scale = Scale.PER_CHANNEL
    aspect: float = 1.0
    """Width / height of the view, so the mosaic fills it."""
    channel: int = 0
    """The channel shown enlarged."""

    @classmethod
    def of(cls, state: ViewerState, aspect: float = 1.0, channel: int = 0) -> RenderOptions:
        return cls(state.node, state.colormap, state.scale, aspect, channel)


@dataclass(frozen=True)
class Activations:
    """The engine's output for one design and image (possibly part of the design)."""

    design: Design
    """The design that was run (the full design, or the nodes that do not depend on an error)."""
    source: SourceImage
    seed: int
    arrays: tuple[np.ndarray, ...]
    """The input, then one array per node of ``design``, in its order."""

    @property
    def ids(self) -> tuple[str, ...]:
        """The key of each array: ``"input"``, then the node ids."""
        return (INPUT_ID, *self.design.ids)

    def get(self, node: str | None) -> np.ndarray | None:
        """The output of ``node`` (None: the input), or None if it was not computed."""
        if node is None:
            return self.arrays[0]
        if node not in self.design:
            return None
        return self.arrays[self.design.index_of(node) + 1]

    def as_dict(self) -> dict[str, np.ndarray]:
        """Arrays by id, as ``convdesigner run`` writes them (``input``, then each node's)."""
        return dict(zip(self.ids, self.arrays, strict=True))


@dataclass(frozen=True)
class Request:
    design: Design
    source: SourceImage
    options: RenderOptions
    seed: int = 0
    cached: Activations | None = None
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT
    analysis: Analysis | None = None
    """The design's analysis, if the caller has it (computed once, shared with the views)."""


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
    output_left: int = 0
    """Column of ``rgba`` where the channel starts: after the same channel of the input, for a
    pooling layer (0 otherwise)."""
    input_hw: tuple[int, int] | None = None
    """Size of that input channel, when it is shown."""


def channel_detail(
    array: np.ndarray, channel: int, colormap: str, before: np.ndarray | None = None
) -> Detail:
    """Picture (normalised on its own range), histogram and min/max/mean of one channel.

    ``before``: the maps this channel was computed from, channel by channel (a pooling layer's
    input). The same channel of it is drawn on the left, on the scale the two share, so a
    learner sees each output map come from exactly one input map.
    """
    data = np.asarray(array[channel], dtype=np.float32)
    # In float64: the span and the sum of float32 values near its limit (an image or weights
    # of 1e38) overflow float32, and the histogram and the mean failed on them.
    finite = data[np.isfinite(data)].astype(np.float64)
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS, range=(lo, hi))
        stats = f"mean {float(finite.mean()):.4g}<br>min {lo:.4g} · max {hi:.4g}"
    else:
        counts, edges = np.zeros(1, dtype=np.int64), np.array([0.0, 1.0])
        stats = "no finite values"
    if before is None or channel >= before.shape[0]:
        rgba = render(data[None], colormap=colormap).rgba
        return Detail(channel, colormap, rgba, counts, edges, stats)
    source = np.asarray(before[channel], dtype=np.float32)
    rgba, left = side_by_side(source, data, colormap)
    hw = (int(source.shape[0]), int(source.shape[1]))
    return Detail(channel, colormap, rgba, counts, edges, stats, left, hw)


def side_by_side(first: np.ndarray, second: np.ndarray, colormap: str) -> tuple[np.ndarray, int]:
    """Two 2-D maps in one RGBA picture on their shared value range, a transparent gap between;
    and the column where the second starts."""
    h = max(first.shape[0], second.shape[0])
    w = max(first.shape[1], second.shape[1])
    both = np.full((2, h, w), np.nan, dtype=np.float32)
    both[0, : first.shape[0], : first.shape[1]] = first
    both[1, : second.shape[0], : second.shape[1]] = second
    gap = max(2, first.shape[1] // 16)
    tiles = render(both, scale=Scale.SHARED, colormap=colormap, aspect=1e9, gap=gap)
    # A very wide aspect puts the two tiles in one row: [first | gap | second].
    left = tiles.layout.origin(1)[1]
    return tiles.rgba, int(left)


def pooled_input(
    analysis: Analysis, activations: Activations, node: str | None
) -> np.ndarray | None:
    """The maps a pooling node pooled (its input), to show beside its output; None otherwise."""
    if node is None or node not in analysis.design:
        return None
    row = analysis.row(node)
    if row.layer is None or spec_for(row.layer).family != "pool" or len(row.inputs) != 1:
        return None
    source = row.inputs[0]
    array = activations.get(None if source == INPUT_ID else source)
    return array if array is not None and array.ndim == 3 else None


@dataclass(frozen=True)
class ViewResult:
    request: Request
    activations: Activations
    analysis: Analysis
    """Of the full requested design (rows after an error say why they have no maps)."""
    layer_array: np.ndarray | None
    """The selected node's output ((C, H, W) map or 1-D vector), None if it was not computed."""
    mosaic: Mosaic | None
    """Rendered when ``layer_array`` is a map."""
    note: str = ""
    """Why the selected node has no picture (an error in the design), empty otherwise."""
    detail: Detail | None = None
    """The enlarged channel (``options.channel``), prepared here so drawing stays cheap."""


def runnable_part(design: Design, analysis: Analysis | None = None) -> tuple[Design, str]:
    """The nodes that can run (every node that does not depend on an error), and a sentence
    saying what is left out (empty if nothing is).

    Those nodes keep their ids and inputs: a node that reads "the entry above" implicitly can
    only run if that entry can, so it stays right below it.
    """
    analysis = analysis if analysis is not None else analyse(design)
    bad = analysis.first_error
    if bad is None or bad.index is None:
        return design, ""
    ok = [node for node, row in zip(design.nodes, analysis.rows[1:], strict=True) if row.ok]
    part = replace(design, nodes=tuple(ok))
    said = f"{where(bad, capital=True)} ({bad.name}) has an error: {bad.message}"
    if design.is_sequential:
        shown = f" Feature maps are shown up to layer {bad.index - 1}." if bad.index > 0 else ""
    else:
        shown = " Feature maps are shown for the nodes that do not depend on it."
    return part, said + shown


def network_input(design: Design, source: SourceImage) -> np.ndarray:
    """(C, H, W) for the design: channels converted, resized to the input size when it differs
    (read-only, remembered by the picture)."""
    spec = design.input
    return source.network_input(spec.channels, spec.height, spec.width)


def reusable(request: Request, part: Design) -> Activations | None:
    """The request's cached activations if they are this run's (``part``: the nodes that can
    run, from :func:`runnable_part`), else None: the engine must run."""
    cached = request.cached
    if (
        cached is not None
        and cached.design == part
        and cached.source is request.source
        and cached.seed == request.seed
    ):
        return cached
    return None


def _analysis(request: Request) -> Analysis:
    given = request.analysis
    if given is not None and given.design is request.design:
        return given
    return analyse(request.design)


def compute(request: Request, token: CancelToken, progress: Progress | None = None) -> ViewResult:
    """Run (or reuse) the activations and render the selected node."""
    analysis = _analysis(request)
    part, note = runnable_part(request.design, analysis)
    cached = reusable(request, part)
    if cached is not None:
        activations = cached
    else:
        # The engine takes the analysis of what it runs: the design's own when all of it runs.
        part_analysis = analysis if part is request.design else analyse(part)
        # Refuse before resizing the picture: a huge input size must not allocate anything.
        estimate = estimate_memory(part, part_analysis)
        if request.memory_limit is not None and estimate > request.memory_limit:
            raise MemoryLimitError(estimate, request.memory_limit)
        image = network_input(part, request.source)
        if token.cancelled:
            raise Cancelled("the run was cancelled")
        arrays = run_design(
            part,
            image,
            seed=request.seed,
            cancel=token,
            progress=progress,
            memory_limit=request.memory_limit,
            analysis=part_analysis,
        )
        activations = Activations(part, request.source, request.seed, tuple(arrays))
    options = request.options
    array = activations.get(options.node)
    if array is None:
        return ViewResult(request, activations, analysis, None, None, note)
    if token.cancelled:
        raise Cancelled("the run was cancelled")
    if array.ndim != 3:
        return ViewResult(request, activations, analysis, array, None, "")
    mosaic = render(array, scale=options.scale, colormap=options.colormap, aspect=options.aspect)
    channel = options.channel if 0 <= options.channel < array.shape[0] else 0
    before = pooled_input(analysis, activations, options.node)
    detail = channel_detail(array, channel, options.colormap, before)
    return ViewResult(request, activations, analysis, array, mosaic, "", detail)


def receptive_field_rect(
    row: LayerRow, y: int, x: int, spec: InputSpec
) -> tuple[int, int, int, int]:
    """(top, left, height, width) in input pixels of what output position (y, x) of ``row``
    sees; it may reach past the input's edges (into the padding)."""
    if row.index is None:
        return y, x, 1, 1
    if row.receptive_field is None or row.jump is None or row.rf_start is None:
        return 0, 0, spec.height, spec.width  # global pooling, a vector: the whole input
    top = row.rf_start[0] + y * row.jump[0]
    left = row.rf_start[1] + x * row.jump[1]
    return top, left, row.receptive_field[0], row.receptive_field[1]
