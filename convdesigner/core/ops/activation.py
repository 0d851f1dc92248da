"""Per-value ops: activations, Softmax (over channels), Identity and Dropout.

None has weights or changes the shape, so they share one inference; each declares its formula
(for the explain panel) and its kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from convdesigner.core.ops.base import (
    FieldSpec,
    Inferred,
    Layer,
    OpSpec,
    PaletteEntry,
    Params,
    RowGeometry,
    Shape,
)
from convdesigner.core.units import shape_text


def same_shape(what: str) -> Callable[[Layer, Sequence[Shape], Sequence[str]], Inferred]:
    """Inference of an op that keeps the shape; ``what`` says what it does to each value."""

    def infer(layer: Layer, shapes: Sequence[Shape], labels: Sequence[str]) -> Inferred:
        shape = shapes[0]

        def derive() -> dict[str, str]:
            text = f"{what}: output shape = input shape = {shape_text(shape)}"
            # A vector has no height or width to explain, only its length.
            sizes = {"output_channels": text}
            if len(shape) == 3:
                sizes = {"output_height": text, "output_width": text, **sizes}
            return {
                **sizes,
                "weights": f"{layer.display_name} has no weights: 0",
                "biases": f"{layer.display_name} has no biases: 0",
                "macs": "0 MACs",
            }

        return Inferred(shape, derive)

    return infer


def _kernel(name: str, *settings: str) -> Callable[[Any, RowGeometry, Sequence[Any], Params], Any]:
    """A kernel from convdesigner.core.kernels.activations, passed the layer's ``settings``."""

    def run(layer: Any, row: RowGeometry, inputs: Sequence[Any], params: Params) -> Any:
        from convdesigner.core.kernels import activations as kernels

        function = getattr(kernels, name)
        return function(inputs[0], *(getattr(layer, s) for s in settings))

    return run


def _per_value(
    cls: type[Layer],
    what: str,
    run: Callable[[Any, RowGeometry, Sequence[Any], Params], Any],
    *,
    summary: Callable[[Any], str] | None = None,
    make: Callable[[int], Layer] | None = None,
    fuse: bool = False,
) -> OpSpec:
    def passthrough(layer: Any, params: Params) -> tuple[None, None, bool]:
        return None, None, cls.type_name == "relu"

    return OpSpec(
        cls=cls,
        family="act",
        infer=same_shape(what),
        run=run,
        summary=summary,
        fuse="pointwise" if fuse else "",
        pointwise=passthrough if fuse else None,
        palette=(
            PaletteEntry(
                cls.type_name,
                cls.display_name,
                cls.description,
                "act",
                make if make is not None else (lambda c: cls()),
            ),
        ),
    )


def _relu(layer: Any, row: RowGeometry, inputs: Sequence[Any], params: Params) -> Any:
    from convdesigner.core.kernels import ops

    return ops.relu(inputs[0])


def _identity(layer: Any, row: RowGeometry, inputs: Sequence[Any], params: Params) -> Any:
    return inputs[0]


@dataclass(frozen=True)
class ReLU(Layer):
    type_name: ClassVar[str] = "relu"
    display_name: ClassVar[str] = "ReLU"
    description: ClassVar[str] = "Sets negative values to zero; no weights, shape unchanged"


@dataclass(frozen=True)
class ReLU6(Layer):
    type_name: ClassVar[str] = "relu6"
    display_name: ClassVar[str] = "ReLU6"
    description: ClassVar[str] = "ReLU capped at 6: min(max(0, x), 6) (MobileNet)"


@dataclass(frozen=True)
class LeakyReLU(Layer):
    type_name: ClassVar[str] = "leakyrelu"
    display_name: ClassVar[str] = "LeakyReLU"
    description: ClassVar[str] = "Lets a small slope through for negative values"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FieldSpec(
            "negative_slope",
            "Negative slope",
            "number",
            "what negative values are multiplied by",
            minimum=0,
            maximum=1,
            step=0.01,
        ),
    )

    negative_slope: float = 0.01


@dataclass(frozen=True)
class Sigmoid(Layer):
    type_name: ClassVar[str] = "sigmoid"
    display_name: ClassVar[str] = "Sigmoid"
    description: ClassVar[str] = "Squashes each value into (0, 1): 1 / (1 + e^-x)"


@dataclass(frozen=True)
class Tanh(Layer):
    type_name: ClassVar[str] = "tanh"
    display_name: ClassVar[str] = "Tanh"
    description: ClassVar[str] = "Squashes each value into (-1, 1)"


