"""Special files for the reliability tests: named pipes that cannot hang the test run.

A loader that blocks on a FIFO waits for a writer forever. :func:`guarded_fifo` gives a test a
FIFO and a watchdog thread: if the test has not finished within ``RESCUE_AFTER`` seconds and
someone is blocked reading the FIFO, the watchdog opens and closes its writing end, so the
reader sees end-of-file and the test fails on its assertions (``guard.rescued`` is then true)
instead of hanging. The timeout only bounds a failure; nothing is measured with it.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

RESCUE_AFTER = 20.0


@dataclass
class FifoGuard:
    path: Path
    rescued: bool = False
    done: threading.Event = field(default_factory=threading.Event)

    def _watch(self) -> None:
        if self.done.wait(RESCUE_AFTER):
            return
        while not self.done.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:  # ENXIO: nobody is reading (yet)
                if exc.errno != errno.ENXIO:
                    return
                self.done.wait(0.1)
                continue
            self.rescued = True
            os.close(fd)
            self.done.wait(0.1)


@contextmanager
def guarded_fifo(path: Path) -> Iterator[FifoGuard]:
    """A FIFO at ``path`` for the duration of the block, with a watchdog (see the module)."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("named pipes need a POSIX system")
    os.mkfifo(path)
    guard = FifoGuard(path)
    watchdog = threading.Thread(target=guard._watch, daemon=True)
    watchdog.start()
    try:
        yield guard
    finally:
        guard.done.set()
        watchdog.join()


def device_node(path: Path) -> Path:
    """A character device at ``path`` that behaves like /dev/null (needs root; else skip), so a
    test can write to "a device" without going near the system's own /dev/null."""
    null = os.stat("/dev/null")
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, null.st_rdev)
    except (PermissionError, AttributeError, OSError) as exc:
        pytest.skip(f"cannot create a device node here ({exc})")
    try:  # a folder on a "nodev" file system holds device nodes that cannot be opened
        os.close(os.open(path, os.O_WRONLY))
    except OSError as exc:
        pytest.skip(f"device nodes cannot be opened here ({exc})")
    return path
