"""Every op of the registry as a ``torch.nn`` module: the independent side of the torch oracles.

:data:`TORCH_OPS` has one entry per type name of :data:`convdesigner.core.ops.REGISTRY` (a test
fails when an op has none). A module is built from the layer's settings and from the shapes
torch itself produced for its inputs, never from our analysis, and its parameters have the names
ours have (``weight``, ``bias``, ``running_mean``...), so a :class:`TorchGraph` whose modules sit
at attribute paths equal to the node ids has exactly our ``{id}.weight`` keys in its
``state_dict``.

Where torch has no such layer, it is built from what torch has, following the design notes:
TensorFlow's "same" padding at a stride above 1 (asymmetric, the larger half after) is an explicit
``F.pad`` before the padding-free torch layer; a "same" average pool divides by the real values
only. The merges are three small modules (sum, ``torch.cat`` on channels, a broadcasting
product).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from convdesigner.core.design import INPUT_ID, Design
from convdesigner.core.layers import (
    GELU,
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    ConvTranspose2D,
    Dense,
    Dropout,
    Layer,
    LeakyReLU,
    MaxPool2D,
    Upsample,
    ZeroPad2D,
)

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

Shape = tuple[int, ...]
"""A tensor's shape without the batch axis: (C, H, W) or (N,)."""


