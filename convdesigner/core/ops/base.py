"""What an operation is: its fields with their metadata, and the spec the registry holds.

Every per-type question the program asks (what are the settings and their limits, what shape comes
out, how many weights and of which shapes, how is it computed, what does its card say, which
palette entries create it) is answered by one :class:`OpSpec`, looked up by the layer's type. A
new layer type is therefore one module in this package plus an icon, and the file loader, the
property forms, the analysis, the weights, the engine and the tests all pick it up.

The layer objects themselves stay small frozen dataclasses holding only their settings: designs
are immutable values, so undo is "keep the old value" and a background run never sees a design
change under it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from convdesigner.core.validate import (
    MAX_COUNT,
    MAX_SIZE,
    AxisPads,
    LayerSettingError,
    Padding,
    PaddingArg,
    Pair,
    SizeArg,
    to_axis_pads,
    to_bool,
    to_choice,
    to_name,
    to_number,
    to_padding,
    to_pair,
    to_positive_int,
)

if TYPE_CHECKING:
    import numpy as np

Shape = tuple[int, ...]
"""(C, *spatial) for maps, (N,) for vectors."""

FieldKind = Literal[
    "count", "size", "optional_size", "padding", "axis_pads", "bool", "number", "choice",
    "optional_scale",
]  # fmt: skip


@dataclass(frozen=True)
class FieldSpec:
    """One setting of an op: how the loader validates it and how a form edits it.

    The limits live here and nowhere else: the loader's checks, the form's spin-box ranges and
    the layer's own validation all read them (a UI limit that disagreed with the core's once
    silently rewrote a kernel of 2000 as 1024).
    """

    name: str
    label: str
    kind: FieldKind
    tooltip: str = ""
    minimum: float = 1
    maximum: float = MAX_SIZE
    choices: tuple[str, ...] = ()
    include_minimum: bool = True
    include_maximum: bool = True
    wording: str | None = None
    """How a number's range is phrased in messages ("a number between 0 and 1")."""
    decimals: int = 3
    step: float = 1.0

    def coerce(self, value: object) -> Any:
        """The normal form of ``value``, or a LayerSettingError naming this field."""
        name = self.name
        kind = self.kind
        if kind == "count":
            return to_positive_int(value, name, maximum=int(self.maximum))
        if kind == "size":
            return to_pair(value, name, minimum=int(self.minimum), maximum=int(self.maximum))
        if kind == "optional_size":
            return None if value is None else to_pair(value, name, maximum=int(self.maximum))
        if kind == "padding":
            return to_padding(value, name)
        if kind == "axis_pads":
            return to_axis_pads(value, name, maximum=int(self.maximum))
        if kind == "bool":
            return to_bool(value, name)
        if kind == "choice":
            return to_choice(value, name, self.choices)
        if kind == "optional_scale":
            if value is None:
                return None
            if isinstance(value, list | tuple) and len(value) == 2:
                return tuple(self._number(v) for v in value)
            number = self._number(value)
            return (number, number)
        return self._number(value)

    def _number(self, value: object) -> float:
        return to_number(
            value,
            self.name,
            minimum=self.minimum,
            maximum=self.maximum,
            include_minimum=self.include_minimum,
            include_maximum=self.include_maximum,
            wording=self.wording,
        )


class _Setting:
    """A dataclass field that accepts what a user writes and reads back in one normal form.

    ``Conv2D(kernel=7)`` is how people write a layer (and what the docs show), while every
    reader of ``layer.kernel`` wants a pair. A plain field typed as a pair makes a type checker
    reject the first; typed as "int or pair" it makes every reader branch. As a descriptor, the
    field's ``__init__`` argument takes ``__set__``'s type and attribute reads take ``__get__``'s.
    The value is stored as given; the layer's ``__post_init__`` validates and normalises it.
    """

    def __init__(self, default: object) -> None:
        self._default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def _read(self, obj: object | None) -> Any:
        # Read on the class (obj None), the dataclass machinery takes this as the default.
        return self._default if obj is None else obj.__dict__[self._name]

    def _write(self, obj: object, value: object) -> None:
        obj.__dict__[self._name] = value


