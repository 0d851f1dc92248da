"""The learner's answers (core.teaching) with the Q&A example's own numbers, without Qt."""

from __future__ import annotations

import pytest

from convdesigner.core import separable, teaching
from convdesigner.core.analysis import LayerRow, analyse
from convdesigner.core.design import INPUT_ID, Design, InputSpec, Node
from convdesigner.core.document import Document, EditError
from convdesigner.core.ops import (
    Add,
    AvgPool2D,
    BatchNorm2D,
    Concat,
    Dense,
    Flatten,
    GlobalAvgPool2D,
    Layer,
    MaxPool2D,
    ReLU,
)
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
    assert weights_text(rows[3]) == "Weights 4 · Bias 4"  # a norm's scale: no "(4)" repeating it


def test_no_shape_for_a_layer_with_an_error() -> None:
    rows = analyse(Design(InputSpec(4, 4, 3), [Conv2D(filters=2, kernel=9)])).rows
    assert not rows[1].ok
    assert weight_shape_text(rows[1]) == ""
    assert bias_shape_text(rows[1]) == ""


# --------------------------------------------------------------------------- texts


def sep_design() -> Design:
    """The issue's example: 100 channels, a depthwise 3×3 then a 1×1 conv to 150."""
    return Design(
        InputSpec(10, 10, 100),
        [
            Conv2D(filters=100, kernel=3, padding="same", groups=100, bias=False),
            Conv2D(filters=150, kernel=1),
        ],
    )


def test_filters_sentence_plain_depthwise_and_grouped() -> None:
    rows = qa_rows()
    assert teaching.filters_sentence(rows[3]) == (
        "each of the 150 filters spans all 100 input channels and gives one map"
    )
    assert teaching.filters_sentence(rows[2]) == ""
    dw = analyse(sep_design()).rows[1]
    assert teaching.filters_sentence(dw).startswith(
        "depthwise: each of the 100 filters spans one input channel only (groups = 100)"
    )
    grouped = analyse(Design(InputSpec(8, 8, 100), [Conv2D(filters=150, groups=2)])).rows[1]
    assert "spans 50 of the 100 input channels (groups = 2: filters 0–74 read channels 0–49" in (
        teaching.filters_sentence(grouped)
    )


def test_weights_picture_of_the_second_qa_conv() -> None:
    picture = teaching.weights_picture(qa_rows()[3])
    assert picture is not None
    assert (picture.filters, picture.kernel, picture.depth) == (150, (5, 5), 100)
    assert picture.shown == (0, 1, 2, 3, 4, 5, 6, 149)
    assert picture.hidden == 142
    assert picture.sentence == (
        "Each of the 150 filters spans all 100 input channels and gives one map."
    )
    assert picture.shapes == "Weights 5×5×100×150 (375,000) · Bias 150"
    assert teaching.weights_picture(qa_rows()[2]) is None


def test_one_by_one_and_its_summary_line() -> None:
    rows = analyse(sep_design()).rows
    text = teaching.one_by_one_text(rows[2])
    assert "mixes channels there" in text
    assert "Params = C_in · C_out = 100 × 150 = 15,000 weights + 150 biases." in text
    assert teaching.one_by_one_text(rows[1]) == ""
    assert teaching.summary_line(rows[2]) == (
        "Weights 1×1×100×150 (15,000) · Bias 150. 1×1: mixes the 100 channels at each "
        "position into 150; params C_in·C_out = 100·150."
    )


def test_pooling_text_and_summary() -> None:
    pool = qa_rows()[2]
    text = teaching.pooling_text(pool)
    assert "output channel k is input channel k with each 2×2 window replaced by its largest" in (
        text
    )
    assert "100 maps in, 100 maps out (25×64×100 → 13×32×100)" in text
    assert teaching.summary_line(pool) == (
        "Acts on each of the 100 channels separately: 100 maps in, 100 out."
    )
    assert teaching.pooling_text(qa_rows()[1]) == ""


def test_separable_pair_compared_with_one_normal_conv() -> None:
    analysis = analyse(sep_design())
    for node in analysis.design.ids:  # either half of the pair gives the same comparison
        comparison = teaching.separable_comparison(analysis, node)
        assert comparison is not None
        assert comparison.text == (
            "this pair: 900 + 15,000 = 15,900 weights and 1,590,000 MACs; one 3×3 conv "
            "100→150 instead: 135,000 weights and 13,500,000 MACs (8.5× more)."
        )
        assert comparison.action == "make-normal"


def test_normal_conv_compared_with_its_separable_form() -> None:
    design = Design(InputSpec(10, 10, 100), [Conv2D(filters=150, kernel=3, padding="same")])
    comparison = teaching.separable_comparison(analyse(design), "0")
    assert comparison is not None
    assert comparison.text == (
        "this conv: 135,000 weights and 13,500,000 MACs; as a depthwise 3×3 conv + a 1×1 conv "
        "100→150 instead: 900 + 15,000 = 15,900 weights and 1,590,000 MACs (8.5× fewer)."
    )
    assert comparison.action == "make-separable"


