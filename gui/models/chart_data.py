"""What the charts show, without Qt: the history the desk keeps of shared memory, and the
numbers each frame draws from it.

Shared memory holds only the latest price of each symbol, so every frame `ChartData.sample`
copies what changed into preallocated rings (at most one row a frame); `pct_view`, `ma_view`
and `sentiment_view` hand out the samples in a time window (views, not copies), `fit` the y
range of what is in view, `values_at` what a crosshair reads. plain pytest drives it
(tests/test_chart_model.py)."""
from __future__ import annotations

import math
from collections import deque
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .desk import feed_state
from .ring import Ring

MAX_MARKERS = 2000
EQUITY_EVERY_S = 0.5
SENTIMENT_REPEAT_S = 0.25
# Up to this many symbols every symbol is a line of its own; past it the desk shows a
# universe: a watchlist, a map of the whole universe and the top and bottom movers.
SMALL_UNIVERSE = 10
MOVERS = 5  # best and worst symbols drawn as lines in a universe
# Floats the all-symbols history may hold (prices and both MAs; the ring keeps each twice):
# 3,000,000 are 48 MB. Past that the history of all symbols is sampled less often than
# every frame (5,000 symbols: every 0.5 s over 10 minutes); the selected symbol is kept
# at every frame in a history of its own (`focus`).
HISTORY_VALUES = 3_000_000


def first_finite(values: np.ndarray) -> np.ndarray:
    """Per column, the first finite value (NaN when there is none)."""
    if not len(values):
        return np.full(values.shape[1], np.nan)
    ok = np.isfinite(values)
    idx = ok.argmax(axis=0)
    base = values[idx, np.arange(values.shape[1])]
    base[~ok.any(axis=0)] = np.nan
    return base


def visible(t: np.ndarray, left: float, right: float) -> slice:
    """Indexes of the samples in view, plus one on each side so lines reach the edges."""
    i0 = max(int(np.searchsorted(t, left)) - 1, 0)
    i1 = min(int(np.searchsorted(t, right)) + 1, len(t))
    return slice(i0, i1)


