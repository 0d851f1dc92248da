"""Atomic file writes: a temporary file in the same folder, then a rename over the target.

Every file convdesigner writes (designs, CSV, weights, activations) goes through here, so an
interrupted save can never leave a half-written file or destroy the previous version.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> None:
    """Call ``write`` on a temporary file, then replace ``path`` with it.

    The new file keeps the permissions of the one it replaces (or gets the usual ones for a new
    file), and writing through a symbolic link replaces the file it points to, not the link.
    """
    target = Path(path)
    if target.is_symlink():
        target = target.resolve()
    if target.is_dir():
        raise IsADirectoryError(21, "it is a directory", str(path))
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """UTF-8 text with ``\\n`` line ends on every platform."""
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def atomic_savez(path: str | os.PathLike[str], arrays: Mapping[str, Any]) -> None:
    """An uncompressed ``.npz`` (what ``numpy.load`` and torch users expect)."""
    data = {key: np.asarray(value) for key, value in arrays.items()}
    # numpy types **kwds as if a key could be its allow_pickle flag; keys here are layer names.
    atomic_write(path, lambda handle: np.savez(handle, **data))  # type: ignore[arg-type]
