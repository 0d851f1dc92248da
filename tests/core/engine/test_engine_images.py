"""Reading PNG/JPEG/BMP/.npy inputs, converting channels, resizing, and refusing bad files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from convdesigner.core import images
from convdesigner.core.images import ImageError, load_image, read_image, to_input

RNG = np.random.default_rng(0)
RGB8 = RNG.integers(0, 256, (6, 8, 3), dtype=np.uint8)


def save(img: Image.Image, path: Path, **kwargs: Any) -> Path:
    img.save(path, **kwargs)
    return path


def test_png_rgb_is_scaled_to_unit_range(tmp_path: Path) -> None:
    arr = read_image(save(Image.fromarray(RGB8), tmp_path / "a.png"))
    assert arr.dtype == np.float32
    assert arr.shape == (6, 8, 3)
    np.testing.assert_allclose(arr, RGB8 / 255, rtol=1e-6)


def test_png_rgba_grey_and_16_bit(tmp_path: Path) -> None:
    rgba = RNG.integers(0, 256, (5, 4, 4), dtype=np.uint8)
    arr = read_image(save(Image.fromarray(rgba), tmp_path / "rgba.png"))
    assert arr.shape == (5, 4, 4)
    np.testing.assert_allclose(arr, rgba / 255, rtol=1e-6)
    grey = RNG.integers(0, 256, (5, 4), dtype=np.uint8)
    arr = read_image(save(Image.fromarray(grey), tmp_path / "grey.png"))
    assert arr.shape == (5, 4, 1)
    np.testing.assert_allclose(arr[:, :, 0], grey / 255, rtol=1e-6)
    deep = np.array([[0, 1000], [40000, 65535]], dtype=np.uint16)
    arr = read_image(save(Image.fromarray(deep), tmp_path / "deep.png"))
    assert arr.shape == (2, 2, 1)
    np.testing.assert_allclose(arr[:, :, 0], deep / 65535, rtol=1e-6)


def test_palette_bmp_and_jpeg(tmp_path: Path) -> None:
    pal = Image.fromarray(RGB8).convert("P")
    arr = read_image(save(pal, tmp_path / "p.png"))
    np.testing.assert_allclose(arr, np.asarray(pal.convert("RGB")) / 255, rtol=1e-6)
    arr = read_image(save(Image.fromarray(RGB8), tmp_path / "b.bmp"))
    np.testing.assert_allclose(arr, RGB8 / 255, rtol=1e-6)
    flat = np.full((16, 16, 3), 200, np.uint8)
    arr = read_image(save(Image.fromarray(flat), tmp_path / "j.jpg", quality=95))
    assert arr.shape == (16, 16, 3)
    np.testing.assert_allclose(arr, 200 / 255, atol=2 / 255)  # lossy, but not by much


def test_npy_layouts_and_types(tmp_path: Path) -> None:
    hw = RNG.random((5, 7), dtype=np.float32)
    np.save(tmp_path / "hw.npy", hw)
    assert read_image(tmp_path / "hw.npy").shape == (5, 7, 1)
    chw = RNG.random((8, 5, 7), dtype=np.float32)  # many channels: channels-first
    np.save(tmp_path / "chw.npy", chw)
    np.testing.assert_array_equal(read_image(tmp_path / "chw.npy"), chw.transpose(1, 2, 0))
    np.save(tmp_path / "u8.npy", RGB8)
    np.testing.assert_allclose(read_image(tmp_path / "u8.npy"), RGB8 / 255, rtol=1e-6)
    np.save(tmp_path / "u16.npy", np.array([[65535]], np.uint16))
    assert read_image(tmp_path / "u16.npy")[0, 0, 0] == 1.0


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((2, 2, 2, 2), np.float32), "2-D or 3-D"),
        (np.zeros((0, 4), np.float32), "2-D or 3-D"),
        (np.array([[np.nan]], np.float32), "NaN"),
        (np.zeros((3, 3), np.int64), "unsupported array type"),
        (np.array([[None]], dtype=object), "Python objects"),
    ],
)
def test_bad_npy_arrays(tmp_path: Path, array: np.ndarray, message: str) -> None:
    np.save(tmp_path / "bad.npy", array, allow_pickle=True)
    with pytest.raises(ImageError, match=message):
        read_image(tmp_path / "bad.npy")


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="file not found"):
        read_image(tmp_path / "missing.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        read_image(tmp_path / "empty.png")
    (tmp_path / "junk.png").write_bytes(b"this is not an image at all")
    with pytest.raises(ImageError, match="not a PNG, JPEG or BMP"):
        read_image(tmp_path / "junk.png")
    good = save(Image.fromarray(RGB8), tmp_path / "good.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(good[: len(good) // 2])
    with pytest.raises(ImageError, match="corrupt or truncated"):
        read_image(tmp_path / "cut.png")
    save(Image.fromarray(RGB8), tmp_path / "anim.gif")
    with pytest.raises(ImageError, match="unsupported image format GIF"):
        read_image(tmp_path / "anim.gif")
    with pytest.raises(ImageError, match="directory"):
        read_image(tmp_path)
    (tmp_path / "trunc.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(ImageError, match=r"not a valid \.npy"):
        read_image(tmp_path / "trunc.npy")


def test_decompression_bomb_is_refused_from_the_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pixel count is checked before decoding, so a huge image is never decompressed."""
    path = save(Image.new("1", (3000, 2000)), tmp_path / "bomb.png")
    assert path.stat().st_size < 20_000  # a tiny file claiming 6 million pixels
    monkeypatch.setattr(images, "MAX_PIXELS", 1_000_000)
    with pytest.raises(ImageError, match=r"3000×2000 pixels.*decompression bomb"):
        read_image(path)
    np.save(tmp_path / "big.npy", np.zeros((1001, 1000), np.uint8))
    with pytest.raises(ImageError, match="larger than the limit"):
        read_image(tmp_path / "big.npy")