def fit(arrays, min_span: float) -> Optional[Tuple[float, float]]:
    """(low, high) around the finite values of `arrays`, padded by 8 %, at least `min_span`
    tall; None when nothing is finite."""
    lo, hi = math.inf, -math.inf
    for a in arrays:
        if a is None:
            continue
        flat = np.ravel(a)
        if not flat.size:
            continue
        a_lo, a_hi = np.fmin.reduce(flat), np.fmax.reduce(flat)  # NaN-skipping, quiet
        if math.isfinite(a_lo) and math.isfinite(a_hi):
            lo, hi = min(lo, a_lo), max(hi, a_hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    if hi - lo < min_span:
        mid = (hi + lo) / 2
        lo, hi = mid - min_span / 2, mid + min_span / 2
    pad = (hi - lo) * 0.08
    return lo - pad, hi + pad


class ChartData:
    """The history the charts draw from, for one list of symbols."""

    def __init__(self, symbols: Sequence[str], history_s: float, fps: int):
        self.symbols: List[str] = list(symbols)
        n = len(self.symbols)
        self.universe = n > SMALL_UNIVERSE
        full = int(history_s * fps) + 16
        cap = max(min(full, HISTORY_VALUES // (3 * n)), 64)
        # seconds between rows of the all-symbols history (0: every frame that has news)
        self.sample_every = history_s / cap if cap < full else 0.0
        self.prices = Ring(cap, n)
        self.mas = Ring(cap, 2 * n)  # short MAs, then long MAs
        self.focus = Ring(full, 3)   # the selected symbol at every frame: price, short, long
        self.focus_col = 0
        self.sentiment = Ring(int(history_s / SENTIMENT_REPEAT_S * 2) + 16, 1)
        # the session's total P&L (an equity curve), sampled twice a second
        self.equity = Ring(int(history_s / EQUITY_EVERY_S) + 16, 1)
        self.account_equity: Dict[str, Ring] = {}  # each account's, once there are several
        self.equity_fills: deque = deque(maxlen=MAX_MARKERS)  # (time, buy)
        self.markers: Dict[str, deque] = {s: deque(maxlen=MAX_MARKERS) for s in self.symbols}
        self._fill_ids: set = set()
        self.fills_added = 0  # fills taken so far (a view redraws its markers when it moves)
        self._pct = np.full((min(n, 2 * MOVERS) if self.universe else n, 2 * cap), np.nan)
        # the latest of everything, for the watchlist and the map
        self.last = np.full(n, np.nan)
        self.first = np.full(n, np.nan)  # the first price the desk saw of each symbol
        self.short = np.full(n, np.nan)
        self.long = np.full(n, np.nan)
        self.position = np.zeros(n, dtype=np.int64)
        self.last_sentiment: Optional[int] = None
        self.feed = "off"
        self.samples = 0
        self._last_row_t = self._last_ma_t = -math.inf
        self._gap = False
        self.reset_sources()

    def reset_sources(self) -> None:
        """New books (a new controller): read them afresh."""
        self._book = self._sig = None
        self._last_count = self._last_sig_count = -1
        self._last_sent, self._last_sent_t = None, 0.0

    # -- sampling -------------------------------------------------------------------------
    def sample(self, now: float, book, sig, strategy_running: bool) -> bool:
        """Copy what changed in the books into the rings; True when anything was added."""
        if book is not self._book:
            self._book, self._last_count = book, -1
            if book is not None:
                self._book_rows = np.array([book.index.get(s, 0) for s in self.symbols])
        if sig is not self._sig:
            self._sig, self._last_sig_count = sig, -1
            if sig is not None:
                self._sig_rows = np.array([sig.index.get(s, 0) for s in self.symbols])
        self.feed = feed_state(book)
        if self.feed in ("stale", "off") and self.prices.count and not self._gap:
            self._gap = True  # no data now: every line stops here, none joins across it
            self._break(now)
        changed = False
        if book is not None:
            count = book.update_counter
            if count != self._last_count and count:
                self._last_count = count
                self._gap = False
                self.last = book.snapshot()["price"][self._book_rows]
                new = np.isnan(self.first)
                self.first[new] = self.last[new]
                if now - self._last_row_t >= self.sample_every:
                    self._last_row_t = now
                    self.prices.append(now, self.last)
                self.samples += 1
                changed = True
        if sig is not None:
            changed |= self._sample_signals(now, sig, strategy_running)
        if changed and not self._gap:  # (in a gap the averages stand still: not drawn)
            j = self.focus_col
            self.focus.append(now, (self.last[j], self.short[j], self.long[j]))
        return changed

    def _sample_signals(self, now: float, sig, strategy_running: bool) -> bool:
        changed = False
        sent, rows = sig.read_all()
        count = sig.update_counter
        if count != self._last_sig_count and count:
            self._last_sig_count = count
            rows = rows[self._sig_rows]
            self.short, self.long = rows["short_ma"], rows["long_ma"]
            self.position = rows["position"]
            # in a gap the Strategy still publishes averages of prices that do not come:
            # drawn, they would be a flat line across it (the price line breaks)
            if not self._gap and now - self._last_ma_t >= self.sample_every:
                self._last_ma_t = now
                self.mas.append(now, np.concatenate((self.short, self.long)))
            changed = True
        self.last_sentiment = sent
        if sent is not None and (sent != self._last_sent or (
                strategy_running and not self._gap
                and now - self._last_sent_t >= SENTIMENT_REPEAT_S)):
            self.sentiment.append(now, (float(sent),))
            self._last_sent, self._last_sent_t = sent, now
            changed = True
        return changed

    def _break(self, now: float) -> None:
        """A row of NaN where a gap begins (feed stale, Gateway or OrderBook stopped): lines
        drawn with connect="finite" stop at the last sample before the gap and start again
        after it, never joining both sides; the averages and the sentiment's repeats wait
        for the feed (a new sentiment value is still drawn: the news may flow)."""
        t = now
        self.prices.append(t, np.full(len(self.symbols), np.nan))
        self.mas.append(t, np.full(2 * len(self.symbols), np.nan))
        self.focus.append(t, (np.nan, np.nan, np.nan))
        if self.sentiment.count:
            self.sentiment.append(t, (np.nan,))

    def add_equity(self, now: float, total: float,
                   accounts: Optional[Dict[str, float]] = None) -> None:
        """The session's total P&L at `now` (NaN while nothing has traded), and each
        account's when there are several (an account's curve starts where it first traded)."""
        self.equity.append(now, (total,))
        for account, value in (accounts or {}).items():
            ring = self.account_equity.get(account)
            if ring is None:
                ring = self.account_equity[account] = Ring(self.equity.capacity, 1)
            ring.append(now, (value,))

    def account_equity_view(self) -> Dict[str, tuple]:
        """{account: (times, P&L)} of every account's curve, oldest first."""
        out = {}
        for account, ring in self.account_equity.items():
            t, v = ring.view()
            out[account] = (t, v[:, 0])
        return out

    def equity_view(self, left: float, right: float):
        """(times, total P&L) in view, and the fills in view as (times, P&L there, buy)."""
        t, v = self.equity.view()
        sl = visible(t, left, right)
        t, v = t[sl], v[sl, 0]
        fills = [(ft, b) for ft, b in self.equity_fills if left <= ft <= right]
        if not len(t) or not fills:
            return t, v, (np.empty(0), np.empty(0), np.empty(0, dtype=bool))
        ft = np.array([f for f, _ in fills])
        at = np.interp(ft, t, np.nan_to_num(v, nan=0.0))
        return t, v, (ft, at, np.array([b for _, b in fills]))

    def set_focus(self, j: int) -> None:
        """Keep symbol j at every frame from now on; its history so far comes from the
        all-symbols history (as often as that was sampled)."""
        if j == self.focus_col and self.focus.count:
            return
        self.focus_col = j
        self.focus.clear()
        t, v = self.prices.view()
        mt, mv = self.mas.view()
        n = len(self.symbols)
        for i in range(len(t)):
            k = min(max(int(np.searchsorted(mt, t[i], side="right")) - 1, 0), len(mt) - 1)
            short, long_ = (mv[k, j], mv[k, n + j]) if len(mt) else (math.nan, math.nan)
            self.focus.append(t[i], (v[i, j], short, long_))

    def focus_view(self, left: float, right: float):
        """(times, price, short MA, long MA) of the selected symbol in view."""
        t, v = self.focus.view()
        sl = visible(t, left, right)
        return t[sl], v[sl, 0], v[sl, 1], v[sl, 2]

    def watch(self) -> dict:
        """The watchlist's columns, one array each in symbol order: last price, change %
        since the desk's first price of the symbol, the MAs, the signal (+1 short above long,
        -1 below) and the Strategy's position."""
        with np.errstate(invalid="ignore", divide="ignore"):
            change = (self.last / self.first - 1.0) * 100.0
        signal = np.sign(np.nan_to_num(self.short - self.long)).astype(np.int8)
        return {"last": self.last, "change": change, "short": self.short, "long": self.long,
                "signal": signal, "position": self.position}

    @staticmethod
    def movers(change: np.ndarray, k: int = MOVERS) -> List[int]:
        """Columns of the k best and the k worst symbols by `change` (from `changes`; best
        first, then worst last): the lines a universe draws."""
        ok = np.flatnonzero(np.isfinite(change))
        if len(ok) <= 2 * k:
            return ok[np.argsort(-change[ok], kind="stable")].tolist()
        order = ok[np.argsort(-change[ok], kind="stable")]
        return order[:k].tolist() + order[-k:].tolist()

    # -- fills --------------------------------------------------------------------------
    def add_fill(self, t: float, symbol: str, price: float, buy: bool,
                 order_id: Optional[int] = None) -> None:
        """A fill marker; an order the OrderManager sends again (on a reconnect) only once."""
        if order_id is not None:
            if order_id in self._fill_ids:
                return
            self._fill_ids.add(order_id)
        self.fills_added += 1
        self.equity_fills.append((t, buy))
        self.markers.setdefault(symbol, deque(maxlen=MAX_MARKERS)).append((t, price, buy))

    def fills(self, symbol: str) -> Tuple[np.ndarray, np.ndarray]:
        """(buys, sells) of a symbol, each an (n, 2) array of time and price."""
        m = self.markers.get(symbol)
        if not m:
            empty = np.empty((0, 2))
            return empty, empty
        arr = np.array(m, dtype=float)
        buy = arr[:, 2] > 0
        return arr[buy, :2], arr[~buy, :2]

    def marker_count(self, symbol: Optional[str] = None) -> int:
        if symbol is None:
            return sum(len(d) for d in self.markers.values())
        return len(self.markers.get(symbol, ()))

    # -- what a frame draws ---------------------------------------------------------------
    def pct_view(self, left: float, right: float, cols: Optional[List[int]] = None):
        """(times, % change from the window's left edge per symbol [n, k], prices [k, n]) of
        the samples in view, for every symbol or only `cols` (a universe's movers); the % change
        array is reused from frame to frame."""
        t, v = self.prices.view()
        sl = visible(t, left, right)
        t, v = t[sl], v[sl]
        k = len(t)
        rows = len(cols) if cols is not None else v.shape[1]
        if not k:
            return t, self._pct[:rows, :0], v
        sub = v if cols is None else v[:, cols]
        base = first_finite(sub[1:] if k > 1 and t[0] < left else sub)
        pct = self._pct[:rows, :k]
        np.divide(sub.T, base[:, None], out=pct)
        pct -= 1.0
        pct *= 100.0
        return t, pct, v

    def ma_view(self, left: float, right: float, j: int):
        """(times, short MA, long MA) of symbol j in view; None when there is none."""
        mt, mv = self.mas.view()
        sl = visible(mt, left, right)
        if sl.stop <= sl.start:
            return None
        return mt[sl], mv[sl, j], mv[sl, len(self.symbols) + j]

    def sentiment_view(self, left: float, right: float):
        st, sv = self.sentiment.view()
        sl = visible(st, left, right)
        return st[sl], sv[sl, 0]

    def changes(self, left: float) -> Tuple[np.ndarray, np.ndarray]:
        """(latest prices, % change from the window's left edge) of every symbol, as arrays
        (a change is 0 where there is no price to start from, NaN where there is no price)."""
        t, v = self.prices.view()
        if not len(t):
            empty = np.full(len(self.symbols), np.nan)
            return empty, empty.copy()
        base = first_finite(v[min(int(np.searchsorted(t, left)), len(t) - 1):])
        last = v[-1]
        with np.errstate(invalid="ignore", divide="ignore"):
            change = np.where(np.isfinite(base) & (base != 0), (last / base - 1) * 100, 0.0)
        change[np.isnan(last)] = np.nan
        return last.copy(), change

    def values_at(self, x: float, left: float, cols: Optional[List[int]] = None) -> dict:
        """What a crosshair at time x reads: each symbol's (or each of `cols`') price and %
        change, the MAs, the sentiment (NaN where there was none yet)."""
        out = {"prices": [], "short": [], "long": [], "sentiment": math.nan}
        t, v = self.prices.view()
        if len(t):
            i = min(max(int(np.searchsorted(t, x)) - 1, 0), len(t) - 1)
            base = first_finite(v[min(int(np.searchsorted(t, left)), len(t) - 1):])
            out["prices"] = [(v[i, j], (v[i, j] / base[j] - 1) * 100
                              if math.isfinite(base[j]) else 0.0)
                             for j in (range(v.shape[1]) if cols is None else cols)]
        mt, mv = self.mas.view()
        if len(mt):
            i = min(max(int(np.searchsorted(mt, x)) - 1, 0), len(mt) - 1)
            n = len(self.symbols)
            js = range(n) if cols is None else cols
            out["short"], out["long"] = [mv[i, j] for j in js], [mv[i, n + j] for j in js]
        st, sv = self.sentiment.view()
        if len(st):
            i = min(max(int(np.searchsorted(st, x, side="right")) - 1, 0), len(st) - 1)
            out["sentiment"] = sv[i, 0]
        et, ev = self.equity.view()
        out["pnl"] = math.nan
        if len(et):
            i = min(max(int(np.searchsorted(et, x, side="right")) - 1, 0), len(et) - 1)
            out["pnl"] = ev[i, 0]
        return out
