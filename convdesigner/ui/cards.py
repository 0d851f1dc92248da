"""What the pipeline shows of each node, without Qt: the card's texts and the skip-edge lanes.

A card names the node by id, says what it does (the op's own summary from the registry) and,
when the node does not simply read the card above, what it reads ("← bn2, input"). The lines
beside the cards join each node to the inputs that are not right above it; lanes keep lines
whose spans overlap apart, so each can be followed from its source to its target.
"""

from __future__ import annotations

from dataclasses import dataclass

from convdesigner.core.analysis import Analysis, LayerRow, Status
from convdesigner.core.design import INPUT_ID, Design, InputSpec
from convdesigner.core.ops import spec_for


@dataclass(frozen=True)
class Card:
    """What one pipeline card shows, formatted once per analysis row."""

    row: LayerRow
    title: str
    detail: str
    shape: str
    params: str
    icon_key: str
    family: str

    @property
    def bad(self) -> bool:
        return self.row.status is Status.ERROR

    @property
    def blocked(self) -> bool:
        return self.row.status is Status.NOT_COMPUTABLE


def input_summary(spec: InputSpec) -> str:
    kind = {1: "greyscale", 3: "RGB", 4: "RGBA"}.get(spec.channels, f"{spec.channels} channels")
    sizes = "×".join(str(s) for s in spec.spatial)
    unit = {1: "samples", 2: "pixels", 3: "voxels"}[spec.rank]
    return f"{sizes} {unit}, {kind}"


def reads_above(row: LayerRow, analysis: Analysis) -> bool:
    """The node reads only the card right above it (no line or arrow needed)."""
    assert row.index is not None
    return row.inputs == (analysis.rows[row.index].id,)  # rows[0] is the input's


CARD_INPUTS = 8
"""Inputs a card names before "… (N in all)": a card shows one line, and eliding a dense
block's list of 1,670 ids took Qt a millisecond per card (Properties lists up to 100)."""


def make_card(row: LayerRow, analysis: Analysis) -> Card:
    layer = row.layer
    if layer is None:
        title, detail, key, family = (
            row.name,
            input_summary(analysis.design.input),
            "input",
            "input",
        )
    else:
        spec = spec_for(layer)
        title = f"{row.id}  {row.name}"
        if layer.name:
            title += f"  ({layer.display_name})"
        detail, key, family = spec.card_text(layer), spec.icon_key(layer), spec.family
        if not reads_above(row, analysis):
            sources = "← " + ", ".join(row.inputs[:CARD_INPUTS])
            if len(row.inputs) > CARD_INPUTS:
                sources += f", … ({len(row.inputs):,} in all)"
            detail = sources if family == "merge" else f"{sources} · {detail}"
        # Outputs are few: ask the (linear) is_sequential only for them.
        last = row.index == len(analysis.design) - 1
        if row.is_output and not last and not analysis.design.is_sequential:
            detail += " · output"
    if row.status is Status.ERROR:
        detail = row.message
    elif row.status is Status.NOT_COMPUTABLE:
        detail = "not computable (a node it depends on has an error) · " + detail
    bad = row.status is Status.ERROR
    shape = f"→ {row.shape_text}" if row.output_shape else ("error" if bad else "—")
    params = f"{row.params:,} params" if row.output_shape is not None and layer is not None else ""
    return Card(row, title, detail, shape, params, key, family)


MAX_LANES = 8
"""Skip edges are drawn in at most this many columns of the margin (more share the last)."""
LANE_WIDTH = 9
GUTTER_PAD = 14


def same_wiring(a: Design, b: Design) -> bool:
    """The same nodes reading the same inputs (a settings edit): the same skip edges.

    Node by node, skipping the shared ones (an edit replaces one node object and keeps the
    rest): comparing ``ids`` and ``resolved_inputs`` built two 10,000-entry tuples per design."""
    if a is b:
        return True
    if len(a.nodes) != len(b.nodes):
        return False
    return all(
        x is y or (x.id == y.id and x.inputs == y.inputs)
        for x, y in zip(a.nodes, b.nodes, strict=True)
    )


