"""Every op that outputs a map has its values taken apart, and each explanation works out the
number the engine computed (issue 13, question 6, for any design)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from convdesigner.core.analysis import analyse
from convdesigner.core.design import INPUT_ID, Design, InputSpec, Node
from convdesigner.core.engine.forward import run_design
from convdesigner.core.layers import (
    Add,
    AvgPool2D,
    BatchNorm2D,
    Concat,
    ConvTranspose2D,
    GlobalAvgPool2D,
    Layer,
    MaxPool2D,
    Multiply,
    Softmax,
    Upsample,
    ZeroPad2D,
)
from convdesigner.core.one_value import (
    EXPLAINERS,
    ConvTransposeValue,
    Explained,
    OtherValue,
    explain_value,
)
from convdesigner.core.ops import REGISTRY
from convdesigner.core.weights import expected_shapes
from tests.oracles.random_graphs import RANDOM_OPS, random_graph

SEEDS = range(60)


def _weights(design: Design, seed: int) -> dict[str, np.ndarray]:
    """Random values for every parameter: default weights start batch norm as the identity,
    which would hide a mistake in its formula."""
    rng = np.random.default_rng(seed)
    out = {}
    for key, shape in expected_shapes(design).items():
        if key.endswith("num_batches_tracked"):
            continue
        value = rng.standard_normal(shape) * (0.5 if key.endswith("weight") else 1.0)
        if key.endswith("running_var"):
            value = rng.uniform(0.2, 2.0, shape)
        out[key] = value.astype(np.float32)
    return out


def _run(design: Design, seed: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    c, h, w = design.input.shape
    image = np.random.default_rng(seed).standard_normal((c, h, w)).astype(np.float32)
    weights = _weights(design, seed)
    outputs = run_design(design, image, weights)
    return dict(zip([INPUT_ID, *design.ids], outputs, strict=True)), weights


def _check(v: Explained, engine: float) -> None:
    """The explanation's own number is the engine's, to float32 rounding of its terms."""
    assert v.engine_value == engine
    assert v.total is not None, v.text()
    assert abs(v.total - engine) <= 2e-5 * (1.0 + v.magnitude), (v.text(), v.total, engine)


def _positions(shape: tuple[int, ...], rng: random.Random, n: int) -> list[tuple[int, int, int]]:
    c, h, w = shape
    corners = [(c - 1, h - 1, w - 1), (0, 0, 0), (rng.randrange(c), h - 1, 0)]
    return corners + [(rng.randrange(c), rng.randrange(h), rng.randrange(w)) for _ in range(n)]


def test_every_map_value_of_random_designs_equals_its_explanation() -> None:
    seen: set[str] = set()
    for seed in SEEDS:
        design = random_graph(seed)
        analysis = analyse(design)
        arrays, weights = _run(design, seed)
        rng = random.Random(seed)
        for node in design.ids:
            out = arrays[node]
            if out.ndim != 3:
                continue
            seen.add(design.node(node).op.type_name)
            for c, y, x in _positions(out.shape, rng, 6):
                v = explain_value(analysis, arrays, weights, node, c, y, x)
                _check(v, float(out[c, y, x]))
    missing = {"flatten", "dense"} | seen
    assert missing >= set(REGISTRY), f"no random design had {set(REGISTRY) - missing}"


def _registry_designs(type_name: str, rng: random.Random) -> list[Design]:
    """Designs ending in a random layer of ``type_name`` reading maps (both merge shapes)."""
    spec = InputSpec(7, 6, 4)
    if REGISTRY[type_name].arity == (1, 1):
        designs = []
        for _ in range(16):
            layer = RANDOM_OPS[type_name](rng, spec.shape)
            designs.append(Design(spec, nodes=(Node("op", layer),)))
        return designs
    layer = RANDOM_OPS[type_name](rng, spec.shape)
    branches = (
        Node("a", BatchNorm2D(), (INPUT_ID,)),
        Node("b", ZeroPad2D(padding=0), (INPUT_ID,)),
        Node("gate", GlobalAvgPool2D(), (INPUT_ID,)),
    )
    return [
        Design(spec, nodes=(*branches, Node("op", layer, ("a", "b", INPUT_ID)[:3]))),
        Design(spec, nodes=(*branches, Node("op", layer, ("a", "b")))),
        Design(spec, nodes=(*branches, Node("op", layer, ("gate", "a")))),
        Design(spec, nodes=(*branches, Node("op", layer, ("b", "gate")))),
    ]


@pytest.mark.parametrize("type_name", list(REGISTRY))
def test_every_op_of_the_registry_that_outputs_a_map_is_explained(type_name: str) -> None:
    rng = random.Random(type_name)
    maps = 0
    for k, design in enumerate(_registry_designs(type_name, rng)):
        analysis = analyse(design)
        if not analysis.row("op").ok:
            continue  # e.g. an add of a 1×1 gate and a map: refused, as it should be
        arrays, weights = _run(design, k)
        out = arrays["op"]
        if out.ndim != 3:
            continue
        maps += 1
        for c, y, x in _positions(out.shape, rng, 10):
            _check(explain_value(analysis, arrays, weights, "op", c, y, x), float(out[c, y, x]))
    if type_name in ("flatten", "dense"):
        assert maps == 0  # they output vectors: nothing to click in a feature map
    else:
        assert maps > 0, f"no design with a {type_name} map was tried"


def test_every_explainer_belongs_to_an_op_of_the_registry() -> None:
    assert set(EXPLAINERS) <= set(REGISTRY)


def _explain(*layers: Layer, shape: tuple[int, int, int] = (3, 5, 5), at: tuple[int, int, int]
             ) -> tuple[Explained, dict[str, np.ndarray]]:  # fmt: skip
    c, h, w = shape
    nodes = tuple(Node(f"n{i}", op) for i, op in enumerate(layers))
    design = Design(InputSpec(h, w, c), nodes=nodes)
    arrays, weights = _run(design, 5)
    last = nodes[-1].id
    v = explain_value(analyse(design), arrays, weights, last, *at)
    _check(v, float(arrays[last][at]))
    return v, arrays


def test_a_transposed_convolution_says_which_taps_land_where() -> None:
    layer = ConvTranspose2D(filters=4, kernel=3, stride=2, padding=1, groups=2)
    v, arrays = _explain(layer, shape=(2, 4, 4), at=(3, 0, 3))
    assert isinstance(v, ConvTransposeValue)
    assert v.in_channels == (1,)  # output channel 3 is in the second group
    # y = iy·2 - 1 + i: output row 0 is input row 0 through kernel row 1; rows 0 and 2 read
    # -0.5 and 0.5 of a row, between input rows. Column 3: kernel cols 0 and 2 read input
    # cols 2 and 1, col 1 reads 1.5.
    assert v.row_sources == (0.5, 0.0, -0.5)
    assert v.col_sources == (2.0, 1.5, 1.0)
    assert v.lands.tolist() == [[False, False, False], [True, False, True], [False] * 3]
    assert v.window[0, 1, 0] == arrays["input"][1, 0, 2]
    assert v.window[0, 1, 2] == arrays["input"][1, 0, 1]
    assert "kernel rows: 1 ← row 0; 0, 2 between input rows (the stride)" in v.text()
    assert "kernel cols: 0 ← col 2, 2 ← col 1; 1 between input cols" in v.text()
    assert "at the 2 of 3×3 taps that land here" in v.text()


def test_a_transposed_convolution_where_no_tap_lands_gives_the_bias() -> None:
    # Stride 3 with a 1×1 kernel leaves two of every three rows to the bias alone.
    v, _ = _explain(ConvTranspose2D(filters=2, kernel=1, stride=3), shape=(2, 3, 3), at=(1, 1, 0))
    assert isinstance(v, ConvTransposeValue)
    assert not v.lands.any()
    assert v.total == v.bias
    assert "no kernel tap of this transposed convolution lands here" in v.text()


def test_average_pooling_in_ceil_mode_divides_by_the_cut_window() -> None:
    # 5 columns, windows of 2 every 2, ceil_mode: the third window holds column 4 alone.
    v, arrays = _explain(AvgPool2D(kernel=2, ceil_mode=True), at=(1, 2, 2))
    assert v.text().endswith(
        f"= {float(arrays['input'][1, 4, 4]):.4g} / 1 (padding zeros included; the window is "
        f"cut at the edge of the padded input (ceil_mode)) = {v.total:.4g}"
    )
    assert "(1 of its 4 positions inside the map)" in v.text()
    # A 6×6 map padded by 1, windows of 3 every 2: the fourth starts at 5 and is cut after 6,
    # the last row of the padding: 2×2 positions counted, the padded ones included.
    v, _ = _explain(
        AvgPool2D(kernel=3, stride=2, padding=1, ceil_mode=True), shape=(3, 6, 6), at=(0, 3, 3)
    )
    assert "(1 of its 9 positions inside the map)" in v.text()
    assert "/ 4 (padding zeros included; the window is cut" in v.text()
    v, _ = _explain(MaxPool2D(kernel=2, ceil_mode=True), at=(2, 2, 1))
    assert "(2 of its 4 positions inside the map)" in v.text()


def test_batch_norm_softmax_and_merges_read_well() -> None:
    bn, arrays = _explain(BatchNorm2D(eps=1e-3), at=(2, 1, 3))
    x = float(arrays["input"][2, 1, 3])
    assert bn.text().startswith(
        f"out[c=2, y=1, x=3] = (x − mean) / √(var + eps) · γ + β = ({x:.4g}"
    )
    assert "+ 0.001) ·" in bn.text()
    soft, arrays = _explain(Softmax(), shape=(3, 2, 2), at=(1, 0, 1))
    values = arrays["input"][:, 0, 1]
    assert (
        f"over the 3 channels at row 0, col 1 of 'input' (values {values[0]:.4g}, " in soft.text()
    )
    assert f"the largest, {values.max():.4g}, is subtracted first" in soft.text()
    assert isinstance(soft, OtherValue)
    assert soft.total == pytest.approx(np.exp(values[1]) / np.exp(values).sum(), rel=1e-6)


def _merge(op: Layer, inputs: tuple[str, ...], at: tuple[int, int, int]) -> Explained:
    spec = InputSpec(4, 5, 3)
    nodes = (
        Node("left", BatchNorm2D(), (INPUT_ID,)),
        Node("gate", GlobalAvgPool2D(), (INPUT_ID,)),
        Node("wide", Concat(), (INPUT_ID, INPUT_ID)),
        Node("op", op, inputs),
    )
    design = Design(spec, nodes=nodes)
    arrays, weights = _run(design, 2)
    v = explain_value(analyse(design), arrays, weights, "op", *at)
    _check(v, float(arrays["op"][at]))
    return v


def test_merges_name_each_input_and_its_value() -> None:
    add = _merge(Add(), ("left", INPUT_ID), (1, 2, 3))
    assert "= the sum of the values at the same place of each input = " in add.text()
    assert "('left') + " in add.text()
    assert "('input') = " in add.text()
    gated = _merge(Multiply(), ("gate", "left"), (2, 3, 1))
    assert "('gate', 1×1: one value per channel, scaling the whole channel) × " in gated.text()
    assert "('left' at the same place) = " in gated.text()
    joined = _merge(Concat(), ("wide", "left"), (7, 0, 0))
    assert (
        "copied from channel 1 of 'left' at the same place: input 2 of 2, whose 3 channels are "
        "output channels 6…8" in joined.text()
    )


def test_padding_and_upsampling_say_where_each_value_comes_from() -> None:
    pad = ZeroPad2D(padding=((2, 0), (1, 3)))
    inside, arrays = _explain(pad, at=(0, 3, 4))
    assert inside.text().startswith(
        f"out[c=0, y=3, x=4] = {float(arrays['input'][0, 1, 3]):.4g}, copied from row 1, col 3"
    )
    corner, _ = _explain(pad, at=(0, 0, 0))
    assert corner.text() == (
        "out[c=0, y=0, x=0] = 0: a zero of the top and left padding, not a value of 'input'"
    )
    near, arrays = _explain(Upsample(scale=2), at=(1, 5, 2))
    assert near.text().startswith(
        f"out[c=1, y=5, x=2] = {float(arrays['input'][1, 2, 1]):.4g}, copied from row 2, col 1"
    )
    assert "(nearest: source row = floor(y × 1/2), col = floor(x × 1/2))" in near.text()
    mix, arrays = _explain(Upsample(scale=2, mode="bilinear"), at=(1, 3, 0))
    # torch: row (3 + 0.5)/2 - 0.5 = 1.25, col max(0.5/2 - 0.5, 0) = 0
    assert "the source point row 1.25, col 0 in channel 1" in mix.text()
    assert "0.75 × " in mix.text()
    assert "(row 2, col 1)" in mix.text()


@pytest.mark.oracle
@pytest.mark.parametrize(
    "layer",
    [
        ConvTranspose2D(
            filters=4,
            kernel=(3, 2),
            stride=(2, 3),
            padding=(1, 0),
            output_padding=(1, 2),
            dilation=(1, 2),
            groups=2,
        ),
        AvgPool2D(kernel=3, stride=2, padding=1, ceil_mode=True),
        AvgPool2D(kernel=(2, 3), stride=2, padding=(1, 1), ceil_mode=True, count_include_pad=False),
        Upsample(scale=(1.5, 2.5), mode="bilinear"),
        Upsample(size=(7, 11), mode="bilinear", align_corners=True),
        Upsample(scale=1.5),
    ],
)
def test_explanations_equal_pytorch(layer: Layer) -> None:
    """The sums the window shows are PyTorch's, not only our engine's."""
    torch = pytest.importorskip("torch")
    from tests.oracles.torch_modules import torch_module

    design = Design(InputSpec(6, 6, 4), nodes=(Node("op", layer),))
    analysis = analyse(design)
    arrays, weights = _run(design, 9)
    module = torch_module(layer, [design.input.shape])
    with torch.no_grad():
        for name, param in module.named_parameters():
            param.copy_(torch.from_numpy(weights[f"op.{name}"]))
        expected = module(torch.from_numpy(arrays[INPUT_ID])[None])[0].numpy()
    assert expected.shape == arrays["op"].shape
    for c, y, x in np.ndindex(*expected.shape):
        v = explain_value(analysis, arrays, weights, "op", c, y, x)
        assert v.total is not None
        assert abs(v.total - expected[c, y, x]) <= 2e-5 * (1 + v.magnitude), v.text()
