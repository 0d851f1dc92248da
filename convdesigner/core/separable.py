"""Depthwise-separable pairs: finding them, and rewriting a conv into one and back (no Qt).

A depthwise-separable convolution (MobileNet's building block) is a depthwise conv (one k×k
filter per input channel, ``groups = channels``) followed by a 1×1 conv that mixes the channels.
It computes the same kind of map as one k×k conv for a fraction of the weights and MACs. The
comparison texts live in :mod:`convdesigner.core.teaching`; the document's undoable edits call
:func:`make_separable` and :func:`make_normal`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from convdesigner.core.analysis import Analysis
from convdesigner.core.design import INPUT_ID, Design, Node
from convdesigner.core.ops import spec_for
from convdesigner.core.ops.conv import Conv2D

PASS_THROUGH_FAMILIES = ("act", "norm")
"""Ops a pair may have between its two convs (MobileNet puts BatchNorm and ReLU there): they
act on each value or channel alone, so they change no count the comparison is about."""


class RewriteError(ValueError):
    """A layer that cannot be rewritten; the message says why in a learner's words."""


@dataclass(frozen=True)
class Pair:
    """A depthwise conv and the 1×1 conv that mixes its output."""

    depthwise: str
    pointwise: str
    between: tuple[str, ...] = ()
    """Ids of the per-value ops between them (BatchNorm, ReLU...), in order."""


def _channels_in(analysis: Analysis, node_id: str) -> int | None:
    row = analysis.row(node_id)
    return row.input_shape[0] if row.ok and row.input_shape else None


def is_depthwise(analysis: Analysis, node_id: str) -> bool:
    """One filter per input channel (``groups = filters = channels``), more than one channel."""
    layer = analysis.design.node(node_id).op
    c_in = _channels_in(analysis, node_id)
    return (
        isinstance(layer, Conv2D)
        and c_in is not None
        and c_in > 1
        and layer.groups == c_in
        and layer.filters == c_in
    )


def is_pointwise(analysis: Analysis, node_id: str) -> bool:
    """A plain 1×1 conv (stride 1, no padding, no groups): it only mixes channels."""
    layer = analysis.design.node(node_id).op
    return (
        isinstance(layer, Conv2D)
        and analysis.row(node_id).ok
        and layer.kernel == (1, 1)
        and layer.stride == (1, 1)
        and layer.groups == 1
        and layer.padding in ("same", "valid", (0, 0))
    )


def is_normal_conv(analysis: Analysis, node_id: str) -> bool:
    """A conv with a window larger than 1×1 whose filters span all input channels."""
    layer = analysis.design.node(node_id).op
    c_in = _channels_in(analysis, node_id)
    return (
        isinstance(layer, Conv2D)
        and c_in is not None
        and c_in > 1
        and layer.groups == 1
        and layer.kernel != (1, 1)
    )


def find_pair(analysis: Analysis, node_id: str) -> Pair | None:
    """The separable pair ``node_id`` belongs to (as its depthwise, its 1×1 or an op between),
    or None. The depthwise's output must reach the 1×1 conv and nothing else."""
    design = analysis.design
    if node_id not in design:
        return None
    # Walk up from a 1×1 conv or a pass-through op to a depthwise conv...
    start = node_id
    while not is_depthwise(analysis, start):
        passes = _family(design, start) in PASS_THROUGH_FAMILIES
        if not (passes or (start == node_id and is_pointwise(analysis, start))):
            return None
        sources = design.inputs_of(design.index_of(start))
        if len(sources) != 1 or sources[0] == INPUT_ID:
            return None
        start = sources[0]
    # ...then down through pass-through ops to a 1×1 conv.
    between: list[str] = []
    current = start
    while True:
        readers = design.consumers[current]
        if len(readers) != 1:
            return None
        current = readers[0]
        if is_pointwise(analysis, current):
            break
        if _family(design, current) not in PASS_THROUGH_FAMILIES:
            return None
        between.append(current)
    pair = Pair(start, current, tuple(between))
    return pair if node_id in (pair.depthwise, pair.pointwise, *pair.between) else None


def _family(design: Design, node_id: str) -> str:
    return spec_for(design.node(node_id).op).family


