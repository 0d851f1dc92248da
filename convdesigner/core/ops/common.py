"""Small helpers the op modules share: input checks and the words of card summaries."""

from __future__ import annotations

from convdesigner.core.ops.base import Layer, OpError, Shape
from convdesigner.core.units import fmt, shape_text
from convdesigner.core.validate import AxisPads, Padding

_RANK_WORDS = {1: "1-D sequences (L×C)", 2: "H×W×C feature maps", 3: "3-D volumes (D×H×W×C)"}


def need_map(layer: Layer, shape: Shape, rank: int) -> tuple[int, tuple[int, ...]]:
    """(channels, spatial sizes) of a map of ``rank`` spatial axes, or a learner's reason why
    the input is not one."""
    if len(shape) == 1:
        raise OpError(
            f"{layer.display_name} works on {_RANK_WORDS[rank]}, but its input is a flat vector "
            f"of {fmt(shape[0])} values. Move it before the Flatten layer."
        )
    if len(shape) != rank + 1:
        raise OpError(
            f"{layer.display_name} works on {_RANK_WORDS[rank]}, but its input is "
            f"{shape_text(shape)} ({len(shape) - 1}-D). Use the {len(shape) - 1}-D version of "
            "this layer."
        )
    return shape[0], tuple(shape[1:])


def pads4(padding: AxisPads) -> tuple[int, int, int, int]:
    """Per-axis (before, after) of a 2-D map as the engine's (top, bottom, left, right)."""
    (top, bottom), (left, right) = padding
    return top, bottom, left, right


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' if n != 1 else ''}"


def size_text(p: tuple[int, ...]) -> str:
    return "×".join(str(v) for v in p)


def one_or_pair(p: tuple[int, ...]) -> str:
    return str(p[0]) if all(v == p[0] for v in p) else size_text(p)


def padding_summary(p: Padding) -> str:
    if isinstance(p, str):
        return p
    return "no padding" if not any(p) else f"pad {one_or_pair(p)}"
