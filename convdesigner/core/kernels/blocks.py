"""Blocks of work for the kernels that have no bands of their own (activations, softmax,
upsampling, transposed convolution), run on the engine's threads when the call is large enough.

These kernels are chains of NumPy passes. Done over a whole multi-megabyte map, every pass
streams it through memory again (a map-sized pass ran 3-4× slower here than the same pass over
a block in L2), so they work block by block; blocks are independent, so they are shared out over
the cores like the convolution's bands (NumPy releases the GIL inside its loops). Temporaries
come from the thread's scratch buffers: fresh multi-megabyte arrays cost a page fault per 4 KiB
on every call.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from convdesigner.core import parallel
from convdesigner.core.kernels.buffers import Scratch

FloatArray = np.ndarray

PARALLEL_MIN_VALUES = 1 << 18
"""Calls over fewer values run on the calling thread alone: handing blocks to another thread
costs about 0.05 ms here, the time of a pass or two over this many values."""


def scratch(store: Scratch, name: str, shape: tuple[int, ...]) -> FloatArray:
    """A float32 array of ``shape`` backed by the reusable buffer ``store[name]``, which only
    ever grows (like :func:`~convdesigner.core.kernels.buffers.scratch_array`, without its
    ``np.prod``, which costs microseconds per block)."""
    size = math.prod(shape)
    buf: FloatArray | None = store.get(name)
    if buf is None or buf.size < size:
        buf = np.empty(size, dtype=np.float32)
        store[name] = buf
    return buf[:size].reshape(shape)


def _never_cancelled() -> None:
    return None


def resolve_workers(values: int, workers: int | None) -> int:
    """The threads a call over ``values`` values runs on: ``workers``, or when None all the
    engine's threads from :data:`PARALLEL_MIN_VALUES` values on, one below."""
    if workers is None:
        return parallel.WORKERS if values >= PARALLEL_MIN_VALUES else 1
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    return workers


def run_blocks(
    n_blocks: int, work: Callable[[int, Scratch], None], values: int, workers: int | None
) -> None:
    """``work(block, scratch)`` for every block, on :func:`resolve_workers` threads. Callers
    already inside a band of the engine's pipeline pass ``workers=1``."""
    parallel.run_bands(n_blocks, work, _never_cancelled, resolve_workers(values, workers))