@dataclass(frozen=True)
class SiLU(Layer):
    type_name: ClassVar[str] = "silu"
    display_name: ClassVar[str] = "SiLU"
    description: ClassVar[str] = "x · sigmoid(x), also called Swish (EfficientNet)"


@dataclass(frozen=True)
class Hardswish(Layer):
    type_name: ClassVar[str] = "hardswish"
    display_name: ClassVar[str] = "Hardswish"
    description: ClassVar[str] = "x · ReLU6(x + 3) / 6, a cheap Swish (MobileNet v3)"


@dataclass(frozen=True)
class GELU(Layer):
    type_name: ClassVar[str] = "gelu"
    display_name: ClassVar[str] = "GELU"
    description: ClassVar[str] = "x · Φ(x), weighting each value by how likely it is positive"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FieldSpec(
            "approximate",
            "Approximate",
            "choice",
            '"none" uses the exact error function, "tanh" the faster approximation',
            choices=("none", "tanh"),
        ),
    )

    approximate: str = "none"


@dataclass(frozen=True)
class Softmax(Layer):
    type_name: ClassVar[str] = "softmax"
    display_name: ClassVar[str] = "Softmax"
    description: ClassVar[str] = "Turns each position's channels into probabilities summing to 1"


@dataclass(frozen=True)
class Identity(Layer):
    type_name: ClassVar[str] = "identity"
    display_name: ClassVar[str] = "Identity"
    description: ClassVar[str] = "Passes its input through unchanged (a placeholder)"


@dataclass(frozen=True)
class Dropout(Layer):
    type_name: ClassVar[str] = "dropout"
    display_name: ClassVar[str] = "Dropout"
    description: ClassVar[str] = "Randomly zeroes values while training; identity at inference"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        FieldSpec(
            "rate",
            "Rate",
            "number",
            "fraction of values zeroed while training",
            minimum=0,
            maximum=1,
            include_maximum=False,
            wording="a number from 0 up to (not including) 1",
            step=0.05,
        ),
    )

    rate: float = 0.5


def _softmax_infer(layer: Softmax, shapes: Sequence[Shape], labels: Sequence[str]) -> Inferred:
    base = same_shape(
        "softmax rescales each position's channel values to e^x / Σ e^x, which are positive "
        "and sum to 1"
    )(layer, shapes, labels)
    return base


RELU = _per_value(ReLU, "ReLU acts on each value separately (max(0, x))", _relu, fuse=True)
RELU6 = _per_value(ReLU6, "ReLU6 acts on each value separately (min(max(0, x), 6))",
                   _kernel("relu6"))  # fmt: skip
LEAKYRELU = _per_value(
    LeakyReLU,
    "LeakyReLU acts on each value separately (x if x ≥ 0, else slope·x)",
    _kernel("leaky_relu", "negative_slope"),
    summary=lambda layer: f"slope {layer.negative_slope:g}",
)
SIGMOID = _per_value(Sigmoid, "sigmoid acts on each value separately (1 / (1 + e^-x))",
                     _kernel("sigmoid"))  # fmt: skip
TANH = _per_value(Tanh, "tanh acts on each value separately", _kernel("tanh"))
SILU = _per_value(SiLU, "SiLU acts on each value separately (x · sigmoid(x))", _kernel("silu"))
HARDSWISH = _per_value(
    Hardswish, "Hardswish acts on each value separately (x · ReLU6(x + 3) / 6)",
    _kernel("hardswish"),
)  # fmt: skip
GELU_SPEC = _per_value(
    GELU,
    "GELU acts on each value separately (x · Φ(x), Φ the normal distribution's CDF)",
    _kernel("gelu", "approximate"),
    summary=lambda layer: "exact (erf)" if layer.approximate == "none" else "tanh approximation",
)
SOFTMAX = OpSpec(
    cls=Softmax,
    family="act",
    infer=_softmax_infer,
    run=_kernel("softmax"),
    palette=(PaletteEntry("softmax", "Softmax", Softmax.description, "act", lambda c: Softmax()),),
)
IDENTITY = _per_value(Identity, "identity passes every value through", _identity, fuse=True)
DROPOUT = _per_value(
    Dropout,
    "dropout zeroes random values while training and passes every value through at inference",
    _identity,
    summary=lambda layer: f"rate {layer.rate:g}",
    make=lambda c: Dropout(rate=0.5),
    fuse=True,
)

SPECS = (
    RELU, RELU6, LEAKYRELU, SIGMOID, TANH, SILU, HARDSWISH, GELU_SPEC, SOFTMAX, IDENTITY, DROPOUT,
)  # fmt: skip
