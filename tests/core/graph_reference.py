"""An independent reading of version-2 design files: shapes, parameters and MACs of every node.

Written from the file format and PyTorch's documented size formulas, sharing no code with
convdesigner's analysis, so the graph templates are checked by something that did not build them
(and before the package itself reads graphs). It covers the layer types the templates use and
refuses anything else by name. Counts follow this project's convention: MACs are the multiplies
of convolutions and dense layers, no bias adds; batch norm has two trainable values per channel
(scale, shift) and two non-trainable ones (running mean, variance).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Shape = tuple[int, ...]

ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,100}")
MERGES = ("add", "concat", "multiply")

SETTINGS: dict[str, dict[str, object]] = {
    "conv2d": {
        "filters": None,
        "kernel": 3,
        "stride": 1,
        "padding": 0,
        "dilation": 1,
        "groups": 1,
        "bias": True,
    },
    "maxpool2d": {"kernel": 2, "stride": None, "padding": 0, "ceil_mode": False},
    "avgpool2d": {
        "kernel": 2,
        "stride": None,
        "padding": 0,
        "ceil_mode": False,
        "count_include_pad": True,
    },
    "globalavgpool2d": {},
    "relu": {},
    "relu6": {},
    "batchnorm2d": {"eps": 1e-5},
    "flatten": {},
    "dense": {"units": None, "bias": True},
    "dropout": {"rate": 0.5},
    "add": {},
    "concat": {},
    "multiply": {},
}
"""Each type's settings with their defaults (None: no default, the setting must be written)."""


class GraphFileError(ValueError):
    """The file breaks a rule of the format or a layer cannot take its input."""


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    inputs: tuple[str, ...]
    shape: Shape
    trainable: int = 0
    non_trainable: int = 0
    macs: int = 0
    params: dict[str, Shape] = field(default_factory=dict)
    """Weight key → array shape, as torch's state_dict has them."""


@dataclass(frozen=True)
class Graph:
    input_shape: Shape
    nodes: dict[str, Node]

    @property
    def trainable(self) -> int:
        return sum(n.trainable for n in self.nodes.values())

    @property
    def non_trainable(self) -> int:
        return sum(n.non_trainable for n in self.nodes.values())

    @property
    def macs(self) -> int:
        return sum(n.macs for n in self.nodes.values())

    def param_shapes(self) -> dict[str, Shape]:
        return {k: v for n in self.nodes.values() for k, v in n.params.items()}

    def outputs(self) -> list[str]:
        """Nodes whose output no other node uses, in file order."""
        used = {i for n in self.nodes.values() for i in n.inputs}
        return [node_id for node_id in self.nodes if node_id not in used]


def _pair(value: object, where: str) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return value, value
    if isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value):
        return value[0], value[1]
    if value == "valid":
        return 0, 0
    raise GraphFileError(f"{where}: expected a number, a [h, w] pair or 'valid', got {value!r}")


