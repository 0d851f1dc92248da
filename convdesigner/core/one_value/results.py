"""What taking one output value apart gives: the numbers, and a line of text that uses them.

Every result carries ``total`` (the value recomputed in float64 from the numbers it shows) next
to ``engine_value`` (what the engine computed, in float32), and ``magnitude`` (the size of the
terms that were summed): the two values agree to float32 rounding of terms that large, which is
what the tests check for every op.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PARTIALS_SHOWN = 4
"""Partial sums written out in the one-line text before "…"."""


def where(channel: int, y: int, x: int) -> str:
    return f"out[c={channel}, y={y}, x={x}]"


def _terms(partial_sums: np.ndarray, bias: float) -> str:
    shown = [f"{v:.4g}" for v in partial_sums[:PARTIALS_SHOWN]]
    if len(partial_sums) > PARTIALS_SHOWN:
        shown.append("…")
    return " + ".join([*shown, f"{bias:.4g}"])


@dataclass(frozen=True)
class ConvValue:
    """One output value of a convolution, taken apart."""

    node: str
    channel: int
    y: int
    x: int
    source: str
    """Id of the node the convolution reads (``"input"`` for the image)."""
    in_channels: tuple[int, ...]
    """The input channels this filter reads: all of them, or its group's."""
    rows: tuple[int, ...]
    """Input row of each kernel row (outside 0..H-1: in the padding)."""
    cols: tuple[int, ...]
    window: np.ndarray
    """(len(in_channels), kh, kw) input values under the kernel, 0 in the padding."""
    padded: np.ndarray
    """(kh, kw) True where the tap falls in the padding (the same for every channel)."""
    kernel: np.ndarray
    """(len(in_channels), kh, kw): weight[channel]."""
    partial_sums: np.ndarray
    """One Σ window × kernel per input channel (float64)."""
    bias: float
    total: float
    """Σ partial sums + bias, in float64."""
    engine_value: float
    """What the engine computed for this position (float32)."""

    @property
    def kernel_size(self) -> tuple[int, int]:
        return int(self.kernel.shape[1]), int(self.kernel.shape[2])

    @property
    def magnitude(self) -> float:
        return float(np.abs(self.window * self.kernel).sum()) + abs(self.bias)

    def text(self) -> str:
        """One line: what is summed, the first partial sums and the total."""
        kh, kw = self.kernel_size
        n = len(self.in_channels)
        over = f"{n} channel{'s' if n != 1 else ''} × {kh}×{kw} window"
        return (
            f"{where(self.channel, self.y, self.x)} = Σ over {over} of input × kernel + bias = "
            f"{_terms(self.partial_sums, self.bias)} = {self.total:.4g}"
        )


def _landing(kind: str, sources: tuple[float, ...], size: int) -> str:
    """Which input row (or column) each kernel row (column) reads, and why the others read none.

    ``sources``: per kernel index, the input coordinate whose spread lands here (a fraction
    when it falls between input positions because of the stride)."""
    hits, between, outside = [], [], []
    for k, s in enumerate(sources):
        if s != int(s):
            between.append(k)
        elif not 0 <= s < size:
            outside.append(k)
        else:
            hits.append(f"{k} ← {kind} {int(s)}")
    parts = [", ".join(hits) if hits else "none lands here"]
    if between:
        parts.append(f"{_indices(between)} between input {kind}s (the stride)")
    if outside:
        parts.append(f"{_indices(outside)} outside the input")
    return f"kernel {kind}s: " + "; ".join(parts)


def _indices(ks: list[int]) -> str:
    return ", ".join(str(k) for k in ks)


@dataclass(frozen=True)
class ConvTransposeValue:
    """One output value of a transposed convolution, taken apart.

    A transposed convolution spreads every input value over a kernel-sized patch of the output;
    seen from one output value, kernel tap (i, j) brings in the input value at row
    ``(y + pad_top - i·dilation) / stride`` (and the same for the column) when that is a whole
    number inside the input, and nothing otherwise."""

    node: str
    channel: int
    y: int
    x: int
    source: str
    in_channels: tuple[int, ...]
    """The input channels of this output channel's group."""
    in_size: tuple[int, int]
    """Height and width of the input map."""
    row_sources: tuple[float, ...]
    """Per kernel row i, the input row (y + pad - i·dilation) / stride: a fraction when it
    falls between input rows, outside 0..H-1 when outside the input."""
    col_sources: tuple[float, ...]
    window: np.ndarray
    """(len(in_channels), kh, kw): the input value each tap brings in, 0 where none."""
    lands: np.ndarray
    """(kh, kw) True where a tap brings in an input value (the same for every channel)."""
    kernel: np.ndarray
    """(len(in_channels), kh, kw): weight[c, channel within the group] (PyTorch's layout)."""
    partial_sums: np.ndarray
    bias: float
    total: float
    engine_value: float

    @property
    def kernel_size(self) -> tuple[int, int]:
        return int(self.kernel.shape[1]), int(self.kernel.shape[2])

    @property
    def magnitude(self) -> float:
        return float(np.abs(self.window * self.kernel).sum()) + abs(self.bias)

    def landing(self) -> str:
        """Which input rows and columns the kernel's rows and columns bring in here."""
        h, w = self.in_size
        return _landing("row", self.row_sources, h) + "; " + _landing("col", self.col_sources, w)

    def text(self) -> str:
        kh, kw = self.kernel_size
        n = len(self.in_channels)
        taps = int(self.lands.sum())
        head = where(self.channel, self.y, self.x)
        if taps == 0:
            return (
                f"{head}: no kernel tap of this transposed convolution lands here "
                f"({self.landing()}), so the value is the bias = {self.total:.4g}"
            )
        channels = f"{n} channel{'s' if n != 1 else ''}"
        return (
            f"{head} = Σ over {channels} of input × kernel at the {taps} of {kh}×{kw} taps that "
            f"land here + bias = {_terms(self.partial_sums, self.bias)} = {self.total:.4g}; "
            f"{self.landing()}"
        )


@dataclass(frozen=True)
class OtherValue:
    """A value that is not a sum over channels: one sentence with its numbers says how.

    ``total`` is the value worked out from those numbers (None only for an op this version
    cannot take apart); ``magnitude`` the size of the terms it was worked out from."""

    node: str
    channel: int
    y: int
    x: int
    engine_value: float
    explanation: str
    total: float | None = None
    magnitude: float = 0.0

    def text(self) -> str:
        return self.explanation


Explained = ConvValue | ConvTransposeValue | OtherValue
