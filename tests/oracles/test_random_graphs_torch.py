"""200 random graphs mixing every op, against the same graphs built in torch and run in the same
order: every node's shapes, parameter counts and MACs from the analysis, and every node's
activations from the engine, with the weights taken from the torch graph's ``state_dict`` (so
the ``{id}.weight`` keys, the layouts and torch's own initialisation are all checked too).
"""

from __future__ import annotations

import numpy as np
import pytest

from convdesigner.core.analysis import analyse
from convdesigner.core.design import INPUT_ID, Design
from convdesigner.core.engine.forward import run_design, run_graph
from convdesigner.core.ops import REGISTRY
from tests.oracles.random_graphs import random_graph
from tests.oracles.torch_checks import check_analysis
from tests.oracles.torch_modules import build_graph, numpy_state, torch

pytestmark = [
    pytest.mark.oracle,
    # torch notes that it copies the input for an even "same" kernel; the result is what we test.
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning"),
]

SEEDS = range(200)


def torch_outputs(design: Design, graph: object, image: np.ndarray) -> dict[str, np.ndarray]:
    with torch.inference_mode():
        outs = graph.run(torch.from_numpy(image)[None])  # type: ignore[attr-defined]
    return {k: v[0].numpy() for k, v in outs.items()}


@pytest.mark.parametrize("seed", SEEDS)
def test_random_graph_analysis_matches_torch(seed: int) -> None:
    check_analysis(random_graph(seed), seed)


def _assert_close(got: np.ndarray, expected: np.ndarray, what: str) -> None:
    assert got.dtype == np.float32, what
    assert got.shape == expected.shape, (what, got.shape, expected.shape)
    # Winograd convolutions and long sums: the error scales with the map's largest value.
    atol = max(1e-5, 2e-5 * float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(got, expected, rtol=2e-4, atol=atol, err_msg=what)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_graph_engine_matches_torch(seed: int) -> None:
    design = random_graph(seed)
    graph = build_graph(design, seed)
    weights = numpy_state(graph)
    image = np.random.default_rng(seed).uniform(-1, 1, design.input.shape).astype(np.float32)
    expected = torch_outputs(design, graph, image)
    ours = run_design(design, image, weights)
    assert len(ours) == len(design) + 1
    for node_id, got in zip((INPUT_ID, *design.ids), ours, strict=True):
        _assert_close(got, expected[node_id], f"node {node_id!r} of seed {seed}")
    # Without keep_all only the design's outputs come back (the rest is freed on the way).
    outputs = run_graph(design, image, weights)
    assert list(outputs) == [INPUT_ID, *design.outputs]
    for node_id, got in outputs.items():
        _assert_close(got, expected[node_id], f"output {node_id!r} of seed {seed}")


def test_random_graphs_cover_every_op_and_every_way_of_merging() -> None:
    # The generator must exercise what the oracle is meant to check.
    designs = [random_graph(seed) for seed in SEEDS]
    seen = {n.op.type_name for d in designs for n in d.nodes}
    assert seen == set(REGISTRY)
    merges = [
        (n.op.type_name, [d.node(s).op if s != INPUT_ID else None for s in ins], d, n)
        for d in designs
        for n, ins in zip(d.nodes, d.resolved_inputs, strict=True)
        if len(ins) > 1
    ]
    assert any(kind == "add" and len(ins) >= 3 for kind, ins, _, _ in merges)
    assert any(kind == "concat" and len(ins) >= 3 for kind, ins, _, _ in merges)
    analyses = {id(d): analyse(d) for d in designs}
    # Squeeze-and-excitation: a C×1×1 gate scaling a C×H×W map, in either order.
    gates = [
        analyses[id(d)].row(n.id).input_shapes for kind, _, d, n in merges if kind == "multiply"
    ]
    pairs = [(a, b) for a, b in gates if a is not None and b is not None and a != b]
    assert any(a[0] == b[0] and a[1:] == (1, 1) for a, b in pairs)
    assert any(a[0] == b[0] and b[1:] == (1, 1) for a, b in pairs)
    # Merges of flat vectors, and of maps.
    vector_merges = {
        kind for kind, _, d, n in merges if len(analyses[id(d)].row(n.id).output_shape or ()) == 1
    }
    assert vector_merges == {"add", "concat", "multiply"}
    assert sum(len(d.outputs) > 1 for d in designs) >= 10  # forks: several outputs
    ids = [i for d in designs for i in d.ids]
    assert any("." in i for i in ids)  # torchvision-style module paths
    assert any(n.inputs is None for d in designs for n in d.nodes[1:])
    assert any(n.inputs is not None for d in designs for n in d.nodes)
    layers = [n.op for d in designs for n in d.nodes]
    settings = [(layer.type_name, layer.settings()) for layer in layers]
    assert any(t == "upsample" and s["size"] is not None for t, s in settings)
    assert any(
        t == "upsample" and s["mode"] == "bilinear" and s["align_corners"] for t, s in settings
    )
    assert any(t == "upsample" and s["scale"] not in (None, (2.0, 2.0)) for t, s in settings)
    assert any(t == "convtranspose2d" and max(s["output_padding"]) > 0 for t, s in settings)
    assert any(t in ("maxpool2d", "avgpool2d") and s["ceil_mode"] for t, s in settings)
    assert any(
        t == "conv2d" and s["padding"] == "same" and max(s["stride"]) > 1 for t, s in settings
    )
    assert any(t == "zeropad2d" and len(set(sum(s["padding"], ()))) > 1 for t, s in settings)
