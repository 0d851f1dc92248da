"""Helpers for the UI tests: real drag-and-drop events sent to a widget."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget


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
