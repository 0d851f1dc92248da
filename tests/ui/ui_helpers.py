"""Helpers for the UI tests: real drag-and-drop events, and typed access to editors and layers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

if TYPE_CHECKING:
    from convdesigner.ui.main_window import MainWindow


def drag_and_drop(
    target: QWidget,
    data: QMimeData,
    pos: QPoint,
    action: Qt.DropAction = Qt.DropAction.CopyAction,
    *,
    drop: bool = True,
) -> tuple[bool, bool]:
    """Send enter, move and (optionally) drop events to ``target``; returns (accepted, dropped).

    qtbot cannot start a QDrag (it blocks in a nested event loop), so this is what a drag looks
    like to the widget under the cursor.
    """
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    buttons = Qt.MouseButton.LeftButton
    mods = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, actions, data, buttons, mods)
    enter.setDropAction(action)
    QApplication.sendEvent(target, enter)
    move = QDragMoveEvent(pos, actions, data, buttons, mods)
    move.setDropAction(action)
    QApplication.sendEvent(target, move)
    accepted = enter.isAccepted() and move.isAccepted()
    if not drop:
        return accepted, False
    event = QDropEvent(QPointF(pos), actions, data, buttons, mods)
    event.setDropAction(action)
    QApplication.sendEvent(target, event)
    return accepted, event.isAccepted()


def editor(window: MainWindow, key: str) -> Any:
    """The property panel's editor for ``key`` (a spin box, a size or padding editor...).

    Any: each kind has its own API, and the tests drive them the way a user would.
    """
    return window.properties.editors[key]


def layer(window: MainWindow, index: int) -> Any:
    """Layer ``index`` of the window's design; the tests read the settings of its own type."""
    return window.design.layers[index]


T = TypeVar("T")


def record(log: list[Any], item: object, answer: T) -> T:
    """For a stubbed dialog: note what it was asked, give the canned answer."""
    log.append(item)
    return answer


def explained(qtbot: Any, window: MainWindow) -> Any:
    """The explain panel once it has drawn what it was last asked to show (it draws after the
    frame that shows an edit, and a large design's learner notes come from a worker thread)."""
    qtbot.waitUntil(lambda: not window.explain.pending, timeout=5000)
    return window.explain
