"""The Strategy's pure core: rolling means, crossover, sentiment gate, position -> orders.

No sockets, clocks or shared memory in here: the process shell feeds prices and sentiment
and sends what `on_price` returns.

Rules (all in `target_position`):
* a symbol trades only after `long_window` prices;
* bullish when short mean > long mean (strictly) AND sentiment > bullish threshold (strictly):
  the target is +qty (long);
* bearish when short mean < long mean (strictly) AND sentiment < bearish threshold (strictly):
  the target is -qty (short);
* anything else keeps the current position (no order).
An order is sent only to move the position to a new target, so a signal that persists never
repeats an order; a reversal sends the quantity that reaches the new target (2 x qty).

Means are kept incrementally with exact integer sums of prices in micro-units, so equal
averages compare as equal (no floating drift over hours of running sums).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Dict, Iterable, Optional

SCALE = 1_000_000  # prices are compared in micro-units


class RollingMean:
    """Mean of the last `window` values, updated in O(1) with an exact integer sum."""

    __slots__ = ("window", "_values", "_sum")

    def __init__(self, window: int):
        if window < 1:
            raise ValueError("window must be >= 1")
        self.window = window
        self._values: deque = deque()
        self._sum = 0

    def push(self, scaled: int) -> None:
        self._values.append(scaled)
        self._sum += scaled
        if len(self._values) > self.window:
            self._sum -= self._values.popleft()

    @property
    def full(self) -> bool:
        return len(self._values) >= self.window

    @property
    def sum(self) -> int:
        return self._sum

    @property
    def count(self) -> int:
        return len(self._values)

    @property
    def mean(self) -> float:
        return self._sum / len(self._values) / SCALE if self._values else float("nan")


@dataclass(frozen=True)
class OrderIntent:
    side: str
    symbol: str
    qty: int
    price: float
    target: int  # position after this order


FLAT, LONG, SHORT = "flat", "long", "short"


def position_label(shares: int) -> str:
    return LONG if shares > 0 else SHORT if shares < 0 else FLAT


class SymbolState:
    __slots__ = ("short", "long", "position", "last_price")

    def __init__(self, short_window: int, long_window: int):
        self.short = RollingMean(short_window)
        self.long = RollingMean(long_window)
        self.position = 0
        self.last_price = float("nan")

    def crossover(self) -> int:
        """+1 short above long, -1 below, 0 equal or not enough data. Exact comparison."""
        if not self.long.full:
            return 0
        # short_sum/short_n vs long_sum/long_n without division
        lhs = self.short.sum * self.long.count
        rhs = self.long.sum * self.short.count
        return (lhs > rhs) - (lhs < rhs)


class SignalEngine:
    def __init__(self, symbols: Iterable[str], short_window: int = 5, long_window: int = 20,
                 bullish: int = 60, bearish: int = 40, qty: int = 10):
        if not 1 <= short_window < long_window:
            raise ValueError("need 1 <= short_window < long_window")
        self.short_window, self.long_window = short_window, long_window
        self.bullish, self.bearish, self.qty = bullish, bearish, qty
        self.sentiment: Optional[int] = None
        self.state: Dict[str, SymbolState] = {
            s: SymbolState(short_window, long_window) for s in symbols}

    # events ---------------------------------------------------------------------
    def on_sentiment(self, value: int) -> None:
        self.sentiment = value

    def on_price(self, symbol: str, price: float, trade: bool = True) -> Optional[OrderIntent]:
        """Feed one price; returns the order to send, if any (never with trade=False, which
        only updates the means). Position moves at once (call `on_rejected` if the
        OrderManager refuses it)."""
        st = self.state[symbol]
        scaled = round(price * SCALE)
        st.short.push(scaled)
        st.long.push(scaled)
        st.last_price = price
        return self.decide(symbol) if trade else None

    def decide(self, symbol: str) -> Optional[OrderIntent]:
        st = self.state[symbol]
        target = self.target_position(st.crossover(), self.sentiment, st.position)
        if target == st.position:
            return None
        delta = target - st.position
        st.position = target
        return OrderIntent("BUY" if delta > 0 else "SELL", symbol, abs(delta), st.last_price,
                           target)

    def target_position(self, cross: int, sentiment: Optional[int], current: int) -> int:
        if sentiment is None:
            return current
        if cross > 0 and sentiment > self.bullish:
            return self.qty
        if cross < 0 and sentiment < self.bearish:
            return -self.qty
        return current

    def on_rejected(self, intent: OrderIntent) -> None:
        """The OrderManager refused the order: the position did not move."""
        delta = intent.qty if intent.side == "BUY" else -intent.qty
        self.state[intent.symbol].position -= delta

    def set_position(self, symbol: str, shares: int) -> None:
        """Recovered position (e.g. from the OrderManager after a restart)."""
        self.state[symbol].position = shares

    # views ----------------------------------------------------------------------
    def averages(self, symbol: str):
        st = self.state[symbol]
        return st.short.mean, st.long.mean

    def position(self, symbol: str) -> int:
        return self.state[symbol].position
