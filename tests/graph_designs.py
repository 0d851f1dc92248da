"""Small designs with branches, shared by the core and UI tests (until templates have them)."""

from __future__ import annotations

from convdesigner.core.design import Design, InputSpec, Node
from convdesigner.core.layers import Add, BatchNorm2D, Conv2D, ReLU


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
