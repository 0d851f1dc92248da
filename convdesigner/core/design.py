"""A design: the input specification plus a graph of nodes listed in execution order.

Each node is an op (its settings), a stable id and the ids of its inputs. A chain is the common
case and costs nothing to write: a node whose ``inputs`` is None reads the node just above it (the
input for the first), exactly like the file format, so ``Design(layers=[Conv2D(...), ReLU()])``
is a chain. Ids are never positions: selection, undo merge keys, caches and weight keys follow a
node wherever it moves (weights are ``{id}.weight``..., as a torch module at attribute path
``id`` has them).

Designs are immutable values. Every edit returns a new design, so undo is "keep the old value",
views can compare designs with ``==``, and a background computation can never see a design
change under it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from convdesigner.core.ops.base import Layer
from convdesigner.core.switching import checkpoint
from convdesigner.core.validate import LayerSettingError, describe_value, to_name, to_positive_int

REFS_PER_CHECKPOINT = 20_000
"""Input references :attr:`Design.consumers` walks between two checkpoints (about 2 ms)."""

MAX_INPUT_SIDE = 16384
MAX_INPUT_CHANNELS = 4096
INPUT_ID = "input"
"""The id by which nodes name the design's input."""
MAX_ID = 100
_ID_RE = re.compile(r"[A-Za-z0-9_.\-]+")

SPATIAL_NAMES: dict[int, tuple[str, ...]] = {
    1: ("length",),
    2: ("height", "width"),
    3: ("depth", "height", "width"),
}


