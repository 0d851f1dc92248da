"""Shape and cost analysis of a design: the layer table, with a derivation for every number.

``analyse(design)`` walks the nodes once, in the design's (execution) order, and returns one
:class:`LayerRow` per node plus the input row. Each node's op answers for itself through the
registry (:mod:`convdesigner.core.ops`); this module only carries shapes and receptive fields
along the graph's edges. It is recomputed on every call (a 500-layer design takes a few
milliseconds; given the analysis before an edit, rows the edit cannot have changed are reused),
so no view ever shows stale numbers, and it never raises for a design the
loader accepts: a node that cannot work on what reaches it gets ``Status.ERROR`` and a message a
learner can act on, every node that depends on it ``Status.NOT_COMPUTABLE``, and independent
branches are still computed.

The derivation texts are built only when someone reads them (the explain panel shows one row at a
time), which keeps the per-keystroke recomputation cheap.

Conventions (docs/formulas.md explains each):
- shapes are (C, *spatial) for maps and (N,) for vectors; the UI shows maps as H×W×C;
- output size follows PyTorch; ``"same"`` follows TensorFlow (asymmetric, larger half after);
- MACs count multiply-accumulates of conv and dense layers only (1 MAC = 2 FLOPs);
- receptive field, jump and start follow Araujo et al. (distill.pub, 2019).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from convdesigner.core import geometry
from convdesigner.core.cancel import Cancelled
from convdesigner.core.design import INPUT_ID, Design, Node
from convdesigner.core.geometry import Field
from convdesigner.core.graveyard import bury_rows
from convdesigner.core.ops import OpError, spec_for
from convdesigner.core.ops.base import Inferred, Layer
from convdesigner.core.switching import checkpoint
from convdesigner.core.units import bytes_text, fmt, shape_text

__all__ = [
    "BYTES_PER_VALUE",
    "Analysis",
    "LayerRow",
    "Status",
    "Totals",
    "analyse",
    "bytes_text",
    "fmt",
    "shape_text",
]
from convdesigner.core.validate import AxisPads

if TYPE_CHECKING:
    pass

BYTES_PER_VALUE = 4  # float32
Shape = tuple[int, ...]
Builder = Callable[[], dict[str, str]]


class Status(StrEnum):
    OK = "ok"
    ERROR = "error"
    NOT_COMPUTABLE = "not computable"


class Derivations(Mapping[str, str]):
    """A row's derivation texts by key, built on first read.

    Reads like a dict; building every text for every row on every keystroke would cost more than
    the arithmetic itself. Building twice from two threads is harmless (same result).
    """

    __slots__ = ("_build", "_data")

    def __init__(self, build: Callable[[], dict[str, str]] | Mapping[str, str] | None = None):
        self._data: dict[str, str] | None
        self._build: Callable[[], dict[str, str]] | None
        if build is None or isinstance(build, Mapping):
            self._data, self._build = dict(build or {}), None
        else:
            self._data, self._build = None, build

    def _get(self) -> dict[str, str]:
        data = self._data
        if data is None:
            assert self._build is not None
            data = self._build()
            self._data, self._build = data, None
        return data

    def __getitem__(self, key: str) -> str:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __repr__(self) -> str:
        return f"Derivations({self._get()!r})"


@dataclass(frozen=True)
class LayerRow:
    """One line of the layer table. Every column is a plain field; totals are derived."""

    index: int | None
    """Position in ``design.nodes``; None = input."""
    name: str
    type: str
    layer: Layer | None
    input_shape: Shape | None
    """The shape of the first input (the only one, except for merges; see ``input_shapes``)."""
    output_shape: Shape | None
    status: Status = Status.OK
    message: str = ""
    weights: int = 0
    biases: int = 0
    trainable: int = 0
    non_trainable: int = 0
    macs: int = 0
    kernel: tuple[int, ...] | None = None
    stride: tuple[int, ...] | None = None
    padding: AxisPads | None = None
    """Padding actually applied, (before, after) per spatial axis: ((top, bottom), (left,
    right)) for maps."""
    receptive_field: tuple[int, ...] | None = None
    """Size per spatial axis, in input pixels, of the region one output value sees; None =
    whole input (or not tracked)."""
    jump: tuple[int, ...] | None = None
    """Distance per spatial axis, in input pixels, between neighbouring output positions."""
    rf_start: tuple[int, ...] | None = None
    """Input coordinate of the first corner of output position 0's receptive field (negative
    where it reaches into padding)."""
    derivations: Mapping[str, str] = field(default_factory=Derivations)
    """How each number was obtained, by key: output_height, output_width, output_channels,
    padding, weights, biases, non_trainable, params, macs, receptive_field, memory, plus
    layer-specific notes (e.g. ``average``). Empty for error and not-computable rows."""
    dilation: tuple[int, ...] | None = None
    """Dilation of a convolution (None for other layers)."""
    id: str = INPUT_ID
    """The node's id (``"input"`` for the input row): the key of its weights and activations."""
    inputs: tuple[str, ...] = ()
    """Ids this node reads, in order (empty for the input row)."""
    input_shapes: tuple[Shape | None, ...] = ()
    """Shape of each input, in ``inputs`` order."""
    is_output: bool = False
    """Nothing reads this node's output: it is one of the design's outputs."""

    @property
    def params(self) -> int:
        return self.trainable + self.non_trainable

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    @property
    def is_map(self) -> bool:
        return self.output_shape is not None and len(self.output_shape) >= 2

    @property
    def rank(self) -> int:
        """Spatial axes of the output (0 for a vector or an unknown shape)."""
        return len(self.output_shape) - 1 if self.output_shape else 0

    @property
    def output_height(self) -> int | None:
        shape = self.output_shape
        return shape[-2] if shape and len(shape) >= 3 else None

    @property
    def output_width(self) -> int | None:
        shape = self.output_shape
        return shape[-1] if shape and len(shape) >= 3 else None

    @property
    def output_channels(self) -> int | None:
        """Channels of a map, or the length of a vector."""
        return self.output_shape[0] if self.output_shape else None

    @property
    def activation_bytes(self) -> int:
        return math.prod(self.output_shape) * BYTES_PER_VALUE if self.output_shape else 0

    @property
    def shape_text(self) -> str:
        return shape_text(self.output_shape)


