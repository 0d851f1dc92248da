"""The graph templates (ResNet-18/50, GoogLeNet, MobileNet v2, DenseNet-121) against issue 11's
totals and against torchvision itself.

Three independent witnesses: the generator script's output must be what is committed; a small
reference reader of the file format (tests/core/graph_reference.py) must find the published
trainable-parameter and MAC totals; torchvision's models (weights=None) must have exactly the
weight keys and shapes the files imply, the same totals, the same output shape at every node that
is a torchvision module, and (running the file's graph with torch operations and the model's own
weights) the same logits, which catches wiring that shapes alone cannot (a shortcut from the wrong
block, concatenation out of order). The public-API tests at the end read the files through
convdesigner itself.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import convdesigner
from tests.core.graph_reference import SETTINGS, Graph, GraphFileError, pool_size, read_graph
from tests.oracles.torchvision_stub import import_torchvision

DESIGNS = Path(__file__).resolve().parents[2] / "resources" / "designs"
SCRIPT = DESIGNS / "make_graph_templates.py"

# File → (torchvision builder, trainable parameters, MACs), the totals from issue 11.
TEMPLATES: dict[str, tuple[str, int, int]] = {
    "resnet18": ("resnet18", 11_689_512, 1_814_073_344),
    "resnet50": ("resnet50", 25_557_032, 4_089_184_256),
    "googlenet": ("googlenet", 6_624_904, 1_498_376_192),
    "mobilenet-v2": ("mobilenet_v2", 3_504_872, 300_774_272),
    "densenet121": ("densenet121", 7_978_856, 2_834_161_664),
}
NAMES = list(TEMPLATES)


def _path(name: str) -> Path:
    return DESIGNS / f"{name}.json"


@cache
def _data(name: str) -> Any:
    return json.loads(_path(name).read_text(encoding="utf-8"))


@cache
def _graph(name: str) -> Graph:
    return read_graph(_data(name))


# ------------------------------------------------------------------ the files and the generator


def _script_texts() -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("make_graph_templates", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    texts: Callable[[], dict[str, str]] = module.template_texts
    return texts()


def test_committed_files_are_what_the_script_writes() -> None:
    texts = _script_texts()
    assert sorted(texts) == sorted(f"{name}.json" for name in NAMES)
    for file_name, text in texts.items():
        committed = (DESIGNS / file_name).read_text(encoding="utf-8")
        assert committed == text, f"{file_name} is stale: rerun {SCRIPT.name}"


@pytest.mark.parametrize("name", NAMES)
def test_file_layout_matches_the_other_templates(name: str) -> None:
    text = _path(name).read_text(encoding="utf-8")
    data = _data(name)
    assert data["format"] == "convdesigner-design"
    assert data["version"] == 2
    assert data["input"] == {"height": 224, "width": 224, "channels": 3}
    assert list(data) == ["format", "version", "name", "description", "input", "layers"]
    # One layer per line, as convdesigner saves designs.
    layer_lines = [line for line in text.splitlines() if line.startswith('    {"id": ')]
    assert len(layer_lines) == len(data["layers"])


@pytest.mark.parametrize("name", NAMES)
def test_entries_are_compact_and_named_by_id_only(name: str) -> None:
    previous = "input"
    for entry in _data(name)["layers"]:
        assert "name" not in entry, entry["id"]
        assert list(entry)[:2] == ["id", "type"]
        defaults = SETTINGS[entry["type"]]
        for key, value in entry.items():
            if key in ("filters", "units", "kernel"):
                continue  # written even when default: what a reader looks for first
            assert key not in defaults or defaults[key] != value, f"{entry['id']}.{key} is default"
        if entry["type"] in ("add", "concat", "multiply"):
            assert len(entry["inputs"]) >= 2
        else:
            assert entry.get("inputs") != [previous], f"{entry['id']}: inputs could be left out"
        previous = entry["id"]


@pytest.mark.parametrize("name", NAMES)
def test_description_states_the_totals_and_how_weights_load(name: str) -> None:
    trainable = TEMPLATES[name][1]
    description = _data(name)["description"]
    assert f"{trainable:,} trainable parameters" in description
    assert re.search(r"about [0-9.]+ [GM] MACs", description)
    assert "np.savez" in description
    assert len(description) <= 5000
    # The derived ids it gives as examples are real ones.
    examples = re.search(r"named after where they happen \(([^)]*)\)", description)
    assert examples is not None
    ids = {entry["id"] for entry in _data(name)["layers"]}
    for example in examples.group(1).split(", "):
        assert example in ids, example


# -------------------------------------------------------------- the reference reader's totals


@pytest.mark.parametrize("name", NAMES)
def test_reference_totals(name: str) -> None:
    _, trainable, macs = TEMPLATES[name]
    graph = _graph(name)
    assert graph.trainable == trainable
    assert graph.macs == macs
    assert graph.outputs() == [list(graph.nodes)[-1]]  # a single classifier output
    assert graph.nodes[list(graph.nodes)[-1]].shape == (1000,)


def test_reference_rejects_what_the_loader_will() -> None:
    base = {
        "format": "convdesigner-design",
        "version": 2,
        "input": {"height": 8, "width": 8, "channels": 3},
    }
    bad_layers = [
        [{"id": "input", "type": "relu"}],
        [{"id": "a", "type": "relu"}, {"id": "a", "type": "relu"}],
        [{"id": "a", "type": "relu", "inputs": ["b"]}, {"id": "b", "type": "relu"}],
        [{"id": "a b", "type": "relu"}],
        [
            {"id": "a", "type": "conv2d", "filters": 4, "kernel": 3},
            {"id": "b", "type": "add", "inputs": ["a", "input"]},
        ],
        [
            {"id": "a", "type": "maxpool2d", "kernel": 3, "stride": 2, "ceil_mode": True},
            {"id": "b", "type": "concat", "inputs": ["a", "input"]},
        ],
        [{"id": "a", "type": "relu", "name": "x"}],
    ]
    for layers in bad_layers:
        with pytest.raises(GraphFileError):
            read_graph({**base, "layers": layers})


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "expected"),
    [
        (2, 3, 2, 0, 1),  # issue 11: the window hangs over the edge of a 2×2 map, output 1×1
        (112, 3, 2, 0, 56),  # GoogLeNet's maxpool1 rounds up where floor gives 55
        (14, 2, 2, 0, 7),
        (5, 2, 2, 1, 3),  # a 4th window would start in the right padding only: dropped
    ],
)
def test_ceil_mode_pool_sizes(
    size: int, kernel: int, stride: int, padding: int, expected: int
) -> None:
    assert pool_size(size, kernel, stride, padding, ceil_mode=True) == expected


# ------------------------------------------------------------------------- torchvision oracle


@pytest.fixture(scope="module")
def torchvision() -> Any:
    return import_torchvision()


def _model(torchvision: Any, name: str) -> Any:
    builder = getattr(torchvision.models, TEMPLATES[name][0])
    extra = {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}
    model = builder(weights=None, **extra)
    return model.eval()


@pytest.mark.oracle
@pytest.mark.parametrize("name", NAMES)
def test_weight_keys_and_shapes_match_torchvision(torchvision: Any, name: str) -> None:
    state = _model(torchvision, name).state_dict()
    expected = {key: tuple(value.shape) for key, value in state.items()}
    assert _graph(name).param_shapes() == expected


def _run_with_hooks(torch: Any, model: Any) -> tuple[Any, dict[str, list[tuple[int, ...]]], int]:
    """The model's logits, every module's output shapes (one per call) and its MACs."""
    shapes: dict[str, list[tuple[int, ...]]] = {}
    macs = 0

    def hook(name: str) -> Callable[[Any, Any, Any], None]:
        def record(module: Any, args: Any, out: Any) -> None:
            nonlocal macs
            shapes.setdefault(name, []).append(tuple(out.shape[1:]))
            if isinstance(module, torch.nn.Conv2d):
                kh, kw = module.kernel_size
                macs += out.numel() * (module.in_channels // module.groups) * kh * kw
            elif isinstance(module, torch.nn.Linear):
                macs += module.in_features * module.out_features

        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if n]
    try:
        with torch.no_grad():
            logits = model(torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0)))
    finally:
        for handle in handles:
            handle.remove()
    return logits, shapes, macs


def _randomise_batchnorm(torch: Any, model: Any) -> None:
    """Running statistics away from 0 and 1, so a misplaced batch norm changes the logits."""
    generator = torch.Generator().manual_seed(1)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            c = module.num_features
            module.running_mean.copy_(torch.randn(c, generator=generator) * 0.1)
            module.running_var.copy_(torch.rand(c, generator=generator) + 0.5)
            module.weight.data.copy_(torch.rand(c, generator=generator) + 0.5)
            module.bias.data.copy_(torch.randn(c, generator=generator) * 0.1)


def _run_file(torch: Any, data: Any, state: dict[str, Any], x: Any) -> Iterator[tuple[str, Any]]:
    """Each node's output, computing the file's graph with torch's functional operations."""
    f = torch.nn.functional
    values: dict[str, Any] = {"input": x}
    previous = "input"
    for entry in data["layers"]:
        node_id, kind = entry["id"], entry["type"]
        s = {**SETTINGS[kind], **entry}
        args = [values[i] for i in entry.get("inputs", [previous])]
        if kind == "conv2d":
            y = f.conv2d(
                args[0],
                state[f"{node_id}.weight"],
                state.get(f"{node_id}.bias"),
                s["stride"],
                s["padding"],
                s["dilation"],
                s["groups"],
            )
        elif kind == "batchnorm2d":
            y = f.batch_norm(
                args[0],
                state[f"{node_id}.running_mean"],
                state[f"{node_id}.running_var"],
                state[f"{node_id}.weight"],
                state[f"{node_id}.bias"],
                False,
                0.0,
                s["eps"],
            )
        elif kind in ("maxpool2d", "avgpool2d"):
            stride = s["kernel"] if s["stride"] is None else s["stride"]
            if kind == "maxpool2d":
                y = f.max_pool2d(
                    args[0], s["kernel"], stride, s["padding"], ceil_mode=s["ceil_mode"]
                )
            else:
                y = f.avg_pool2d(
                    args[0],
                    s["kernel"],
                    stride,
                    s["padding"],
                    ceil_mode=s["ceil_mode"],
                    count_include_pad=s["count_include_pad"],
                )
        elif kind == "dense":
            y = f.linear(args[0], state[f"{node_id}.weight"], state.get(f"{node_id}.bias"))
        else:
            ops: dict[str, Callable[[list[Any]], Any]] = {
                "relu": lambda a: f.relu(a[0]),
                "relu6": lambda a: f.relu6(a[0]),
                "dropout": lambda a: a[0],  # identity at inference
                "globalavgpool2d": lambda a: a[0].mean((2, 3), keepdim=True),
                "flatten": lambda a: a[0].flatten(1),
                "add": lambda a: sum(a[1:], a[0]),
                "concat": lambda a: torch.cat(a, 1),
            }
            y = ops[kind](args)
        values[node_id] = y
        previous = node_id
        yield node_id, y


