"""What the views show of an analysis row, shared by the table and the pipeline cards."""

from __future__ import annotations

from convdesigner.core.analysis import Analysis, LayerRow
from convdesigner.core.geometry import AXES
from convdesigner.core.ops import spec_for


def size_text(sizes: tuple[int, ...] | None) -> str:
    """A kernel or stride: one number when every axis agrees (``3``), else ``3×1``."""
    if sizes is None:
        return ""
    return str(sizes[0]) if all(s == sizes[0] for s in sizes) else "×".join(map(str, sizes))


_SIDES = {1: (("left", "right"),), 2: (("top", "bottom"), ("left", "right"))}


def _side_names(rank: int) -> tuple[tuple[str, str], ...]:
    if rank in _SIDES:
        return _SIDES[rank]
    return tuple((f"{axis} before", f"{axis} after") for axis in AXES.get(rank, ()))


def padding_text(row: LayerRow) -> str:
    """Padding applied, in words: one number when every side gets the same ("2"), else the
    sides that get any ("bottom 1, right 1"; "top 1, bottom 2, left 1, right 1")."""
    if row.padding is None:
        return ""
    flat = [v for pair in row.padding for v in pair]
    if all(v == flat[0] for v in flat):
        return str(flat[0])
    names = _side_names(len(row.padding))
    if len(names) != len(row.padding):  # an unknown rank: axis by axis
        return " × ".join(f"{a}+{b}" for a, b in row.padding)
    parts: list[str] = []
    for (before, after), (first, last) in zip(row.padding, names, strict=True):
        if before == after:
            if before:
                parts.append(f"{first}/{last} {before}")
        else:
            parts += [f"{name} {v}" for name, v in ((first, before), (last, after)) if v]
    return ", ".join(parts)


def padding_tip(row: LayerRow) -> str:
    """Every side spelled out (the cell may show only the ones that are not zero)."""
    if row.padding is None:
        return ""
    names = _side_names(len(row.padding))
    if len(names) != len(row.padding):
        return "zeros added before and after each axis: " + padding_text(row)
    sides = [
        f"{name} {v}"
        for pair, pair_names in zip(row.padding, names, strict=True)
        for name, v in zip(pair_names, pair, strict=True)
    ]
    return "zeros added around the input: " + ", ".join(sides)


def type_text(row: LayerRow) -> str:
    """The type, with what makes a convolution special: depthwise, grouped, 1×1, dilated."""
    layer = row.layer
    kernel = getattr(layer, "kernel", None)
    groups = getattr(layer, "groups", 1)
    if layer is None or not isinstance(kernel, tuple):
        return row.type
    notes: list[str] = []
    channels_in = row.input_shape[0] if row.input_shape else None
    if isinstance(groups, int) and groups > 1:
        depthwise = channels_in is not None and groups == channels_in
        notes.append("depthwise" if depthwise else f"{groups} groups")
    ones = " " + "×".join("1" * len(kernel)) if all(k == 1 for k in kernel) else ""
    dilation = getattr(layer, "dilation", None)
    if isinstance(dilation, tuple) and any(d > 1 for d in dilation):
        notes.append(f"dilation {size_text(dilation)}")
    return f"{row.type}{ones}" + (f" ({', '.join(notes)})" if notes else "")


def param_shapes(row: LayerRow) -> dict[str, tuple[int, ...]]:
    """Each parameter tensor's shape, as the weights file and the engine hold it."""
    if row.layer is None:
        return {}
    known = tuple(s for s in row.input_shapes if s is not None)
    if len(known) != len(row.input_shapes) or not row.ok:
        return {}
    return dict(spec_for(row.layer).param_shapes(row.layer, known))


def _reading_order(name: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Kernel sizes first, then input channels, then filters (MATLAB's and Keras' order,
    "5×5×100×150"), from the engine's (filters, channels, *kernel); a dense weight as
    inputs × units."""
    if name == "weight" and len(shape) >= 3:
        return (*shape[2:], shape[1], shape[0])
    if name == "weight" and len(shape) == 2:
        return (shape[1], shape[0])
    return shape


def weight_shape_text(row: LayerRow) -> str:
    """The weight tensor's shape in reading order ("5×5×100×150"), "" without one."""
    shape = param_shapes(row).get("weight")
    return "" if shape is None else "×".join(map(str, _reading_order("weight", shape)))


def param_shapes_text(row: LayerRow) -> str:
    """Every parameter tensor: "weights 5×5×100×150, bias 150" ("" for none)."""
    names = {"weight": "weights", "bias": "bias"}
    return ", ".join(
        f"{names.get(name, name)} {'×'.join(map(str, _reading_order(name, shape)))}"
        for name, shape in param_shapes(row).items()
        if shape  # a counter such as batch norm's num_batches_tracked is not a tensor to show
    )


def row_key(row: LayerRow) -> tuple[object, ...]:
    """Everything a view shows of a row, without the (lazily computed) derivation texts: two
    rows with equal keys look the same, so a view need not repaint them."""
    return (
        row.index,
        row.id,
        row.name,
        row.layer,
        row.inputs,
        row.input_shapes,
        row.is_output,
        row.output_shape,
        row.status,
        row.message,
        row.weights,
        row.biases,
        row.trainable,
        row.non_trainable,
        row.macs,
        row.kernel,
        row.stride,
        row.padding,
        row.receptive_field,
    )


def changed_span(shown: Analysis, new: Analysis) -> tuple[int, int] | None:
    """First and last row positions whose content differs between two analyses of designs
    with equally many rows (None: none), for one ``dataChanged`` over that span.

    Searched from both ends among the rows ``analyse()`` made anew, so an edit that changes
    every row below it (a receptive field, in a 10,000-node graph) costs two comparisons, not
    20,000 row keys (44 ms).
    """
    candidates = new.changed_since(shown)
    old_rows, rows = shown.rows, new.rows
    first = next((i for i in candidates if row_key(old_rows[i]) != row_key(rows[i])), None)
    if first is None:
        return None
    last = next(i for i in reversed(candidates) if row_key(old_rows[i]) != row_key(rows[i]))
    return first, last
