"""Safe file writes: the new content goes to a temporary file in the same folder first.

Every file convdesigner writes (designs, CSV, weights, activations) goes through here. What
happens depends on what the target is, because "write a temporary file, rename it over the
target" is only right for a regular file:

- **A regular file** is replaced atomically: the temporary file is flushed to disk, given the
  old file's permissions and owner, and renamed over it; then the folder is flushed so the
  rename itself survives a power cut. An interrupted save leaves the old file or the new one,
  never a mixture. A symbolic link is followed: the file it points to is replaced.
- **A file with other hard links, or whose owner cannot be given to the new file** (another
  user's file that we may write to) is rewritten in place, once the new content is complete in
  the temporary file: renaming would detach it from its other names or change its owner (vim's
  and Emacs's rule too). Only a crash during that final copy can leave it partly written.
- **Anything else is written, not replaced**: a FIFO, a device such as ``/dev/null``, and
  standard output (``"-"``, ``/dev/stdout``, ``/dev/fd/N``). Replacing would turn them into
  regular files; as root, ``--out /dev/null`` would have replaced the system's ``/dev/null``.
  Writing to a FIFO waits for a reader, as any program writing to one does.

Temporary names are short (``.convdesigner-1a2b3c4d.tmp``), so a target whose name is as long
as the file system allows still works. A save holds a lock on its temporary file while it runs;
each save removes the unlocked ones it finds in its folder, which are left by a save that was
killed (where locks are unavailable, on Windows, those older than an hour).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import secrets
import shutil
import stat
import sys
import time
from collections.abc import Callable, Mapping
from typing import IO, Any

import numpy as np

STDOUT = "-"
"""The path that means standard output, as for most command-line tools (a ``str``, not a
``Path``, so a file really named ``-`` can still be written as ``Path("-")``)."""

TEMP_PREFIX = ".convdesigner-"
TEMP_SUFFIX = ".tmp"
_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"[0-9a-f]{8}" + re.escape(TEMP_SUFFIX))
_STALE_WITHOUT_LOCKS = 3600.0
"""Seconds after which a temporary file is taken as abandoned where it cannot be locked."""

_FD_PATH = re.compile(r"/(?:dev/fd|proc/self/fd)/(\d+)")
_NAMED_FDS = {"/dev/stdout": 1, "/dev/stderr": 2}
_BINARY = getattr(os, "O_BINARY", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)

Writer = Callable[[IO[bytes]], object]


def atomic_write(path: str | os.PathLike[str], write: Writer) -> None:
    """Call ``write`` with a binary file handle and make what it writes the content of ``path``
    (see the module for how, depending on what ``path`` is)."""
    if isinstance(path, str) and path == STDOUT:
        _write_to_descriptor(1, write)
        return
    name = os.fspath(path)
    descriptor = _descriptor_path(name)
    if descriptor is not None:
        _write_to_descriptor(descriptor, write)
        return
    if os.path.islink(name):
        name = os.path.realpath(name)
    try:
        existing: os.stat_result | None = os.stat(name)
    except FileNotFoundError:
        existing = None
    if existing is not None:
        if stat.S_ISDIR(existing.st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a directory", os.fspath(path))
        if not stat.S_ISREG(existing.st_mode):
            _write_special(name, write)
            return
    _write_regular(name, existing, write)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """UTF-8 text with ``\\n`` line ends on every platform."""
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def atomic_savez(path: str | os.PathLike[str], arrays: Mapping[str, Any]) -> None:
    """An uncompressed ``.npz`` (what ``numpy.load`` and torch users expect)."""
    data = {key: np.asarray(value) for key, value in arrays.items()}
    # numpy types **kwds as if a key could be its allow_pickle flag; keys here are layer names.
    atomic_write(path, lambda handle: np.savez(handle, **data))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- streams and devices


def _descriptor_path(name: str) -> int | None:
    """The open file descriptor a path names (``/dev/stdout`` is 1), or None.

    Written through the descriptor the process already has, never reopened: reopening standard
    output redirected to a file (``>> log``) would truncate that file or replace it.
    """
    if os.name == "nt":
        return None
    if name in _NAMED_FDS:
        return _NAMED_FDS[name]
    match = _FD_PATH.fullmatch(name)
    return int(match.group(1)) if match else None


class _Stream(io.RawIOBase):
    """A write-only, unseekable view of a file descriptor.

    Writers that can seek back (``zipfile`` patches each member's header after its data) then
    write strictly forward, which is all a pipe, a FIFO or a file opened for appending supports;
    a device such as ``/dev/null`` even claims to seek but always reports position 0.
    """

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return os.write(self._fd, data)


def _write_stream(fd: int, write: Writer) -> None:
    """Write through ``fd`` without closing it."""
    with io.BufferedWriter(_Stream(fd)) as handle:
        write(handle)


def _write_to_descriptor(fd: int, write: Writer) -> None:
    stream = {1: sys.stdout, 2: sys.stderr}.get(fd)
    if stream is not None:
        stream.flush()  # text already printed comes first
        buffer = getattr(stream, "buffer", None)
        try:
            fd = stream.fileno()
        except (OSError, ValueError):
            # Replaced by an object with no descriptor (tests, an embedding program).
            if buffer is None:
                raise OSError(errno.EBADF, "standard output cannot take bytes") from None
            write(buffer)
            buffer.flush()
            return
        if buffer is not None:
            buffer.flush()
    _write_stream(fd, write)


def _write_special(name: str, write: Writer) -> None:
    fd = os.open(name, os.O_WRONLY | _BINARY | _NOCTTY)
    try:
        _write_stream(fd, write)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- regular files


def _write_regular(name: str, existing: os.stat_result | None, write: Writer) -> None:
    folder = os.path.dirname(name) or os.curdir
    _remove_stale_temporaries(folder)
    fd, tmp = _create_temporary(folder)
    try:
        with os.fdopen(fd, "w+b") as handle:
            write(handle)
            handle.flush()
            in_place = existing is not None and (
                existing.st_nlink > 1 or not _take_over(handle.fileno(), tmp, existing)
            )
            os.fsync(handle.fileno())
            if in_place:
                _copy_in_place(handle, name)
            elif sys.platform != "win32":
                # Renamed while still open, so the lock keeps other saves from taking it for
                # an abandoned file until it has its final name.
                os.replace(tmp, name)
        if not in_place and sys.platform == "win32":
            os.replace(tmp, name)  # Windows cannot rename an open file
        if not in_place:
            _sync_folder(folder)
    finally:
        with contextlib.suppress(FileNotFoundError):  # renamed: the normal case
            os.unlink(tmp)


def _create_temporary(folder: str) -> tuple[int, str]:
    """A new, locked temporary file; created with mode 0o666 so the umask applies as it would
    to any new file (no process-wide umask juggling, which other threads would see)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | _BINARY | getattr(os, "O_NOFOLLOW", 0)
    for _attempt in range(100):
        tmp = os.path.join(folder, f"{TEMP_PREFIX}{secrets.token_hex(4)}{TEMP_SUFFIX}")
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        _lock(fd, wait=True)
        return fd, tmp
    raise FileExistsError(errno.EEXIST, "no free temporary file name", folder)


def _take_over(fd: int, tmp: str, existing: os.stat_result) -> bool:
    """Give the temporary file the owner and permissions of the file it replaces; False if the
    owner cannot be given (then the old file is rewritten in place instead)."""
    current = os.fstat(fd)
    fchown = getattr(os, "fchown", None)
    if fchown is not None and (current.st_uid, current.st_gid) != (
        existing.st_uid,
        existing.st_gid,
    ):
        try:
            fchown(fd, existing.st_uid, existing.st_gid)
        except PermissionError:
            return False
    os.chmod(tmp, stat.S_IMODE(existing.st_mode))  # after chown, which clears set-id bits
    return True


def _copy_in_place(source: IO[bytes], name: str) -> None:
    source.seek(0)
    with os.fdopen(os.open(name, os.O_WRONLY | _BINARY | _NOCTTY), "wb") as target:
        shutil.copyfileobj(source, target)
        target.truncate()
        target.flush()
        os.fsync(target.fileno())


def _sync_folder(folder: str) -> None:
    """Flush the folder's entry for the renamed file (POSIX; Windows cannot open a folder)."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems do not sync folders; the rename is still done
    finally:
        os.close(fd)


def _remove_stale_temporaries(folder: str) -> None:
    """Delete temporary files of saves that were killed (never those of a running save)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if not _TEMP_NAME.fullmatch(entry.name):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and _abandoned(entry.path):
                os.unlink(entry.path)
        except OSError:
            continue  # gone meanwhile, or not ours to delete


def _abandoned(path: str) -> bool:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        locked = _lock(fd, wait=False)
    finally:
        os.close(fd)
    if locked is None:
        return time.time() - os.stat(path).st_mtime > _STALE_WITHOUT_LOCKS
    return locked


def _lock(fd: int, *, wait: bool) -> bool | None:
    """Lock ``fd`` exclusively (released when it is closed, also by a killed process): True if
    locked, False if another open file holds the lock, None where locks are unavailable."""
    if sys.platform == "win32":
        return None
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True
