"""Layer-table output: CSV, JSON-ready dicts and a plain-text table (torchinfo/Keras style).

One column list (:data:`COLUMNS`) drives CSV and JSON, so the two can never disagree, and the GUI's
export writes exactly what ``convdesigner summary --format csv`` prints.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convdesigner.core.analysis import BYTES_PER_VALUE, LayerRow, Status, bytes_text, fmt

if TYPE_CHECKING:
    from convdesigner.core.analysis import Analysis


def _pair(attr: str, i: int) -> Callable[[LayerRow], int | None]:
    def get(row: LayerRow) -> int | None:
        value = getattr(row, attr)
        return None if value is None else int(value[i])

    return get


def _padding(i: int) -> Callable[[LayerRow], int | None]:
    return lambda row: None if row.padding is None else row.padding[i]


COLUMNS: tuple[tuple[str, Callable[[LayerRow], Any]], ...] = (
    ("index", lambda r: r.index),
    ("name", lambda r: r.name),
    ("type", lambda r: r.type),
    ("output_height", lambda r: r.output_height),
    ("output_width", lambda r: r.output_width),
    ("output_channels", lambda r: r.output_channels),
    ("weights", lambda r: r.weights),
    ("biases", lambda r: r.biases),
    ("params", lambda r: r.params),
    ("macs", lambda r: r.macs),
    ("trainable_params", lambda r: r.trainable),
    ("non_trainable_params", lambda r: r.non_trainable),
    ("activation_bytes", lambda r: r.activation_bytes),
    ("kernel_h", _pair("kernel", 0)),
    ("kernel_w", _pair("kernel", 1)),
    ("stride_h", _pair("stride", 0)),
    ("stride_w", _pair("stride", 1)),
    ("pad_top", _padding(0)),
    ("pad_bottom", _padding(1)),
    ("pad_left", _padding(2)),
    ("pad_right", _padding(3)),
    ("receptive_field_h", _pair("receptive_field", 0)),
    ("receptive_field_w", _pair("receptive_field", 1)),
    ("jump_h", _pair("jump", 0)),
    ("jump_w", _pair("jump", 1)),
    ("status", lambda r: r.status.value),
    ("message", lambda r: r.message),
)
"""CSV/JSON columns. A vector output (after Flatten/Dense) has empty height and width and its
length in ``output_channels``."""

FIELDS = tuple(name for name, _ in COLUMNS)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_text(value: str) -> str:
    """Neutralise spreadsheet formula injection in text cells (numbers stay raw)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def row_to_dict(row: LayerRow) -> dict[str, Any]:
    return {name: get(row) for name, get in COLUMNS}


def to_csv(analysis: Analysis, path: str | Path | None = None) -> str:
    """CSV text (UTF-8, header row, input row first, raw integers); also written to ``path``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FIELDS)
    for row in analysis.rows:
        cells = []
        for _name, get in COLUMNS:
            value = get(row)
            if value is None:
                cells.append("")
            elif isinstance(value, str):
                cells.append(_safe_text(value))
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
    for row in analysis.rows:
        item = row_to_dict(row)
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
    headers = ("#", "Layer", "Output (H×W×C)", "Params", "MACs", "RF", "Status")
    numeric = {3, 4}
    lines: list[tuple[str, ...]] = [headers]
    for row in analysis.rows:
        rf = (
            f"{row.receptive_field[0]}×{row.receptive_field[1]}"
            if row.receptive_field
            else ("all" if row.ok else "")
        )
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
        f"{fmt(t.macs)} ({_si(t.macs)}; 1 MAC = 2 FLOPs)"
        if t.macs >= 1000
        else (f"{fmt(t.macs)} (1 MAC = 2 FLOPs)")
    )
    out += [
        rule,
        f"Total params: {fmt(t.params)}",
        f"Trainable params: {fmt(t.trainable)}",
        f"Non-trainable params: {fmt(t.non_trainable)}",
        f"Total MACs: {macs}",
        f"Activation memory (float32, one image): {bytes_text(t.activation_bytes)}",
        f"Parameter memory (float32): {bytes_text(t.params * BYTES_PER_VALUE)}",
    ]
    errors = [row for row in analysis.rows if row.status is Status.ERROR]
    if errors:
        out.append(f"Errors: {len(errors)}")
        out += [f"  layer {row.index} ({_one_line(row.name)}): {row.message}" for row in errors]
        blocked = sum(1 for row in analysis.rows if row.status is Status.NOT_COMPUTABLE)
        if blocked:
            out.append(f"  {blocked} later layer(s) cannot be computed until this is fixed")
    out.append(rule)
    if explain:
        for row in analysis.rows:
            title = "Input" if row.index is None else f"[{row.index}] {_row_label(row)}"
            out.append("")
            out.append(f"{title}: {row.shape_text if row.output_shape else row.status.value}")
            if not row.ok:
                out.append(f"  {row.message}")
            for key, text in ordered_derivations(row):
                body = text.replace("\n", "\n      ")
                out.append(f"  {key}: {body}")
    return "\n".join(out) + "\n"


def _si(n: int) -> str:
    for div, unit in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")):
        if n >= div:
            return f"{n / div:.2f} {unit}"
    return str(n)
