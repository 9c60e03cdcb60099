"""Latency: a log-scale histogram of nanoseconds (within 1.6 %), its percentiles, and how a
latency reads for people."""
from __future__ import annotations

import math
from typing import Dict, Optional

import numpy as np


class Latency:
    """Latency samples in nanoseconds: p50/p99, max and count over every sample recorded.

    Samples go into a log-scale histogram (as HdrHistogram does): exact below 64 ns, then 32
    buckets per power of two, so a percentile is within 1.6 % of the true value. Recording
    is a few integer operations, and percentiles cost the same however many samples there
    are (sorting 100,000 kept samples took ~2 ms of the Strategy's main thread every time it
    reported its stats, delaying the ticks and acks that arrived meanwhile)."""

    __slots__ = ("_counts", "count", "max_ns", "min_ns")

    SUB_BITS = 5  # 32 buckets per power of two

    def __init__(self):
        self._counts = [0] * (64 << self.SUB_BITS)
        self.count = 0
        self.max_ns = 0
        self.min_ns = None

    @classmethod
    def bucket(cls, ns: int) -> int:
        sub = cls.SUB_BITS
        if ns < (2 << sub):
            return max(ns, 0)
        shift = ns.bit_length() - sub - 1
        return (shift << sub) + (ns >> shift)

    @classmethod
    def bucket_range(cls, index: int):
        """[low, high) in ns of the values that fall in bucket `index`."""
        sub = cls.SUB_BITS
        if index < (2 << sub):
            return index, index + 1
        shift = (index >> sub) - 1
        mantissa = (index & ((1 << sub) - 1)) | (1 << sub)
        return mantissa << shift, (mantissa + 1) << shift

    def record(self, ns: int) -> None:
        if ns < 64:  # bucket(), inlined: this runs for every tick
            i = ns if ns > 0 else 0
        else:
            shift = ns.bit_length() - 6
            i = (shift << 5) + (ns >> shift)
        self._counts[i] += 1
        self.count += 1
        if ns > self.max_ns:
            self.max_ns = ns
        if self.min_ns is None or ns < self.min_ns:
            self.min_ns = ns

    def record_many(self, ns) -> None:
        """`record` for an array of samples: the buckets of a whole round in a few NumPy
        calls (np.frexp gives each value's bit length exactly)."""
        raw = np.asarray(ns, dtype=np.int64)
        if not raw.size:
            return
        ns = np.maximum(raw, 0)
        _, bits = np.frexp(ns.astype(np.float64))
        shift = np.maximum(bits.astype(np.int64) - 6, 0)
        idx = np.where(ns < 64, ns, (shift << 5) + (ns >> shift))
        counts = np.bincount(idx)
        for i in np.flatnonzero(counts).tolist():
            self._counts[i] += int(counts[i])
        self.count += int(ns.size)
        top, low = int(raw.max()), int(raw.min())
        if top > self.max_ns:
            self.max_ns = top
        if self.min_ns is None or low < self.min_ns:
            self.min_ns = low

    def quantiles_ns(self, qs):
        """For each fraction q, the value below which that fraction of the samples lie (the
        bucket's midpoint, clamped to the smallest and largest sample); None when empty."""
        if not self.count:
            return [None for _ in qs]
        ranks = [max(1, math.ceil(q * self.count)) for q in qs]
        out = [float(self.max_ns)] * len(qs)
        seen, k = 0, 0
        order = sorted(range(len(qs)), key=lambda j: ranks[j])
        for i, c in enumerate(self._counts):
            if not c:
                continue
            seen += c
            while k < len(order) and seen >= ranks[order[k]]:
                low, high = self.bucket_range(i)
                mid = low if high - low == 1 else (low + high - 1) / 2
                out[order[k]] = float(min(max(mid, self.min_ns), self.max_ns))
                k += 1
            if k == len(order):
                break
        return out

    def percentiles_us(self) -> Dict[str, Optional[float]]:
        if not self.count:
            return {"p50": None, "p99": None, "max": None, "count": 0}
        p50, p99 = self.quantiles_ns((0.50, 0.99))
        return {"p50": round(p50 / 1e3, 1), "p99": round(p99 / 1e3, 1),
                "max": round(self.max_ns / 1e3, 1), "count": self.count}


def merge_latency(a: Dict, b: Dict) -> Dict:  # pragma: no cover - helper for reports
    return a if (a.get("count") or 0) >= (b.get("count") or 0) else b


def fmt_us(v) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:,.0f} us"
