"""The palette's entries in the order and groups it shows them, from the ops registry.

Each op declares its palette entries (some offer presets: a depthwise or a 1×1 convolution);
this module only groups them by family, in the order a network is usually built.
"""

from __future__ import annotations

from convdesigner.core.ops import palette_entries
from convdesigner.core.ops.base import PaletteEntry

FAMILIES: dict[str, str] = {
    "conv": "Convolution",
    "pool": "Pooling",
    "act": "Activation",
    "norm": "Normalisation",
    "shape": "Shape",
    "dense": "Dense",
    "merge": "Merge",
}
"""Family keys (``OpSpec.family``) and their palette headings, in palette order."""


def _grouped() -> tuple[PaletteEntry, ...]:
    entries = list(palette_entries())
    order = {family: i for i, family in enumerate(FAMILIES)}
    # Stable: within a family the registry's order stands.
    return tuple(sorted(entries, key=lambda e: order.get(e.family, len(order))))


ENTRIES: tuple[PaletteEntry, ...] = _grouped()
BY_KEY: dict[str, PaletteEntry] = {e.key: e for e in ENTRIES}

__all__ = ["BY_KEY", "ENTRIES", "FAMILIES", "PaletteEntry"]
