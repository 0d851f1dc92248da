"""Small designs with branches, shared by the core and UI tests (until templates have them)."""

from __future__ import annotations

from convdesigner.core.design import Design, InputSpec, Node
from convdesigner.core.layers import Add, BatchNorm2D, Conv2D, Dense, Flatten, GlobalAvgPool2D, ReLU


def residual_block(size: int = 16, channels: int = 8) -> Design:
    """The issue's basic residual block: two 3×3 convolutions and a shortcut from the input."""
    return Design(
        InputSpec(size, size, channels),
        nodes=(
            Node("conv1", Conv2D(filters=channels, kernel=3, padding=1, bias=False)),
            Node("bn1", BatchNorm2D()),
            Node("relu1", ReLU()),
            Node("conv2", Conv2D(filters=channels, kernel=3, padding=1, bias=False)),
            Node("bn2", BatchNorm2D()),
            Node("add", Add(), ("bn2", "input")),
            Node("relu2", ReLU()),
        ),
        name="Basic residual block",
    )


def small_resnet(size: int = 64) -> Design:
    """An RGB stem, one basic residual block and a classifier: pictures go through it."""
    return Design(
        InputSpec(size, size, 3),
        nodes=(
            Node("stem", Conv2D(filters=16, kernel=3, stride=2, padding=1, bias=False)),
            Node("stem_bn", BatchNorm2D()),
            Node("stem_relu", ReLU()),
            Node("conv1", Conv2D(filters=16, kernel=3, padding=1, bias=False)),
            Node("bn1", BatchNorm2D()),
            Node("relu1", ReLU()),
            Node("conv2", Conv2D(filters=16, kernel=3, padding=1, bias=False)),
            Node("bn2", BatchNorm2D()),
            Node("add", Add(), ("bn2", "stem_relu")),
            Node("relu2", ReLU()),
            Node("pool", GlobalAvgPool2D()),
            Node("flatten", Flatten()),
            Node("fc", Dense(units=10)),
        ),
        name="Small ResNet",
    )
