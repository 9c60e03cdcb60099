"""OrderSession: the session's orders as the desk knows them, without Qt. The confirmation
listener (gui/sources/confirmations.py) keeps it: the OrderManager's session state on each
connection, then every confirmation. The views read it: the orders count, positions and
fills per symbol, and the P&L by average cost (engine.trading.pnl) marked to the prices
they are given (the latest in shared memory), for the whole session or one account (each
Strategy's, 'anon' for plain peers; the session's P&L is the sum of its accounts').

`picked` is the account the desk shows (None: every account): the orders filter sets it, the
positions, the watchlist's position column and the header follow it."""
from __future__ import annotations

import math
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Tuple

from engine.protocol import Confirm, SessionState
from engine.trading.pnl import AccountBooks, PnLBook

NO_ACCOUNT = ""  # confirmations of an OrderManager that names no account


class OrderSession:
    """Orders confirmed in the session, positions, fills and P&L per symbol, per account."""

    def __init__(self):
        self.orders = 0  # confirmed in the session (the OrderManager's count, then each one)
        self.positions: Dict[str, int] = {}  # every account's, net
        self.fills: Dict[str, int] = {}
        self.books = AccountBooks()  # average cost: the session's, then every fill
        self.account_orders: Dict[str, int] = {}  # orders confirmed, by account
        self.picked: Optional[str] = None
        self._on_pick: List[Callable[[Optional[str]], None]] = []

    @property
    def pnl(self) -> PnLBook:
        """The book of what is shown: the picked account's, or the net of every account."""
        return self.books.book(self.picked)

    # -- what comes in ------------------------------------------------------------------
    def confirmed(self, items: Iterable[Tuple[float, Confirm]]) -> List[str]:
        """(received, Confirm) items, oldest first: each is counted; those that are not
        replays (a replayed order is already in the session's totals) move the positions and
        the P&L. Returns the symbols they touched."""
        symbols = []
        for _, c in items:
            account = c.account or NO_ACCOUNT
            self.orders += 1
            symbols.append(c.symbol)
            if c.replay:  # (already in the state's counts)
                continue
            self.account_orders[account] = self.account_orders.get(account, 0) + 1
            self.positions[c.symbol] = self.positions.get(c.symbol, 0) + (
                c.qty if c.side == "BUY" else -c.qty)
            self.fills[c.symbol] = self.fills.get(c.symbol, 0) + 1
            self.books.fill(account, c.symbol, c.side, c.qty, c.price)
        return symbols

    def reset_to(self, state: SessionState) -> None:
        """A (re)connection: the OrderManager's totals for the session (every account, and
        each account's when it says them). Its latest orders follow as replays and are
        counted as they come."""
        self.orders = state.orders - state.replay
        self.positions = dict(state.positions)
        self.fills = dict(state.fills)
        self.books = AccountBooks()
        self.books.net.seed(state.positions, state.fills, state.pnl or {})
        accounts = state.accounts or {}
        if not accounts and (state.positions or state.fills):  # an OrderManager without
            accounts = {NO_ACCOUNT: {"positions": state.positions, "fills": state.fills,
                                     "pnl": state.pnl or {}}}  # accounts: one book
        self.account_orders = {}
        for account, book in accounts.items():
            b = self.books.books[account] = PnLBook()
            b.seed(book.get("positions", {}), book.get("fills", {}), book.get("pnl", {}))
            self.account_orders[account] = sum(book.get("fills", {}).values())

    # -- what the views read ----------------------------------------------------------------
    def accounts(self) -> List[str]:
        """Every account with an order in the session, in the order they first came."""
        return [a for a in self.books.books if a != NO_ACCOUNT or len(self.books.books) == 1]

    def position(self, symbol: str, account: Optional[str] = None) -> int:
        """The position in `symbol` of `account` (None: every account's, net)."""
        if account is None:
            return self.positions.get(symbol, 0)
        h = self.books.book(account).holdings.get(symbol)
        return h.position if h is not None else 0

    def positions_of(self, account: Optional[str] = None) -> Dict[str, int]:
        """{symbol: position} of `account` (None: every account's, net)."""
        if account is None:
            return self.positions
        return {s: h.position for s, h in self.books.book(account).holdings.items()}

    def shown_position(self, symbol: str) -> int:
        """The position of the picked account (or the net of every account)."""
        return self.position(symbol, self.picked)

    def shown_fills(self, symbol: str) -> int:
        if self.picked is None:
            return self.fills.get(symbol, 0)
        h = self.books.book(self.picked).holdings.get(symbol)
        return h.fills if h is not None else 0

    def symbol_pnl(self, symbol: str, marks: Mapping[str, float]) -> Optional[tuple]:
        """(total, realized, unrealized or NaN, average) of one symbol for the picked account,
        or over every account (their sums; the average of the net position); None when it
        never traded there."""
        books = [self.books.book(self.picked)] if self.picked is not None else \
            list(self.books.books.values()) or [self.books.net]
        held = [b.holdings[symbol] for b in books if symbol in b.holdings]
        if not held:
            return None
        mark = marks.get(symbol)
        realized = sum(h.realized for h in held)
        unreal = [h.unrealized(mark) for h in held]
        u = math.nan if any(math.isnan(x) for x in unreal) else sum(unreal)
        net = self.books.book(self.picked).holdings.get(symbol) or held[0]
        return (round(realized + (0.0 if math.isnan(u) else u), 2), round(realized, 2),
                u if math.isnan(u) else round(u, 2), net.average)

    def pnl_total(self, marks: Mapping[str, float], account: Optional[str] = None) -> float:
        """The total P&L of `account` (None: the session's, the sum of its accounts')
        marked to `marks`, NaN before its first order."""
        if account is None:
            if self.books.books:
                return self.books.total(marks)
            return self.books.net.total(marks)
        return self.books.book(account).total(marks)

    def account_pnls(self, marks: Mapping[str, float]) -> Dict[str, float]:
        """{account: total P&L} of every account, in the order they first came."""
        return {a: self.books.books[a].total(marks) for a in self.accounts()}

    def traded(self) -> List[str]:
        """The symbols with a fill, in the order they first traded."""
        return [s for s, n in self.fills.items() if n]

    # -- the picked account -----------------------------------------------------------------
    def pick(self, account: Optional[str]) -> None:
        """Show `account` (None: every account); those who subscribed are told."""
        if account == self.picked:
            return
        self.picked = account
        for fn in list(self._on_pick):
            fn(account)

    def on_pick(self, fn: Callable[[Optional[str]], None]) -> None:
        self._on_pick.append(fn)


def pnl_color_sign(total: float) -> int:
    """+1, -1 or 0 for a P&L shown in the buy, sell or muted colour (half a cent is 0)."""
    if math.isnan(total):
        return 0
    return 1 if total > 0.005 else -1 if total < -0.005 else 0
