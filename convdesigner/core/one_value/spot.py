"""The clicked value and what its explainers may read: the node's row, every node's output and
the run's weights."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from convdesigner.core.analysis import LayerRow
from convdesigner.core.one_value.results import OtherValue, where


@dataclass(frozen=True)
class Spot:
    """Output ``[channel, y, x]`` of ``row``'s node, whose engine value is ``value``."""

    row: LayerRow
    arrays: Mapping[str, np.ndarray]
    weights: Mapping[str, np.ndarray]
    channel: int
    y: int
    x: int
    value: float

    @property
    def head(self) -> str:
        """``out[c=…, y=…, x=…]``, how every explanation starts."""
        return where(self.channel, self.y, self.x)

    def input_map(self, k: int = 0) -> np.ndarray:
        """The (C, H, W) output of the node's ``k``-th input."""
        source = self.row.inputs[k]
        array = self.arrays.get(source)
        if array is None or array.ndim != 3:
            raise ValueError(f"the output of '{source}' (read by '{self.row.id}') was not computed")
        return array

    def source(self) -> np.ndarray:
        """The map of a node that reads one input."""
        if len(self.row.inputs) != 1:
            raise ValueError(f"'{self.row.id}' reads {len(self.row.inputs)} inputs; expected one")
        return self.input_map(0)

    def param(self, name: str) -> np.ndarray:
        return np.asarray(self.weights[f"{self.row.id}.{name}"], dtype=np.float64)

    def say(self, text: str, total: float | None, magnitude: float) -> OtherValue:
        return OtherValue(
            self.row.id, self.channel, self.y, self.x, self.value, text, total, magnitude
        )
