"""Whether a PNG's image data holds every row its header promises.

When a PNG's compressed stream ends properly but too soon, Pillow fills the rows it did not
reach with zeros and reports nothing, so a damaged file loads as an image with a black band
(issue 12). This inflates the image data once more, counting the bytes and discarding them, and
compares the count with what the header's size, bit depth, colour type and interlacing need.
"""

from __future__ import annotations

import struct
import zlib
from typing import IO

SIGNATURE = b"\x89PNG\r\n\x1a\n"
SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
"""Samples per pixel of each colour type: grey, RGB, palette, grey + alpha, RGBA."""
ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
"""Interlacing passes as (first column, first row, column step, row step)."""
PIECE = 1 << 20


def _row_bytes(pixels: int, bits_per_pixel: int) -> int:
    return 1 + (pixels * bits_per_pixel + 7) // 8  # a filter byte, then the packed samples


def expected_bytes(width: int, height: int, bits_per_pixel: int, interlaced: bool) -> int:
    """Bytes of decompressed image data (filter bytes included) a PNG of this kind holds."""
    if not interlaced:
        return height * _row_bytes(width, bits_per_pixel)
    total = 0
    for x0, y0, dx, dy in ADAM7:
        columns = max(0, (width - x0 + dx - 1) // dx)
        rows = max(0, (height - y0 + dy - 1) // dy)
        if columns and rows:
            total += rows * _row_bytes(columns, bits_per_pixel)
    return total


def incomplete(handle: IO[bytes]) -> str | None:
    """Why the PNG at ``handle`` (from its start) lacks image rows, or None if it has them all
    (or is not a PNG this can judge; the decoder has the last word on those)."""
    if handle.read(8) != SIGNATURE:
        return None
    head = handle.read(8)
    if len(head) < 8 or head[4:] != b"IHDR":
        return None
    ihdr = handle.read(13)
    handle.read(4)  # CRC: the decoder checked it
    if len(ihdr) < 13:
        return None
    width, height, depth, colour, _method, _filter, interlace = struct.unpack(">IIBBBBB", ihdr)
    if colour not in SAMPLES:
        return None
    needed = expected_bytes(width, height, SAMPLES[colour] * depth, interlace == 1)
    inflater = zlib.decompressobj()
    produced = 0
    while produced < needed and not inflater.eof:
        head = handle.read(8)
        if len(head) < 8:
            break
        (length,) = struct.unpack(">I", head[:4])
        kind = head[4:]
        if kind == b"IEND":
            break
        if kind != b"IDAT":
            handle.seek(length + 4, 1)
            continue
        left = length
        while left > 0 and produced < needed and not inflater.eof:
            data = handle.read(min(left, PIECE))
            if not data:
                break
            left -= len(data)
            try:
                while data and produced < needed:
                    produced += len(inflater.decompress(data, PIECE))
                    data = inflater.unconsumed_tail
            except zlib.error:
                return None  # corrupt rather than short: the decoder reports that
        handle.seek(left + 4, 1)
    if produced >= needed:
        return None
    if interlace == 1:
        return f"the image data stops early ({produced:,} of {needed:,} bytes)"
    rows = produced // _row_bytes(width, SAMPLES[colour] * depth)
    return f"the image data stops after row {rows:,} of {height:,}"