@pytest.mark.oracle
@pytest.mark.parametrize("name", NAMES)
def test_totals_shapes_and_logits_match_torchvision(torchvision: Any, name: str) -> None:
    import torch

    _, trainable, macs = TEMPLATES[name]
    model = _model(torchvision, name)
    _randomise_batchnorm(torch, model)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == trainable
    logits, module_shapes, torch_macs = _run_with_hooks(torch, model)
    assert torch_macs == macs

    graph = _graph(name)
    compared = 0
    for node_id, node in graph.nodes.items():
        calls = module_shapes.get(node_id)
        if calls is not None and len(calls) == 1:  # a module used once: the same step
            assert calls[0] == node.shape, node_id
            compared += 1
    assert compared >= sum(1 for node in graph.nodes.values() if node.params)

    state = dict(model.state_dict())
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        outputs = dict(_run_file(torch, _data(name), state, x))
    for node_id, node in graph.nodes.items():
        assert tuple(outputs[node_id].shape[1:]) == node.shape, node_id
    last = outputs[list(graph.nodes)[-1]]
    scale = float(logits.abs().max())
    assert float((last - logits).abs().max()) <= 1e-4 * max(scale, 1.0)


@pytest.mark.oracle
def test_reference_pool_size_is_torchs() -> None:
    torch = pytest.importorskip("torch")
    for size in range(1, 9):
        x = torch.zeros(1, 1, size, size)
        for kernel in (2, 3, 4):
            for stride in (1, 2, 3):
                for padding in range(kernel // 2 + 1):
                    for ceil_mode in (False, True):
                        case = (size, kernel, stride, padding, ceil_mode)
                        expected = pool_size(size, kernel, stride, padding, ceil_mode)
                        pool = torch.nn.MaxPool2d(kernel, stride, padding, ceil_mode=ceil_mode)
                        if expected < 1:
                            with pytest.raises(RuntimeError):
                                pool(x)
                        else:
                            assert pool(x).shape[-1] == expected, case


# ------------------------------------------- through convdesigner's public API (issue 11's core)


@pytest.mark.parametrize("name", NAMES)
def test_public_api_totals(name: str) -> None:
    _, trainable, macs = TEMPLATES[name]
    analysis = convdesigner.analyse(convdesigner.load_design(_path(name)))
    assert analysis.ok
    assert analysis.totals.trainable == trainable
    assert analysis.totals.macs == macs


@pytest.mark.oracle
@pytest.mark.parametrize("name", NAMES)
def test_public_api_weight_keys_match_torchvision(torchvision: Any, name: str) -> None:
    from convdesigner.core.weights import expected_shapes

    state = _model(torchvision, name).state_dict()
    design = convdesigner.load_design(_path(name))
    assert expected_shapes(design) == {key: tuple(value.shape) for key, value in state.items()}


@pytest.mark.oracle
@pytest.mark.parametrize("name", NAMES)
def test_engine_runs_torchvision_weights_to_torchvisions_logits(
    torchvision: Any, name: str
) -> None:
    """torchvision's state_dict, saved as NumPy arrays, loads unchanged (keys are the ids) and
    convdesigner's engine gives torchvision's logits and every module's output."""
    import numpy as np
    import torch

    model = _model(torchvision, name)
    _randomise_batchnorm(torch, model)
    weights = {key: value.numpy() for key, value in model.state_dict().items()}
    design = convdesigner.load_design(_path(name))
    image = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    seen: dict[str, Any] = {}

    def keep(key: str) -> Callable[[Any, Any, Any], None]:
        def hook(module: Any, args: Any, out: Any) -> None:
            seen.setdefault(key, out[0].detach().numpy().copy())  # a shared module: first call

        return hook

    hooks = [
        module.register_forward_hook(keep(key))
        for key, module in model.named_modules()
        if key in design
    ]
    try:
        with torch.no_grad():
            logits = model(image)[0].numpy()
    finally:
        for hook in hooks:
            hook.remove()
    outputs = dict(
        zip(
            ("input", *design.ids),
            convdesigner.run(design, image[0].numpy(), weights),
            strict=True,
        )
    )
    scale = float(np.abs(logits).max())
    assert float(np.abs(outputs[design.ids[-1]] - logits).max()) <= 1e-4 * max(scale, 1.0)
    compared = 0
    for key, expected in seen.items():
        got = outputs[key]
        tol = 1e-4 * max(float(np.abs(expected).max()), 1.0)
        assert float(np.abs(got - expected).max()) <= tol, key
        compared += 1
    assert compared > 10
