"""The sizes that bound a convolution's temporaries.

They live with the kernels, which size their bands and copies by them, rather than with the
engine's memory estimate (:mod:`convdesigner.core.engine.memory`), which adds the same amounts to
a run's peak: the estimate reads the analysis and the registry, and a kernel must not.
"""

from __future__ import annotations

CHUNK_BUDGET = 64 * 1024 * 1024
"""Bytes that one convolution's temporaries (im2col columns, padded slab, GEMM result) may use."""

PLANAR_MAX_CHANNELS = 4
"""Convolutions reading this many channels or fewer (the first layer on an RGB or grey image)
build their im2col columns from a padded channels-first copy of the input: one contiguous (or
stride-strided) row copy per channel and kernel tap, instead of gathering runs of 1-4 values
from the channels-last map, and the matrix product reads the columns transposed. Measured on
one core for 3→32 channels, 3×3 on 512²: 9.2 ms against 15.0 ms for the whole layer. Only
with a column stride of 1: strided row copies (ResNet's 7×7 stride-2 stem) lose that gain
(3.2 ms against 2.8 ms)."""
