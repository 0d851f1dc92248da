"""One-line, human-readable summaries of a layer's key settings (pipeline cards, undo texts)."""

from __future__ import annotations

from convdesigner.core.design import InputSpec
from convdesigner.core.layers import (
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    Dense,
    Dropout,
    Layer,
    MaxPool2D,
    Padding,
)


def _pair(p: tuple[int, int]) -> str:
    return f"{p[0]}×{p[1]}"


def _one(p: tuple[int, int]) -> str:
    return str(p[0]) if p[0] == p[1] else _pair(p)


def _padding(p: Padding) -> str:
    if isinstance(p, str):
        return p
    return "no padding" if p == (0, 0) else f"pad {p[0] if p[0] == p[1] else _pair(p)}"


def layer_summary(layer: Layer) -> str:
    parts: list[str] = []
    if isinstance(layer, Conv2D):
        parts.append(f"{layer.filters:,} filter{'s' if layer.filters != 1 else ''}")
        parts.append(_pair(layer.kernel))
        if layer.stride != (1, 1):
            parts.append(f"stride {_one(layer.stride)}")
        parts.append(_padding(layer.padding))
        if layer.dilation != (1, 1):
            parts.append(f"dilation {_pair(layer.dilation)}")
        if layer.groups > 1:
            parts.append(f"groups {layer.groups}")
        if not layer.bias:
            parts.append("no bias")
    elif isinstance(layer, MaxPool2D | AvgPool2D):
        parts.append(_pair(layer.kernel))
        stride = layer.effective_stride
        parts.append(f"stride {stride[0] if stride[0] == stride[1] else _pair(stride)}")
        parts.append(_padding(layer.padding))
        if layer.ceil_mode:
            parts.append("ceil mode")
        if (
            isinstance(layer, AvgPool2D)
            and not layer.count_include_pad
            and layer.padding
            not in (
                "valid",
                (0, 0),
            )
        ):
            parts.append("padding not counted")
    elif isinstance(layer, Dense):
        parts.append(f"{layer.units:,} unit{'s' if layer.units != 1 else ''}")
        if not layer.bias:
            parts.append("no bias")
    elif isinstance(layer, Dropout):
        parts.append(f"rate {layer.rate:g}")
    elif isinstance(layer, BatchNorm2D):
        parts.append(f"eps {layer.eps:g}")
    else:
        return layer.description
    return " · ".join(parts)


def input_summary(spec: InputSpec) -> str:
    kind = {1: "greyscale", 3: "RGB", 4: "RGBA"}.get(spec.channels, f"{spec.channels} channels")
    return f"{spec.height}×{spec.width} pixels, {kind}"
