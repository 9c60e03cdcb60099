"""The Strategy's rules for a whole universe at once: `SignalEngine` (signals.py) as array
operations, so a round of 5,000 prices costs a few dozen NumPy calls instead of 5,000 trips
through Python.

The rules and the arithmetic are those of `SignalEngine`, decision for decision
(tests/test_vector_signals.py runs both over random paths and compares every order):
* prices in exact integer micro-units (`np.rint(price * SCALE)`, which rounds as `round()`);
* one ring of the last `long_window` prices per symbol (a row of a 2-D array) with exact
  int64 running sums of the short and the long window;
* the crossover compares short_sum * long_count with long_sum * short_count, exactly: once a
  price is so large that these products could leave int64 (millions of dollars with windows
  in the thousands), the engine keeps its sums as Python integers (dtype=object) from then on,
  as the per-symbol engine always does;
* the sentiment gate and the position moves of `SignalEngine.target_position`.

A round passes the rows that got a new price (each at most once: shared memory holds only the
latest price of a symbol) and gets back the orders in row order, which is the order the
per-symbol engine would decide them in.
"""
from __future__ import annotations

from typing import Iterable, List, Optional, Tuple

import numpy as np

from .signals import SCALE, OrderIntent

# products of sums and counts below this stay exact in int64
_SAFE = 1 << 62


class VectorSignalEngine:
    def __init__(self, symbols: Iterable[str], short_window: int = 5, long_window: int = 20,
                 bullish: int = 60, bearish: int = 40, qty: int = 10):
        if not 1 <= short_window < long_window:
            raise ValueError("need 1 <= short_window < long_window")
        self.symbols: Tuple[str, ...] = tuple(symbols)
        self.index = {s: i for i, s in enumerate(self.symbols)}
        n = len(self.symbols)
        self.short_window, self.long_window = short_window, long_window
        self.bullish, self.bearish, self.qty = bullish, bearish, qty
        self.sentiment: Optional[int] = None
        self.ring = np.zeros((n, long_window), dtype=np.int64)
        self.pushed = np.zeros(n, dtype=np.int64)     # prices seen per symbol
        self.short_sum = np.zeros(n, dtype=np.int64)
        self.long_sum = np.zeros(n, dtype=np.int64)
        self.positions = np.zeros(n, dtype=np.int64)
        self.last_price = np.full(n, np.nan)
        self.exact = False  # sums as Python integers (prices too large for int64 products)

    # -- events -------------------------------------------------------------------------------
    def on_sentiment(self, value: int) -> None:
        self.sentiment = value

    def on_prices(self, rows: np.ndarray, prices: np.ndarray,
                  trade: bool = True) -> List[OrderIntent]:
        """Feed one new price for each of `rows` (distinct row indexes, ascending for the
        per-symbol order); returns the orders to send, in row order (none with trade=False,
        which only updates the means). Positions move at once (`on_rejected` undoes one)."""
        rows = np.asarray(rows, dtype=np.intp)
        if not len(rows):
            return []
        prices = np.asarray(prices, dtype=np.float64)
        self._push(rows, self._scaled(prices))
        self.last_price[rows] = prices
        return self.decide(rows) if trade else []

    def _scaled(self, prices: np.ndarray) -> np.ndarray:
        """Prices in micro-units, rounded as round() does (half to even)."""
        scaled = np.rint(prices * SCALE)
        if not self.exact and not float(scaled.max()) * self.short_window * self.long_window \
                < _SAFE:  # (also inf)
            self.exact = True
            self.ring = self.ring.astype(object)
            self.short_sum = self.short_sum.astype(object)
            self.long_sum = self.long_sum.astype(object)
        if self.exact:
            return np.array([round(p * SCALE) for p in prices.tolist()], dtype=object)
        return scaled.astype(np.int64)

    def _push(self, rows: np.ndarray, scaled: np.ndarray) -> None:
        S, L = self.short_window, self.long_window
        k = self.pushed[rows]
        ring = self.ring
        leaving_long = np.where(k >= L, ring[rows, k % L], 0)
        leaving_short = np.where(k >= S, ring[rows, (k - S) % L], 0)
        self.long_sum[rows] += scaled - leaving_long
        self.short_sum[rows] += scaled - leaving_short
        ring[rows, k % L] = scaled
        self.pushed[rows] = k + 1

    def crossover(self, rows: np.ndarray) -> np.ndarray:
        """+1 short mean above long, -1 below, 0 equal or not enough prices yet."""
        S, L = self.short_window, self.long_window
        k = self.pushed[rows]
        n_short, n_long = np.minimum(k, S), np.minimum(k, L)
        lhs, rhs = self.short_sum[rows] * n_long, self.long_sum[rows] * n_short
        cross = (lhs > rhs).astype(np.int8) - (lhs < rhs).astype(np.int8)
        cross[k < L] = 0
        return cross

    def decide(self, rows: np.ndarray) -> List[OrderIntent]:
        if self.sentiment is None:
            return []
        cross = self.crossover(rows)
        current = self.positions[rows]
        target = current.copy()
        target[(cross > 0) & (self.sentiment > self.bullish)] = self.qty
        target[(cross < 0) & (self.sentiment < self.bearish)] = -self.qty
        moved = np.flatnonzero(target != current)
        if not len(moved):
            return []
        self.positions[rows[moved]] = target[moved]
        delta = (target[moved] - current[moved]).tolist()
        return [OrderIntent("BUY" if d > 0 else "SELL", self.symbols[r], abs(d), p, t)
                for d, r, p, t in zip(delta, rows[moved].tolist(),
                                      self.last_price[rows[moved]].tolist(),
                                      target[moved].tolist())]

    def on_rejected(self, intent: OrderIntent) -> None:
        delta = intent.qty if intent.side == "BUY" else -intent.qty
        self.positions[self.index[intent.symbol]] -= delta

    def set_position(self, symbol: str, shares: int) -> None:
        self.positions[self.index[symbol]] = shares

    # -- views --------------------------------------------------------------------------------
    def means(self, rows: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
        """(short means, long means) of `rows` (all by default), NaN before a first price."""
        if rows is None:
            rows = slice(None)
        k = self.pushed[rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            short = self.short_sum[rows] / np.minimum(k, self.short_window) / SCALE
            long = self.long_sum[rows] / np.minimum(k, self.long_window) / SCALE
        return short.astype(np.float64), long.astype(np.float64)

    def averages(self, symbol: str) -> Tuple[float, float]:
        i = self.index[symbol]
        short, long = self.means(np.array([i]))
        return float(short[0]), float(long[0])

    def position(self, symbol: str) -> int:
        return int(self.positions[self.index[symbol]])