class GraphError(ValueError):
    """A node list that is not a valid graph; ``where`` locates it (``layers[3].inputs``)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def check_id(value: object) -> str | None:
    """The reason ``value`` is not a usable node id, or None when it is."""
    if not isinstance(value, str):
        return f"must be a string, got {describe_value(value)}"
    if not value:
        return "must not be empty"
    if len(value) > MAX_ID:
        return f"must be at most {MAX_ID} characters long"
    if not _ID_RE.fullmatch(value):
        return "may only contain letters, digits, '_', '.' and '-', got " + describe_value(value)
    if value == INPUT_ID:
        return f'"{INPUT_ID}" names the design\'s input and cannot be a node id'
    return None


@dataclass(frozen=True, init=False)
class InputSpec:
    """The input tensor: channels and 1, 2 or 3 spatial sizes (one sample, no batch axis).

    ``InputSpec(224, 224, 3)`` is a 224×224 RGB picture; ``InputSpec(length=16000,
    channels=1)`` a sequence; ``InputSpec(depth=16, height=112, width=112, channels=3)`` a
    volume.
    """

    channels: int
    spatial: tuple[int, ...]

    def __init__(
        self,
        height: int | None = None,
        width: int | None = None,
        channels: int = 3,
        *,
        depth: int | None = None,
        length: int | None = None,
        spatial: Sequence[int] | None = None,
    ) -> None:
        if spatial is not None and not (height is width is depth is length is None):
            # dataclasses.replace(spec, height=...) passes ``spatial`` too: refuse, never ignore.
            raise TypeError("give either spatial or named sizes, not both (use spec.resized())")
        if spatial is None:
            if length is not None:
                spatial = (length,)
            elif depth is not None:
                spatial = (
                    depth,
                    224 if height is None else height,
                    224 if width is None else width,
                )
            else:
                spatial = (224 if height is None else height, 224 if width is None else width)
        sizes = tuple(spatial)
        if len(sizes) not in SPATIAL_NAMES:
            raise LayerSettingError("input", "must have 1, 2 or 3 spatial sizes")
        names = SPATIAL_NAMES[len(sizes)]
        checked = tuple(
            to_positive_int(v, name, maximum=MAX_INPUT_SIDE)
            for v, name in zip(sizes, names, strict=True)
        )
        object.__setattr__(self, "spatial", checked)
        object.__setattr__(
            self, "channels", to_positive_int(channels, "channels", maximum=MAX_INPUT_CHANNELS)
        )

    @property
    def rank(self) -> int:
        """Number of spatial axes: 1 (sequences), 2 (pictures) or 3 (volumes)."""
        return len(self.spatial)

    @property
    def height(self) -> int:
        """Height of a picture or volume (the length of a sequence)."""
        return self.spatial[-2] if self.rank >= 2 else self.spatial[0]

    @property
    def width(self) -> int:
        return self.spatial[-1]

    @property
    def shape(self) -> tuple[int, ...]:
        """(C, *spatial), the order the analysis and engine use."""
        return (self.channels, *self.spatial)

    def resized(self, **sizes: int) -> InputSpec:
        """A copy with some spatial sizes changed by name (``spec.resized(height=64)``)."""
        names = SPATIAL_NAMES[self.rank]
        unknown = set(sizes) - set(names)
        if unknown:
            raise TypeError(f"a {self.rank}-D input has no {', '.join(sorted(unknown))}")
        return InputSpec(
            channels=self.channels,
            spatial=[sizes.get(name, v) for name, v in zip(names, self.spatial, strict=True)],
        )

    def sizes(self) -> dict[str, int]:
        """The spatial sizes by axis name, as the file format writes them."""
        return dict(zip(SPATIAL_NAMES[self.rank], self.spatial, strict=True))


@dataclass(frozen=True)
class Node:
    """One op in a design: its settings, its stable id and the ids it reads."""

    id: str
    op: Layer
    inputs: tuple[str, ...] | None = None
    """Ids of the nodes (or ``"input"``) this node reads, in order; None: the entry above."""

    def __post_init__(self) -> None:
        if self.inputs is not None:
            object.__setattr__(self, "inputs", tuple(self.inputs))

    @property
    def label(self) -> str:
        return self.op.label

    def with_op(self, op: Layer) -> Node:
        return replace(self, op=op)


def _default_id(index: int) -> str:
    return str(index)


@dataclass(frozen=True, init=False)
class Design:
    input: InputSpec
    nodes: tuple[Node, ...]
    name: str
    description: str
    """Free text shown with templates (what the design is, which variant); kept when saved."""

    def __init__(
        self,
        input: InputSpec | None = None,
        layers: Iterable[Layer | Node] = (),
        name: str = "Untitled",
        description: str = "",
        *,
        nodes: Iterable[Node] | None = None,
    ) -> None:
        spec = InputSpec() if input is None else input
        # Checked here so that a scripting mistake fails where it is made, not inside analyse().
        if not isinstance(spec, InputSpec):
            raise TypeError(f"input must be an InputSpec, got {type(spec).__name__}")
        items = list(layers if nodes is None else nodes)
        built: list[Node] = []
        used = {n.id for n in items if isinstance(n, Node)}
        for i, item in enumerate(items):
            if isinstance(item, Node):
                built.append(item)
            elif isinstance(item, Layer):
                node_id = _default_id(i)
                if node_id in used:
                    node_id = fresh_id(item, used)
                used.add(node_id)
                built.append(Node(node_id, item))
            else:
                raise TypeError(f"layers[{i}] must be a layer, got {type(item).__name__}")
        validate_graph(built)
        object.__setattr__(self, "input", spec)
        object.__setattr__(self, "nodes", tuple(built))
        object.__setattr__(self, "name", to_name(name))
        if not isinstance(description, str):
            raise LayerSettingError("description", "must be a string")
        object.__setattr__(self, "description", description)

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def layers(self) -> tuple[Layer, ...]:
        """The ops in execution order (the whole design when it is a chain)."""
        return tuple(n.op for n in self.nodes)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(n.id for n in self.nodes)

    @cached_property
    def _index(self) -> dict[str, int]:
        return {n.id: i for i, n in enumerate(self.nodes)}

    def index_of(self, node_id: str) -> int:
        """Position of node ``node_id`` (KeyError if the design has none)."""
        return self._index[node_id]

    def node(self, node_id: str) -> Node:
        return self.nodes[self._index[node_id]]

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._index

    @cached_property
    def resolved_inputs(self) -> tuple[tuple[str, ...], ...]:
        """Each node's input ids with "the entry above" spelled out."""
        out = []
        previous = INPUT_ID
        for n in self.nodes:
            out.append(n.inputs if n.inputs is not None else (previous,))
            previous = n.id
        return tuple(out)

    def inputs_of(self, index: int) -> tuple[str, ...]:
        return self.resolved_inputs[index]

    @cached_property
    def consumers(self) -> dict[str, tuple[str, ...]]:
        """Ids of the nodes reading each id (``"input"`` included), in execution order."""
        readers: dict[str, list[str]] = {INPUT_ID: [], **{n.id: [] for n in self.nodes}}
        refs = 0
        for n, ins in zip(self.nodes, self.resolved_inputs, strict=True):
            refs += len(ins)
            if refs >= REFS_PER_CHECKPOINT:
                # A dense block of 2,000 convs has 2 million references: 0.3 s of this loop
                # on a worker (the explain panel's what-if design, say) held the interpreter
                # through the window's repaints, 23-36 ms frozen, with no checkpoint to pause at.
                refs = 0
                checkpoint()
            for source in ins:
                readers[source].append(n.id)
        return {k: tuple(v) for k, v in readers.items()}

    @cached_property
    def outputs(self) -> tuple[str, ...]:
        """The nodes whose output nothing reads: the design's outputs (the last always is)."""
        readers = self.consumers
        return tuple(n.id for n in self.nodes if not readers[n.id])

    @property
    def is_chain(self) -> bool:
        """Every node reads the one above it."""
        return all(ins == (prev,) for ins, prev in zip(
            self.resolved_inputs, (INPUT_ID, *self.ids[:-1]), strict=True))  # fmt: skip

    @cached_property  # asked several times per edit; a walk over every node
    def has_default_ids(self) -> bool:
        """Ids are positions ("0", "1", ...): the ``nn.Sequential`` layout of version 1 files."""
        return all(n.id == _default_id(i) for i, n in enumerate(self.nodes))

    @cached_property
    def is_sequential(self) -> bool:
        """A chain with default ids: what format version 1 (and ``nn.Sequential``) can hold."""
        return self.has_default_ids and all(n.inputs is None for n in self.nodes)

    def forget_derived(self) -> None:
        """Drop the cached lookups (rebuilt when next needed).

        For designs kept only as undo snapshots: a snapshot then costs the tuple of its nodes,
        not also their indexes (about 2 MiB per snapshot of a 10,000-node design, which made a
        long editing session grow without bound).
        """
        for name in _DERIVED:
            self.__dict__.pop(name, None)

    # ------------------------------------------------------------------ editing

    def _check_index(self, index: int, *, allow_end: bool = False) -> None:
        upper = len(self.nodes) if allow_end else len(self.nodes) - 1
        if not 0 <= index <= upper:
            raise IndexError(f"layer index {index} is out of range 0..{upper}")

    def _with_nodes(self, nodes: list[Node], renumber: bool) -> Design:
        """A copy with ``nodes``; a sequential design stays sequential (ids follow positions,
        as in ``nn.Sequential``), any other keeps every id."""
        if renumber:
            nodes = [Node(_default_id(i), n.op) for i, n in enumerate(nodes)]
        return replace(self, nodes=tuple(nodes))

    def insert(self, index: int, layer: Layer, *, node_id: str | None = None) -> Design:
        """A copy with ``layer`` at ``index`` (``len(design)`` appends), reading the node above.

        In a sequential design the ids follow the positions; otherwise the new node gets
        ``node_id`` or a fresh id and every other node keeps its id.
        """
        self._check_index(index, allow_end=True)
        nodes = list(self.nodes)
        renumber = self.is_sequential and node_id is None
        new_id = node_id if node_id is not None else fresh_id(layer, set(self._index))
        nodes.insert(index, Node(new_id, layer))
        return self._with_nodes(nodes, renumber)

    def append(self, layer: Layer) -> Design:
        return self.insert(len(self.nodes), layer)

    def remove(self, index: int) -> Design:
        """A copy without the node at ``index``; nodes reading it read its (single) input."""
        self._check_index(index)
        gone = self.nodes[index]
        sources = self.inputs_of(index)
        nodes = []
        for n in self.nodes[:index] + self.nodes[index + 1 :]:
            if n.inputs is not None and gone.id in n.inputs:
                if len(sources) != 1:
                    raise ValueError(
                        f"'{gone.id}' merges {len(sources)} inputs and '{n.id}' reads it: "
                        f"connect '{n.id}' to another node first"
                    )
                n = replace(n, inputs=tuple(sources[0] if s == gone.id else s for s in n.inputs))
            nodes.append(n)
        if index < len(nodes) and nodes[index].inputs is None:
            # The node below read the removed one implicitly; keep it reading what that read.
            above = nodes[index - 1].id if index > 0 else INPUT_ID
            if len(sources) != 1:
                raise ValueError(
                    f"'{gone.id}' merges {len(sources)} inputs and '{nodes[index].id}' reads "
                    f"it: connect '{nodes[index].id}' to another node first"
                )
            if sources != (above,):
                nodes[index] = replace(nodes[index], inputs=sources)
        return self._with_nodes(nodes, self.is_sequential)

    def move(self, source: int, destination: int) -> Design:
        """A copy with the node at ``source`` now at index ``destination`` (after removal).

        Chains reorder freely; a node with explicit inputs may not move above them.
        """
        self._check_index(source)
        nodes = list(self.nodes)
        node = nodes.pop(source)
        if not 0 <= destination <= len(nodes):
            raise IndexError(f"layer index {destination} is out of range 0..{len(nodes)}")
        nodes.insert(destination, node)
        try:
            validate_graph(nodes)
        except GraphError as exc:
            raise ValueError(f"cannot move '{node.id}' there: {exc.message}") from None
        return self._with_nodes(nodes, self.is_sequential)

    def replace_layer(self, index: int, layer: Layer) -> Design:
        """A copy with the op at ``index`` replaced (same id, same inputs)."""
        self._check_index(index)
        nodes = list(self.nodes)
        nodes[index] = nodes[index].with_op(layer)
        return self._same_graph(tuple(nodes), self.input)

    def replace_node(self, index: int, node: Node) -> Design:
        self._check_index(index)
        nodes = list(self.nodes)
        nodes[index] = node
        validate_graph(nodes)
        return replace(self, nodes=tuple(nodes))

    def with_input(self, spec: InputSpec) -> Design:
        if not isinstance(spec, InputSpec):
            raise TypeError(f"input must be an InputSpec, got {type(spec).__name__}")
        return self._same_graph(self.nodes, spec)

    def _same_graph(self, nodes: tuple[Node, ...], spec: InputSpec) -> Design:
        """A copy whose ids and wiring are this design's (one op or the input changed), so
        there is nothing to check again: checking 10,000 ids and inputs took 6-40 ms of the UI
        thread on every step of a spin box."""
        new = object.__new__(Design)
        object.__setattr__(new, "input", spec)
        object.__setattr__(new, "nodes", nodes)
        object.__setattr__(new, "name", self.name)
        object.__setattr__(new, "description", self.description)
        return new

    def with_name(self, name: str) -> Design:
        return replace(self, name=name)


