"""Random designs against PyTorch: activations via torch.nn.functional, weights via load_state_dict.

PyTorch has no asymmetric "same" padding for strided convolutions or pooling, so the reference
pads explicitly (F.pad) with the TensorFlow split, as the design notes define it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convdesigner.core.analysis import analyse
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.engine.forward import run_design
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
    PaddingArg,
    ReLU,
)
from convdesigner.core.weights import default_weights, load_weights, save_weights

torch = pytest.importorskip("torch")
F = torch.nn.functional
nn = torch.nn

pytestmark = pytest.mark.oracle


def same_pads(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    out = math.ceil(size / s)
    total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def torch_layer(layer: Layer, x: Any, w: dict[str, Any], key: str) -> Any:
    if isinstance(layer, Conv2D):
        weight, bias = w[key + "weight"], w.get(key + "bias")
        if layer.padding == "same":
            top, bottom = same_pads(x.shape[2], layer.kernel[0], layer.stride[0], layer.dilation[0])
            left, right = same_pads(x.shape[3], layer.kernel[1], layer.stride[1], layer.dilation[1])
            x, padding = F.pad(x, (left, right, top, bottom)), (0, 0)
        else:
            padding = (0, 0) if layer.padding == "valid" else layer.padding
        return F.conv2d(x, weight, bias, layer.stride, padding, layer.dilation, layer.groups)
    if isinstance(layer, MaxPool2D | AvgPool2D):
        stride = layer.effective_stride
        if layer.padding == "same":
            top, bottom = same_pads(x.shape[2], layer.kernel[0], stride[0], 1)
            left, right = same_pads(x.shape[3], layer.kernel[1], stride[1], 1)
            if isinstance(layer, MaxPool2D):
                x = F.pad(x, (left, right, top, bottom), value=-math.inf)
                return F.max_pool2d(x, layer.kernel, stride)
            ones = torch.ones_like(x[:, :1])
            sums = F.avg_pool2d(F.pad(x, (left, right, top, bottom)), layer.kernel, stride)
            counts = F.avg_pool2d(F.pad(ones, (left, right, top, bottom)), layer.kernel, stride)
            return sums / counts  # TensorFlow's "same" averages only the real values
        padding = (0, 0) if layer.padding == "valid" else layer.padding
        if isinstance(layer, MaxPool2D):
            return F.max_pool2d(x, layer.kernel, stride, padding, ceil_mode=layer.ceil_mode)
        return F.avg_pool2d(
            x, layer.kernel, stride, padding, layer.ceil_mode, layer.count_include_pad
        )
    if isinstance(layer, GlobalAvgPool2D):
        return F.adaptive_avg_pool2d(x, 1)
    if isinstance(layer, ReLU):
        return F.relu(x)
    if isinstance(layer, BatchNorm2D):
        return F.batch_norm(
            x,
            w[key + "running_mean"],
            w[key + "running_var"],
            w[key + "weight"],
            w[key + "bias"],
            training=False,
            eps=layer.eps,
        )
    if isinstance(layer, Flatten):
        return torch.flatten(x, 1)
    if isinstance(layer, Dense):
        return F.linear(x, w[key + "weight"], w.get(key + "bias"))
    if isinstance(layer, Dropout):
        return F.dropout(x, layer.rate, training=False)
    raise AssertionError(layer)


# --------------------------------------------------------------------------- random designs

PADDINGS: st.SearchStrategy[PaddingArg] = st.one_of(
    st.sampled_from(["valid", "same"]), st.integers(0, 2)
)


@st.composite
def conv_layers(draw: st.DrawFn, channels: int) -> Conv2D:
    groups = draw(st.sampled_from([g for g in (1, 2, 3, channels) if channels % g == 0]))
    filters = groups * draw(st.integers(1, 3))
    return Conv2D(
        filters=filters,
        kernel=(draw(st.integers(1, 4)), draw(st.integers(1, 4))),
        stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        padding=draw(PADDINGS),
        dilation=(draw(st.integers(1, 2)), draw(st.integers(1, 2))),
        groups=groups,
        bias=draw(st.booleans()),
    )


@st.composite
def pool_layers(draw: st.DrawFn) -> Layer:
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding: PaddingArg = draw(
        st.one_of(
            st.sampled_from(["valid", "same"]),
            st.tuples(st.integers(0, kernel[0] // 2), st.integers(0, kernel[1] // 2)),
        )
    )
    ceil_mode = draw(st.booleans())
    if draw(st.booleans()):
        return MaxPool2D(kernel=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode)
    return AvgPool2D(
        kernel=kernel,
        stride=stride,
        padding=padding,
        ceil_mode=ceil_mode,
        count_include_pad=draw(st.booleans()),
    )


@st.composite
def designs(draw: st.DrawFn) -> Design:
    channels = draw(st.sampled_from([1, 2, 3, 4, 6]))
    spec = InputSpec(draw(st.integers(5, 17)), draw(st.integers(5, 17)), channels)
    layers: list[Layer] = []
    for _ in range(draw(st.integers(1, 5))):
        current = Design(spec, tuple(layers))
        rows = analyse(current).rows
        c = rows[-1].output_shape[0] if rows[-1].output_shape else channels
        kind = draw(st.sampled_from(["conv", "conv", "pool", "pool", "relu", "bn", "dropout"]))
        candidate: Layer
        if kind == "conv":
            candidate = draw(conv_layers(c))
        elif kind == "pool":
            candidate = draw(pool_layers())
        else:
            candidate = {"relu": ReLU, "bn": BatchNorm2D, "dropout": Dropout}[kind]()
        if analyse(Design(spec, (*layers, candidate))).ok:
            layers.append(candidate)
    if draw(st.booleans()):
        tail: tuple[Layer, ...] = (GlobalAvgPool2D(), Flatten(), Dense(units=3))
        if draw(st.booleans()):
            tail = (Flatten(), Dense(units=4), ReLU(), Dense(units=2, bias=False))
        if analyse(Design(spec, (*layers, *tail))).ok:
            layers.extend(tail)
    return Design(spec, tuple(layers))


def randomise(weights: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for key, value in weights.items():
        if key.endswith("num_batches_tracked"):
            out[key] = value
        elif key.endswith("running_var"):
            out[key] = rng.uniform(0.5, 2.0, value.shape).astype(np.float32)
        else:
            out[key] = rng.standard_normal(value.shape).astype(np.float32)
    return out


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(design=designs(), seed=st.integers(0, 1000))
def test_random_designs_match_torch_functional(design: Design, seed: int) -> None:
    image = np.random.default_rng(seed).uniform(-1, 1, design.input.shape).astype(np.float32)
    weights = randomise(default_weights(design, seed), seed)
    ours = run_design(design, image, weights)
    tw = {k: torch.from_numpy(np.asarray(v)) for k, v in weights.items()}
    x = torch.from_numpy(image)[None]
    with torch.inference_mode():
        for index, layer in enumerate(design.layers):
            x = torch_layer(layer, x, tw, f"{index}.")
            np.testing.assert_allclose(
                ours[index + 1], x[0].numpy(), rtol=1e-4, atol=1e-5, err_msg=f"layer {index}"
            )


# --------------------------------------------------------------------------- explicit cases


@pytest.mark.parametrize("stride", [2, 3])
@pytest.mark.parametrize("size", [(9, 10), (11, 7), (12, 12)])
def test_asymmetric_same_padding_at_stride_2_and_3(stride: int, size: tuple[int, int]) -> None:
    design = Design(
        InputSpec(size[0], size[1], 2),
        (
            Conv2D(filters=3, kernel=(4, 3), stride=stride, padding="same", dilation=(1, 2)),
            MaxPool2D(kernel=3, stride=stride, padding="same"),
            AvgPool2D(kernel=2, stride=stride, padding="same"),
        ),
    )
    if not analyse(design).ok:
        pytest.skip("too small for three strided layers")
    image = np.random.default_rng(1).uniform(-1, 1, design.input.shape).astype(np.float32)
    weights = randomise(default_weights(design), 1)
    ours = run_design(design, image, weights)
    tw = {k: torch.from_numpy(v) for k, v in weights.items()}
    x = torch.from_numpy(image)[None]
    for index, layer in enumerate(design.layers):
        x = torch_layer(layer, x, tw, f"{index}.")
        np.testing.assert_allclose(ours[index + 1], x[0].numpy(), rtol=1e-4, atol=1e-5)


def torch_sequential(design: Design) -> Any:
    modules: list[Any] = []
    shapes = [r.input_shape for r in analyse(design).rows[1:]]
    for layer, shape in zip(design.layers, shapes, strict=True):
        assert shape is not None
        if isinstance(layer, Conv2D):
            assert layer.padding != "same" or layer.stride == (1, 1)
            modules.append(
                nn.Conv2d(
                    shape[0], layer.filters, layer.kernel, layer.stride,
                    0 if layer.padding == "valid" else layer.padding,
                    layer.dilation, layer.groups, layer.bias,
                )
            )  # fmt: skip
        elif isinstance(layer, BatchNorm2D):
            modules.append(nn.BatchNorm2d(shape[0], eps=layer.eps))
        elif isinstance(layer, Dense):
            modules.append(nn.Linear(shape[0], layer.units, layer.bias))
        elif isinstance(layer, MaxPool2D):
            modules.append(nn.MaxPool2d(layer.kernel, layer.stride, layer.padding, ceil_mode=True))
        elif isinstance(layer, ReLU):
            modules.append(nn.ReLU())
        elif isinstance(layer, Flatten):
            modules.append(nn.Flatten())
        else:
            raise AssertionError(layer)
    return nn.Sequential(*modules).eval()


ROUND_TRIP = Design(
    InputSpec(20, 18, 3),
    (
        Conv2D(filters=8, kernel=3, padding="same"),
        BatchNorm2D(),
        ReLU(),
        MaxPool2D(kernel=3, stride=2, padding=1, ceil_mode=True),
        Conv2D(filters=8, kernel=3, groups=8, dilation=2, bias=False),
        Flatten(),
        Dense(units=5),
    ),
)


def test_weights_round_trip_through_load_state_dict(tmp_path: Any) -> None:
    """Our default weights load strictly into the torch model and give the same outputs; the
    torch model's state_dict saved as .npz loads back into the engine unchanged."""
    weights = randomise(default_weights(ROUND_TRIP, 3), 3)
    model = torch_sequential(ROUND_TRIP)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=True)
    image = np.random.default_rng(2).random(ROUND_TRIP.input.shape, dtype=np.float32)
    ours = run_design(ROUND_TRIP, image, weights)
    with torch.inference_mode():
        theirs = model(torch.from_numpy(image)[None])[0].numpy()
    np.testing.assert_allclose(ours[-1], theirs, rtol=1e-4, atol=1e-5)

    fresh = torch_sequential(ROUND_TRIP)  # torch's own initialisation
    path = tmp_path / "torch.npz"
    save_weights({k: v.numpy() for k, v in fresh.state_dict().items()}, path)
    loaded = load_weights(ROUND_TRIP, path)
    with torch.inference_mode():
        expected = fresh(torch.from_numpy(image)[None])[0].numpy()
    np.testing.assert_allclose(run_design(ROUND_TRIP, image, loaded)[-1], expected, rtol=1e-4,
                               atol=1e-5)  # fmt: skip
