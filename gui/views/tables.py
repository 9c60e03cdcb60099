"""The desk's table machinery, once: read-only table models answering only the roles a view
asks for (ReadOnlyTable, guarded at Qt's edge), a bounded newest-first table
(NewestFirstTable), a sorting and filtering proxy, and the tables' look. The orders, the
rejections, the positions and the watchlist are built on it."""
from __future__ import annotations

from collections import deque
from typing import Deque, Optional

from PySide6.QtCore import (QAbstractTableModel, QModelIndex, QObject, QRegularExpression,
                            QSortFilterProxyModel, Qt)
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QLabel, QTableView, QVBoxLayout, QWidget

from . import theme
from .guard import guarded

SORT_ROLE = Qt.ItemDataRole.UserRole  # a cell's value to sort by (numbers as numbers)


def header_width(table, title: str) -> int:
    """A header's width for its (bold) title, its padding and, on the right, the room of the
    sort arrow (theme.SORT_ROOM), which Qt would otherwise draw over the title's end."""
    bold = QFont(table.horizontalHeader().font())
    bold.setBold(True)
    return QFontMetrics(bold).horizontalAdvance(title) + 6 + theme.SORT_ROOM + 2


def fit_columns(table, samples) -> int:
    """Fixed widths that fit the sample text and the header; the last column stretches."""
    data_fm = table.fontMetrics()
    head = table.horizontalHeader()
    model = table.model()
    total = 0
    for col, sample in enumerate(samples):
        title = str(model.headerData(col, Qt.Orientation.Horizontal) or "")
        width = max(data_fm.horizontalAdvance(sample) + 12, header_width(table, title))
        head.resizeSection(col, width)
        total += width
    return total


class ReadOnlyTable(QAbstractTableModel):
    """A read-only table of COLUMNS over `_len()` rows; data() is a C++ virtual, so it is
    guarded (an exception must not escape into Qt) and answered by `_data`."""

    COLUMNS: tuple = ()
    WHAT = "a table"
    # the roles a view asks for that these tables answer; a repaint asks ~14 roles a cell,
    # and answering the rest with None in C++ terms first keeps a 30-row repaint cheap
    ROLES = frozenset((Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole,
                       Qt.ItemDataRole.FontRole, Qt.ItemDataRole.TextAlignmentRole))

    def _len(self) -> int:
        raise NotImplementedError

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else self._len()

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role not in self.ROLES:
            return None
        return guarded(f"the {self.WHAT}'s data()", self._data, index, role)

    def _data(self, index, role):
        raise NotImplementedError


class NewestFirstTable(ReadOnlyTable):
    """At most max_rows rows in `rows`, newest on top: add() puts a batch on top and drops
    the oldest past the bound. A subclass keeping more per row extends _put and _drop."""

    def __init__(self, max_rows: int, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.rows: Deque = deque()
        self.max_rows = max_rows

    def _len(self) -> int:
        return len(self.rows)

    def _put(self, item) -> None:
        self.rows.appendleft(item)

    def _drop(self) -> None:
        self.rows.pop()

    def add(self, items: list) -> int:
        """items oldest first; they go on top, newest first. Returns how many were put (a
        batch longer than the bound keeps its newest)."""
        items = items[-self.max_rows:]
        if not items:
            return 0
        self.beginInsertRows(QModelIndex(), 0, len(items) - 1)
        for item in items:
            self._put(item)
        self.endInsertRows()
        extra = len(self.rows) - self.max_rows
        if extra > 0:
            self.beginRemoveRows(QModelIndex(), self.max_rows, len(self.rows) - 1)
            for _ in range(extra):
                self._drop()
            self.endRemoveRows()
        return len(items)

    def clear(self) -> None:
        self.beginResetModel()
        self._reset()
        self.endResetModel()

    def _reset(self) -> None:
        self.rows.clear()


def sorted_filtered(model: QAbstractTableModel, parent: QObject) -> QSortFilterProxyModel:
    """A proxy that sorts by each cell's value (SORT_ROLE) and keeps the rows in which any
    cell's text holds the filter text (any case)."""
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setFilterKeyColumn(-1)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    return proxy


def set_filter_text(proxy: QSortFilterProxyModel, text: str) -> None:
    proxy.setFilterRegularExpression(QRegularExpression(
        QRegularExpression.escape(text),
        QRegularExpression.PatternOption.CaseInsensitiveOption))


def plain_table(table: QTableView) -> None:
    """The desk's table look: alternating rows, no grid, no row numbers, fixed-width digits."""
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(20)
    table.setFont(theme.mono_font())
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setStretchLastSection(True)


def sorted_table(proxy: QSortFilterProxyModel, column: int) -> QTableView:
    """A plain table over a sorting proxy: whole rows selected, a click on a header sorts by
    it, and at first it is sorted by `column`, newest (highest) first."""
    table = QTableView()
    table.setModel(proxy)
    table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    plain_table(table)
    table.setSortingEnabled(True)
    table.sortByColumn(column, Qt.SortOrder.DescendingOrder)
    return table


def titled(title: str, widget: QWidget) -> QWidget:
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(2)
    label = QLabel(title)
    label.setObjectName("muted")
    lay.addWidget(label)
    lay.addWidget(widget)
    return box

