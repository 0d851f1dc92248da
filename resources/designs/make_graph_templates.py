#!/usr/bin/env python3
"""Write the graph templates (ResNet-18/50, GoogLeNet, MobileNet v2, DenseNet-121) as design files.

Hand-writing some 430 nodes with their input lists invites slips that still give a valid graph
(a shortcut taken from the wrong block, a branch concatenated out of order), so the files are
generated from the same few loops torchvision's model code uses. Node ids are torchvision's module
paths, because the weight keys are ``{id}.weight`` and so on: a ``state_dict`` of the torchvision
model saved with NumPy loads unchanged. Parameter-free steps that torchvision does without a
module of their own (``F.relu``, ``out += identity``, ``torch.cat``) or with one module used
several times (ResNet's ``relu``) get ids derived from where they happen.

Pure Python and json only, so anyone can rerun it:

    python resources/designs/make_graph_templates.py          # (re)write the JSON files
    python resources/designs/make_graph_templates.py --check  # exit 1 if a file differs

The tests check that the committed files equal what this script writes, and verify the totals and
weight keys independently (tests/core/test_graph_templates.py).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

FORMAT_NAME = "convdesigner-design"
FORMAT_VERSION = 2
INPUT_224 = {"height": 224, "width": 224, "channels": 3}
ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,100}")

WEIGHTS_NOTE = (
    "Node ids are torchvision's module paths, so the model's weights saved with "
    "np.savez(path, **{k: v.numpy() for k, v in model.state_dict().items()}) load unchanged; "
    "steps torchvision does without a module of their own (or with one module used more than "
    "once) have ids named after where they happen"
)


class Graph:
    """Collects design entries in execution order, writing only what differs from the defaults.

    An entry's ``inputs`` is written only when it is not just the entry above (the file format's
    default), and settings equal to the layer type's default are left out, so the files stay short
    enough to read; filters, units and kernel sizes are always written because they are what a
    reader looks for.
    """

    def __init__(self) -> None:
        self.layers: list[dict[str, Any]] = []
        self._ids: set[str] = set()
        self.last = "input"

    def node(
        self, node_id: str, type_name: str, inputs: Sequence[str] | None = None, **settings: Any
    ) -> str:
        # The same rules the loader applies, so a slip here fails when generating, not loading.
        if not ID_PATTERN.fullmatch(node_id) or node_id == "input" or node_id in self._ids:
            raise ValueError(f"bad or repeated id {node_id!r}")
        sources = [self.last] if inputs is None else list(inputs)
        for source in sources:
            if source != "input" and source not in self._ids:
                raise ValueError(f"{node_id!r} names {source!r}, which is not above it")
        entry: dict[str, Any] = {"id": node_id, "type": type_name, **settings}
        if sources != [self.last] or type_name in ("add", "concat", "multiply"):
            entry["inputs"] = sources
        self.layers.append(entry)
        self._ids.add(node_id)
        self.last = node_id
        return node_id

    def conv(
        self,
        node_id: str,
        filters: int,
        kernel: int,
        *,
        stride: int = 1,
        padding: int = 0,
        groups: int = 1,
        bias: bool = True,
        inputs: Sequence[str] | None = None,
    ) -> str:
        settings: dict[str, Any] = {"filters": filters, "kernel": kernel}
        if stride != 1:
            settings["stride"] = stride
        if padding != 0:
            settings["padding"] = padding
        if groups != 1:
            settings["groups"] = groups
        if not bias:
            settings["bias"] = False
        return self.node(node_id, "conv2d", inputs, **settings)

    def batchnorm(
        self, node_id: str, eps: float = 1e-5, inputs: Sequence[str] | None = None
    ) -> str:
        return self.node(node_id, "batchnorm2d", inputs, **({} if eps == 1e-5 else {"eps": eps}))

    def pool(
        self,
        node_id: str,
        type_name: str,
        kernel: int,
        *,
        stride: int | None = None,
        padding: int = 0,
        ceil_mode: bool = False,
        inputs: Sequence[str] | None = None,
    ) -> str:
        settings: dict[str, Any] = {"kernel": kernel}
        if stride is not None and stride != kernel:
            settings["stride"] = stride
        if padding != 0:
            settings["padding"] = padding
        if ceil_mode:
            settings["ceil_mode"] = True
        return self.node(node_id, type_name, inputs, **settings)

    def head(self, pool_id: str, fc_id: str, *, dropout: tuple[str, float] | None = None) -> str:
        """Global average pool, flatten, optional dropout and the 1000-way classifier."""
        self.node(pool_id, "globalavgpool2d")
        self.node("flatten", "flatten")
        if dropout is not None:
            self.node(dropout[0], "dropout", rate=dropout[1])
        return self.node(fc_id, "dense", units=1000)


# ------------------------------------------------------------------------------------- ResNet


def _basic_block(g: Graph, prefix: str, planes: int, stride: int, downsample: bool) -> str:
    block_input = g.last
    g.conv(f"{prefix}.conv1", planes, 3, stride=stride, padding=1, bias=False)
    g.batchnorm(f"{prefix}.bn1")
    g.node(f"{prefix}.relu1", "relu")
    g.conv(f"{prefix}.conv2", planes, 3, padding=1, bias=False)
    residual = g.batchnorm(f"{prefix}.bn2")
    shortcut = block_input
    if downsample:
        g.conv(f"{prefix}.downsample.0", planes, 1, stride=stride, bias=False, inputs=[block_input])
        shortcut = g.batchnorm(f"{prefix}.downsample.1")
    g.node(f"{prefix}.add", "add", [residual, shortcut])
    return g.node(f"{prefix}.relu2", "relu")


def _bottleneck(g: Graph, prefix: str, planes: int, stride: int, downsample: bool) -> str:
    # torchvision's ResNet v1.5: the stride sits on the 3×3 convolution, not the first 1×1.
    block_input = g.last
    g.conv(f"{prefix}.conv1", planes, 1, bias=False)
    g.batchnorm(f"{prefix}.bn1")
    g.node(f"{prefix}.relu1", "relu")
    g.conv(f"{prefix}.conv2", planes, 3, stride=stride, padding=1, bias=False)
    g.batchnorm(f"{prefix}.bn2")
    g.node(f"{prefix}.relu2", "relu")
    g.conv(f"{prefix}.conv3", planes * 4, 1, bias=False)
    residual = g.batchnorm(f"{prefix}.bn3")
    shortcut = block_input
    if downsample:
        g.conv(
            f"{prefix}.downsample.0", planes * 4, 1, stride=stride, bias=False, inputs=[block_input]
        )
        shortcut = g.batchnorm(f"{prefix}.downsample.1")
    g.node(f"{prefix}.add", "add", [residual, shortcut])
    return g.node(f"{prefix}.relu3", "relu")


def resnet(blocks: Sequence[int], bottleneck: bool) -> list[dict[str, Any]]:
    g = Graph()
    g.conv("conv1", 64, 7, stride=2, padding=3, bias=False)
    g.batchnorm("bn1")
    g.node("relu", "relu")
    g.pool("maxpool", "maxpool2d", 3, stride=2, padding=1)
    expansion = 4 if bottleneck else 1
    channels = 64
    for stage, count in enumerate(blocks):
        planes = 64 * 2**stage
        for index in range(count):
            stride = 2 if stage > 0 and index == 0 else 1
            downsample = index == 0 and (stride != 1 or channels != planes * expansion)
            block = _bottleneck if bottleneck else _basic_block
            block(g, f"layer{stage + 1}.{index}", planes, stride, downsample)
            channels = planes * expansion
    g.head("avgpool", "fc")
    return g.layers


# ------------------------------------------------------------------------------------ GoogLeNet


def _basic_conv(
    g: Graph,
    prefix: str,
    filters: int,
    kernel: int,
    *,
    stride: int = 1,
    padding: int = 0,
    inputs: Sequence[str] | None = None,
) -> str:
    """torchvision's BasicConv2d: convolution without bias, batch norm (eps 0.001), F.relu."""
    g.conv(
        f"{prefix}.conv", filters, kernel, stride=stride, padding=padding, bias=False, inputs=inputs
    )
    g.batchnorm(f"{prefix}.bn", eps=0.001)
    return g.node(f"{prefix}.relu", "relu")


