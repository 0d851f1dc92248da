"""Output arrays recycled from earlier runs whose results nobody holds any more.

The engine keeps every layer's output, so a run of the reference network writes about 130 MB of
fresh arrays. Fresh memory from the operating system costs a page fault and a zeroing per page
on first touch (about 0.2 ms per MiB here, 5-10 % of the run), and glibc hands large blocks back
to the system as soon as they are freed, so every run paid it again. The GUI runs the same design
over and over, dropping the previous results: this pool keeps the large blocks and hands one out
again once no array refers to it any more (its reference count says so), up to
:data:`POOL_LIMIT` bytes of idle blocks.
"""

from __future__ import annotations

import sys
import threading

import numpy as np

from convdesigner.core import parallel

FloatArray = np.ndarray

MIN_BYTES = 1024 * 1024
"""Arrays smaller than this come from ``np.empty`` (malloc reuses small blocks by itself)."""

POOL_LIMIT = 256 * 1024 * 1024
"""Bytes of blocks the pool may hold in all (idle and in use); beyond, arrays are not pooled."""

_lock = threading.Lock()
_blocks: list[FloatArray] = []


def _refs(block: FloatArray) -> int:
    return sys.getrefcount(block)


def _baseline() -> int:
    """References to a pooled block that nobody else uses, counted the way :func:`empty` does
    (list slot, loop variable, argument): calibrated rather than assumed, as it is an
    interpreter detail."""
    probe = [np.empty(1, dtype=np.float32)]
    for block in probe:
        return _refs(block)
    raise AssertionError("unreachable")


_IDLE = _baseline()


def empty(shape: tuple[int, ...]) -> FloatArray:
    """An uninitialised float32 array of ``shape``, from an idle pooled block when one fits."""
    size = 1
    for n in shape:
        size *= n
    if size * 4 < MIN_BYTES:
        return np.empty(shape, dtype=np.float32)
    with _lock:
        for block in _blocks:
            if block.size == size and _refs(block) <= _IDLE:
                return block.reshape(shape)
        total = sum(b.nbytes for b in _blocks)
        if total + size * 4 > POOL_LIMIT:  # forget idle blocks, oldest first, to make room
            kept = []
            for block in _blocks:
                if total + size * 4 > POOL_LIMIT and _refs(block) <= _IDLE:
                    total -= block.nbytes
                else:
                    kept.append(block)
            _blocks[:] = kept
            del kept
        block = np.empty(size, dtype=np.float32)
        if total + size * 4 <= POOL_LIMIT:
            _blocks.append(block)
        return block.reshape(shape)


def clear() -> None:
    """Forget every pooled block (arrays in use stay valid: they hold their own reference)."""
    with _lock:
        _blocks.clear()


Scratch = parallel.Scratch
"""Per-thread working buffers of one band worker, by name (kept between layers and runs)."""


def scratch_array(scratch: Scratch, name: str, shape: tuple[int, ...]) -> FloatArray:
    """A float32 array of ``shape`` backed by ``scratch[name]``, a buffer that only ever grows,
    so a band's temporaries are allocated once per thread, not once per band."""
    size = int(np.prod(shape))
    buf: FloatArray | None = scratch.get(name)
    if buf is None or buf.size < size:
        buf = np.empty(size, dtype=np.float32)
        scratch[name] = buf
    return buf[:size].reshape(shape)
