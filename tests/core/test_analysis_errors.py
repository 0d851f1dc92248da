"""Bad layers: a readable error row, later rows NOT_COMPUTABLE, and analyse() never raises."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from convdesigner.core.analysis import Analysis, Status, analyse
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.layers import (
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
from convdesigner.core.table import to_csv, to_dict, to_text
from tests.core.design_strategies import designs, graph_designs


def run(*layers: Layer, h: int = 8, w: int = 8, c: int = 3) -> Analysis:
    return analyse(Design(InputSpec(height=h, width=w, channels=c), tuple(layers)))


def check_error_at(analysis: Analysis, index: int, *phrases: str) -> str:
    """The layer at ``index`` is the error; everything before is fine, everything after blocked."""
    for row in analysis.rows[: index + 1]:
        assert row.status is Status.OK, row.message
    row = analysis.row_for_layer(index)
    assert row.status is Status.ERROR
    assert row.output_shape is None
    assert row.input_shape is not None
    assert (row.params, row.macs) == (0, 0)
    for phrase in phrases:
        assert phrase in row.message, row.message
    for later in analysis.rows[index + 2 :]:
        assert later.status is Status.NOT_COMPUTABLE
        assert later.output_shape is None
        assert f"layer {index}" in later.message
    assert analysis.totals.errors == 1
    assert analysis.first_error is row
    assert not analysis.ok
    return row.message


def test_kernel_larger_than_the_padded_input() -> None:
    a = run(Conv2D(filters=2, kernel=5), ReLU(), Conv2D(filters=2, kernel=7), ReLU(), Flatten())
    message = check_error_at(a, 2, "kernel height 7", "padded input height 4", "4 + 0 + 0")
    assert "smaller kernel" in message


def test_padding_makes_the_kernel_fit() -> None:
    assert run(Conv2D(kernel=5, padding=1), h=3, w=3).ok
    check_error_at(run(Conv2D(kernel=6, padding=1), h=3, w=3), 0, "padded input height 5")


def test_dilation_is_named_when_it_causes_the_misfit() -> None:
    a = run(Conv2D(kernel=3, dilation=4), h=8, w=8)
    check_error_at(a, 0, "dilation 4 makes it span 9")


def test_kernel_too_wide_only_in_width() -> None:
    a = run(Conv2D(kernel=(3, 9)), h=8, w=8)
    check_error_at(a, 0, "kernel width 9")


def test_pool_window_larger_than_the_input() -> None:
    a = run(MaxPool2D(kernel=3), MaxPool2D(kernel=3), h=8, w=8)  # 8 → 2, then 3 > 2
    check_error_at(a, 1, "pooling window height 3")


def test_same_padding_never_misfits() -> None:
    assert run(Conv2D(kernel=11, padding="same"), MaxPool2D(kernel=9, padding="same"), h=2).ok


@pytest.mark.parametrize(
    ("c_in", "filters", "groups", "phrase"),
    [
        (6, 8, 4, "6 input channels"),
        (8, 6, 4, "6 filters"),
        (3, 3, 2, "3 input channels"),
        (1, 2, 2, "single input channel"),
    ],
)
def test_groups_not_dividing(c_in: int, filters: int, groups: int, phrase: str) -> None:
    a = run(Conv2D(filters=filters, groups=groups), ReLU(), c=c_in)
    message = check_error_at(a, 0, f"Groups = {groups}", phrase, "not a whole number")
    assert "\n" not in message


def test_dense_after_a_map() -> None:
    a = run(Conv2D(filters=2), Dense(units=5), Dense(units=2))
    check_error_at(a, 1, "Dense needs a flat vector", "6×6×2 feature map", "Add a Flatten")


@pytest.mark.parametrize(
    "layer", [Conv2D(), MaxPool2D(), AvgPool2D(), GlobalAvgPool2D(), BatchNorm2D()]
)
def test_map_layers_after_flatten(layer: Layer) -> None:
    a = run(Flatten(), layer, ReLU())
    check_error_at(a, 1, "works on H×W×C feature maps", "flat vector of 192 values", "before the")


@pytest.mark.parametrize("cls", [MaxPool2D, AvgPool2D])
def test_pool_padding_more_than_half_the_window(cls: type[MaxPool2D | AvgPool2D]) -> None:
    assert run(cls(kernel=3, padding=1)).ok
    assert run(cls(kernel=4, padding=2)).ok
    check_error_at(run(cls(kernel=3, padding=2)), 0, "more than half", "at most 1")
    check_error_at(run(cls(kernel=(4, 2), padding=(1, 2))), 0, "width 2", "at most 1")


def test_only_the_first_error_is_an_error() -> None:
    a = run(Dense(units=3), Conv2D(kernel=99), Dense(units=2))
    check_error_at(a, 0, "Dense needs")
    assert a.rows[2].status is Status.NOT_COMPUTABLE


def test_input_row_is_never_an_error() -> None:
    a = run(Conv2D(kernel=9))
    assert a.rows[0].status is Status.OK
    assert a.rows[0].output_shape == (3, 8, 8)


# ---------------------------------------------------------------------- random designs


@settings(max_examples=300, deadline=None)
@given(designs)
def test_random_designs_never_raise_and_rows_are_consistent(design: Design) -> None:
    a = analyse(design)
    assert len(a.rows) == len(design.layers) + 1
    seen_error = False
    for row in a.rows[1:]:
        if seen_error:
            assert row.status is Status.NOT_COMPUTABLE
            continue
        if row.status is Status.ERROR:
            seen_error = True
            assert row.message
            assert row.message[0].isupper()
            assert row.message.endswith(".")
            continue
        assert row.status is Status.OK
        assert row.output_shape is not None
        assert all(s >= 1 for s in row.output_shape)
        assert row.params == row.weights + row.biases + row.non_trainable
        assert row.macs >= 0
        # Every derivation can be built and is non-empty text.
        assert all(isinstance(v, str) and v for v in row.derivations.values())
        if row.receptive_field is not None:
            assert row.jump is not None
            assert row.rf_start is not None
            assert min(row.receptive_field) >= 1
            assert min(row.jump) >= 1
    assert a.totals.errors == (1 if seen_error else 0)
    to_text(a, explain=True)
    to_csv(a)
    to_dict(a)


@settings(max_examples=300, deadline=None)
@given(graph_designs())
def test_random_graphs_never_raise_and_errors_block_only_what_depends_on_them(
    design: Design,
) -> None:
    a = analyse(design)
    assert len(a.rows) == len(design) + 1
    status = {"input": Status.OK}
    for node, sources in zip(design.nodes, design.resolved_inputs, strict=True):
        row = a.row(node.id)
        assert row.inputs == sources
        upstream = [status[s] for s in sources]
        if any(s is not Status.OK for s in upstream):
            # Blocked by an input, whatever its own settings; named after the first error.
            assert row.status is Status.NOT_COMPUTABLE, row.message
            assert row.message.startswith("Not computable: ")
            assert row.output_shape is None
        elif row.status is Status.ERROR:
            assert row.message
            assert row.output_shape is None
            assert row.input_shapes == tuple(a.row(s).output_shape for s in sources)
        else:
            # Every input computed and no error: an independent branch is never blocked.
            assert row.status is Status.OK, row.message
            assert row.output_shape is not None
            assert all(s >= 1 for s in row.output_shape)
            assert row.params == row.weights + row.biases + row.non_trainable
            assert all(isinstance(v, str) and v for v in row.derivations.values())
        status[node.id] = row.status
        assert row.is_output == (node.id in design.outputs)
    assert a.totals.errors == sum(1 for r in a.rows if r.status is Status.ERROR)
    to_text(a, explain=True)
    to_csv(a)
    to_dict(a)


def test_extreme_but_loadable_values_never_raise() -> None:
    # The largest values the loader accepts: counts stay exact integers, texts still build.
    big = Design(
        InputSpec(height=16384, width=16384, channels=4096),
        (
            Conv2D(filters=1_000_000, kernel=16384, dilation=16384, padding=16384),
            Conv2D(filters=4096 * 244, kernel=3, padding="same", groups=4096),
            MaxPool2D(kernel=16384, stride=16384, padding="same", ceil_mode=True),
            Conv2D(filters=4096 * 244, kernel=16384, padding="same", groups=4096 * 244),
            Flatten(),
            Dense(units=1_000_000),
            Dense(units=1_000_000),
        ),
    )
    a = analyse(big)
    assert a.rows[1].status is Status.ERROR  # dilation 16384 on a 16,384-wide kernel never fits
    smaller = big.remove(0)
    a = analyse(smaller)
    assert a.ok, a.first_error.message if a.first_error else ""
    for row in a.rows:
        assert all(row.derivations.values())
    assert a.totals.macs > 10**12
    assert "TiB" in to_text(a) or "GiB" in to_text(a)
    to_csv(a)
