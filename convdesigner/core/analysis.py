"""Shape and cost analysis of a design: the layer table, with a derivation for every number.

``analyse(design)`` walks the layers once, from the input, and returns one :class:`LayerRow` per
layer plus the input row. It is recomputed from scratch on every call (a 100-layer design takes
well under a millisecond), so no view ever shows stale numbers, and it never raises for a design
the loader accepts: a layer that cannot work on what reaches it gets ``Status.ERROR`` and a message
a learner can act on, and every layer after it ``Status.NOT_COMPUTABLE``.

Conventions (docs/formulas.md explains each):
- shapes are (C, H, W) for maps and (N,) for vectors; the UI shows maps as H×W×C;
- output size follows PyTorch; ``"same"`` follows TensorFlow (asymmetric, larger half after);
- MACs count multiply-accumulates of conv and dense layers only (1 MAC = 2 FLOPs);
- receptive field and jump follow Araujo et al. (distill.pub, 2019).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

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
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


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
    derivations: dict[str, str] = field(default_factory=dict)

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

    @property
    def totals(self) -> Totals:
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


@dataclass(frozen=True)
class _Axis:
    """Result of sliding a window along one axis (height or width)."""

    size: int
    before: int
    after: int
    derivation: str
    error: str = ""


def _window_axis(
    axis: str,
    size: int,
    kernel: int,
    stride: int,
    dilation: int,
    padding: Padding,
    pad_index: int,
    *,
    ceil_mode: bool = False,
) -> _Axis:
    """Output size along one axis with PyTorch's rule, or TensorFlow's for ``"same"``."""
    sym = "H" if axis == "height" else "W"
    k_eff = dilation * (kernel - 1) + 1
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + k_eff - size, 0)
        before = total // 2
        after = total - before
        text = (
            f'"same": {sym}_out = ceil({sym}_in / stride) = ceil({size} / {stride}) = {out}\n'
            f"  total padding = max(({out} - 1)·{stride} + {dilation}·({kernel}-1) + 1 - {size}, 0)"
            f" = {total} → {before} before, {after} after\n"
            f"  {sym}_out = floor(({size} + {before} + {after} - {dilation}·({kernel}-1) - 1)"
            f" / {stride}) + 1 = {out}"
        )
        return _Axis(out, before, after, text)
    if padding == "valid":
        before = after = 0
    else:
        before = after = padding[pad_index]
    padded = size + before + after
    numerator = padded - k_eff
    if numerator < 0:
        dil = f" (dilation {dilation} makes it span {k_eff})" if dilation > 1 else ""
        return _Axis(
            0,
            before,
            after,
            "",
            f"The kernel {axis} {kernel}{dil} is larger than the padded input {axis} "
            f"{padded} ({size} + {before} + {after}): the window does not fit even once. "
            'Use a smaller kernel, more padding or "same" padding.',
        )
    core = f"({size} + {before} + {after} - {dilation}·({kernel}-1) - 1)"
    if ceil_mode:
        out = -(-numerator // stride) + 1
        text = f"{sym}_out = ceil({core} / {stride}) + 1 = {out}"
        if (out - 1) * stride >= size + before:
            out -= 1
            text += (
                f"\n  the last window would start in the padding ((out-1)·{stride} ≥ {size} + "
                f"{before}), so it is dropped: {sym}_out = {out}"
            )
    else:
        out = numerator // stride + 1
        text = f"{sym}_out = floor({core} / {stride}) + 1 = {out}"
    return _Axis(out, before, after, text)


@dataclass
class _Field:
    """Receptive-field state carried from layer to layer (per axis: size, jump, start)."""

    size: Pair
    jump: Pair
    start: Pair


def _rf_step(rf: _Field, k_eff: Pair, stride: Pair, pad_before: Pair) -> tuple[_Field, str]:
    size = (rf.size[0] + (k_eff[0] - 1) * rf.jump[0], rf.size[1] + (k_eff[1] - 1) * rf.jump[1])
    jump = (rf.jump[0] * stride[0], rf.jump[1] * stride[1])
    start = (
        rf.start[0] - pad_before[0] * rf.jump[0],
        rf.start[1] - pad_before[1] * rf.jump[1],
    )
    text = (
        f"r = r_prev + (k_eff - 1)·j_prev: height {rf.size[0]} + ({k_eff[0]} - 1)·{rf.jump[0]}"
        f" = {size[0]}, width {rf.size[1]} + ({k_eff[1]} - 1)·{rf.jump[1]} = {size[1]}\n"
        f"j = j_prev·stride: height {rf.jump[0]}·{stride[0]} = {jump[0]},"
        f" width {rf.jump[1]}·{stride[1]} = {jump[1]}"
    )
    return _Field(size, jump, start), text


# --------------------------------------------------------------------------- per-layer rules


class _LayerError(Exception):
    """Raised inside the per-layer rules; turned into an error row, never out of analyse()."""


def _need_map(layer: Layer, shape: Shape) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise _LayerError(
            f"{layer.display_name} works on H×W×C feature maps, but its input is a flat vector "
            f"of {fmt(shape[0])} values. Move it before the Flatten layer."
        )
    c, h, w = shape
    return c, h, w


def _spatial(
    layer: Conv2D | MaxPool2D | AvgPool2D,
    h: int,
    w: int,
    kernel: Pair,
    stride: Pair,
    dilation: Pair,
    ceil_mode: bool,
) -> tuple[_Axis, _Axis]:
    ax_h = _window_axis(
        "height", h, kernel[0], stride[0], dilation[0], layer.padding, 0, ceil_mode=ceil_mode
    )
    ax_w = _window_axis(
        "width", w, kernel[1], stride[1], dilation[1], layer.padding, 1, ceil_mode=ceil_mode
    )
    for ax in (ax_h, ax_w):
        if ax.error:
            raise _LayerError(ax.error)
        if ax.size < 1:
            raise _LayerError(f"The output would have size {ax.size}; it must be at least 1.")
    return ax_h, ax_w


@dataclass
class _Result:
    shape: Shape
    weights: int = 0
    biases: int = 0
    non_trainable: int = 0
    macs: int = 0
    kernel: Pair | None = None
    stride: Pair | None = None
    dilation: Pair = (1, 1)
    padding: tuple[int, int, int, int] | None = None
    derivations: dict[str, str] = field(default_factory=dict)


def _conv(layer: Conv2D, shape: Shape) -> _Result:
    c_in, h, w = _need_map(layer, shape)
    g, c_out = layer.groups, layer.filters
    if c_in % g:
        raise _LayerError(
            f"groups = {g} must divide the {c_in} input channels evenly "
            f"({c_in} / {g} is not a whole number)."
        )
    if c_out % g:
        raise _LayerError(
            f"groups = {g} must divide the {c_out} filters evenly "
            f"({c_out} / {g} is not a whole number)."
        )
    ax_h, ax_w = _spatial(layer, h, w, layer.kernel, layer.stride, layer.dilation, False)
    kh, kw = layer.kernel
    per_group = c_in // g
    weights = kh * kw * per_group * c_out
    biases = c_out if layer.bias else 0
    macs = ax_h.size * ax_w.size * c_out * per_group * kh * kw
    depth = (
        f"each filter spans all {c_in} input channels"
        if g == 1
        else f"groups = {g}: each filter sees {c_in} / {g} = {per_group} input channel(s)"
    )
    cin_text = f"{c_in}" if g == 1 else f"({c_in}/{g})"
    d = {
        "output_height": ax_h.derivation,
        "output_width": ax_w.derivation,
        "output_channels": (f"C_out = filters = {c_out} (one output channel per filter; {depth})"),
        "weights": (
            f"weights = kh × kw × C_in{'/groups' if g > 1 else ''} × filters = "
            f"{kh} × {kw} × {cin_text} × {c_out} = {fmt(weights)}"
        ),
        "biases": (
            f"biases = filters = {fmt(c_out)} (one per filter)" if layer.bias else "bias is off: 0"
        ),
        "macs": (
            f"MACs = H_out × W_out × C_out × C_in{'/groups' if g > 1 else ''} × kh × kw = "
            f"{ax_h.size} × {ax_w.size} × {c_out} × {per_group} × {kh} × {kw} = {fmt(macs)}"
            f"  (= {fmt(2 * macs)} FLOPs)"
        ),
    }
    return _Result(
        (c_out, ax_h.size, ax_w.size),
        weights=weights,
        biases=biases,
        macs=macs,
        kernel=layer.kernel,
        stride=layer.stride,
        dilation=layer.dilation,
        padding=(ax_h.before, ax_h.after, ax_w.before, ax_w.after),
        derivations=d,
    )


def _pool(layer: MaxPool2D | AvgPool2D, shape: Shape) -> _Result:
    c, h, w = _need_map(layer, shape)
    if layer.padding not in ("valid", "same"):
        pad = layer.padding
        assert isinstance(pad, tuple)
        for i, axis in enumerate(("height", "width")):
            if pad[i] > layer.kernel[i] // 2:
                raise _LayerError(
                    f"Padding {pad[i]} is more than half the pooling window's {axis} "
                    f"{layer.kernel[i]}; PyTorch allows at most {layer.kernel[i] // 2}."
                )
    stride = layer.effective_stride
    ceil_mode = layer.ceil_mode and layer.padding != "same"
    ax_h, ax_w = _spatial(layer, h, w, layer.kernel, stride, (1, 1), ceil_mode)
    kind = "largest value" if isinstance(layer, MaxPool2D) else "average"
    d = {
        "output_height": ax_h.derivation,
        "output_width": ax_w.derivation,
        "output_channels": (
            f"C_out = C_in = {c}: pooling takes the {kind} of each window in each channel "
            "separately; it never mixes channels"
        ),
        "weights": "pooling has no weights: 0",
        "biases": "pooling has no biases: 0",
        "macs": "pooling does comparisons or additions, not multiply-accumulates: 0 MACs",
    }
    if layer.stride is None:
        d["output_height"] = (
            f"stride defaults to the kernel ({stride[0]}×{stride[1]})\n" + d["output_height"]
        )
    return _Result(
        (c, ax_h.size, ax_w.size),
        kernel=layer.kernel,
        stride=stride,
        padding=(ax_h.before, ax_h.after, ax_w.before, ax_w.after),
        derivations=d,
    )


def _global_pool(layer: GlobalAvgPool2D, shape: Shape) -> _Result:
    c, h, w = _need_map(layer, shape)
    return _Result(
        (c, 1, 1),
        kernel=(h, w),
        stride=(1, 1),
        padding=(0, 0, 0, 0),
        derivations={
            "output_height": f"the average over the whole {h}×{w} channel: H_out = 1",
            "output_width": f"the average over the whole {h}×{w} channel: W_out = 1",
            "output_channels": f"C_out = C_in = {c} (one average per channel)",
            "weights": "global average pooling has no weights: 0",
            "biases": "global average pooling has no biases: 0",
            "macs": "averaging is additions, not multiply-accumulates: 0 MACs",
        },
    )


def _same_shape(layer: Layer, shape: Shape) -> _Result:
    what = {
        ReLU: "ReLU acts on each value separately",
        Dropout: "dropout zeroes values while training and passes them through at inference",
    }.get(type(layer), "shape unchanged")
    text = f"{what}: output shape = input shape = {shape_text(shape)}"
    return _Result(
        shape,
        derivations={
            "output_height": text,
            "output_width": text,
            "output_channels": text,
            "weights": f"{layer.display_name} has no weights: 0",
            "biases": f"{layer.display_name} has no biases: 0",
            "macs": "0 MACs",
        },
    )


def _batchnorm(layer: BatchNorm2D, shape: Shape) -> _Result:
    c, _h, _w = _need_map(layer, shape)
    text = f"batch normalisation keeps the shape: {shape_text(shape)}"
    return _Result(
        shape,
        weights=c,
        biases=c,
        non_trainable=2 * c,
        derivations={
            "output_height": text,
            "output_width": text,
            "output_channels": text,
            "weights": f"one scale (gamma) per channel: {fmt(c)}",
            "biases": f"one shift (beta) per channel: {fmt(c)}",
            "non_trainable": (
                f"running mean and running variance per channel, updated while training, not "
                f"learned by gradient: 2 × {c} = {fmt(2 * c)}"
            ),
            "macs": "normalising is folded into the previous layer at inference: 0 MACs",
        },
    )


def _flatten(layer: Flatten, shape: Shape) -> _Result:
    n = math.prod(shape)
    if len(shape) == 3:
        c, h, w = shape
        text = f"N = C × H × W = {c} × {h} × {w} = {fmt(n)} (in PyTorch's C, H, W order)"
    else:
        text = f"already a vector of {fmt(n)} values"
    return _Result(
        (n,),
        derivations={
            "output_channels": text,
            "weights": "flatten only reorders values: 0 weights",
            "biases": "0 biases",
            "macs": "0 MACs",
        },
    )


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
    return _Result(
        (n_out,),
        weights=weights,
        biases=biases,
        macs=weights,
        derivations={
            "output_channels": f"N_out = units = {fmt(n_out)}",
            "weights": f"weights = inputs × units = {fmt(n_in)} × {fmt(n_out)} = {fmt(weights)}",
            "biases": f"biases = units = {fmt(n_out)}" if layer.bias else "bias is off: 0",
            "macs": f"MACs = inputs × units = {fmt(n_in)} × {fmt(n_out)} = {fmt(weights)}",
        },
    )


def _apply(layer: Layer, shape: Shape) -> _Result:
    if isinstance(layer, Conv2D):
        return _conv(layer, shape)
    if isinstance(layer, MaxPool2D | AvgPool2D):
        return _pool(layer, shape)
    if isinstance(layer, GlobalAvgPool2D):
        return _global_pool(layer, shape)
    if isinstance(layer, BatchNorm2D):
        return _batchnorm(layer, shape)
    if isinstance(layer, Flatten):
        return _flatten(layer, shape)
    if isinstance(layer, Dense):
        return _dense(layer, shape)
    if isinstance(layer, ReLU | Dropout):
        return _same_shape(layer, shape)
    raise _LayerError(f"unknown layer type {type(layer).__name__}")


# --------------------------------------------------------------------------- public entry


def _input_row(design: Design) -> LayerRow:
    spec = design.input
    shape = spec.shape
    given = "given by the input"
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
        derivations={
            "output_height": f"H = {spec.height} ({given})",
            "output_width": f"W = {spec.width} ({given})",
            "output_channels": f"C = {spec.channels} ({given}: 1 for greyscale, 3 for RGB)",
            "weights": "the input has no weights: 0",
            "biases": "the input has no biases: 0",
            "macs": "0 MACs",
            "receptive_field": "each input value sees itself: 1×1, jump 1",
            "memory": _memory_text(shape),
        },
    )


def _memory_text(shape: Shape) -> str:
    n = math.prod(shape)
    dims = " × ".join(str(s) for s in shape)
    return (
        f"memory = {dims} values × {BYTES_PER_VALUE} bytes (float32) = {fmt(n * BYTES_PER_VALUE)} "
        f"bytes ({bytes_text(n * BYTES_PER_VALUE)})"
    )


def analyse(design: Design) -> Analysis:
    """Analyse ``design``: one row for the input, then one per layer. Never raises."""
    rows = [_input_row(design)]
    shape: Shape | None = design.input.shape
    rf: _Field | None = _Field((1, 1), (1, 1), (0, 0))
    blocked_by: str = ""
    for index, layer in enumerate(design.layers):
        label = layer.label
        if shape is None:
            rows.append(
                LayerRow(
                    index=index,
                    name=label,
                    type=layer.type_name,
                    layer=layer,
                    input_shape=None,
                    output_shape=None,
                    status=Status.NOT_COMPUTABLE,
                    message=f"Not computable: {blocked_by} above has an error.",
                )
            )
            continue
        try:
            res = _apply(layer, shape)
        except _LayerError as exc:
            rows.append(
                LayerRow(
                    index=index,
                    name=label,
                    type=layer.type_name,
                    layer=layer,
                    input_shape=shape,
                    output_shape=None,
                    status=Status.ERROR,
                    message=str(exc),
                )
            )
            blocked_by = f"layer {index} ({label})"
            shape = None
            continue
        derivations = dict(res.derivations)
        trainable = res.weights + res.biases
        derivations.setdefault(
            "params",
            f"params = weights + biases = {fmt(res.weights)} + {fmt(res.biases)} = {fmt(trainable)}"
            + (
                f" trainable, plus {fmt(res.non_trainable)} non-trainable = "
                f"{fmt(trainable + res.non_trainable)}"
                if res.non_trainable
                else ""
            ),
        )
        derivations["memory"] = _memory_text(res.shape)
        rf_size = rf_jump = rf_start = None
        if rf is not None and len(res.shape) == 3:
            if res.kernel is not None and res.stride is not None and res.padding is not None:
                k_eff = (
                    res.dilation[0] * (res.kernel[0] - 1) + 1,
                    res.dilation[1] * (res.kernel[1] - 1) + 1,
                )
                rf, text = _rf_step(rf, k_eff, res.stride, (res.padding[0], res.padding[2]))
                derivations["receptive_field"] = text
            else:
                derivations["receptive_field"] = (
                    f"{layer.display_name} looks at one position at a time: receptive field "
                    f"unchanged, {rf.size[0]}×{rf.size[1]}, jump {rf.jump[0]}×{rf.jump[1]}"
                )
            rf_size, rf_jump, rf_start = rf.size, rf.jump, rf.start
        else:
            rf = None
            derivations["receptive_field"] = (
                "after Flatten or Dense every value can depend on the whole input"
            )
        if res.padding is not None:
            t, b, left, right = res.padding
            derivations["padding"] = (
                f"padding applied: top {t}, bottom {b}, left {left}, right {right}"
            )
        rows.append(
            LayerRow(
                index=index,
                name=label,
                type=layer.type_name,
                layer=layer,
                input_shape=shape,
                output_shape=res.shape,
                weights=res.weights,
                biases=res.biases,
                trainable=trainable,
                non_trainable=res.non_trainable,
                macs=res.macs,
                kernel=res.kernel,
                stride=res.stride,
                padding=res.padding,
                receptive_field=rf_size,
                jump=rf_jump,
                rf_start=rf_start,
                derivations=derivations,
            )
        )
        shape = res.shape
    return Analysis(design, tuple(rows))
