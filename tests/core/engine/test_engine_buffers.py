"""The output pool: a block is handed out again only when no array refers to it any more."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from convdesigner.core.design import Design, InputSpec
from convdesigner.core.engine.forward import run_design
from convdesigner.core.kernels import buffers
from convdesigner.core.layers import Conv2D, MaxPool2D, ReLU

SHAPE = (512, 1024)  # 2 MiB: pooled


@pytest.fixture(autouse=True)
def empty_pool() -> Iterator[None]:
    buffers.clear()
    yield
    buffers.clear()


def test_block_in_use_is_never_handed_out_again() -> None:
    a = buffers.empty(SHAPE)
    a.fill(1.0)
    view = a.T[::2]  # a view keeps the block alive after the array itself is gone
    del a
    b = buffers.empty(SHAPE)
    assert not np.shares_memory(b, view)
    b.fill(2.0)
    assert np.all(view == 1.0)


def test_released_block_is_reused() -> None:
    a = buffers.empty(SHAPE)
    address = a.ctypes.data
    del a
    b = buffers.empty((1024, 512))
    assert b.ctypes.data == address
    assert b.shape == (1024, 512)
    assert b.dtype == np.float32


def test_small_arrays_and_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    small = buffers.empty((10, 10))
    assert small.shape == (10, 10)
    assert buffers._blocks == []
    monkeypatch.setattr(buffers, "POOL_LIMIT", 3 * 2**21)
    held = [buffers.empty(SHAPE) for _ in range(4)]  # 8 MiB > 6 MiB: the fourth is not pooled
    assert len(buffers._blocks) == 3
    assert not any(np.shares_memory(held[3], b) for b in buffers._blocks)
    del held[0]
    other = buffers.empty((384, 1024))  # 1.5 MiB: the idle block is forgotten to make room
    assert len(buffers._blocks) == 3
    assert sum(b.nbytes for b in buffers._blocks) <= 3 * 2**21
    assert any(np.shares_memory(other, b) for b in buffers._blocks)
    for array in held[:2]:  # blocks in use stay
        assert any(np.shares_memory(array, b) for b in buffers._blocks)


def test_results_of_an_earlier_run_survive_the_next_run() -> None:
    design = Design(
        InputSpec(height=256, width=256, channels=3),
        (Conv2D(filters=16, kernel=3, padding="same"), ReLU(), MaxPool2D()),
    )
    rng = np.random.default_rng(0)
    first_image = rng.random(design.input.shape, dtype=np.float32)
    first = run_design(design, first_image)
    kept = [o.copy() for o in first]
    for _ in range(2):  # later runs on another image, with and without the first results alive
        second = run_design(design, rng.random(design.input.shape, dtype=np.float32))
        for old, copy in zip(first, kept, strict=True):
            np.testing.assert_array_equal(old, copy)
        assert not any(np.shares_memory(a, b) for a in first[1:] for b in second[1:])
    del second
    again = run_design(design, first_image)
    for old, new in zip(kept, again, strict=True):
        np.testing.assert_array_equal(old, new)
