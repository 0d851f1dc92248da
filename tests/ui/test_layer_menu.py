"""Right-click on a card or a table row: the layer commands for the layer clicked."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication, QMenu
from pytestqt.qtbot import QtBot

from convdesigner.core.ops.conv import Conv2D
from convdesigner.core.templates import load_template
from convdesigner.ui.main_window import MainWindow


def right_click(view: QAbstractItemView, row: int, column: int = 0) -> QMenu:
    """A context-menu event at the centre of a row's cell, as the platform sends on a right
    click; the menu it opened."""
    model = view.model()
    view.scrollTo(model.index(row, column))
    pos = view.visualRect(model.index(row, column)).center()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(view.viewport(), event)
    window = view.window()
    assert isinstance(window, MainWindow)
    menu = window.layer_menu.shown
    assert menu is not None
    assert menu.isVisible()
    return menu


def entries(menu: QMenu) -> dict[str, bool]:
    """Each command's text (without its shortcut) and whether it is enabled."""
    return {
        a.text().split("\t")[0].replace("&", ""): a.isEnabled()
        for a in menu.actions()
        if not a.isSeparator()
    }


def test_right_click_on_a_card_selects_it_and_offers_its_commands(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.show()
    qtbot.waitExposed(window)
    assert window.selected_layer() is None
    menu = right_click(window.pipeline, 2)  # the pool (the input is row 0)
    assert window.selected_layer() == 1
    assert entries(menu) == {
        "Duplicate Layer": True,
        "Delete Layer": True,
        "Move Layer Up": True,
        "Move Layer Down": True,
        "Make Separable": False,  # a pool
        "Make Normal": False,
    }
    delete = next(a for a in menu.actions() if a.text() == "De&lete Layer")
    delete.trigger()
    menu.close()
    assert [n.op.label for n in window.design.nodes] == ["Conv2D", "Conv2D"]
    window.undo_stack.undo()
    assert window.design == load_template("qa-example")


def test_right_click_on_a_table_row_also_copies_and_rewrites(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.show()
    qtbot.waitExposed(window)
    menu = right_click(window.table, 3, 4)  # the second conv
    assert window.selected_layer() == 2
    found = entries(menu)
    assert found["Make Separable"] is True
    assert found["Move Layer Down"] is False  # the last layer
    assert found["Copy Cells"] is True
    separable = next(a for a in menu.actions() if a.text().startswith("Make &Separable"))
    separable.trigger()
    menu.close()
    depthwise, pointwise = window.design.nodes[2].op, window.design.nodes[3].op
    assert isinstance(depthwise, Conv2D)
    assert isinstance(pointwise, Conv2D)
    assert (depthwise.groups, depthwise.filters) == (100, 100)  # one 5×5 filter per channel
    assert pointwise.kernel == (1, 1)
    assert pointwise.filters == 150


def test_right_click_on_the_input_or_the_totals_offers_no_layer_command(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.select_layer(1)
    menu = right_click(window.table, window.table_model.rowCount() - 1, 1)  # the totals
    assert entries(menu) == {"Copy Cells": True}
    assert window.selected_layer() == 1  # unchanged
    menu.close()
    menu = right_click(window.pipeline, 0)  # the input
    assert window.selected_layer() is None
    found = entries(menu)
    assert not any(enabled for enabled in found.values())
    assert "Copy Cells" not in found  # the pipeline has no cells
    menu.close()


def test_right_click_below_the_last_card_shows_nothing(window: MainWindow, qtbot: QtBot) -> None:
    window.show()
    qtbot.waitExposed(window)
    viewport = window.pipeline.viewport()
    pos = QPoint(viewport.width() // 2, viewport.height() - 2)
    assert not window.pipeline.indexAt(pos).isValid()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos))
    QApplication.sendEvent(viewport, event)
    assert window.layer_menu.shown is None
