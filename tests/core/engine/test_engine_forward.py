"""run_design's contract: errors, cancellation, progress, the memory limit and bounded memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import convdesigner
from convdesigner.core import parallel
from convdesigner.core.analysis import analyse
from convdesigner.core.cancel import Cancelled, CancelToken
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.engine import pipeline
from convdesigner.core.engine.forward import (
    DEFAULT_MEMORY_LIMIT,
    MemoryLimitError,
    estimate_memory,
    run_design,
)
from convdesigner.core.kernels import conv
from convdesigner.core.kernels.budget import CHUNK_BUDGET
from convdesigner.core.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
from convdesigner.core.weights import WeightsError, default_weights

SMALL = Design(
    InputSpec(height=12, width=10, channels=3),
    (Conv2D(filters=4, kernel=3, padding="same"), ReLU(), MaxPool2D(), Flatten(), Dense(units=2)),
)


def image_for(design: Design, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(design.input.shape, dtype=np.float32)


def test_outputs_have_the_analysed_shapes_and_input_comes_first() -> None:
    image = image_for(SMALL)
    outs = run_design(SMALL, image)
    shapes = [row.output_shape for row in analyse(SMALL).rows]
    assert [o.shape for o in outs] == shapes
    assert all(o.dtype == np.float32 for o in outs)
    np.testing.assert_array_equal(outs[0], image)
    assert outs[0] is not image  # the caller's array is never aliased


def test_package_api_matches_engine() -> None:
    image = image_for(SMALL)
    via_package = convdesigner.run(SMALL, image, seed=5)
    direct = run_design(SMALL, image, default_weights(SMALL, 5))
    for a, b in zip(via_package, direct, strict=True):
        np.testing.assert_array_equal(a, b)
    weights = convdesigner.default_weights(SMALL, 5)
    np.testing.assert_array_equal(weights["0.weight"], default_weights(SMALL, 5)["0.weight"])


def test_design_error_names_the_layer() -> None:
    bad = Design(InputSpec(8, 8, 3), (Conv2D(filters=4, kernel=3), Conv2D(filters=2, kernel=9)))
    with pytest.raises(ValueError, match=r"layer 1 \(Conv2D\):.*larger than the padded input"):
        run_design(bad, np.zeros((3, 8, 8), np.float32))
    with pytest.raises(ValueError, match="layer 1"):
        estimate_memory(bad)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((3, 10, 12), np.float32), r"shape \(3, 10, 12\).*\(3, 12, 10\)"),
        (np.zeros((12, 10, 3), np.float32), "shape"),
        (np.zeros((3, 12, 10), np.complex64), "hold numbers|dtype"),
        ([[0.0]], "NumPy array"),
    ],
)
def test_bad_image_is_refused(image: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run_design(SMALL, image)  # type: ignore[arg-type]


def test_bad_weights_are_refused_with_every_problem() -> None:
    weights = default_weights(SMALL)
    del weights["0.bias"]
    weights["4.weight"] = np.zeros((3, 3), np.float32)
    weights["9.weight"] = np.zeros(1, np.float32)
    with pytest.raises(WeightsError) as info:
        run_design(SMALL, image_for(SMALL), weights)
    text = str(info.value)
    assert "missing '0.bias'" in text
    assert "unexpected '9.weight'" in text
    assert "'4.weight' has shape (3, 3), expected (2, 120)" in text


def test_progress_reports_every_layer_in_order() -> None:
    calls: list[tuple[int, int]] = []
    run_design(SMALL, image_for(SMALL), progress=lambda i, n: calls.append((i, n)))
    assert calls == [(i, 5) for i in range(5)]


def test_each_output_is_announced_as_soon_as_it_exists() -> None:
    """on_output(index, output) for every layer in order, with the very arrays returned, and
    before the layers after it have run (a viewer shows an early layer meanwhile)."""
    announced: list[tuple[int, np.ndarray, int]] = []
    progressed: list[int] = []
    run = run_design(
        SMALL,
        image_for(SMALL),
        progress=lambda i, n: progressed.append(i),
        on_output=lambda i, out: announced.append((i, out, len(progressed))),
    )
    assert [i for i, _, _ in announced] == list(range(len(SMALL.layers)))
    for i, out, _ in announced:
        assert out is run[i + 1]
    # The dense layer (4) had not started when the pooled maps (2) were announced.
    assert announced[2][2] <= 3


def test_default_weights_are_drawn_layer_by_layer_as_the_run_reaches_them() -> None:
    from convdesigner.core import weights as weights_module

    drawn: list[int] = []
    original = weights_module._random_weight

    def recording(seed: int, index: int, shape: tuple[int, ...], classic: bool) -> np.ndarray:
        drawn.append(index)
        return original(seed, index, shape, classic)

    token = CancelToken()

    def stop_after_pooling(i: int, out: np.ndarray) -> None:
        if i == 2:
            token.cancel()

    weights_module.forget_default_weights()
    try:
        weights_module._random_weight = recording
        with pytest.raises(Cancelled):
            run_design(SMALL, image_for(SMALL), cancel=token, on_output=stop_after_pooling)
        assert drawn == [0]  # the dense layer's weights were never drawn
        full = run_design(SMALL, image_for(SMALL))
    finally:
        weights_module._random_weight = original
    assert drawn == [0, 0, 4]
    eager = run_design(SMALL, image_for(SMALL), weights=default_weights(SMALL))
    for a, b in zip(full, eager, strict=True):
        np.testing.assert_array_equal(a, b)


def test_cancelled_token_stops_before_work() -> None:
    token = CancelToken()
    token.cancel()
    assert token.cancelled
    with pytest.raises(Cancelled):
        run_design(SMALL, image_for(SMALL), cancel=token)


def test_cancel_from_progress_callback_stops_at_the_next_layer() -> None:
    token = CancelToken()
    seen: list[int] = []

    def progress(i: int, n: int) -> None:
        seen.append(i)
        if i == 3:
            token.cancel()

    with pytest.raises(Cancelled):
        run_design(SMALL, image_for(SMALL), cancel=token, progress=progress)
    assert seen == [0, 1, 2, 3]


class CountingToken(CancelToken):
    """Cancels itself after ``after`` checks, counting every check."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after
        self.checks = 0

    @property
    def cancelled(self) -> bool:
        self.checks += 1
        if self.checks >= self.after:
            self.cancel()
        return super().cancelled