_DERIVED = ("_index", "resolved_inputs", "consumers", "outputs", "has_default_ids", "is_sequential")


def fresh_id(layer: Layer, used: set[str] | Iterable[str]) -> str:
    """An unused id from the layer's type ("conv2d_1", "relu_3", ...), Keras-style."""
    taken = set(used)
    base = layer.type_name or "node"
    k = 1
    while f"{base}_{k}" in taken:
        k += 1
    return f"{base}_{k}"


def validate_graph(nodes: Sequence[Node], where: str = "layers") -> None:
    """Raise :class:`GraphError` for a bad id, a repeated id, an unknown or forward input, or a
    node reading itself (which is a cycle: inputs may only name entries above)."""
    seen: dict[str, int] = {}
    for i, n in enumerate(nodes):
        problem = check_id(n.id)
        if problem:
            raise GraphError(f"{where}[{i}].id", problem)
        if n.id in seen:
            raise GraphError(
                f"{where}[{i}].id", f'"{n.id}" is already the id of {where}[{seen[n.id]}]'
            )
        if n.inputs is not None:
            if not n.inputs:
                raise GraphError(f"{where}[{i}].inputs", "must name at least one input")
            for source in n.inputs:
                if source == INPUT_ID or source in seen:
                    continue
                later = next((j for j in range(i, len(nodes)) if nodes[j].id == source), None)
                if later == i:
                    message = f'"{source}" is this entry itself: a node cannot read its own output'
                elif later is not None:
                    message = (
                        f'"{source}" is {where}[{later}], below this entry: inputs may only name '
                        "entries above (the list is the order of execution, so a loop is "
                        "impossible)"
                    )
                else:
                    message = f'"{source}" is not the id of any entry (nor "{INPUT_ID}")'
                raise GraphError(f"{where}[{i}].inputs", message)
        seen[n.id] = i


def node_field(node: Node) -> dict[str, Any]:
    """The node's id and inputs as the file format writes them (defaults left out)."""
    out: dict[str, Any] = {"id": node.id}
    if node.inputs is not None:
        out["inputs"] = list(node.inputs)
    return out


__all__ = [
    "INPUT_ID",
    "Design",
    "GraphError",
    "InputSpec",
    "Node",
    "check_id",
    "fresh_id",
    "validate_graph",
]
