"""Render the main window with the Q&A example to a PNG, so anyone can look at the app.

The image goes to the test's tmp_path; with CONVDESIGNER_SCREENSHOTS=1 a copy is also saved as
docs/screenshots/main-window.png (how the README's screenshot is refreshed).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from convdesigner.ui.main_window import MainWindow
from tests.ui.ui_helpers import explained

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "main-window.png"


def test_main_window_renders_to_png(qtbot: QtBot, tmp_path: Path) -> None:
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    win.select_layer(2)
    win.table.setCurrentIndex(win.table_model.index(3, 7))  # the Weights cell: 375,000
    qtbot.wait(50)
    pixmap = win.grab()
    out = tmp_path / "main-window.png"
    assert pixmap.save(str(out), "PNG")
    image = QImage(str(out))
    assert (image.width(), image.height()) == (
        round(1400 * pixmap.devicePixelRatio()),
        round(900 * pixmap.devicePixelRatio()),
    )
    # Not a blank window: the pipeline cards and the table draw many distinct colours.
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colours) > 50
    assert "375,000" in explained(qtbot, win).toPlainText()
    if os.environ.get("CONVDESIGNER_SCREENSHOTS"):
        DOCS_SHOT.parent.mkdir(parents=True, exist_ok=True)
        pixmap.save(str(DOCS_SHOT), "PNG")
