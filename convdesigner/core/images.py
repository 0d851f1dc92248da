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

import numpy as np

FloatArray = np.ndarray

MAX_PIXELS = 64 * 1024 * 1024
"""Largest image accepted (height × width), 8192×8192: 256 MiB per float32 channel."""

FORMATS = ("PNG", "JPEG", "BMP")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".npy")
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
"""Rec. 601 luma weights for RGB → grey."""


class ImageError(ValueError):
    """An image that cannot be used; the message says why (and names the file)."""


def _fail(path: str, reason: str) -> ImageError:
    return ImageError(f"{path}: {reason}")


def read_image(path: str | os.PathLike[str]) -> FloatArray:
    """Decode ``path`` to float32 (H, W, C) in [0, 1], C = 1, 3 or 4 as stored."""
    name = os.fspath(path)
    try:
        size = os.path.getsize(name)
    except FileNotFoundError:
        raise _fail(name, "file not found") from None
    except OSError as exc:
        raise _fail(name, f"cannot read the file ({exc.strerror or exc})") from None
    if os.path.isdir(name):
        raise _fail(name, "is a directory, not an image")
    if size == 0:
        raise _fail(name, "the file is empty")
    if name.lower().endswith(".npy"):
        return _read_npy(name)
    return _read_picture(name)


def _read_picture(name: str) -> FloatArray:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(name) as img:
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
                return _pixels(ImageOps.exif_transpose(img))
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise _fail(name, "not a PNG, JPEG or BMP image, or the file is corrupt") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _fail(name, "the image is absurdly large (a decompression bomb?)") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise _fail(name, f"corrupt or truncated image ({exc})") from None


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
    elif mode in ("1", "LA", "La"):
        img = img.convert("L")
    elif mode == "PA":
        img = img.convert("RGBA")
    elif mode not in ("L", "RGB", "RGBA"):
        img = img.convert("RGB")
    arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return arr.astype(np.float32) / np.float32(255.0)


def _read_npy(name: str) -> FloatArray:
    try:
        with open(name, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _order, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, _order, dtype = np.lib.format.read_array_header_2_0(fh)
    except (ValueError, OSError, EOFError) as exc:
        raise _fail(name, f"not a valid .npy file ({exc})") from None
    if dtype.hasobject:
        raise _fail(name, "the array holds Python objects, which are refused for safety")
    if len(shape) not in (2, 3) or 0 in shape:
        raise _fail(name, f"expected a 2-D or 3-D array, got shape {tuple(shape)}")
    if math.prod(shape[:2] if len(shape) == 2 or shape[-1] <= 4 else shape[1:]) > MAX_PIXELS:
        raise _fail(
            name, f"the array {tuple(shape)} is larger than the limit of {MAX_PIXELS:,} pixels"
        )
    try:
        arr = np.load(name, allow_pickle=False)
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
