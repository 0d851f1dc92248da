"""The learner's answers (core.teaching) with the Q&A example's own numbers, without Qt."""

from __future__ import annotations

from convdesigner.core.analysis import LayerRow, analyse
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.ops import BatchNorm2D, Dense, Flatten, ReLU
from convdesigner.core.ops.conv import Conv2D, ConvTranspose2D
from convdesigner.core.teaching import bias_shape_text, weight_shape_text, weights_text
from convdesigner.core.templates import load_template


def qa_rows() -> list[LayerRow]:
    return list(analyse(load_template("qa-example")).rows)


def test_weight_shape_of_the_qa_example() -> None:
    rows = qa_rows()
    assert [weight_shape_text(r) for r in rows] == ["", "7×7×1×100", "", "5×5×100×150"]
    assert [bias_shape_text(r) for r in rows] == ["", "100", "", "150"]
    assert weights_text(rows[3]) == "Weights 5×5×100×150 (375,000) · Bias 150"
    assert weights_text(rows[2]) == ""


def test_weight_shape_of_grouped_transposed_dense_and_norm_layers() -> None:
    design = Design(
        InputSpec(8, 8, 6),
        [
            Conv2D(filters=6, kernel=3, groups=6, bias=False),
            ConvTranspose2D(filters=4, kernel=2, stride=2, groups=2),
            BatchNorm2D(),
            ReLU(),
            Flatten(),
            Dense(units=10),
        ],
    )
    rows = analyse(design).rows
    assert [weight_shape_text(r) for r in rows[1:]] == [
        "3×3×1×6", "2×2×2×6", "4", "", "", "576×10",
    ]  # fmt: skip
    assert bias_shape_text(rows[1]) == ""
    assert weights_text(rows[1]) == "Weights 3×3×1×6 (54)"


def test_no_shape_for_a_layer_with_an_error() -> None:
    rows = analyse(Design(InputSpec(4, 4, 3), [Conv2D(filters=2, kernel=9)])).rows
    assert not rows[1].ok
    assert weight_shape_text(rows[1]) == ""
    assert bias_shape_text(rows[1]) == ""
