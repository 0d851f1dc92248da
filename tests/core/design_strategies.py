"""Hypothesis strategies for random layers and designs, shared by the core tests.

They cover every layer type and every setting, including combinations that cannot work (a
kernel larger than the input, groups that do not divide), since the analysis must handle those.
"""

from __future__ import annotations

from hypothesis import strategies as st

from convdesigner.core.design import Design, InputSpec
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


def _pairs(low: int, high: int) -> st.SearchStrategy[int | tuple[int, int]]:
    single = st.integers(low, high)
    return st.one_of(single, st.tuples(single, single))


_padding = st.one_of(st.sampled_from(["valid", "same"]), _pairs(0, 4))

_layers: st.SearchStrategy[Layer] = st.one_of(
    st.builds(
        Conv2D,
        filters=st.integers(1, 12),
        kernel=_pairs(1, 7),
        stride=_pairs(1, 4),
        padding=_padding,
        dilation=_pairs(1, 3),
        groups=st.integers(1, 4),
        bias=st.booleans(),
    ),
    st.builds(
        MaxPool2D,
        kernel=_pairs(1, 5),
        stride=st.one_of(st.none(), _pairs(1, 4)),
        padding=_padding,
        ceil_mode=st.booleans(),
    ),
    st.builds(
        AvgPool2D,
        kernel=_pairs(1, 5),
        stride=st.one_of(st.none(), _pairs(1, 4)),
        padding=_padding,
        ceil_mode=st.booleans(),
        count_include_pad=st.booleans(),
    ),
    st.just(GlobalAvgPool2D()),
    st.just(ReLU()),
    st.builds(BatchNorm2D),
    st.just(Flatten()),
    st.builds(Dense, units=st.integers(1, 50), bias=st.booleans()),
    st.builds(Dropout, rate=st.floats(0, 0.99)),
)

designs = st.builds(
    Design,
    input=st.builds(
        InputSpec,
        height=st.integers(1, 40),
        width=st.integers(1, 40),
        channels=st.integers(1, 8),
    ),
    layers=st.lists(_layers, max_size=12).map(tuple),
)
