"""Ops that change the spatial size without weights: explicit zero padding and upsampling."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from convdesigner.core.ops.base import (
    AxisPadding,
    FieldSpec,
    Inferred,
    Layer,
    OpError,
    OpSpec,
    OptionalScale,
    OptionalSize,
    PaletteEntry,
    Params,
    RowGeometry,
    Shape,
)
from convdesigner.core.ops.common import need_map, size_text
from convdesigner.core.validate import LayerSettingError

MAX_SCALE = 64.0


@dataclass(frozen=True)
class ZeroPad2D(Layer):
    type_name: ClassVar[str] = "zeropad2d"
    display_name: ClassVar[str] = "ZeroPad2D"
    description: ClassVar[str] = "Adds rows and columns of zeros around each map, per side"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FieldSpec(
            "padding",
            "Padding",
            "axis_pads",
            "zeros added: [[top, bottom], [left, right]] (or one number for every side)",
            minimum=0,
        ),
    )

    padding: AxisPadding = AxisPadding(((1, 1), (1, 1)))


def infer_zeropad(layer: ZeroPad2D, shapes: Sequence[Shape], labels: Sequence[str]) -> Inferred:
    c, (h, w) = need_map(layer, shapes[0], 2)
    (top, bottom), (left, right) = layer.padding
    ho, wo = h + top + bottom, w + left + right

    def derive() -> dict[str, str]:
        return {
            "output_height": f"H_out = H_in + top + bottom = {h} + {top} + {bottom} = {ho}",
            "output_width": f"W_out = W_in + left + right = {w} + {left} + {right} = {wo}",
            "output_channels": f"C_out = C_in = {c} (every channel is padded the same way)",
            "padding": f"padding applied: top {top}, bottom {bottom}, left {left}, right {right}",
            "weights": "zero padding has no weights: 0",
            "biases": "zero padding has no biases: 0",
            "macs": "0 MACs",
        }

    return Inferred(
        (c, ho, wo),
        derive,
        kernel=(1, 1),
        stride=(1, 1),
        padding=layer.padding,
        rf="window",
    )


def run_zeropad(layer: ZeroPad2D, row: RowGeometry, inputs: Sequence[Any], params: Params) -> Any:
    from convdesigner.core.kernels import resample

    (top, bottom), (left, right) = layer.padding
    return resample.zero_pad(inputs[0], ((top, bottom), (left, right)))


def _zeropad_summary(layer: ZeroPad2D) -> str:
    (top, bottom), (left, right) = layer.padding
    if top == bottom == left == right:
        return f"pad {top}"
    return f"top {top} · bottom {bottom} · left {left} · right {right}"


ZEROPAD2D = OpSpec(
    cls=ZeroPad2D,
    family="shape",
    infer=infer_zeropad,
    run=run_zeropad,
    summary=_zeropad_summary,
    palette=(
        PaletteEntry(
            "zeropad2d", "ZeroPad2D", ZeroPad2D.description, "shape", lambda c: ZeroPad2D()
        ),
    ),
)


@dataclass(frozen=True)
class Upsample(Layer):
    type_name: ClassVar[str] = "upsample"
    display_name: ClassVar[str] = "Upsample"
    description: ClassVar[str] = "Enlarges each map by a factor or to a size (nearest or bilinear)"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FieldSpec(
            "scale",
            "Scale",
            "optional_scale",
            "enlargement factor (height × width); leave empty to give a size instead",
            minimum=0,
            maximum=MAX_SCALE,
            include_minimum=False,
            wording=f"a number above 0 and at most {MAX_SCALE:g}",
            step=0.5,
        ),
        FieldSpec("size", "Size", "optional_size", "output height × width (instead of a scale)"),
        FieldSpec(
            "mode",
            "Mode",
            "choice",
            "nearest repeats values; bilinear interpolates between neighbours",
            choices=("nearest", "bilinear"),
        ),
        FieldSpec(
            "align_corners",
            "Align corners",
            "bool",
            "bilinear only: corner pixels of input and output line up (PyTorch align_corners)",
        ),
    )

    scale: OptionalScale = OptionalScale(None)
    """None with no size means 2 (so ``Upsample(size=32)`` needs no ``scale=None``)."""
    size: OptionalSize = OptionalSize(None)
    mode: str = "nearest"
    align_corners: bool = False

    def check(self) -> None:
        if self.scale is None and self.size is None:
            object.__setattr__(self, "scale", (2.0, 2.0))
        if self.scale is not None and self.size is not None:
            raise LayerSettingError(
                "scale", "give either a scale or a size (exactly one of the two)"
            )
        if self.align_corners and self.mode != "bilinear":
            raise LayerSettingError(
                "align_corners", "only applies to bilinear upsampling (PyTorch refuses it)"
            )


def infer_upsample(layer: Upsample, shapes: Sequence[Shape], labels: Sequence[str]) -> Inferred:
    c, spatial = need_map(layer, shapes[0], 2)
    if layer.size is not None:
        out = layer.size
    else:
        assert layer.scale is not None
        out = (
            math.floor(spatial[0] * layer.scale[0]),
            math.floor(spatial[1] * layer.scale[1]),
        )
    if min(out) < 1:
        raise OpError(
            f"Upsampling {size_text(spatial)} by {layer.scale} gives {size_text(out)}: the "
            "output needs at least one row and column. Use a larger scale."
        )

    def derive() -> dict[str, str]:
        d = {}
        for i, (axis, sym) in enumerate((("height", "H"), ("width", "W"))):
            if layer.size is not None:
                d[f"output_{axis}"] = f"{sym}_out = size = {out[i]}"
            else:
                assert layer.scale is not None
                d[f"output_{axis}"] = (
                    f"{sym}_out = floor({sym}_in × scale) = floor({spatial[i]} × "
                    f"{layer.scale[i]:g}) = {out[i]}"
                )
        how = (
            "each output copies its nearest input value"
            if layer.mode == "nearest"
            else "each output interpolates its four nearest input values"
        )
        return {
            **d,
            "output_channels": f"C_out = C_in = {c}: {how}, channel by channel",
            "weights": "upsampling has no weights: 0",
            "biases": "upsampling has no biases: 0",
            "macs": "0 MACs counted (interpolation is not a learned multiply-accumulate)",
        }

    return Inferred((c, *out), derive, rf="lost")


def run_upsample(layer: Upsample, row: RowGeometry, inputs: Sequence[Any], params: Params) -> Any:
    from convdesigner.core.kernels import resample

    assert row.output_shape is not None
    out_hw = (row.output_shape[1], row.output_shape[2])
    mode: Literal["nearest", "bilinear"] = "bilinear" if layer.mode == "bilinear" else "nearest"
    return resample.upsample(inputs[0], out_hw, mode, layer.scale, layer.align_corners)


def _upsample_summary(layer: Upsample) -> str:
    if layer.scale is not None:
        s = layer.scale
        what = f"×{s[0]:g}" if s[0] == s[1] else f"×{s[0]:g}×{s[1]:g}"
    else:
        assert layer.size is not None
        what = f"to {size_text(layer.size)}"
    return f"{what} · {layer.mode}" + (" · align corners" if layer.align_corners else "")


UPSAMPLE = OpSpec(
    cls=Upsample,
    family="shape",
    infer=infer_upsample,
    run=run_upsample,
    summary=_upsample_summary,
    palette=(
        PaletteEntry("upsample", "Upsample", Upsample.description, "shape", lambda c: Upsample()),
    ),
)

SPECS = (ZEROPAD2D, UPSAMPLE)
