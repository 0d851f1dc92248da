"""The layer table's view: cell selection, Ctrl+C as tab-separated text, sensible widths."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from convdesigner.ui.table_model import LayerTableModel


class LayerTableView(QTableView):
    def __init__(self, model: LayerTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerTable")
        self.setAccessibleName("Layer table")
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setCornerButtonEnabled(True)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        model.modelReset.connect(self.resizeColumnsToContents)
        # Edits can make numbers longer; widen columns a moment later, off the edit's frame.
        self._widen_timer = QTimer(self)
        self._widen_timer.setSingleShot(True)
        self._widen_timer.setInterval(250)
        self._widen_timer.timeout.connect(self.widen_columns)
        model.dataChanged.connect(self._widen_timer.start)
        self.resizeColumnsToContents()

    def widen_columns(self) -> None:
        """Grow columns whose contents no longer fit (never shrink what the user widened)."""
        header = self.horizontalHeader()
        for column in range(self.model().columnCount() - 1):  # the last one stretches
            wanted = max(self.sizeHintForColumn(column), header.sectionSizeHint(column))
            if wanted > header.sectionSize(column):
                header.resizeSection(column, wanted)

    def layer_model(self) -> LayerTableModel:
        model = self.model()
        assert isinstance(model, LayerTableModel)
        return model

    def selection_text(self) -> str:
        """The selected cells as tab-separated lines (rows and columns in table order)."""
        indexes = self.selectionModel().selectedIndexes()
        if not indexes:
            return ""
        rows = sorted({i.row() for i in indexes})
        columns = sorted({i.column() for i in indexes})
        chosen = {(i.row(), i.column()) for i in indexes}
        model = self.model()
        lines = []
        for r in rows:
            cells = []
            for c in columns:
                text = model.index(r, c).data() if (r, c) in chosen else ""
                cells.append(str(text or "").replace("\t", " ").replace("\n", " "))
            lines.append("\t".join(cells))
        return "\n".join(lines) + "\n"

    def copy_selection(self) -> None:
        text = self.selection_text()
        if text:
            QGuiApplication.clipboard().setText(text)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            event.accept()
            return
        super().keyPressEvent(event)