@dataclass(frozen=True)
class Totals:
    weights: int
    biases: int
    trainable: int
    non_trainable: int
    macs: int
    activation_bytes: int
    """Input plus every layer's output, float32, for one image."""
    errors: int

    @property
    def params(self) -> int:
        return self.trainable + self.non_trainable

    @property
    def parameter_bytes(self) -> int:
        return self.params * BYTES_PER_VALUE

    @property
    def flops(self) -> int:
        return 2 * self.macs


_serials = itertools.count()


@dataclass(frozen=True)
class Analysis:
    design: Design
    rows: tuple[LayerRow, ...]
    carried_fields: Mapping[str, Field | None] = field(
        default_factory=dict, compare=False, repr=False
    )
    """Receptive field each node hands to its readers, by id, as the walk carried it (None: not
    tracked; an empty field: outgrew :data:`RF_LIMIT`). Lets a later ``analyse(design,
    previous=this)`` tell whether a node's inputs are still what they were."""
    base: int | None = field(default=None, compare=False, repr=False)
    """The :attr:`serial` of the ``previous`` analysis this one was made from (None: made from
    none, or the input changed)."""
    fresh: tuple[int, ...] = field(default=(), compare=False, repr=False)
    """Positions in ``rows`` of the rows made anew; every other row is the very object at the
    same position of the base's rows. A view showing the base repaints these and nothing else,
    without walking 10,000 rows to find them."""
    serial: int = field(default_factory=lambda: next(_serials), compare=False, repr=False)
    """Unique to this analysis (never reused, unlike ``id()``)."""

    def changed_since(self, shown: Analysis) -> Sequence[int]:
        """Positions whose row is not the very object at the same position of ``shown`` (the
        analysis a view showed before this one), in order."""
        if self.base == shown.serial and len(shown.rows) == len(self.rows):
            return self.fresh
        pairs = enumerate(zip(shown.rows, self.rows, strict=False))
        return [i for i, (a, b) in pairs if a is not b]

    def __iter__(self) -> Iterator[LayerRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def row_for_layer(self, index: int) -> LayerRow:
        """The row of ``design.nodes[index]`` (the input row is ``rows[0]``)."""
        return self.rows[index + 1]

    @cached_property
    def _by_id(self) -> dict[str, LayerRow]:
        return {row.id: row for row in self.rows}

    def row(self, node_id: str) -> LayerRow:
        """The row of node ``node_id`` (``"input"`` for the input row)."""
        return self._by_id[node_id]

    @cached_property
    def totals(self) -> Totals:
        """Sums over the rows (cached: table views ask for it once per cell)."""
        # One pass, not seven generators: this runs on every edit (and twice more for the
        # learner's what-if notes), over 400+ rows for DenseNet-sized designs.
        weights = biases = trainable = non_trainable = macs = values = errors = 0
        prod = math.prod
        for r in self.rows:
            weights += r.weights
            biases += r.biases
            trainable += r.trainable
            non_trainable += r.non_trainable
            macs += r.macs
            shape = r.output_shape
            if shape:
                values += prod(shape)
            if r.status is Status.ERROR:
                errors += 1
        return Totals(
            weights=weights,
            biases=biases,
            trainable=trainable,
            non_trainable=non_trainable,
            macs=macs,
            activation_bytes=values * BYTES_PER_VALUE,
            errors=errors,
        )

    @cached_property  # a walk over every row, asked several times per edit by the views
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @cached_property
    def first_error(self) -> LayerRow | None:
        return next((r for r in self.rows if r.status is Status.ERROR), None)

    @property
    def partial(self) -> bool:
        """Some rows could not be computed, so the totals cover only part of the design."""
        return not self.ok


# --------------------------------------------------------------------------- the walk


def _memory_text(shape: Shape) -> str:
    n = math.prod(shape)
    if len(shape) >= 2:
        dims = " × ".join(str(s) for s in (*shape[1:], shape[0]))
    else:
        dims = " × ".join(str(s) for s in shape)
    total = n * BYTES_PER_VALUE
    text = f"memory = {dims} values × {BYTES_PER_VALUE} bytes (float32) = {fmt(total)} bytes"
    return text if total < 1024 else f"{text} ({bytes_text(total)})"


_AXIS_KEYS = {"height": "output_height", "width": "output_width"}


def _input_row(design: Design) -> LayerRow:
    spec = design.input
    shape = spec.shape
    rank = spec.rank
    rf = geometry.input_field(rank)

    def derive() -> dict[str, str]:
        given = "given by the input"
        d = {}
        for axis, size in spec.sizes().items():
            sym = geometry.sides(axis)[0]
            d[_AXIS_KEYS.get(axis, f"output_{axis}")] = f"{sym} = {size} ({given})"
        ones = "×".join("1" for _ in range(rank))
        return {
            **d,
            "output_channels": f"C = {spec.channels} ({given}: 1 for greyscale, 3 for RGB)",
            "weights": "the input has no weights: 0",
            "biases": "the input has no biases: 0",
            "macs": "0 MACs",
            "receptive_field": f"each input value sees itself: {ones}, jump 1, start 0",
            "memory": _memory_text(shape),
        }

    return LayerRow(
        index=None,
        name="Input",
        type="input",
        layer=None,
        input_shape=None,
        output_shape=shape,
        receptive_field=rf.size,
        jump=rf.jump,
        rf_start=rf.start,
        derivations=Derivations(derive),
        id=INPUT_ID,
    )


def _params_text(res: Inferred) -> str:
    trainable = res.weights + res.biases
    text = f"params = weights + biases = {fmt(res.weights)} + {fmt(res.biases)} = {fmt(trainable)}"
    if res.non_trainable:
        text += (
            f" trainable, plus {fmt(res.non_trainable)} non-trainable = "
            f"{fmt(trainable + res.non_trainable)}"
        )
    return text


def _size_text(values: tuple[int, ...]) -> str:
    return "×".join(str(v) for v in values)


def _rf_derivation(
    layer: Layer, res: Inferred, prev: Field | None, rf: Field | None, merged: Callable[[], str]
) -> str:
    if rf is None or prev is None:
        if res.rf == "lost":
            return (
                f"{layer.display_name} spreads each input value over several outputs, so output "
                "positions no longer map to a regular grid of input positions: the receptive "
                "field is not tracked from here on"
            )
        return (
            "after Flatten every value can depend on the whole input"
            if len(res.shape) == 1
            else "not tracked: an earlier upsampling or transposed convolution spread each "
            "input value over several outputs, so positions no longer follow a regular grid of "
            "input pixels"
        )
    merged_text = merged()
    text = merged_text + "\n" if merged_text else ""
    if res.rf == "window":
        assert res.kernel is not None
        assert res.stride is not None
        assert res.padding is not None
        return text + geometry.rf_text(
            prev, rf, res.kernel, res.dilation or (1,) * len(res.kernel), res.stride,
            tuple(p[0] for p in res.padding),
        )  # fmt: skip
    what = (
        "combines its inputs position by position"
        if merged_text
        else "looks at one position at a time"
    )
    return text + (
        f"{layer.display_name} {what}: receptive field unchanged, {_size_text(rf.size)}, "
        f"jump {_size_text(rf.jump)}"
    )


def _row_derivations(
    layer: Layer,
    res: Inferred,
    prev: Field | None,
    rf: Field | None,
    merged: Callable[[], str],
    *,
    huge: bool = False,
) -> Builder:
    def derive() -> dict[str, str]:
        d = res.derive()
        d.setdefault("params", _params_text(res))
        if huge:
            d["receptive_field"] = (
                f"the receptive field or its jump has passed {RF_LIMIT:.0e} input pixels (the "
                "strides multiply layer after layer): it is not tracked from here on"
            )
        else:
            d["receptive_field"] = _rf_derivation(layer, res, prev, rf, merged)
        d["memory"] = _memory_text(res.shape)
        return d

    return derive


_ROW_DEFAULTS = {f.name: f.default for f in fields(LayerRow) if f.default is not MISSING}
_NO_DERIVATIONS: Mapping[str, str] = Derivations()


def _row_from(values: dict[str, Any]) -> LayerRow:
    """``LayerRow(**values)`` without the frozen dataclass's per-field ``object.__setattr__``.

    That generated ``__init__`` was half of analyse()'s time on a 500-layer design (26 fields,
    one call each), and the analysis runs on every keystroke. The object is the same: equal to
    one built normally, and still frozen against assignment. Every field without a default must
    be given (the tests check that rows carry every field).
    """
    row = object.__new__(LayerRow)
    state = row.__dict__
    state.update(_ROW_DEFAULTS)
    state.update(values)
    return row


def _merge_fields(
    sources: Sequence[str], fields_by_id: Mapping[str, Field | None]
) -> tuple[Field | None, Callable[[], str]]:
    """The receptive field reaching a node with several inputs: the largest over its inputs
    (and how to say so, built only when the derivation is read)."""
    candidates = [(fields_by_id[s], s) for s in sources]
    known = [(f, s) for f, s in candidates if f is not None]
    if len(known) < len(candidates):
        return None, str
    if any(f is _HUGE for f, _ in known):
        return _HUGE, str
    rank = len(known[0][0].size)
    # Per axis, the input whose field is widest there (the first one on a tie).
    picks = [_widest(known, i) for i in range(rank)]
    best = Field(
        tuple(known[k][0].size[i] for i, k in enumerate(picks)),
        tuple(known[k][0].jump[i] for i, k in enumerate(picks)),
        tuple(known[k][0].start[i] for i, k in enumerate(picks)),
    )

    def text() -> str:
        terms = [f"'{s}' {_size_text(f.size)}" for f, s in known]
        if len(terms) > MAX_FIELD_TERMS:
            # A dense block's concat of 2,000 inputs: 25 KB nobody reads, for the explain
            # panel to lay out on every click. The chosen input is named after anyway.
            terms = [*terms[:5], "…", *terms[-2:], f"{len(known):,} inputs"]
        parts = ", ".join(terms)
        chosen = sorted({known[k][1] for k in picks}, key=lambda s: sources.index(s))
        whose = (
            f"that of '{chosen[0]}'"
            if len(chosen) == 1
            else "on each axis the widest input's (" + ", ".join(f"'{c}'" for c in chosen) + ")"
        )
        return (
            f"several inputs: the receptive field is the largest over them ({parts}), so it is "
            f"{whose}: {_size_text(best.size)}, jump {_size_text(best.jump)}"
        )

    return best, text


MAX_FIELD_TERMS = 50
"""A merge's receptive-field derivation lists its inputs' fields up to this many; beyond, the
first five, an ellipsis, the last two and the count (as a concat's channel sum does)."""


def _widest(known: Sequence[tuple[Field, str]], axis: int) -> int:
    """Index of the input whose receptive field is widest along ``axis`` (first on a tie)."""
    best = 0
    for k in range(1, len(known)):
        if known[k][0].size[axis] > known[best][0].size[axis]:
            best = k
    return best


class _Quoted(Sequence[str]):
    """Input ids as messages name them ('conv1'), quoted only when a message is written."""

    __slots__ = ("_ids",)

    def __init__(self, ids: tuple[str, ...]) -> None:
        self._ids = ids

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [f"'{s}'" for s in self._ids[i]]
        return f"'{self._ids[i]}'"

    def __len__(self) -> int:
        return len(self._ids)


CHECKPOINT_MASK = 255
"""Loops over rows reach a :func:`~convdesigner.core.switching.checkpoint` every 256 rows."""

CHECKPOINT_WORK = 256
"""The analysis reaches a checkpoint every this much work (:func:`analysis_cost` units, about
3 ms): every 256 nodes of a chain, more often among wide merges (256 concats of a dense block
read 100,000 inputs, 90 ms without a checkpoint)."""


INPUTS_PER_NODE_COST = 20
"""How many input references cost an analysis about as much as one node: a node is about
15 µs, each input of a merge about 0.7 µs (its shape checked, its receptive field merged)."""


def analysis_cost(design: Design, *, at_least: int | None = None) -> int:
    """The work ``analyse(design)`` takes, in nodes: its nodes plus its merges' inputs.

    A dense block where each conv reads every conv before it has few nodes and inputs by the
    square of its depth: 700 convs (1,400 nodes) took 216 ms to analyse, a 10,000-node chain
    150 ms. With ``at_least``, the count stops as soon as it reaches that (a caller that only
    compares with a threshold need not walk 10,000 nodes)."""
    cost = len(design.nodes)
    if at_least is not None and cost >= at_least:
        return cost
    refs = sum(len(n.inputs) for n in design.nodes if n.inputs is not None)
    return cost + refs // INPUTS_PER_NODE_COST


def analyse(design: Design, previous: Analysis | None = None) -> Analysis:
    """Analyse ``design``: one row for the input, then one per node, in order. Never raises.

    ``previous``, an analysis of an earlier version of the design (the one before an edit),
    only saves work: a node at the same position, with the same op object, reading inputs of
    the same shapes and receptive fields, gets its earlier row back instead of a new one. An
    edit of one layer in DenseNet-121 changes a few dozen of its 428 rows, and the views can
    skip rows that are the very same object. The result is equal to ``analyse(design)``.
    """
    old_rows: Sequence[LayerRow] = ()
    old_rf: Mapping[str, Field | None] = {}
    if previous is not None and previous.design.input == design.input:
        old_rows, old_rf = previous.rows, previous.carried_fields
    first = old_rows[0] if old_rows else _input_row(design)
    rows = [first]
    fresh: list[int] = [] if old_rows else [0]
    shapes: dict[str, Shape | None] = {INPUT_ID: first.output_shape}
    rf_of: dict[str, Field | None] = {INPUT_ID: geometry.input_field(design.input.rank)}
    blocked_by: dict[str, str] = {}
    """For each node that has no shape: the first node with an error it depends on."""
    outputs = set(design.outputs)
    n_old = len(old_rows)
    work = CHECKPOINT_WORK
    for index, (node, sources) in enumerate(zip(design.nodes, design.resolved_inputs, strict=True)):
        work += 1 + len(sources) // INPUTS_PER_NODE_COST
        if work >= CHECKPOINT_WORK:
            work = 0
            try:
                checkpoint()  # on a worker: the window may refresh first (switching.py)
            except Cancelled:
                # Freeing thousands of rows here would hold the interpreter for milliseconds
                # while the window waits for it.
                bury_rows(rows)
                raise
        layer = node.op
        in_shapes = tuple([shapes[s] for s in sources])
        old = old_rows[index + 1] if index + 1 < n_old else None
        is_output = node.id in outputs
        if (
            old is not None
            and old.status is Status.OK
            and _same_place(old, node, sources, in_shapes, is_output)
            and all([old_rf.get(s, _UNSEEN) == rf_of[s] for s in sources])
        ):
            # Same op on the same inputs: same row (index and id were checked too).
            rows.append(old)
            shapes[node.id] = old.output_shape
            rf_of[node.id] = old_rf[node.id]
            continue
        label = layer.label
        values: dict[str, Any] = {
            "index": index,
            "name": label,
            "type": layer.type_name,
            "layer": layer,
            "id": node.id,
            "inputs": sources,
            "input_shapes": in_shapes,
            "is_output": is_output,
            "input_shape": in_shapes[0],
        }
        bad = None
        for s, shape in zip(sources, in_shapes, strict=True):
            if shape is None:
                bad = s
                break
        if bad is not None:
            culprit = blocked_by[bad]
            message = f"Not computable: {culprit} above has an error."
            shapes[node.id] = None
            rf_of[node.id] = None
            blocked_by[node.id] = culprit
            if (
                old is not None
                and old.status is Status.NOT_COMPUTABLE
                and old.message == message
                and _same_place(old, node, sources, in_shapes, is_output)
            ):
                # Below an error nothing changes but the culprit: the same row, so an edit
                # above the error does not make thousands of rows look new to the views (each
                # compared key by key: 10 ms for 2,000 rows).
                rows.append(old)
                continue
            values["output_shape"] = None
            values["status"] = Status.NOT_COMPUTABLE
            values["message"] = message
            values["derivations"] = _NO_DERIVATIONS
            fresh.append(len(rows))
            rows.append(_row_from(values))
            continue
        known: tuple[Shape, ...] = in_shapes  # type: ignore[assignment]  # none is None here
        try:
            spec = spec_for(layer)
            low, high = spec.arity
            if len(known) < low or (high is not None and len(known) > high):
                raise OpError(_arity_message(layer, low, high, len(known)))
            res = spec.infer(layer, known, _Quoted(sources))
        except (OpError, KeyError) as exc:
            values["output_shape"] = None
            values["status"] = Status.ERROR
            values["message"] = str(exc) if isinstance(exc, OpError) else exc.args[0]
            values["derivations"] = _NO_DERIVATIONS
            fresh.append(len(rows))
            rows.append(_row_from(values))
            shapes[node.id] = None
            rf_of[node.id] = None
            blocked_by[node.id] = (
                f"layer {index} ({label})" if node.id == str(index) else f"'{node.id}' ({label})"
            )
            continue
        merged: Callable[[], str] = str
        if len(sources) == 1:
            prev = rf_of[sources[0]]
        else:
            prev, merged = _merge_fields(sources, rf_of)
        huge_before = prev is _HUGE or any(rf_of[s] is _HUGE for s in sources)
        if huge_before:
            prev = _HUGE
        rf: Field | None
        kind = res.rf
        if prev is None or prev is _HUGE or len(res.shape) < 2 or kind in ("lost", "vector"):
            rf = None
        elif kind == "window":
            assert res.kernel is not None
            assert res.stride is not None
            assert res.padding is not None
            rf = geometry.rf_step(
                prev, res.kernel, res.dilation or (1,) * len(res.kernel), res.stride,
                tuple([p[0] for p in res.padding]),
            )  # fmt: skip
        else:
            rf = prev
        if rf is not None and _too_large(rf):
            rf, lost = None, True
        else:
            lost = False
        values["output_shape"] = res.shape
        values["weights"] = res.weights
        values["biases"] = res.biases
        values["trainable"] = res.weights + res.biases
        values["non_trainable"] = res.non_trainable
        values["macs"] = res.macs
        values["kernel"] = res.kernel
        values["stride"] = res.stride
        values["padding"] = res.padding
        values["dilation"] = res.dilation
        if rf is not None:
            values["receptive_field"] = rf.size
            values["jump"] = rf.jump
            values["rf_start"] = rf.start
        values["derivations"] = Derivations(
            _row_derivations(layer, res, prev, rf, merged, huge=lost or prev is _HUGE)
        )
        fresh.append(len(rows))
        rows.append(_row_from(values))
        shapes[node.id] = res.shape
        rf_of[node.id] = _HUGE if lost or (rf is None and prev is _HUGE) else rf
    base = previous.serial if previous is not None and old_rows else None
    return Analysis(design, tuple(rows), rf_of, base, tuple(fresh))


def _same_place(
    old: LayerRow,
    node: Node,
    sources: tuple[str, ...],
    in_shapes: tuple[Shape | None, ...],
    is_output: bool,
) -> bool:
    """``old`` (the row at the same position of the previous analysis) is for the same op of
    the same node, reading the same inputs of the same shapes, and equally an output: what a
    row depends on besides the receptive fields it was handed."""
    return (
        old.layer is node.op
        and old.id == node.id
        and old.inputs == sources
        and old.input_shapes == in_shapes
        and old.is_output == is_output
    )


RF_LIMIT = 10**15
"""Largest receptive-field size, jump or offset tracked. A legal design of a thousand strided
layers makes the jump a number of 300+ digits, which no table can show (and Python will not even
print past 4,300 digits); beyond this the receptive field is reported as not tracked."""

_HUGE = geometry.Field((), (), ())
"""Marks a receptive field that outgrew :data:`RF_LIMIT` (its text says so downstream)."""

_UNSEEN = object()
"""A source the previous analysis did not reach: equal to no field, so its reader is redone."""


def _too_large(rf: Field) -> bool:
    # Sizes and jumps are positive, starts zero or negative: three builtins, no generator.
    return max(rf.size) > RF_LIMIT or max(rf.jump) > RF_LIMIT or min(rf.start) < -RF_LIMIT


def _arity_message(layer: Layer, low: int, high: int | None, got: int) -> str:
    if high == low:
        want = f"exactly {low} input{'s' if low != 1 else ''}"
    elif high is None:
        want = f"at least {low} inputs"
    else:
        want = f"{low} to {high} inputs"
    return (
        f"{layer.display_name} needs {want}, but it reads {got}. Set its inputs (the "
        '"inputs" list in the file) to the nodes it should combine.'
    )
