"""Drag-and-drop payloads: our own MIME types, so foreign drags are never mistaken for ours."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QUrl

LAYER_TYPE_MIME = "application/x-convdesigner-layer-type"
"""A palette entry being dragged; payload is the entry key (e.g. ``b"conv2d"``)."""

LAYER_MOVE_MIME = "application/x-convdesigner-layer-index"
"""A pipeline layer being reordered; payload is its index in ``design.layers``."""

DESIGN_SUFFIXES = (".json",)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".npy")


def palette_mime(key: str) -> QMimeData:
    data = QMimeData()
    data.setData(LAYER_TYPE_MIME, key.encode("utf-8"))
    data.setText(key)
    return data


def palette_key(data: QMimeData) -> str | None:
    if not data.hasFormat(LAYER_TYPE_MIME):
        return None
    return bytes(data.data(LAYER_TYPE_MIME).data()).decode("utf-8", "replace")


def move_mime(index: int, token: str) -> QMimeData:
    """A reorder payload; ``token`` names the pipeline it came from (see :func:`moved_index`)."""
    data = QMimeData()
    data.setData(LAYER_MOVE_MIME, f"{token}:{index}".encode("ascii"))
    return data


def moved_index(data: QMimeData, token: str) -> int | None:
    """The dragged layer's index, if the drag started in the pipeline identified by ``token``.

    A layer dragged from another window (or another running copy of the app) carries an index
    into a different design, so it must not be taken for a reorder here.
    """
    if not data.hasFormat(LAYER_MOVE_MIME):
        return None
    text = bytes(data.data(LAYER_MOVE_MIME).data()).decode("ascii", "replace")
    source, _, index = text.rpartition(":")
    if source != token:
        return None
    try:
        return int(index)
    except ValueError:
        return None


def dropped_files(data: QMimeData) -> list[str]:
    """Local files among the dragged URLs that we can open (designs or images)."""
    if not data.hasUrls():
        return []
    paths = []
    for url in data.urls():
        if isinstance(url, QUrl) and url.isLocalFile():
            path = url.toLocalFile()
            if path.lower().endswith(DESIGN_SUFFIXES + IMAGE_SUFFIXES):
                paths.append(path)
    return paths


def is_design_file(path: str) -> bool:
    return path.lower().endswith(DESIGN_SUFFIXES)
