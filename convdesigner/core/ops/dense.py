"""Flatten and Dense (fully connected): the classifier end of a network."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from convdesigner.core.ops.base import (
    MAX_COUNT,
    FieldSpec,
    Inferred,
    Layer,
    OpError,
    OpSpec,
    PaletteEntry,
    Params,
    RowGeometry,
    Shape,
)
from convdesigner.core.ops.common import plural
from convdesigner.core.units import fmt, shape_text


@dataclass(frozen=True)
class Flatten(Layer):
    type_name: ClassVar[str] = "flatten"
    display_name: ClassVar[str] = "Flatten"
    description: ClassVar[str] = "Unrolls C×H×W maps into one vector (PyTorch's C, H, W order)"


def infer_flatten(layer: Flatten, shapes: Sequence[Shape], labels: Sequence[str]) -> Inferred:
    shape = shapes[0]
    n = math.prod(shape)

    def derive() -> dict[str, str]:
        if len(shape) == 3:
            c, h, w = shape
            text = (
                f"N = H × W × C = {h} × {w} × {c} = {fmt(n)} values, laid out channel by "
                "channel (PyTorch's C, H, W order)"
            )
        elif len(shape) > 1:
            sizes = " × ".join(str(s) for s in (*shape[1:], shape[0]))
            text = f"N = {sizes} = {fmt(n)} values, laid out channel by channel"
        else:
            text = f"already a vector of {fmt(n)} values"
        return {
            "output_channels": text,
            "weights": "flatten only reorders values: 0 weights",
            "biases": "0 biases",
            "macs": "0 MACs",
        }

    return Inferred((n,), derive, rf="vector")


def run_flatten(layer: Flatten, row: RowGeometry, inputs: Sequence[Any], params: Params) -> Any:
    from convdesigner.core.kernels import ops

    return ops.flatten(inputs[0])


FLATTEN = OpSpec(
    cls=Flatten,
    family="dense",
    infer=infer_flatten,
    run=run_flatten,
    palette=(
        PaletteEntry("flatten", "Flatten", Flatten.description, "dense", lambda c: Flatten()),
    ),
)


@dataclass(frozen=True)
class Dense(Layer):
    type_name: ClassVar[str] = "dense"
    display_name: ClassVar[str] = "Dense"
    description: ClassVar[str] = "Fully connected: every output unit sees every input value"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FieldSpec("units", "Units", "count", "number of outputs", maximum=MAX_COUNT),
        FieldSpec("bias", "Bias", "bool", "add one learned bias per unit"),
    )

    units: int = 10
    bias: bool = True


def infer_dense(layer: Dense, shapes: Sequence[Shape], labels: Sequence[str]) -> Inferred:
    shape = shapes[0]
    if len(shape) != 1:
        raise OpError(
            f"Dense needs a flat vector, but its input is a {shape_text(shape)} feature map. "
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

    return Inferred((n_out,), derive, weights=weights, biases=biases, macs=weights, rf="vector")


def dense_param_shapes(layer: Dense, shapes: Sequence[Shape]) -> dict[str, Shape]:
    out: dict[str, Shape] = {"weight": (layer.units, shapes[0][0])}
    if layer.bias:
        out["bias"] = (layer.units,)
    return out


def run_dense(layer: Dense, row: RowGeometry, inputs: Sequence[Any], params: Params) -> Any:
    """One matrix-vector product (the engine runs dense layers threaded and cancellable)."""
    import numpy as np

    y = np.asarray(params["weight"] @ inputs[0], dtype=np.float32)
    bias = params.get("bias")
    if bias is not None:
        y += bias
    return y


def _dense_summary(layer: Dense) -> str:
    return plural(layer.units, "unit") + ("" if layer.bias else " · no bias")


DENSE = OpSpec(
    cls=Dense,
    family="dense",
    infer=infer_dense,
    run=run_dense,
    fuse="dense",
    param_shapes=dense_param_shapes,
    random_params=("weight",),
    width="units",
    summary=_dense_summary,
    palette=(
        PaletteEntry("dense", "Dense", Dense.description, "dense", lambda c: Dense(units=10)),
    ),
)

SPECS = (FLATTEN, DENSE)
