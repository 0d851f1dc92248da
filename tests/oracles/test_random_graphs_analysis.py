"""The 200 random graphs of the torch oracle, checked without torch: the analysis against the
weights module's parameter shapes and against the graph's own structure."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convdesigner.core.analysis import analyse
from convdesigner.core.design import INPUT_ID
from convdesigner.core.table import to_csv, to_text
from convdesigner.core.weights import expected_shapes
from tests.oracles.random_graphs import random_graph


@pytest.mark.parametrize("seed", range(200))
def test_random_graph_analysis_is_consistent(seed: int) -> None:
    design = random_graph(seed)
    a = analyse(design)
    assert a.ok
    shapes = expected_shapes(design, a)
    readers = {node_id: 0 for node_id in (INPUT_ID, *design.ids)}
    for node, sources in zip(design.nodes, design.resolved_inputs, strict=True):
        row = a.row(node.id)
        where = (seed, node.id, node.op)
        for s in sources:
            readers[s] += 1
        # Counts are the sizes of the arrays the weights module expects for this node.
        own = {k.split(".")[-1]: v for k, v in shapes.items() if k.rsplit(".", 1)[0] == node.id}
        size = {name: int(np.prod(shape)) for name, shape in own.items()}
        assert row.weights == size.get("weight", 0), where
        assert row.biases == size.get("bias", 0), where
        assert row.non_trainable == size.get("running_mean", 0) + size.get("running_var", 0)
        # What each node reads is what its inputs give.
        assert row.inputs == sources
        assert row.input_shapes == tuple(a.row(s).output_shape for s in sources), where
        ins = [s for s in row.input_shapes if s is not None]
        out = row.output_shape
        assert out is not None
        if node.op.type_name == "add":
            assert all(s == out for s in ins), where
        elif node.op.type_name == "concat":
            assert out == (sum(s[0] for s in ins), *ins[0][1:]), where
        elif node.op.type_name == "multiply":
            assert out == max(ins, key=math.prod), where
            assert all(s == out or s == (out[0],) + (1,) * (len(out) - 1) for s in ins), where
        # Through a merge the receptive field is the largest of the inputs' (when all tracked).
        fields = [a.row(s).receptive_field for s in sources]
        if len(sources) > 1 and row.receptive_field is not None:
            assert all(f is not None for f in fields), where
            assert row.receptive_field in fields, where
            assert math.prod(row.receptive_field) == max(math.prod(f or ()) for f in fields)
            assert "the largest over them" in row.derivations["receptive_field"]
        assert all(isinstance(v, str) and v for v in row.derivations.values()), where
    assert a.totals.params == sum(
        int(np.prod(s)) for k, s in shapes.items() if not k.endswith("num_batches_tracked")
    )
    assert [r.id for r in a.rows if r.is_output] == [i for i in design.ids if not readers[i]]
    assert list(design.outputs) == [i for i in design.ids if not readers[i]]
    assert design.outputs[-1] == design.ids[-1]
    to_text(a, explain=True)
    assert len(to_csv(a).splitlines()) == len(design) + 2
