"""The layer table model: Qt's model contract, formatting, highlighting, copy and CSV export."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QModelRoleData, Qt
from PySide6.QtGui import QBrush, QFont, QGuiApplication
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from convdesigner import cli
from convdesigner.core.analysis import analyse
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.fileformat import save_design
from convdesigner.core.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
from convdesigner.core.templates import load_template
from convdesigner.ui.main_window import MainWindow
from convdesigner.ui.rows import padding_text, padding_tip
from convdesigner.ui.table_model import COLUMNS, LayerTableModel
from tests.ui.ui_helpers import editor, explained

TITLES = [c.title for c in COLUMNS]


def _cells(model: LayerTableModel, row: int) -> dict[str, str]:
    return {t: model.index(row, c).data() for c, t in enumerate(TITLES)}


def test_columns_are_the_ones_the_issue_lists() -> None:
    assert TITLES == [
        "#",
        "Name",
        "Type",
        "Output H×W×C",
        "Params",
        "MACs",
        "% MACs",
        "% Params",
        "Weight shape",
        "Kernel",
        "Stride",
        "Padding",
        "Weights",
        "Biases",
        "Receptive field",
        "Output memory",
    ]


def test_model_passes_qtmodeltester(qtmodeltester: ModelTester, window: MainWindow) -> None:
    model = window.table_model
    qtmodeltester.check(model, force_py=True)
    # Changing the design (row count and contents) keeps the model consistent.
    window.insert_entry("relu", 1)
    window.select_layer(3)
    editor(window, "filters").setValue(7)
    qtmodeltester.check(model, force_py=True)


def test_qa_example_rows_and_totals(window: MainWindow) -> None:
    model = window.table_model
    assert model.rowCount() == 5  # input, three layers, totals
    last = _cells(model, 3)
    assert last["Output H×W×C"] == "13×32×150"
    assert last["Weights"] == "375,000"
    assert last["MACs"] == "156,000,000"
    assert last["Padding"] == "2"
    pool = _cells(model, 2)
    assert pool["Padding"] == "bottom 1"  # "same" on 25×64: one row of padding after, none before
    totals = _cells(model, 4)
    assert totals["Name"] == "Total"
    assert totals["Params"] == "380,150"
    assert totals["MACs"] == "163,840,000"
    assert totals["% Params"] == "100%"
    share = 100 * 375_150 / 380_150
    assert last["% Params"] == f"{share:.1f}%"


def test_numbers_are_right_aligned_text_left() -> None:
    model = LayerTableModel(analyse(Design(layers=(Conv2D(filters=4),))))
    right = model.index(1, TITLES.index("Params")).data(Qt.ItemDataRole.TextAlignmentRole)
    left = model.index(1, TITLES.index("Name")).data(Qt.ItemDataRole.TextAlignmentRole)
    assert right & Qt.AlignmentFlag.AlignRight
    assert left & Qt.AlignmentFlag.AlignLeft


def test_bad_rows_are_highlighted_with_the_reason() -> None:
    design = Design(InputSpec(8, 8, 3), (Dense(units=4), ReLU()))
    model = LayerTableModel(analyse(design))
    error_brush = model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole)
    blocked_brush = model.index(2, 0).data(Qt.ItemDataRole.BackgroundRole)
    assert isinstance(error_brush, QBrush)
    assert isinstance(blocked_brush, QBrush)
    assert error_brush.color() != blocked_brush.color()
    assert model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    tip = model.index(1, 3).data(Qt.ItemDataRole.ToolTipRole)
    assert "Add a Flatten" in tip
    assert "Not computable" in model.index(2, 1).data(Qt.ItemDataRole.ToolTipRole)


def test_vectors_show_their_length() -> None:
    design = Design(InputSpec(4, 4, 2), (Flatten(), Dense(units=3)))
    model = LayerTableModel(analyse(design))
    assert _cells(model, 1)["Output H×W×C"] == "32"
    assert _cells(model, 2)["Receptive field"] == "all"
    assert _cells(model, 2)["Weights"] == "96"


def test_padding_text_of_asymmetric_same_padding() -> None:
    row = analyse(Design(InputSpec(5, 6, 1), (Conv2D(kernel=(2, 3), padding="same"),))).rows[1]
    assert row.padding == ((0, 1), (1, 1))  # (before, after) per axis
    assert padding_text(row) == "bottom 1, left/right 1"
    assert padding_tip(row) == "zeros added around the input: top 0, bottom 1, left 1, right 1"
    model = LayerTableModel(analyse(Design(InputSpec(5, 6, 1), (Conv2D(padding=(2, 2)),))))
    padding = TITLES.index("Padding")
    assert model.index(1, padding).data() == "2"
    tip = model.index(1, padding).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == "zeros added around the input: top 2, bottom 2, left 2, right 2"


def test_depthwise_and_1x1_convolutions_are_named_and_weight_shapes_shown() -> None:
    design = Design(
        InputSpec(8, 8, 100),
        (
            Conv2D(filters=100, kernel=(3, 3), groups=100),
            Conv2D(filters=150, kernel=(1, 1)),
            Conv2D(filters=150, kernel=(5, 5), padding="same", dilation=(2, 2)),
            Flatten(),
            Dense(units=10),
        ),
    )
    model = LayerTableModel(analyse(design))
    rows = [_cells(model, r) for r in range(1, 6)]
    assert [r["Type"] for r in rows] == [
        "conv2d (depthwise)",
        "conv2d 1×1",
        "conv2d (dilation 2)",
        "flatten",
        "dense",
    ]
    assert [r["Weight shape"] for r in rows] == [
        "3×3×1×100",
        "1×1×100×150",
        "5×5×150×150",
        "",
        "5400×10",
    ]
    shape = TITLES.index("Weight shape")
    tip = model.index(2, shape).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == "weights 1×1×100×150, bias 150"


def test_ctrl_c_copies_the_selection_as_tab_separated_text(
    window: MainWindow, qtbot: QtBot
) -> None:
    table = window.table
    model = window.table_model
    name, params = TITLES.index("Name"), TITLES.index("Params")
    selection = QItemSelection(model.index(1, name), model.index(3, name))
    selection.select(model.index(1, params), model.index(3, params))
    table.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    text = QGuiApplication.clipboard().text()
    assert text == "Conv2D\t5,000\nMaxPool2D\t0\nConv2D\t375,150\n"


def test_export_csv_equals_the_command_line(
    window: MainWindow,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from PySide6.QtWidgets import QFileDialog

    window.select_layer(0)
    editor(window, "filters").setValue(64)  # export what is on screen, not the file
    design_file = tmp_path / "design.json"
    save_design(window.design, design_file)
    target = tmp_path / "layers.csv"
    asked: list[str] = []

    def fake_dialog(parent: object, caption: str, directory: str, filter: str) -> tuple[str, str]:
        asked.append(caption)
        return str(target), filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_dialog)
    window.action_export.trigger()
    assert asked == ["Export Layer Table"]
    assert cli.main(["summary", str(design_file), "--format", "csv"]) == 0
    expected = capsys.readouterr().out
    assert target.read_text(encoding="utf-8") == expected
    assert "64" in expected.splitlines()[1 + 1]


def test_cancelled_export_writes_nothing(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    assert window.export_table_dialog() is False
    assert list(tmp_path.iterdir()) == [] or all(p.name == "settings" for p in tmp_path.iterdir())


@pytest.mark.parametrize("column", range(len(COLUMNS)))
def test_selecting_a_cell_explains_that_column(
    window: MainWindow, column: int, qtbot: QtBot
) -> None:
    table = window.table
    table.setCurrentIndex(window.table_model.index(3, column))
    assert window.selected_layer() == 2
    keys = COLUMNS[column].explains
    html_text = explained(qtbot, window).toHtml()
    assert "Layer 2" in html_text
    if keys:
        row = window.analysis.row_for_layer(2)
        first = next(k for k in keys if k in row.derivations)
        assert (
            row.derivations[first].splitlines()[0].split("=")[0].strip()
            in explained(qtbot, window).toPlainText()
        )


def test_columns_widen_when_numbers_grow(window: MainWindow, qtbot: QtBot) -> None:
    header = window.table.horizontalHeader()
    weights = TITLES.index("Weights")
    before = header.sectionSize(weights)
    window.select_layer(2)
    editor(window, "filters").setValue(90000)  # 5×5×100×90,000 weights
    assert window.table_model.index(3, weights).data() == "225,000,000"
    qtbot.waitUntil(lambda: header.sectionSize(weights) > before, timeout=2000)
    assert header.sectionSize(weights) >= window.table.sizeHintForColumn(weights)


def _qt_widths(window: MainWindow) -> list[int]:
    return [window.table.sizeHintForColumn(c) for c in range(len(COLUMNS))]


def test_measured_widths_are_qts_own(window: MainWindow) -> None:
    # The view measures texts itself (no data() per cell); it must agree with Qt's measurement
    # of the same cells, the bold totals and italic input row included, for any font.
    table = window.table
    rows = range(window.table_model.rowCount())
    assert table.content_widths(rows) == _qt_widths(window)
    window.apply_design(load_template("vgg16"), "VGG-16")
    assert table.content_widths(range(window.table_model.rowCount())) == _qt_widths(window)
    big = QFont(table.font())
    big.setPointSizeF(big.pointSizeF() * 1.7)
    table.setFont(big)
    widths = table.content_widths(range(window.table_model.rowCount()))
    assert widths == _qt_widths(window)
    assert widths[TITLES.index("MACs")] > 0


def test_widening_never_shrinks_and_a_new_layer_count_refits(
    window: MainWindow, qtbot: QtBot
) -> None:
    # Wide enough that the name columns need not give way to the answers (they do in a narrow
    # table: see test_at_a_glance).
    window.resize(1920, 1080)
    window.reset_layout()
    qtbot.wait(20)
    header = window.table.horizontalHeader()
    name, weights = TITLES.index("Name"), TITLES.index("Weights")
    header.resizeSection(name, 300)  # the user widened it
    window.select_layer(2)
    editor(window, "filters").setValue(90000)
    qtbot.waitUntil(
        lambda: header.sectionSize(weights) >= window.table.sizeHintForColumn(weights),
        timeout=2000,
    )
    window.table.widen_columns()
    assert header.sectionSize(name) == 300
    # Fewer, shorter numbers after a reset (another row count): columns fit the contents again.
    editor(window, "filters").setValue(4)
    window.insert_entry("relu", 1)
    assert window.table_model.rowCount() == 6
    for column in (name, weights):
        assert header.sectionSize(column) == max(
            window.table.sizeHintForColumn(column), header.sectionSizeHint(column)
        )


def test_display_texts_and_row_font_are_what_data_shows() -> None:
    model = LayerTableModel(analyse(load_template("vgg16")))
    for r in range(model.rowCount()):
        cells = tuple(model.index(r, c).data() for c in range(model.columnCount()))
        assert model.display_texts(r) == cells
        assert model.row_font(r) == model.index(r, 0).data(Qt.ItemDataRole.FontRole)
        assert model.row_font(r) is model.row_font(r)  # the view caches by the font object
    italic = model.row_font(0)
    assert italic is not None
    assert italic.italic()
    assert model.row_font(1) is None
    assert model.display_texts(model.rowCount() - 1)[TITLES.index("Name")] == "Total"


def test_the_delegate_sees_in_one_call_what_data_gives(window: MainWindow) -> None:
    # Painting asks multiData() for all roles of a cell at once; it must give what data() gives,
    # cell after cell, with nothing carried over from the cell before (bold totals, an error's
    # background) when a role has no value.
    bad = Design(InputSpec(8, 8, 1), (Conv2D(filters=2, kernel=(9, 9)), ReLU()))
    window.apply_design(bad, "bad")
    model = window.table_model
    delegate = window.table.itemDelegate()
    roles = (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.FontRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.BackgroundRole,
    )
    order = [model.rowCount() - 1, 1, 0, 2, model.rowCount() - 1, 2]  # totals, error, input...
    for r in order:
        for c in range(model.columnCount()):
            index = model.index(r, c)
            option = QStyleOptionViewItem()
            window.table.initViewItemOption(option)
            assert isinstance(delegate, QStyledItemDelegate)
            delegate.initStyleOption(option, index)
            text, font, align, background = (model.data(index, role) for role in roles)
            assert option.text == (text or "")
            expected_font = window.table.font() if font is None else font.resolve(option.font)
            assert option.font.bold() == expected_font.bold()
            assert option.font.italic() == expected_font.italic()
            assert int(option.displayAlignment.value) == align
            expected_brush = QBrush() if background is None else background
            assert option.backgroundBrush == expected_brush
    single = QModelRoleData(Qt.ItemDataRole.DisplayRole)  # one role, not a span
    model.multiData(model.index(1, 1), single)
    assert single.data() == model.data(model.index(1, 1))
    assert model.index(model.rowCount(), 0).isValid() is False
    assert model.index(0, model.columnCount()).isValid() is False


@pytest.mark.parametrize(
    ("which", "change", "small"),
    [
        ("first conv", {"filters": 63}, True),  # what the viewer benchmark does
        ("first pool", {"kernel": (3, 3)}, False),  # every later shape changes
        ("last dense", {"units": 100}, True),
    ],
)
def test_an_edit_announces_every_cell_whose_text_changed(
    which: str, change: dict[str, object], small: bool
) -> None:
    vgg = load_template("vgg16")
    kinds = {"first conv": Conv2D, "first pool": MaxPool2D, "last dense": Dense}
    matches = [i for i, layer in enumerate(vgg.layers) if isinstance(layer, kinds[which])]
    index = matches[-1] if which.startswith("last") else matches[0]
    model = LayerTableModel(analyse(vgg))
    rows, columns = model.rowCount(), model.columnCount()
    before = {(r, c): model.data(model.index(r, c)) for r in range(rows) for c in range(columns)}
    announced: set[tuple[int, int]] = set()

    def note(top_left: QModelIndex, bottom_right: QModelIndex, *_: object) -> None:
        for r in range(top_left.row(), bottom_right.row() + 1):
            for c in range(top_left.column(), bottom_right.column() + 1):
                announced.add((r, c))

    model.dataChanged.connect(note)
    model.set_analysis(analyse(vgg.replace_layer(index, vgg.layers[index].with_changes(**change))))
    after = {(r, c): model.data(model.index(r, c)) for r in range(rows) for c in range(columns)}
    changed = {cell for cell in before if before[cell] != after[cell]}
    assert changed  # the edit shows somewhere
    assert changed <= announced  # no cell keeps a stale text
    if small:  # a local edit repaints its rows, the totals and the share columns only
        assert len(announced) < rows * columns / 3