def separable_ops(conv: Conv2D, channels: int) -> tuple[Conv2D, Conv2D]:
    """The depthwise and 1×1 convs that replace ``conv`` (same window, stride, padding and
    dilation; the bias moves to the 1×1 conv, which gives the output)."""
    depthwise = Conv2D(
        filters=channels,
        kernel=conv.kernel,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=channels,
        bias=False,
    )
    pointwise = Conv2D(filters=conv.filters, kernel=1, bias=conv.bias, name=conv.name)
    return depthwise, pointwise


def normal_op(depthwise: Conv2D, pointwise: Conv2D) -> Conv2D:
    """The one conv a separable pair stands for: the depthwise's window, the 1×1's filters."""
    return Conv2D(
        filters=pointwise.filters,
        kernel=depthwise.kernel,
        stride=depthwise.stride,
        padding=depthwise.padding,
        dilation=depthwise.dilation,
        bias=pointwise.bias or depthwise.bias,
        name=pointwise.name,
    )


def make_separable(analysis: Analysis, node_id: str) -> tuple[Design, str]:
    """The design with conv ``node_id`` split into a depthwise conv and a 1×1 conv, and the id
    of the depthwise conv (to select). The 1×1 conv keeps the node's id, so whatever read the
    conv reads the pair's output; in a chain with positional ids the ids follow positions."""
    design = analysis.design
    if node_id not in design:
        raise RewriteError(f"the design has no node {node_id!r}")
    layer = design.node(node_id).op
    if not is_normal_conv(analysis, node_id):
        raise RewriteError(_why_not_normal(analysis, node_id))
    assert isinstance(layer, Conv2D)
    c_in = _channels_in(analysis, node_id)
    assert c_in is not None
    depthwise, pointwise = separable_ops(layer, c_in)
    index = design.index_of(node_id)
    if design.is_sequential:
        new = design.insert(index, depthwise).replace_layer(index + 1, pointwise)
        return new, new.nodes[index].id
    node = design.nodes[index]
    sources = design.inputs_of(index)
    above = design.nodes[index - 1].id if index > 0 else INPUT_ID
    inserted = design.insert(index, depthwise)
    dw_id = inserted.nodes[index].id
    dw_node = Node(dw_id, depthwise, None if sources == (above,) else sources)
    new = inserted.replace_node(index, dw_node).replace_node(
        index + 1, replace(node, op=pointwise, inputs=None)
    )
    return new, dw_id


def _why_not_normal(analysis: Analysis, node_id: str) -> str:
    layer = analysis.design.node(node_id).op
    if not isinstance(layer, Conv2D):
        return f"only a Conv2D can be made separable, not a {layer.display_name}"
    if not analysis.row(node_id).ok:
        return "this layer has an error; fix it first"
    if layer.kernel == (1, 1):
        return "a 1×1 conv only mixes channels already: there is nothing to separate"
    if layer.groups != 1:
        return f"this conv already uses groups = {layer.groups}; only a conv with groups = 1 can"
    return "a conv on a single input channel has no channels to mix: nothing to separate"


def make_normal(analysis: Analysis, node_id: str) -> tuple[Design, str]:
    """The design with the separable pair ``node_id`` belongs to replaced by one conv (at the
    1×1 conv's place, with its id), and that conv's id."""
    pair = find_pair(analysis, node_id)
    if pair is None:
        raise RewriteError(
            "this is not part of a depthwise-separable pair (a depthwise conv whose output only "
            "a 1×1 conv reads)"
        )
    if pair.between:
        names = ", ".join(analysis.design.node(b).label for b in pair.between)
        raise RewriteError(
            f"the pair has {names} between its two convs; remove them first, or the one conv "
            "would lose them"
        )
    design = analysis.design
    dw = design.node(pair.depthwise).op
    pw = design.node(pair.pointwise).op
    assert isinstance(dw, Conv2D)
    assert isinstance(pw, Conv2D)
    dw_index, pw_index = design.index_of(pair.depthwise), design.index_of(pair.pointwise)
    removed = design.remove(dw_index)
    new_index = pw_index - 1
    new = removed.replace_layer(new_index, normal_op(dw, pw))
    return new, new.nodes[new_index].id
