"""The band thread pool: a job split into independent bands, run on all cores at once.

Used by the engine (bands of rows of a convolution, blocks of a dense layer) and by the default
weights (blocks of random values), so it lives outside both. NumPy releases the GIL inside its
kernels, which makes plain threads enough; BLAS is limited to one thread meanwhile, so the band
threads and BLAS's own threads do not oversubscribe the cores.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

Check = Callable[[], None]
"""Called before every band; raising (e.g. ``Cancelled``) stops the job."""

Scratch = dict[str, Any]
"""Per-thread working buffers of one band worker, by name (kept between jobs)."""

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def default_workers() -> int:
    """Cores this process may use (the affinity mask where the OS has one), at most 8."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


WORKERS = default_workers()
"""Threads (including the caller's) that compute bands; set to 1 to run serially."""


def _pool_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=7, thread_name_prefix="convdesigner-band")
        return _executor


_blas_lock = threading.Lock()
_blas_users = 0
_blas_restore: Any = None


@contextmanager
def blas_single_thread() -> Iterator[None]:
    """BLAS limited to one thread while any run is inside this block.

    Reference-counted: concurrent runs (a stale one still stopping while the next starts) share
    one limit, and the original thread count comes back when the last of them leaves. The
    threadpoolctl controller scans the loaded libraries once (about 0.3 ms), so entering costs
    microseconds.
    """
    global _blas_users, _blas_restore
    with _blas_lock:
        if _blas_users == 0:
            _release_control()
            _blas_restore = _limit_blas()
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0 and _blas_restore is not None:
                _release_control()
                _blas_restore.restore_original_limits()
                _blas_restore = None
                _release_control()


def _release_control() -> None:
    """threadpoolctl ≥ 3.6 lets only one "controlling" thread change OpenBLAS's process-wide
    pool and silently ignores the others; runs start and end on whichever thread the caller
    uses (the GUI's worker, say), and this lock-guarded count is the real owner, so hand the
    control over explicitly."""
    try:
        from threadpoolctl import OpenBLASController  # type: ignore[import-untyped]
    except ImportError:  # older threadpoolctl: no controlling thread
        return
    clear = getattr(OpenBLASController, "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)


_controller: Any = None


def _limit_blas() -> Any:
    global _controller
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return None
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


# --------------------------------------------------------------------------- running

_scratch = threading.local()

SCRATCH_KEEP = 32 * 1024 * 1024
"""Bytes of band buffers a thread keeps between jobs (engine layers, runs). Fresh buffers cost a
page fault per 4 KiB on first touch (about 0.2 ms per MiB, 5-10 % of a run of the reference
network); kept ones are reused. A thread whose buffers grew past this starts the next job afresh."""


def thread_scratch() -> Scratch:
    """This thread's band buffers (a thread computes one band at a time: never shared)."""
    scratch: Scratch | None = getattr(_scratch, "buffers", None)
    if scratch is None or sum(getattr(b, "nbytes", 0) for b in scratch.values()) > SCRATCH_KEEP:
        scratch = {}
        _scratch.buffers = scratch
    return scratch


def run_bands(
    n_bands: int, work: Callable[[int, Scratch], None], check: Check, workers: int
) -> None:
    """Run ``work(band, scratch)`` for every band, on up to ``workers`` threads (caller included).

    The first exception (e.g. cancellation) stops the other threads at their next band and is
    re-raised here after all of them have stopped, so no thread outlives the run.
    """
    workers = max(1, min(workers, n_bands))
    if workers == 1:
        scratch = thread_scratch()
        for i in range(n_bands):
            check()
            work(i, scratch)
        return
    lock = threading.Lock()
    state = {"next": 0, "stop": False}
    errors: list[BaseException] = []

    def loop() -> None:
        local = thread_scratch()
        while True:
            with lock:
                if state["stop"] or state["next"] >= n_bands:
                    return
                i = state["next"]
                state["next"] = i + 1
            try:
                check()
                work(i, local)
            except BaseException as exc:
                with lock:
                    state["stop"] = True
                    errors.append(exc)
                return

    with blas_single_thread():
        futures: list[Future[None]] = [_pool_executor().submit(loop) for _ in range(workers - 1)]
        loop()
        for f in futures:
            f.result()
    if errors:
        raise errors[0]
