"""The network from the question that started the project, checked cell by cell.

Expected table (issue 2): Input 25×64×1; Conv2D 7×7, 100 filters, "same" → 25×64×100, 4,900
weights, 100 biases; MaxPool2D 2×2 stride 2 "same" → 13×32×100; Conv2D 5×5, 150 filters, "same"
→ 13×32×150, 375,000 weights, 150 biases.
"""

from __future__ import annotations

import pytest

from convdesigner import analyse, load_design
from convdesigner.core.analysis import Status
from convdesigner.core.templates import load_template

QA_DICT = {
    "format": "convdesigner-design",
    "version": 1,
    "name": "Q&A example",
    "input": {"height": 25, "width": 64, "channels": 1},
    "layers": [
        {"type": "conv2d", "filters": 100, "kernel": 7, "padding": "same"},
        {"type": "maxpool2d", "kernel": 2, "stride": 2, "padding": "same"},
        {
            "type": "conv2d",
            "filters": 150,
            "kernel": [5, 5],
            "stride": [1, 1],
            "padding": "same",
            "dilation": 1,
            "groups": 1,
            "bias": True,
        },
    ],
}

# (type, H, W, C, weights, biases)
EXPECTED = [
    ("input", 25, 64, 1, 0, 0),
    ("conv2d", 25, 64, 100, 4_900, 100),
    ("maxpool2d", 13, 32, 100, 0, 0),
    ("conv2d", 13, 32, 150, 375_000, 150),
]


@pytest.fixture(params=["dict", "template"])
def qa_analysis(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    design = load_design(QA_DICT) if request.param == "dict" else load_template("qa-example")
    return analyse(design)


def test_the_issue_dict_and_the_bundled_template_are_the_same_design() -> None:
    assert load_design(QA_DICT).layers == load_template("qa-example").layers
    assert load_design(QA_DICT).input == load_template("qa-example").input


@pytest.mark.parametrize("position", range(4))
def test_table_cell_by_cell(qa_analysis, position: int) -> None:  # type: ignore[no-untyped-def]
    row = qa_analysis.rows[position]
    kind, h, w, c, weights, biases = EXPECTED[position]
    assert row.status is Status.OK
    assert row.type == kind
    assert (row.output_height, row.output_width, row.output_channels) == (h, w, c)
    assert row.shape_text == f"{h}×{w}×{c}"
    assert row.weights == weights
    assert row.biases == biases
    assert row.params == weights + biases
    assert row.non_trainable == 0


def test_padding_actually_applied(qa_analysis) -> None:  # type: ignore[no-untyped-def]
    conv1, pool, conv2 = qa_analysis.rows[1:]
    assert conv1.padding == ((3, 3), (3, 3))
    # 25 rows at stride 2 need one extra row, TensorFlow puts it after (bottom); 64 is even.
    assert pool.padding == ((0, 1), (0, 0))
    assert conv2.padding == ((2, 2), (2, 2))


def test_derivations_show_the_numbers(qa_analysis) -> None:  # type: ignore[no-untyped-def]
    conv1 = qa_analysis.rows[1]
    assert conv1.derivations["weights"].endswith("7 × 7 × 1 × 100 = 4,900")
    assert (
        "H_out = floor((25 + 3 + 3 - 1·(7-1) - 1) / 1) + 1 = 25"
        in (conv1.derivations["output_height"])
    )
    assert "ceil(25 / 2) = 13" in qa_analysis.rows[2].derivations["output_height"]
    assert "5 × 5 × 100 × 150 = 375,000" in qa_analysis.rows[3].derivations["weights"]


def test_totals_macs_and_receptive_field(qa_analysis) -> None:  # type: ignore[no-untyped-def]
    t = qa_analysis.totals
    assert t.params == 4_900 + 100 + 375_000 + 150
    # MACs: H_out·W_out·C_out·C_in·kh·kw per convolution.
    assert t.macs == 25 * 64 * 100 * 1 * 49 + 13 * 32 * 150 * 100 * 25
    assert t.flops == 2 * t.macs
    assert [r.receptive_field for r in qa_analysis.rows] == [(1, 1), (7, 7), (8, 8), (16, 16)]
    assert [r.jump for r in qa_analysis.rows] == [(1, 1), (1, 1), (2, 2), (2, 2)]
    assert [r.rf_start for r in qa_analysis.rows] == [(0, 0), (-3, -3), (-3, -3), (-7, -7)]
    values = 25 * 64 * 1 + 25 * 64 * 100 + 13 * 32 * 100 + 13 * 32 * 150
    assert t.activation_bytes == 4 * values
    assert t.parameter_bytes == 4 * t.params
