"""Random valid graphs mixing every op of the registry, for the oracles (no torch needed here).

:data:`RANDOM_OPS` draws a layer of each type for a given input shape (one entry per type name of
the registry; a test fails when an op has none). :func:`random_graph` grows a design from a seed
out of the shapes networks are made of: chains, forks (several outputs), residual blocks (with a
1×1 projection when the channels or the size change, sometimes three inputs to one add),
Inception/DenseNet-style concatenations, squeeze-and-excitation gates (global pool → 1×1 conv
→ sigmoid → multiply a C×H×W map by a C×1×1 one), down-and-up branches joined again (upsampling
to a size, or a transposed convolution with output padding) and vector heads merged again.

Validity is decided by our analysis while growing (a candidate node that does not fit is
dropped); the oracles then check every node independently, so a node the analysis wrongly
accepts fails there. Node ids come in three styles: Keras-like (``conv2d_3``), dotted module
paths like torchvision's (``layer2.0.conv2d``) and numbers; inputs are written out, or left out
when a node reads the one above.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

from convdesigner.core.analysis import analyse
from convdesigner.core.design import INPUT_ID, Design, InputSpec, Node
from convdesigner.core.layers import (
    GELU,
    Add,
    AvgPool2D,
    BatchNorm2D,
    Concat,
    Conv2D,
    ConvTranspose2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Hardswish,
    Identity,
    Layer,
    LeakyReLU,
    MaxPool2D,
    Multiply,
    PaddingArg,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    SizeArg,
    Softmax,
    Tanh,
    Upsample,
    ZeroPad2D,
)
from convdesigner.core.ops import REGISTRY

Shape = tuple[int, ...]
RandomOp = Callable[[random.Random, Shape], Layer]

MAX_VALUES = 4000
"""Largest map a node may produce (keeps a graph's torch and engine runs at a few ms)."""
MAX_NODES = 40


def _size(rng: random.Random, low: int, high: int) -> int | tuple[int, int]:
    if rng.random() < 0.7:
        return rng.randint(low, high)
    return (rng.randint(low, high), rng.randint(low, high))


def _groups(rng: random.Random, channels: int) -> int:
    return rng.choice([g for g in (1, 1, 2, 3, channels) if channels % g == 0])


def _conv(rng: random.Random, shape: Shape) -> Layer:
    groups = _groups(rng, shape[0])
    return Conv2D(
        filters=groups * rng.randint(1, 3),
        kernel=_size(rng, 1, 4),
        stride=_size(rng, 1, 3),
        padding=rng.choice(["same", "valid", _size(rng, 0, 2)]),
        dilation=_size(rng, 1, 2) if rng.random() < 0.3 else 1,
        groups=groups,
        bias=rng.random() < 0.7,
    )


def _conv_transpose(rng: random.Random, shape: Shape) -> Layer:
    groups = _groups(rng, shape[0])
    stride = (rng.randint(1, 3), rng.randint(1, 3))
    dilation = (rng.randint(1, 2), rng.randint(1, 2)) if rng.random() < 0.3 else (1, 1)
    # PyTorch's rule: output padding below the stride or the dilation.
    output_padding = (
        rng.randint(0, max(stride[0], dilation[0]) - 1),
        rng.randint(0, max(stride[1], dilation[1]) - 1),
    )
    return ConvTranspose2D(
        filters=groups * rng.randint(1, 3),
        kernel=_size(rng, 1, 4),
        stride=stride,
        padding=_size(rng, 0, 1),
        output_padding=output_padding,
        dilation=dilation,
        groups=groups,
        bias=rng.random() < 0.7,
    )


def _pool(cls: type[MaxPool2D] | type[AvgPool2D]) -> RandomOp:
    def make(rng: random.Random, shape: Shape) -> Layer:
        kernel = (rng.randint(1, 4), rng.randint(1, 4))
        padding: PaddingArg = rng.choice(
            ["same", "valid", (rng.randint(0, kernel[0] // 2), rng.randint(0, kernel[1] // 2))]
        )
        stride = rng.choice([None, _size(rng, 1, 3)])
        ceil_mode = rng.random() < 0.4
        if cls is MaxPool2D:
            return MaxPool2D(kernel=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode)
        return AvgPool2D(
            kernel=kernel,
            stride=stride,
            padding=padding,
            ceil_mode=ceil_mode,
            count_include_pad=rng.random() < 0.5,
        )

    return make


def _zero_pad(rng: random.Random, shape: Shape) -> Layer:
    if rng.random() < 0.3:
        return ZeroPad2D(padding=rng.randint(0, 2))
    return ZeroPad2D(padding=[[rng.randint(0, 2), rng.randint(0, 2)] for _ in range(2)])


def _upsample(rng: random.Random, shape: Shape) -> Layer:
    mode = rng.choice(["nearest", "bilinear"])
    align = mode == "bilinear" and rng.random() < 0.5
    if rng.random() < 0.4:
        return Upsample(size=(rng.randint(1, 14), rng.randint(1, 14)), mode=mode,
                        align_corners=align)  # fmt: skip
    scales: list[float | tuple[float, float]] = [2.0, 3.0, 1.5, 0.5, (2.0, 1.0), (1.5, 2.5)]
    scale = rng.choice(scales)
    return Upsample(scale=scale, mode=mode, align_corners=align)


def _const(layer: Callable[[], Layer]) -> RandomOp:
    return lambda rng, shape: layer()


RANDOM_OPS: dict[str, RandomOp] = {
    "conv2d": _conv,
    "convtranspose2d": _conv_transpose,
    "maxpool2d": _pool(MaxPool2D),
    "avgpool2d": _pool(AvgPool2D),
    "globalavgpool2d": _const(GlobalAvgPool2D),
    "relu": _const(ReLU),
    "relu6": _const(ReLU6),
    "leakyrelu": lambda rng, shape: LeakyReLU(negative_slope=rng.choice([0.0, 0.01, 0.2, 1.0])),
    "sigmoid": _const(Sigmoid),
    "tanh": _const(Tanh),
    "silu": _const(SiLU),
    "hardswish": _const(Hardswish),
    "gelu": lambda rng, shape: GELU(approximate=rng.choice(["none", "tanh"])),
    "softmax": _const(Softmax),
    "batchnorm2d": lambda rng, shape: BatchNorm2D(eps=rng.choice([1e-5, 1e-3])),
    "flatten": _const(Flatten),
    "dense": lambda rng, shape: Dense(units=rng.randint(1, 12), bias=rng.random() < 0.7),
    "dropout": lambda rng, shape: Dropout(rate=rng.choice([0.0, 0.5])),
    "zeropad2d": _zero_pad,
    "upsample": _upsample,
    "identity": _const(Identity),
    "add": _const(Add),
    "concat": _const(Concat),
    "multiply": _const(Multiply),
}
"""A random layer of each type for an input of a given shape, by the registry's type name."""

UNARY = [name for name, spec in REGISTRY.items() if spec.arity == (1, 1)]
ACTIVATIONS = [name for name, spec in REGISTRY.items() if spec.family == "act"]


class GraphBuilder:
    """Grows a design node by node, keeping only nodes our analysis accepts."""

    def __init__(self, rng: random.Random, spec: InputSpec) -> None:
        self.rng = rng
        self.spec = spec
        self.nodes: list[Node] = []
        self.shapes: dict[str, Shape] = {INPUT_ID: spec.shape}
        self.style = rng.choice(["typed", "dotted", "numbers"])
        self.block = 0
        self.in_block = 0

    @property
    def last(self) -> str:
        return self.nodes[-1].id if self.nodes else INPUT_ID

    def maps(self) -> list[str]:
        return [k for k, s in self.shapes.items() if len(s) == 3]

    def new_block(self) -> None:
        self.block += 1
        self.in_block = 0

    def _new_id(self, layer: Layer) -> str:
        self.in_block += 1
        if self.style == "numbers":
            return str(len(self.nodes))
        if self.style == "dotted":
            if self.block % 2:
                return f"layer{self.block}.{self.in_block - 1}"
            return f"block{self.block}.{layer.type_name}{self.in_block}"
        return f"{layer.type_name}_{len(self.nodes) + 1}"

    def add(self, layer: Layer, inputs: Sequence[str]) -> str | None:
        """The new node's id, or None (nothing added) when our analysis refuses it."""
        if len(self.nodes) >= MAX_NODES:
            return None
        node_id = self._new_id(layer)
        sources = tuple(inputs)
        implicit = sources == (self.last,) and self.rng.random() < 0.7
        node = Node(node_id, layer, None if implicit else sources)
        row = analyse(Design(self.spec, nodes=[*self.nodes, node])).rows[-1]
        if not row.ok or row.output_shape is None or math.prod(row.output_shape) > MAX_VALUES:
            return None
        self.nodes.append(node)
        self.shapes[node_id] = row.output_shape
        return node_id

    def random(self, type_name: str, source: str, tries: int = 6) -> str | None:
        """A random layer of ``type_name`` reading ``source`` (a few draws until one fits)."""
        for _ in range(tries):
            made = self.add(RANDOM_OPS[type_name](self.rng, self.shapes[source]), [source])
            if made is not None:
                return made
        return None

    def design(self) -> Design:
        return Design(self.spec, nodes=self.nodes, name="random graph")

    # ----------------------------------------------------------------- blocks

    def keeper(self, source: str) -> str | None:
        """A shape-preserving op on ``source``'s map (for branches that merge again)."""
        c = self.shapes[source][0]
        rng = self.rng
        kind = rng.choice(["conv", "conv", "bn", "act", "act", "pool", "identity", "dropout"])
        layer: Layer
        if kind == "conv":
            groups = _groups(rng, c)
            kernels: list[SizeArg] = [1, 3, 5, (3, 1)]
            kernel = rng.choice(kernels)
            layer = Conv2D(filters=c, kernel=kernel, padding="same",
                           groups=groups, dilation=rng.choice([1, 1, 2]),
                           bias=rng.random() < 0.5)  # fmt: skip
        elif kind == "bn":
            layer = BatchNorm2D()
        elif kind == "act":
            layer = RANDOM_OPS[rng.choice(ACTIVATIONS)](rng, self.shapes[source])
        elif kind == "pool":
            cls = rng.choice([MaxPool2D, AvgPool2D])
            layer = cls(kernel=3, stride=1, padding=rng.choice([1, "same"]))
        else:
            layer = Identity() if kind == "identity" else Dropout(rate=0.5)
        return self.add(layer, [source])

    def branch(self, source: str, length: int) -> str:
        end = source
        for _ in range(length):
            end = self.keeper(end) or end
        return end

    def chain(self, source: str) -> None:
        weights = [4 if t == "conv2d" else 1 for t in UNARY]
        self.random(self.rng.choices(UNARY, weights)[0], source)

    def residual(self, source: str) -> None:
        rng = self.rng
        variant = rng.choice(["plain", "plain", "projection", "three"])
        if variant == "projection":
            c2, stride = rng.randint(1, 8), rng.choice([1, 2])
            first = self.add(Conv2D(filters=c2, kernel=3, stride=stride, padding="same"), [source])
            if first is None:
                return
            end = self.branch(first, rng.randint(0, 2))
            shortcut = self.add(Conv2D(filters=c2, kernel=1, stride=stride, bias=False), [source])
            if shortcut is None:
                return
            inputs = [end, shortcut]
        else:
            inputs = [self.branch(source, rng.randint(1, 3)), source]
            if variant == "three":
                inputs.insert(1, self.branch(source, rng.randint(1, 2)))
            if all(i == source for i in inputs[:-1]):
                return  # every branch was refused: adding a map to itself proves little
        rng.shuffle(inputs)
        self.add(Add(), inputs)

    def concat(self, source: str) -> None:
        rng = self.rng
        inputs: list[str] = []
        for _ in range(rng.randint(2, 3)):
            kind = rng.choice(["conv", "conv", "pool", "keeper"])
            if kind == "conv":
                made = self.add(Conv2D(filters=rng.randint(1, 6), kernel=rng.choice([1, 3, 5]),
                                       padding="same"), [source])  # fmt: skip
            elif kind == "pool":
                made = self.add(MaxPool2D(kernel=3, stride=1, padding=1), [source])
            else:
                made = self.keeper(source)
            if made is not None:
                inputs.append(made)
        if rng.random() < 0.4:
            inputs.append(source)  # DenseNet: the block's input joins its output
        if len(inputs) >= 2:
            rng.shuffle(inputs)
            self.add(Concat(), inputs)

    def squeeze_excite(self, source: str) -> None:
        rng = self.rng
        c = self.shapes[source][0]
        pooled = self.add(GlobalAvgPool2D(), [source])
        squeezed = pooled and self.add(Conv2D(filters=max(1, c // 2), kernel=1), [pooled])
        act = squeezed and self.random(rng.choice(["relu", "silu"]), squeezed)
        excited = act and self.add(Conv2D(filters=c, kernel=1), [act])
        gate = excited and self.add(Sigmoid(), [excited])
        if gate:
            self.add(Multiply(), rng.choice([[source, gate], [gate, source]]))

    def gated(self, source: str) -> None:
        a = self.branch(source, self.rng.randint(1, 2))
        b = self.branch(source, self.rng.randint(0, 2))
        if a != b:
            self.add(Multiply(), [a, b])

    def down_up(self, source: str) -> None:
        """Halve, work, come back to the source's size and join it (a U-Net step)."""
        rng = self.rng
        _c, h, w = self.shapes[source]
        down = self.add(MaxPool2D(kernel=2), [source])
        if down is None:
            return
        mid = self.branch(down, 1)
        if rng.random() < 0.5:
            up = self.add(Upsample(size=(h, w), mode=rng.choice(["nearest", "bilinear"])), [mid])
        else:
            up = self.add(
                ConvTranspose2D(filters=rng.randint(1, 6), kernel=2, stride=2,
                                output_padding=(h % 2, w % 2)),
                [mid],
            )  # fmt: skip
        if up is not None:
            self.add(rng.choice([Concat(), Concat(), Add(), Multiply()]), [up, source])

    def head(self, source: str) -> None:
        """Flatten (or pool and flatten), dense layers, sometimes two heads merged again."""
        rng = self.rng
        start = self.add(GlobalAvgPool2D(), [source]) if rng.random() < 0.5 else source
        flat = start and self.add(Flatten(), [start])
        if not flat:
            return
        units = rng.randint(2, 8)
        first = self.add(Dense(units=units), [flat])
        if first and rng.random() < 0.5:
            act = self.random(rng.choice(ACTIVATIONS), first) or first
            second = self.add(Dense(units=units, bias=False), [flat])
            if second:
                self.add(rng.choice([Add(), Concat(), Multiply()]), [act, second])


ACTIONS = ["chain"] * 4 + ["fork", "residual", "residual", "concat", "squeeze_excite", "gated",
                           "down_up"]  # fmt: skip


def random_graph(seed: int) -> Design:
    """A valid design of a few blocks, from ``seed`` (the same seed, the same design)."""
    rng = random.Random(seed)
    spec = InputSpec(rng.randint(3, 12), rng.randint(3, 12), rng.choice([1, 2, 3, 4, 6]))
    g = GraphBuilder(rng, spec)
    for _ in range(rng.randint(2, 6)):
        g.new_block()
        maps = g.maps()
        source = g.last if g.last in maps else rng.choice(maps)
        action = rng.choice(ACTIONS)
        if action == "fork":
            g.chain(rng.choice(maps))  # from anywhere: its output may stay unread (an output)
        else:
            getattr(g, action)(source)
    if rng.random() < 0.5:
        g.new_block()
        maps = g.maps()
        g.head(g.last if g.last in maps else rng.choice(maps))
    if not g.nodes:
        g.add(Identity(), [INPUT_ID])
    return g.design()
