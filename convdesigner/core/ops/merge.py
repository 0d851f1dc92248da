"""Merges: the ops with several inputs (residual add, Inception/DenseNet concat, SE multiply)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from convdesigner.core.ops.base import (
    Inferred,
    Layer,
    OpError,
    OpSpec,
    PaletteEntry,
    Params,
    RowGeometry,
    Shape,
)
from convdesigner.core.units import fmt, shape_text


@dataclass(frozen=True)
class Add(Layer):
    type_name: ClassVar[str] = "add"
    display_name: ClassVar[str] = "Add"
    description: ClassVar[str] = "Adds two or more inputs of equal shape (residual connections)"


@dataclass(frozen=True)
class Concat(Layer):
    type_name: ClassVar[str] = "concat"
    display_name: ClassVar[str] = "Concat"
    description: ClassVar[str] = (
        "Stacks inputs of equal spatial size along the channels (Inception, DenseNet)"
    )


@dataclass(frozen=True)
class Multiply(Layer):
    type_name: ClassVar[str] = "multiply"
    display_name: ClassVar[str] = "Multiply"
    description: ClassVar[str] = (
        "Multiplies two inputs value by value; a 1×1×C input scales each channel "
        "(squeeze-and-excitation)"
    )


def _no_counts(what: str) -> dict[str, str]:
    return {
        "weights": f"{what} has no weights: 0",
        "biases": f"{what} has no biases: 0",
    }


def _shape_fix(a: Shape, b: Shape) -> str:
    """What a learner can do when two shapes that must match do not."""
    if len(a) != len(b):
        return "both inputs must be feature maps, or both flat vectors"
    if len(a) == 1:
        return "give both branches the same number of units"
    if a[1:] != b[1:] and a[0] != b[0]:
        return "add a 1×1 convolution with stride on the shortcut"
    if a[1:] != b[1:]:
        return "use a stride (or a pooling layer) on the shortcut so the sizes match"
    return "add a 1×1 convolution on the shortcut to change its channels"


def infer_add(layer: Add, shapes: Sequence[Shape], labels: Sequence[str]) -> Inferred:
    first = shapes[0]
    for shape, label in zip(shapes[1:], labels[1:], strict=True):
        if shape != first:
            raise OpError(
                f"add needs equal shapes: {labels[0]} gives {shape_text(first)} but {label} "
                f"gives {shape_text(shape)}; {_shape_fix(first, shape)}"
            )

    def derive() -> dict[str, str]:
        names = ", ".join(labels)
        text = f"the {len(shapes)} inputs ({names}) are added value by value: output shape = " + (
            f"input shape = {shape_text(first)}"
        )
        sizes = {"output_channels": text}
        if len(first) >= 2:
            sizes = {"output_height": text, "output_width": text, **sizes}
        return {
            **sizes,
            **_no_counts("add"),
            "macs": "additions are not multiply-accumulates: 0 MACs",
        }

    return Inferred(first, derive)


MAX_TERMS = 50
"""A concat's channel sum is written out term by term up to this many inputs (DenseNet-121's
widest reads 25); beyond, the first five, an ellipsis and the last two."""


def infer_concat(layer: Concat, shapes: Sequence[Shape], labels: Sequence[str]) -> Inferred:
    first = shapes[0]
    for shape, label in zip(shapes[1:], labels[1:], strict=True):
        if len(shape) != len(first) or shape[1:] != first[1:]:
            size = "sizes" if len(first) >= 2 else "kinds"
            raise OpError(
                f"concat needs equal spatial {size}: {labels[0]} gives {shape_text(first)} but "
                f"{label} gives {shape_text(shape)}; only the channels may differ, so give every "
                "branch the same stride and padding"
            )
    channels = sum(s[0] for s in shapes)
    out = (channels, *first[1:])

    def derive() -> dict[str, str]:
        terms = [f"{s[0]:,} ({label})" for s, label in zip(shapes, labels, strict=True)]
        if len(terms) > MAX_TERMS:
            # A dense block's concat of 1,670 inputs: a sum nobody reads, 30 KB of text for the
            # explain panel to lay out on every click.
            terms = [*terms[:5], "…", *terms[-2:]]
            terms[-1] += f" ({len(shapes):,} inputs)"
        parts = " + ".join(terms)
        text = f"C_out = {parts} = {fmt(channels)}: the inputs' channels are stacked in order"
        d = {"output_channels": text if len(first) >= 2 else text.replace("C_out", "N_out")}
        if len(first) >= 2:
            same = f"every input is {'×'.join(str(v) for v in first[1:])}: kept"
            d = {"output_height": same, "output_width": same, **d}
        return {**d, **_no_counts("concat"), "macs": "concatenation only copies: 0 MACs"}

    return Inferred(out, derive)


def infer_multiply(layer: Multiply, shapes: Sequence[Shape], labels: Sequence[str]) -> Inferred:
    a, b = shapes
    if a == b:
        out = a
        how = "value by value"
    elif len(a) == len(b) >= 2 and a[0] == b[0] and all(v == 1 for v in b[1:]):
        out, how = (
            a,
            f"each of the {a[0]:,} channels of {labels[0]} scaled by one value of {labels[1]}",
        )
    elif len(a) == len(b) >= 2 and a[0] == b[0] and all(v == 1 for v in a[1:]):
        out, how = (
            b,
            f"each of the {b[0]:,} channels of {labels[1]} scaled by one value of {labels[0]}",
        )
    else:
        raise OpError(
            f"multiply needs equal shapes, or a 1×1×C input scaling a map of C channels: "
            f"{labels[0]} gives {shape_text(a)} but {labels[1]} gives {shape_text(b)}"
        )

    def derive() -> dict[str, str]:
        text = f"{how}: output shape = {shape_text(out)}"
        sizes = {"output_channels": text}
        if len(out) >= 2:
            sizes = {"output_height": text, "output_width": text, **sizes}
        return {
            **sizes,
            **_no_counts("multiply"),
            "macs": "0 MACs counted: only convolutions and dense layers count (an element-wise "
            f"product is {fmt(_size(out))} multiplies)",
        }

    return Inferred(out, derive)


def _size(shape: Shape) -> int:
    n = 1
    for v in shape:
        n *= v
    return n


def _run(name: str) -> Any:
    def run(layer: Any, row: RowGeometry, inputs: Sequence[Any], params: Params) -> Any:
        from convdesigner.core.kernels import merge as merge_kernels

        if name == "multiply":
            return merge_kernels.multiply(inputs[0], inputs[1])
        return getattr(merge_kernels, name)(list(inputs))

    return run


ADD = OpSpec(
    cls=Add,
    family="merge",
    infer=infer_add,
    run=_run("add"),
    arity=(2, None),
    fuse="sum",
    palette=(PaletteEntry("add", "Add", Add.description, "merge", lambda c: Add()),),
)
CONCAT = OpSpec(
    cls=Concat,
    family="merge",
    infer=infer_concat,
    run=_run("concat"),
    arity=(2, None),
    palette=(PaletteEntry("concat", "Concat", Concat.description, "merge", lambda c: Concat()),),
)
MULTIPLY = OpSpec(
    cls=Multiply,
    family="merge",
    infer=infer_multiply,
    run=_run("multiply"),
    arity=(2, 2),
    palette=(
        PaletteEntry("multiply", "Multiply", Multiply.description, "merge", lambda c: Multiply()),
    ),
)

SPECS = (ADD, CONCAT, MULTIPLY)
