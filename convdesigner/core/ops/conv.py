"""Convolutions: Conv2D (with its depthwise and 1×1 presets) and ConvTranspose2D."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from convdesigner.core.geometry import Axis, WindowError, applied_padding, padding_text, windows
from convdesigner.core.ops.base import (
    MAX_COUNT,
    FieldSpec,
    Inferred,
    Layer,
    OpError,
    OpSpec,
    PaddingSize,
    PaletteEntry,
    Params,
    RowGeometry,
    Shape,
    Size,
)
from convdesigner.core.ops.common import (
    need_map,
    one_or_pair,
    padding_summary,
    pads4,
    plural,
    size_text,
)
from convdesigner.core.units import fmt

FILTERS = FieldSpec(
    "filters", "Filters", "count", "number of filters = output channels", maximum=MAX_COUNT
)
KERNEL = FieldSpec("kernel", "Kernel", "size", "window size (height × width)")
STRIDE = FieldSpec("stride", "Stride", "size", "step between windows (height × width)")
PADDING = FieldSpec("padding", "Padding", "padding", 'zeros added around the input, or "same"')
DILATION = FieldSpec("dilation", "Dilation", "size", "spacing between kernel taps")
GROUPS = FieldSpec(
    "groups",
    "Groups",
    "count",
    "split channels into independent groups (groups = channels: depthwise)",
    maximum=MAX_COUNT,
)
BIAS = FieldSpec("bias", "Bias", "bool", "add one learned bias per filter")


@dataclass(frozen=True)
class Conv2D(Layer):
    type_name: ClassVar[str] = "conv2d"
    display_name: ClassVar[str] = "Conv2D"
    description: ClassVar[str] = (
        "Slides filters over the input; each filter spans all input channels"
    )
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FILTERS, KERNEL, STRIDE, PADDING, DILATION, GROUPS, BIAS,
    )  # fmt: skip

    filters: int = 1
    kernel: Size = Size((3, 3))
    stride: Size = Size((1, 1))
    padding: PaddingSize = PaddingSize((0, 0))
    dilation: Size = Size((1, 1))
    groups: int = 1
    bias: bool = True


def _check_groups(c_in: int, c_out: int, g: int) -> None:
    if c_in % g:
        channels = f"{c_in} input channels" if c_in > 1 else "single input channel"
        hint = f" (groups = {c_in} makes it a depthwise convolution)" if c_in > 1 else ""
        raise OpError(
            f"Groups = {g} must divide the {channels} evenly ({c_in} / {g} is not a whole "
            f"number). Use a divisor of {c_in}{hint}."
        )
    if c_out % g:
        raise OpError(
            f"Groups = {g} must divide the {c_out} filters evenly ({c_out} / {g} is not a whole "
            "number): every group needs the same number of filters."
        )


def _windows(layer: Conv2D, spatial: tuple[int, ...]) -> tuple[Axis, ...]:
    try:
        return windows(spatial, layer.kernel, layer.stride, layer.dilation, layer.padding)
    except WindowError as exc:
        raise OpError(str(exc)) from None


def infer_conv(layer: Conv2D, shapes: Sequence[Shape], labels: Sequence[str]) -> Inferred:
    c_in, spatial = need_map(layer, shapes[0], 2)
    g, c_out = layer.groups, layer.filters
    _check_groups(c_in, c_out, g)
    axes = _windows(layer, spatial)
    ax_h, ax_w = axes
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
            "padding": padding_text(axes),
            "weights": f"weights = kh × kw × {c_sym} × filters = "
            f"{kh} × {kw} × {c_val} × {c_out} = {fmt(weights)}",
            "biases": f"biases = filters = {fmt(c_out)} (one per filter)"
            if layer.bias
            else "bias is off: 0",
            "macs": f"MACs = H_out × W_out × filters × {c_sym} × kh × kw = "
            f"{ax_h.size} × {ax_w.size} × {c_out} × {per_group} × {kh} × {kw} = {fmt(macs)}"
            f" (= {fmt(2 * macs)} FLOPs; bias additions are not counted)",
        }

    return Inferred(
        (c_out, ax_h.size, ax_w.size),
        derive,
        weights=weights,
        biases=biases,
        macs=macs,
        kernel=layer.kernel,
        stride=layer.stride,
        dilation=layer.dilation,
        padding=applied_padding(axes),
        rf="window",
    )


def conv_param_shapes(layer: Conv2D, shapes: Sequence[Shape]) -> dict[str, Shape]:
    out: dict[str, Shape] = {"weight": (layer.filters, shapes[0][0] // layer.groups, *layer.kernel)}
    if layer.bias:
        out["bias"] = (layer.filters,)
    return out


def run_conv(layer: Conv2D, row: RowGeometry, inputs: Sequence[Any], params: Params) -> Any:
    """A convolution on its own, in one thread (the engine normally fuses it into a chain)."""
    from convdesigner.core.kernels import conv

    assert row.output_shape is not None
    assert row.padding is not None
    geo = conv.ConvGeometry(
        kernel=layer.kernel,
        stride=layer.stride,
        dilation=layer.dilation,
        padding=pads4(row.padding),
        groups=layer.groups,
        out_hw=(row.output_shape[1], row.output_shape[2]),
    )
    return conv.conv2d(inputs[0], params["weight"], params.get("bias"), geo)


def conv_summary(layer: Conv2D) -> str:
    parts = [plural(layer.filters, "filter"), size_text(layer.kernel)]
    if layer.stride != (1, 1):
        parts.append(f"stride {one_or_pair(layer.stride)}")
    parts.append(padding_summary(layer.padding))
    if layer.dilation != (1, 1):
        parts.append(f"dilation {size_text(layer.dilation)}")
    if layer.groups > 1:
        parts.append(f"groups {layer.groups}")
    if not layer.bias:
        parts.append("no bias")
    return " · ".join(parts)


def conv_icon(layer: Conv2D) -> str:
    """A depthwise or 1×1 convolution gets its own icon."""
    if layer.groups > 1 and layer.groups == layer.filters:
        return "depthwise"
    if layer.kernel == (1, 1):
        return "conv1x1"
    return "conv2d"


CONV2D = OpSpec(
    cls=Conv2D,
    family="conv",
    infer=infer_conv,
    run=run_conv,
    param_shapes=conv_param_shapes,
    random_params=("weight",),
    width="filters",
    summary=conv_summary,
    icon=conv_icon,
    fuse="conv",
    palette=(
        PaletteEntry(
            "conv2d",
            "Conv2D",
            Conv2D.description,
            "conv",
            lambda c: Conv2D(filters=32, kernel=(3, 3), padding="same"),
        ),
        PaletteEntry(
            "depthwise",
            "Depthwise Conv2D",
            "One 3×3 filter per input channel (groups = channels)",
            "conv",
            lambda c: Conv2D(filters=c, kernel=(3, 3), padding="same", groups=c),
        ),
        PaletteEntry(
            "conv1x1",
            "1×1 Conv2D",
            "Mixes channels at each position; the cheap way to change the channel count",
            "conv",
            lambda c: Conv2D(filters=64, kernel=(1, 1)),
        ),
    ),
)


# --------------------------------------------------------------------------- transposed


@dataclass(frozen=True)
class ConvTranspose2D(Layer):
    type_name: ClassVar[str] = "convtranspose2d"
    display_name: ClassVar[str] = "ConvTranspose2D"
    description: ClassVar[str] = (
        "Spreads each input value over a kernel-sized patch: learned upsampling"
    )
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FILTERS,
        KERNEL,
        STRIDE,
        FieldSpec(
            "padding",
            "Padding",
            "size",
            "rows and columns cropped from each side of the full output",
            minimum=0,
        ),
        FieldSpec(
            "output_padding",
            "Output padding",
            "size",
            "extra rows and columns added at the bottom and right (less than the stride)",
            minimum=0,
        ),
        DILATION,
        GROUPS,
        BIAS,
    )

    filters: int = 1
    kernel: Size = Size((3, 3))
    stride: Size = Size((1, 1))
    padding: Size = Size((0, 0))
    output_padding: Size = Size((0, 0))
    dilation: Size = Size((1, 1))
    groups: int = 1
    bias: bool = True

    def check(self) -> None:
        for i, axis in enumerate(("height", "width")):
            op, s, d = self.output_padding[i], self.stride[i], self.dilation[i]
            if op >= s and op >= d:
                from convdesigner.core.validate import LayerSettingError

                raise LayerSettingError(
                    "output_padding",
                    f"must be smaller than the stride or the dilation ({axis}: output padding "
                    f"{op}, stride {s}, dilation {d}), as in PyTorch",
                )


def infer_conv_transpose(
    layer: ConvTranspose2D, shapes: Sequence[Shape], labels: Sequence[str]
) -> Inferred:
    c_in, spatial = need_map(layer, shapes[0], 2)
    g, c_out = layer.groups, layer.filters
    _check_groups(c_in, c_out, g)
    sizes = []
    for i, axis in enumerate(("height", "width")):
        n, k, s = spatial[i], layer.kernel[i], layer.stride[i]
        p, op, d = layer.padding[i], layer.output_padding[i], layer.dilation[i]
        out = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        if out < 1:
            raise OpError(
                f"The output {axis} would be {out}: (in - 1)·stride - 2·padding + "
                f"dilation·(k-1) + output_padding + 1 = ({n} - 1)·{s} - 2·{p} + {d}·({k}-1) + "
                f"{op} + 1. Use less padding."
            )
        sizes.append(out)
    ho, wo = sizes
    kh, kw = layer.kernel
    per_group = c_out // g
    weights = c_in * per_group * kh * kw
    biases = c_out if layer.bias else 0
    macs = spatial[0] * spatial[1] * c_in * per_group * kh * kw

    def derive() -> dict[str, str]:
        texts = {}
        for i, (axis, sym) in enumerate((("height", "H"), ("width", "W"))):
            n, k, s = spatial[i], layer.kernel[i], layer.stride[i]
            p, op, d = layer.padding[i], layer.output_padding[i], layer.dilation[i]
            texts[f"output_{axis}"] = (
                f"{sym}_out = ({sym}_in - 1)·stride - 2·padding + dilation·(k-1) + "
                f"output_padding + 1\n{sym}_out = ({n} - 1)·{s} - 2·{p} + {d}·({k}-1) + {op} + 1 "
                f"= {sizes[i]}"
            )
        return {
            **texts,
            "output_channels": f"C_out = filters = {c_out}",
            "padding": "padding here crops the full output: top/bottom "
            f"{layer.padding[0]}, left/right {layer.padding[1]}; output_padding adds "
            f"{layer.output_padding[0]} row(s) at the bottom and {layer.output_padding[1]} "
            "column(s) at the right",
            "weights": f"weights = C_in × (filters / groups) × kh × kw = {c_in} × {per_group} × "
            f"{kh} × {kw} = {fmt(weights)} (PyTorch stores them as C_in × C_out/groups × kh × kw)",
            "biases": f"biases = filters = {fmt(c_out)}" if layer.bias else "bias is off: 0",
            "macs": f"MACs = H_in × W_in × C_in × (filters / groups) × kh × kw = {spatial[0]} × "
            f"{spatial[1]} × {c_in} × {per_group} × {kh} × {kw} = {fmt(macs)} (every input value "
            "is multiplied into a whole kernel-sized patch of each output channel of its group)",
        }

    return Inferred((c_out, ho, wo), derive, weights=weights, biases=biases, macs=macs, rf="lost")


def conv_transpose_param_shapes(
    layer: ConvTranspose2D, shapes: Sequence[Shape]
) -> dict[str, Shape]:
    out: dict[str, Shape] = {"weight": (shapes[0][0], layer.filters // layer.groups, *layer.kernel)}
    if layer.bias:
        out["bias"] = (layer.filters,)
    return out


def run_conv_transpose(
    layer: ConvTranspose2D, row: RowGeometry, inputs: Sequence[Any], params: Params
) -> Any:
    from convdesigner.core.kernels.conv_transpose import conv_transpose2d

    return conv_transpose2d(
        inputs[0],
        params["weight"],
        params.get("bias"),
        layer.stride,
        layer.padding,
        layer.output_padding,
        layer.dilation,
        layer.groups,
    )


def conv_transpose_summary(layer: ConvTranspose2D) -> str:
    parts = [plural(layer.filters, "filter"), size_text(layer.kernel)]
    if layer.stride != (1, 1):
        parts.append(f"stride {one_or_pair(layer.stride)}")
    if layer.padding != (0, 0):
        parts.append(f"crop {one_or_pair(layer.padding)}")
    if layer.output_padding != (0, 0):
        parts.append(f"output padding {one_or_pair(layer.output_padding)}")
    if layer.dilation != (1, 1):
        parts.append(f"dilation {size_text(layer.dilation)}")
    if layer.groups > 1:
        parts.append(f"groups {layer.groups}")
    if not layer.bias:
        parts.append("no bias")
    return " · ".join(parts)


CONV_TRANSPOSE2D = OpSpec(
    cls=ConvTranspose2D,
    family="conv",
    infer=infer_conv_transpose,
    run=run_conv_transpose,
    param_shapes=conv_transpose_param_shapes,
    random_params=("weight",),
    width="filters",
    summary=conv_transpose_summary,
    palette=(
        PaletteEntry(
            "convtranspose2d",
            "ConvTranspose2D",
            ConvTranspose2D.description,
            "conv",
            lambda c: ConvTranspose2D(filters=max(1, c // 2), kernel=2, stride=2),
        ),
    ),
)

SPECS = (CONV2D, CONV_TRANSPOSE2D)
