"""The right-click menu of the pipeline's cards and the table's rows.

Deep Network Designer, Netron and most editors answer a right-click on an item with what can be
done to it; here that is the Edit menu's layer commands (duplicate, delete, move; make separable
or normal), applied to the layer clicked, which the click selects first as a left-click would.
The menu is made anew for each click from the window's own actions, so it never disagrees with
the Edit menu, and a section can be left out (the table's totals row is no layer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractItemView, QMenu

if TYPE_CHECKING:
    from convdesigner.ui.main_window import MainWindow


class LayerMenu:
    """Shows the layer commands at a right-click in the pipeline or the table."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.sections: list[tuple[Sequence[QAction], Callable[[], None]]] = []
        self.shown: QMenu | None = None
        """The menu of the last right-click (tests read it; None before the first)."""
        self.copy = QAction("&Copy Cells\tCtrl+C", window)  # the table's own Ctrl+C does it
        self.copy.triggered.connect(lambda _checked=False: window.table.copy_selection())
        for view in (window.pipeline, window.table):
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            view.customContextMenuRequested.connect(lambda pos, view=view: self.request(view, pos))

    def add_section(self, actions: Sequence[QAction], update: Callable[[], None]) -> None:
        """More layer commands, after a separator; ``update`` sets whether each is enabled for
        the selection (called just before the menu shows)."""
        self.sections.append((actions, update))

    def request(self, view: QAbstractItemView, pos: QPoint) -> None:
        """A right-click at ``pos`` (viewport coordinates) of ``view``."""
        index = view.indexAt(pos)
        if not index.isValid():
            return
        window = self.window
        is_table = view is window.table
        layer_row = not (is_table and window.table_model.is_totals_row(index.row()))
        if layer_row:
            node = window.node_at_row(index.row())
            if node != window.document.selection and (node is None or node in window.design):
                window.select_node(node)
        menu = QMenu(view)
        menu.setObjectName("layerMenu")
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if layer_row:
            window.update_actions()
            menu.addActions(
                [
                    window.action_duplicate,
                    window.action_delete,
                    window.action_move_up,
                    window.action_move_down,
                ]
            )
            for actions, update in self.sections:
                update()
                menu.addSeparator()
                menu.addActions(list(actions))
        if is_table:
            if layer_row:
                menu.addSeparator()
            menu.addAction(self.copy)
        self.shown = menu
        menu.popup(view.viewport().mapToGlobal(pos))