class Size(_Setting):
    """kernel, stride, dilation: an int or an (h, w) pair in, a pair out."""

    def __init__(self, default: Pair) -> None:
        super().__init__(default)

    def __get__(self, obj: object | None, owner: type | None = None) -> Pair:
        return self._read(obj)  # type: ignore[no-any-return]

    def __set__(self, obj: object, value: SizeArg) -> None:
        self._write(obj, value)


class OptionalSize(_Setting):
    """A pooling stride: like :class:`Size`, or None for "the kernel size"."""

    def __init__(self, default: Pair | None) -> None:
        super().__init__(default)

    def __get__(self, obj: object | None, owner: type | None = None) -> Pair | None:
        return self._read(obj)  # type: ignore[no-any-return]

    def __set__(self, obj: object, value: SizeArg | None) -> None:
        self._write(obj, value)


class PaddingSize(_Setting):
    """padding: "valid", "same", an int or an (h, w) pair in; a mode or a pair out."""

    def __init__(self, default: Padding) -> None:
        super().__init__(default)

    def __get__(self, obj: object | None, owner: type | None = None) -> Padding:
        return self._read(obj)  # type: ignore[no-any-return]

    def __set__(self, obj: object, value: PaddingArg) -> None:
        self._write(obj, value)


AxisPadsArg = int | Sequence[int] | Sequence[Sequence[int]]


class AxisPadding(_Setting):
    """Explicit padding: an int, one int per axis, or (before, after) per axis in; per-axis
    (before, after) pairs out."""

    def __init__(self, default: AxisPads) -> None:
        super().__init__(default)

    def __get__(self, obj: object | None, owner: type | None = None) -> AxisPads:
        return self._read(obj)  # type: ignore[no-any-return]

    def __set__(self, obj: object, value: AxisPadsArg) -> None:
        self._write(obj, value)


ScaleArg = float | Sequence[float] | None


class OptionalScale(_Setting):
    """An upsampling factor: a number or one per axis in, a pair (or None) out."""

    def __init__(self, default: tuple[float, float] | None) -> None:
        super().__init__(default)

    def __get__(self, obj: object | None, owner: type | None = None) -> tuple[float, float] | None:
        return self._read(obj)  # type: ignore[no-any-return]

    def __set__(self, obj: object, value: ScaleArg) -> None:
        self._write(obj, value)


