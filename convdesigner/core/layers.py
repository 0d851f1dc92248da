"""Layer types: one frozen dataclass each, with PyTorch's defaults and per-layer validation.

A layer object only knows its own settings; whether it fits the tensor that reaches it is the
analysis' job (``convdesigner.core.analysis``). Validation here therefore covers what can be judged
from the layer alone (a kernel of -3, zero filters), raising :class:`LayerSettingError` with the
field's name so the file loader can prefix the location (``layers[2].kernel``) and the UI can show
it next to the right editor.

Sizes accept an int or an ``(h, w)`` pair and are stored as pairs, so the rest of the code never
has to branch on the two spellings.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, Literal, TypeAlias

Pair: TypeAlias = tuple[int, int]
PaddingMode: TypeAlias = Literal["valid", "same"]
Padding: TypeAlias = PaddingMode | Pair
SizeArg: TypeAlias = int | tuple[int, int] | list[int]
"""What a size setting accepts: ``7`` means ``(7, 7)``; files give ``[h, w]`` lists."""
PaddingArg: TypeAlias = PaddingMode | SizeArg


class LayerSettingError(ValueError):
    """A layer setting that is wrong whatever the input (names the field)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field_name = field_name
        self.message = message


MAX_NAME = 200
MAX_SIZE = 16384
"""Largest kernel, stride, dilation or padding: as large as the largest input side."""
MAX_COUNT = 1_000_000
"""Most filters, units or groups in one layer (keeps every count a sane number)."""


def describe_value(value: object, limit: int = 60) -> str:
    """The offending value as the user wrote it (JSON spelling), cut short if long."""
    try:
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif value is None:
            text = "null"
        elif isinstance(value, str):
            text = '"' + value + '"'
        elif isinstance(value, list | tuple):
            text = "[" + ", ".join(describe_value(v, limit) for v in value[:10]) + "]"
            if len(value) > 10:
                text = text[:-1] + ", ...]"
        elif isinstance(value, int) and abs(value) > 10**30:
            text = "a huge number"
        else:
            text = repr(value)
    except Exception:  # describing a value must never fail
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def to_pair(value: object, field_name: str, *, minimum: int = 1, maximum: int = MAX_SIZE) -> Pair:
    """Normalise an int or ``[h, w]`` pair; anything else gets a reason a learner can act on."""
    kind = "positive integer" if minimum >= 1 else "non-negative integer"
    problem = f"must be a {kind} or [h, w] pair, got {describe_value(value)}"
    if _is_int(value):
        assert isinstance(value, int)
        pair = (value, value)
    elif isinstance(value, list | tuple) and len(value) == 2 and all(_is_int(v) for v in value):
        pair = (int(value[0]), int(value[1]))
    else:
        raise LayerSettingError(field_name, problem)
    if min(pair) < minimum:
        raise LayerSettingError(field_name, problem)
    if max(pair) > maximum:
        problem = f"must be at most {maximum:,}, got {describe_value(value)}"
        raise LayerSettingError(field_name, problem)
    return pair


def to_padding(value: object, field_name: str = "padding") -> Padding:
    if isinstance(value, str):
        if value in ("valid", "same"):
            return value  # type: ignore[return-value]
        raise LayerSettingError(
            field_name,
            f'must be "valid", "same", an integer or [h, w] pair, got {describe_value(value)}',
        )
    if _is_int(value) or isinstance(value, list | tuple):
        try:
            return to_pair(value, field_name, minimum=0)
        except LayerSettingError as exc:
            if exc.message.startswith("must be at most"):
                raise
    raise LayerSettingError(
        field_name,
        'must be "valid", "same", a non-negative integer or [h, w] pair, '
        f"got {describe_value(value)}",
    )


def to_positive_int(value: object, field_name: str, *, maximum: int = MAX_COUNT) -> int:
    if not _is_int(value) or value < 1:  # type: ignore[operator]
        problem = f"must be a positive integer, got {describe_value(value)}"
        raise LayerSettingError(field_name, problem)
    if value > maximum:  # type: ignore[operator]
        problem = f"must be at most {maximum:,}, got {describe_value(value)}"
        raise LayerSettingError(field_name, problem)
    return int(value)  # type: ignore[call-overload,no-any-return]


def to_bool(value: object, field_name: str) -> bool:
    if not isinstance(value, bool):
        raise LayerSettingError(field_name, f"must be true or false, got {describe_value(value)}")
    return value


def to_name(value: object, field_name: str = "name") -> str:
    if not isinstance(value, str):
        raise LayerSettingError(field_name, f"must be a string, got {describe_value(value)}")
    if len(value) > MAX_NAME:
        raise LayerSettingError(field_name, f"must be at most {MAX_NAME} characters long")
    if any(ch < " " or ch == "\x7f" for ch in value):
        # A line break or tab in a name would break tables, CSV rows and menus.
        raise LayerSettingError(
            field_name, "must be one line of text (no line breaks, tabs or control characters)"
        )
    return value


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


