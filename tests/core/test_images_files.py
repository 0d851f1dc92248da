"""Image files that used to hang, exhaust memory or load wrong (issue 12, items 4, 5, 6, 15):
FIFOs and devices, .npy headers promising billions of values or more data than the file has,
PNGs whose rows stop early, grey + alpha."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convdesigner.core import png_check
from convdesigner.core.images import ImageError, load_image, read_image
from tests.special_files import guarded_fifo

RNG = np.random.default_rng(12)


@pytest.mark.parametrize("suffix", [".png", ".npy"])
def test_a_fifo_is_refused_without_blocking(tmp_path: Path, suffix: str) -> None:
    with guarded_fifo(tmp_path / f"in{suffix}") as fifo:
        with pytest.raises(ImageError) as info:
            read_image(fifo.path)
        assert not fifo.rescued
    assert str(info.value) == f"{fifo.path}: is a named pipe (FIFO), not an image"


def test_an_endless_device_is_refused() -> None:
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    with pytest.raises(ImageError, match="is a device, not an image"):
        read_image("/dev/zero")


def _npy_header_only(path: Path, shape: tuple[int, ...], data: bytes = b"") -> Path:
    with path.open("wb") as handle:
        header = {"descr": "<f4", "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(handle, header)
        handle.write(data)
    return path


def test_every_value_of_a_channels_first_npy_is_counted(tmp_path: Path) -> None:
    # 2048×2048 pixels pass the pixel limit, but 4096 planes make 17 billion values (64 GiB).
    path = _npy_header_only(tmp_path / "planes.npy", (4096, 2048, 2048))
    with pytest.raises(ImageError) as info:
        read_image(path)
    assert "holds 17,179,869,184 values, larger than the limit of 268,435,456" in str(info.value)


def test_an_npy_shorter_than_its_header_says_is_refused_before_reading(tmp_path: Path) -> None:
    path = _npy_header_only(tmp_path / "short.npy", (100, 100), bytes(10))
    with pytest.raises(ImageError, match="the file is cut short: its array needs 39,990 bytes"):
        read_image(path)


def test_an_npy_header_numpy_cannot_tokenize_is_a_clear_error(tmp_path: Path) -> None:
    # One flipped byte ("{" became "!"): NumPy raised tokenize.TokenError, a traceback.
    path = tmp_path / "flipped.npy"
    np.save(path, np.zeros((2, 3), np.float32))
    data = bytearray(path.read_bytes())
    assert data[10:11] == b"{"
    data[10:11] = b"!"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageError, match=r"not a valid \.npy file \(the array header cannot"):
        read_image(path)


def test_grey_with_alpha_has_two_channels(tmp_path: Path) -> None:
    la = RNG.integers(0, 256, (6, 5, 2), dtype=np.uint8)
    path = tmp_path / "la.png"
    Image.fromarray(la, mode="LA").save(path)
    pixels = read_image(path)
    assert pixels.shape == (6, 5, 2)
    np.testing.assert_allclose(load_image(path, 2), la.transpose(2, 0, 1) / 255, rtol=1e-6)
    np.testing.assert_allclose(load_image(path, 1)[0], la[:, :, 0] / 255, rtol=1e-6)
    assert load_image(path, 3).shape == (3, 6, 5)


# ------------------------------------------------------------------------------ PNG rows


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(grey: np.ndarray, *, interlaced: bool, keep: float = 1.0) -> bytes:
    """An 8-bit greyscale PNG written by hand (Pillow writes no interlaced PNGs); ``keep`` < 1
    compresses only that fraction of the image data, in a complete zlib stream."""
    height, width = grey.shape
    raw = b""
    if interlaced:
        for x0, y0, dx, dy in png_check.ADAM7:
            sub = grey[y0::dy, x0::dx]
            if sub.size:
                raw += b"".join(b"\x00" + row.tobytes() for row in sub)
    else:
        raw = b"".join(b"\x00" + row.tobytes() for row in grey)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 1 if interlaced else 0)
    idat = zlib.compress(raw[: int(len(raw) * keep)])
    chunks = _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    return png_check.SIGNATURE + chunks


@pytest.mark.parametrize("interlaced", [False, True])
def test_complete_pngs_load_exactly(tmp_path: Path, interlaced: bool) -> None:
    grey = RNG.integers(0, 256, (13, 11), dtype=np.uint8)
    path = tmp_path / "ok.png"
    path.write_bytes(_png(grey, interlaced=interlaced))
    np.testing.assert_allclose(read_image(path)[:, :, 0], grey / 255, rtol=1e-6)


def test_a_complete_png_with_a_black_last_row_loads(tmp_path: Path) -> None:
    grey = RNG.integers(1, 256, (8, 5), dtype=np.uint8)
    grey[-1] = 0  # the decoder's fill value: only the full check can tell
    path = tmp_path / "dark.png"
    path.write_bytes(_png(grey, interlaced=False))
    np.testing.assert_allclose(read_image(path)[:, :, 0], grey / 255, rtol=1e-6)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"])
def test_pngs_pillow_writes_are_complete(tmp_path: Path, mode: str) -> None:
    image = Image.fromarray(RNG.integers(0, 256, (9, 7, 4), dtype=np.uint8), "RGBA")
    path = tmp_path / "p.png"
    image.convert(mode).save(path)
    with path.open("rb") as handle:
        assert png_check.incomplete(handle) is None


def test_a_png_whose_rows_stop_early_is_refused(tmp_path: Path) -> None:
    grey = RNG.integers(1, 256, (64, 16), dtype=np.uint8)
    path = tmp_path / "cut.png"
    path.write_bytes(_png(grey, interlaced=False, keep=0.5))
    with pytest.raises(ImageError) as info:
        read_image(path)
    assert str(info.value).endswith("truncated image: the image data stops after row 32 of 64")
    # Interlaced: Pillow notices this one itself; the check agrees.
    path.write_bytes(_png(grey, interlaced=True, keep=0.5))
    with pytest.raises(ImageError, match="truncated"):
        read_image(path)
    with path.open("rb") as handle:
        assert png_check.incomplete(handle) == "the image data stops early (572 of 1,144 bytes)"
