"""Number fields that leave undo to the document and say their limits.

A spin box edits the document on every keystroke, so its own text undo is the wrong one: Ctrl+Z
in it reverted the text, which was a new edit, which emptied the document's redo stack, and
further Ctrl+Z did nothing until the field lost focus. Here Undo and Redo are passed on to the
window's actions. A value typed past the limit used to be dropped silently; the box now says the
limit where the user looks (a tooltip at the field) and in the window's status bar.
"""

from __future__ import annotations

import contextlib
import re

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeyEvent, QKeySequence, QStatusTipEvent, QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QSpinBox, QToolTip, QWidget

_DOCUMENT_KEYS = (QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo)


class _DocumentUndo(QObject):
    """Event filter: Undo/Redo keys in a number field go to the window's shortcuts.

    Installed on a field only while it has the keyboard focus: a filter sees every event of its
    widget (paints, moves, hovers), each a call into Python, and with a dozen fields in the
    property panel those calls made a tenth of a refresh's waits for the interpreter while the
    viewer ran beside it.
    """

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            assert isinstance(event, QKeyEvent)
            if any(event.matches(key) for key in _DOCUMENT_KEYS):
                # Not accepted: the shortcut map then triggers the window's Undo/Redo action.
                event.ignore()
                return event.type() == QEvent.Type.ShortcutOverride
        return False

    def follow_focus(self, old: QWidget | None, new: QWidget | None) -> None:
        for widget, focused in ((old, False), (new, True)):
            # RuntimeError: a field losing the focus because it is being deleted (the property
            # panel's previous form) may already have lost its C++ object.
            with contextlib.suppress(RuntimeError):
                box = _document_box(widget)
                if box is None:
                    continue
                if focused:
                    box.installEventFilter(self)
                else:
                    box.removeEventFilter(self)


_PROPERTY = "convdesignerDocumentUndo"
_filter: _DocumentUndo | None = None


def _document_box(widget: QWidget | None) -> QAbstractSpinBox | None:
    """The number field ``widget`` is, or whose text field it is (None: neither)."""
    for candidate in (widget, widget.parentWidget() if widget is not None else None):
        if isinstance(candidate, QAbstractSpinBox) and candidate.property(_PROPERTY):
            return candidate
    return None


def undo_goes_to_document(box: QAbstractSpinBox) -> None:
    """Let Ctrl+Z / Ctrl+Shift+Z in ``box`` undo and redo the document, not the field's text."""
    global _filter
    app = QApplication.instance()
    if _filter is None:
        _filter = _DocumentUndo(app)
        assert isinstance(app, QApplication)
        app.focusChanged.connect(_filter.follow_focus)
    box.setProperty(_PROPERTY, True)
    if box.hasFocus():
        box.installEventFilter(_filter)


def limit_text(minimum: int, maximum: int) -> str:
    return f"from {minimum:,} to {maximum:,}"


class LimitedSpinBox(QSpinBox):
    """A spin box that says its limit when a typed value goes past it."""

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        result = super().validate(text, pos)
        if result[0] == QValidator.State.Invalid:
            digits = re.sub(r"[^0-9-]", "", text)
            if digits.lstrip("-").isdigit() and int(digits) > self.maximum():
                self.say_limit(int(digits))
        return result

    def say_limit(self, typed: int) -> None:
        message = (
            f"{typed:,} is more than the limit: this value goes "
            f"{limit_text(self.minimum(), self.maximum())}"
        )
        self.last_limit_message = message
        QToolTip.showText(self.mapToGlobal(self.rect().bottomLeft()), message, self)
        # Travels up to the main window, which shows it in its status bar.
        QApplication.sendEvent(self, QStatusTipEvent(message))

    last_limit_message = ""
    """The last limit said (for tests)."""
