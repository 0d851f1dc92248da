"""Taking one output value apart gives back exactly what the engine computed."""

from __future__ import annotations

import numpy as np
import pytest

from convdesigner.core.analysis import analyse
from convdesigner.core.design import Design, InputSpec, Node
from convdesigner.core.engine.forward import run_graph
from convdesigner.core.layers import (
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    Flatten,
    LeakyReLU,
    MaxPool2D,
    ReLU,
)
from convdesigner.core.one_value import ConvValue, OtherValue, explain_in_run, explain_value
from convdesigner.core.ops.base import Layer
from convdesigner.core.viewer import Activations, SourceImage
from convdesigner.core.weights import DefaultWeights

GEOMETRIES = {
    "plain 3×3": Conv2D(filters=5, kernel=3),
    "same 5×5": Conv2D(filters=4, kernel=5, padding="same"),
    "stride 2, pad 1": Conv2D(filters=6, kernel=3, stride=2, padding=1),
    "dilation 2, same": Conv2D(filters=3, kernel=3, dilation=2, padding="same"),
    "groups 2, 3×2 kernel": Conv2D(filters=4, kernel=(3, 2), padding=(1, 0), groups=2),
    "depthwise, no bias": Conv2D(filters=6, kernel=3, padding=1, groups=6, bias=False),
    "same, stride 2, odd size": Conv2D(filters=2, kernel=4, stride=2, padding="same"),
}


def _run(
    *layers: Layer, shape: tuple[int, int, int] = (6, 11, 9)
) -> tuple[Design, dict[str, np.ndarray]]:
    c, h, w = shape
    design = Design(
        InputSpec(h, w, c), nodes=tuple(Node(f"n{i}", op) for i, op in enumerate(layers))
    )
    image = np.random.default_rng(1).standard_normal((c, h, w)).astype(np.float32)
    return design, run_graph(design, image, seed=3, keep_all=True)


@pytest.mark.parametrize("name", list(GEOMETRIES))
def test_every_conv_output_equals_its_sum(name: str) -> None:
    # A ReLU and a max pool after the conv: the engine fuses them, the conv's own map is kept.
    design, arrays = _run(GEOMETRIES[name], ReLU(), MaxPool2D(kernel=2))
    analysis = analyse(design)
    weights = DefaultWeights(design, 3, analysis=analysis)
    out = arrays["n0"]
    worst = 0.0
    for c in range(out.shape[0]):
        for y in range(out.shape[1]):
            for x in range(out.shape[2]):
                v = explain_value(analysis, arrays, weights, "n0", c, y, x)
                assert isinstance(v, ConvValue)
                assert v.engine_value == out[c, y, x]
                scale = float(np.abs(v.window * v.kernel).sum()) + abs(v.bias) + 1e-6
                worst = max(worst, abs(v.total - v.engine_value) / scale)
    assert worst < 1e-6, f"{name}: relative error {worst}"


def test_padding_taps_are_zeros_and_marked() -> None:
    design, arrays = _run(Conv2D(filters=2, kernel=3, stride=2, padding=1))
    analysis = analyse(design)
    v = explain_value(analysis, arrays, DefaultWeights(design, 3), "n0", 1, 0, 0)
    assert isinstance(v, ConvValue)
    assert v.rows == (-1, 0, 1)
    assert v.cols == (-1, 0, 1)
    assert v.padded[0].all()
    assert v.padded[:, 0].all()
    assert not v.padded[1:, 1:].any()
    assert (v.window[:, v.padded] == 0).all()
    np.testing.assert_array_equal(v.window[:, 1:, 1:], arrays["input"][:, 0:2, 0:2])
    assert v.in_channels == tuple(range(6))
    np.testing.assert_allclose(v.partial_sums.sum() + v.bias, v.total)


def test_a_group_reads_only_its_channels() -> None:
    design, arrays = _run(Conv2D(filters=4, kernel=3, groups=2))
    v = explain_value(analyse(design), arrays, DefaultWeights(design, 3), "n0", 3, 2, 2)
    assert isinstance(v, ConvValue)
    assert v.in_channels == (3, 4, 5)
    assert v.kernel.shape == (3, 3, 3)


