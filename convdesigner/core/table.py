"""Layer-table output: CSV, JSON-ready dicts and a plain-text table (torchinfo/Keras style).

One column list (:data:`COLUMNS`) drives CSV and JSON, so the two can never disagree, and the GUI's
export writes exactly what ``convdesigner summary --format csv`` prints.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from convdesigner.core.analysis import BYTES_PER_VALUE, LayerRow, Status
from convdesigner.core.geometry import AXES
from convdesigner.core.units import bytes_text, fmt, si

if TYPE_CHECKING:
    from convdesigner.core.analysis import Analysis

Getter = Callable[[LayerRow], Any]

_SHORT = {"length": "l", "depth": "d", "height": "h", "width": "w"}
_SIDE_NAMES = {
    "length": ("left", "right"),
    "depth": ("front", "back"),
    "height": ("top", "bottom"),
    "width": ("left", "right"),
}


def _axis_value(attr: str, i: int) -> Getter:
    def get(row: LayerRow) -> int | None:
        value = getattr(row, attr)
        return None if value is None or i >= len(value) else int(value[i])

    return get


def _output_size(i: int, rank: int) -> Getter:
    def get(row: LayerRow) -> int | None:
        shape = row.output_shape
        return shape[1 + i] if shape is not None and len(shape) == rank + 1 else None

    return get


def _pad(i: int, side: int) -> Getter:
    def get(row: LayerRow) -> int | None:
        pads = row.padding
        return None if pads is None or i >= len(pads) else pads[i][side]

    return get


def columns(rank: int = 2, graph: bool = False) -> tuple[tuple[str, Getter], ...]:
    """CSV/JSON columns for a design whose input has ``rank`` spatial axes.

    For pictures (rank 2) they are the first version's columns exactly (``output_height``,
    ``kernel_h``, ``pad_top``...); sequences and volumes get one column per axis instead
    (``output_length``, ``kernel_d``, ``pad_front``...). A design that is not a plain chain
    also gets each node's ``id``, its ``inputs`` and whether it is an ``output``. A vector
    output (after Flatten/Dense) has empty sizes and its length in ``output_channels``.
    """
    axes = AXES[rank]
    cols: list[tuple[str, Getter]] = [("index", lambda r: r.index)]
    if graph:
        cols += [
            ("id", lambda r: r.id),
            ("inputs", lambda r: " ".join(r.inputs)),
            ("output", lambda r: "yes" if r.is_output else ""),
        ]
    cols += [("name", lambda r: r.name), ("type", lambda r: r.type)]
    cols += [(f"output_{axis}", _output_size(i, rank)) for i, axis in enumerate(axes)]
    cols += [
        ("output_channels", lambda r: r.output_channels),
        ("weights", lambda r: r.weights),
        ("biases", lambda r: r.biases),
        ("params", lambda r: r.params),
        ("macs", lambda r: r.macs),
        ("trainable_params", lambda r: r.trainable),
        ("non_trainable_params", lambda r: r.non_trainable),
        ("activation_bytes", lambda r: r.activation_bytes),
    ]
    for attr in ("kernel", "stride"):
        cols += [(f"{attr}_{_SHORT[a]}", _axis_value(attr, i)) for i, a in enumerate(axes)]
    for i, axis in enumerate(axes):
        for side, side_name in enumerate(_SIDE_NAMES[axis]):
            name = f"pad_{side_name}" if rank == 2 else f"pad_{axis}_{side_name}"
            cols.append((name, _pad(i, side)))
    cols += [
        (f"receptive_field_{_SHORT[a]}", _axis_value("receptive_field", i))
        for i, a in enumerate(axes)
    ]
    cols += [(f"jump_{_SHORT[a]}", _axis_value("jump", i)) for i, a in enumerate(axes)]
    cols += [("status", lambda r: r.status.value), ("message", lambda r: r.message)]
    return tuple(cols)


def columns_for(analysis: Analysis) -> tuple[tuple[str, Getter], ...]:
    design = analysis.design
    return columns(design.input.rank, graph=not design.is_sequential)


COLUMNS = columns(2)
"""The columns of a chain of 2-D layers (the first version's CSV)."""
FIELDS = tuple(name for name, _ in COLUMNS)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """Neutralise spreadsheet formula injection in text cells (numbers stay raw)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def row_to_dict(row: LayerRow, cols: tuple[tuple[str, Getter], ...] = COLUMNS) -> dict[str, Any]:
    return {name: get(row) for name, get in cols}


def to_csv(analysis: Analysis, path: str | os.PathLike[str] | None = None) -> str:
    """CSV text (UTF-8, header row, input row first, raw integers); also written to ``path``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    cols = columns_for(analysis)
    writer.writerow([name for name, _ in cols])
    for row in analysis.rows:
        cells = []
        for _name, get in cols:
            value = get(row)
            if value is None:
                cells.append("")
            elif isinstance(value, str):
                cells.append(safe_text(value))
            else:
                cells.append(str(value))
        writer.writerow(cells)
    text = buffer.getvalue()
    if path is not None:
        from convdesigner.core.atomic import atomic_write_text

        atomic_write_text(path, text)
    return text


def totals_dict(analysis: Analysis) -> dict[str, int]:
    t = analysis.totals
    return {
        "params": t.params,
        "trainable_params": t.trainable,
        "non_trainable_params": t.non_trainable,
        "weights": t.weights,
        "biases": t.biases,
        "macs": t.macs,
        "flops": t.flops,
        "activation_bytes": t.activation_bytes,
        "parameter_bytes": t.parameter_bytes,
        "errors": t.errors,
    }


def to_dict(analysis: Analysis) -> dict[str, Any]:
    """Rows and totals with the CSV's keys, plus each row's derivations."""
    rows = []
    cols = columns_for(analysis)
    for row in analysis.rows:
        item = row_to_dict(row, cols)
        item["derivations"] = dict(row.derivations)
        rows.append(item)
    return {"design": analysis.design.name, "rows": rows, "totals": totals_dict(analysis)}


def to_json(analysis: Analysis) -> str:
    return json.dumps(to_dict(analysis), ensure_ascii=False, indent=2) + "\n"


_DERIVATION_ORDER = (
    "output_height",
    "output_width",
    "output_channels",
    "padding",
    "weights",
    "biases",
    "non_trainable",
    "params",
    "macs",
    "receptive_field",
    "memory",
)


def ordered_derivations(row: LayerRow) -> list[tuple[str, str]]:
    """A row's derivations in reading order (shape first, then costs)."""
    keys = [k for k in _DERIVATION_ORDER if k in row.derivations]
    keys += [k for k in row.derivations if k not in keys]
    return [(k, row.derivations[k]) for k in keys]


def _one_line(text: str) -> str:
    """Control characters (a newline in a layer name) would break the fixed-width layout."""
    return "".join(" " if ch < " " or ch == "\x7f" else ch for ch in text)


def _row_label(row: LayerRow) -> str:
    if row.layer is not None and row.layer.name:
        return f"{_one_line(row.name)} ({row.type})"
    return row.name


def to_text(analysis: Analysis, *, explain: bool = False) -> str:
    """A fixed-width table like torchinfo's, with totals; ``explain`` adds every derivation."""
    design = analysis.design
    graph = not design.is_sequential
    order = {1: "L×C", 2: "H×W×C", 3: "D×H×W×C"}[design.input.rank]
    headers: tuple[str, ...] = ("#", "Layer", f"Output ({order})", "Params", "MACs", "RF", "Status")
    if graph:
        headers = ("Id", "Layer", f"Output ({order})", "Params", "MACs", "RF", "Inputs", "Status")
    numeric = {3, 4}
    lines: list[tuple[str, ...]] = [headers]
    for row in analysis.rows:
        rf = rf_text(row)
        status = "" if row.ok else row.status.value.upper()
        if graph:
            lines.append(
                (
                    _one_line(row.id) if row.index is not None else "",
                    _row_label(row),
                    row.shape_text if row.output_shape else "—",
                    fmt(row.params),
                    fmt(row.macs),
                    rf,
                    inputs_text(row, analysis),
                    status or ("output" if row.is_output else ""),
                )
            )
            continue
        lines.append(
            (
                "" if row.index is None else str(row.index),
                _row_label(row),
                row.shape_text if row.output_shape else "—",
                fmt(row.params),
                fmt(row.macs),
                rf,
                "" if row.ok else row.status.value.upper(),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]

    def render(cells: tuple[str, ...]) -> str:
        parts = [
            c.rjust(widths[i]) if i in numeric else c.ljust(widths[i]) for i, c in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    rendered = [render(line) for line in lines]
    rule = "=" * max(len(text) for text in rendered)
    t = analysis.totals
    out = [f"Design: {_one_line(analysis.design.name)}", rule, rendered[0], "-" * len(rule)]
    out += rendered[1:]
    macs = (
        f"{fmt(t.macs)} ({si(t.macs)}; 1 MAC = 2 FLOPs)"
        if t.macs >= 1000
        else (f"{fmt(t.macs)} (1 MAC = 2 FLOPs)")
    )
    partial = partial_note(analysis)
    out += [
        rule,
        f"Total params: {fmt(t.params)}{partial}",
        f"Trainable params: {fmt(t.trainable)}",
        f"Non-trainable params: {fmt(t.non_trainable)}",
        f"Total MACs: {macs}{partial}",
        f"Activation memory (float32, one image): {bytes_text(t.activation_bytes)}{partial}",
        f"Parameter memory (float32): {bytes_text(t.params * BYTES_PER_VALUE)}",
    ]
    errors = [row for row in analysis.rows if row.status is Status.ERROR]
    if errors:
        out.append(f"Errors: {len(errors)}")
        out += [f"  {where(row)} ({_one_line(row.name)}): {row.message}" for row in errors]
        blocked = sum(1 for row in analysis.rows if row.status is Status.NOT_COMPUTABLE)
        if blocked:
            out.append(f"  {blocked} later layer(s) cannot be computed until this is fixed")
    out.append(rule)
    if explain:
        for row in analysis.rows:
            key = row.index if not graph else row.id
            title = "Input" if row.index is None else f"[{key}] {_row_label(row)}"
            out.append("")
            out.append(f"{title}: {row.shape_text if row.output_shape else row.status.value}")
            if not row.ok:
                out.append(f"  {row.message}")
            for key, text in ordered_derivations(row):
                body = text.replace("\n", "\n      ")
                out.append(f"  {key}: {body}")
    return "\n".join(out) + "\n"


def not_computed(analysis: Analysis) -> int:
    """How many nodes have no numbers (an error, or after one): the totals leave them out."""
    return sum(1 for row in analysis.rows if row.index is not None and not row.ok)


def partial_note(analysis: Analysis) -> str:
    """`` (partial: N layers not computed)`` after a total that leaves layers out, else ""."""
    if not analysis.partial:
        return ""
    n = not_computed(analysis)
    return f" (partial: {n} layer{'s' if n != 1 else ''} not computed)"


def where(row: LayerRow, *, capital: bool = False) -> str:
    """How a message names a node: by position in a chain, by id in a graph (``capital``: to
    start a sentence)."""
    if row.id == str(row.index):
        return f"{'L' if capital else 'l'}ayer {row.index}"
    return f"'{_one_line(row.id)}'"


def title(row: LayerRow) -> str:
    """A row's heading: "Layer 3: Conv2D" in a chain, "conv2: Conv2D" in a graph."""
    if row.index is None:
        return "Input"
    where = f"Layer {row.index}" if row.id == str(row.index) else _one_line(row.id)
    return f"{where}: {row.name}"


def rf_text(row: LayerRow) -> str:
    """The receptive-field cell: sizes per axis, "all" once every value sees the whole input
    (after Flatten or global pooling), empty when unknown (an error)."""
    if row.receptive_field is not None:
        return "×".join(str(v) for v in row.receptive_field)
    return "all" if row.ok else ""


def inputs_text(row: LayerRow, analysis: Analysis, limit: int | None = None) -> str:
    """The inputs of a node, left empty when it simply reads the node above; with ``limit``,
    the first ``limit`` of them and how many in all (a dense block's concat reads a thousand:
    the whole list, for every row of the table, took 20 ms to build)."""
    if row.index is None:
        return ""
    above = "input" if row.index == 0 else analysis.design.nodes[row.index - 1].id
    if row.inputs == (above,):
        return ""
    if limit is None or len(row.inputs) <= limit:
        return ", ".join(_one_line(i) for i in row.inputs)
    shown = ", ".join(_one_line(i) for i in row.inputs[:limit])
    return f"{shown}, … ({len(row.inputs)} in all)"
