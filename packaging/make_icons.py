"""Render resources/icons/convdesigner.svg to the PNG sizes in convdesigner.appinfo.ICON_SIZES.

Run after editing the SVG: ``python packaging/make_icons.py`` (offscreen, no display needed). The
PNGs are committed because small sizes of an SVG look different in every renderer, and desktops
that do not read SVG (and PyInstaller's Windows/macOS icons) need bitmaps; tests/test_packaging.py
re-renders the SVG and fails if a committed PNG has gone stale.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
SVG = ICONS / "convdesigner.svg"


def render(svg: Path, size: int) -> QImage:
    """Render ``svg`` into a transparent ``size``×``size`` ARGB image, antialiased."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from convdesigner.appinfo import ICON_SIZES

    _app = QGuiApplication.instance() or QGuiApplication([])
    for size in ICON_SIZES:
        target = ICONS / f"convdesigner-{size}.png"
        if not render(SVG, size).save(str(target)):
            print(f"make_icons: cannot write {target}", file=sys.stderr)
            return 1
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
