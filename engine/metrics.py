"""Counters and latency recorders shared by the processes, the summary and the benchmarks."""
from __future__ import annotations

import math
from collections import Counter
from typing import Dict, Optional

import numpy as np


class Latency:
    """Latency samples in nanoseconds: p50/p99 over the last `window` samples, max and count
    over all of them. Recording is O(1) and allocation-free."""

    __slots__ = ("_buf", "_n", "count", "max_ns")

    def __init__(self, window: int = 100_000):
        self._buf = np.zeros(window, dtype=np.int64)
        self._n = 0
        self.count = 0
        self.max_ns = 0

    def record(self, ns: int) -> None:
        self._buf[self._n % len(self._buf)] = ns
        self._n += 1
        self.count += 1
        if ns > self.max_ns:
            self.max_ns = ns

    def percentiles_us(self) -> Dict[str, Optional[float]]:
        n = min(self._n, len(self._buf))
        if not n:
            return {"p50": None, "p99": None, "max": None, "count": 0}
        data = self._buf[:n]
        p50, p99 = np.percentile(data, [50, 99])
        return {"p50": round(float(p50) / 1e3, 1), "p99": round(float(p99) / 1e3, 1),
                "max": round(self.max_ns / 1e3, 1), "count": self.count}


class Rejections:
    """Counts rejected input by reason; logs the first few of each reason, then every 1000th,
    so a hostile peer cannot flood the log."""

    def __init__(self, log, what: str):
        self.log = log
        self.what = what
        self.by_reason: Counter = Counter()
        self.total = 0

    def reject(self, reason: str, detail: str = "") -> None:
        self.total += 1
        self.by_reason[reason] += 1
        n = self.by_reason[reason]
        if n <= 5 or n % 1000 == 0:
            self.log.warning("rejected %s (%s, #%d of this kind): %s", self.what, reason, n,
                             detail)


def reason_of(exc: Exception) -> str:
    """A short, stable reason key from a protocol error message ('order: qty must ...' ->
    'order: qty must')."""
    text = str(exc)
    return " ".join(text.split(":")[0:2]).strip()[:40] if text else type(exc).__name__


def merge_latency(a: Dict, b: Dict) -> Dict:  # pragma: no cover - helper for reports
    return a if (a.get("count") or 0) >= (b.get("count") or 0) else b


def fmt_us(v) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:,.0f} us"
