"""Light and dark: follow the desktop's colour scheme, also where Qt's style would not.

Qt 6.5+ reports the scheme through ``QStyleHints.colorScheme``. Native platform themes already
switch palettes, but Fusion on a bare X11 session or in a frozen bundle keeps a light palette; we
then install a dark Fusion palette ourselves. ``CONVDESIGNER_COLOR_SCHEME=dark|light`` forces one
(handy for screenshots).
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

SCHEME_ENV = "CONVDESIGNER_COLOR_SCHEME"

FAMILY_COLOURS: dict[str, str] = {
    "conv": "#3b7dd8",
    "pool": "#2e9e6a",
    "act": "#e08a1e",
    "norm": "#8e5bd0",
    "shape": "#c2417e",
    "dense": "#1f9bb0",
    "merge": "#9a6b2f",
    "input": "#6b7280",
}
"""One colour per op family (``OpSpec.family``): icons, card stripes and palette groups. Each
reads on light and dark backgrounds with white drawn on it."""


def family_colour(family: str) -> QColor:
    return QColor(FAMILY_COLOURS.get(family, FAMILY_COLOURS["input"]))


def wanted_scheme(app: QGuiApplication) -> Qt.ColorScheme:
    forced = os.environ.get(SCHEME_ENV, "").strip().lower()
    if forced == "dark":
        return Qt.ColorScheme.Dark
    if forced == "light":
        return Qt.ColorScheme.Light
    return app.styleHints().colorScheme()


def dark_palette() -> QPalette:
    pal = QPalette()
    window, base, text = QColor(45, 45, 48), QColor(30, 30, 32), QColor(230, 230, 230)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor(52, 52, 56),
        QPalette.ColorRole.ToolTipBase: QColor(60, 60, 64),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor(160, 160, 165),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor(58, 58, 62),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 90, 90),
        QPalette.ColorRole.Light: QColor(80, 80, 84),
        QPalette.ColorRole.Midlight: QColor(66, 66, 70),
        QPalette.ColorRole.Mid: QColor(90, 90, 96),
        QPalette.ColorRole.Dark: QColor(25, 25, 27),
        QPalette.ColorRole.Shadow: QColor(0, 0, 0),
        QPalette.ColorRole.Highlight: QColor(58, 125, 216),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Link: QColor(110, 170, 255),
    }
    for role, colour in roles.items():
        pal.setColor(role, colour)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(130, 130, 135))
    return pal


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def apply_scheme(app: QApplication) -> None:
    """Make the palette match the wanted scheme (no-op if the platform already did)."""
    scheme = wanted_scheme(app)
    current_dark = is_dark(app.palette())
    if scheme == Qt.ColorScheme.Dark and not current_dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    elif scheme == Qt.ColorScheme.Light and current_dark:
        style = app.style()
        app.setPalette(style.standardPalette())


def follow_system_scheme(app: QApplication) -> None:
    apply_scheme(app)
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_scheme(app))
