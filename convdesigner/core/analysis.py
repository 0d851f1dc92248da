"""Shape and cost analysis of a design: the layer table, with a derivation for every number.

``analyse(design)`` walks the layers once, from the input, and returns one :class:`LayerRow` per
layer plus the input row. It is recomputed from scratch on every call (a 500-layer design takes a
few milliseconds), so no view ever shows stale numbers, and it never raises for a design the
loader accepts: a layer that cannot work on what reaches it gets ``Status.ERROR`` and a message a
learner can act on, and every layer after it ``Status.NOT_COMPUTABLE``.

The derivation texts are built only when someone reads them (the explain panel shows one row at a
time), which keeps the per-keystroke recomputation cheap.

Conventions (docs/formulas.md explains each):
- shapes are (C, H, W) for maps and (N,) for vectors; the UI shows maps as H×W×C;
- output size follows PyTorch; ``"same"`` follows TensorFlow (asymmetric, larger half after);
- MACs count multiply-accumulates of conv and dense layers only (1 MAC = 2 FLOPs);
- receptive field, jump and start follow Araujo et al. (distill.pub, 2019).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from convdesigner.core.design import Design
from convdesigner.core.layers import (
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Layer,
    MaxPool2D,
    Padding,
    Pair,
    ReLU,
)

if TYPE_CHECKING:
    from pathlib import Path

BYTES_PER_VALUE = 4  # float32
Shape = tuple[int, ...]


class Status(StrEnum):
    OK = "ok"
    ERROR = "error"
    NOT_COMPUTABLE = "not computable"


def fmt(n: int) -> str:
    """Thousands separators, as every view shows counts."""
    return f"{n:,}"


def shape_text(shape: Shape | None) -> str:
    """H×W×C for maps (the order learners meet in Keras and MATLAB), N for vectors."""
    if shape is None:
        return "—"
    if len(shape) == 3:
        c, h, w = shape
        return f"{h}×{w}×{c}"
    return "×".join(str(s) for s in shape)


def bytes_text(n: int) -> str:
    """Binary units (KiB, MiB...), one decimal; exact bytes below 1 KiB."""
    if n < 1024:
        return f"{n} B"
    value = n / 1024
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:,.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


class Derivations(Mapping[str, str]):
    """A row's derivation texts by key, built on first read.

    Reads like a dict; building every text for every row on every keystroke would cost more than
    the arithmetic itself. Building twice from two threads is harmless (same result).
    """

    __slots__ = ("_build", "_data")

    def __init__(self, build: Callable[[], dict[str, str]] | Mapping[str, str] | None = None):
        self._data: dict[str, str] | None
        self._build: Callable[[], dict[str, str]] | None
        if build is None or isinstance(build, Mapping):
            self._data, self._build = dict(build or {}), None
        else:
            self._data, self._build = None, build

    def _get(self) -> dict[str, str]:
        data = self._data
        if data is None:
            assert self._build is not None
            data = self._build()
            self._data, self._build = data, None
        return data

    def __getitem__(self, key: str) -> str:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __repr__(self) -> str:
        return f"Derivations({self._get()!r})"


@dataclass(frozen=True)
class LayerRow:
    """One line of the layer table. Every column is a plain field; totals are derived."""

    index: int | None
    """Position in ``design.layers`` (also the key in activation and weight files); None = input."""
    name: str
    type: str
    layer: Layer | None
    input_shape: Shape | None
    output_shape: Shape | None
    status: Status = Status.OK
    message: str = ""
    weights: int = 0
    biases: int = 0
    trainable: int = 0
    non_trainable: int = 0
    macs: int = 0
    kernel: Pair | None = None
    stride: Pair | None = None
    padding: tuple[int, int, int, int] | None = None
    """Padding actually applied: (top, bottom, left, right)."""
    receptive_field: Pair | None = None
    """Size (h, w), in input pixels, of the region one output value sees; None = whole input."""
    jump: Pair | None = None
    """Distance (h, w), in input pixels, between neighbouring output positions."""
    rf_start: Pair | None = None
    """Input coordinate (row, col) of the top-left of output position (0, 0)'s receptive field
    (negative where it reaches into padding)."""
    derivations: Mapping[str, str] = field(default_factory=Derivations)
    """How each number was obtained, by key: output_height, output_width, output_channels,
    padding, weights, biases, non_trainable, params, macs, receptive_field, memory, plus
    layer-specific notes (e.g. ``average``). Empty for error and not-computable rows."""
    dilation: Pair | None = None
    """Dilation of a convolution (None for other layers)."""

    @property
    def params(self) -> int:
        return self.trainable + self.non_trainable

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    @property
    def is_map(self) -> bool:
        return self.output_shape is not None and len(self.output_shape) == 3

    @property
    def output_height(self) -> int | None:
        return self.output_shape[1] if self.output_shape and len(self.output_shape) == 3 else None

    @property
    def output_width(self) -> int | None:
        return self.output_shape[2] if self.output_shape and len(self.output_shape) == 3 else None

    @property
    def output_channels(self) -> int | None:
        """Channels of a map, or the length of a vector."""
        return self.output_shape[0] if self.output_shape else None

    @property
    def activation_bytes(self) -> int:
        return math.prod(self.output_shape) * BYTES_PER_VALUE if self.output_shape else 0

    @property
    def shape_text(self) -> str:
        return shape_text(self.output_shape)


@dataclass(frozen=True)
class Totals:
    weights: int
    biases: int
    trainable: int
    non_trainable: int
    macs: int
    activation_bytes: int
    """Input plus every layer's output, float32, for one image."""
    errors: int

    @property
    def params(self) -> int:
        return self.trainable + self.non_trainable

    @property
    def parameter_bytes(self) -> int:
        return self.params * BYTES_PER_VALUE

    @property
    def flops(self) -> int:
        return 2 * self.macs


