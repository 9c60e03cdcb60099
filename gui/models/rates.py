"""Rates, without Qt: of a monotonic counter reported now and then (RateMeter: ticks a
second from the OrderBook's reports), and of events stamped as they happen (FrameMeter:
chart frames a second)."""
from __future__ import annotations

import time
from collections import deque
from typing import Optional


class RateMeter:
    """Rate of a monotonic counter from (time, total) samples over the last `window` seconds.
    Reports 0 when no sample arrived for `silence` seconds (the reporting process is gone)."""

    def __init__(self, window: float = 2.0, silence: float = 1.5):
        self.window = window
        self.silence = silence
        self._samples: deque = deque()

    def add(self, t: float, total: int) -> None:
        self._samples.append((t, total))
        while len(self._samples) > 2 and self._samples[0][0] < t - self.window:
            self._samples.popleft()

    def rate(self, now: Optional[float] = None) -> float:
        now = time.time() if now is None else now
        if len(self._samples) < 2 or now - self._samples[-1][0] > self.silence:
            return 0.0
        (t0, c0), (t1, c1) = self._samples[0], self._samples[-1]
        return max(c1 - c0, 0) / (t1 - t0) if t1 > t0 else 0.0

    def clear(self) -> None:
        self._samples.clear()


class FrameMeter:
    """When frames were rendered: the frame rate over the last second, for the status line
    and the benchmarks."""

    def __init__(self, keep: int = 1024):
        self._stamps: deque = deque(maxlen=keep)

    def tick(self) -> None:
        self._stamps.append(time.perf_counter())

    def rate(self, over: float = 1.0) -> float:
        now = time.perf_counter()
        n = 0
        for s in reversed(self._stamps):
            if s < now - over:
                break
            n += 1
        return n / over

    def times(self) -> list:
        return list(self._stamps)
