"""OrderSession: the session's orders as the desk knows them, without Qt. The confirmation
listener (gui/sources/confirmations.py) keeps it: the OrderManager's session state on each
connection, then every confirmation. The views read it: the orders count, positions and
fills per symbol, and the P&L by average cost (engine.trading.pnl) marked to the prices
they are given (the latest in shared memory)."""
from __future__ import annotations

import math
from typing import Dict, Iterable, List, Mapping, Tuple

from engine.protocol import Confirm, SessionState
from engine.trading.pnl import PnLBook


class OrderSession:
    """Orders confirmed in the session, positions, fills and P&L per symbol."""

    def __init__(self):
        self.orders = 0  # confirmed in the session (the OrderManager's count, then each one)
        self.positions: Dict[str, int] = {}
        self.fills: Dict[str, int] = {}
        self.pnl = PnLBook()  # average cost: the OrderManager's session, then every fill

    def confirmed(self, items: Iterable[Tuple[float, Confirm]]) -> List[str]:
        """(received, Confirm) items, oldest first: each is counted; those that are not
        replays (a replayed order is already in the session's totals) move the positions and
        the P&L. Returns the symbols they touched."""
        symbols = []
        for _, c in items:
            self.orders += 1
            symbols.append(c.symbol)
            if c.replay:
                continue
            self.positions[c.symbol] = self.positions.get(c.symbol, 0) + (
                c.qty if c.side == "BUY" else -c.qty)
            self.fills[c.symbol] = self.fills.get(c.symbol, 0) + 1
            self.pnl.fill(c.symbol, c.side, c.qty, c.price)
        return symbols

    def reset_to(self, state: SessionState) -> None:
        """A (re)connection: the OrderManager's totals for the session (every account). Its
        latest orders follow as replays and are counted as they come."""
        self.orders = state.orders - state.replay
        self.positions = dict(state.positions)
        self.fills = dict(state.fills)
        self.pnl = PnLBook()
        self.pnl.seed(state.positions, state.fills, state.pnl or {})

    def position(self, symbol: str) -> int:
        return self.positions.get(symbol, 0)

    def pnl_total(self, marks: Mapping[str, float]) -> float:
        """The session's total P&L marked to `marks`, NaN before its first order."""
        return self.pnl.total(marks)

    def traded(self) -> List[str]:
        """The symbols with a fill, in the order they first traded."""
        return [s for s, n in self.fills.items() if n]


def pnl_color_sign(total: float) -> int:
    """+1, -1 or 0 for a P&L shown in the buy, sell or muted colour (half a cent is 0)."""
    if math.isnan(total):
        return 0
    return 1 if total > 0.005 else -1 if total < -0.005 else 0
