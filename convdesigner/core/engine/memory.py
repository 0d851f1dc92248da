"""How much memory a run needs, decided before it starts, so an oversized run is refused cleanly.

The engine keeps every layer's output (the viewer shows them all), so activations dominate. The
only other large allocations are the per-layer working copies (the channels-last input and the
flattened vector) and the im2col chunks, which :mod:`convdesigner.core.kernels.conv` keeps under
:data:`~convdesigner.core.kernels.budget.CHUNK_BUDGET` whatever the image size. The estimate is
therefore an upper bound that is tight enough to be useful: activations + parameters + one
activation-sized working copy + budget.
"""

from __future__ import annotations

import math

from convdesigner.core.analysis import BYTES_PER_VALUE, CHECKPOINT_MASK, Analysis, bytes_text
from convdesigner.core.kernels.budget import CHUNK_BUDGET, PLANAR_MAX_CHANNELS
from convdesigner.core.ops import spec_for
from convdesigner.core.switching import checkpoint

DEFAULT_MEMORY_LIMIT = 2 * 1024 * 1024 * 1024
"""Runs estimated above this are refused unless the caller passes a larger limit (or None)."""


class MemoryLimitError(ValueError):
    """The run would need more memory than allowed; raised before anything is allocated."""

    def __init__(
        self, estimate_bytes: int, limit_bytes: int, what: str = "computing the feature maps"
    ) -> None:
        self.estimate_bytes = estimate_bytes
        self.limit_bytes = limit_bytes
        super().__init__(
            f"{what} needs about {bytes_text(estimate_bytes)}, more than the "
            f"limit of {bytes_text(limit_bytes)}; use a smaller input size or fewer filters"
        )


def estimate_from_analysis(analysis: Analysis, *, keep_all: bool = True) -> int:
    """Peak bytes of a run of the analysed design (its analysis must be error-free).

    With ``keep_all`` (the viewer's runs) every output stays; otherwise each output is freed
    after its last reader, and the activations term is the largest sum of outputs alive at
    once along the execution order.
    """
    # One pass over the rows, a checkpoint every 256 of them: a pass is milliseconds of pure
    # Python for a 10,000-node design, and a worker running this pauses there while the window
    # refreshes (whole passes between checkpoints slowed a click on a dense block to 30-60 ms).
    totals = analysis.totals
    largest = flat = planar = 0
    for i, r in enumerate(analysis.rows):
        if not i & CHECKPOINT_MASK:
            checkpoint()
        largest = max(largest, r.activation_bytes)
        # Flatten and Dense read a map as one vector: a working copy of it.
        if r.output_shape is not None and len(r.output_shape) == 1 and r.input_shape:
            flat = max(flat, math.prod(r.input_shape) * BYTES_PER_VALUE)
        # A convolution reading few channels works from a padded channels-first copy of its
        # input (at most twice the input; see conv.py).
        ins = r.input_shapes
        if (
            r.layer is not None
            and ins
            and ins[0] is not None
            and ins[0][0] <= PLANAR_MAX_CHANNELS
            and spec_for(r.layer).fuse == "conv"
        ):
            planar = max(planar, 2 * ins[0][0] * math.prod(ins[0][1:]) * BYTES_PER_VALUE)
    activations = totals.activation_bytes if keep_all else live_peak(analysis)
    # Parameters are held twice: as given (torch layout) and as GEMM-ready matrices.
    return activations + 2 * totals.parameter_bytes + largest + flat + planar + CHUNK_BUDGET


def live_peak(analysis: Analysis) -> int:
    """Most activation bytes alive at once when each output is freed after its last reader
    (the design's outputs are kept to the end)."""
    design = analysis.design
    readers = {key: len(ids) for key, ids in design.consumers.items()}
    kept = set(design.outputs)
    size = {row.id: row.activation_bytes for row in analysis.rows}
    alive = size["input"]
    peak = alive
    for i, (node, sources) in enumerate(zip(design.nodes, design.resolved_inputs, strict=True)):
        if not i & CHECKPOINT_MASK:
            checkpoint()
        alive += size[node.id]
        peak = max(peak, alive)
        for s in sources:
            readers[s] -= 1
            if readers[s] == 0 and s not in kept:
                alive -= size[s]
    return peak


def check_limit(estimate: int, limit: int | None, what: str = "computing the feature maps") -> None:
    if limit is not None and estimate > limit:
        raise MemoryLimitError(estimate, limit, what)


WRITER_SLACK = 16 * 1024 * 1024
"""Buffers of the .npz writer and the zip module (each array is streamed, never copied)."""


def estimate_weights(analysis: Analysis) -> int:
    """Peak bytes of drawing and writing a design's default weights (each drawn once, cached
    read-only, streamed to the file)."""
    return analysis.totals.parameter_bytes + WRITER_SLACK
