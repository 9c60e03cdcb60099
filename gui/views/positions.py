"""The positions table: a row a symbol, its position, P&L (marked to the last price in shared
memory) and fills, of the account the desk shows (the session's picked one, or every
account)."""
from __future__ import annotations

import math
from typing import Callable, Dict, List, Optional

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QColor

from ..models.session import OrderSession, pnl_color_sign
from . import theme
from .tables import ReadOnlyTable

def sign_color(sign: int) -> str:
    """Gains green, losses red, nothing muted, in the palette in use."""
    return theme.BUY if sign > 0 else theme.SELL if sign < 0 else theme.MUTED


class PositionsModel(ReadOnlyTable):
    """Position, fills and P&L per symbol (the session's, average cost, marked to `marks()`),
    updated in place: a row appears when its symbol first trades (or is
    configured, for a handful of symbols), and only the rows that traded are redrawn."""

    COLUMNS = ("Symbol", "Pos", "P&L", "Fills")
    WHAT = "positions table"
    ROLES = ReadOnlyTable.ROLES | {Qt.ItemDataRole.ToolTipRole}

    def __init__(self, session: OrderSession, marks: Callable[[], Dict[str, float]] = dict,
                 parent: Optional[QObject] = None):
        super().__init__(parent)
        self.session, self.marks = session, marks
        self.symbols: List[str] = []
        self._row: Dict[str, int] = {}

    def _len(self) -> int:
        return len(self.symbols)

    def _data(self, index, role):
        if not index.isValid():
            return None
        sym, col = self.symbols[index.row()], index.column()
        pos = self.session.shown_position(sym)
        if col == 2:
            return self._pnl(sym, role)
        if role == Qt.ItemDataRole.DisplayRole:
            fills = str(self.session.shown_fills(sym))
            return (sym, f"{pos:+,d}" if pos else "0", None, fills)[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 1:
            return QColor(theme.BUY if pos > 0 else theme.SELL if pos < 0 else theme.MUTED)
        if role == Qt.ItemDataRole.TextAlignmentRole and col:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _pnl(self, sym: str, role):
        pnl = self.session.symbol_pnl(sym, self.marks())
        if pnl is None:
            return "" if role == Qt.ItemDataRole.DisplayRole else None
        total, realized, u, average = pnl
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{total:+,.2f}"
        if role == Qt.ItemDataRole.ForegroundRole:
            return theme.qcolor(sign_color(pnl_color_sign(total)))
        if role == Qt.ItemDataRole.ToolTipRole:
            whose = (f"account {self.session.picked}" if self.session.picked is not None
                     else "every account")
            return (f"{sym}, {whose}: average cost {average:,.4f}, realized {realized:+,.2f}, "
                    f"unrealized {'-' if math.isnan(u) else f'{u:+,.2f}'} (marked to the last "
                    f"price in shared memory)")
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def refresh(self) -> None:
        """Another account is shown: every row again."""
        if self.symbols:
            self.dataChanged.emit(self.index(0, 1), self.index(len(self.symbols) - 1, 3))

    def refresh_pnl(self) -> None:
        """Prices move: redraw the P&L column (a handful of rows on screen)."""
        if self.symbols:
            self.dataChanged.emit(self.index(0, 2), self.index(len(self.symbols) - 1, 2))

    def set_symbols(self, symbols: List[str]) -> None:
        self.beginResetModel()
        self.symbols = list(symbols)
        self._row = {s: i for i, s in enumerate(self.symbols)}
        self.endResetModel()

    def changed(self, symbols) -> None:
        """These symbols traded: new rows for new ones, one redraw of the rows that moved."""
        new = [s for s in dict.fromkeys(symbols) if s not in self._row]
        if new:
            first = len(self.symbols)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for s in new:
                self._row[s] = len(self.symbols)
                self.symbols.append(s)
            self.endInsertRows()
        rows = [self._row[s] for s in symbols]
        if rows:
            self.dataChanged.emit(self.index(min(rows), 1), self.index(max(rows), 3))

