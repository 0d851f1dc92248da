"""Batch normalisation: a learned scale and shift per channel, plus running statistics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from convdesigner.core.ops.base import (
    FieldSpec,
    Inferred,
    Layer,
    OpSpec,
    PaletteEntry,
    Params,
    RowGeometry,
    Shape,
)
from convdesigner.core.ops.common import need_map
from convdesigner.core.units import fmt, shape_text


@dataclass(frozen=True)
class BatchNorm2D(Layer):
    type_name: ClassVar[str] = "batchnorm2d"
    display_name: ClassVar[str] = "BatchNorm"
    description: ClassVar[str] = "Normalises each channel with a learned scale and shift"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FieldSpec(
            "eps",
            "Epsilon",
            "number",
            "added to the variance for numerical stability",
            minimum=0,
            maximum=1,
            include_minimum=False,
            include_maximum=False,
            wording="a number between 0 and 1",
            decimals=8,
            step=1e-5,
        ),
    )

    eps: float = 1e-5


def infer_batchnorm(layer: BatchNorm2D, shapes: Sequence[Shape], labels: Sequence[str]) -> Inferred:
    shape = shapes[0]
    c, _spatial = need_map(layer, shape, 2)

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

    return Inferred(shape, derive, weights=c, biases=c, non_trainable=2 * c)


def batchnorm_param_shapes(layer: BatchNorm2D, shapes: Sequence[Shape]) -> dict[str, Shape]:
    c = shapes[0][0]
    return {
        "weight": (c,),
        "bias": (c,),
        "running_mean": (c,),
        "running_var": (c,),
        "num_batches_tracked": (),
    }


def scale_shift(layer: BatchNorm2D, params: Params) -> tuple[Any, Any, bool]:
    """Inference batch norm as one per-channel scale and shift (fused into convolutions)."""
    from convdesigner.core.kernels import ops

    scale, shift = ops.batchnorm_scale_shift(
        params["weight"], params["bias"], params["running_mean"], params["running_var"], layer.eps
    )
    return scale, shift, False


def run_batchnorm(
    layer: BatchNorm2D, row: RowGeometry, inputs: Sequence[Any], params: Params
) -> Any:
    from convdesigner.core.kernels import ops

    scale, shift, _relu = scale_shift(layer, params)
    return ops.scale_shift(inputs[0], scale, shift)


BATCHNORM2D = OpSpec(
    cls=BatchNorm2D,
    family="norm",
    infer=infer_batchnorm,
    run=run_batchnorm,
    param_shapes=batchnorm_param_shapes,
    summary=lambda layer: f"eps {layer.eps:g}",
    fuse="pointwise",
    pointwise=scale_shift,
    palette=(
        PaletteEntry(
            "batchnorm2d", "BatchNorm", BatchNorm2D.description, "norm", lambda c: BatchNorm2D()
        ),
    ),
)

SPECS = (BATCHNORM2D,)
