"""Opening the files a user names: regular files only, never more than a cap, never an input.

A named pipe (FIFO) blocks its reader until a writer appears, possibly forever; ``/dev/zero``
never ends; and a file's size in ``stat`` may be 0 (``/proc``, devices) or stale (a file still
growing). A loader that trusts either hangs or fills memory, and in the window that freezes the
app with unsaved work in it. So every loader opens its file here: special files are refused
before they are opened, the open itself cannot block (``O_NONBLOCK``, then ``fstat`` on what was
actually opened), and :func:`read_capped` reads at most the cap plus one byte whatever the size
claims.

:func:`output_clash` is the other half of "never destroy what the user gave us": a command whose
output path names one of its own inputs (the same path, a symbolic link to it, a hard link) would
overwrite that input, so the command line refuses it before reading anything.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from typing import BinaryIO

MIB = 1024 * 1024


class RefusedFileError(OSError):
    """A path that names something the loaders do not read: a FIFO, a device, a socket, or a
    file larger than the cap. ``reason`` is the message without the path ("is a named pipe
    (FIFO), not a design file"). An ``OSError``, so code that handles unreadable files in
    general handles these too."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(errno.EINVAL, reason, path)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.filename}: {self.reason}"


def _kind(mode: int) -> str | None:
    """What a non-regular, non-folder file is, in words; None for a regular file or a folder."""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"  # pragma: no cover - no other kinds on the supported systems


def _check_mode(path: str, mode: int, what: str) -> None:
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder", path)
    kind = _kind(mode)
    if kind is not None:
        raise RefusedFileError(path, f"is {kind}, not {what}")


def open_regular(path: str | os.PathLike[str], what: str = "a file") -> BinaryIO:
    """Open ``path`` for reading in binary mode if it is a regular file.

    ``what`` completes the refusal ("is a device, not a design file" for ``what="a design
    file"``). Missing files, folders (``IsADirectoryError``) and permission problems raise the
    usual ``OSError`` subclasses; FIFOs, devices and sockets raise :class:`RefusedFileError`
    without being opened (opening some devices has effects, and opening a FIFO for reading
    waits for a writer). The file is then opened without blocking and checked again, in case
    the path was swapped in between.
    """
    name = os.fspath(path)
    _check_mode(name, os.stat(name).st_mode, what)
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOCTTY", 0)
    nonblock = getattr(os, "O_NONBLOCK", 0)
    fd = os.open(name, flags | nonblock)
    try:
        _check_mode(name, os.fstat(fd).st_mode, what)
        if nonblock:
            # A regular file ignores O_NONBLOCK, but the readers downstream expect ordinary
            # blocking reads, so the descriptor is left as a plain open would leave it.
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def too_large(path: str, cap: int, size: int | None, what: str) -> RefusedFileError:
    """The refusal of a file over ``cap`` bytes (``size`` if known), in one wording for all."""
    told = f"{cap // MIB} MiB" if cap % MIB == 0 else f"{cap:,} bytes"
    known = f" ({size:,} bytes)" if size is not None else ""
    limit = f"{what}s are at most {cap:,} bytes"
    return RefusedFileError(path, f"is larger than {told}{known}; {limit}")


def read_capped(path: str | os.PathLike[str], cap: int, what: str = "file") -> bytes:
    """The whole content of the regular file ``path``, refused if it is larger than ``cap``.

    A size over the cap in ``stat`` is refused without reading; otherwise at most ``cap + 1``
    bytes are read, so a file larger than its ``stat`` claims is refused too instead of being
    read to its end. ``what`` names the kind of file in messages ("design file").
    """
    name = os.fspath(path)
    with open_regular(name, f"a {what}") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > cap:
            raise too_large(name, cap, size, what)
        data = handle.read(cap + 1)
    if len(data) > cap:
        raise too_large(name, cap, None, what)
    return data


# --------------------------------------------------------------------------- outputs


STDOUT = "-"
"""The output path meaning standard output, as for most command-line tools."""
STDOUT_PATH = "/dev/stdout"
"""Where POSIX systems show this process's standard output as a file, to compare it."""


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether ``a`` and ``b`` name the same file: the same device and inode when both exist
    (symbolic and hard links included), else the same path once links are resolved."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(a) == os.path.realpath(b)


def output_clash(output: str | None, inputs: Mapping[str, str | None]) -> str | None:
    """Why writing ``output`` would overwrite one of ``inputs`` (role → path, e.g. ``{"design":
    "d.json"}``), as one line; None when it would not. ``None`` or ``"-"`` is standard output,
    which clashes when the shell sent it into an input (``summary d.json >> d.json``)."""
    subject = f"the output {output}"
    if not output or output == STDOUT:
        if not os.path.exists(STDOUT_PATH):
            return None
        output, subject = STDOUT_PATH, "standard output"
    for role, path in inputs.items():
        if path and same_file(output, path):
            same = "" if output == path else f" ({path})"
            return (
                f"{subject} is the {role} file{same}; writing it would destroy the "
                "input, so choose another output path"
            )
    return None
