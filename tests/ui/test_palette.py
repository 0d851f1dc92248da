"""The palette lists every layer type with an icon, a name and a one-line description."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from convdesigner.core.layers import LAYER_TYPES
from convdesigner.ui import mime
from convdesigner.ui.catalog import BY_KEY, ENTRIES
from convdesigner.ui.icons import layer_icon
from convdesigner.ui.main_window import MainWindow
from convdesigner.ui.palette import DESCRIPTION_ROLE

ICONS = Path(__file__).resolve().parents[2] / "resources" / "icons" / "layers"


def test_every_layer_type_and_the_presets_are_listed(window: MainWindow) -> None:
    palette = window.palette_list
    keys = palette.entry_keys()
    assert set(LAYER_TYPES) <= set(keys)
    assert {"depthwise", "conv1x1"} <= set(keys)
    items = palette.entry_items()
    assert [item.text() for item in items] == [e.title for e in ENTRIES]
    for item in items:
        description = item.data(DESCRIPTION_ROLE)
        assert description
        assert "\n" not in description
        assert description in item.toolTip()


def test_every_entry_has_its_own_crisp_svg_icon() -> None:
    images = set()
    for entry in ENTRIES:
        path = ICONS / f"{entry.key}.svg"
        assert path.is_file(), path
        image = layer_icon(entry.key, entry.family).pixmap(64, 64).toImage()
        assert not image.isNull()
        assert image.width() == 64
        images.add(bytes(image.convertToFormat(QImage.Format.Format_ARGB32).constBits()))
    assert len(images) == len(ENTRIES)  # no two entries look the same


def test_drag_payload_is_our_own_mime_type(window: MainWindow) -> None:
    palette = window.palette_list
    data = palette.mimeData([palette.item_for_key("maxpool2d")])
    assert data.formats()[0] == mime.LAYER_TYPE_MIME
    assert mime.palette_key(data) == "maxpool2d"
    assert palette.supportedDropActions() == Qt.DropAction.CopyAction


def test_presets_create_what_they_promise() -> None:
    depthwise = BY_KEY["depthwise"].make(24)
    assert (depthwise.groups, depthwise.filters) == (24, 24)  # type: ignore[attr-defined]
    one = BY_KEY["conv1x1"].make(24)
    assert one.kernel == (1, 1)  # type: ignore[attr-defined]
