"""Background computation for live views: one job at a time, the newest request wins.

The feature-map viewer recomputes on every keystroke of an edit. Running each request would queue
seconds of stale work; running them in parallel would fight over two cores. So a
:class:`LatestWorker` keeps at most one job running and at most one waiting: a new request cancels
the running job through its :class:`CancelToken` (the engine checks it between layers and chunks)
and replaces the waiting one, which is then dropped unseen. Results come back through signals
emitted on an object living in the main thread, so slots run there and may touch widgets.

Jobs are plain callables ``job(token, progress) -> result``; they never see Qt, which keeps them
testable and lets the same engine code run in the command line.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThread, QThreadPool, QTimer, Signal

from convdesigner.core.cancel import Cancelled, CancelToken
from convdesigner.core.switching import checkpoint, checkpoints, short_switch_interval

Progress = Callable[[int, int], None]
PROGRESS_INTERVAL = 0.015
"""Seconds between two progress reports delivered to the UI thread (a frame is 16 ms)."""
Job = Callable[[CancelToken, Progress], Any]


@dataclass
class WorkerStats:
    """Counts for tests and the benchmark: how much work was started, finished or thrown away."""

    submitted: int = 0
    started: int = 0
    finished: int = 0
    failed: int = 0
    cancelled: int = 0
    """Jobs that were running when a newer request arrived and stopped early (``Cancelled``)."""
    superseded: int = 0
    """Requests replaced while still waiting: never started at all."""
    discarded: int = 0
    """Jobs that completed although cancelled (too late to stop): result not delivered."""


_running_lock = threading.Lock()
_running_jobs = 0


_held_until = 0.0
"""``time.monotonic()`` until which pure-Python jobs pause at their next step."""


RESULT_HOLD = 0.03
"""Seconds pure-Python jobs pause when another job's result is about to be shown."""


def hold_background(seconds: float = 0.06) -> None:
    """The UI thread is about to refresh after a change: pure-Python jobs (those submitted with
    ``python_bound``) pause at their next step (between two layers) for ``seconds``.

    Each call from Qt into Python (a table cell, a pipeline card) must take the interpreter
    from such a job: beside the viewer running a 10,000-layer design, a refresh of the window
    stretched to 50-120 ms. Pausing the job costs it those milliseconds and nothing else.
    """
    global _held_until
    _held_until = max(_held_until, time.monotonic() + seconds)


