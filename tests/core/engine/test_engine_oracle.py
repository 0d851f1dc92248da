"""Random designs against PyTorch: the engine's activations against the same design built of
torch modules (tests/oracles/torch_modules.py), with torch's own weights passed through its
``state_dict``, and our default weights loaded strictly into torch.

The designs are chains of every single-input op of the registry, each drawn from its Hypothesis
strategy (tests/core/design_strategies.py); graphs with merges are checked the same way in
tests/oracles/test_random_graphs_torch.py.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convdesigner.core.analysis import analyse
from convdesigner.core.design import INPUT_ID, Design, InputSpec, Node
from convdesigner.core.engine.forward import run_design
from convdesigner.core.layers import (
    Add,
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    Dense,
    Flatten,
    GlobalAvgPool2D,
    Layer,
    MaxPool2D,
    ReLU,
)
from convdesigner.core.weights import default_weights, load_weights, save_weights
from tests.core.design_strategies import LAYER_STRATEGIES
from tests.oracles.random_graphs import UNARY
from tests.oracles.torch_modules import build_graph, numpy_state, torch

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning"),
]

MAX_VALUES = 4000
CHAIN_TYPES = [t for t in UNARY for _ in range(4 if t in ("conv2d", "maxpool2d") else 1)]


@st.composite
def designs(draw: st.DrawFn) -> Design:
    channels = draw(st.sampled_from([1, 2, 3, 4, 6]))
    spec = InputSpec(draw(st.integers(5, 17)), draw(st.integers(5, 17)), channels)
    layers: list[Layer] = []
    for _ in range(draw(st.integers(1, 5))):
        candidate = draw(LAYER_STRATEGIES[draw(st.sampled_from(CHAIN_TYPES))])
        rows = analyse(Design(spec, (*layers, candidate))).rows
        shape = rows[-1].output_shape
        if all(r.ok for r in rows) and shape is not None and math.prod(shape) <= MAX_VALUES:
            layers.append(candidate)
    if draw(st.booleans()):
        tail: tuple[Layer, ...] = (GlobalAvgPool2D(), Flatten(), Dense(units=3))
        if draw(st.booleans()):
            tail = (Flatten(), Dense(units=4), ReLU(), Dense(units=2, bias=False))
        if analyse(Design(spec, (*layers, *tail))).ok:
            layers.extend(tail)
    return Design(spec, tuple(layers))


def torch_outputs(graph: Any, image: np.ndarray) -> dict[str, np.ndarray]:
    with torch.inference_mode():
        outs = graph.run(torch.from_numpy(image)[None])
    return {k: v[0].numpy() for k, v in outs.items()}


def check(design: Design, seed: int) -> None:
    """The engine with the torch graph's weights gives the torch graph's activations."""
    graph = build_graph(design, seed)
    image = np.random.default_rng(seed).uniform(-1, 1, design.input.shape).astype(np.float32)
    expected = torch_outputs(graph, image)
    ours = run_design(design, image, numpy_state(graph))
    for node_id, got in zip((INPUT_ID, *design.ids), ours, strict=True):
        assert got.shape == expected[node_id].shape, node_id
        atol = max(1e-5, 2e-5 * float(np.abs(expected[node_id]).max(initial=0.0)))
        np.testing.assert_allclose(
            got, expected[node_id], rtol=2e-4, atol=atol, err_msg=f"node {node_id!r}"
        )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(design=designs(), seed=st.integers(0, 1000))
def test_random_designs_match_torch(design: Design, seed: int) -> None:
    check(design, seed)


# --------------------------------------------------------------------------- explicit cases


@pytest.mark.parametrize("stride", [2, 3])
@pytest.mark.parametrize("size", [(9, 10), (11, 7), (12, 12)])
def test_asymmetric_same_padding_at_stride_2_and_3(stride: int, size: tuple[int, int]) -> None:
    design = Design(
        InputSpec(size[0], size[1], 2),
        (
            Conv2D(filters=3, kernel=(4, 3), stride=stride, padding="same", dilation=(1, 2)),
            MaxPool2D(kernel=3, stride=stride, padding="same"),
            AvgPool2D(kernel=2, stride=stride, padding="same"),
        ),
    )
    if not analyse(design).ok:
        pytest.skip("too small for three strided layers")
    check(design, seed=1)


def randomise(weights: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for key, value in weights.items():
        if key.endswith("num_batches_tracked"):
            out[key] = value
        elif key.endswith("running_var"):
            out[key] = rng.uniform(0.5, 2.0, value.shape).astype(np.float32)
        else:
            out[key] = rng.standard_normal(value.shape).astype(np.float32)
    return out


ROUND_TRIP = Design(
    InputSpec(20, 18, 3),
    (
        Conv2D(filters=8, kernel=3, padding="same"),
        BatchNorm2D(),
        ReLU(),
        MaxPool2D(kernel=3, stride=2, padding=1, ceil_mode=True),
        Conv2D(filters=8, kernel=3, groups=8, dilation=2, bias=False),
        Flatten(),
        Dense(units=5),
    ),
)

RESIDUAL = Design(
    InputSpec(12, 10, 4),
    nodes=[
        Node("conv1", Conv2D(filters=8, kernel=3, stride=2, padding=1, bias=False)),
        Node("bn1", BatchNorm2D()),
        Node("relu", ReLU()),
        Node("layer1.0.conv1", Conv2D(filters=8, kernel=3, padding=1, bias=False)),
        Node("layer1.0.bn1", BatchNorm2D()),
        Node("layer1.0.relu", ReLU()),
        Node("layer1.0.conv2", Conv2D(filters=8, kernel=3, padding=1, bias=False)),
        Node("layer1.0.bn2", BatchNorm2D()),
        Node("layer1.0.add", Add(), ("layer1.0.bn2", "relu")),
        Node("avgpool", GlobalAvgPool2D()),
        Node("flatten", Flatten()),
        Node("fc", Dense(units=5)),
    ],
)
"""A torchvision-style residual block: ids are module paths, so the state_dict keys are
``layer1.0.conv1.weight``... as in torchvision's ResNet."""


@pytest.mark.parametrize("design", [ROUND_TRIP, RESIDUAL], ids=["chain", "residual"])
def test_weights_round_trip_through_load_state_dict(design: Design, tmp_path: Path) -> None:
    """Our default weights load strictly into the torch model and give the same outputs; the
    torch model's state_dict saved as .npz loads back into the engine unchanged."""
    weights = randomise(default_weights(design, 3), 3)
    model = build_graph(design)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=True)
    image = np.random.default_rng(2).random(design.input.shape, dtype=np.float32)
    ours = run_design(design, image, weights)
    theirs = torch_outputs(model, image)
    np.testing.assert_allclose(ours[-1], theirs[design.ids[-1]], rtol=1e-4, atol=1e-5)

    fresh = build_graph(design, seed=5)  # torch's own initialisation
    path = tmp_path / "torch.npz"
    save_weights({k: v.numpy() for k, v in fresh.state_dict().items()}, path)
    loaded = load_weights(design, path)
    expected = torch_outputs(fresh, image)[design.ids[-1]]
    np.testing.assert_allclose(run_design(design, image, loaded)[-1], expected, rtol=1e-4,
                               atol=1e-5)  # fmt: skip


def test_residual_keys_are_torchvision_module_paths() -> None:
    keys = set(numpy_state(build_graph(RESIDUAL)))
    assert {"layer1.0.conv1.weight", "layer1.0.bn2.running_var", "fc.bias"} <= keys
    assert keys == set(default_weights(RESIDUAL))
