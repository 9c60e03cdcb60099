"""Profit and loss from fills, by the average-cost method, in one pure place (no I/O): the
desk, the headless summary and the OrderManager's positions all use it.

Average cost, per symbol:
* a fill in the direction of the position (or from flat) adds to it, and the average entry
  price becomes the quantity-weighted mean of the old average and the fill's price;
* a fill against the position closes up to its size: each closed share realizes
  (fill price - average) for a long, (average - fill price) for a short; the average of
  what stays open does not change;
* what is left of a fill larger than the position (a reversal) opens the other way at the
  fill's price;
* unrealized P&L marks the open position to a price (the latest in shared memory):
  position x (mark - average).

Realized P&L is kept in whole cents (each close rounded once), so sums over thousands of fills
do not drift; the average entry price is a float (a mean of cent prices).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Tuple


@dataclass
class Holding:
    """One symbol: shares held (negative: short), their average entry price, the P&L
    realized so far (in cents) and how many fills made it."""
    position: int = 0
    average: float = 0.0
    realized_cents: int = 0
    fills: int = 0

    @property
    def realized(self) -> float:
        return self.realized_cents / 100

    def unrealized(self, mark: Optional[float]) -> float:
        """P&L of the open position at `mark` (NaN without a mark while something is open)."""
        if not self.position:
            return 0.0
        if mark is None or not math.isfinite(mark):
            return math.nan
        return round(self.position * (mark - self.average), 2)

    def fill(self, side: str, qty: int, price: float) -> int:
        """Apply one fill; returns the cents it realized."""
        if qty <= 0:
            raise ValueError("a fill has a positive quantity")
        signed = qty if side == "BUY" else -qty
        self.fills += 1
        pos = self.position
        if pos == 0 or (pos > 0) == (signed > 0):  # opens or adds
            total = abs(pos) + qty
            self.average = (abs(pos) * self.average + qty * price) / total
            self.position = pos + signed
            return 0
        closed = min(qty, abs(pos))
        direction = 1 if pos > 0 else -1
        realized = round(direction * closed * (price - self.average) * 100)
        self.realized_cents += realized
        self.position = pos + signed
        if self.position == 0:
            self.average = 0.0
        elif (self.position > 0) != (pos > 0):  # reversed: the rest opens at the fill
            self.average = price
        return realized


class PnLBook:
    """Every symbol's holding, from fills in order."""

    def __init__(self):
        self.holdings: Dict[str, Holding] = {}

    def fill(self, symbol: str, side: str, qty: int, price: float) -> int:
        return self.holdings.setdefault(symbol, Holding()).fill(side, qty, price)

    def seed(self, positions: Mapping[str, int], fills: Mapping[str, int],
             pnl: Mapping[str, list]) -> None:
        """Start from a session's totals (the OrderManager's state: position, fills, and
        [average, realized cents] per symbol) instead of its whole history."""
        self.holdings = {}
        for sym in set(positions) | set(fills) | set(pnl):
            average, realized = (pnl.get(sym) or (0.0, 0))[:2]
            self.holdings[sym] = Holding(int(positions.get(sym, 0)), float(average),
                                         int(realized), int(fills.get(sym, 0)))

    def fills_from(self, records: Iterable[Mapping]) -> "PnLBook":
        """Apply records with side, symbol, qty and price (orders.jsonl lines, confirms)."""
        for r in records:
            self.fill(r["symbol"], r["side"], int(r["qty"]), float(r["price"]))
        return self

    def totals(self, marks: Mapping[str, float]) -> Tuple[float, float, List[str]]:
        """(realized, unrealized at `marks`, symbols open without a mark): the session's
        figures without a row per symbol (the desk asks twice a second, 5,000 symbols too)."""
        realized = unrealized = 0.0
        unmarked = []
        for sym, h in sorted(self.holdings.items()):
            u = h.unrealized(marks.get(sym))
            if math.isnan(u):
                unmarked.append(sym)
            else:
                unrealized += u
            realized += h.realized
        return round(realized, 2), round(unrealized, 2), unmarked

    def total(self, marks: Mapping[str, float]) -> float:
        """Realized plus unrealized P&L of the session (NaN before its first fill)."""
        if not self.holdings:
            return math.nan
        realized, unrealized, _ = self.totals(marks)
        return round(realized + unrealized, 2)

    def summary(self, marks: Mapping[str, float]) -> dict:
        """Per symbol and in total: position, average, realized, unrealized (at `marks`),
        total P&L; what the headless summary writes as `pnl`."""
        rows = {}
        for sym, h in sorted(self.holdings.items()):
            u = h.unrealized(marks.get(sym))
            rows[sym] = {"position": h.position, "average": round(h.average, 4),
                         "realized": h.realized, "unrealized": None if math.isnan(u) else u,
                         "total": round(h.realized + (0.0 if math.isnan(u) else u), 2),
                         "fills": h.fills}
        realized, unrealized, unmarked = self.totals(marks)
        return {"method": "average cost", "symbols": rows, "realized": realized,
                "unrealized": unrealized, "total": round(realized + unrealized, 2),
                "unmarked": unmarked}