@dataclass(frozen=True)
class Analysis:
    design: Design
    rows: tuple[LayerRow, ...]

    def __iter__(self) -> Iterator[LayerRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def row_for_layer(self, index: int) -> LayerRow:
        """The row of ``design.layers[index]`` (the input row is ``rows[0]``)."""
        return self.rows[index + 1]

    @cached_property
    def totals(self) -> Totals:
        """Sums over the rows (cached: table views ask for it once per cell)."""
        rows = self.rows
        return Totals(
            weights=sum(r.weights for r in rows),
            biases=sum(r.biases for r in rows),
            trainable=sum(r.trainable for r in rows),
            non_trainable=sum(r.non_trainable for r in rows),
            macs=sum(r.macs for r in rows),
            activation_bytes=sum(r.activation_bytes for r in rows),
            errors=sum(1 for r in rows if r.status is Status.ERROR),
        )

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def first_error(self) -> LayerRow | None:
        return next((r for r in self.rows if r.status is Status.ERROR), None)

    def to_csv(self, path: str | Path | None = None) -> str:
        from convdesigner.core.table import to_csv

        return to_csv(self, path)

    def to_dict(self) -> dict[str, Any]:
        from convdesigner.core.table import to_dict

        return to_dict(self)

    def to_text(self, *, explain: bool = False) -> str:
        from convdesigner.core.table import to_text

        return to_text(self, explain=explain)


# --------------------------------------------------------------------------- axis arithmetic

_SIDES = {"height": ("H", "top", "bottom"), "width": ("W", "left", "right")}


@dataclass(slots=True)
class _Axis:
    """Result of sliding a window along one axis (height or width); text built on demand."""

    axis: str
    size_in: int
    kernel: int
    stride: int
    dilation: int
    mode: str
    """"same", "explicit" (an integer or pair, also "valid") or "ceil" (explicit + ceil_mode)."""
    size: int
    before: int
    after: int
    dropped: bool = False
    """ceil_mode only: the last window started inside the padding and was dropped."""
    conv: bool = True
    """False for pooling windows (no dilation to show in the formula)."""

    def derivation(self) -> str:
        sym, first, last = _SIDES[self.axis]
        n, k, s, d = self.size_in, self.kernel, self.stride, self.dilation
        b, a = self.before, self.after
        # Pools have no dilation: leave the factor out rather than show a meaningless "1·".
        dil_sym, dil = ("dilation·", f"{d}·") if self.conv else ("", "")
        numbers = f"({n} + {b} + {a} - {dil}({k}-1) - 1)"
        if self.mode == "same":
            total = b + a
            split = f"{b} {first}, {a} {last}"
            if b != a:
                split += f" (the odd one goes {last}, as in TensorFlow)"
            return (
                f'"same" padding (TensorFlow rule): {sym}_out = ceil({sym}_in / stride) = '
                f"ceil({n} / {s}) = {self.size}\n"
                f"padding needed = max(({sym}_out - 1)·stride + {dil_sym}(k-1) + 1 - {sym}_in, 0)"
                f"\n  = max(({self.size} - 1)·{s} + {dil}({k}-1) + 1 - {n}, 0) = {total}: {split}\n"
                f"check: {sym}_out = floor({numbers} / {s}) + 1 = {self.size}"
            )
        rule = (
            f"{sym}_out = floor(({sym}_in + pad_{first} + pad_{last} - {dil_sym}(k-1) - 1)"
            " / stride) + 1"
        )
        if self.mode != "ceil":
            return f"{rule}\n{sym}_out = floor({numbers} / {s}) + 1 = {self.size}"
        unclipped = self.size + 1 if self.dropped else self.size
        text = (
            f"ceil_mode: {rule.replace('floor', 'ceil', 1)}\n"
            f"{sym}_out = ceil({numbers} / {s}) + 1 = {unclipped}"
        )
        if self.dropped:
            text += (
                f"\nthe last window would start at ({unclipped} - 1)·{s} = {(unclipped - 1) * s}"
                f", inside the {last} padding (≥ {sym}_in + pad_{first} = {n + b}); PyTorch "
                f"drops it: {sym}_out = {self.size}"
            )
        return text


class _LayerError(Exception):
    """Raised inside the per-layer rules; turned into an error row, never out of analyse()."""


def _window_axis(
    axis: str,
    size: int,
    kernel: int,
    stride: int,
    dilation: int,
    padding: Padding,
    *,
    ceil_mode: bool = False,
    window: str = "kernel",
) -> _Axis:
    """Output size along one axis with PyTorch's rule, or TensorFlow's for ``"same"``."""
    k_eff = dilation * (kernel - 1) + 1
    conv = window == "kernel"
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + k_eff - size, 0)
        before = total // 2
        return _Axis(
            axis, size, kernel, stride, dilation, "same", out, before, total - before, conv=conv
        )
    before = after = 0 if padding == "valid" else padding[0 if axis == "height" else 1]
    padded = size + before + after
    numerator = padded - k_eff
    if numerator < 0:
        spans = f" (dilation {dilation} makes it span {k_eff})" if dilation > 1 else ""
        raise _LayerError(
            f"The {window} {axis} {kernel}{spans} is larger than the padded input {axis} "
            f"{padded} ({size} + {before} + {after}): the window does not fit even once. "
            'Use a smaller kernel, more padding or "same" padding.'
        )
    if not ceil_mode:
        out = numerator // stride + 1
        return _Axis(
            axis, size, kernel, stride, dilation, "explicit", out, before, after, conv=conv
        )
    out = -(-numerator // stride) + 1
    dropped = (out - 1) * stride >= size + before
    if dropped:
        out -= 1
    return _Axis(
        axis, size, kernel, stride, dilation, "ceil", out, before, after, dropped, conv=conv
    )


# --------------------------------------------------------------------------- per-layer rules


def _need_map(layer: Layer, shape: Shape) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise _LayerError(
            f"{layer.display_name} works on H×W×C feature maps, but its input is a flat vector "
            f"of {fmt(shape[0])} values. Move it before the Flatten layer."
        )
    c, h, w = shape
    return c, h, w


def _axes(
    h: int,
    w: int,
    kernel: Pair,
    stride: Pair,
    dilation: Pair,
    padding: Padding,
    ceil_mode: bool,
    window: str,
) -> tuple[_Axis, _Axis]:
    return (
        _window_axis("height", h, kernel[0], stride[0], dilation[0], padding,
                     ceil_mode=ceil_mode, window=window),
        _window_axis("width", w, kernel[1], stride[1], dilation[1], padding,
                     ceil_mode=ceil_mode, window=window),
    )  # fmt: skip


Builder = Callable[[], dict[str, str]]


@dataclass(slots=True)
class _Result:
    shape: Shape
    derive: Builder
    weights: int = 0
    biases: int = 0
    non_trainable: int = 0
    macs: int = 0
    kernel: Pair | None = None
    stride: Pair | None = None
    dilation: Pair | None = None
    padding: tuple[int, int, int, int] | None = None


def _padding_text(ax_h: _Axis, ax_w: _Axis) -> str:
    return (
        f"padding applied: top {ax_h.before}, bottom {ax_h.after}, "
        f"left {ax_w.before}, right {ax_w.after}"
    )


def _conv(layer: Conv2D, shape: Shape) -> _Result:
    c_in, h, w = _need_map(layer, shape)
    g, c_out = layer.groups, layer.filters
    if c_in % g:
        channels = f"{c_in} input channels" if c_in > 1 else "single input channel"
        hint = f" (groups = {c_in} makes it a depthwise convolution)" if c_in > 1 else ""
        raise _LayerError(
            f"Groups = {g} must divide the {channels} evenly ({c_in} / {g} is not a whole "
            f"number). Use a divisor of {c_in}{hint}."
        )
    if c_out % g:
        raise _LayerError(
            f"Groups = {g} must divide the {c_out} filters evenly ({c_out} / {g} is not a whole "
            "number): every group needs the same number of filters."
        )
    ax_h, ax_w = _axes(h, w, layer.kernel, layer.stride, layer.dilation, layer.padding, False,
                       "kernel")  # fmt: skip
    kh, kw = layer.kernel
    per_group = c_in // g
    weights = kh * kw * per_group * c_out
    biases = c_out if layer.bias else 0
    macs = ax_h.size * ax_w.size * c_out * per_group * kh * kw

    def derive() -> dict[str, str]:
        if g == 1:
            depth = (
                f"each filter spans all {c_in} input channels"
                if c_in > 1
                else "each filter spans the single input channel"
            )
            c_sym, c_val = "C_in", f"{c_in}"
        else:
            kind = "depthwise: " if g == c_in else ""
            depth = f"{kind}groups = {g}, so each filter sees {c_in} / {g} = {per_group} channel(s)"
            c_sym, c_val = "(C_in / groups)", f"({c_in} / {g})"
        return {
            "output_height": ax_h.derivation(),
            "output_width": ax_w.derivation(),
            "output_channels": f"C_out = filters = {c_out} (one output channel per filter; "
            f"{depth})",
            "padding": _padding_text(ax_h, ax_w),
            "weights": f"weights = kh × kw × {c_sym} × filters = "
            f"{kh} × {kw} × {c_val} × {c_out} = {fmt(weights)}",
            "biases": f"biases = filters = {fmt(c_out)} (one per filter)"
            if layer.bias
            else "bias is off: 0",
            "macs": f"MACs = H_out × W_out × filters × {c_sym} × kh × kw = "
            f"{ax_h.size} × {ax_w.size} × {c_out} × {per_group} × {kh} × {kw} = {fmt(macs)}"
            f" (= {fmt(2 * macs)} FLOPs; bias additions are not counted)",
        }

    return _Result(
        (c_out, ax_h.size, ax_w.size),
        derive,
        weights=weights,
        biases=biases,
        macs=macs,
        kernel=layer.kernel,
        stride=layer.stride,
        dilation=layer.dilation,
        padding=(ax_h.before, ax_h.after, ax_w.before, ax_w.after),
    )


def _pool(layer: MaxPool2D | AvgPool2D, shape: Shape) -> _Result:
    c, h, w = _need_map(layer, shape)
    pad = layer.padding
    if isinstance(pad, tuple):
        for i, axis in enumerate(("height", "width")):
            if pad[i] > layer.kernel[i] // 2:
                raise _LayerError(
                    f"Padding {pad[i]} is more than half the pooling window's {axis} "
                    f"{layer.kernel[i]}; PyTorch allows at most {layer.kernel[i] // 2} "
                    '(or use "same" padding).'
                )
    stride = layer.effective_stride
    ceil_mode = layer.ceil_mode and pad != "same"
    ax_h, ax_w = _axes(h, w, layer.kernel, stride, (1, 1), pad, ceil_mode, "pooling window")
    is_max = isinstance(layer, MaxPool2D)

    def derive() -> dict[str, str]:
        kind = "largest value" if is_max else "average"
        op = "comparisons" if is_max else "additions and one division"
        d = {
            "output_height": ax_h.derivation(),
            "output_width": ax_w.derivation(),
            "output_channels": f"C_out = C_in = {c}: pooling takes the {kind} of each window in "
            "each channel separately; it never mixes channels",
            "padding": _padding_text(ax_h, ax_w),
            "weights": "pooling has no weights: 0",
            "biases": "pooling has no biases: 0",
            "macs": f"pooling does {op} per window, not multiply-accumulates: 0 MACs",
        }
        notes = []
        if layer.stride is None:
            notes.append(f"stride defaults to the window size: {stride[0]}×{stride[1]}")
        if layer.ceil_mode and pad == "same":
            notes.append('ceil_mode has no effect with "same" padding')
        if notes:
            d["output_height"] = "\n".join([*notes, d["output_height"]])
        if isinstance(layer, AvgPool2D):
            window = layer.kernel[0] * layer.kernel[1]
            if pad == "same":
                d["average"] = (
                    'with "same" padding the padded positions are left out of each average '
                    "(TensorFlow's rule), so border windows divide by fewer than "
                    f"{layer.kernel[0]}×{layer.kernel[1]} = {window} values"
                )
            elif layer.count_include_pad:
                d["average"] = (
                    f"count_include_pad: every average divides by {layer.kernel[0]}×"
                    f"{layer.kernel[1]} = {window}, padded zeros included (PyTorch's default)"
                )
            else:
                d["average"] = (
                    "count_include_pad is off: border windows divide only by the number of real "
                    "(unpadded) values they cover"
                )
        return d

    return _Result(
        (c, ax_h.size, ax_w.size),
        derive,
        kernel=layer.kernel,
        stride=stride,
        padding=(ax_h.before, ax_h.after, ax_w.before, ax_w.after),
    )


def _global_pool(layer: GlobalAvgPool2D, shape: Shape) -> _Result:
    c, h, w = _need_map(layer, shape)

    def derive() -> dict[str, str]:
        return {
            "output_height": f"each channel's whole {h}×{w} map is averaged to one value: "
            "H_out = 1",
            "output_width": f"each channel's whole {h}×{w} map is averaged to one value: W_out = 1",
            "output_channels": f"C_out = C_in = {c} (one average per channel)",
            "weights": "global average pooling has no weights: 0",
            "biases": "global average pooling has no biases: 0",
            "macs": "averaging is additions, not multiply-accumulates: 0 MACs",
        }

    return _Result((c, 1, 1), derive, kernel=(h, w), stride=(1, 1), padding=(0, 0, 0, 0))


def _same_shape(layer: Layer, shape: Shape) -> _Result:
    def derive() -> dict[str, str]:
        what = {
            ReLU: "ReLU acts on each value separately (max(0, x))",
            Dropout: "dropout zeroes random values while training and passes every value "
            "through at inference",
        }.get(type(layer), "shape unchanged")
        text = f"{what}: output shape = input shape = {shape_text(shape)}"
        # A vector has no height or width to explain, only its length.
        sizes = {"output_channels": text}
        if len(shape) == 3:
            sizes = {"output_height": text, "output_width": text, **sizes}
        return {
            **sizes,
            "weights": f"{layer.display_name} has no weights: 0",
            "biases": f"{layer.display_name} has no biases: 0",
            "macs": "0 MACs",
        }

    return _Result(shape, derive)


def _batchnorm(layer: BatchNorm2D, shape: Shape) -> _Result:
    c, _h, _w = _need_map(layer, shape)

    def derive() -> dict[str, str]:
        text = f"batch normalisation keeps the shape: {shape_text(shape)}"
        return {
            "output_height": text,
            "output_width": text,
            "output_channels": text,
            "weights": f"one learned scale (gamma) per channel: {fmt(c)}",
            "biases": f"one learned shift (beta) per channel: {fmt(c)}",
            "non_trainable": "a running mean and a running variance per channel, updated while "
            f"training but not learned by gradient descent: 2 × {fmt(c)} = {fmt(2 * c)}",
            "macs": "0 MACs counted: at inference batch normalisation is a per-channel scale and "
            "shift, which can be folded into the previous convolution",
        }

    return _Result(shape, derive, weights=c, biases=c, non_trainable=2 * c)


def _flatten(layer: Flatten, shape: Shape) -> _Result:
    n = math.prod(shape)

    def derive() -> dict[str, str]:
        if len(shape) == 3:
            c, h, w = shape
            text = (
                f"N = H × W × C = {h} × {w} × {c} = {fmt(n)} values, laid out channel by "
                "channel (PyTorch's C, H, W order)"
            )
        else:
            text = f"already a vector of {fmt(n)} values"
        return {
            "output_channels": text,
            "weights": "flatten only reorders values: 0 weights",
            "biases": "0 biases",
            "macs": "0 MACs",
        }

    return _Result((n,), derive)


def _dense(layer: Dense, shape: Shape) -> _Result:
    if len(shape) != 1:
        c, h, w = shape
        raise _LayerError(
            f"Dense needs a flat vector, but its input is a {h}×{w}×{c} feature map. "
            "Add a Flatten (or Global Avg Pool and Flatten) layer before it."
        )
    n_in, n_out = shape[0], layer.units
    weights = n_in * n_out
    biases = n_out if layer.bias else 0

    def derive() -> dict[str, str]:
        return {
            "output_channels": f"N_out = units = {fmt(n_out)}",
            "weights": f"weights = inputs × units = {fmt(n_in)} × {fmt(n_out)} = {fmt(weights)} "
            "(every unit has one weight per input)",
            "biases": f"biases = units = {fmt(n_out)}" if layer.bias else "bias is off: 0",
            "macs": f"MACs = inputs × units = {fmt(n_in)} × {fmt(n_out)} = {fmt(weights)} "
            f"(= {fmt(2 * weights)} FLOPs)",
        }

    return _Result((n_out,), derive, weights=weights, biases=biases, macs=weights)


_RULES: dict[type[Layer], Callable[[Any, Shape], _Result]] = {
    Conv2D: _conv,
    MaxPool2D: _pool,
    AvgPool2D: _pool,
    GlobalAvgPool2D: _global_pool,
    BatchNorm2D: _batchnorm,
    Flatten: _flatten,
    Dense: _dense,
    ReLU: _same_shape,
    Dropout: _same_shape,
}


def _apply(layer: Layer, shape: Shape) -> _Result:
    rule = _RULES.get(type(layer))
    if rule is None:  # a subclass of a known type: use its base's rule
        rule = next((_RULES[c] for c in type(layer).__mro__ if c in _RULES), None)
    if rule is None:
        raise _LayerError(f"{type(layer).__name__} is not a layer type this version knows")
    return rule(layer, shape)


# --------------------------------------------------------------------------- receptive field


class _Field(NamedTuple):
    """Receptive-field state carried from layer to layer (per axis: size, jump, start)."""

    size: Pair
    jump: Pair
    start: Pair


_INPUT_FIELD = _Field((1, 1), (1, 1), (0, 0))


def _rf_step(rf: _Field, kernel: Pair, dilation: Pair, stride: Pair, pad_before: Pair) -> _Field:
    k_eff = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)
    return _Field(
        (rf.size[0] + (k_eff[0] - 1) * rf.jump[0], rf.size[1] + (k_eff[1] - 1) * rf.jump[1]),
        (rf.jump[0] * stride[0], rf.jump[1] * stride[1]),
        (rf.start[0] - pad_before[0] * rf.jump[0], rf.start[1] - pad_before[1] * rf.jump[1]),
    )