def test_text_names_the_sum_and_the_total() -> None:
    design, arrays = _run(Conv2D(filters=2, kernel=5, padding="same"))
    v = explain_value(analyse(design), arrays, DefaultWeights(design, 3), "n0", 1, 4, 3)
    assert isinstance(v, ConvValue)
    text = v.text()
    assert text.startswith("out[c=1, y=4, x=3] = Σ over 6 channels × 5×5 window")
    assert "…" in text
    assert text.endswith(f"= {v.total:.4g}")


def test_max_pool_and_other_ops_explain_in_a_sentence() -> None:
    design, arrays = _run(Conv2D(filters=2, kernel=3), MaxPool2D(kernel=3, stride=2, padding=1))
    analysis = analyse(design)
    pool = explain_value(analysis, arrays, {}, "n1", 1, 0, 1)
    assert isinstance(pool, OtherValue)
    expected = float(arrays["n0"][1, 0:2, 1:4].max())
    assert pool.engine_value == expected
    assert pool.text().endswith(f"= {expected:.4g}")
    assert "from row -1, col 1" in pool.text()
    design, arrays = _run(BatchNorm2D())
    norm = explain_value(analyse(design), arrays, DefaultWeights(design, 3), "n0", 0, 0, 0)
    assert isinstance(norm, OtherValue)
    assert norm.text().startswith("out[c=0, y=0, x=0] = (x − mean) / √(var + eps) · γ + β")


@pytest.mark.parametrize(
    ("pool", "taps"),
    [
        (AvgPool2D(kernel=3, stride=2, padding=1), 9),
        (AvgPool2D(kernel=3, stride=2, padding=1, count_include_pad=False), 4),
        (AvgPool2D(kernel=3, stride=1, padding="same"), 4),
    ],
)
def test_average_pooling_divides_by_what_the_engine_divides_by(pool: Layer, taps: int) -> None:
    design, arrays = _run(pool)
    v = explain_value(analyse(design), arrays, {}, "n0", 2, 0, 0)
    mean = float(arrays["input"][2, 0:2, 0:2].sum()) / taps
    assert v.engine_value == pytest.approx(mean, rel=1e-5, abs=1e-6)
    assert f"/ {taps} (" in v.text()
    assert v.text().endswith(f"= {mean:.4g}")


def test_a_per_value_activation_gives_its_formula() -> None:
    design, arrays = _run(ReLU(), LeakyReLU(negative_slope=0.2))
    analysis = analyse(design)
    before = float(arrays["input"][1, 3, 4])
    relu = explain_value(analysis, arrays, {}, "n0", 1, 3, 4)
    assert relu.text().startswith(f"out[c=1, y=3, x=4] = max(0, x) with x = {before:.4g}")
    assert relu.engine_value == max(0.0, before)
    leaky = explain_value(analysis, arrays, {}, "n1", 1, 3, 4)
    assert "x if x > 0 else 0.2 · x" in leaky.text()


def test_bad_requests_say_what_is_wrong() -> None:
    design, arrays = _run(Conv2D(filters=2, kernel=3), Flatten())
    analysis = analyse(design)
    with pytest.raises(ValueError, match="outside the 2×9×7 output"):
        explain_value(analysis, arrays, {}, "n0", 2, 0, 0)
    with pytest.raises(ValueError, match="a vector"):
        explain_value(analysis, arrays, {}, "n1", 0, 0, 0)
    with pytest.raises(ValueError, match="the input is not computed"):
        explain_value(analysis, arrays, {}, "input", 0, 0, 0)


def test_a_viewer_run_is_explained_with_its_own_weights() -> None:
    design, arrays = _run(Conv2D(filters=3, kernel=3, padding=1), ReLU())
    source = SourceImage(np.zeros((2, 2, 3), dtype=np.float32), "unused")
    activations = Activations(design, source, 3, tuple(arrays.values()))
    v = explain_in_run(activations, "n0", 2, 5, 4)
    assert isinstance(v, ConvValue)
    assert v.total == pytest.approx(v.engine_value, rel=1e-5, abs=1e-5)
