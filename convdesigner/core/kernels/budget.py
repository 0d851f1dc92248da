"""The memory budget of a convolution's temporaries.

It lives with the kernels, which size their bands by it, rather than with the engine's memory
estimate (:mod:`convdesigner.core.engine.memory`), which adds it to a run's peak: the estimate
reads the analysis, and a kernel must not.
"""

from __future__ import annotations

CHUNK_BUDGET = 64 * 1024 * 1024
"""Bytes that one convolution's temporaries (im2col columns, padded slab, GEMM result) may use."""
