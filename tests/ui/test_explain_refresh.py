"""The explain panel is drawn after the frame that shows an edit (issue 11: an edit of
DenseNet-121 must show in its table and pipeline within 16 ms; the panel's learner notes and
``setHtml`` were about half of that), once for a burst of edits."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from convdesigner.ui import explain
from convdesigner.ui.main_window import MainWindow
from tests.ui.ui_helpers import explained


def _count_renders(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    drawn: list[str] = []
    set_html = window.explain.setHtml

    def spy(text: str) -> None:
        drawn.append(text)
        set_html(text)

    monkeypatch.setattr(window.explain, "setHtml", spy)
    return drawn


def test_explain_is_drawn_after_the_edits_once(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.select_layer(2)
    explained(qtbot, window)
    drawn = _count_renders(window, monkeypatch)
    node = window.design.nodes[2].id
    for filters in (101, 102, 103):  # a spin box held down: one event each
        window.document.change(node, filters=filters)
    assert drawn == []  # not inside the edit: the table and the pipeline come first
    assert window.explain.pending
    assert "103" in explained(qtbot, window).toPlainText()
    assert len(drawn) == 1


def test_large_designs_get_the_same_notes_from_a_worker(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.select_layer(2)
    at_once = explained(qtbot, window).toPlainText()
    monkeypatch.setattr(explain, "BACKGROUND_NOTES_ROWS", 2)
    drawn = _count_renders(window, monkeypatch)
    window.select_layer(0)
    window.select_layer(2)
    assert explained(qtbot, window).toPlainText() == at_once
    assert len(drawn) == 2  # the derivations at once, then with the notes
    assert "Why" not in drawn[0]
    assert "Why" in drawn[1]