def conv_size(n: int, k: int, s: int, p: int, d: int) -> int:
    """torch.nn.Conv2d's output size along one axis."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def pool_size(n: int, k: int, s: int, p: int, ceil_mode: bool) -> int:
    """torch's pooling_output_shape: with ceil_mode the last window may start inside the right
    padding or hang over the edge, but not start beyond the input (then it is dropped)."""
    out = (n + 2 * p - k + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _spatial(node_id: str, shape: Shape) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise GraphFileError(f"{node_id}: needs C×H×W maps, got {shape}")
    return shape[0], shape[1], shape[2]


def _layer(node_id: str, kind: str, s: Mapping[str, Any], shapes: list[Shape]) -> Node:
    if kind in MERGES:
        return _merge(node_id, kind, shapes)
    if len(shapes) != 1:
        raise GraphFileError(f"{node_id}: {kind} takes one input, got {len(shapes)}")
    inputs_shape = shapes[0]
    params: dict[str, Shape]
    if kind == "conv2d":
        c, h, w = _spatial(node_id, inputs_shape)
        kh, kw = _pair(s["kernel"], f"{node_id}.kernel")
        sh, sw = _pair(s["stride"], f"{node_id}.stride")
        ph, pw = _pair(s["padding"], f"{node_id}.padding")
        dh, dw = _pair(s["dilation"], f"{node_id}.dilation")
        filters, groups = s["filters"], s["groups"]
        if c % groups or filters % groups:
            raise GraphFileError(f"{node_id}: groups {groups} must divide {c} and {filters}")
        oh, ow = conv_size(h, kh, sh, ph, dh), conv_size(w, kw, sw, pw, dw)
        if oh < 1 or ow < 1:
            raise GraphFileError(f"{node_id}: the kernel does not fit the {h}×{w} input")
        params = {f"{node_id}.weight": (filters, c // groups, kh, kw)}
        if s["bias"]:
            params[f"{node_id}.bias"] = (filters,)
        macs = filters * oh * ow * (c // groups) * kh * kw
        trainable = sum(_count(p) for p in params.values())
        return Node(node_id, kind, (), (filters, oh, ow), trainable, 0, macs, params)
    if kind in ("maxpool2d", "avgpool2d"):
        c, h, w = _spatial(node_id, inputs_shape)
        kh, kw = _pair(s["kernel"], f"{node_id}.kernel")
        sh, sw = _pair(s["kernel"] if s["stride"] is None else s["stride"], f"{node_id}.stride")
        ph, pw = _pair(s["padding"], f"{node_id}.padding")
        if 2 * ph > kh or 2 * pw > kw:
            raise GraphFileError(f"{node_id}: padding must be at most half the kernel")
        oh = pool_size(h, kh, sh, ph, s["ceil_mode"])
        ow = pool_size(w, kw, sw, pw, s["ceil_mode"])
        if oh < 1 or ow < 1:
            raise GraphFileError(f"{node_id}: the window does not fit the {h}×{w} input")
        return Node(node_id, kind, (), (c, oh, ow))
    if kind == "globalavgpool2d":
        c, _, _ = _spatial(node_id, inputs_shape)
        return Node(node_id, kind, (), (c, 1, 1))
    if kind == "batchnorm2d":
        c, _, _ = _spatial(node_id, inputs_shape)
        params = {f"{node_id}.{k}": (c,) for k in ("weight", "bias", "running_mean", "running_var")}
        params[f"{node_id}.num_batches_tracked"] = ()
        return Node(node_id, kind, (), inputs_shape, 2 * c, 2 * c, 0, params)
    if kind == "flatten":
        return Node(node_id, kind, (), (_count(inputs_shape),))
    if kind == "dense":
        if len(inputs_shape) != 1:
            raise GraphFileError(f"{node_id}: dense needs a vector, got {inputs_shape}")
        units, n_in = s["units"], inputs_shape[0]
        params = {f"{node_id}.weight": (units, n_in)}
        if s["bias"]:
            params[f"{node_id}.bias"] = (units,)
        trainable = sum(_count(p) for p in params.values())
        return Node(node_id, kind, (), (units,), trainable, 0, n_in * units, params)
    if kind in ("relu", "relu6", "dropout"):
        return Node(node_id, kind, (), inputs_shape)
    raise GraphFileError(f"{node_id}: type {kind!r} is not covered by this reference")


def _merge(node_id: str, kind: str, shapes: list[Shape]) -> Node:
    if len(shapes) < 2:
        raise GraphFileError(f"{node_id}: {kind} needs two or more inputs, got {len(shapes)}")
    if kind == "concat":
        spatial = {shape[1:] for shape in shapes}
        if len(spatial) != 1 or any(len(shape) != 3 for shape in shapes):
            raise GraphFileError(f"{node_id}: concat needs equal map sizes, got {shapes}")
        return Node(node_id, kind, (), (sum(shape[0] for shape in shapes), *shapes[0][1:]))
    if kind == "add" and len(set(shapes)) != 1:
        raise GraphFileError(f"{node_id}: add needs equal shapes, got {shapes}")
    biggest = max(shapes, key=_count)
    for shape in shapes:
        if shape != biggest and shape != (biggest[0], 1, 1):
            raise GraphFileError(f"{node_id}: multiply cannot broadcast {shape} to {biggest}")
    return Node(node_id, kind, (), biggest)


def _count(shape: Shape) -> int:
    total = 1
    for size in shape:
        total *= size
    return total


def read_graph(data: Mapping[str, Any]) -> Graph:
    """Every node's shape and counts, or GraphFileError naming the first broken rule."""
    if data.get("format") != "convdesigner-design" or data.get("version") != 2:
        raise GraphFileError("not a version-2 convdesigner design")
    spec = data["input"]
    input_shape: Shape = (spec["channels"], spec["height"], spec["width"])
    shapes: dict[str, Shape] = {"input": input_shape}
    nodes: dict[str, Node] = {}
    previous = "input"
    layers: Sequence[Mapping[str, Any]] = data["layers"]
    for index, entry in enumerate(layers):
        node_id = entry.get("id", str(index))
        if not isinstance(node_id, str) or not ID_PATTERN.fullmatch(node_id):
            raise GraphFileError(f"layers[{index}]: bad id {node_id!r}")
        if node_id == "input" or node_id in nodes:
            raise GraphFileError(f"layers[{index}]: id {node_id!r} is reserved or repeated")
        kind = entry.get("type")
        if kind not in SETTINGS:
            raise GraphFileError(f"{node_id}: unknown type {kind!r}")
        known = SETTINGS[kind]
        unknown = set(entry) - {"id", "type", "inputs"} - set(known)
        if unknown:
            raise GraphFileError(f"{node_id}: unknown settings {sorted(unknown)} for {kind}")
        settings = {**known, **{k: v for k, v in entry.items() if k in known}}
        missing = [k for k, v in settings.items() if v is None and k != "stride"]
        if missing:
            raise GraphFileError(f"{node_id}: {kind} needs {missing}")
        sources = tuple(entry.get("inputs", [previous]))
        for source in sources:
            if source not in shapes:
                raise GraphFileError(f"{node_id}: input {source!r} is not an entry above it")
        node = _layer(node_id, kind, settings, [shapes[source] for source in sources])
        nodes[node_id] = Node(
            node.id,
            node.type,
            sources,
            node.shape,
            node.trainable,
            node.non_trainable,
            node.macs,
            node.params,
        )
        shapes[node_id] = node.shape
        previous = node_id
    return Graph(input_shape, nodes)
