"""Tick-to-ack hop by hop, live, for the desk's System map: the Strategy's own trace hooks
(engine/trace.py: when it woke, when it sent each order) and the time the OrderManager says
it handled the order (`om_ns` in the ack, sent only to a client whose orders carry
`tick_ns`, i.e. ours), split each order's tick-to-ack into four hops that add up to it:

    wake     OrderBook receipt -> shared memory -> the Strategy awake (doorbell)
    decide   awake -> its decision (the order built, about to be sent)
    handled  sent -> on the wire -> the OrderManager read, validated, numbered and logged it
    ack      the ack built -> on the wire -> back in the Strategy

(The send call is not a hop of its own: on two cores the OrderManager often handles the
order before the Strategy's send() has returned, so the call's end is no boundary.)

Over the orders acknowledged in the last WINDOW_S seconds the Strategy reports, every 0.5 s
in `Stats.latency_us["hops"]`: tick-to-ack's p50 and p99; for each hop its p99, and as its
p50 the hop of a typical order: its average over the tenth of the orders whose tick-to-ack
is nearest the median, so that a typical order's hops add up to tick-to-ack's p50 (each
hop's own median does not: their long tails fall on different orders); and a histogram of
tick-to-ack. The times are perf_counter_ns, the clock every process of one machine shares."""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Dict, List, Optional

import numpy as np

from . import trace

HOPS = ("wake", "decide", "handled", "ack")
WINDOW_S = 10.0
KEPT = 5_000          # orders kept for the window (at most)
MAX_PENDING = 20_000  # orders sent but not acked yet, kept (a peer that never acks)
TYPICAL = 0.1         # the share of orders, nearest tick-to-ack's median, that are typical
# the tick-to-ack histogram: log-spaced bins from 100 us to 100 ms (and one each side)
HIST_LOW_US, HIST_HIGH_US, HIST_BINS = 100.0, 100_000.0, 24


def hist_edges_us() -> List[float]:
    step = (math.log10(HIST_HIGH_US) - math.log10(HIST_LOW_US)) / HIST_BINS
    return [HIST_LOW_US * 10 ** (i * step) for i in range(HIST_BINS + 1)]


class HopTracer:
    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.woke = 0
        self.pending: Dict[str, tuple] = {}
        self.orders: deque = deque(maxlen=KEPT)  # (acked at, wake, decide, handled, ack) ns
        self.lock = threading.Lock()  # acks come on the order link's thread
        self._report: Optional[dict] = None  # the last report, while nothing new came
        self._reported_at = 0.0

    # -- the hooks ------------------------------------------------------------------------
    def install(self) -> bool:
        """Take the Strategy's hooks if no tool has (the benchmark's breakdown sets its own
        before the process runs); False when they were taken."""
        h = trace.HOOKS
        if h.woke is not None or h.order_sent is not None or h.ack_timed is not None:
            return False
        h.woke, h.order_sent, h.ack_timed = self.on_woke, self.on_sent, self.on_ack
        return True

    def uninstall(self) -> None:
        h = trace.HOOKS
        if h.ack_timed == self.on_ack:
            h.woke = h.order_sent = h.ack_timed = None

    def on_woke(self, t: int) -> None:
        self.woke = t

    def on_sent(self, coid: str, tick_ns: int, t0: int, t1: int) -> None:
        if tick_ns and len(self.pending) < MAX_PENDING:
            self.pending[coid] = (tick_ns, self.woke, t0)

    def on_ack(self, coid: Optional[str], t: int, om_ns: int) -> None:
        sent = self.pending.pop(coid, None) if coid else None
        if sent is None:
            return
        tick, woke, t0 = sent
        if not tick <= t0 <= om_ns <= t:  # not one clock (another machine's OrderManager)
            return
        woke = min(max(woke, tick), t0)  # a decision on news: it did not wait for the tick
        with self.lock:
            self.orders.append((self.clock(), woke - tick, t0 - woke, om_ns - t0, t - om_ns))
            self._report = None

    # -- the report -----------------------------------------------------------------------
    def report(self) -> dict:
        """{hop: {"p50", "p99", "count"} in us, "total": ..., "histogram": [counts],
        "window_s": s}; the same dict again while no ack came (and at most a second old)."""
        now = self.clock()
        with self.lock:
            if self._report is None or now - self._reported_at > 1.0:
                self._report = self._make_report(now)
                self._reported_at = now
            return self._report

    def _make_report(self, now: float) -> dict:
        rows = [r for r in self.orders if now - r[0] <= WINDOW_S]
        empty = {"p50": None, "p99": None, "count": 0}
        if not rows:
            return {**{k: dict(empty) for k in HOPS + ("total",)},
                    "histogram": [0] * HIST_BINS, "window_s": WINDOW_S}
        hops = np.array([r[1:] for r in rows], dtype=np.float64) / 1e3  # us
        total = hops.sum(axis=1)
        median = float(np.percentile(total, 50))
        k = max(1, int(round(TYPICAL * len(rows))))
        typical = hops[np.argsort(np.abs(total - median))[:k]]
        out = {"total": {"p50": round(median, 1),
                         "p99": round(float(np.percentile(total, 99)), 1),
                         "count": len(rows)}}
        for i, key in enumerate(HOPS):
            out[key] = {"p50": round(float(typical[:, i].mean()), 1),
                        "p99": round(float(np.percentile(hops[:, i], 99)), 1),
                        "count": len(rows)}
        out["histogram"] = histogram(total)
        out["window_s"] = round(min(WINDOW_S, now - rows[0][0]), 1)
        return out


def histogram(total_us) -> List[int]:
    """Counts of tick-to-ack (us) in HIST_BINS log-spaced bins (the first and last bins also
    take what falls below and above)."""
    edges = np.array(hist_edges_us())
    idx = np.clip(np.searchsorted(edges, total_us, side="right") - 1, 0, HIST_BINS - 1)
    return np.bincount(idx, minlength=HIST_BINS).astype(int).tolist()
