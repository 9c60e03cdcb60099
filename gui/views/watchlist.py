"""A universe at a glance: the watchlist table and the map of every symbol's change.

Past a handful of symbols (chart_model.SMALL_UNIVERSE) a line per symbol tells nothing, so
the desk shows, beside the charts:
* `WatchlistModel`, a table (gui/views/tables.py) over the sampler's latest arrays
  (ChartData.watch):
  last, change %, both MAs, the signal, the position of the account the desk shows (the
  session's picked one; every account's, net, by default). It is updated in place twice a
  second (one dataChanged for the rows, or one layout change when the order moved), and sorts
  and filters itself with NumPy: a proxy model would call data() for every row to sort 5,000.
  The view asks only for the rows it shows.
* `UniverseMap` (universe_map.py), one image of every symbol's change % (a cell each, red to
  green), on which a click picks the symbol to chart and hovering names it.
Picking a row or a cell selects the symbol for every view (the PriceSampler keeps it).
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QTableView, QVBoxLayout, QWidget

from . import theme
from .tables import ReadOnlyTable, header_width, plain_table
from .universe_map import UniverseMap

REFRESH_MS = 500
COLUMNS = ("Symbol", "Last", "Chg %", "MA short", "MA long", "Signal", "Pos")
KEYS = (None, "last", "change", "short", "long", "signal", "position")
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CENTER = Qt.AlignmentFlag.AlignCenter


def _num(v: float, fmt: str) -> str:
    return format(v, fmt) if math.isfinite(v) else "\u2013"


class WatchlistModel(ReadOnlyTable):
    """Rows are the symbols that pass the filter, in the chosen order (`order`: symbol
    indexes). Values live in NumPy arrays; data() formats one cell when the view asks."""

    COLUMNS = COLUMNS
    WHAT = "watchlist"
    ROLES = frozenset((Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole,
                       Qt.ItemDataRole.TextAlignmentRole))

    def __init__(self, symbols, short_window: int = 5, long_window: int = 20, parent=None):
        super().__init__(parent)
        self.symbols = list(symbols)
        self.index_of = {s: j for j, s in enumerate(self.symbols)}
        self._upper = np.array(self.symbols)
        n = len(self.symbols)
        nan = np.full(n, np.nan)
        self.values = {"last": nan, "change": nan.copy(), "short": nan.copy(),
                       "long": nan.copy(), "signal": np.zeros(n, dtype=np.int8),
                       "position": np.zeros(n, dtype=np.int64)}
        self.windows = (short_window, long_window)
        self.sentiment: Optional[int] = None
        self.thresholds = (60, 40)
        self.sort_column, self.descending = 2, True  # biggest gainers first
        self.text_filter, self.held_only = "", False
        self.order = np.arange(n)

    # -- Qt's model interface -----------------------------------------------------------
    def _len(self) -> int:
        return len(self.order)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            names = {3: f"MA {self.windows[0]}", 4: f"MA {self.windows[1]}"}
            return names.get(section, COLUMNS[section])
        if role == Qt.ItemDataRole.ToolTipRole:
            return {2: "change since the desk's first price of the symbol",
                    5: "short MA above (\u25b2) or below (\u25bc) the long one; bright when "
                       "the news sentiment agrees (the Strategy trades then)",
                    6: "the position (shares) of the account shown in the Orders pane "
                       "(All accounts: their net)"}.get(section)
        return None

    def _data(self, index, role):
        if not index.isValid() or index.row() >= len(self.order):
            return None
        j, col = int(self.order[index.row()]), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(j, col)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return CENTER if col == 5 else RIGHT if col else None
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._color(j, col)
        return None

    def _text(self, j: int, col: int) -> str:
        v = self.values
        if col == 0:
            return self.symbols[j]
        if col == 2:
            return _num(v["change"][j], "+.2f")
        if col == 5:
            return {1: "\u25b2", -1: "\u25bc"}.get(int(v["signal"][j]), "\u2013")
        if col == 6:
            pos = int(v["position"][j])
            return f"{pos:+,d}" if pos else "0"
        return _num(v[KEYS[col]][j], ",.2f")

    def _color(self, j: int, col: int):
        v = self.values
        if col == 2:
            ch = v["change"][j]
            return QColor(theme.BUY if ch > 0.0005 else theme.SELL if ch < -0.0005
                          else theme.MUTED)
        if col == 5:
            sig, sent = int(v["signal"][j]), self.sentiment
            bull, bear = self.thresholds
            agrees = sent is not None and (sig > 0 and sent > bull or sig < 0 and sent < bear)
            base = theme.BUY if sig > 0 else theme.SELL if sig < 0 else theme.MUTED
            return QColor(base if agrees else theme.MUTED)
        if col == 6:
            pos = int(v["position"][j])
            return QColor(theme.BUY if pos > 0 else theme.SELL if pos < 0 else theme.MUTED)
        return None

    def sort(self, column, order=Qt.SortOrder.AscendingOrder):
        self.sort_column = int(column)
        self.descending = order == Qt.SortOrder.DescendingOrder
        self._reorder()

    # -- what the panel changes -----------------------------------------------------------
    def set_filter(self, text: str, held_only: bool) -> None:
        self.text_filter, self.held_only = text.strip().upper(), bool(held_only)
        self._reorder()

    def update(self, values: dict, sentiment: Optional[int] = None, thresholds=None) -> None:
        """New values (ChartData.watch): one layout change when the rows' order changed,
        else one dataChanged for everything shown."""
        self.values = values
        self.sentiment = sentiment
        if thresholds is not None:
            self.thresholds = thresholds
        if not self._reorder() and len(self.order):
            self.dataChanged.emit(self.index(0, 1), self.index(len(self.order) - 1,
                                                               len(COLUMNS) - 1))

    def symbol_at(self, row: int) -> Optional[str]:
        return self.symbols[int(self.order[row])] if 0 <= row < len(self.order) else None

    def row_of(self, symbol: str) -> int:
        try:
            j = self.symbols.index(symbol)
        except ValueError:
            return -1
        hits = np.flatnonzero(self.order == j)
        return int(hits[0]) if len(hits) else -1

    def _wanted_order(self) -> np.ndarray:
        keep = np.ones(len(self.symbols), dtype=bool)
        if self.text_filter:
            keep &= np.char.find(self._upper, self.text_filter) >= 0
        if self.held_only:
            keep &= self.values["position"] != 0
        rows = np.flatnonzero(keep)
        key = KEYS[self.sort_column]
        if key is None:
            order = rows[np.argsort(self._upper[rows], kind="stable")]
            return order[::-1] if self.descending else order
        vals = self.values[key][rows].astype(np.float64)
        known = ~np.isnan(vals)
        ranked = rows[known][np.argsort(vals[known], kind="stable")]
        if self.descending:
            ranked = ranked[::-1]
        return np.concatenate((ranked, rows[~known]))  # no value yet: always last

    def _reorder(self) -> bool:
        """Apply the filter and the order; True when the rows changed (a layout change that
        keeps the selection on the same symbol)."""
        order = self._wanted_order()
        if len(order) == len(self.order) and (order == self.order).all():
            return False
        if len(order) != len(self.order):  # rows come or go: a reset keeps it simple
            self.beginResetModel()
            self.order = order
            self.endResetModel()
            return True
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        symbols = [int(self.order[i.row()]) for i in old]
        self.order = order
        where = {int(j): r for r, j in enumerate(order.tolist())}
        self.changePersistentIndexList(
            old, [self.index(where.get(j, 0), i.column()) for j, i in zip(symbols, old)])
        self.layoutChanged.emit()
        return True


class WatchlistPanel(QWidget):
    """The watchlist (filter, sortable table) over the universe map, fed from the sampler's
    ChartData twice a second; a picked symbol is selected for every view."""

    def __init__(self, sampler, session=None, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.sampler = sampler
        self.session = session  # whose positions the Pos column shows (an OrderSession)
        self.title = QLabel()
        self.title.setObjectName("heading")
        self.filter_box = theme.filter_box("Filter\u2026",
                                           "Show the symbols that contain this text")
        self.held_box = QCheckBox("Held only")
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.filter_box)
        top.addWidget(self.held_box)
        self.table = QTableView()
        plain_table(self.table)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.setSortingEnabled(True)
        self.map = UniverseMap()
        self.map.setMinimumHeight(90)
        self.setMinimumWidth(300)
        self.scale_label = QLabel()
        self.scale_label.setObjectName("muted")
        self.scale_label.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(4)
        lay.addLayout(top)
        lay.addWidget(self.table, 3)
        lay.addWidget(self.map, 1)
        lay.addWidget(self.scale_label)
        self.model: Optional[WatchlistModel] = None
        self.wanted_width = 420
        self.filter_box.textChanged.connect(self._on_filter)
        self.held_box.toggled.connect(self._on_filter)
        self.map.symbolPicked.connect(self.pick)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        sampler.symbolSelected.connect(self.show_symbol)

    def set_config(self, config) -> None:
        """New symbols (or new MA windows): a new model."""
        self.config = config
        self.model = WatchlistModel(config.symbols, config.short_window, config.long_window,
                                    self)
        self.model.set_filter(self.filter_box.text(), self.held_box.isChecked())
        self.table.setModel(self.model)
        self.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
        self.table.selectionModel().currentRowChanged.connect(self._on_row)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        fm = self.table.fontMetrics()
        for c, sample in enumerate(("WWWW", "0,000.00", "+00.00", "0,000.00", "0,000.00",
                                    "\u25b2", "+000")):
            name = self.model.headerData(c, Qt.Orientation.Horizontal)
            header.resizeSection(c, max(fm.horizontalAdvance(sample) + 10,
                                        header_width(self.table, name)))
        # wide enough for every column: the panel asks for it (the charts take the rest)
        self.wanted_width = (header.length() + self.table.verticalScrollBar().sizeHint().width()
                             + 2 * self.table.frameWidth() + 24)
        self.map.set_symbols(config.symbols)
        self.title.setText(f"Watchlist <span style='color:{theme.MUTED}'>"
                           f"{len(config.symbols):,}</span>")
        self.refresh()

    def refresh(self) -> None:
        if self.model is None or not self.isVisible():
            return
        data = self.sampler.data
        if len(data.symbols) != len(self.model.symbols):
            return  # the sampler has not taken the new symbols yet
        values = data.watch()
        if self.session is not None:
            values["position"] = self.positions()
        self.model.update(values, data.last_sentiment,
                          (self.config.bullish, self.config.bearish))
        self.map.update(values["change"])
        self.map.select(self.sampler.selected)
        s = self.map.scale
        self.scale_label.setText(
            f"A cell a symbol: change since its first price, "
            f"<span style='color:{theme.SELL}'>\u25a0</span>\u00a0\u2212{s:.2f}%\u00a0\u2026\u00a0"
            f"<span style='color:{theme.BUY}'>\u25a0</span>\u00a0+{s:.2f}%. Click to chart it.")

    def positions(self) -> np.ndarray:
        """The picked account's position in every symbol, in the watchlist's order."""
        out = np.zeros(len(self.model.symbols), dtype=np.int64)
        index = self.model.index_of
        for sym, q in self.session.positions_of(self.session.picked).items():
            j = index.get(sym)
            if j is not None:
                out[j] = q
        return out

    def pick(self, symbol: str) -> None:
        """Chart `symbol` and show its row (clearing a filter that hides it)."""
        self.sampler.select(symbol)
        if self.model is None:
            return
        row = self.model.row_of(symbol)
        if row < 0 and (self.filter_box.text() or self.held_box.isChecked()):
            self.filter_box.clear()
            self.held_box.setChecked(False)
            row = self.model.row_of(symbol)
        if row >= 0:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))
        self.map.select(symbol)

    def show_symbol(self, symbol: str) -> None:
        """`symbol` is selected (picked anywhere): its row selected, its cell marked."""
        if self.model is None:
            return
        row = self.model.row_of(symbol)
        if row >= 0 and self.table.currentIndex().row() != row:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))
        self.map.select(symbol)

    def _on_row(self, current, _previous) -> None:
        sym = self.model.symbol_at(current.row()) if self.model else None
        if sym is not None and sym != self.sampler.selected:
            self.sampler.select(sym)
            self.map.select(sym)

    def _on_filter(self, *_args) -> None:
        if self.model is not None:
            self.model.set_filter(self.filter_box.text(), self.held_box.isChecked())