def tf_same(n: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """TensorFlow's "same" padding (before, after) along one axis, from its documentation."""
    out = math.ceil(n / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def _same_pads(
    x: Any, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> Any:
    top, bottom = tf_same(x.shape[2], kernel[0], stride[0], dilation[0])
    left, right = tf_same(x.shape[3], kernel[1], stride[1], dilation[1])
    return (left, right, top, bottom)  # F.pad's order: last axis first


class SameConv2d(nn.Conv2d):  # type: ignore[misc,name-defined]
    """A Conv2d with TensorFlow's "same" padding at any stride (its parameters are the
    Conv2d's own, so the state_dict keys stay ``weight`` and ``bias``)."""

    def forward(self, x: Any) -> Any:
        x = F.pad(x, _same_pads(x, self.kernel_size, self.stride, self.dilation))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class SameMaxPool2d(nn.Module):  # type: ignore[misc,name-defined]
    def __init__(self, kernel: tuple[int, int], stride: tuple[int, int]) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: Any) -> Any:
        x = F.pad(x, _same_pads(x, self.kernel, self.stride, (1, 1)), value=-math.inf)
        return F.max_pool2d(x, self.kernel, self.stride)


class SameAvgPool2d(nn.Module):  # type: ignore[misc,name-defined]
    """TensorFlow's "same" average: padded positions are left out of each window's count."""

    def __init__(self, kernel: tuple[int, int], stride: tuple[int, int]) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: Any) -> Any:
        pads = _same_pads(x, self.kernel, self.stride, (1, 1))
        sums = F.avg_pool2d(F.pad(x, pads), self.kernel, self.stride)
        counts = F.avg_pool2d(F.pad(torch.ones_like(x[:, :1]), pads), self.kernel, self.stride)
        return sums / counts


class Add(nn.Module):  # type: ignore[misc,name-defined]
    def forward(self, *xs: Any) -> Any:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Concat(nn.Module):  # type: ignore[misc,name-defined]
    def forward(self, *xs: Any) -> Any:
        return torch.cat(xs, dim=1)


class Multiply(nn.Module):  # type: ignore[misc,name-defined]
    """Value by value; a (C, 1, 1) input scales the other's map (squeeze-and-excitation)."""

    def forward(self, a: Any, b: Any) -> Any:
        if a.shape != b.shape and not (
            a.dim() == b.dim() >= 3 and a.shape[1] == b.shape[1]
            and (all(v == 1 for v in a.shape[2:]) or all(v == 1 for v in b.shape[2:]))
        ):  # fmt: skip
            # torch would also broadcast (1, W) against (H, W) or 1 channel against C; the op
            # is the SE product only, so anything else must fail here as the analysis says.
            raise RuntimeError(f"multiply of {tuple(a.shape)} and {tuple(b.shape)}")
        return a * b


def _conv(layer: Conv2D, shapes: Sequence[Shape]) -> Any:
    c_in = shapes[0][0]
    args = (c_in, layer.filters, layer.kernel)
    kw: dict[str, Any] = {
        "stride": layer.stride,
        "dilation": layer.dilation,
        "groups": layer.groups,
        "bias": layer.bias,
    }
    if layer.padding == "same" and layer.stride != (1, 1):
        return SameConv2d(*args, padding=0, **kw)
    # At stride 1 torch has "same" itself (the odd padding value after, as in TensorFlow).
    padding = 0 if layer.padding == "valid" else layer.padding
    return nn.Conv2d(*args, padding=padding, **kw)


def _conv_transpose(layer: ConvTranspose2D, shapes: Sequence[Shape]) -> Any:
    return nn.ConvTranspose2d(
        shapes[0][0],
        layer.filters,
        layer.kernel,
        stride=layer.stride,
        padding=layer.padding,
        output_padding=layer.output_padding,
        groups=layer.groups,
        bias=layer.bias,
        dilation=layer.dilation,
    )


def _max_pool(layer: MaxPool2D, shapes: Sequence[Shape]) -> Any:
    if layer.padding == "same":
        return SameMaxPool2d(layer.kernel, layer.effective_stride)
    padding = 0 if layer.padding == "valid" else layer.padding
    return nn.MaxPool2d(layer.kernel, layer.stride, padding, ceil_mode=layer.ceil_mode)


def _avg_pool(layer: AvgPool2D, shapes: Sequence[Shape]) -> Any:
    if layer.padding == "same":
        return SameAvgPool2d(layer.kernel, layer.effective_stride)
    padding = 0 if layer.padding == "valid" else layer.padding
    return nn.AvgPool2d(
        layer.kernel,
        layer.stride,
        padding,
        ceil_mode=layer.ceil_mode,
        count_include_pad=layer.count_include_pad,
    )


def _zero_pad(layer: ZeroPad2D, shapes: Sequence[Shape]) -> Any:
    (top, bottom), (left, right) = layer.padding
    return nn.ZeroPad2d((left, right, top, bottom))


def _upsample(layer: Upsample, shapes: Sequence[Shape]) -> Any:
    return nn.Upsample(
        size=layer.size,
        scale_factor=layer.scale,
        mode=layer.mode,
        align_corners=layer.align_corners if layer.mode == "bilinear" else None,
    )


Builder = Callable[[Any, Sequence[Shape]], Any]
Counter = Callable[[Any, Sequence[Any], Any], int]


def _no_macs(module: Any, inputs: Sequence[Any], output: Any) -> int:
    return 0


def _conv_macs(module: Any, inputs: Sequence[Any], output: Any) -> int:
    # Each output value is one dot product over a filter: (C_in/groups)·kh·kw multiplies.
    return int(output.numel() * module.weight[0].numel())


def _conv_transpose_macs(module: Any, inputs: Sequence[Any], output: Any) -> int:
    # Each input value is multiplied into a (C_out/groups)·kh·kw patch (torch's weight[c_in]).
    return int(inputs[0].numel() * module.weight[0].numel())


def _dense_macs(module: Any, inputs: Sequence[Any], output: Any) -> int:
    return int(module.weight.numel())


@dataclass(frozen=True)
class TorchOp:
    """How torch does one op: a module from the layer and its input shapes, and the MACs as
    this project counts them, read off torch's tensors (weights and outputs)."""

    build: Builder
    macs: Counter = _no_macs


def _plain(make: Callable[[], Any]) -> TorchOp:
    return TorchOp(lambda layer, shapes: make())


TORCH_OPS: dict[str, TorchOp] = {
    "conv2d": TorchOp(_conv, _conv_macs),
    "convtranspose2d": TorchOp(_conv_transpose, _conv_transpose_macs),
    "maxpool2d": TorchOp(_max_pool),
    "avgpool2d": TorchOp(_avg_pool),
    "globalavgpool2d": _plain(lambda: nn.AdaptiveAvgPool2d(1)),
    "relu": _plain(nn.ReLU),
    "relu6": _plain(nn.ReLU6),
    "leakyrelu": TorchOp(lambda layer, shapes: _leaky(layer)),
    "sigmoid": _plain(nn.Sigmoid),
    "tanh": _plain(nn.Tanh),
    "silu": _plain(nn.SiLU),
    "hardswish": _plain(nn.Hardswish),
    "gelu": TorchOp(lambda layer, shapes: _gelu(layer)),
    "softmax": _plain(lambda: nn.Softmax(dim=1)),
    "batchnorm2d": TorchOp(lambda layer, shapes: _batchnorm(layer, shapes)),
    "flatten": _plain(nn.Flatten),
    "dense": TorchOp(lambda layer, shapes: _dense(layer, shapes), _dense_macs),
    "dropout": TorchOp(lambda layer, shapes: _dropout(layer)),
    "zeropad2d": TorchOp(_zero_pad),
    "upsample": TorchOp(_upsample),
    "identity": _plain(nn.Identity),
    "add": _plain(Add),
    "concat": _plain(Concat),
    "multiply": _plain(Multiply),
}
"""The torch equivalent of every op, by the registry's type name."""


def _leaky(layer: LeakyReLU) -> Any:
    return nn.LeakyReLU(layer.negative_slope)


def _gelu(layer: GELU) -> Any:
    return nn.GELU(approximate=layer.approximate)


def _batchnorm(layer: BatchNorm2D, shapes: Sequence[Shape]) -> Any:
    return nn.BatchNorm2d(shapes[0][0], eps=layer.eps)


def _dense(layer: Dense, shapes: Sequence[Shape]) -> Any:
    return nn.Linear(shapes[0][-1], layer.units, bias=layer.bias)


def _dropout(layer: Dropout) -> Any:
    return nn.Dropout(layer.rate)


def torch_module(layer: Layer, shapes: Sequence[Shape]) -> Any:
    """The torch module doing what ``layer`` does to inputs of ``shapes`` (eval mode)."""
    return TORCH_OPS[layer.type_name].build(layer, shapes).eval()


def counts(module: Any) -> dict[str, int]:
    """Parameter counts of one module as the layer table splits them."""
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


# --------------------------------------------------------------------------- graphs


def _attach(root: Any, path: str, module: Any) -> None:
    """Put ``module`` at attribute path ``path`` ("layer1.0.conv1"), making containers."""
    *parents, name = path.split(".")
    owner = root
    for part in parents:
        child = owner._modules.get(part)
        if child is None:
            child = nn.Module()
            owner.add_module(part, child)
        owner = child
    owner.add_module(name, module)


class TorchGraph(nn.Module):  # type: ignore[misc,name-defined]
    """A design as one torch module: node ``id``'s module at attribute path ``id``, run in the
    design's order, each reading its inputs by id."""

    def __init__(self, design: Design, modules: Mapping[str, Any]) -> None:
        super().__init__()
        self.steps = list(zip(design.ids, design.resolved_inputs, strict=True))
        self.by_id = dict(modules)
        for node_id, module in modules.items():
            _attach(self, node_id, module)

    def run(self, x: Any) -> dict[str, Any]:
        """Every node's output by id (``"input"`` first), batch of one."""
        outputs = {INPUT_ID: x}
        for node_id, sources in self.steps:
            outputs[node_id] = self.by_id[node_id](*(outputs[s] for s in sources))
        return outputs

    def forward(self, x: Any) -> Any:
        return self.run(x)


def build_graph(design: Design, seed: int = 0, device: str = "cpu") -> TorchGraph:
    """The design as a :class:`TorchGraph` with torch's own initialisation (``seed``), batch
    norm statistics and affine parameters drawn too (torch starts them at the identity, which
    would hide a mistake in their use). Each module's input shapes are those torch produces.

    On the ``"meta"`` device nothing is allocated or computed, only shapes: torch's own shape
    rules for a whole ResNet-50 in milliseconds, where drawing its weights takes seconds."""
    torch.manual_seed(seed)
    x = torch.zeros(1, *design.input.shape, device=device)
    values = {INPUT_ID: x}
    modules: dict[str, Any] = {}
    with torch.no_grad(), torch.device(device):
        for node_id, sources in zip(design.ids, design.resolved_inputs, strict=True):
            node = design.node(node_id)
            inputs = [values[s] for s in sources]
            module = torch_module(node.op, [tuple(t.shape[1:]) for t in inputs])
            if isinstance(module, nn.BatchNorm2d):
                c = module.num_features
                module.running_mean.copy_(torch.randn(c) * 0.5)
                module.running_var.copy_(torch.rand(c) * 1.5 + 0.5)
                module.weight.copy_(torch.randn(c))
                module.bias.copy_(torch.randn(c))
            modules[node_id] = module
            values[node_id] = module(*inputs)
    graph = TorchGraph(design, modules)
    graph.eval()
    return graph


def numpy_state(graph: Any) -> dict[str, np.ndarray]:
    """The torch graph's state_dict as the NumPy arrays our weights files hold."""
    return {k: v.detach().numpy() for k, v in graph.state_dict().items()}
