"""The analysis of a graph against the same graph built of torch modules, node by node."""

from __future__ import annotations

from convdesigner.core.analysis import analyse
from convdesigner.core.design import INPUT_ID, Design
from convdesigner.core.weights import expected_shapes
from tests.oracles.torch_modules import TORCH_OPS, build_graph, counts, torch


def check_analysis(design: Design, seed: int = 0, device: str = "cpu") -> None:
    """Every node's input and output shapes, parameter counts and MACs, the totals, and the
    weight keys with their shapes, as the torch graph has them (built from torch's own tensors,
    never from our analysis; ``device="meta"`` uses torch's shape rules without computing)."""
    analysis = analyse(design)
    assert analysis.ok, analysis.first_error
    graph = build_graph(design, seed, device)
    x = torch.zeros(1, *design.input.shape, device=device)
    with torch.no_grad():
        outs = graph.run(x)
    assert analysis.row(INPUT_ID).output_shape == tuple(x.shape[1:])
    for node, sources in zip(design.nodes, design.resolved_inputs, strict=True):
        row = analysis.row(node.id)
        where = (node.id, node.op)
        y = outs[node.id]
        ins = [outs[s] for s in sources]
        assert row.inputs == sources, where
        assert row.input_shapes == tuple(tuple(t.shape[1:]) for t in ins), where
        assert row.output_shape == tuple(y.shape[1:]), where
        module = graph.by_id[node.id]
        got = counts(module)
        assert (row.weights, row.biases) == (got["weights"], got["biases"]), where
        assert (row.trainable, row.non_trainable) == (got["trainable"], got["non_trainable"])
        assert row.macs == TORCH_OPS[node.op.type_name].macs(module, ins, y), where
    totals = analysis.totals
    assert totals.trainable == sum(p.numel() for p in graph.parameters())
    assert totals.non_trainable == sum(
        b.numel() for k, b in graph.named_buffers() if k.endswith(("running_mean", "running_var"))
    )
    # Our weight keys are the torch graph's state_dict keys, with the same shapes.
    assert expected_shapes(design) == {k: tuple(v.shape) for k, v in graph.state_dict().items()}
