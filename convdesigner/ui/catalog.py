"""The palette's entries: what each one is called, looks like and creates when dropped.

Kept free of widgets so the pipeline, the keyboard path and tests all create exactly the same
layer for a given entry. Some entries depend on where they land: a depthwise convolution needs
the number of channels reaching it (``groups = filters = C_in``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from convdesigner.core.analysis import Analysis
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
    ReLU,
)


@dataclass(frozen=True)
class PaletteEntry:
    key: str
    """Stable identifier, used as the drag payload and the icon's file name."""
    title: str
    description: str
    family: str
    """Colour group for icons and pipeline cards."""
    make: Callable[[int], Layer]
    """Build the layer given the channel count reaching the insertion point."""


ENTRIES: tuple[PaletteEntry, ...] = (
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
    PaletteEntry(
        "maxpool2d", "MaxPool2D", MaxPool2D.description, "pool", lambda c: MaxPool2D(kernel=(2, 2))
    ),
    PaletteEntry(
        "avgpool2d", "AvgPool2D", AvgPool2D.description, "pool", lambda c: AvgPool2D(kernel=(2, 2))
    ),
    PaletteEntry(
        "globalavgpool2d",
        "Global Avg Pool",
        GlobalAvgPool2D.description,
        "pool",
        lambda c: GlobalAvgPool2D(),
    ),
    PaletteEntry("relu", "ReLU", ReLU.description, "act", lambda c: ReLU()),
    PaletteEntry(
        "batchnorm2d", "BatchNorm", BatchNorm2D.description, "norm", lambda c: BatchNorm2D()
    ),
    PaletteEntry("flatten", "Flatten", Flatten.description, "dense", lambda c: Flatten()),
    PaletteEntry("dense", "Dense", Dense.description, "dense", lambda c: Dense(units=10)),
    PaletteEntry("dropout", "Dropout", Dropout.description, "act", lambda c: Dropout(rate=0.5)),
)

BY_KEY: dict[str, PaletteEntry] = {e.key: e for e in ENTRIES}

FAMILY_OF_TYPE: dict[str, str] = {
    "conv2d": "conv",
    "maxpool2d": "pool",
    "avgpool2d": "pool",
    "globalavgpool2d": "pool",
    "relu": "act",
    "dropout": "act",
    "batchnorm2d": "norm",
    "flatten": "dense",
    "dense": "dense",
}


def icon_key(layer: Layer) -> str:
    """The palette entry whose icon best shows ``layer`` (a depthwise conv gets its own)."""
    if isinstance(layer, Conv2D):
        if layer.groups > 1 and layer.groups == layer.filters:
            return "depthwise"
        if layer.kernel == (1, 1):
            return "conv1x1"
    return layer.type_name


def channels_at(analysis: Analysis, index: int) -> int:
    """Channels reaching position ``index`` of ``design.layers`` (last known map if unknown)."""
    for row in reversed(analysis.rows[: index + 1]):
        if row.output_shape is not None and len(row.output_shape) == 3:
            return row.output_shape[0]
    return analysis.design.input.channels


def make_layer(key: str, analysis: Analysis, index: int) -> Layer:
    """The layer palette entry ``key`` creates when inserted at ``index``."""
    return BY_KEY[key].make(channels_at(analysis, index))
