"""PyTorch as an independent oracle of the analysis: random chains of every single-input op of
the registry, built as torch modules (tests/oracles/torch_modules.py), must agree with the
analysis on every layer's output shape, parameter counts and MACs, and fail where the analysis
says. Graphs with merges are checked the same way in tests/oracles/test_random_graphs_torch.py.

Channel counts and input sizes of the torch modules come from the tensors torch actually
produces, never from the analysis.
"""

from __future__ import annotations

import math
import random

import pytest

from convdesigner.core.analysis import Status, analyse
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.layers import AvgPool2D, Conv2D, Layer, MaxPool2D
from convdesigner.core.ops import REGISTRY
from convdesigner.core.templates import list_templates, load_template
from tests.oracles.random_graphs import RANDOM_OPS, UNARY
from tests.oracles.torch_checks import check_analysis
from tests.oracles.torch_modules import TORCH_OPS, counts, torch, torch_module

pytestmark = [
    pytest.mark.oracle,
    # torch notes that it copies the input for an even "same" kernel; the result is what we test.
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning"),
]

LENIENT = {
    "dense": "Dense needs a flat vector",  # torch's Linear would use the map's last axis
    "globalavgpool2d": "flat vector",  # torch's adaptive pool would read (1, N) as a 1×N map
    "zeropad2d": "flat vector",  # F.pad pads the last two axes of any tensor
}
"""Where torch accepts what the analysis refuses, and what the analysis says instead."""


def random_layer(rng: random.Random, shape: tuple[int, ...]) -> Layer:
    type_name = rng.choices(UNARY, [5 if t == "conv2d" else 1 for t in UNARY])[0]
    return RANDOM_OPS[type_name](rng, shape)


def random_design(seed: int) -> Design:
    """Mostly valid chains (grown layer by layer), ending in an error now and then."""
    rng = random.Random(seed)
    design = Design(
        InputSpec(rng.randint(1, 40), rng.randint(1, 40), rng.choice([1, 2, 3, 4, 6, 8]))
    )
    for _ in range(rng.randint(1, 10)):
        for _attempt in range(20):
            shape = analyse(design).rows[-1].output_shape
            assert shape is not None
            candidate = design.append(random_layer(rng, shape))
            if analyse(candidate).ok:
                design = candidate
                break
            if rng.random() < 0.08:
                return candidate  # keep a failing layer: torch must fail there too
    return design


def check_against_torch(design: Design) -> None:
    """Each node's torch module on zeros of its inputs' shapes: output shape, counts and MACs
    (graphs too: every node reads the outputs of the ids it names)."""
    analysis = analyse(design)
    x = torch.zeros(1, *design.input.shape)
    assert analysis.rows[0].output_shape == tuple(x.shape[1:])
    values = {"input": x}
    with torch.no_grad():
        for index, layer in enumerate(design.layers):
            row = analysis.row_for_layer(index)
            ins = [values[source] for source in design.inputs_of(index)]
            x = ins[0]
            shapes = [tuple(t.shape[1:]) for t in ins]
            if row.status is Status.ERROR:
                if layer.type_name in LENIENT:
                    assert LENIENT[layer.type_name] in row.message
                    return
                try:
                    y = torch_module(layer, shapes)(*ins)
                except (RuntimeError, ValueError, IndexError, NotImplementedError):
                    return
                # torch sometimes returns an empty map instead of failing (a transposed
                # convolution cropped to nothing, on some code paths): still no output.
                assert y.numel() == 0, (index, layer, tuple(y.shape), row.message)
                return
            assert row.status is Status.OK
            module = torch_module(layer, shapes)
            y = module(*ins)
            assert tuple(y.shape[1:]) == row.output_shape, (index, layer)
            got = counts(module)
            assert (row.weights, row.biases) == (got["weights"], got["biases"]), (index, layer)
            assert (row.trainable, row.non_trainable) == (got["trainable"], got["non_trainable"])
            assert row.macs == TORCH_OPS[layer.type_name].macs(module, ins, y), (index, layer)
            values[design.nodes[index].id] = y


