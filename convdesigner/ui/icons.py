"""Icons: palette/layer SVGs from ``resources/icons/layers`` and the application icon.

SVG icons stay crisp at any device pixel ratio. A missing file (e.g. a partial checkout) falls
back to a plain coloured swatch drawn here, so the app never starts with blank entries.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap

from convdesigner.ui.theme import family_colour


def _icons_dir() -> Path:
    # convdesigner.resources is mapped from the top-level resources/ folder at install time.
    return Path(importlib.import_module("convdesigner.resources").ICONS)


def _swatch(family: str) -> QIcon:
    icon = QIcon()
    for size in (16, 24, 32, 48, 64):
        pix = QPixmap(size, size)
        pix.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pix)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(family_colour(family))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(QRectF(1, 1, size - 2, size - 2), size / 5, size / 5)
        painter.end()
        icon.addPixmap(pix)
    return icon


@cache
def layer_icon(key: str, family: str = "input") -> QIcon:
    """The icon of palette entry / layer type ``key`` (``"input"`` for the input row)."""
    path = _icons_dir() / "layers" / f"{key}.svg"
    if path.is_file():
        icon = QIcon(str(path))
        if not icon.isNull():
            return icon
    return _swatch(family)


@cache
def app_icon() -> QIcon:
    """The application icon (made by the packaging step); a generic one if it is missing."""
    try:
        from convdesigner.appinfo import icon_files

        files = [p for p in icon_files() if p.is_file()]
    except ImportError:  # a partial checkout without the packaging files
        files = []
    icon = QIcon()
    for path in files:
        icon.addFile(str(path))
    return layer_icon("conv2d", "conv") if icon.isNull() else icon
