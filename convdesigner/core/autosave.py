"""Autosave copies of unsaved designs, and finding the copies a killed window left behind.

Each running window writes its own copy, ``autosave-<pid>-<token>.json`` in one folder (the
window passes the application-data folder; no Qt here), so two windows never overwrite each
other's. Next to it a ``.lock`` file stays locked while the window lives (an OS lock, released
by the kernel when the process dies, even by SIGKILL): a copy whose lock can be taken belongs to
nobody and is offered for recovery; a live window's copy never is. Where locks are unavailable
the pid written in the copy decides (alive: not offered).

A copy holds the design, its file, the selected node, whether it differed from its file and the
size of the undo history when it was written. The history itself is not saved (up to 1,000
snapshots); recovery instead puts one undo step between the file's content and the recovered
design, so Undo goes back to what is on disk.

Copies are written atomically (core/atomic.py): a kill during a write leaves the previous copy.
The periodic copy is written on a background thread (:meth:`Autosaver.write_soon`); after an
error, at exit or before recovery it is written at once (:meth:`Autosaver.write`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from convdesigner.core.atomic import atomic_write_text
from convdesigner.core.design import Design
from convdesigner.core.document import Document
from convdesigner.core.fileformat import DesignFileError, design_from_dict, design_to_dict
from convdesigner.core.history import DocState
from convdesigner.core.safe_io import RefusedFileError, read_capped
from convdesigner.core.switching import short_switch_interval

AUTOSAVE_FORMAT = "convdesigner-autosave"
AUTOSAVE_VERSION = 1
_NAME = re.compile(r"autosave-(\d+)-([0-9a-f]{8})\.json")
log = logging.getLogger(__name__)
_MAX_COPY_BYTES = 64 * 1024 * 1024
"""A copy is a design file plus a few fields; the design loader's own cap applies inside."""


@dataclass(frozen=True)
class Recovered:
    """A copy left by a window that is gone: what recovery needs and what the dialog shows."""

    file: Path
    saved_at: datetime
    design: Design
    path: str | None
    """The design's own file when the copy was written (None: never saved)."""
    selection: str | None
    modified: bool
    undo_steps: int

    @property
    def name(self) -> str:
        return self.design.name


