"""What an ``.npy`` or ``.npz`` file holds, read from its headers before any array data.

``numpy.load`` allocates an array as soon as it has read the header, whatever the header claims,
and a compressed ``.npz`` member can claim gigabytes in a few kilobytes (a 37 MB weights file
committed 8.2 GB before the loader found a key missing). The zip directory lists the members
and the ``.npy`` header of each gives its shape and type in a few hundred bytes, so the loaders
check names, shapes, types and sizes here first and read data only when all of it is right.
"""

from __future__ import annotations

import math
import tokenize
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

import numpy as np

NPY_MAGIC = b"\x93NUMPY"
MAX_LISTED = 10
"""Keys named in one message at most: a file with a million stray members gets a short line."""


@dataclass(frozen=True)
class ArrayHeader:
    """One array's header: its shape and type, and where its data starts in its stream."""

    shape: tuple[int, ...]
    dtype: np.dtype
    data_offset: int

    @property
    def values(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.values * self.dtype.itemsize


OLD_HEADER_ADVICE = "Reading `.npy` or `.npz` file required additional header parsing"
"""The start of NumPy's warning for a header that needs Python 2's parser."""


@contextmanager
def quiet_old_headers() -> Iterator[None]:
    """Read arrays without NumPy's advice on headers that need Python 2's parser.

    The file reads the same either way; the advice ("save the file again to speed up loading")
    came out as four lines of warning and source code on the command line's stderr, whose
    contract is one line at most (found by the fuzz corpus: a mutated ``.npy`` image).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=OLD_HEADER_ADVICE, category=UserWarning)
        yield


def read_npy_header(handle: IO[bytes]) -> ArrayHeader:
    """The header of the ``.npy`` stream at ``handle``'s position; ``ValueError`` if it is not
    one. NumPy caps the header's own length, so this reads a few kilobytes at most."""
    start = handle.tell()
    version = np.lib.format.read_magic(handle)
    try:
        with quiet_old_headers():
            if version == (1, 0):
                shape, _fortran, dtype = np.lib.format.read_array_header_1_0(handle)
            else:
                shape, _fortran, dtype = np.lib.format.read_array_header_2_0(handle)
    except (tokenize.TokenError, SyntaxError) as exc:  # NumPy lets these through
        raise ValueError(f"the array header cannot be parsed ({exc})") from None
    return ArrayHeader(tuple(int(n) for n in shape), dtype, handle.tell() - start)


def _listed(keys: list[str]) -> str:
    shown = ", ".join(repr(k) for k in keys[:MAX_LISTED])
    return shown + (f" and {len(keys) - MAX_LISTED:,} more" if len(keys) > MAX_LISTED else "")


@dataclass
class NpzCheck:
    """What :func:`check_npz` found: problems only the headers show, which members are safe to
    read, and data-free stand-ins for the others, so the usual validation can report their
    names, shapes and types in its own words without any of their data being read."""

    problems: list[str] = field(default_factory=list)
    readable: list[str] = field(default_factory=list)
    stand_ins: dict[str, np.ndarray] = field(default_factory=dict)


def _stand_in(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An array of this shape and type that holds one value (zero strides): no memory."""
    return np.broadcast_to(np.zeros((), dtype=dtype), shape)


def check_npz(
    handle: IO[bytes],
    expected: Mapping[str, tuple[int, ...]],
) -> NpzCheck:
    """Inspect the ``.npz`` at ``handle`` against ``expected`` (key → shape) from the zip
    directory and the headers of the expected members; nothing else is decompressed.

    Members named in ``expected`` with the right shape and a numeric type whose data is all
    there are ``readable``. Any other member gets a stand-in (unexpected ones an empty array,
    wrongly shaped or typed ones their header's shape and type); members that are not arrays,
    hold objects or are cut short get a problem. Raises ``ValueError`` (or
    ``zipfile.BadZipFile``) if the file is not a zip archive at all.
    """
    head = handle.read(len(NPY_MAGIC))
    handle.seek(0)
    if head == NPY_MAGIC:
        raise ValueError("not an .npz archive of named arrays (a single .npy array?)")
    check = NpzCheck()
    with zipfile.ZipFile(handle) as archive:
        members: dict[str, zipfile.ZipInfo] = {}
        not_arrays: list[str] = []
        repeated: list[str] = []
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                not_arrays.append(info.filename)
                continue
            key = info.filename[: -len(".npy")]
            if key in members:
                repeated.append(key)
            members[key] = info
        if not_arrays:
            check.problems.append(f"holds files that are not .npy arrays: {_listed(not_arrays)}")
        if repeated:
            check.problems.append(f"holds {_listed(repeated)} more than once (which is meant?)")
        for key, info in members.items():
            shape = expected.get(key)
            if shape is None:
                check.stand_ins[key] = np.empty(0, dtype=np.float32)
                continue
            problem, header = _inspect_member(archive, info, key)
            if problem is not None:
                check.problems.append(problem)
                check.stand_ins[key] = _stand_in(shape, np.dtype(np.float32))
            elif header.shape != shape or header.dtype.kind not in "fiu":
                check.stand_ins[key] = _stand_in(header.shape, header.dtype)
            elif info.file_size < header.data_offset + header.nbytes:
                present = max(info.file_size - header.data_offset, 0)
                check.problems.append(
                    f"{key!r} is cut short ({present:,} of its {header.nbytes:,} bytes of data)"
                )
                check.stand_ins[key] = _stand_in(shape, np.dtype(np.float32))
            else:
                check.readable.append(key)
    return check


_NO_HEADER = ArrayHeader((), np.dtype(np.float32), 0)

ZIP_ERRORS = (
    ValueError,
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,  # an unknown compression method or zip version
    RuntimeError,  # an encrypted member
)
"""What reading a damaged zip archive can raise (each seen with single flipped bytes)."""


def zip_error_reason(exc: BaseException) -> str:
    """One short line for a ZIP_ERRORS exception (some carry a whole ZipInfo repr)."""
    text = str(exc)
    if isinstance(exc, RuntimeError) and "encrypted" in text:
        return "it is encrypted"
    return text.splitlines()[0] if text else type(exc).__name__


def _inspect_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str
) -> tuple[str | None, ArrayHeader]:
    try:
        with archive.open(info) as member:
            header = read_npy_header(member)
    except ZIP_ERRORS as exc:
        return f"{key!r} is not a readable .npy array ({zip_error_reason(exc)})", _NO_HEADER
    if header.dtype.hasobject:
        return f"{key!r} contains pickled objects, which are refused for safety", header
    return None, header
