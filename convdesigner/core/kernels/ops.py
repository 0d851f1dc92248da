"""The layers that need no windows: ReLU, batch normalisation, flatten.

They work on channels-last maps (H, W, C) or vectors (N,), so a per-channel scale is a broadcast
over the last axis and never a loop.
"""

from __future__ import annotations

import numpy as np

FloatArray = np.ndarray


def relu(x: FloatArray) -> FloatArray:
    out: FloatArray = np.maximum(x, np.float32(0.0))
    return out


def batchnorm_scale_shift(
    gamma: FloatArray, beta: FloatArray, mean: FloatArray, var: FloatArray, eps: float
) -> tuple[FloatArray, FloatArray]:
    """Inference batch norm folded into one scale and shift per channel (in float64)."""
    scale = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)
    shift = beta.astype(np.float64) - mean.astype(np.float64) * scale
    return scale.astype(np.float32), shift.astype(np.float32)


def scale_shift(x: FloatArray, scale: FloatArray, shift: FloatArray) -> FloatArray:
    """Per-channel ``x * scale + shift`` (channels last, so a broadcast over the last axis)."""
    out: FloatArray = x * scale
    out += shift
    return out


def flatten(x: FloatArray) -> FloatArray:
    """PyTorch's order (C, H, W) from a channels-last map; vectors pass through."""
    if x.ndim == 1:
        return x
    return np.ascontiguousarray(x.transpose(2, 0, 1)).reshape(-1)