@dataclass(frozen=True)
class Layer:
    """Base of all layer types. ``type_name`` is the file format's ``"type"`` value."""

    type_name: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    name: str = field(default="", kw_only=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", to_name(self.name))

    def _set(self, attr: str, value: object) -> None:
        object.__setattr__(self, attr, value)

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


@dataclass(frozen=True)
class Conv2D(Layer):
    type_name: ClassVar[str] = "conv2d"
    display_name: ClassVar[str] = "Conv2D"
    description: ClassVar[str] = (
        "Slides filters over the input; each filter spans all input channels"
    )

    filters: int = 1
    kernel: Size = Size((3, 3))
    stride: Size = Size((1, 1))
    padding: PaddingSize = PaddingSize((0, 0))
    dilation: Size = Size((1, 1))
    groups: int = 1
    bias: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        self._set("filters", to_positive_int(self.filters, "filters"))
        self._set("kernel", to_pair(self.kernel, "kernel"))
        self._set("stride", to_pair(self.stride, "stride"))
        self._set("padding", to_padding(self.padding))
        self._set("dilation", to_pair(self.dilation, "dilation"))
        self._set("groups", to_positive_int(self.groups, "groups"))
        self._set("bias", to_bool(self.bias, "bias"))


@dataclass(frozen=True)
class _Pool2D(Layer):
    """Shared settings of max and average pooling; ``stride=None`` means "same as the kernel"."""

    kernel: Size = Size((2, 2))
    stride: OptionalSize = OptionalSize(None)
    padding: PaddingSize = PaddingSize((0, 0))
    ceil_mode: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        self._set("kernel", to_pair(self.kernel, "kernel"))
        if self.stride is not None:
            self._set("stride", to_pair(self.stride, "stride"))
        self._set("padding", to_padding(self.padding))
        self._set("ceil_mode", to_bool(self.ceil_mode, "ceil_mode"))

    @property
    def effective_stride(self) -> Pair:
        return self.stride if self.stride is not None else self.kernel


@dataclass(frozen=True)
class MaxPool2D(_Pool2D):
    type_name: ClassVar[str] = "maxpool2d"
    display_name: ClassVar[str] = "MaxPool2D"
    description: ClassVar[str] = "Keeps the largest value of each window, channel by channel"

    # Declared again (same place, same defaults): mypy 2.4 reads descriptor fields inherited by a
    # dataclass subclass with their __set__ type, so layer.kernel would not be a pair here.
    kernel: Size = Size((2, 2))
    stride: OptionalSize = OptionalSize(None)
    padding: PaddingSize = PaddingSize((0, 0))


@dataclass(frozen=True)
class AvgPool2D(_Pool2D):
    type_name: ClassVar[str] = "avgpool2d"
    display_name: ClassVar[str] = "AvgPool2D"
    description: ClassVar[str] = "Averages each window, channel by channel"

    # Declared again (same place, same defaults): mypy 2.4 reads descriptor fields inherited by a
    # dataclass subclass with their __set__ type, so layer.kernel would not be a pair here.
    kernel: Size = Size((2, 2))
    stride: OptionalSize = OptionalSize(None)
    padding: PaddingSize = PaddingSize((0, 0))

    count_include_pad: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        self._set("count_include_pad", to_bool(self.count_include_pad, "count_include_pad"))


@dataclass(frozen=True)
class GlobalAvgPool2D(Layer):
    type_name: ClassVar[str] = "globalavgpool2d"
    display_name: ClassVar[str] = "Global Avg Pool"
    description: ClassVar[str] = "Averages each whole channel to one value (output 1×1×C)"


@dataclass(frozen=True)
class ReLU(Layer):
    type_name: ClassVar[str] = "relu"
    display_name: ClassVar[str] = "ReLU"
    description: ClassVar[str] = "Sets negative values to zero; no weights, shape unchanged"


@dataclass(frozen=True)
class BatchNorm2D(Layer):
    type_name: ClassVar[str] = "batchnorm2d"
    display_name: ClassVar[str] = "BatchNorm"
    description: ClassVar[str] = "Normalises each channel with a learned scale and shift"

    eps: float = 1e-5

    def __post_init__(self) -> None:
        super().__post_init__()
        eps = self.eps
        if isinstance(eps, bool) or not isinstance(eps, int | float) or not (0 < eps < 1):
            raise LayerSettingError(
                "eps", f"must be a number between 0 and 1, got {describe_value(eps)}"
            )
        self._set("eps", float(eps))


@dataclass(frozen=True)
class Flatten(Layer):
    type_name: ClassVar[str] = "flatten"
    display_name: ClassVar[str] = "Flatten"
    description: ClassVar[str] = "Unrolls C×H×W maps into one vector (PyTorch's C, H, W order)"


@dataclass(frozen=True)
class Dense(Layer):
    type_name: ClassVar[str] = "dense"
    display_name: ClassVar[str] = "Dense"
    description: ClassVar[str] = "Fully connected: every output unit sees every input value"

    units: int = 10
    bias: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        self._set("units", to_positive_int(self.units, "units"))
        self._set("bias", to_bool(self.bias, "bias"))


@dataclass(frozen=True)
class Dropout(Layer):
    type_name: ClassVar[str] = "dropout"
    display_name: ClassVar[str] = "Dropout"
    description: ClassVar[str] = "Randomly zeroes values while training; identity at inference"

    rate: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        rate = self.rate
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not (0 <= rate < 1):
            raise LayerSettingError(
                "rate",
                f"must be a number from 0 up to (not including) 1, got {describe_value(rate)}",
            )
        self._set("rate", float(rate))


LAYER_TYPES: dict[str, type[Layer]] = {
    cls.type_name: cls
    for cls in (
        Conv2D,
        MaxPool2D,
        AvgPool2D,
        GlobalAvgPool2D,
        ReLU,
        BatchNorm2D,
        Flatten,
        Dense,
        Dropout,
    )
}
"""Every layer type by its file-format name, in palette order."""