def test_pair_with_batchnorm_and_relu_between_is_compared_but_not_rewritten() -> None:
    design = Design(
        InputSpec(10, 10, 100),
        [
            Conv2D(filters=100, kernel=3, padding="same", groups=100, bias=False),
            BatchNorm2D(),
            ReLU(),
            Conv2D(filters=150, kernel=1),
        ],
    )
    analysis = analyse(design)
    comparison = teaching.separable_comparison(analysis, "3")
    assert comparison is not None
    assert comparison.text.startswith("this pair: 900 + 15,000 = 15,900 weights")
    assert "(not counting BatchNorm, ReLU between them)" in comparison.text
    assert comparison.action == ""
    with pytest.raises(separable.RewriteError, match="BatchNorm, ReLU between"):
        separable.make_normal(analysis, "0")


def test_make_separable_and_back_in_a_chain_is_undoable() -> None:
    doc = Document(Design(InputSpec(10, 10, 100), [Conv2D(filters=150, padding="same"), ReLU()]))
    selected = doc.make_separable("0")
    assert selected == "0"
    assert [type(n.op).__name__ for n in doc.design.nodes] == ["Conv2D", "Conv2D", "ReLU"]
    rows = doc.analysis.rows
    assert (rows[1].weights, rows[2].weights, rows[2].output_shape) == (900, 15_000, (150, 10, 10))
    assert doc.design.is_sequential
    assert doc.history.undo_text == "Make Conv2D separable"
    back = doc.make_normal("1")
    assert back == "0"
    assert doc.analysis.rows[1].weights == 135_000
    assert doc.analysis.rows[1].output_shape == (150, 10, 10)
    doc.undo()
    doc.undo()
    assert doc.design.nodes[0].op == Conv2D(filters=150, padding="same")


def test_make_separable_in_a_graph_keeps_ids_and_inputs() -> None:
    nodes = [
        Node("stem", Conv2D(filters=8, padding="same")),
        Node("branch", Conv2D(filters=8, kernel=5, padding="same"), ("stem",)),
        Node("sum", Add(), ("branch", "stem")),
    ]
    doc = Document(Design(InputSpec(12, 12, 3), nodes=nodes))
    dw = doc.make_separable("branch")
    design = doc.design
    assert design.ids == ("stem", dw, "branch", "sum")
    assert design.inputs_of(1) == ("stem",)
    assert design.inputs_of(2) == (dw,)
    assert doc.analysis.ok
    assert doc.analysis.row("sum").output_shape == (8, 12, 12)
    assert doc.make_normal("branch") == "branch"
    assert doc.design.ids == ("stem", "branch", "sum")
    assert doc.analysis.row("branch").weights == 5 * 5 * 8 * 8


def test_rewrites_refused_with_a_reason() -> None:
    doc = Document(load_template("qa-example"))
    with pytest.raises(EditError, match="single input channel has no channels to mix"):
        doc.make_separable("0")
    with pytest.raises(EditError, match="only a Conv2D can be made separable"):
        doc.make_separable("1")
    with pytest.raises(EditError, match="not part of a depthwise-separable pair"):
        doc.make_normal("2")
    assert not doc.history.can_undo


def test_what_if_doubling_is_exact_and_graph_aware() -> None:
    analysis = analyse(load_template("qa-example"))
    first = teaching.what_if_double(analysis, "0")
    assert first is not None
    # layer 0: 25×64×100×49 = 7,840,000 MACs; layer 2: 13×32×150×100×25 = 156,000,000
    assert first.extra_macs == 7_840_000 + 156_000_000
    assert dict(first.ratios) == {"0": 2.0, "2": 2.0}
    assert first.macs_after == (2 * 7_840_000, 0, 2 * 156_000_000)
    assert first.text.startswith(
        "Doubling this layer's filters (100 → 200) multiplies this layer's MACs by 2 and the "
        "next conv's (layer 2) by 2: +163,840,000 MACs (+100.0 % of the network)"
    )
    last = teaching.what_if_double(analysis, "2")
    assert last is not None
    assert last.text.startswith(
        "Doubling this layer's filters (150 → 300) multiplies this layer's MACs by 2: "
        "+156,000,000 MACs (+95.2 % of the network); params +375,150."
    )
    assert teaching.what_if_double(analysis, "1") is None


def test_what_if_doubling_names_what_it_would_break() -> None:
    nodes = [
        Node("a", Conv2D(filters=8, padding="same")),
        Node("b", Conv2D(filters=8, padding="same")),
        Node("sum", Add(), ("a", "b")),
    ]
    analysis = analyse(Design(InputSpec(12, 12, 3), nodes=nodes))
    what = teaching.what_if_double(analysis, "b")
    assert what is not None
    assert what.text.startswith("Doubling this layer's filters (8 → 16) would break 'sum' (Add)")


