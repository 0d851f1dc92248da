"""Turning what a user wrote (in a file, a form or code) into a setting, or a reason why not.

Shared by every op's fields, the input specification and the file loader, so a limit or a message
is written once. A :class:`LayerSettingError` names the field, so the loader can prefix the
location (``layers[2].kernel``) and the property panel can show it next to the right editor.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

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


def printable(text: str, limit: int = 200) -> str:
    """``text`` safe to show in a terminal, a message box or one log line: control characters
    (a terminal escape sequence, a line break), half surrogate pairs and other unprintable
    characters become ``\\x1b``-style escapes, and a long text is cut with "...".

    Error messages quote what a shared file contains; printed raw, an escape sequence could set
    the terminal's title or clear the screen, and a 100 KB key would bury the message.
    """
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace")
                   .decode("ascii") for ch in text)  # fmt: skip


def describe_value(value: object, limit: int = 60) -> str:
    """The offending value as the user wrote it (JSON spelling), cut short if long."""
    try:
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif value is None:
            text = "null"
        elif isinstance(value, str):
            text = '"' + printable(value, limit) + '"'
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
    if any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in value):
        # A line break or tab in a name would break tables, CSV rows and menus.
        raise LayerSettingError(
            field_name, "must be one line of text (no line breaks, tabs or control characters)"
        )
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        # Half a surrogate pair cannot be written as UTF-8: the design could never be saved.
        raise LayerSettingError(
            field_name, "contains half of a surrogate pair (not valid Unicode text)"
        )
    return value


def to_number(
    value: object,
    field_name: str,
    *,
    minimum: float,
    maximum: float,
    include_minimum: bool = True,
    include_maximum: bool = True,
    wording: str | None = None,
) -> float:
    """A real number within limits; ``wording`` phrases the range for the message."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok:
        number = float(value)  # type: ignore[arg-type]
        low_ok = number >= minimum if include_minimum else number > minimum
        high_ok = number <= maximum if include_maximum else number < maximum
        ok = low_ok and high_ok and number == number  # NaN fails
        if ok:
            return number
    if wording is None:
        wording = f"a number from {minimum:g} to {maximum:g}"
    raise LayerSettingError(field_name, f"must be {wording}, got {describe_value(value)}")


def to_choice(value: object, field_name: str, choices: tuple[str, ...]) -> str:
    if isinstance(value, str) and value in choices:
        return value
    options = ", ".join(f'"{c}"' for c in choices)
    raise LayerSettingError(field_name, f"must be one of {options}, got {describe_value(value)}")


AxisPads: TypeAlias = tuple[tuple[int, int], ...]
"""Padding as (before, after) per spatial axis: ((top, bottom), (left, right)) for maps."""


def to_axis_pads(
    value: object, field_name: str, rank: int = 2, maximum: int = MAX_SIZE
) -> AxisPads:
    """An int (all sides), one int per axis (both sides), or ``[before, after]`` per axis."""
    shape = "[[top, bottom], [left, right]]" if rank == 2 else "[[before, after], ...]"
    problem = (
        f"must be a non-negative integer, one per axis, or {shape}, got {describe_value(value)}"
    )
    pads: list[tuple[int, int]] = []
    if _is_int(value):
        assert isinstance(value, int)
        pads = [(value, value)] * rank
    elif isinstance(value, list | tuple) and len(value) == rank:
        for item in value:
            if _is_int(item):
                pads.append((int(item), int(item)))
            elif (
                isinstance(item, list | tuple) and len(item) == 2 and all(_is_int(v) for v in item)
            ):
                pads.append((int(item[0]), int(item[1])))
            else:
                raise LayerSettingError(field_name, problem)
    else:
        raise LayerSettingError(field_name, problem)
    flat = [v for pair in pads for v in pair]
    if min(flat) < 0:
        raise LayerSettingError(field_name, problem)
    if max(flat) > maximum:
        raise LayerSettingError(
            field_name, f"must be at most {maximum:,}, got {describe_value(value)}"
        )
    return tuple(pads)
