"""The merge operations of graphs: element-wise sum, channel concatenation, and product (equal
shapes, or a 1×1×C map scaling an H×W×C one, as squeeze-and-excitation does).

Maps are channels-last (H, W, C), vectors 1-D (N,). Each result is written once into a fresh
(pooled) array: no intermediate sums, no broadcasting copies.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from convdesigner.core.kernels import buffers

FloatArray = np.ndarray


def _as_float32(x: FloatArray) -> FloatArray:
    return np.asarray(x, dtype=np.float32)


def add(inputs: Sequence[FloatArray]) -> FloatArray:
    """The sum of two or more arrays of the same shape."""
    if len(inputs) < 2:
        raise ValueError(f"add needs at least two inputs, got {len(inputs)}")
    arrays = [_as_float32(x) for x in inputs]
    shape = arrays[0].shape
    for k, x in enumerate(arrays[1:], start=1):
        if x.shape != shape:
            raise ValueError(f"add needs equal shapes: input 0 is {shape}, input {k} is {x.shape}")
    out = buffers.empty(shape)
    np.add(arrays[0], arrays[1], out=out)
    for x in arrays[2:]:
        out += x
    return out


def concat(inputs: Sequence[FloatArray]) -> FloatArray:
    """Channels-last maps of equal height and width joined along the channels, or vectors
    joined end to end, in input order (torch.cat over the channel dimension)."""
    if not inputs:
        raise ValueError("concat needs at least one input")
    arrays = [_as_float32(x) for x in inputs]
    first = arrays[0]
    if first.ndim not in (1, 3):
        raise ValueError(f"concat takes maps (H, W, C) or vectors (N,), got shape {first.shape}")
    for k, x in enumerate(arrays[1:], start=1):
        if x.ndim != first.ndim or x.shape[:-1] != first.shape[:-1]:
            what = "the same height and width" if first.ndim == 3 else "vectors only"
            raise ValueError(
                f"concat needs {what}: input 0 is {first.shape}, input {k} is {x.shape}"
            )
    out = buffers.empty((*first.shape[:-1], sum(x.shape[-1] for x in arrays)))
    start = 0
    for x in arrays:
        stop = start + x.shape[-1]
        out[..., start:stop] = x
        start = stop
    return out


def multiply(a: FloatArray, b: FloatArray) -> FloatArray:
    """Element-wise product of equal shapes, or of an (H, W, C) map and a (1, 1, C) map (in
    either order), which scales each channel of the map (squeeze-and-excitation)."""
    a, b = _as_float32(a), _as_float32(b)
    if a.shape != b.shape:
        big, small = (a, b) if a.size >= b.size else (b, a)
        if not (big.ndim == 3 and small.ndim == 3 and small.shape == (1, 1, big.shape[2])):
            raise ValueError(
                f"multiply needs equal shapes, or a 1×1×C map and an H×W×C map with the same C; "
                f"got {a.shape} and {b.shape}"
            )
        a, b = big, small
    out = buffers.empty(a.shape)
    np.multiply(a, b, out=out)
    return out
