"""What a graph means, without torch: located load errors for bad ids and inputs, merge errors
worded for a learner, errors that block only what depends on them, the receptive field through
merges, the outputs, and format version 2 (ids, inputs, 1-D and 3-D inputs) round trips.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from convdesigner.core.analysis import Status, analyse
from convdesigner.core.design import Design, GraphError, InputSpec, Node
from convdesigner.core.engine.forward import run_graph
from convdesigner.core.fileformat import (
    FORMAT_NAME,
    DesignFileError,
    design_from_dict,
    design_to_dict,
    dumps_design,
    load_design,
    save_design,
)
from convdesigner.core.layers import (
    Add,
    BatchNorm2D,
    Concat,
    Conv2D,
    Dense,
    Flatten,
    GlobalAvgPool2D,
    MaxPool2D,
    Multiply,
    ReLU,
    Sigmoid,
)
from convdesigner.core.table import to_csv
from convdesigner.core.weights import default_weights, expected_shapes

RESIDUAL_BLOCK: dict[str, Any] = {
    "format": "convdesigner-design",
    "version": 2,
    "name": "Basic residual block",
    "input": {"height": 56, "width": 56, "channels": 64},
    "layers": [
        {"id": "conv1", "type": "conv2d", "filters": 64, "kernel": 3, "padding": 1, "bias": False},
        {"id": "bn1", "type": "batchnorm2d"},
        {"id": "relu1", "type": "relu"},
        {"id": "conv2", "type": "conv2d", "filters": 64, "kernel": 3, "padding": 1, "bias": False},
        {"id": "bn2", "type": "batchnorm2d"},
        {"id": "add", "type": "add", "inputs": ["bn2", "input"]},
        {"id": "relu2", "type": "relu"},
    ],
}
"""The example of issue 11 and docs/file-format.md, as written there."""


def with_layers(*layers: dict[str, Any], data: dict[str, Any] = RESIDUAL_BLOCK) -> dict[str, Any]:
    return {**data, "layers": list(layers)}


def problems_of(data: object) -> list[str]:
    with pytest.raises(DesignFileError) as info:
        design_from_dict(data)
    return info.value.problems


def nodes(*items: tuple[str, Any] | tuple[str, Any, tuple[str, ...]]) -> list[Node]:
    return [Node(*item) for item in items]


# ------------------------------------------------------------------------ located load errors


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        (
            [{"id": "a", "type": "relu"}, {"id": "b", "type": "add", "inputs": ["a", "nope"]}],
            'layers[1].inputs: "nope" is not the id of any entry (nor "input")',
        ),
        (
            [{"id": "a", "type": "relu"}, {"id": "a", "type": "relu"}],
            'layers[1].id: "a" is already the id of layers[0]',
        ),
        (
            [{"id": "a", "type": "relu", "inputs": ["b"]}, {"id": "b", "type": "relu"}],
            'layers[0].inputs: "b" is layers[1], below this entry: inputs may only name entries '
            "above (the list is the order of execution, so a loop is impossible)",
        ),
        (
            [{"id": "a", "type": "relu"}, {"id": "b", "type": "add", "inputs": ["a", "b"]}],
            'layers[1].inputs: "b" is this entry itself: a node cannot read its own output',
        ),
        (
            # A default id ("1") counts as an id: reading it from above is a forward reference.
            [{"type": "relu", "inputs": ["1"]}, {"type": "relu"}],
            'layers[0].inputs: "1" is layers[1], below this entry',
        ),
        (
            [{"type": "relu"}, {"id": "0", "type": "relu"}],
            'layers[1].id: "0" is already the id of layers[0]',
        ),
        (
            [{"id": "input", "type": "relu"}],
            'layers[0].id: "input" names the design\'s input and cannot be a node id',
        ),
        (
            [{"id": "conv 1", "type": "relu"}],
            "layers[0].id: may only contain letters, digits, '_', '.' and '-', got \"conv 1\"",
        ),
        ([{"id": "x" * 101, "type": "relu"}], "layers[0].id: must be at most 100 characters"),
        ([{"id": 3, "type": "relu"}], "layers[0].id: must be a string, got 3"),
        ([{"id": "", "type": "relu"}], "layers[0].id: must not be empty"),
        ([{"type": "relu", "inputs": []}], "layers[0].inputs: must be a list of ids"),
        ([{"type": "relu", "inputs": "input"}], "layers[0].inputs: must be a list of ids"),
        ([{"type": "relu", "inputs": [0]}], "layers[0].inputs: must be a list of ids"),
    ],
)
def test_graph_errors_are_located(layers: list[dict[str, Any]], expected: str) -> None:
    problems = problems_of(with_layers(*layers))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


def test_graph_errors_are_reported_with_the_other_problems() -> None:
    problems = problems_of(
        with_layers(
            {"id": "a", "type": "conv2d", "kernel": 0},
            {"id": "a", "type": "relu"},
            {"id": "b", "type": "pool"},
        )
    )
    assert [p.split(":")[0] for p in problems] == [
        "layers[0].kernel",
        "layers[1].id",
        "layers[2].type",
    ]


@pytest.mark.parametrize(
    ("graph", "where", "phrase"),
    [
        (nodes(("a", ReLU(), ("b",)), ("b", ReLU())), "layers[0].inputs", "below this entry"),
        (nodes(("a", ReLU(), ("a",))), "layers[0].inputs", "cannot read its own output"),
        (nodes(("a", ReLU()), ("a", ReLU())), "layers[1].id", "already the id of layers[0]"),
        (nodes(("a", ReLU(), ("zz",))), "layers[0].inputs", "not the id of any entry"),
        (nodes(("a", ReLU(), ())), "layers[0].inputs", "at least one input"),
    ],
)
def test_designs_built_in_code_refuse_the_same_graphs(
    graph: list[Node], where: str, phrase: str
) -> None:
    with pytest.raises(GraphError) as info:
        Design(InputSpec(8, 8, 3), nodes=graph)
    assert info.value.where == where
    assert phrase in info.value.message


def test_a_move_may_not_put_a_node_above_its_inputs() -> None:
    design = Design(InputSpec(8, 8, 3), nodes=nodes(("a", ReLU()), ("b", ReLU(), ("a",))))
    with pytest.raises(ValueError, match="cannot move 'b' there"):
        design.move(1, 0)


# ------------------------------------------------------------------------ merges for learners


def test_add_of_different_channels_names_both_ids_and_suggests_a_1x1_convolution() -> None:
    data = json.loads(json.dumps(RESIDUAL_BLOCK))
    data["input"]["channels"] = 32
    row = analyse(design_from_dict(data)).row("add")
    assert row.status is Status.ERROR
    assert "add needs equal shapes" in row.message
    assert "'bn2' gives 56×56×64" in row.message
    assert "'input' gives 56×56×32" in row.message
    assert "1×1 convolution" in row.message


@pytest.mark.parametrize(
    ("shortcut", "phrase"),
    [
        (MaxPool2D(), "use a stride (or a pooling layer) on the shortcut"),
        (Conv2D(filters=5, kernel=1, stride=2), "add a 1×1 convolution with stride"),
    ],
)
def test_add_suggests_what_fixes_the_shortcut(shortcut: Conv2D | MaxPool2D, phrase: str) -> None:
    design = Design(
        InputSpec(8, 8, 4),
        nodes=nodes(
            ("main", Conv2D(filters=4, kernel=3, padding=1)),
            ("short", shortcut, ("input",)),
            ("sum", Add(), ("main", "short")),
        ),
    )
    row = analyse(design).row("sum")
    assert row.status is Status.ERROR
    assert "'main' gives 8×8×4" in row.message
    assert phrase in row.message


def test_concat_and_multiply_mismatches_name_their_inputs() -> None:
    design = Design(
        InputSpec(8, 8, 4),
        nodes=nodes(
            ("pool", MaxPool2D()),
            ("cat", Concat(), ("pool", "input")),
            ("gap", GlobalAvgPool2D(), ("input",)),
            ("squeeze", Conv2D(filters=3, kernel=1)),
            ("scale", Multiply(), ("input", "squeeze")),
        ),
    )
    a = analyse(design)
    cat = a.row("cat")
    assert cat.status is Status.ERROR
    assert "concat needs equal spatial sizes: 'pool' gives 4×4×4 but 'input' gives 8×8×4" in (
        cat.message
    )
    scale = a.row("scale")
    assert scale.status is Status.ERROR
    assert "a 1×1×C input scaling a map of C channels" in scale.message
    assert "'squeeze' gives 1×1×3" in scale.message


@pytest.mark.parametrize(
    ("op", "inputs", "phrase"),
    [
        (Add(), ("input",), "Add needs at least 2 inputs, but it reads 1."),
        (Concat(), ("input",), "Concat needs at least 2 inputs, but it reads 1."),
        (
            Multiply(),
            ("input", "input", "input"),
            "Multiply needs exactly 2 inputs, but it reads 3.",
        ),
        (ReLU(), ("input", "input"), "ReLU needs exactly 1 input, but it reads 2."),
    ],
)
def test_wrong_number_of_inputs(op: Any, inputs: tuple[str, ...], phrase: str) -> None:
    row = analyse(Design(InputSpec(4, 4, 2), nodes=[Node("m", op, inputs)])).row("m")
    assert row.status is Status.ERROR
    assert row.message.startswith(phrase)


def test_merges_of_equal_shapes_compute() -> None:
    design = Design(
        InputSpec(6, 5, 3),
        nodes=nodes(
            ("a", Conv2D(filters=3, kernel=3, padding="same")),
            ("b", Conv2D(filters=2, kernel=1), ("input",)),
            ("sum", Add(), ("a", "input", "a")),
            ("cat", Concat(), ("b", "sum", "input")),
            ("gap", GlobalAvgPool2D(), ("cat",)),
            ("gate", Sigmoid()),
            ("scaled", Multiply(), ("gate", "cat")),
        ),
    )
    a = analyse(design)
    assert a.ok
    assert a.row("sum").output_shape == (3, 6, 5)
    assert a.row("cat").output_shape == (8, 6, 5)
    assert (
        "C_out = 2 ('b') + 3 ('sum') + 3 ('input') = 8"
        in a.row("cat").derivations["output_channels"]
    )
    assert a.row("scaled").output_shape == (8, 6, 5)
    assert a.row("scaled").input_shapes == ((8, 1, 1), (8, 6, 5))


# ------------------------------------------------------------------------ errors and branches


def test_an_error_blocks_what_depends_on_it_and_nothing_else() -> None:
    design = Design(
        InputSpec(8, 8, 3),
        nodes=nodes(
            ("big", Conv2D(filters=4, kernel=11)),  # larger than the input: an error
            ("after", ReLU()),
            ("branch", Conv2D(filters=4, kernel=3), ("input",)),
            ("branch_relu", ReLU()),
            ("join", Add(), ("branch_relu", "after")),
            ("head", Flatten(), ("branch_relu",)),
            ("fc", Dense(units=2)),
        ),
    )
    a = analyse(design)
    assert a.row("big").status is Status.ERROR
    for blocked in ("after", "join"):
        row = a.row(blocked)
        assert row.status is Status.NOT_COMPUTABLE
        assert row.message == "Not computable: 'big' (Conv2D) above has an error."
        assert row.output_shape is None
    for fine in ("branch", "branch_relu", "head", "fc"):
        assert a.row(fine).status is Status.OK
    assert a.row("fc").output_shape == (2,)
    assert a.totals.errors == 1
    assert a.totals.trainable == a.row("branch").trainable + a.row("fc").trainable
    assert a.partial


# ------------------------------------------------------------------------ receptive field


def test_receptive_field_through_a_merge_is_the_largest_of_its_inputs() -> None:
    design = Design(
        InputSpec(16, 16, 1),
        nodes=nodes(
            ("small", Conv2D(filters=2, kernel=3, padding=1)),
            ("large", Conv2D(filters=2, kernel=7, padding=3), ("input",)),
            ("sum", Add(), ("small", "large")),
            ("after", Conv2D(filters=2, kernel=3, padding=1)),
            ("cat", Concat(), ("input", "small")),
        ),
    )
    a = analyse(design)
    assert a.row("small").receptive_field == (3, 3)
    assert a.row("large").receptive_field == (7, 7)
    assert a.row("sum").receptive_field == (7, 7)
    assert a.row("sum").rf_start == a.row("large").rf_start == (-3, -3)
    text = a.row("sum").derivations["receptive_field"]
    assert "the largest over them ('small' 3×3, 'large' 7×7)" in text
    assert "so it is that of 'large': 7×7" in text
    assert a.row("after").receptive_field == (9, 9)  # 7 + (3 - 1)·1
    assert a.row("cat").receptive_field == (3, 3)  # the input sees 1×1, 'small' 3×3


# ------------------------------------------------------------------------ outputs


def test_outputs_are_the_nodes_nothing_reads() -> None:
    design = Design(
        InputSpec(8, 8, 3),
        nodes=nodes(
            ("stem", Conv2D(filters=4, kernel=3, padding=1)),
            ("aux", GlobalAvgPool2D()),  # a side head: read by nobody
            ("body", ReLU(), ("stem",)),
            ("pool", MaxPool2D()),
        ),
    )
    assert design.outputs == ("aux", "pool")
    assert design.consumers["stem"] == ("aux", "body")
    a = analyse(design)
    assert [r.id for r in a.rows if r.is_output] == ["aux", "pool"]
    csv_rows = to_csv(a).splitlines()
    assert csv_rows[0].startswith("index,id,inputs,output,")
    assert [line.split(",")[3] for line in csv_rows[1:]] == ["", "", "yes", "", "yes"]
    image = np.random.default_rng(0).random((3, 8, 8), dtype=np.float32)
    assert list(run_graph(design, image)) == ["input", "aux", "pool"]


def test_the_last_node_is_always_an_output() -> None:
    design = Design(InputSpec(4, 4, 1), nodes=nodes(("a", ReLU()), ("b", ReLU(), ("input",))))
    assert design.outputs == ("a", "b")


# ------------------------------------------------------------------------ format version 2


def test_the_issue_example_loads_analyses_and_round_trips(tmp_path: Path) -> None:
    design = design_from_dict(RESIDUAL_BLOCK)
    assert design.ids == ("conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu2")
    assert design.resolved_inputs[5] == ("bn2", "input")
    assert design.resolved_inputs[0] == ("input",)
    assert design.resolved_inputs[6] == ("add",)
    a = analyse(design)
    assert a.ok
    assert a.row("relu2").output_shape == (64, 56, 56)
    path = tmp_path / "block.json"
    save_design(design, path)
    assert load_design(path) == design
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == 2
    # Every entry starts with its id; inputs are written only where the file gave them.
    assert [list(entry)[:2] for entry in data["layers"]] == [["id", "type"]] * 7
    assert [(e["id"], e.get("inputs")) for e in data["layers"]] == [
        (e["id"], e.get("inputs")) for e in RESIDUAL_BLOCK["layers"]
    ]


def test_weights_are_keyed_by_id() -> None:
    design = design_from_dict(RESIDUAL_BLOCK)
    shapes = expected_shapes(design)
    assert list(shapes) == [
        "conv1.weight",
        "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
        "bn1.num_batches_tracked",
        "conv2.weight",
        "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var",
        "bn2.num_batches_tracked",
    ]  # fmt: skip
    assert shapes["conv2.weight"] == (64, 64, 3, 3)
    assert set(default_weights(design)) == set(shapes)
    sequential = Design(InputSpec(8, 8, 3), [Conv2D(filters=2), BatchNorm2D()])
    assert list(expected_shapes(sequential))[:2] == ["0.weight", "0.bias"]


@pytest.mark.parametrize(
    ("design", "version"),
    [
        (Design(InputSpec(8, 8, 3), [Conv2D(filters=2), ReLU()]), 1),
        (Design(InputSpec(8, 8, 3), nodes=nodes(("conv", Conv2D(filters=2)), ("relu", ReLU()))), 2),
        # Default ids, but the second entry names its input: version 1 has no "inputs".
        (Design(InputSpec(8, 8, 3), nodes=nodes(("0", ReLU()), ("1", ReLU(), ("0",)))), 2),
        (Design(InputSpec(8, 8, 3), nodes=nodes(("0", ReLU()), ("1", Add(), ("0", "input")))), 2),
        # A sequence or a volume cannot be written in version 1 (its input is height × width).
        (Design(InputSpec(length=50, channels=2), [ReLU()]), 2),
        (Design(InputSpec(depth=4, height=8, width=8, channels=1), [ReLU()]), 2),
    ],
)
def test_the_version_written_is_the_oldest_that_holds_the_design(
    design: Design, version: int
) -> None:
    data = design_to_dict(design)
    assert data["version"] == version
    assert design_from_dict(json.loads(dumps_design(design))) == design


@pytest.mark.parametrize(
    ("section", "spatial"),
    [
        ({"length": 16000, "channels": 1}, (16000,)),
        ({"height": 32, "width": 24, "channels": 3}, (32, 24)),
        ({"depth": 16, "height": 112, "width": 96, "channels": 3}, (16, 112, 96)),
    ],
)
def test_inputs_of_one_two_and_three_spatial_axes(
    section: dict[str, int], spatial: tuple[int, ...]
) -> None:
    design = design_from_dict({"format": FORMAT_NAME, "version": 2, "input": section, "layers": []})
    assert design.input.spatial == spatial
    assert design.input.channels == section["channels"]
    assert design_to_dict(design)["input"] == section


@pytest.mark.parametrize(
    ("section", "start"),
    [
        ({"length": 8, "height": 8, "channels": 1}, "input.height: does not go with length"),
        ({"depth": 4, "height": 8, "channels": 1}, "input.width: missing"),
        ({"length": 0, "channels": 1}, "input.length: must be a positive integer, got 0"),
    ],
)
def test_input_sections_of_mixed_ranks_are_located(section: dict[str, int], start: str) -> None:
    problems = problems_of({"input": section, "layers": []})
    assert any(p.startswith(start) for p in problems), problems


def test_a_version_1_file_with_ids_and_inputs_is_read_like_version_2() -> None:
    # Every version-1 file is a version-2 file; the version number does not switch meanings.
    data = {**RESIDUAL_BLOCK, "version": 1}
    assert design_from_dict(data) == design_from_dict(RESIDUAL_BLOCK)


def test_receptive_field_through_a_merge_is_the_largest_on_each_axis() -> None:
    import convdesigner

    d = convdesigner.DesignBuilder(InputSpec(16, 16, 4))
    x = d.input
    tall = d.add(Conv2D(4, (5, 1), padding=(2, 0)), x, id="tall")
    square = d.add(Conv2D(4, 3, padding=1), x, id="square")
    d.add(Add(), [tall, square], id="sum")
    a = analyse(d.build())
    assert a.row("sum").receptive_field == (5, 3)
    assert (
        "on each axis the widest input's ('tall', 'square')"
        in (a.row("sum").derivations["receptive_field"])
    )


def test_removing_a_merge_that_the_node_below_reads_is_refused() -> None:
    # Before: the node below silently got both of the merge's inputs (a ReLU with two inputs).
    from convdesigner.core.layers import ReLU

    nodes = [
        Node("a", Conv2D(4, 3, padding=1)),
        Node("sum", Add(), ("a", "input")),
        Node("relu", ReLU()),
    ]
    design = Design(InputSpec(8, 8, 4), nodes=nodes)
    with pytest.raises(ValueError, match="'sum' merges 2 inputs and 'relu' reads it"):
        design.remove(1)
    assert design.remove(2).ids == ("a", "sum")


def test_names_refuse_half_surrogate_pairs_and_c1_controls() -> None:
    from convdesigner.core.validate import LayerSettingError

    for bad in ("half \ud800", "c1 \x85 next line", "esc \x9b"):
        with pytest.raises(LayerSettingError):
            Design(InputSpec(8, 8, 1), name=bad)
    assert Design(InputSpec(8, 8, 1), name="ünïcode ✓").name == "ünïcode ✓"