MAX_EDGES = 5_000
"""Beyond this many skip edges only the selected card's are drawn (:func:`selected_edges`).

A dense block where every conv reads the concatenation of all before it has edges by the
square of its depth: 1,000 convs, 500,000 edges (a 4 MB file the loader accepts). Eight lanes
cannot show them apart, placing them took 1.4 s and every repaint walked them all (150-430 ms
of the UI thread). DenseNet-121 has 500-odd and a 10,000-node residual graph 3,333."""

Edges = list[tuple[int, int, int]]
"""(source row, target row, lane) of lines drawn beside the cards."""

_last_edges: tuple[Design, Edges | None] | None = None
"""The edges of the design they were last placed for (see :func:`skip_edges`)."""


def skip_edges(analysis: Analysis) -> Edges | None:
    """(source row, target row, lane) of every input that is not the card right above, or
    None when there are more than :data:`MAX_EDGES` (then only the selected card's are drawn).

    Rows count the input card as 0. Short edges get the lanes nearest the cards, and two edges
    whose rows overlap never share a lane (up to :data:`MAX_LANES`), so each line can be
    followed from its source to its target.

    The edges depend only on the design's wiring, and the last design's are kept: the worker
    that analyses a large design places them too (``analysis_feed.prepare``), so the pipeline
    finds them placed when the analysis arrives (10-12 ms of the UI thread for a new
    10,000-node graph). The list is shared: callers must not change it.
    """
    global _last_edges
    design = analysis.design
    last = _last_edges
    if last is not None and last[0] is design:
        return last[1]
    placed = _place_edges(analysis)
    _last_edges = (design, placed)
    return placed


def _place_edges(analysis: Analysis) -> Edges | None:
    design = analysis.design
    edges: list[tuple[int, int]] = []
    for row in analysis.rows[1:]:
        assert row.index is not None
        if reads_above(row, analysis):
            continue
        target = row.index + 1
        for source in row.inputs:
            start = 0 if source == INPUT_ID else design.index_of(source) + 1
            if start != target - 1:
                edges.append((start, target))
        if len(edges) > MAX_EDGES:
            return None  # stopped early: a dense block's edges are never all listed
    return _lanes(edges, len(analysis.rows))


def _lanes(edges: list[tuple[int, int]], rows: int) -> Edges:
    # Rows each lane already crosses; C-speed searches keep this linear-ish on DenseNet-sized
    # graphs (hundreds of concat inputs), since the pipeline recomputes it on every edit.
    taken: list[bytearray] = []
    placed: Edges = []
    for start, end in sorted(edges, key=lambda e: (e[1] - e[0], e[0])):
        lane = next((i for i, t in enumerate(taken) if t.find(1, start, end + 1) < 0), None)
        if lane is None:
            if len(taken) < MAX_LANES:
                taken.append(bytearray(rows))
            lane = len(taken) - 1
        taken[lane][start : end + 1] = b"\x01" * (end + 1 - start)
        placed.append((start, end, lane))
    return placed


def selected_edges(analysis: Analysis, current: int) -> Edges:
    """The skip edges into and out of row ``current`` (its inputs other than the card above,
    and its readers other than the card below): what the pipeline draws of a design with more
    than :data:`MAX_EDGES`. All of them meet at that row, so each gets a lane of its own (the
    shortest nearest the cards) up to :data:`MAX_LANES`."""
    rows = analysis.rows
    if not 0 <= current < len(rows):
        return []
    design = analysis.design
    row = rows[current]
    spans: list[tuple[int, int]] = []
    if current > 0:
        for source in row.inputs:
            start = 0 if source == INPUT_ID else design.index_of(source) + 1
            if start != current - 1:
                spans.append((start, current))
    for reader in design.consumers.get(row.id, ()):
        end = design.index_of(reader) + 1
        if end != current + 1:
            spans.append((current, end))
    spans.sort(key=lambda e: (e[1] - e[0], e[0]))
    return [(a, b, min(i, MAX_LANES - 1)) for i, (a, b) in enumerate(spans)]
