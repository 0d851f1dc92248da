"""Hypothesis strategies for random layers and designs, shared by the core tests.

:data:`LAYER_STRATEGIES` has one strategy per type name of the registry (a test fails when an op
has none). They cover every setting, including combinations that cannot work (a kernel larger
than the input, groups that do not divide, a merge with one input), since the analysis must
handle those; only what the layer itself refuses to be built with is left out.

:data:`designs` are chains; :data:`graph_designs` are graphs whose nodes read any entries above
(or the input), with ids in every allowed form, so load/save and the analysis meet branches,
merges of any arity and several outputs.
"""

from __future__ import annotations

from hypothesis import strategies as st

from convdesigner.core.design import INPUT_ID, MAX_ID, Design, InputSpec, Node
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
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
    Upsample,
    ZeroPad2D,
)


def _pairs(low: int, high: int) -> st.SearchStrategy[int | tuple[int, int]]:
    single = st.integers(low, high)
    return st.one_of(single, st.tuples(single, single))


_padding = st.one_of(st.sampled_from(["valid", "same"]), _pairs(0, 4))


@st.composite
def _conv_transpose(draw: st.DrawFn) -> ConvTranspose2D:
    stride = draw(st.tuples(st.integers(1, 4), st.integers(1, 4)))
    dilation = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    # PyTorch refuses output padding that is not below the stride or the dilation.
    output_padding = tuple(
        draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)
    )
    return ConvTranspose2D(
        filters=draw(st.integers(1, 12)),
        kernel=draw(_pairs(1, 5)),
        stride=stride,
        padding=draw(_pairs(0, 4)),
        output_padding=(output_padding[0], output_padding[1]),
        dilation=dilation,
        groups=draw(st.integers(1, 4)),
        bias=draw(st.booleans()),
    )


@st.composite
def _upsample(draw: st.DrawFn) -> Upsample:
    mode = draw(st.sampled_from(["nearest", "bilinear"]))
    align = draw(st.booleans()) if mode == "bilinear" else False
    if draw(st.booleans()):
        return Upsample(size=draw(_pairs(1, 40)), mode=mode, align_corners=align)
    factor = st.floats(0.05, 8, allow_nan=False)
    scale = draw(st.one_of(factor, st.tuples(factor, factor)))
    return Upsample(scale=scale, mode=mode, align_corners=align)


_zero_pads = st.one_of(
    st.integers(0, 5),
    st.tuples(st.integers(0, 5), st.integers(0, 5)),
    st.tuples(
        st.tuples(st.integers(0, 5), st.integers(0, 5)),
        st.tuples(st.integers(0, 5), st.integers(0, 5)),
    ),
)

LAYER_STRATEGIES: dict[str, st.SearchStrategy[Layer]] = {
    "conv2d": st.builds(
        Conv2D,
        filters=st.integers(1, 12),
        kernel=_pairs(1, 7),
        stride=_pairs(1, 4),
        padding=_padding,
        dilation=_pairs(1, 3),
        groups=st.integers(1, 4),
        bias=st.booleans(),
    ),
    "convtranspose2d": _conv_transpose(),
    "maxpool2d": st.builds(
        MaxPool2D,
        kernel=_pairs(1, 5),
        stride=st.one_of(st.none(), _pairs(1, 4)),
        padding=_padding,
        ceil_mode=st.booleans(),
    ),
    "avgpool2d": st.builds(
        AvgPool2D,
        kernel=_pairs(1, 5),
        stride=st.one_of(st.none(), _pairs(1, 4)),
        padding=_padding,
        ceil_mode=st.booleans(),
        count_include_pad=st.booleans(),
    ),
    "globalavgpool2d": st.just(GlobalAvgPool2D()),
    "relu": st.just(ReLU()),
    "relu6": st.just(ReLU6()),
    "leakyrelu": st.builds(LeakyReLU, negative_slope=st.floats(0, 1)),
    "sigmoid": st.just(Sigmoid()),
    "tanh": st.just(Tanh()),
    "silu": st.just(SiLU()),
    "hardswish": st.just(Hardswish()),
    "gelu": st.builds(GELU, approximate=st.sampled_from(["none", "tanh"])),
    "softmax": st.just(Softmax()),
    "batchnorm2d": st.builds(BatchNorm2D, eps=st.floats(1e-8, 0.5)),
    "flatten": st.just(Flatten()),
    "dense": st.builds(Dense, units=st.integers(1, 50), bias=st.booleans()),
    "dropout": st.builds(Dropout, rate=st.floats(0, 0.99)),
    "zeropad2d": st.builds(ZeroPad2D, padding=_zero_pads),
    "upsample": _upsample(),
    "identity": st.just(Identity()),
    "add": st.just(Add()),
    "concat": st.just(Concat()),
    "multiply": st.just(Multiply()),
}
"""A strategy for every op, by the registry's type name."""

layers: st.SearchStrategy[Layer] = st.one_of(*LAYER_STRATEGIES.values())

inputs = st.builds(
    InputSpec,
    height=st.integers(1, 40),
    width=st.integers(1, 40),
    channels=st.integers(1, 8),
)

designs = st.builds(Design, input=inputs, layers=st.lists(layers, max_size=12).map(tuple))
"""Chains (default ids, each layer reading the one above)."""

_id_chars = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_.-")
_ids = st.one_of(
    st.text(_id_chars, min_size=1, max_size=12),
    st.text(_id_chars, min_size=MAX_ID, max_size=MAX_ID),
).filter(lambda i: i != INPUT_ID)


@st.composite
def graph_designs(draw: st.DrawFn, max_nodes: int = 12) -> Design:
    """Graphs: each node reads the entry above (inputs left out) or any entries above it."""
    spec = draw(inputs)
    ids = draw(st.lists(_ids, max_size=max_nodes, unique=True))
    nodes: list[Node] = []
    for node_id in ids:
        earlier = [INPUT_ID, *(n.id for n in nodes)]
        sources = draw(
            st.one_of(
                st.none(),
                st.lists(st.sampled_from(earlier), min_size=1, max_size=4).map(tuple),
            )
        )
        nodes.append(Node(node_id, draw(layers), sources))
    # Names are one line of valid Unicode text: no control characters, no half surrogate pairs.
    name = draw(st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=20))
    return Design(spec, nodes=nodes, name=name)
