"""Runs that keep only the design's outputs fold batch norm into the convolution before it and
work in place (fold.py, forward.py); runs that keep every map (the viewer) must not."""

from __future__ import annotations

import numpy as np
import pytest

from convdesigner.core.builder import DesignBuilder
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.engine import fold
from convdesigner.core.engine.forward import run_design, run_graph
from convdesigner.core.kernels.conv import ConvGeometry, conv2d
from convdesigner.core.layers import Add, BatchNorm2D, Conv2D, ReLU
from convdesigner.core.weights import default_weights

GEO = ConvGeometry(
    kernel=(3, 3), stride=(1, 1), dilation=(1, 1), padding=(1, 1, 1, 1), groups=1, out_hw=(9, 7)
)


def _residual_block() -> Design:
    """conv → bn → relu, then conv → bn → add(the relu) → relu: the bottleneck's pattern, with
    the first relu read twice (by the second conv and by the add)."""
    b = DesignBuilder(InputSpec(height=9, width=7, channels=5))
    b.add(Conv2D(filters=6, kernel=3, padding=1), id="conv1")
    b.add(BatchNorm2D(), id="bn1")
    skip = b.add(ReLU(), id="relu1")
    b.add(Conv2D(filters=6, kernel=3, padding=1, bias=False), id="conv2")
    bn2 = b.add(BatchNorm2D(), id="bn2")
    b.add(Add(), [bn2, skip], id="add")
    b.add(ReLU(), id="relu2")
    return b.build()


def _weights(design: Design, seed: int = 1) -> dict[str, np.ndarray]:
    """Default weights with batch norms that really scale and shift (defaults are identities)."""
    rng = np.random.default_rng(seed)
    w = default_weights(design, seed)
    for key in w:
        if key.endswith((".running_mean", ".bias")) and "bn" in key:
            w[key] = rng.normal(0, 0.5, w[key].shape).astype(np.float32)
        elif key.endswith((".running_var", ".weight")) and "bn" in key:
            w[key] = rng.uniform(0.5, 2.0, w[key].shape).astype(np.float32)
    return w


def test_folded_weights_give_the_convolution_followed_by_the_scale_and_shift() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(9, 7, 4)).astype(np.float32)
    weight = rng.normal(size=(3, 4, 3, 3)).astype(np.float32)
    bias = rng.normal(size=3).astype(np.float32)
    scale = rng.uniform(0.5, 2, 3).astype(np.float32)
    shift = rng.normal(size=3).astype(np.float32)
    expected = conv2d(x, weight, bias, GEO) * scale + shift
    w, b = fold.folded(weight, bias, scale, shift)
    np.testing.assert_allclose(conv2d(x, w, b, GEO), expected, rtol=1e-5, atol=1e-5)
    # No bias: the shift alone becomes the bias.
    w0, b0 = fold.folded(weight, None, scale, shift)
    np.testing.assert_allclose(
        conv2d(x, w0, b0, GEO), conv2d(x, weight, None, GEO) * scale + shift, rtol=1e-5, atol=1e-5
    )


def test_folded_weights_are_remembered_until_anything_changes() -> None:
    rng = np.random.default_rng(1)
    weight = rng.normal(size=(3, 2, 1, 1)).astype(np.float32)
    scale, shift = np.ones(3, np.float32), np.zeros(3, np.float32)
    first = fold.folded(weight, None, scale, shift)
    assert fold.folded(weight, None, scale.copy(), shift.copy())[0] is first[0]
    assert not first[0].flags.writeable  # callers cannot change the cached copy
    # A different scale, or the weight changed in place, is never served stale.
    again = fold.folded(weight, None, scale * 2, shift)
    np.testing.assert_array_equal(again[0], weight * 2)
    weight[0] += 1.0
    np.testing.assert_array_equal(fold.folded(weight, None, scale, shift)[0], weight)


@pytest.mark.parametrize("workers", [1, 2])
def test_an_output_only_run_equals_the_viewers_run(
    workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from convdesigner.core import parallel

    monkeypatch.setattr(parallel, "WORKERS", workers)
    design = _residual_block()
    weights = _weights(design)
    image = np.random.default_rng(2).normal(size=design.input.shape).astype(np.float32)
    before = image.copy()
    calls: list[int] = []
    real = fold.folded

    def spy(*args: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        calls.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(fold, "folded", spy)
    every = dict(zip(("input", *design.ids), run_design(design, image, weights), strict=True))
    assert calls == []  # every map kept: nothing folded
    only = run_graph(design, image, weights)
    assert len(calls) == 2  # both batch norms folded into their convolutions
    assert list(only) == ["input", "relu2"]
    np.testing.assert_allclose(only["relu2"], every["relu2"], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(image, before)  # the caller's image is never written to
    np.testing.assert_array_equal(only["input"], before)


def test_the_viewer_sees_each_layer_unfolded() -> None:
    # With every map kept, conv2's map is the convolution alone and bn2's is the batch norm of
    # it: folding there would show the learner numbers the layer table does not describe.
    design = _residual_block()
    weights = _weights(design)
    image = np.random.default_rng(3).normal(size=design.input.shape).astype(np.float32)
    maps = dict(zip(("input", *design.ids), run_design(design, image, weights), strict=True))
    x = np.ascontiguousarray(maps["relu1"].transpose(1, 2, 0))
    own = conv2d(x, weights["conv2.weight"], None, GEO).transpose(2, 0, 1)
    np.testing.assert_allclose(maps["conv2"], own, rtol=1e-5, atol=1e-5)
    var, mean = weights["bn2.running_var"], weights["bn2.running_mean"]
    gamma, beta = weights["bn2.weight"], weights["bn2.bias"]
    scale = gamma / np.sqrt(var + 1e-5)
    bn = (own - mean[:, None, None]) * scale[:, None, None] + beta[:, None, None]
    np.testing.assert_allclose(maps["bn2"], bn, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(maps["add"], bn + maps["relu1"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(maps["relu2"], np.maximum(maps["add"], 0), rtol=1e-6, atol=0)
