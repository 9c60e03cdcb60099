"""IdleStrategy: how a loop waits when it has nothing to do: after work that expects a reply
(or the next event of a burst), it polls without blocking for a short budget before it
blocks again, so that what comes next finds the process running instead of asleep (the
first step of Aeron's BackoffIdleStrategy, spin then park; Agrona's idle strategies). Its
price is the CPU of those polls, which the benchmark's `spin` section measures beside the
latency it buys (docs/performance.md)."""
from __future__ import annotations

import time
from typing import Optional


class IdleStrategy:
    """`timeout(longest)` is what a loop passes to its select: 0 while hot, else `longest`.
    `worked()` makes the loop hot for `spin_us` (0: never)."""

    def __init__(self, spin_us: float = 0.0):
        self.spin_ns = int(spin_us * 1000)
        self.hot_until = 0
        self.spins = 0  # polls made while hot (their CPU is the cost)

    def timeout(self, longest: Optional[float]) -> Optional[float]:
        if self.hot_until and time.perf_counter_ns() < self.hot_until:
            self.spins += 1
            return 0.0
        self.hot_until = 0
        return longest

    def worked(self) -> None:
        if self.spin_ns:
            self.hot_until = time.perf_counter_ns() + self.spin_ns