class AccountBooks:
    """A PnLBook per account (each Strategy's, and 'anon' for orders nobody claimed) and the
    session as their sum. P&L is an account's: the session's realized, unrealized and total
    are the sums of its accounts' (so they add up exactly, cent for cent); per symbol, the
    position and fills are summed too, and the average is that of the net position (one
    book of every fill, `net`)."""

    def __init__(self):
        self.books: Dict[str, PnLBook] = {}
        self.net = PnLBook()

    def fill(self, account: str, symbol: str, side: str, qty: int, price: float) -> None:
        self.books.setdefault(account or "", PnLBook()).fill(symbol, side, qty, price)
        self.net.fill(symbol, side, qty, price)

    def fills_from(self, records: Iterable[Mapping]) -> "AccountBooks":
        """Records with side, symbol, qty, price and account (orders.jsonl lines)."""
        for r in records:
            self.fill(str(r.get("account") or ""), r["symbol"], r["side"], int(r["qty"]),
                      float(r["price"]))
        return self

    def book(self, account: Optional[str]) -> PnLBook:
        """One account's book (None: the net book of the whole session)."""
        if account is None:
            return self.net
        return self.books.get(account) or PnLBook()

    def totals(self, marks: Mapping[str, float]) -> Tuple[float, float, List[str]]:
        """(realized, unrealized, symbols open without a mark) of the session: its
        accounts' added up."""
        realized = unrealized = 0.0
        unmarked: set = set()
        for book in self.books.values():
            r, u, um = book.totals(marks)
            realized, unrealized = realized + r, unrealized + u
            unmarked.update(um)
        return round(realized, 2), round(unrealized, 2), sorted(unmarked)

    def total(self, marks: Mapping[str, float]) -> float:
        if not self.books:
            return math.nan
        realized, unrealized, _ = self.totals(marks)
        return round(realized + unrealized, 2)

    def summary(self, marks: Mapping[str, float]) -> dict:
        """PnLBook.summary's shape for the session (the sums of its accounts)."""
        parts = [b.summary(marks) for b in self.books.values()]
        rows: Dict[str, dict] = {}
        for part in parts:
            for sym, r in part["symbols"].items():
                row = rows.setdefault(sym, {"position": 0, "average": 0.0, "realized": 0.0,
                                            "unrealized": 0.0, "total": 0.0, "fills": 0})
                row["position"] += r["position"]
                row["fills"] += r["fills"]
                row["realized"] = round(row["realized"] + r["realized"], 2)
                row["total"] = round(row["total"] + r["total"], 2)
                row["unrealized"] = (None if row["unrealized"] is None or r["unrealized"] is None
                                     else round(row["unrealized"] + r["unrealized"], 2))
        for sym, row in rows.items():
            h = self.net.holdings.get(sym)
            row["average"] = round(h.average, 4) if h is not None else 0.0
        realized, unrealized, unmarked = self.totals(marks)
        return {"method": "average cost", "symbols": dict(sorted(rows.items())),
                "realized": realized, "unrealized": unrealized,
                "total": round(realized + unrealized, 2), "unmarked": unmarked}
