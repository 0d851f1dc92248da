"""Random edits through the document's own operations, for the fuzz tests and the soak benchmark
(benchmarks/bench_soak.py).

Each call makes one edit a user could make (insert, remove, duplicate, move, change a setting,
input size, rename, connect, disconnect, residual, undo, redo, select), with arguments that are
often invalid on purpose: a refused edit must raise EditError or LayerSettingError and change
nothing, which :func:`random_edit` checks.
"""

from __future__ import annotations

import random

from convdesigner.core.design import INPUT_ID
from convdesigner.core.document import PALETTE, Document, EditError
from convdesigner.core.validate import LayerSettingError

KINDS = (
    "insert",
    "remove",
    "duplicate",
    "move",
    "change",
    "input",
    "rename",
    "connect",
    "disconnect",
    "residual",
    "undo",
    "redo",
    "select",
)
_KEYS = sorted(PALETTE)
MAX_NODES = 40
"""Inserts stop here, so long runs measure edits, not ever larger designs."""


def _node(doc: Document, rng: random.Random) -> str:
    ids = doc.design.ids
    return ids[rng.randrange(len(ids))] if ids else "none"


def _edit(doc: Document, kind: str, rng: random.Random) -> None:
    n = len(doc.design)
    if kind == "insert" and n < MAX_NODES:
        doc.insert_entry(rng.choice(_KEYS), rng.randint(0, n))
    elif kind == "remove" and n > 1:
        doc.remove(_node(doc, rng))
    elif kind == "duplicate" and 0 < n < MAX_NODES:
        doc.duplicate(_node(doc, rng))
    elif kind == "move" and n > 1:
        doc.move(_node(doc, rng), rng.randrange(n))
    elif kind == "change" and n:
        node = _node(doc, rng)
        specs = [s for s in doc.design.node(node).op.FIELDS if s.kind in ("count", "size")]
        if specs:
            spec = rng.choice(specs)
            doc.change(node, **{spec.name: rng.randint(0, 9)})  # 0: often refused
    elif kind == "input":
        shape = doc.design.input
        sizes = {k: max(1, v + rng.randint(-8, 8)) for k, v in shape.sizes().items()}
        doc.set_input(shape.resized(**sizes), merge=rng.choice(("", "height")))
    elif kind == "rename":
        doc.rename(rng.choice(("net", "=cmd", "a" * rng.randint(1, 30), "tab\there", "")))
    elif kind == "connect" and n:
        node = _node(doc, rng)
        doc.connect(node, rng.choice((INPUT_ID, _node(doc, rng))))
    elif kind == "disconnect" and n:
        node = _node(doc, rng)
        doc.disconnect(node, rng.choice(doc.design.inputs_of(doc.design.index_of(node))))
    elif kind == "residual" and n < MAX_NODES and n:
        doc.wrap_residual(_node(doc, rng), _node(doc, rng))
    elif kind == "undo":
        doc.undo()
    elif kind == "redo":
        doc.redo()
    elif kind == "select":
        doc.select(rng.choice((None, _node(doc, rng))) if n else None)


def random_edit(doc: Document, rng: random.Random) -> str:
    """Make one random edit; returns its kind, with "refused" appended when it was refused."""
    kind = rng.choice(KINDS)
    before, steps = doc.state, (len(doc.history), doc.history.index)
    try:
        _edit(doc, kind, rng)
    except (EditError, LayerSettingError):
        assert doc.state == before, f"a refused {kind} changed the document"
        assert (len(doc.history), doc.history.index) == steps
        return f"{kind} refused"
    return kind