def _inception(
    g: Graph, prefix: str, ch1: int, ch3red: int, ch3: int, ch5red: int, ch5: int, pool_proj: int
) -> str:
    block_input = g.last
    b1 = _basic_conv(g, f"{prefix}.branch1", ch1, 1, inputs=[block_input])
    _basic_conv(g, f"{prefix}.branch2.0", ch3red, 1, inputs=[block_input])
    b2 = _basic_conv(g, f"{prefix}.branch2.1", ch3, 3, padding=1)
    # torchvision's known deviation from the paper: the "5×5" branch uses a 3×3 kernel.
    _basic_conv(g, f"{prefix}.branch3.0", ch5red, 1, inputs=[block_input])
    b3 = _basic_conv(g, f"{prefix}.branch3.1", ch5, 3, padding=1)
    g.pool(
        f"{prefix}.branch4.0",
        "maxpool2d",
        3,
        stride=1,
        padding=1,
        ceil_mode=True,
        inputs=[block_input],
    )
    b4 = _basic_conv(g, f"{prefix}.branch4.1", pool_proj, 1)
    return g.node(f"{prefix}.concat", "concat", [b1, b2, b3, b4])


def googlenet() -> list[dict[str, Any]]:
    g = Graph()
    _basic_conv(g, "conv1", 64, 7, stride=2, padding=3)
    g.pool("maxpool1", "maxpool2d", 3, stride=2, ceil_mode=True)
    _basic_conv(g, "conv2", 64, 1)
    _basic_conv(g, "conv3", 192, 3, padding=1)
    g.pool("maxpool2", "maxpool2d", 3, stride=2, ceil_mode=True)
    _inception(g, "inception3a", 64, 96, 128, 16, 32, 32)
    _inception(g, "inception3b", 128, 128, 192, 32, 96, 64)
    g.pool("maxpool3", "maxpool2d", 3, stride=2, ceil_mode=True)
    _inception(g, "inception4a", 192, 96, 208, 16, 48, 64)
    _inception(g, "inception4b", 160, 112, 224, 24, 64, 64)
    _inception(g, "inception4c", 128, 128, 256, 24, 64, 64)
    _inception(g, "inception4d", 112, 144, 288, 32, 64, 64)
    _inception(g, "inception4e", 256, 160, 320, 32, 128, 128)
    g.pool("maxpool4", "maxpool2d", 2, stride=2, ceil_mode=True)
    _inception(g, "inception5a", 256, 160, 320, 32, 128, 128)
    _inception(g, "inception5b", 384, 192, 384, 48, 128, 128)
    g.head("avgpool", "fc", dropout=("dropout", 0.2))
    return g.layers


