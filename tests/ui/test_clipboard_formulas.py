"""Copied table cells are as safe in a spreadsheet as the CSV export (issue 12 item 13)."""

from __future__ import annotations

import csv
import io

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtGui import QGuiApplication

from convdesigner.core.design import Design, InputSpec
from convdesigner.core.layers import Conv2D, ReLU
from convdesigner.core.table import safe_text, to_csv
from convdesigner.ui.main_window import MainWindow
from convdesigner.ui.table_model import COLUMNS

NAMES = ('=HYPERLINK("http://example.com","x")', "+1+cmd", "@SUM(1)", "-2+3")


def test_copied_names_that_look_like_formulas_stay_text(window: MainWindow) -> None:
    layers = [Conv2D(filters=2, name=NAMES[0]), ReLU(name=NAMES[1])]
    layers += [ReLU(name=NAMES[2]), ReLU(name=NAMES[3]), ReLU(name="plain")]
    window.document.load(Design(InputSpec(8, 8, 1), layers=layers), None)
    table, model = window.table, window.table_model
    column = [c.title for c in COLUMNS].index("Name")
    selection = table.selectionModel()
    selection.clearSelection()
    for row in range(1, 6):
        selection.select(model.index(row, column), QItemSelectionModel.SelectionFlag.Select)
    table.copy_selection()
    copied = QGuiApplication.clipboard().text().splitlines()
    assert copied == [f"'{name}" for name in NAMES] + ["plain"]
    # The same rule as the CSV export.
    rows = list(csv.DictReader(io.StringIO(to_csv(window.analysis))))
    assert [row["name"] for row in rows[1:]] == [*map(safe_text, NAMES), "plain"]