@pytest.mark.parametrize("workers", [1, 2])
def test_cancel_is_noticed_between_bands_of_one_layer(
    workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "WORKERS", workers)
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_MACS", 0)
    monkeypatch.setattr(conv, "TARGET_CHUNK", 1)  # one output row per band: 64 bands
    design = Design(InputSpec(64, 64, 3), (Conv2D(filters=8, kernel=3, padding="same"),))
    token = CountingToken(after=5)
    layers_started: list[int] = []
    with pytest.raises(Cancelled):
        run_design(
            design, image_for(design), cancel=token, progress=lambda i, n: layers_started.append(i)
        )
    assert layers_started == [0]  # stopped inside the only layer
    assert token.checks < 5 + 2 * workers  # each thread stops at its next band


def test_memory_limit_refuses_before_running() -> None:
    estimate = estimate_memory(SMALL)
    with pytest.raises(MemoryLimitError) as info:
        run_design(SMALL, image_for(SMALL), memory_limit=estimate - 1)
    assert info.value.estimate_bytes == estimate
    assert info.value.limit_bytes == estimate - 1
    assert "MiB" in str(info.value)
    assert isinstance(info.value, ValueError)
    run_design(SMALL, image_for(SMALL), memory_limit=None)
    run_design(SMALL, image_for(SMALL), memory_limit=estimate)


def test_estimate_covers_activations_parameters_and_budget() -> None:
    analysis = analyse(SMALL)
    totals = analysis.totals
    estimate = estimate_memory(SMALL)
    assert estimate >= totals.activation_bytes + totals.parameter_bytes + CHUNK_BUDGET
    assert estimate < totals.activation_bytes * 3 + 3 * totals.parameter_bytes + CHUNK_BUDGET
    huge = Design(InputSpec(16384, 16384, 64), (Conv2D(filters=64, kernel=3),))
    assert estimate_memory(huge) > DEFAULT_MEMORY_LIMIT
    with pytest.raises(MemoryLimitError, match="GiB"):
        run_design(huge, np.zeros((1, 1, 1), np.float32))  # refused before the image is looked at


def test_large_image_peak_memory_stays_near_activations_plus_budget() -> None:
    """An unchunked im2col of this layer would need 1024·1024·144·4 B = 576 MiB on its own."""
    design = Design(
        InputSpec(1024, 1024, 1),
        (
            Conv2D(filters=16, kernel=3, padding="same"),
            Conv2D(filters=16, kernel=3, padding="same"),
        ),
    )
    totals = analyse(design).totals
    image = image_for(design)
    weights = default_weights(design)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        run_design(design, image, weights)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    unchunked_columns = 1024 * 1024 * 16 * 9 * 4
    assert peak > totals.activation_bytes - image.nbytes  # the outputs were really allocated
    assert peak < totals.activation_bytes + CHUNK_BUDGET
    assert peak <= estimate_memory(design)
    assert peak < unchunked_columns


def _blas_threads() -> int:
    from threadpoolctl import threadpool_info  # type: ignore[import-untyped]

    return min(int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas")


def test_blas_limit_is_shared_and_restored_by_the_last_run() -> None:
    """Overlapping runs (a stale one finishing while the next starts) leave BLAS as it was,
    even when the first to enter is the first to leave."""
    before = _blas_threads()
    first, second = parallel.blas_single_thread(), parallel.blas_single_thread()
    first.__enter__()
    assert _blas_threads() == 1
    second.__enter__()
    first.__exit__(None, None, None)
    assert _blas_threads() == 1  # the second run still needs it
    second.__exit__(None, None, None)
    assert _blas_threads() == before


def test_concurrent_runs_give_the_same_results() -> None:
    from concurrent.futures import ThreadPoolExecutor

    design = Design(
        InputSpec(96, 80, 3),
        (
            Conv2D(filters=8, kernel=3, padding="same"),
            ReLU(),
            MaxPool2D(),
            Conv2D(filters=4, kernel=3),
        ),
    )
    image = image_for(design)
    expected = run_design(design, image)
    before = _blas_threads()
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: run_design(design, image), range(6)))
    for outs in results:
        for a, b in zip(outs, expected, strict=True):
            np.testing.assert_array_equal(a, b)
    assert _blas_threads() == before


def test_runs_from_other_threads_limit_blas_and_match_bit_for_bit() -> None:
    """The GUI runs the engine on a worker thread: BLAS must be limited there too (one thread
    per band), which also keeps results identical to a run on the main thread."""
    import threading

    design = Design(InputSpec(25, 64, 1), (Conv2D(filters=30, kernel=7, padding="same"),
                                           MaxPool2D(), Conv2D(filters=40, kernel=5)))  # fmt: skip
    image = image_for(design)
    expected = run_design(design, image)
    seen: list[int] = []
    results: list[list[np.ndarray]] = []

    def worker() -> None:
        results.append(
            run_design(design, image, progress=lambda i, n: seen.append(_blas_threads()))
        )

    for _ in range(2):
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert seen == [1] * 6
    for outs in results:
        for a, b in zip(outs, expected, strict=True):
            np.testing.assert_array_equal(a, b)