@pytest.mark.parametrize("seed", range(200))
def test_random_designs_match_torch(seed: int) -> None:
    check_against_torch(random_design(seed))


def test_random_designs_cover_errors_and_every_single_input_op() -> None:
    # The generator must exercise what the oracle is meant to check.
    designs = [random_design(seed) for seed in range(200)]
    failing = [d for d in designs if not analyse(d).ok]
    assert len(failing) >= 5
    assert {layer.type_name for d in designs for layer in d.layers} == set(UNARY)
    layers = [layer for d in designs for layer in d.layers]
    assert any(
        isinstance(layer, Conv2D) and layer.padding == "same" and layer.stride != (1, 1)
        for layer in layers
    )
    assert any(isinstance(layer, MaxPool2D | AvgPool2D) and layer.ceil_mode for layer in layers)


@pytest.mark.parametrize("type_name", UNARY)
def test_errors_match_torch_for_every_single_input_op(type_name: str) -> None:
    """Each op on inputs it may refuse (tiny maps, flat vectors): wherever the analysis reports
    an error, torch fails too (or is knowingly lenient); wherever it does not, torch agrees."""
    rng = random.Random(type_name)
    errors = 0
    for attempt in range(60):
        spec = InputSpec(rng.randint(1, 3), rng.randint(1, 3), rng.choice([1, 2, 3, 4]))
        before = [RANDOM_OPS["flatten"](rng, spec.shape)] if attempt % 3 == 0 else []
        shape = (math.prod(spec.shape),) if before else spec.shape
        design = Design(spec, [*before, RANDOM_OPS[type_name](rng, shape)])
        errors += not analyse(design).ok
        check_against_torch(design)
    # Per-value ops work on anything; every other op meets inputs it must refuse.
    assert errors > 0 or REGISTRY[type_name].family == "act" or type_name == "flatten"


CHAINS = [t.id for t in list_templates() if load_template(t.id).is_chain]


@pytest.mark.parametrize("template", [t for t in CHAINS if t != "vgg16"])
def test_chain_templates_match_torch(template: str) -> None:
    check_against_torch(load_template(template))


@pytest.mark.parametrize("template", [t.id for t in list_templates() if t.id not in CHAINS])
def test_graph_templates_match_torch(template: str) -> None:
    # Node by node from this project's torch modules, on torch's meta device (shapes only; the
    # engine's numbers are checked against torchvision's models in test_graph_templates.py).
    check_analysis(load_template(template), device="meta")


def test_vgg16_parameter_count_matches_torch() -> None:
    # Shapes of VGG-16 at 224×224 are checked by the template test above for the smaller nets;
    # here only the parameter count, without running the 15 G-MAC forward pass.
    design = load_template("vgg16")
    analysis = analyse(design)
    total = 0
    for index, layer in enumerate(design.layers):
        # The input shape comes from the previous row (cheap), but the parameter count from
        # torch's own modules.
        shape = analysis.rows[index].output_shape
        assert shape is not None
        total += sum(p.numel() for p in torch_module(layer, [shape]).parameters())
    assert total == analysis.totals.params == 138_357_544


# --------------------------------------------------------------------------- ceil_mode


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("padding", [0, 1])
@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
def test_ceil_mode_window_larger_than_the_map_matches_torch(
    cls: type[MaxPool2D | AvgPool2D], padding: int, size: int
) -> None:
    # GoogLeNet-style pools on small maps (issue 11): PyTorch still gives an output whenever its
    # ceil_mode size is at least 1, clipping the window at the edge.
    layer = cls(kernel=3, stride=2, padding=padding, ceil_mode=True)
    row = analyse(Design(InputSpec(size, size, 2), [layer])).rows[1]
    x = torch.zeros(1, 2, size, size)
    try:
        expected = tuple(torch_module(layer, [(2, size, size)])(x).shape[1:])
    except RuntimeError:
        assert row.status is Status.ERROR
        return
    assert row.status is Status.OK, row.message
    assert row.output_shape == expected
    if size == 2 and padding == 0:
        assert expected == (2, 1, 1)