@dataclass(frozen=True)
class Layer:
    """Base of all layer types: the settings of one op, validated from its :data:`FIELDS`.

    ``type_name`` is the file format's ``"type"`` value.
    """

    type_name: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = ()

    name: str = field(default="", kw_only=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", to_name(self.name))
        for spec in self.FIELDS:
            object.__setattr__(self, spec.name, spec.coerce(getattr(self, spec.name)))
        self.check()

    def check(self) -> None:
        """Rules between fields (called after each field is valid on its own)."""

    def with_changes(self, **changes: Any) -> Layer:
        """A copy with some settings changed (validated like a new layer)."""
        return replace(self, **changes)

    def settings(self) -> dict[str, Any]:
        """The settings as plain values (pairs as tuples), in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def label(self) -> str:
        """What the user sees: their own name if given, else the type's display name."""
        return self.name or self.display_name

    @classmethod
    def field_spec(cls, name: str) -> FieldSpec:
        for spec in cls.FIELDS:
            if spec.name == name:
                return spec
        raise KeyError(name)


# --------------------------------------------------------------------------- inference results


class OpError(Exception):
    """An op that cannot work on what reaches it; the analysis turns it into an error row."""


Builder = Callable[[], dict[str, str]]


@dataclass(slots=True)
class Inferred:
    """What an op's inference returns: the output shape, the counts and how to explain them.

    ``kernel``/``stride``/``dilation``/``padding`` describe the sliding window along each
    spatial axis when the op has one; the analysis uses them for the receptive field and the
    engine for the geometry it runs. ``rf`` says how the receptive field carries through:
    "window" (apply the window), "same" (unchanged), "global" (the whole input), "lost" (not
    tracked, e.g. after upsampling) or "vector" (a flat vector: every value may see everything).
    """

    shape: Shape
    derive: Builder
    weights: int = 0
    biases: int = 0
    non_trainable: int = 0
    macs: int = 0
    kernel: tuple[int, ...] | None = None
    stride: tuple[int, ...] | None = None
    dilation: tuple[int, ...] | None = None
    padding: AxisPads | None = None
    rf: Literal["window", "same", "global", "lost", "vector"] = "same"


class RowGeometry(Protocol):
    """What an engine kernel reads of its node's analysis row."""

    @property
    def output_shape(self) -> Shape | None: ...
    @property
    def padding(self) -> AxisPads | None: ...
    @property
    def stride(self) -> tuple[int, ...] | None: ...


if TYPE_CHECKING:
    FloatArray = np.ndarray
else:
    FloatArray = Any

Params = Mapping[str, "FloatArray"]
"""A node's parameters by local name (``weight``, ``bias``, ``running_mean``...)."""

InferFn = Callable[[Any, Sequence[Shape], Sequence[str]], Inferred]
"""``infer(layer, input_shapes, input_labels)``; raises :class:`OpError`. Labels are quoted ids
for messages that name inputs ("'bn2' gives 56×56×64")."""
ParamShapesFn = Callable[[Any, Sequence[Shape]], dict[str, Shape]]
KernelFn = Callable[[Any, RowGeometry, Sequence["FloatArray"], Params], "FloatArray"]
"""``run(layer, row, inputs, params)`` on channels-last maps (H, W, C) or vectors (N,)."""


@dataclass(frozen=True)
class PaletteEntry:
    """One way to create a layer from the palette (an op may offer presets)."""

    key: str
    """Stable identifier, used as the drag payload and the icon's file name."""
    title: str
    description: str
    family: str
    """Colour group for icons and pipeline cards."""
    make: Callable[[int], Layer]
    """Build the layer given the channel count reaching the insertion point."""


def _no_params(layer: Any, shapes: Sequence[Shape]) -> dict[str, Shape]:
    return {}


@dataclass(frozen=True)
class OpSpec:
    """Everything the program knows about one layer type."""

    cls: type[Layer]
    family: str
    """Palette group and colour: conv, pool, act, norm, shape, merge, dense."""
    infer: InferFn
    run: KernelFn
    param_shapes: ParamShapesFn = _no_params
    random_params: tuple[str, ...] = ()
    """Parameters drawn He-normal by default; other parameters start as the identity (batch
    norm scale and variance ones, shifts, biases and means zeros)."""
    arity: tuple[int, int | None] = (1, 1)
    """Fewest and most inputs (None: any number)."""
    summary: Callable[[Any], str] | None = None
    """The card's one-line text; None shows the type's description."""
    palette: tuple[PaletteEntry, ...] = ()
    icon: Callable[[Any], str] | None = None
    """The icon key for a layer (presets look different); None uses the type name."""
    fuse: Literal["", "conv", "pointwise", "pool", "dense", "sum"] = ""
    """How the engine may fuse it into a convolution's band loop ("sum": an element-wise sum
    of its inputs, done band by band after the convolution that computes one of them)."""
    pointwise: Callable[[Any, Params], tuple[FloatArray | None, FloatArray | None, bool]] | None = (
        None
    )
    """For fuse == "pointwise": (scale, shift, relu) of the per-value stage (None = identity)."""
    width: str | None = None
    """The field that sets how many channels or units come out ("filters", "units"): what the
    learner's "what if this layer were twice as wide?" doubles."""
    pool_mode: Callable[[Any], tuple[bool, bool]] | None = None
    """For fuse == "pool": (takes the maximum, counts padded zeros) of the fused pooling stage."""

    @property
    def type_name(self) -> str:
        return self.cls.type_name

    def card_text(self, layer: Layer) -> str:
        return self.summary(layer) if self.summary is not None else layer.description

    def icon_key(self, layer: Layer) -> str:
        return self.icon(layer) if self.icon is not None else layer.type_name


__all__ = [
    "MAX_COUNT",
    "MAX_SIZE",
    "AxisPadding",
    "FieldSpec",
    "Inferred",
    "Layer",
    "LayerSettingError",
    "OpError",
    "OpSpec",
    "OptionalScale",
    "OptionalSize",
    "PaddingSize",
    "PaletteEntry",
    "Params",
    "Shape",
    "Size",
]