# --------------------------------------------------------------------------------- MobileNet v2


def _conv_bn_relu6(
    g: Graph, prefix: str, filters: int, kernel: int, *, stride: int = 1, groups: int = 1
) -> str:
    """torchvision's Conv2dNormActivation: convolution without bias, batch norm, ReLU6."""
    g.conv(
        f"{prefix}.0",
        filters,
        kernel,
        stride=stride,
        padding=(kernel - 1) // 2,
        groups=groups,
        bias=False,
    )
    g.batchnorm(f"{prefix}.1")
    return g.node(f"{prefix}.2", "relu6")


def mobilenet_v2() -> list[dict[str, Any]]:
    g = Graph()
    _conv_bn_relu6(g, "features.0", 32, 3, stride=2)
    channels = 32
    index = 1
    # (expansion t, output channels c, repeats n, first stride s), the paper's Table 2.
    for t, c, n, s in (
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ):
        for repeat in range(n):
            stride = s if repeat == 0 else 1
            prefix = f"features.{index}.conv"
            block_input = g.last
            hidden = channels * t
            step = 0
            if t != 1:
                _conv_bn_relu6(g, f"{prefix}.0", hidden, 1)
                step = 1
            _conv_bn_relu6(g, f"{prefix}.{step}", hidden, 3, stride=stride, groups=hidden)
            g.conv(f"{prefix}.{step + 1}", c, 1, bias=False)  # linear bottleneck: no activation
            out = g.batchnorm(f"{prefix}.{step + 2}")
            if stride == 1 and channels == c:
                g.node(f"features.{index}.add", "add", [block_input, out])
            channels = c
            index += 1
    _conv_bn_relu6(g, f"features.{index}", 1280, 1)
    g.head("avgpool", "classifier.1", dropout=("classifier.0", 0.2))
    return g.layers