def test_cost_bars_and_notes_for_each_question() -> None:
    analysis = analyse(load_template("qa-example"))
    bars = teaching.cost_bars(analysis)
    assert [(b.label, b.macs, b.params) for b in bars] == [
        ("0", 7_840_000, 5_000), ("1", 0, 0), ("2", 156_000_000, 375_150),
    ]  # fmt: skip
    keys = {n: [note.key for note in teaching.notes(analysis, n)] for n in analysis.design.ids}
    assert keys == {
        "0": ["filters", "what_if"],
        "1": ["pooling"],
        "2": ["filters", "separable", "what_if"],
    }
    assert teaching.notes(analysis, None) == []


def test_what_if_in_a_dense_block_names_three_layers_and_counts_the_rest() -> None:
    analysis = analyse(load_template("densenet121"))
    node = "features.denseblock3.denselayer11.conv2"
    what = teaching.what_if_double(analysis, node)
    assert what is not None
    assert len(what.ratios) > 5  # every later layer of the block reads the concatenation
    assert what.text.count("'features.") == 3
    assert f"and those of {len(what.ratios) - 4} more layers by" in what.text
    # exact: the extra MACs are those of the design with this layer doubled
    layer = analysis.row(node).layer
    assert layer is not None
    doubled = analysis.design.replace_layer(
        analysis.design.index_of(node), layer.with_changes(filters=64)
    )
    assert what.extra_macs == analyse(doubled).totals.macs - analysis.totals.macs


def test_what_if_names_six_layers_changed_alike_and_counts_the_rest() -> None:
    """Every later conv of a dense block of 2,000 changed alike: the note named all of them,
    30 KB for the explain panel to lay out on each click."""
    branches = [Node(f"b{i}", Conv2D(filters=2, kernel=1), ("stem",)) for i in range(40)]
    design = Design(
        InputSpec(8, 8, 3),
        nodes=[
            Node("stem", Conv2D(filters=4, kernel=3, padding=1), (INPUT_ID,)),
            *branches,
            Node("cat", Concat(), tuple(b.id for b in branches)),
        ],
    )
    what = teaching.what_if_double(analyse(design), "stem")
    assert what is not None
    assert len(what.ratios) == 41  # the stem and every branch, each by 2
    assert "by 2 and those of 'b0' (conv), 'b1' (conv), 'b2' (conv), 'b3' (conv), " in what.text
    assert "'b5' (conv) and 34 more layers by 2: " in what.text
    assert "'b6'" not in what.text


def test_no_comparison_for_an_activation_between_a_pair() -> None:
    design = Design(
        InputSpec(10, 10, 100),
        [
            Conv2D(filters=100, kernel=3, padding="same", groups=100, bias=False),
            ReLU(),
            Conv2D(filters=150, kernel=1),
        ],
    )
    analysis = analyse(design)
    assert teaching.separable_comparison(analysis, "1") is None
    assert teaching.separable_comparison(analysis, "2") is not None


def test_what_if_names_a_following_dense_layer_by_its_name_without_a_stray_possessive() -> None:
    design = Design(
        InputSpec(height=8, width=8, channels=3),
        (Conv2D(filters=4, kernel=3), Flatten(), Dense(units=10, name="predictions")),
    )
    what_if = teaching.what_if_double(analyse(design), "0")
    assert what_if is not None
    assert "the next layer's (layer 2, predictions) by 2" in what_if.text
    assert "predictions's" not in what_if.text


def test_a_one_by_one_conv_that_keeps_the_channel_count_does_not_claim_to_change_it() -> None:
    design = Design(InputSpec(height=4, width=4, channels=8), (Conv2D(filters=8, kernel=1),))
    text = teaching.one_by_one_text(analyse(design).row("0"))
    assert "changes the channel count" not in text
    assert "Params = C_in · C_out = 8 × 8 = 64 weights" in text
    wider = Design(InputSpec(height=4, width=4, channels=8), (Conv2D(filters=16, kernel=1),))
    assert "changes the channel count (8 → 16)" in teaching.one_by_one_text(analyse(wider).row("0"))


@pytest.mark.parametrize(
    ("layer", "kind"),
    [(MaxPool2D(), "largest value"), (AvgPool2D(), "average"), (GlobalAvgPool2D(), "average")],
)
def test_pooling_note_names_what_each_kind_of_pooling_keeps(layer: Layer, kind: str) -> None:
    design = Design(InputSpec(height=8, width=8, channels=5), (layer,))
    text = teaching.pooling_text(analyse(design).row("0"))
    assert "Pooling acts on each channel separately" in text
    assert f"replaced by its {kind}" in text
