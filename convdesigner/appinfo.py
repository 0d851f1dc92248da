"""Identity of the desktop application, shared by the app, the self-test and the packaging files.

The reverse-DNS id must be the same string in ``QGuiApplication.setDesktopFileName``, the
``.desktop`` file name, the AppStream ``<id>`` and the installed icon name: desktops match a running
window to its launcher and icon through it. tests/test_packaging.py checks that they agree.
Qt-free, so packaging scripts and tests can read it without a display.
"""

from __future__ import annotations

import importlib
from pathlib import Path

APP_ID = "io.github.convdesigner.ConvDesigner"
APP_NAME = "ConvDesigner"
ICON_SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256, 512)
"""Pixel sizes rendered from the SVG (the hicolor theme sizes desktops ask for)."""


def _icons_dir() -> Path:
    # convdesigner.resources is mapped from the top-level resources/ folder by the build config, so
    # type checkers cannot see it; importing it by name works installed, editable and frozen alike.
    resources = importlib.import_module("convdesigner.resources")
    return Path(resources.ICONS)


def icon_svg() -> Path:
    """The scalable application icon."""
    return _icons_dir() / "convdesigner.svg"


def icon_png(size: int) -> Path:
    """The pre-rendered PNG of ``size`` pixels (one of ICON_SIZES)."""
    if size not in ICON_SIZES:
        raise ValueError(f"no {size}px icon; sizes are {', '.join(map(str, ICON_SIZES))}")
    return _icons_dir() / f"convdesigner-{size}.png"


def icon_files() -> list[Path]:
    """Every icon file, smallest PNG first and the SVG last, for building a QIcon."""
    return [icon_png(size) for size in ICON_SIZES] + [icon_svg()]