def _rf_text(prev: _Field, new: _Field, kernel: Pair, dilation: Pair, stride: Pair,
             pad_before: Pair) -> str:  # fmt: skip
    lines = []
    k_eff = []
    for i, axis in enumerate(("height", "width")):
        k, d = kernel[i], dilation[i]
        k_eff.append(d * (k - 1) + 1)
        if d > 1:
            lines.append(f"k_eff = dilation·(k-1) + 1 = {d}·({k}-1) + 1 = {k_eff[i]} ({axis})")
    parts = [
        f"{prev.size[i]} + ({k_eff[i]} - 1)·{prev.jump[i]} = {new.size[i]} ({axis})"
        for i, axis in enumerate(("height", "width"))
    ]
    lines.append("receptive field r = r_prev + (k_eff - 1)·j_prev: " + ", ".join(parts))
    parts = [
        f"{prev.jump[i]}·{stride[i]} = {new.jump[i]} ({axis})"
        for i, axis in enumerate(("height", "width"))
    ]
    lines.append("jump j = j_prev·stride: " + ", ".join(parts))
    parts = [
        f"{prev.start[i]} - {pad_before[i]}·{prev.jump[i]} = {new.start[i]} ({axis})"
        for i, axis in enumerate(("height", "width"))
    ]
    lines.append("start = start_prev - pad_before·j_prev: " + ", ".join(parts))
    lines.append(
        f"so output (0, 0) sees input rows {new.start[0]}..{new.start[0] + new.size[0] - 1} and "
        f"columns {new.start[1]}..{new.start[1] + new.size[1] - 1} (negative = padding), and "
        f"neighbouring outputs are {new.jump[0]}×{new.jump[1]} input pixels apart"
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- public entry


def _memory_text(shape: Shape) -> str:
    n = math.prod(shape)
    if len(shape) == 3:
        c, h, w = shape
        dims = f"{h} × {w} × {c}"
    else:
        dims = " × ".join(str(s) for s in shape)
    total = n * BYTES_PER_VALUE
    text = f"memory = {dims} values × {BYTES_PER_VALUE} bytes (float32) = {fmt(total)} bytes"
    return text if total < 1024 else f"{text} ({bytes_text(total)})"


def _input_row(design: Design) -> LayerRow:
    spec = design.input
    shape = spec.shape

    def derive() -> dict[str, str]:
        given = "given by the input"
        return {
            "output_height": f"H = {spec.height} ({given})",
            "output_width": f"W = {spec.width} ({given})",
            "output_channels": f"C = {spec.channels} ({given}: 1 for greyscale, 3 for RGB)",
            "weights": "the input has no weights: 0",
            "biases": "the input has no biases: 0",
            "macs": "0 MACs",
            "receptive_field": "each input value sees itself: 1×1, jump 1, start 0",
            "memory": _memory_text(shape),
        }

    return LayerRow(
        index=None,
        name="Input",
        type="input",
        layer=None,
        input_shape=None,
        output_shape=shape,
        receptive_field=(1, 1),
        jump=(1, 1),
        rf_start=(0, 0),
        derivations=Derivations(derive),
    )


def _params_text(res: _Result) -> str:
    trainable = res.weights + res.biases
    text = f"params = weights + biases = {fmt(res.weights)} + {fmt(res.biases)} = {fmt(trainable)}"
    if res.non_trainable:
        text += (
            f" trainable, plus {fmt(res.non_trainable)} non-trainable = "
            f"{fmt(trainable + res.non_trainable)}"
        )
    return text


def _row_derivations(layer: Layer, res: _Result, prev: _Field | None, rf: _Field | None) -> Builder:
    def derive() -> dict[str, str]:
        d = res.derive()
        d.setdefault("params", _params_text(res))
        if rf is None or prev is None:
            d["receptive_field"] = (
                "after Flatten every value can depend on the whole input"
                if len(res.shape) == 1
                else "unknown"
            )
        elif res.kernel is not None and res.stride is not None and res.padding is not None:
            d["receptive_field"] = _rf_text(
                prev, rf, res.kernel, res.dilation or (1, 1), res.stride,
                (res.padding[0], res.padding[2]),
            )  # fmt: skip
        else:
            d["receptive_field"] = (
                f"{layer.display_name} looks at one position at a time: receptive field "
                f"unchanged, {rf.size[0]}×{rf.size[1]}, jump {rf.jump[0]}×{rf.jump[1]}"
            )
        d["memory"] = _memory_text(res.shape)
        return d

    return derive


_ROW_DEFAULTS = {f.name: f.default for f in fields(LayerRow) if f.default is not MISSING}
_NO_DERIVATIONS: Mapping[str, str] = Derivations()


def _new_row(**values: Any) -> LayerRow:
    """``LayerRow(**values)`` without the frozen dataclass's per-field ``object.__setattr__``.

    That generated ``__init__`` was half of analyse()'s time on a 500-layer design (22 fields,
    one call each), and the analysis runs on every keystroke. The object is the same: equal to
    one built normally, and still frozen against assignment. Every field without a default must
    be given (the tests check that rows carry every field).
    """
    row = object.__new__(LayerRow)
    state = row.__dict__
    state.update(_ROW_DEFAULTS)
    state.update(values)
    return row


def analyse(design: Design) -> Analysis:
    """Analyse ``design``: one row for the input, then one per layer. Never raises."""
    rows = [_input_row(design)]
    shape: Shape | None = design.input.shape
    rf: _Field | None = _INPUT_FIELD
    blocked_by = ""
    for index, layer in enumerate(design.layers):
        label = layer.label
        if shape is None:
            rows.append(
                _new_row(
                    index=index,
                    name=label,
                    type=layer.type_name,
                    layer=layer,
                    input_shape=None,
                    output_shape=None,
                    status=Status.NOT_COMPUTABLE,
                    message=f"Not computable: {blocked_by} above has an error.",
                    derivations=_NO_DERIVATIONS,
                )
            )
            continue
        try:
            res = _apply(layer, shape)
        except _LayerError as exc:
            rows.append(
                _new_row(
                    index=index,
                    name=label,
                    type=layer.type_name,
                    layer=layer,
                    input_shape=shape,
                    output_shape=None,
                    status=Status.ERROR,
                    message=str(exc),
                    derivations=_NO_DERIVATIONS,
                )
            )
            blocked_by = f"layer {index} ({label})"
            shape = None
            continue
        prev = rf
        if rf is None or len(res.shape) != 3:
            rf = None
        elif res.kernel is not None and res.stride is not None and res.padding is not None:
            rf = _rf_step(
                rf, res.kernel, res.dilation or (1, 1), res.stride,
                (res.padding[0], res.padding[2]),
            )  # fmt: skip
        rows.append(
            _new_row(
                index=index,
                name=label,
                type=layer.type_name,
                layer=layer,
                input_shape=shape,
                output_shape=res.shape,
                weights=res.weights,
                biases=res.biases,
                trainable=res.weights + res.biases,
                non_trainable=res.non_trainable,
                macs=res.macs,
                kernel=res.kernel,
                stride=res.stride,
                padding=res.padding,
                receptive_field=rf.size if rf else None,
                jump=rf.jump if rf else None,
                rf_start=rf.start if rf else None,
                derivations=Derivations(_row_derivations(layer, res, prev, rf)),
                dilation=res.dilation,
            )
        )
        shape = res.shape
    return Analysis(design, tuple(rows))