class Autosaver:
    """This window's copy in ``folder``: written on demand, removed after a save or clean exit.

    Nothing is created until the first :meth:`write`, so a session without edits leaves no file.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        stem = f"autosave-{os.getpid()}-{secrets.token_hex(4)}"
        self.file = self.folder / f"{stem}.json"
        self._lock_file = self.folder / f"{stem}.lock"
        self._lock_fd: int | None = None
        self._mutex = threading.Lock()
        """Held while the copy is written or removed: a background write that lost the race
        against :meth:`remove` must not bring the copy back."""
        self._generation = 0
        self._pending: tuple[int, Snapshot] | None = None
        self._worker: threading.Thread | None = None
        self.last_error: Exception | None = None
        """The last background write that failed (None once one succeeds)."""

    def _hold_lock(self) -> None:
        if self._lock_fd is not None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        _lock(fd)
        self._lock_fd = fd

    def write(self, document: Document) -> None:
        """Write the document's current state now (OSError if the folder cannot be written)."""
        snapshot = Snapshot.of(document)
        with self._mutex:
            self._generation += 1  # a queued background write is older than this one
            self._pending = None
            self._write(snapshot)

    def write_soon(self, document: Document) -> None:
        """Write the current state on a background thread: the JSON of a 10,000-layer design
        takes 70-200 ms, a stall if done between two frames. Only the newest state waits."""
        with self._mutex:
            self._pending = (self._generation, Snapshot.of(document))
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._write_pending, name="autosave", daemon=True
                )
                self._worker.start()

    def wait(self, timeout: float | None = None) -> None:
        """Until the background writes are done (tests, and before the app exits)."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)

    def _write_pending(self) -> None:
        while True:
            with self._mutex:
                if self._pending is None:
                    self._worker = None
                    return
                generation, snapshot = self._pending
                self._pending = None
            with short_switch_interval():  # pure Python: let the UI thread in often
                text = snapshot.dumps()  # outside the mutex: the slow part
            with self._mutex:
                if generation != self._generation:
                    continue  # removed or written anew meanwhile
                try:
                    self._write(snapshot, text)
                except Exception as exc:  # a thread that died would never write again
                    self.last_error = exc
                    log.warning("autosave to %s failed: %s", self.file, exc)

    def _write(self, snapshot: Snapshot, text: str | None = None) -> None:
        self._hold_lock()
        atomic_write_text(self.file, snapshot.dumps() if text is None else text)
        self.last_error = None

    def remove(self) -> None:
        """Forget the copy (the design was saved or the user chose not to keep it)."""
        with self._mutex:
            self._generation += 1
            self._pending = None
            with contextlib.suppress(FileNotFoundError):
                self.file.unlink()
            if self._lock_fd is not None:
                with contextlib.suppress(FileNotFoundError):
                    self._lock_file.unlink()
                os.close(self._lock_fd)
                self._lock_fd = None

    def adopt(self, copy: Recovered) -> None:
        """Delete a recovered copy: its content now lives in this window (and in its copy)."""
        discard(copy)


@dataclass(frozen=True)
class Snapshot:
    """What a copy holds, taken on the UI thread (designs are immutable: no copying) and
    written on any thread."""

    state: DocState
    modified: bool
    undo_steps: int

    @classmethod
    def of(cls, document: Document) -> Snapshot:
        return cls(document.state, not document.is_clean, document.history.index)

    def dumps(self) -> str:
        data: dict[str, Any] = {
            "format": AUTOSAVE_FORMAT,
            "version": AUTOSAVE_VERSION,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "pid": os.getpid(),
            "path": self.state.path,
            "selection": self.state.selection,
            "modified": self.modified,
            "undo_steps": self.undo_steps,
            "design": design_to_dict(self.state.design),
        }
        return json.dumps(data, ensure_ascii=False)


def dumps_copy(document: Document) -> str:
    return Snapshot.of(document).dumps()


def read_copy(file: str | os.PathLike[str]) -> Recovered:
    """One copy; :class:`DesignFileError` if it is not a readable autosave copy."""
    label = str(file)
    try:
        data = json.loads(read_capped(file, _MAX_COPY_BYTES, "autosave copy").decode("utf-8"))
    except (OSError, RefusedFileError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DesignFileError([f"unreadable autosave copy ({exc})"], label) from None
    if not isinstance(data, dict) or data.get("format") != AUTOSAVE_FORMAT:
        raise DesignFileError(["not an autosave copy"], label)
    if data.get("version") != AUTOSAVE_VERSION:
        raise DesignFileError([f"autosave version {data.get('version')!r} is unknown"], label)
    design = design_from_dict(data.get("design"), label)
    try:
        saved_at = datetime.fromisoformat(str(data.get("saved_at")))
    except ValueError:
        saved_at = datetime.fromtimestamp(os.stat(file).st_mtime, UTC)
    path, selection = data.get("path"), data.get("selection")
    steps = data.get("undo_steps")
    return Recovered(
        file=Path(file),
        saved_at=saved_at,
        design=design,
        path=path if isinstance(path, str) else None,
        selection=selection if isinstance(selection, str) and selection in design else None,
        modified=data.get("modified") is not False,
        undo_steps=steps if isinstance(steps, int) and steps >= 0 else 0,
    )


def orphaned_copies(folder: str | os.PathLike[str]) -> list[Recovered]:
    """Readable copies in ``folder`` whose window is gone, newest first.

    Unreadable copies are skipped (and kept: a later version of the app may read them).
    """
    try:
        entries = sorted(Path(folder).iterdir())
    except OSError:
        return []
    found: list[Recovered] = []
    for entry in entries:
        match = _NAME.fullmatch(entry.name)
        if match is None or _owner_alive(entry.with_suffix(".lock"), int(match.group(1))):
            continue
        try:
            found.append(read_copy(entry))
        except DesignFileError:
            continue
    found.sort(key=lambda copy: copy.saved_at, reverse=True)
    return found


def discard(copy: Recovered) -> None:
    """Delete a copy that was recovered or that the user does not want."""
    for file in (copy.file, copy.file.with_suffix(".lock")):
        with contextlib.suppress(FileNotFoundError):
            file.unlink()


def recover(document: Document, copy: Recovered, file_design: Design | None) -> None:
    """Put a recovered copy into ``document``: its design, file and selection, unsaved.

    ``file_design`` is what the copy's file holds now (None if it has no file or it cannot be
    read): Undo then goes back to it.
    """
    document.restore(copy.design, copy.path, base=file_design, text="Recover unsaved changes")
    if copy.selection is not None and copy.selection in document.design:
        document.select(copy.selection)


def _owner_alive(lock_file: Path, pid: int) -> bool:
    """True while the window that wrote a copy runs (its lock is held)."""
    try:
        fd = os.open(lock_file, os.O_RDWR)
    except FileNotFoundError:
        return _pid_alive(pid) and pid != os.getpid()
    except OSError:
        return True  # not ours to judge
    try:
        locked = _try_lock(fd)
    finally:
        os.close(fd)  # releases the lock we may have taken
    if locked is None:
        return _pid_alive(pid) and pid != os.getpid()
    return not locked


def _pid_alive(pid: int) -> bool:
    if sys.platform == "win32":
        return True  # no safe probe without a handle; the lock is what decides there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _lock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _try_lock(fd: int) -> bool | None:
    """True if the lock was free (taken now, released on close), False if held elsewhere."""
    try:
        _lock(fd)
    except (BlockingIOError, PermissionError):
        return False
    except OSError:
        return None
    return True


def age_text(saved_at: datetime, now: float | None = None) -> str:
    """When a copy was written, in the local time zone (for the recovery dialog)."""
    local = saved_at.astimezone()
    now_local = datetime.fromtimestamp(time.time() if now is None else now).astimezone()
    if local.date() == now_local.date():
        return f"today at {local:%H:%M:%S}"
    return f"{local:%Y-%m-%d %H:%M:%S}"
