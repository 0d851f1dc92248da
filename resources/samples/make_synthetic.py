"""Draw ``shapes.png``: a synthetic test picture with edges at every orientation and scale.

Photos mix everything at once; this picture separates what early filters respond to: vertical,
horizontal and diagonal edges, a circle (every orientation), corners, thin lines, a fine
checkerboard and a smooth gradient, in a few saturated colours so RGB and greyscale inputs differ.
Generated here (no third-party content), so it is free of any licence terms; rerun with
``python resources/samples/make_synthetic.py`` to recreate it byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

HEIGHT, WIDTH = 160, 256
SUPERSAMPLE = 4  # drawn at 4× and averaged down: anti-aliased edges, like a real camera's

Mask = npt.NDArray[np.bool_]


def draw() -> npt.NDArray[np.uint8]:
    h, w = HEIGHT * SUPERSAMPLE, WIDTH * SUPERSAMPLE
    y, x = np.mgrid[0:h, 0:w].astype(np.float64) / SUPERSAMPLE  # output-pixel units
    # background: a gentle left-to-right grey gradient (a smooth region with no edges)
    img = np.empty((h, w, 3))
    img[:] = (0.25 + 0.35 * x / WIDTH)[..., None]

    def paint(mask: Mask, rgb: tuple[float, float, float]) -> None:
        img[mask] = rgb

    # filled square: vertical and horizontal edges and four corners
    paint((x >= 14) & (x < 64) & (y >= 14) & (y < 64), (0.95, 0.85, 0.2))
    # disc: edges at every orientation
    paint((x - 108) ** 2 + (y - 40) ** 2 < 26**2, (0.85, 0.15, 0.15))
    # triangle: two diagonal edges and a horizontal one
    paint((y < 66) & (y - 14 > 1.6 * np.abs(x - 172)), (0.15, 0.45, 0.9))
    # checkerboard of 4-pixel cells: a fine periodic texture
    checker = ((x // 4 + y // 4) % 2 == 0) & (x >= 206) & (x < 246) & (y >= 14) & (y < 64)
    paint(checker, (1.0, 1.0, 1.0))
    paint(~checker & (x >= 206) & (x < 246) & (y >= 14) & (y < 64), (0.0, 0.0, 0.0))
    # bars of decreasing width: vertical edges at several scales
    for i, (left, width) in enumerate([(14, 8), (30, 6), (44, 4), (56, 2), (64, 1)]):
        shade = (0.9, 0.9, 0.9) if i % 2 == 0 else (0.1, 0.6, 0.3)
        paint((x >= left) & (x < left + width) & (y >= 84) & (y < 146), shade)
    # horizontal stripes: the same, rotated
    for top, height in [(84, 8), (100, 5), (112, 3), (122, 2), (130, 1)]:
        paint((y >= top) & (y < top + height) & (x >= 84) & (x < 144), (0.95, 0.95, 0.95))
    # thin diagonal lines at +45° and −30°: oriented detail the square lacks
    paint((np.abs((x - 160) - (y - 84)) < 1.0) & (x >= 160) & (x < 222) & (y < 146), (0, 0, 0))
    slope = np.tan(np.radians(30))
    line = np.abs((y - 146) + slope * (x - 160)) < 1.0
    paint(line & (x >= 160) & (x < 250) & (y >= 84), (1.0, 1.0, 1.0))
    # a ring: a thin curved edge on both sides
    r = np.hypot(x - 226, y - 120)
    paint((r > 14) & (r < 19), (0.9, 0.2, 0.8))

    small = img.reshape(HEIGHT, SUPERSAMPLE, WIDTH, SUPERSAMPLE, 3).mean(axis=(1, 3))
    out: npt.NDArray[np.uint8] = np.clip(np.round(small * 255.0), 0, 255).astype(np.uint8)
    return out


def main() -> None:
    out = Path(__file__).resolve().parent / "shapes.png"
    Image.fromarray(draw(), mode="RGB").save(out, optimize=True)
    print(f"wrote {out.name} ({WIDTH}×{HEIGHT})")


if __name__ == "__main__":
    main()