# --------------------------------------------------------------------------------- DenseNet-121


def densenet121() -> list[dict[str, Any]]:
    growth, bottleneck_width = 32, 4
    g = Graph()
    g.conv("features.conv0", 64, 7, stride=2, padding=3, bias=False)
    g.batchnorm("features.norm0")
    g.node("features.relu0", "relu")
    g.pool("features.pool0", "maxpool2d", 3, stride=2, padding=1)
    channels = 64
    for block, count in enumerate((6, 12, 24, 16), start=1):
        # torchvision's _DenseBlock keeps a list of feature maps; each layer concatenates all of
        # them (block input first), and the block's output concatenates the whole list.
        features = [g.last]
        for layer in range(1, count + 1):
            prefix = f"features.denseblock{block}.denselayer{layer}"
            layer_input = features[0]
            if len(features) > 1:
                layer_input = g.node(f"{prefix}.concat", "concat", features)
            g.batchnorm(f"{prefix}.norm1", inputs=[layer_input])
            g.node(f"{prefix}.relu1", "relu")
            g.conv(f"{prefix}.conv1", bottleneck_width * growth, 1, bias=False)
            g.batchnorm(f"{prefix}.norm2")
            g.node(f"{prefix}.relu2", "relu")
            features.append(g.conv(f"{prefix}.conv2", growth, 3, padding=1, bias=False))
        g.node(f"features.denseblock{block}.concat", "concat", features)
        channels += count * growth
        if block < 4:
            channels //= 2
            prefix = f"features.transition{block}"
            g.batchnorm(f"{prefix}.norm")
            g.node(f"{prefix}.relu", "relu")
            g.conv(f"{prefix}.conv", channels, 1, bias=False)
            g.pool(f"{prefix}.pool", "avgpool2d", 2, stride=2)
    g.batchnorm("features.norm5")
    g.node("relu", "relu")  # F.relu in DenseNet.forward: no module, so a top-level id
    g.head("avgpool", "classifier")
    return g.layers


# ------------------------------------------------------------------------------------ the files

PAPERS = {
    "resnet": 'He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition", 2015',
}


def _design(name: str, description: str, layers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": name,
        "description": description,
        "input": dict(INPUT_224),
        "layers": layers,
    }


