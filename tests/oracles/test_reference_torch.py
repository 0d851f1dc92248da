"""The explicit-loop reference (tests/core/engine/engine_reference.py) against torch, op by op.

The engine's layer tests compare it with the reference on tiny inputs, band seams and fused paths
included; this checks that the reference itself means what torch means, for every op of the
registry and random settings of each, on the weights torch draws.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from convdesigner.core.analysis import analyse
from convdesigner.core.design import Design, InputSpec, Node
from convdesigner.core.layers import (
    GELU,
    AvgPool2D,
    ConvTranspose2D,
    Layer,
    LeakyReLU,
    MaxPool2D,
    Softmax,
    Upsample,
)
from convdesigner.core.ops import REGISTRY
from tests.core.engine.engine_reference import forward
from tests.oracles.random_graphs import RANDOM_OPS, random_graph
from tests.oracles.torch_modules import build_graph, numpy_state, torch

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning"),
]


def single_op_design(type_name: str, seed: int) -> Design:
    """One node of ``type_name`` with random settings on a small random input (merges read the
    input twice, or the input and its global average, which is what they accept)."""
    rng = random.Random(seed)
    for _ in range(200):
        spec = InputSpec(rng.randint(1, 7), rng.randint(1, 7), rng.choice([1, 2, 3, 4, 6]))
        layer = RANDOM_OPS[type_name](rng, spec.shape)
        low = REGISTRY[type_name].arity[0]
        if type_name in ("dense", "flatten"):
            nodes = [Node("flat", RANDOM_OPS["flatten"](rng, spec.shape)), Node("op", layer)]
        elif type_name == "multiply" and rng.random() < 0.5:
            gap = Node("gap", RANDOM_OPS["globalavgpool2d"](rng, spec.shape), ("input",))
            nodes = [gap, Node("op", layer, rng.choice([("input", "gap"), ("gap", "input")]))]
        else:
            nodes = [Node("op", layer, ("input",) * max(low, 1))]
        design = Design(spec, nodes=nodes)
        if analyse(design).ok:
            return design
    raise AssertionError(f"no valid random {type_name} in 200 draws")


def check(design: Design, seed: int, spread: float = 2.0) -> None:
    graph = build_graph(design, seed)
    weights = numpy_state(graph)
    rng = np.random.default_rng(seed)
    image = rng.uniform(-spread, spread, design.input.shape).astype(np.float32)
    with torch.inference_mode():
        outs = graph.run(torch.from_numpy(image)[None])
    ours = forward(design, image, weights)
    for node_id, got in zip(design.ids, ours[1:], strict=True):
        expected = outs[node_id][0].double().numpy()
        assert got.shape == expected.shape, (node_id, design.nodes)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=repr(design.nodes))


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("type_name", list(REGISTRY))
def test_reference_matches_torch_for_every_op(type_name: str, seed: int) -> None:
    check(single_op_design(type_name, seed), seed)


@pytest.mark.parametrize("seed", range(0, 200, 20))
def test_reference_matches_torch_on_random_graphs(seed: int) -> None:
    check(random_graph(seed), seed)


EDGE_CASES: dict[str, tuple[tuple[int, int, int], Layer]] = {
    # A scale whose output size is rounded down: PyTorch maps output positions with 1/scale,
    # not with in/out (5 x 1.5 = 7.5 → 7 outputs; 1/1.5 ≠ 5/7).
    "upsample bilinear x1.5": ((5, 5, 2), Upsample(scale=1.5, mode="bilinear")),
    "upsample nearest x0.5 of 7": ((7, 7, 1), Upsample(scale=0.5)),
    "upsample bilinear x(2.5, 1.5)": ((3, 5, 2), Upsample(scale=(2.5, 1.5), mode="bilinear")),
    "upsample nearest x3": ((3, 4, 1), Upsample(scale=3)),
    "upsample bilinear size align corners": (
        (4, 3, 2),
        Upsample(size=(7, 5), mode="bilinear", align_corners=True),
    ),
    "upsample bilinear to 1x1 align corners": (
        (4, 3, 1),
        Upsample(size=1, mode="bilinear", align_corners=True),
    ),
    "upsample nearest to a smaller size": ((9, 7, 1), Upsample(size=(4, 3))),
    "upsample nearest to the same size": ((5, 4, 2), Upsample(size=(5, 4))),
    "conv transpose stride 3 crop 2 output padding 2 dilation 2 groups 2": (
        (3, 4, 4),
        ConvTranspose2D(
            filters=6, kernel=3, stride=3, padding=2, output_padding=2, dilation=2, groups=2
        ),
    ),
    "conv transpose 2x2 stride 2 (U-Net)": (
        (3, 5, 2),
        ConvTranspose2D(filters=3, kernel=2, stride=2),
    ),
    # ceil_mode with a window larger than the map: PyTorch clips the window (issue 11's bug).
    "maxpool 3 stride 2 ceil_mode on 2x2": (
        (2, 2, 3),
        MaxPool2D(kernel=3, stride=2, ceil_mode=True),
    ),
    "avgpool 3 stride 2 ceil_mode on 2x2": (
        (2, 2, 3),
        AvgPool2D(kernel=3, stride=2, ceil_mode=True),
    ),
    "avgpool 3 stride 2 pad 1 ceil_mode on 2x3, padding not counted": (
        (2, 3, 2),
        AvgPool2D(kernel=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    ),
    "avgpool 5 stride 3 pad 2 ceil_mode on 3x4": (
        (3, 4, 1),
        AvgPool2D(kernel=5, stride=3, padding=2, ceil_mode=True),
    ),
    "leaky relu 0.3": ((3, 3, 2), LeakyReLU(negative_slope=0.3)),
    "gelu tanh": ((3, 3, 2), GELU(approximate="tanh")),
    "softmax of large values": ((3, 3, 6), Softmax()),
}


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_reference_matches_torch_on_edge_cases(case: str) -> None:
    (h, w, c), layer = EDGE_CASES[case]
    design = Design(InputSpec(h, w, c), [layer])
    assert analyse(design).ok
    check(design, seed=len(case), spread=40.0 if "large" in case else 2.0)
