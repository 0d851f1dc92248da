"""Sliding windows along each spatial axis, and the receptive field they build up.

One axis at a time, for any number of axes: the same code sizes a 1-D, 2-D or 3-D convolution or
pooling window. Output sizes follow PyTorch (floor, or ceil_mode with its drop rule), ``"same"``
follows TensorFlow (asymmetric, the larger half after). The receptive field follows Araujo et
al. (distill.pub, 2019). docs/formulas.md explains each formula with worked examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from convdesigner.core.validate import AxisPads, Padding

AXES: dict[int, tuple[str, ...]] = {
    1: ("length",),
    2: ("height", "width"),
    3: ("depth", "height", "width"),
}
"""Names of the spatial axes of a map of each rank (in (C, *spatial) order)."""

_SIDES = {
    "length": ("L", "left", "right"),
    "depth": ("D", "front", "back"),
    "height": ("H", "top", "bottom"),
    "width": ("W", "left", "right"),
}


def axis_names(rank: int) -> tuple[str, ...]:
    return AXES[rank]


def sides(axis: str) -> tuple[str, str, str]:
    """(symbol, first side, last side) of an axis: ("H", "top", "bottom")."""
    return _SIDES[axis]


class WindowError(Exception):
    """The window cannot slide along this axis (explained for a learner)."""


@dataclass(slots=True)
class Axis:
    """Result of sliding a window along one axis; the text is built on demand."""

    axis: str
    size_in: int
    kernel: int
    stride: int
    dilation: int
    mode: str
    """"same", "explicit" (an integer or pair, also "valid") or "ceil" (explicit + ceil_mode)."""
    size: int
    before: int
    after: int
    dropped: bool = False
    """ceil_mode only: the last window started inside the padding and was dropped."""
    conv: bool = True
    """False for pooling windows (no dilation to show in the formula)."""
    clipped: bool = False
    """ceil_mode only: the window is larger than the padded input and is cut at its edge."""

    def derivation(self) -> str:
        sym, first, last = _SIDES[self.axis]
        n, k, s, d = self.size_in, self.kernel, self.stride, self.dilation
        b, a = self.before, self.after
        # Pools have no dilation: leave the factor out rather than show a meaningless "1·".
        dil_sym, dil = ("dilation·", f"{d}·") if self.conv else ("", "")
        numbers = f"({n} + {b} + {a} - {dil}({k}-1) - 1)"
        if self.mode == "same":
            total = b + a
            split = f"{b} {first}, {a} {last}"
            if b != a:
                split += f" (the odd one goes {last}, as in TensorFlow)"
            return (
                f'"same" padding (TensorFlow rule): {sym}_out = ceil({sym}_in / stride) = '
                f"ceil({n} / {s}) = {self.size}\n"
                f"padding needed = max(({sym}_out - 1)·stride + {dil_sym}(k-1) + 1 - {sym}_in, 0)"
                f"\n  = max(({self.size} - 1)·{s} + {dil}({k}-1) + 1 - {n}, 0) = {total}: {split}\n"
                f"check: {sym}_out = floor({numbers} / {s}) + 1 = {self.size}"
            )
        rule = (
            f"{sym}_out = floor(({sym}_in + pad_{first} + pad_{last} - {dil_sym}(k-1) - 1)"
            " / stride) + 1"
        )
        if self.mode != "ceil":
            return f"{rule}\n{sym}_out = floor({numbers} / {s}) + 1 = {self.size}"
        unclipped = self.size + 1 if self.dropped else self.size
        text = (
            f"ceil_mode: {rule.replace('floor', 'ceil', 1)}\n"
            f"{sym}_out = ceil({numbers} / {s}) + 1 = {unclipped}"
        )
        if self.dropped:
            text += (
                f"\nthe last window would start at ({unclipped} - 1)·{s} = {(unclipped - 1) * s}"
                f", inside the {last} padding (≥ {sym}_in + pad_{first} = {n + b}); PyTorch "
                f"drops it: {sym}_out = {self.size}"
            )
        if self.clipped:
            text += (
                f"\nthe window ({k}) is larger than the padded input ({n + b + a}); in ceil_mode "
                f"PyTorch still gives {self.size} output(s) and cuts the window at the {last} "
                "edge, so it covers only the values that exist"
            )
        return text


def _pads_of(padding: Padding | AxisPads, index: int) -> tuple[int, int]:
    if padding == "valid":
        return 0, 0
    assert not isinstance(padding, str)
    value = padding[index]
    if isinstance(value, tuple):
        return value
    return value, value


def window_axis(
    axis: str,
    size: int,
    kernel: int,
    stride: int,
    dilation: int,
    padding: Padding | AxisPads,
    index: int,
    *,
    ceil_mode: bool = False,
    window: str = "kernel",
) -> Axis:
    """Output size along axis number ``index`` with PyTorch's rule, or TensorFlow's for "same".

    ``padding`` is a mode, a symmetric amount per axis, or (before, after) per axis.
    """
    k_eff = dilation * (kernel - 1) + 1
    conv = window == "kernel"
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + k_eff - size, 0)
        before = total // 2
        return Axis(
            axis, size, kernel, stride, dilation, "same", out, before, total - before, conv=conv
        )
    before, after = _pads_of(padding, index)
    padded = size + before + after
    numerator = padded - k_eff
    if numerator < 0 and not (ceil_mode and -(-numerator // stride) + 1 >= 1):
        spans = f" (dilation {dilation} makes it span {k_eff})" if dilation > 1 else ""
        raise WindowError(
            f"The {window} {axis} {kernel}{spans} is larger than the padded input {axis} "
            f"{padded} ({size} + {before} + {after}): the window does not fit even once. "
            'Use a smaller kernel, more padding or "same" padding.'
        )
    if not ceil_mode:
        out = numerator // stride + 1
        return Axis(axis, size, kernel, stride, dilation, "explicit", out, before, after, conv=conv)
    out = -(-numerator // stride) + 1
    dropped = (out - 1) * stride >= size + before
    if dropped:
        out -= 1
    if out < 1:
        raise WindowError(
            f"The {window} {axis} {kernel} is larger than the padded input {axis} {padded} "
            f"({size} + {before} + {after}), and even in ceil_mode no window starts inside the "
            "input. Use a smaller window or more padding."
        )
    return Axis(
        axis, size, kernel, stride, dilation, "ceil", out, before, after, dropped, conv=conv,
        clipped=numerator < 0,
    )  # fmt: skip


def windows(
    spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    padding: Padding | AxisPads,
    *,
    ceil_mode: bool = False,
    window: str = "kernel",
) -> tuple[Axis, ...]:
    """One :class:`Axis` per spatial axis."""
    names = AXES[len(spatial)]
    return tuple([
        window_axis(names[i], spatial[i], kernel[i], stride[i], dilation[i], padding, i,
                    ceil_mode=ceil_mode, window=window)
        for i in range(len(names))
    ])  # fmt: skip


def applied_padding(axes: tuple[Axis, ...]) -> AxisPads:
    return tuple([(ax.before, ax.after) for ax in axes])


def padding_text(axes: tuple[Axis, ...]) -> str:
    parts = []
    for ax in axes:
        _sym, first, last = _SIDES[ax.axis]
        if len(axes) == 3 or ax.axis == "length":
            parts.append(f"{ax.axis} {first} {ax.before}, {last} {ax.after}")
        else:
            parts.append(f"{first} {ax.before}, {last} {ax.after}")
    return "padding applied: " + ", ".join(parts)


# --------------------------------------------------------------------------- receptive field


class Field(NamedTuple):
    """Receptive-field state carried from layer to layer (per axis: size, jump, start)."""

    size: tuple[int, ...]
    jump: tuple[int, ...]
    start: tuple[int, ...]


def input_field(rank: int) -> Field:
    return Field((1,) * rank, (1,) * rank, (0,) * rank)


def rf_step(
    rf: Field,
    kernel: tuple[int, ...],
    dilation: tuple[int, ...],
    stride: tuple[int, ...],
    pad_before: tuple[int, ...],
) -> Field:
    # Runs once per node on every keystroke: plain index loops, no generators.
    size, jump, start = rf
    axes = range(len(kernel))
    return Field(
        tuple([size[i] + dilation[i] * (kernel[i] - 1) * jump[i] for i in axes]),
        tuple([jump[i] * stride[i] for i in axes]),
        tuple([start[i] - pad_before[i] * jump[i] for i in axes]),
    )


def rf_text(
    prev: Field,
    new: Field,
    kernel: tuple[int, ...],
    dilation: tuple[int, ...],
    stride: tuple[int, ...],
    pad_before: tuple[int, ...],
) -> str:
    names = AXES[len(kernel)]
    lines = []
    k_eff = []
    for i, axis in enumerate(names):
        k, d = kernel[i], dilation[i]
        k_eff.append(d * (k - 1) + 1)
        if d > 1:
            lines.append(f"k_eff = dilation·(k-1) + 1 = {d}·({k}-1) + 1 = {k_eff[i]} ({axis})")
    parts = [
        f"{prev.size[i]} + ({k_eff[i]} - 1)·{prev.jump[i]} = {new.size[i]} ({axis})"
        for i, axis in enumerate(names)
    ]
    lines.append("receptive field r = r_prev + (k_eff - 1)·j_prev: " + ", ".join(parts))
    parts = [f"{prev.jump[i]}·{stride[i]} = {new.jump[i]} ({axis})" for i, axis in enumerate(names)]
    lines.append("jump j = j_prev·stride: " + ", ".join(parts))
    parts = [
        f"{prev.start[i]} - {pad_before[i]}·{prev.jump[i]} = {new.start[i]} ({axis})"
        for i, axis in enumerate(names)
    ]
    lines.append("start = start_prev - pad_before·j_prev: " + ", ".join(parts))
    lines.append(_sees(new))
    return "\n".join(lines)


def _sees(rf: Field) -> str:
    names = AXES[len(rf.size)]
    word = {"height": "rows", "width": "columns", "depth": "slices", "length": "positions"}
    spans = [
        f"{word[axis]} {rf.start[i]}..{rf.start[i] + rf.size[i] - 1}"
        for i, axis in enumerate(names)
    ]
    where = spans[0] if len(spans) == 1 else ", ".join(spans[:-1]) + " and " + spans[-1]
    origin = "(" + ", ".join("0" for _ in names) + ")"
    apart = "×".join(str(j) for j in rf.jump)
    unit = "input pixels" if len(names) == 2 else "input positions"
    return (
        f"so output {origin} sees input {where} (negative = padding), and neighbouring outputs "
        f"are {apart} {unit} apart"
    )
