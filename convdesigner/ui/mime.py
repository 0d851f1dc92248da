"""Drag-and-drop payloads: our own MIME types, so foreign drags are never mistaken for ours."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QUrl

from convdesigner.core.images import IMAGE_SUFFIXES

LAYER_TYPE_MIME = "application/x-convdesigner-layer-type"
"""A palette entry being dragged; payload is the entry key (e.g. ``b"conv2d"``)."""

NODE_MOVE_MIME = "application/x-convdesigner-node"
"""A pipeline card being reordered; payload is the pipeline's token and the node's id."""

DESIGN_SUFFIXES = (".json",)


def palette_mime(key: str) -> QMimeData:
    data = QMimeData()
    data.setData(LAYER_TYPE_MIME, key.encode("utf-8"))
    data.setText(key)
    return data


def palette_key(data: QMimeData) -> str | None:
    if not data.hasFormat(LAYER_TYPE_MIME):
        return None
    return bytes(data.data(LAYER_TYPE_MIME).data()).decode("utf-8", "replace")


def move_mime(node_id: str, token: str) -> QMimeData:
    """A reorder payload; ``token`` names the pipeline it came from (see :func:`moved_node`)."""
    data = QMimeData()
    data.setData(NODE_MOVE_MIME, f"{token}:{node_id}".encode())
    return data


def moved_node(data: QMimeData, token: str) -> str | None:
    """The dragged node's id, if the drag started in the pipeline identified by ``token``.

    A card dragged from another window (or another running copy of the app) names a node of a
    different design, so it must not be taken for a reorder here. (Ids never contain ":".)
    """
    if not data.hasFormat(NODE_MOVE_MIME):
        return None
    text = bytes(data.data(NODE_MOVE_MIME).data()).decode("utf-8", "replace")
    source, _, node_id = text.partition(":")
    return node_id if source == token and node_id else None


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
