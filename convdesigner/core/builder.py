"""Building a graph design in code, in the style of Keras' functional API.

    d = DesignBuilder(InputSpec(56, 56, 64), name="Basic residual block")
    x = d.input
    y = d.add(Conv2D(64, 3, padding=1, bias=False), x, id="conv1")
    y = d.add(BatchNorm2D(), y, id="bn1")
    y = d.add(ReLU(), y)
    z = d.add(Add(), [y, x])
    design = d.build()

A :class:`Design` is an immutable value; the builder collects nodes and hands out
:class:`Tensor` handles (a node's output) to wire the next ones, then ``build()`` checks the
graph once and returns the design.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from convdesigner.core.design import INPUT_ID, Design, InputSpec, Node, check_id, fresh_id
from convdesigner.core.ops.base import Layer


@dataclass(frozen=True)
class Tensor:
    """The output of one node (or the design's input) while a design is being built."""

    id: str
    builder: DesignBuilder

    @property
    def shape(self) -> tuple[int, ...] | None:
        """(C, *spatial) of this output as the analysis computes it (None if it cannot)."""
        from convdesigner.core.analysis import analyse

        return analyse(self.builder.build()).row(self.id).output_shape

    def __repr__(self) -> str:
        return f"Tensor({self.id!r})"


class DesignBuilder:
    """Collects nodes in execution order; each ``add`` may only read what already exists."""

    def __init__(
        self, input: InputSpec | None = None, *, name: str = "Untitled", description: str = ""
    ) -> None:
        self._input = InputSpec() if input is None else input
        self._name = name
        self._description = description
        self._nodes: list[Node] = []

    @property
    def input(self) -> Tensor:
        return Tensor(INPUT_ID, self)

    def add(
        self,
        op: Layer,
        inputs: Tensor | Sequence[Tensor] | None = None,
        *,
        id: str | None = None,
    ) -> Tensor:
        """Append ``op`` reading ``inputs`` (default: the node added last, or the input).

        ``id`` names the node (its weights are ``{id}.weight``...); by default it is the next
        free ``{type}_{n}`` ("conv2d_1").
        """
        if not isinstance(op, Layer):
            raise TypeError(f"add() takes a layer, got {type(op).__name__}")
        used = {n.id for n in self._nodes}
        if id is None:
            node_id = fresh_id(op, used)
        else:
            problem = check_id(id)
            if problem:
                raise ValueError(f"id: {problem}")
            if id in used:
                raise ValueError(f'id: "{id}" is already used by another node')
            node_id = id
        sources: tuple[str, ...] | None
        if inputs is None:
            sources = None
        else:
            handles = [inputs] if isinstance(inputs, Tensor) else list(inputs)
            for h in handles:
                if not isinstance(h, Tensor) or h.builder is not self:
                    raise ValueError("inputs must be tensors returned by this builder")
            sources = tuple(h.id for h in handles)
            previous = self._nodes[-1].id if self._nodes else INPUT_ID
            if sources == (previous,):
                sources = None  # reading the entry above: the file says nothing
        self._nodes.append(Node(node_id, op, sources))
        return Tensor(node_id, self)

    def build(self) -> Design:
        return Design(
            input=self._input, name=self._name, description=self._description, nodes=self._nodes
        )
