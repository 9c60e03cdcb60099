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

from .model import Ring, feed_state

MAX_MARKERS = 2000
SENTIMENT_REPEAT_S = 0.25


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
        cap = int(history_s * fps) + 16
        self.prices = Ring(cap, n)
        self.mas = Ring(cap, 2 * n)  # short MAs, then long MAs
        self.sentiment = Ring(int(history_s / SENTIMENT_REPEAT_S * 2) + 16, 1)
        self.markers: Dict[str, deque] = {s: deque(maxlen=MAX_MARKERS) for s in self.symbols}
        self._pct = np.full((n, 2 * cap), np.nan)
        self.feed = "off"
        self.samples = 0
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
        changed = False
        if book is not None:
            count = book.update_counter
            if count != self._last_count and count:
                self._last_count = count
                self.prices.append(now, book.snapshot()["price"][self._book_rows])
                self.samples += 1
                changed = True
        if sig is not None:
            changed |= self._sample_signals(now, sig, strategy_running)
        return changed

    def _sample_signals(self, now: float, sig, strategy_running: bool) -> bool:
        changed = False
        sent, rows = sig.read_all()
        count = sig.update_counter
        if count != self._last_sig_count and count:
            self._last_sig_count = count
            rows = rows[self._sig_rows]
            self.mas.append(now, np.concatenate((rows["short_ma"], rows["long_ma"])))
            changed = True
        if sent is not None and (sent != self._last_sent or (
                strategy_running and now - self._last_sent_t >= SENTIMENT_REPEAT_S)):
            self.sentiment.append(now, (float(sent),))
            self._last_sent, self._last_sent_t = sent, now
            changed = True
        return changed

    # -- fills --------------------------------------------------------------------------
    def add_fill(self, t: float, symbol: str, price: float, buy: bool) -> None:
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
    def pct_view(self, left: float, right: float):
        """(times, % change from the window's left edge per symbol [n, k], prices [k, n]) of
        the samples in view; the % change array is reused from frame to frame."""
        t, v = self.prices.view()
        sl = visible(t, left, right)
        t, v = t[sl], v[sl]
        k = len(t)
        if not k:
            return t, self._pct[:, :0], v
        base = first_finite(v[1:] if k > 1 and t[0] < left else v)
        pct = self._pct[:, :k]
        np.divide(v.T, base[:, None], out=pct)
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

    def changes(self, left: float) -> List[Tuple[float, float]]:
        """(latest price, % change from the window's left edge) of each symbol."""
        t, v = self.prices.view()
        if not len(t):
            return []
        base = first_finite(v[min(int(np.searchsorted(t, left)), len(t) - 1):])
        out = []
        for p, b in zip(v[-1], base):
            out.append((p, (p / b - 1) * 100 if math.isfinite(b) and b else 0.0))
        return out

    def values_at(self, x: float, left: float) -> dict:
        """What a crosshair at time x reads: each symbol's price and % change, the MAs, the
        sentiment (NaN where there was none yet)."""
        out = {"prices": [], "short": [], "long": [], "sentiment": math.nan}
        t, v = self.prices.view()
        if len(t):
            i = min(max(int(np.searchsorted(t, x)) - 1, 0), len(t) - 1)
            base = first_finite(v[min(int(np.searchsorted(t, left)), len(t) - 1):])
            out["prices"] = [(p, (p / b - 1) * 100 if math.isfinite(b) else 0.0)
                             for p, b in zip(v[i], base)]
        mt, mv = self.mas.view()
        if len(mt):
            i = min(max(int(np.searchsorted(mt, x)) - 1, 0), len(mt) - 1)
            n = len(self.symbols)
            out["short"], out["long"] = list(mv[i, :n]), list(mv[i, n:])
        st, sv = self.sentiment.view()
        if len(st):
            i = min(max(int(np.searchsorted(st, x, side="right")) - 1, 0), len(st) - 1)
            out["sentiment"] = sv[i, 0]
        return out
