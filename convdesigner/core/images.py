"""Input images: PNG/JPEG/BMP and ``.npy`` files to float32 arrays the engine accepts.

Decoding uses Pillow (not Qt, so the core stays headless) with an explicit pixel limit checked
from the header before any pixel is decoded, so a decompression bomb is refused instead of
exhausting memory. Values are scaled to [0, 1] (8-bit by 255, 16-bit by 65535); ``.npy`` float
arrays are taken as they are. Resizing uses Pillow's convolution-based bilinear filter on float32
channels, which widens its support when shrinking (antialiased, area-like) and interpolates
bilinearly when enlarging.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import BinaryIO

import numpy as np

from convdesigner.core import png_check
from convdesigner.core.npy_headers import quiet_old_headers, read_npy_header
from convdesigner.core.safe_io import RefusedFileError, open_regular

FloatArray = np.ndarray

MAX_PIXELS = 64 * 1024 * 1024
"""Largest image accepted (height × width), 8192×8192: 256 MiB per float32 channel."""
MAX_CHANNELS_PER_PIXEL = 4
"""An ``.npy`` holds at most this many values per pixel of the limit (RGBA's), whatever its
layout: a channels-first array of many small planes passes the pixel limit alone."""

FORMATS = ("PNG", "JPEG", "BMP")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".npy")
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
"""Rec. 601 luma weights for RGB → grey."""


class ImageError(ValueError):
    """An image that cannot be used; the message says why (and names the file)."""


def _fail(path: str, reason: str) -> ImageError:
    return ImageError(f"{path}: {reason}")


def read_image(path: str | os.PathLike[str]) -> FloatArray:
    """Decode ``path`` to float32 (H, W, C) in [0, 1], C = 1 to 4 as stored (2: grey + alpha)."""
    name = os.fspath(path)
    try:
        handle = open_regular(name, "an image")
    except RefusedFileError as exc:  # a FIFO or a device: reading it could block or not end
        raise _fail(name, exc.reason) from None
    except FileNotFoundError:
        raise _fail(name, "file not found") from None
    except IsADirectoryError:
        raise _fail(name, "is a directory, not an image") from None
    except OSError as exc:
        raise _fail(name, f"cannot read the file ({exc.strerror or exc})") from None
    with handle:
        if os.fstat(handle.fileno()).st_size == 0:
            raise _fail(name, "the file is empty")
        if name.lower().endswith(".npy"):
            return _read_npy(handle, name)
        return _read_picture(handle, name)


def _read_picture(handle: BinaryIO, name: str) -> FloatArray:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(handle) as img:
                if img.format not in FORMATS:
                    raise _fail(
                        name, f"unsupported image format {img.format}; use PNG, JPEG or BMP"
                    )
                w, h = img.size
                if w * h > MAX_PIXELS:
                    raise _fail(
                        name,
                        f"the image is {w}×{h} pixels, more than the limit of {MAX_PIXELS:,} "
                        "pixels (a decompression bomb?)",
                    )
                img.load()
                if img.format == "PNG" and not _last_row_decoded(img):
                    handle.seek(0)
                    short = png_check.incomplete(handle)
                    if short is not None:
                        raise _fail(name, f"truncated image: {short}")
                return _pixels(ImageOps.exif_transpose(img))
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise _fail(name, "not a PNG, JPEG or BMP image, or the file is corrupt") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _fail(name, "the image is absurdly large (a decompression bomb?)") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise _fail(name, f"corrupt or truncated image ({exc})") from None


def _last_row_decoded(img: object) -> bool:
    """Whether the decoder certainly reached the last row: Pillow leaves rows its data does not
    reach at zero, and without interlacing the rows come in order, so a non-zero value in the
    last row proves they all came (which spares most PNGs a second decompression)."""
    from PIL import Image

    assert isinstance(img, Image.Image)
    if img.info.get("interlace"):
        return False
    w, h = img.size
    return bool(np.asarray(img.crop((0, h - 1, w, h))).any())


def _pixels(img: object) -> FloatArray:
    from PIL import Image

    assert isinstance(img, Image.Image)
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return (np.asarray(img, dtype=np.float32) / 65535.0)[:, :, None]
    if mode == "I":  # 16-bit greyscale PNGs may decode as 32-bit integers holding 0..65535
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if arr.max(initial=0) > 255 else 255.0
        return (np.clip(arr, 0, top) / top).astype(np.float32)[:, :, None]
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode == "1":
        img = img.convert("L")
    elif mode == "La":  # premultiplied: back to plain grey + alpha
        img = img.convert("LA")
    elif mode == "PA":
        img = img.convert("RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        img = img.convert("RGB")
    arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return arr.astype(np.float32) / np.float32(255.0)


def _read_npy(handle: BinaryIO, name: str) -> FloatArray:
    """An ``.npy`` image, its header checked before any data is read: the array's shape,
    every value counted (a channels-first array may have many planes), and the file's length."""
    try:
        header = read_npy_header(handle)
    except (ValueError, OSError, EOFError) as exc:
        raise _fail(name, f"not a valid .npy file ({exc})") from None
    shape, dtype = header.shape, header.dtype
    if dtype.hasobject:
        raise _fail(name, "the array holds Python objects, which are refused for safety")
    if len(shape) not in (2, 3) or 0 in shape:
        raise _fail(name, f"expected a 2-D or 3-D array, got shape {tuple(shape)}")
    if math.prod(shape[:2] if len(shape) == 2 or shape[-1] <= 4 else shape[1:]) > MAX_PIXELS:
        raise _fail(
            name, f"the array {tuple(shape)} is larger than the limit of {MAX_PIXELS:,} pixels"
        )
    max_values = MAX_CHANNELS_PER_PIXEL * MAX_PIXELS
    if header.values > max_values:
        raise _fail(
            name,
            f"the array {tuple(shape)} holds {header.values:,} values, larger than the limit "
            f"of {max_values:,}",
        )
    missing = header.data_offset + header.nbytes - os.fstat(handle.fileno()).st_size
    if missing > 0:
        raise _fail(name, f"the file is cut short: its array needs {missing:,} bytes more")
    try:
        handle.seek(0)
        with quiet_old_headers():
            arr = np.load(handle, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise _fail(name, f"not a valid .npy file ({exc})") from None
    if arr.ndim == 2:
        arr = arr[:, :, None]
    elif arr.shape[-1] > 4:  # channels-first, like the engine's own activation files
        arr = arr.transpose(1, 2, 0)
    if arr.dtype == np.uint8:
        out = arr.astype(np.float32) / np.float32(255.0)
    elif arr.dtype == np.uint16:
        out = arr.astype(np.float32) / np.float32(65535.0)
    elif arr.dtype == np.bool_ or arr.dtype.kind == "f":
        out = arr.astype(np.float32)
    else:
        raise _fail(name, f"unsupported array type {arr.dtype}; use float, uint8, uint16 or bool")
    if not np.isfinite(out).all():
        raise _fail(name, "the array contains NaN or infinite values")
    return np.ascontiguousarray(out)


def to_input(
    array_hwc: FloatArray, channels: int, size: tuple[int, int] | None = None
) -> FloatArray:
    """(H, W, C) → float32 (channels, H, W): alpha dropped, RGB→luma (Rec. 601) or grey→RGB,
    then optionally resized to ``size`` = (height, width)."""
    arr = np.asarray(array_hwc, dtype=np.float32)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ImageError(f"expected an (H, W, C) image array, got shape {arr.shape}")
    src = arr.shape[2]
    if src in (2, 4) and channels != src:
        arr = arr[:, :, : src - 1]  # drop alpha
        src -= 1
    if channels != src:
        if channels == 1 and src == 3:
            arr = (arr @ LUMA)[:, :, None].astype(np.float32)
        elif channels == 3 and src == 1:
            arr = np.repeat(arr, 3, axis=2)
        else:
            raise ImageError(
                f"the image has {src} channel(s), but the design's input needs {channels}"
            )
    if size is not None and (arr.shape[0], arr.shape[1]) != tuple(size):
        arr = _resize(arr, size)
    return np.ascontiguousarray(arr.transpose(2, 0, 1), dtype=np.float32)


def _resize(arr: FloatArray, size: tuple[int, int]) -> FloatArray:
    from PIL import Image

    height, width = size
    if height < 1 or width < 1:
        raise ImageError(f"cannot resize to {height}×{width}")
    if height * width > MAX_PIXELS:
        raise ImageError(f"cannot resize to {height}×{width}: more than {MAX_PIXELS:,} pixels")
    planes = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(arr[:, :, c])).resize(
                (width, height), Image.Resampling.BILINEAR
            ),
            dtype=np.float32,
        )
        for c in range(arr.shape[2])
    ]
    return np.stack(planes, axis=2)


def load_image(
    path: str | os.PathLike[str], channels: int, size: tuple[int, int] | None = None
) -> FloatArray:
    """:func:`read_image` then :func:`to_input`; the file name prefixes any error."""
    arr = read_image(path)
    try:
        return to_input(arr, channels, size)
    except ImageError as exc:
        raise ImageError(f"{os.fspath(path)}: {exc}") from None