TEMPLATES: dict[str, Callable[[], dict[str, Any]]] = {
    "resnet18": lambda: _design(
        "ResNet-18 (torchvision)",
        f"ResNet-18 ({PAPERS['resnet']}) as torchvision.models.resnet18, on a 224×224 RGB "
        "image: a 7×7 stem and four stages of two basic blocks, each adding its input back "
        "(through a strided 1×1 convolution where the shape changes) before the last ReLU. "
        f"{WEIGHTS_NOTE} (layer1.0.relu1, layer1.0.add, flatten). torchvision's "
        "AdaptiveAvgPool2d((1, 1)) is the global average pool here. "
        "11,689,512 trainable parameters, about 1.81 G MACs.",
        resnet((2, 2, 2, 2), bottleneck=False),
    ),
    "resnet50": lambda: _design(
        "ResNet-50 (torchvision)",
        f"ResNet-50 ({PAPERS['resnet']}) as torchvision.models.resnet50, on a 224×224 RGB "
        "image: four stages of 3, 4, 6 and 3 bottleneck blocks (1×1 down, 3×3, 1×1 up to four "
        "times the width), each adding its input back. torchvision's version 1.5 puts the "
        "stride on the 3×3 convolution. "
        f"{WEIGHTS_NOTE} (layer1.0.relu1, layer1.0.add, flatten). "
        "25,557,032 trainable parameters, about 4.09 G MACs.",
        resnet((3, 4, 6, 3), bottleneck=True),
    ),
    "googlenet": lambda: _design(
        "GoogLeNet (torchvision)",
        'GoogLeNet (Szegedy et al., "Going Deeper with Convolutions", 2014) as '
        "torchvision.models.googlenet without the auxiliary classifiers, on a 224×224 RGB "
        "image. Nine Inception blocks run four branches side by side (1×1; 1×1 then 3×3; 1×1 "
        "then another 3×3, where the paper has 5×5, as in torchvision; 3×3 max pool then 1×1) "
        "and concatenate their channels. As in torchvision every convolution is followed by "
        "batch normalisation (eps 0.001) and the max pools round up (ceil_mode). "
        f"{WEIGHTS_NOTE} (inception3a.branch1.relu, inception3a.concat). torchvision's "
        "pretrained weights expect transform_input, a per-channel rescaling of the input that "
        "is not part of this design: feed images scaled to (x - 0.5) / 0.5 instead. "
        "6,624,904 trainable parameters, about 1.50 G MACs.",
        googlenet(),
    ),
    "mobilenet-v2": lambda: _design(
        "MobileNet v2 (torchvision)",
        'MobileNet v2 (Sandler et al., "MobileNetV2: Inverted Residuals and Linear '
        'Bottlenecks", 2018), width 1.0, as torchvision.models.mobilenet_v2, on a 224×224 RGB '
        "image. Each inverted residual block widens the channels six times with a 1×1 "
        "convolution, filters them with a 3×3 depthwise convolution (groups equal to the "
        "channels), narrows them again with a 1×1 convolution without activation, and adds "
        "the block's input where the shape allows. "
        f"{WEIGHTS_NOTE} (features.3.add, avgpool, flatten). "
        "3,504,872 trainable parameters, about 301 M MACs.",
        mobilenet_v2(),
    ),
    "densenet121": lambda: _design(
        "DenseNet-121 (torchvision)",
        'DenseNet-121 (Huang, Liu, van der Maaten and Weinberger, "Densely Connected '
        'Convolutional Networks", 2017) as torchvision.models.densenet121, on a 224×224 RGB '
        "image. In each of the four dense blocks (6, 12, 24 and 16 layers) every layer sees "
        "the concatenation of the block's input and all earlier layers' outputs and adds 32 "
        "channels of its own; transitions halve the channels and the map size in between. "
        f"{WEIGHTS_NOTE} (features.denseblock1.denselayer2.concat, "
        "features.denseblock1.concat, relu). "
        "7,978,856 trainable parameters, about 2.83 G MACs.",
        densenet121(),
    ),
}
"""File name (without .json) → the design as a JSON-ready dict."""


def dumps(design: dict[str, Any]) -> str:
    """The file's text in the layout convdesigner itself saves: one layer per line."""
    data = dict(design)
    layers = data.pop("layers")
    head = json.dumps(data, ensure_ascii=False, indent=2)
    body = ",\n".join("    " + json.dumps(layer, ensure_ascii=False) for layer in layers)
    return head[:-2] + f',\n  "layers": [\n{body}\n  ]\n}}\n'


def template_texts() -> dict[str, str]:
    """File name → the text this script writes for it."""
    return {f"{name}.json": dumps(build()) for name, build in TEMPLATES.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="only compare the files with what would be written"
    )
    args = parser.parse_args(argv)
    folder = Path(__file__).resolve().parent
    stale = []
    for file_name, text in template_texts().items():
        path = folder / file_name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(file_name)
        if not args.check:
            path.write_text(text, encoding="utf-8", newline="\n")
    if args.check and stale:
        print(f"out of date: {', '.join(stale)} (rerun without --check)", file=sys.stderr)
        return 1
    print(f"wrote: {', '.join(stale)}" if stale else "all templates up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
