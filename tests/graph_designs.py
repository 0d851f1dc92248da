"""Small designs with branches, shared by the core and UI tests (until templates have them)."""

from __future__ import annotations

from convdesigner.core.design import INPUT_ID, Design, InputSpec, Node
from convdesigner.core.layers import (
    Add,
    BatchNorm2D,
    Concat,
    Conv2D,
    Dense,
    Flatten,
    GlobalAvgPool2D,
    ReLU,
)


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


def dense_block(convs: int) -> Design:
    """Two 1×1 convs on the input, then each 1×1 conv reads the concat of every conv before it:
    inputs (and skip edges) by the square of the depth, few nodes (``2 * convs - 2``)."""
    nodes = [Node(f"c{i}", Conv2D(4, 1), (INPUT_ID,)) for i in range(2)]
    outputs = ["c0", "c1"]
    for b in range(2, convs):
        nodes.append(Node(f"cat{b}", Concat(), tuple(outputs)))
        nodes.append(Node(f"c{b}", Conv2D(4, 1), (f"cat{b}",)))
        outputs.append(f"c{b}")
    return Design(InputSpec(8, 8, 3), nodes=nodes)
