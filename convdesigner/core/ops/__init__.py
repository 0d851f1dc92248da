"""The registry of operations: every layer type the program knows, one :class:`OpSpec` each.

Look a layer's behaviour up here (``spec_for(layer)``) instead of switching on its type: the
loader, the forms, the analysis, the weights, the engine, the palette and the tests all do, so a
new type is one module in this package (plus an icon in resources/icons/layers/).
"""

from __future__ import annotations

from collections.abc import Iterator

from convdesigner.core.ops import activation, conv, dense, merge, norm, pool, resample
from convdesigner.core.ops.activation import (
    GELU,
    Dropout,
    Hardswish,
    Identity,
    LeakyReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
)
from convdesigner.core.ops.base import (
    FieldSpec,
    Inferred,
    Layer,
    OpError,
    OpSpec,
    PaletteEntry,
)
from convdesigner.core.ops.conv import Conv2D, ConvTranspose2D
from convdesigner.core.ops.dense import Dense, Flatten
from convdesigner.core.ops.merge import Add, Concat, Multiply
from convdesigner.core.ops.norm import BatchNorm2D
from convdesigner.core.ops.pool import AvgPool2D, GlobalAvgPool2D, MaxPool2D
from convdesigner.core.ops.resample import Upsample, ZeroPad2D

_ORDER: tuple[OpSpec, ...] = (
    conv.CONV2D,
    conv.CONV_TRANSPOSE2D,
    pool.MAXPOOL2D,
    pool.AVGPOOL2D,
    pool.GLOBALAVGPOOL2D,
    activation.RELU,
    activation.RELU6,
    activation.LEAKYRELU,
    activation.SIGMOID,
    activation.TANH,
    activation.SILU,
    activation.HARDSWISH,
    activation.GELU_SPEC,
    activation.SOFTMAX,
    norm.BATCHNORM2D,
    dense.FLATTEN,
    dense.DENSE,
    activation.DROPOUT,
    resample.ZEROPAD2D,
    resample.UPSAMPLE,
    activation.IDENTITY,
    merge.ADD,
    merge.CONCAT,
    merge.MULTIPLY,
)

REGISTRY: dict[str, OpSpec] = {spec.type_name: spec for spec in _ORDER}
"""Every op by its file-format type name, in palette order."""

_BY_CLASS: dict[type[Layer], OpSpec] = {spec.cls: spec for spec in _ORDER}


def spec_for(layer: Layer | type[Layer]) -> OpSpec:
    """The spec of ``layer``'s type (a subclass of a known type uses its base's spec)."""
    cls = layer if isinstance(layer, type) else type(layer)
    spec = _BY_CLASS.get(cls)
    if spec is None:
        spec = next((_BY_CLASS[c] for c in cls.__mro__ if c in _BY_CLASS), None)
    if spec is None:
        raise KeyError(f"{cls.__name__} is not a layer type this version knows")
    return spec


def palette_entries() -> Iterator[PaletteEntry]:
    for spec in _ORDER:
        yield from spec.palette


__all__ = [
    "GELU",
    "REGISTRY",
    "Add",
    "AvgPool2D",
    "BatchNorm2D",
    "Concat",
    "Conv2D",
    "ConvTranspose2D",
    "Dense",
    "Dropout",
    "FieldSpec",
    "Flatten",
    "GlobalAvgPool2D",
    "Hardswish",
    "Identity",
    "Inferred",
    "Layer",
    "LeakyReLU",
    "MaxPool2D",
    "Multiply",
    "OpError",
    "OpSpec",
    "PaletteEntry",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "Upsample",
    "ZeroPad2D",
    "palette_entries",
    "spec_for",
]