def test_channel_conversion() -> None:
    rgb = RGB8 / np.float32(255)
    grey = to_input(rgb, 1)
    assert grey.shape == (1, 6, 8)
    np.testing.assert_allclose(
        grey[0], 0.299 * rgb[:, :, 0] + 0.587 * rgb[:, :, 1] + 0.114 * rgb[:, :, 2], rtol=1e-5
    )
    rgba = np.concatenate([rgb, np.zeros((6, 8, 1), np.float32)], axis=2)
    np.testing.assert_array_equal(to_input(rgba, 3), rgb.transpose(2, 0, 1))
    np.testing.assert_allclose(to_input(rgba, 1), grey, rtol=1e-6)
    three = to_input(rgb[:, :, :1], 3)
    assert three.shape == (3, 6, 8)
    np.testing.assert_array_equal(three[0], three[2])
    with pytest.raises(ImageError, match=r"3 channel.*needs 2"):
        to_input(rgb, 2)


def test_resize_is_antialiased_and_exact_on_flat_images() -> None:
    checker = (np.indices((64, 64)).sum(axis=0) % 2).astype(np.float32)[:, :, None]
    small = to_input(checker, 1, (8, 8))
    assert small.shape == (1, 8, 8)
    # A 1-pixel checkerboard shrunk 8×: an antialiased filter averages it to grey, while
    # point sampling would give pure 0 or 1.
    np.testing.assert_allclose(small, 0.5, atol=0.05)
    flat = np.full((10, 20, 3), 0.25, np.float32)
    big = to_input(flat, 3, (31, 17))
    assert big.shape == (3, 31, 17)
    np.testing.assert_allclose(big, 0.25, rtol=1e-5)


def test_load_image_names_the_file(tmp_path: Path) -> None:
    path = save(Image.fromarray(RGB8), tmp_path / "a.png")
    arr = load_image(path, 1, (3, 4))
    assert arr.shape == (1, 3, 4)
    assert arr.dtype == np.float32
    np.save(tmp_path / "six.npy", np.zeros((6, 5, 5), np.float32))
    with pytest.raises(ImageError, match=r"six\.npy: the image has 6 channel.*needs 3"):
        load_image(tmp_path / "six.npy", 3)
    np.save(tmp_path / "grey_alpha.npy", np.ones((4, 4, 2), np.float32))
    assert load_image(tmp_path / "grey_alpha.npy", 3).shape == (3, 4, 4)
