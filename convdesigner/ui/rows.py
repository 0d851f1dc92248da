"""What the views show of an analysis row, shared by the table and the pipeline cards."""

from __future__ import annotations

from convdesigner.core.analysis import LayerRow


def size_text(sizes: tuple[int, ...] | None) -> str:
    """A kernel or stride: one number when every axis agrees (``3``), else ``3×1``."""
    if sizes is None:
        return ""
    return str(sizes[0]) if all(s == sizes[0] for s in sizes) else "×".join(map(str, sizes))


def padding_text(row: LayerRow) -> str:
    """Padding applied per axis (``h×w``); uneven sides ("same" with an odd total) as
    ``before+after``; one number when every axis agrees."""
    if row.padding is None:
        return ""
    axes = [str(a) if a == b else f"{a}+{b}" for a, b in row.padding]
    return axes[0] if all(a == axes[0] for a in axes) else "×".join(axes)


def row_key(row: LayerRow) -> tuple[object, ...]:
    """Everything a view shows of a row, without the (lazily computed) derivation texts: two
    rows with equal keys look the same, so a view need not repaint them."""
    return (
        row.index,
        row.id,
        row.name,
        row.layer,
        row.inputs,
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
