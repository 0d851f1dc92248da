"""How counts, shapes and byte sizes are written, the same in every view, table and message."""

from __future__ import annotations

import functools

Shape = tuple[int, ...]


def fmt(n: int) -> str:
    """Thousands separators, as every view shows counts."""
    return f"{n:,}"


@functools.lru_cache(maxsize=4096)
def shape_text(shape: Shape | None) -> str:
    """Spatial sizes then channels (H×W×C, the order learners meet in Keras and MATLAB) for maps
    of any rank, N for vectors.

    Cached: a design has few distinct shapes, and the Properties panel writes one per input of
    a merge (1,670 for the widest concat of a dense block: 8 ms)."""
    if shape is None:
        return "—"
    if len(shape) >= 2:
        return "×".join(str(s) for s in (*shape[1:], shape[0]))
    return "×".join(str(s) for s in shape)


def bytes_text(n: int) -> str:
    """Binary units (KiB, MiB...), one decimal; exact bytes below 1 KiB."""
    if n < 1024:
        return f"{n} B"
    value = n / 1024
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:,.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def si(n: int) -> str:
    """A count in SI units (1.81 G, 25.56 M) for status lines and the text summary."""
    for div, unit in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")):
        if n >= div:
            return f"{n / div:.2f} {unit}"
    return str(n)