class _Turns:
    """One pure-Python job runs at a time, the most urgent first.

    When the UI thread asks for the interpreter, CPython hands it over after the switch
    interval to whichever thread wins it. Beside one pure-Python job the UI thread wins every
    time; beside two (the viewer's run and the explain panel's notes, say) it lost often enough
    that a window doing 2 ms of work was frozen for 25-35 ms. Run one after the other, the jobs
    take as long in total and the window waits one interval at most per call into Python.

    A job of higher priority (a lower number: the analysis the table waits for) takes the next
    turn: the running job hands its turn over at its next checkpoint and resumes after.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._waiting: collections.Counter[int] = collections.Counter()

    def _first_waiting(self) -> int | None:
        return min((p for p, n in self._waiting.items() if n), default=None)

    def take(self, token: CancelToken, priority: int) -> bool:
        """Wait for the turn; False if ``token`` was cancelled first (no turn taken)."""
        with self._cond:
            self._waiting[priority] += 1
            try:
                while True:
                    if token.cancelled:
                        return False
                    first = self._first_waiting()
                    if not self._busy and (first is None or first >= priority):
                        self._busy = True
                        return True
                    self._cond.wait(0.005)
            finally:
                self._waiting[priority] -= 1
                self._cond.notify_all()

    def give(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    def let_first_pass(self, token: CancelToken, priority: int, held: list[bool]) -> None:
        """At a checkpoint of a job holding the turn (``held[0]``): a job of higher priority
        that waits runs first. Raises ``Cancelled`` if the job was cancelled meanwhile."""
        first = self._first_waiting()
        if first is None or first >= priority:
            return
        held[0] = False
        self.give()
        if not self.take(token, priority):
            raise Cancelled
        held[0] = True


_turns = _Turns()


LONGEST_PAUSE = 0.5
"""Seconds a job pauses for holds in a row at most; it then runs :data:`FREE_RUN` unheld."""
FREE_RUN = 0.1
"""Seconds a job runs without pausing after its longest pause: a window that refreshes
without end (a pointer moving over the pipeline repaints a card at each move) must not stop
the viewer for good."""

_free = threading.local()


HEARTBEAT_MS = 2
"""Milliseconds between two beats of the UI thread while a pure-Python job runs."""
STARVED_AFTER = 0.008
"""Seconds without a beat after which jobs take the UI thread to be waiting for the
interpreter (or busy), and pause until it beats again."""

_last_beat = 0.0
_beating = 0
"""Workers whose job is beating now (changed on the UI thread only)."""


def _beat() -> None:
    global _last_beat
    _last_beat = time.monotonic()


def ui_starved(now: float | None = None) -> bool:
    """Whether the UI thread has missed its beats while a pure-Python job runs.

    The switch interval does not protect the UI thread from a job that releases the
    interpreter itself many times a millisecond, as the engine does in each small NumPy call:
    every release wakes the waiting UI thread, the job takes the interpreter back before the
    UI thread has woken, and the UI thread's wait starts again from zero, so it never asks
    the job to let go. ``perf sched`` showed the UI thread woken every 0.15-0.2 ms for
    25-110 ms on end while the viewer ran a dense block, each time in vain. A timer beating
    on the UI thread every :data:`HEARTBEAT_MS` tells the jobs: no beat for
    :data:`STARVED_AFTER`, and the UI thread is stuck (or busy); the job sleeps until it beats.
    """
    if not _beating:
        return False
    return (time.monotonic() if now is None else now) - _last_beat > STARVED_AFTER


def _pause_while_held(token: CancelToken) -> None:
    if time.monotonic() < getattr(_free, "until", 0.0):
        return
    if wait_while_held(lambda: token.cancelled, heartbeat=True):
        _free.until = time.monotonic() + FREE_RUN


def wait_while_held(
    cancelled: Callable[[], bool] = lambda: False, *, heartbeat: bool = False
) -> bool:
    """Wait while the UI thread refreshes (:func:`hold_background`) or, with ``heartbeat``,
    misses its beats (:func:`ui_starved`), at most :data:`LONGEST_PAUSE`, or until
    ``cancelled()``; whether the wait outlasted the longest pause. Jobs pause here at their
    steps; the graveyard's thread before each slice (its slices never let go of the
    interpreter by themselves, so it needs no heartbeat)."""
    started = time.monotonic()
    while not cancelled():
        now = time.monotonic()
        wait = _held_until - now
        if wait <= 0:
            if not (heartbeat and ui_starved(now)):
                return False
            wait = 0.001  # the UI thread takes the interpreter while this one sleeps
        if now - started >= LONGEST_PAUSE:
            return True
        time.sleep(min(wait, 0.005))
    return False


def running_jobs() -> int:
    """Jobs of any LatestWorker executing right now (tests check it is 0 after each test)."""
    with _running_lock:
        return _running_jobs


def lower_this_threads_priority() -> None:
    """Let the UI thread win the CPU when both want it: the worker only delays its own result.

    On Linux a nice value is per thread and cannot be lowered back by an ordinary user, so this
    is only used on the worker's own single-thread pool, never on the shared global pool.
    """
    if sys.platform.startswith("linux") and hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    else:
        thread = QThread.currentThread()
        if thread is not None:
            thread.setPriority(QThread.Priority.LowPriority)


class _Relay(QObject):
    """Lives in the main thread; the pool thread emits on it, so Qt queues delivery to the slots."""

    done = Signal(int, object, object)  # request id, result, error (Exception | None)
    progress = Signal(int, int, int)  # request id, i, n


@dataclass
class _Pending:
    request: int
    job: Job
    python_bound: bool = False
    priority: int = 0
    token: CancelToken = field(default_factory=CancelToken)


class _Runnable(QRunnable):
    def __init__(
        self,
        pending: _Pending,
        relay: _Relay,
        finished: threading.Event,
        background: bool,
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._pending = pending
        self._relay = relay
        self._finished = finished
        self._background = background

    def run(self) -> None:
        global _running_jobs
        with _running_lock:
            _running_jobs += 1
        try:
            if self._background:
                lower_this_threads_priority()
            if self._pending.python_bound:
                token = self._pending.token
                _pause_while_held(token)  # the window is refreshing: after it
                priority = self._pending.priority
                if not _turns.take(token, priority):
                    # Cancelled while waiting for its turn: never started.
                    with contextlib.suppress(RuntimeError):
                        self._relay.done.emit(self._pending.request, None, Cancelled())
                    return

                held = [True]

                def checkpoint() -> None:
                    _turns.let_first_pass(token, priority, held)
                    _pause_while_held(token)

                try:
                    with short_switch_interval(), checkpoints(checkpoint):
                        self._run()
                finally:
                    if held[0]:
                        _turns.give()
            else:
                self._run()
        finally:
            with _running_lock:
                _running_jobs -= 1
            self._finished.set()

    def _run(self) -> None:
        pending = self._pending
        result: Any = None
        error: BaseException | None = None

        last = [0.0]

        def progress(i: int, n: int) -> None:
            if pending.python_bound:
                checkpoint()  # switching.checkpoint: the hook installed in run()
            # At most one report per PROGRESS_INTERVAL (and the last): each is a slot call on
            # the UI thread, and a 10,000-layer design reported 10,000 times in a few seconds.
            now = time.monotonic()
            if pending.token.cancelled or (now - last[0] < PROGRESS_INTERVAL and i < n):
                return
            last[0] = now
            self._relay.progress.emit(pending.request, i, n)

        try:
            result = pending.job(pending.token, progress)
        except Exception as exc:  # delivered to the main thread, shown to the user there
            error = exc
            # The traceback's frames keep the job's locals (a cancelled run's analysis of
            # 10,000 nodes, its design) alive, and this frame's ``error`` closes a cycle
            # through them: the collector then freed it all on the UI thread, 15-18 ms in
            # one go. Clearing the locals here frees them on this thread; the traceback
            # still prints (it needs only code and line numbers).
            traceback.clear_frames(exc.__traceback__)
        finally:
            # RuntimeError: the relay was deleted with its window, so nobody is listening.
            with contextlib.suppress(RuntimeError):
                self._relay.done.emit(pending.request, result, error)
            result = error = None  # nor does this frame keep anything once it returns


class LatestWorker(QObject):
    """Runs jobs one at a time on a thread pool; only the newest request's result is delivered.

    Signals (all emitted in the main thread):
    - ``resultReady(request, result)``: the newest request finished;
    - ``jobFailed(request, exception)``: the newest request raised (not ``Cancelled``);
    - ``progressed(request, i, n)``: the running newest job reached step i of n;
    - ``busyChanged(bool)``: a job started running with nothing running before, or all work ended.
    """

    resultReady = Signal(int, object)
    jobFailed = Signal(int, object)
    progressed = Signal(int, int, int)
    busyChanged = Signal(bool)

    def __init__(
        self,
        parent: QObject | None = None,
        pool: QThreadPool | None = None,
        *,
        background: bool = False,
        python_bound: bool = False,
        priority: int = 2,
    ) -> None:
        """``background``: run on a private one-thread pool at lowered priority, so a long
        computation never competes with the UI thread for a core (live views want this).
        ``python_bound``: the jobs are pure Python (they never release the interpreter lock),
        so the interpreter switches threads more often while one runs (see
        :mod:`convdesigner.core.switching`), they pause while the window refreshes, and only
        one of them runs at a time, by ``priority`` (lower first: 0 for the analysis the
        table waits for, 1 for texts the user reads, 2 for the rest)."""
        super().__init__(parent)
        self._background = background
        self._python_bound = python_bound
        self._priority = priority
        if background and pool is None:
            pool = QThreadPool(self)
            pool.setMaxThreadCount(1)
        self._pool = pool if pool is not None else QThreadPool.globalInstance()
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self._relay.progress.connect(self._on_progress)
        self._ids = itertools.count(1)
        self._running: _Pending | None = None
        self._running_done = threading.Event()
        self._running_done.set()
        self._waiting: _Pending | None = None
        self._latest = 0
        self._closed = False
        self._heart = QTimer(self)  # see ui_starved
        self._heart.setTimerType(Qt.TimerType.PreciseTimer)
        self._heart.setInterval(HEARTBEAT_MS)
        self._heart.timeout.connect(_beat)
        self.stats = WorkerStats()

    # ------------------------------------------------------------------ API

    @property
    def busy(self) -> bool:
        return self._running is not None or self._waiting is not None

    @property
    def latest_request(self) -> int:
        return self._latest

    def submit(self, job: Job, *, python_bound: bool | None = None) -> int:
        """Queue ``job``, cancelling whatever is running or waiting; returns the request id.

        ``python_bound`` overrides the worker's setting for this job (see ``__init__``)."""
        if self._closed:
            raise RuntimeError("the worker has been shut down")
        request = next(self._ids)
        self._latest = request
        self.stats.submitted += 1
        if self._waiting is not None:
            self.stats.superseded += 1
        bound = self._python_bound if python_bound is None else python_bound
        self._waiting = _Pending(request, job, bound, self._priority)
        if self._running is not None:
            self._running.token.cancel()
        else:
            self._start_waiting()
        return request

    def cancel(self) -> None:
        """Drop the waiting request and stop the running one; nothing more is delivered."""
        self._latest = next(self._ids)  # no current request id matches any more
        if self._waiting is not None:
            self.stats.superseded += 1
            self._waiting = None
        if self._running is not None:
            self._running.token.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel everything and wait for the running job to return (True if it did in time).

        Called when the owning window closes, so no pool thread outlives the widgets it reports to.
        """
        self._closed = True
        self.cancel()
        self._set_beating(False)
        finished = self._running_done.wait(timeout_ms / 1000.0)
        self._running = None
        if finished and self._background:
            self._pool.waitForDone(timeout_ms)  # our own pool: its thread is idle now
        return finished

    # ------------------------------------------------------------------ internals

    def _start_waiting(self) -> None:
        pending, self._waiting = self._waiting, None
        if pending is None:
            return
        was_idle = self._running is None
        self._running = pending
        self._running_done = threading.Event()
        self.stats.started += 1
        self._set_beating(pending.python_bound)
        self._pool.start(_Runnable(pending, self._relay, self._running_done, self._background))
        if was_idle:
            self.busyChanged.emit(True)

    def _set_beating(self, on: bool) -> None:
        global _beating
        if on == self._heart.isActive():
            return
        if on:
            _beat()  # a fresh start: the job must not find the UI thread starved at once
            self._heart.start()
            _beating += 1
        else:
            self._heart.stop()
            _beating -= 1

    def _on_progress(self, request: int, i: int, n: int) -> None:
        if request == self._latest:
            self.progressed.emit(request, i, n)

    def _on_done(self, request: int, result: object, error: object) -> None:
        running = self._running
        if running is None or running.request != request:
            return  # after shutdown
        self._running = None
        self._set_beating(False)
        if isinstance(error, Cancelled):
            self.stats.cancelled += 1
        elif running.token.cancelled or request != self._latest:
            self.stats.discarded += 1
        elif error is not None:
            self.stats.failed += 1
            self.jobFailed.emit(request, error)
        else:
            self.stats.finished += 1
            # The window shows the result next: pure-Python jobs wait until it has.
            hold_background(RESULT_HOLD)
            self.resultReady.emit(request, result)
        if self._waiting is not None and not self._closed:
            self._start_waiting()
        elif self._running is None:
            self.busyChanged.emit(False)
