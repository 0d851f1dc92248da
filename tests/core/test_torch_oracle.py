"""PyTorch as an independent oracle: random designs, built as torch modules, must agree with the
analysis on every layer's output shape and parameter counts, and fail where the analysis says.

Channel counts and input sizes of the torch modules come from the tensors torch actually
produces, never from the analysis. ``"same"`` padding uses torch's own ``padding="same"`` at
stride 1 and TensorFlow's documented rule, via an explicit pad, at larger strides (torch has
none there).
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from convdesigner.core.analysis import Status, analyse
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.layers import (
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Layer,
    MaxPool2D,
    ReLU,
)
from convdesigner.core.templates import list_templates, load_template

torch = pytest.importorskip("torch")
nn = torch.nn

pytestmark = [
    pytest.mark.oracle,
    # torch notes that it copies the input for an even "same" kernel; the result is what we test.
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning"),
]


def tf_same(n: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """TensorFlow's "same" padding (before, after) along one axis, from its documentation."""
    out = math.ceil(n / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def _pad_same(x: Any, kernel: tuple[int, int], stride: tuple[int, int],
              dilation: tuple[int, int], value: float) -> Any:  # fmt: skip
    top, bottom = tf_same(x.shape[2], kernel[0], stride[0], dilation[0])
    left, right = tf_same(x.shape[3], kernel[1], stride[1], dilation[1])
    return nn.functional.pad(x, (left, right, top, bottom), value=value)


def torch_layer(layer: Layer, x: Any) -> Any:
    """A torch module doing what ``layer`` does to ``x`` (a batch of one)."""
    if isinstance(layer, Conv2D):
        same = layer.padding == "same"
        native_same = same and layer.stride == (1, 1)
        padding: Any = "same" if native_same else (0 if same else layer.padding)
        conv = nn.Conv2d(
            x.shape[1],
            layer.filters,
            layer.kernel,
            stride=layer.stride,
            padding=padding,
            dilation=layer.dilation,
            groups=layer.groups,
            bias=layer.bias,
        )
        if same and not native_same:
            return _Padded(conv, layer.kernel, layer.stride, layer.dilation, 0.0)
        return conv
    if isinstance(layer, MaxPool2D | AvgPool2D):
        same = layer.padding == "same"
        pad: Any = 0 if layer.padding in ("same", "valid") else layer.padding
        if isinstance(layer, MaxPool2D):
            pool = nn.MaxPool2d(layer.kernel, layer.stride, pad, ceil_mode=layer.ceil_mode)
        else:
            pool = nn.AvgPool2d(
                layer.kernel,
                layer.stride,
                pad,
                ceil_mode=layer.ceil_mode,
                count_include_pad=layer.count_include_pad,
            )
        if same:
            stride = layer.stride or layer.kernel
            value = -math.inf if isinstance(layer, MaxPool2D) else 0.0
            return _Padded(pool, layer.kernel, stride, (1, 1), value)
        return pool
    if isinstance(layer, GlobalAvgPool2D):
        return nn.AdaptiveAvgPool2d(1)
    if isinstance(layer, ReLU):
        return nn.ReLU()
    if isinstance(layer, BatchNorm2D):
        return nn.BatchNorm2d(x.shape[1], eps=layer.eps)
    if isinstance(layer, Flatten):
        return nn.Flatten()
    if isinstance(layer, Dense):
        return nn.Linear(x.shape[-1], layer.units, bias=layer.bias)
    if isinstance(layer, Dropout):
        return nn.Dropout(layer.rate)
    raise AssertionError(f"no torch equivalent for {layer!r}")


class _Padded(nn.Module):  # type: ignore[misc,name-defined]
    """Explicit (possibly asymmetric) "same" padding, then the wrapped layer with none."""

    def __init__(self, inner: Any, kernel: tuple[int, int], stride: tuple[int, int],
                 dilation: tuple[int, int], value: float) -> None:  # fmt: skip
        super().__init__()
        self.inner = inner
        self.geometry = (kernel, stride, dilation, value)

    def forward(self, x: Any) -> Any:
        return self.inner(_pad_same(x, *self.geometry))


def counts(module: Any) -> dict[str, int]:
    params = dict(module.named_parameters())
    buffers = dict(module.named_buffers())
    return {
        "weights": sum(p.numel() for n, p in params.items() if n.endswith("weight")),
        "biases": sum(p.numel() for n, p in params.items() if n.endswith("bias")),
        "trainable": sum(p.numel() for p in params.values() if p.requires_grad),
        "non_trainable": sum(
            b.numel() for n, b in buffers.items() if n.endswith(("running_mean", "running_var"))
        ),
    }


def random_layer(rng: random.Random) -> Layer:
    def size(low: int, high: int) -> int | tuple[int, int]:
        if rng.random() < 0.7:
            return rng.randint(low, high)
        return (rng.randint(low, high), rng.randint(low, high))

    def padding() -> Any:
        return rng.choice(["same", "valid", size(0, 3)])

    kind = rng.choice(
        ["conv"] * 5 + ["max", "avg", "relu", "bn", "global", "flatten", "dense", "dropout"]
    )
    if kind == "conv":
        return Conv2D(
            filters=rng.choice([1, 2, 4, 6, 8, 12]),
            kernel=size(1, 5),
            stride=size(1, 3),
            padding=padding(),
            dilation=size(1, 2) if rng.random() < 0.3 else 1,
            groups=rng.choice([1, 1, 1, 2, 3, 4]),
            bias=rng.random() < 0.7,
        )
    if kind in ("max", "avg"):
        kernel = size(1, 4)
        k = kernel if isinstance(kernel, tuple) else (kernel, kernel)
        pad = rng.choice(["same", "valid", 0, 1, (k[0] // 2, k[1] // 2), 2])
        common: dict[str, Any] = {
            "kernel": kernel,
            "stride": rng.choice([None, size(1, 3)]),
            "padding": pad,
            "ceil_mode": rng.random() < 0.4,
        }
        if kind == "max":
            return MaxPool2D(**common)
        return AvgPool2D(**common, count_include_pad=rng.random() < 0.5)
    simple: dict[str, Layer] = {
        "relu": ReLU(),
        "bn": BatchNorm2D(eps=rng.choice([1e-5, 1e-3])),
        "global": GlobalAvgPool2D(),
        "flatten": Flatten(),
        "dropout": Dropout(rate=rng.choice([0.0, 0.5])),
    }
    if kind in simple:
        return simple[kind]
    return Dense(units=rng.randint(1, 20), bias=rng.random() < 0.7)


def random_design(seed: int) -> Design:
    """Mostly valid designs (grown layer by layer), ending in an error now and then."""
    rng = random.Random(seed)
    design = Design(
        InputSpec(rng.randint(1, 40), rng.randint(1, 40), rng.choice([1, 2, 3, 4, 6, 8]))
    )
    for _ in range(rng.randint(1, 10)):
        for _attempt in range(20):
            candidate = design.append(random_layer(rng))
            if analyse(candidate).ok:
                design = candidate
                break
            if rng.random() < 0.08:
                return candidate  # keep a failing layer: torch must fail there too
    return design


def check_against_torch(design: Design) -> None:
    analysis = analyse(design)
    c, h, w = design.input.shape
    x = torch.zeros(1, c, h, w)
    assert analysis.rows[0].output_shape == (c, h, w)
    with torch.no_grad():
        for index, layer in enumerate(design.layers):
            row = analysis.row_for_layer(index)
            if row.status is Status.ERROR:
                if isinstance(layer, Dense):
                    assert "Dense needs a flat vector" in row.message
                    return  # torch's Linear would apply to the last axis instead of failing
                if isinstance(layer, GlobalAvgPool2D):
                    assert "flat vector" in row.message
                    return  # torch's adaptive pool would read a (1, N) vector as a 1×N image
                with pytest.raises((RuntimeError, ValueError, IndexError)):
                    torch_layer(layer, x)(x)
                return
            assert row.status is Status.OK
            module = torch_layer(layer, x).eval()
            y = module(x)
            assert tuple(y.shape[1:]) == row.output_shape, (index, layer)
            got = counts(module)
            assert (row.weights, row.biases) == (got["weights"], got["biases"]), (index, layer)
            assert (row.trainable, row.non_trainable) == (got["trainable"], got["non_trainable"])
            if isinstance(layer, Conv2D | Dense):
                weight = module.inner.weight if isinstance(module, _Padded) else module.weight
                per_output = weight[0].numel()  # (C_in/groups)·kh·kw, or the inputs of a unit
                assert row.macs == y.numel() * per_output, (index, layer)
            else:
                assert row.macs == 0
            x = y


@pytest.mark.parametrize("seed", range(200))
def test_random_designs_match_torch(seed: int) -> None:
    check_against_torch(random_design(seed))


def test_random_designs_cover_errors_and_every_layer_type() -> None:
    # The generator must exercise what the oracle is meant to check.
    designs = [random_design(seed) for seed in range(150)]
    errors = sum(1 for d in designs if not analyse(d).ok)
    assert errors >= 5
    types = {layer.type_name for d in designs for layer in d.layers}
    assert types == {
        "conv2d",
        "maxpool2d",
        "avgpool2d",
        "globalavgpool2d",
        "relu",
        "batchnorm2d",
        "flatten",
        "dense",
        "dropout",
    }
    same_strided = [
        layer
        for d in designs
        for layer in d.layers
        if isinstance(layer, Conv2D) and layer.padding == "same" and layer.stride != (1, 1)
    ]
    assert same_strided
    assert any(
        isinstance(layer, MaxPool2D | AvgPool2D) and layer.ceil_mode
        for d in designs
        for layer in d.layers
    )


@pytest.mark.parametrize("template", [t.id for t in list_templates() if t.id != "vgg16"])
def test_templates_match_torch(template: str) -> None:
    check_against_torch(load_template(template))


def test_vgg16_parameter_count_matches_torch() -> None:
    # Shapes of VGG-16 at 224×224 are checked by the template test above for the smaller nets;
    # here only the parameter count, without running the 15 G-MAC forward pass.
    design = load_template("vgg16")
    analysis = analyse(design)
    total = 0
    with torch.no_grad():
        for index, layer in enumerate(design.layers):
            # The input torch sees is built from the previous row's shape (cheap), but the
            # parameter count comes from torch's own modules.
            shape = analysis.rows[index].output_shape
            assert shape is not None
            x = torch.zeros(1, *shape)
            total += sum(p.numel() for p in torch_layer(layer, x).parameters())
    assert total == analysis.totals.params == 138_357_544
