"""A child's reports to the controller: log records, its state and a Stats record every
0.5 s, through a pipe of its own (ReportSender), and the Reporter that paces them."""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, Optional

from engine.measure.stats import Stats
from engine.platforms.resources import cpu_seconds, rss_bytes


class ReportSender:
    """A child's side of its report pipe to the controller: log records, state and stats.

    put() never blocks the process's work: a thread of its own sends what was put, in order,
    through the pipe (a pipe per child, so a child killed mid-send hurts no other). At most
    MAX_PENDING log records wait unsent (a log flood the controller cannot keep up with);
    the rest are dropped and counted, the log file still has them. State and stats are never
    dropped."""

    MAX_PENDING = 10_000

    def __init__(self, conn):
        self.conn = conn
        self.items: deque = deque()
        self.cond = threading.Condition()
        self.closed = False
        self.dropped = 0
        self.thread = threading.Thread(target=self._run, name="reports", daemon=True)
        self.thread.start()

    def put(self, item: tuple, droppable: bool = False) -> None:
        with self.cond:
            if self.closed or (droppable and len(self.items) >= self.MAX_PENDING):
                self.dropped += 1
                return
            self.items.append(item)
            self.cond.notify()

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.items and not self.closed:
                    self.cond.wait()
                if not self.items:
                    return
                batch = list(self.items)
                self.items.clear()
            for item in batch:
                try:
                    self.conn.send(item)
                except (OSError, ValueError):  # the controller is gone
                    return

    def close(self, timeout: float = 2.0) -> None:
        """Send what is left (within `timeout`), then close the pipe."""
        with self.cond:
            self.closed = True
            self.cond.notify()
        self.thread.join(timeout)
        self.conn.close()

class Reporter:
    """Sends a process's Stats to the controller every `period` seconds and at exit, and its
    state once it runs. Without a sender (a process in its own terminal) it only keeps the
    latest stats (what --stats-json writes at exit)."""

    def __init__(self, sender: Optional[ReportSender], name: str, period: float = 0.5):
        self.sender = sender
        self.name = name
        self.period = period
        self._next = 0.0
        self.last: Optional[Stats] = None

    def running(self, **info) -> None:
        """The process is ready: its servers listen, its books are open."""
        if self.sender is not None:
            self.sender.put(("ready", self.name, info))

    def maybe(self, stats_fn: Callable[[], Stats]) -> None:
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self.period
            self.send(stats_fn())

    def send(self, stats: Stats) -> None:
        # CPU seconds of this process so far (all threads): a portable figure the benchmark
        # falls back on where it cannot read /proc, and the desk's CPU column. process_time
        # counts in nanoseconds where os.times counts 10 ms ticks (Linux), which at the demo
        # rate made 0.5 s of a process read 0 % or 2 %
        stats.cpu_s = round(cpu_seconds(), 6)
        stats.rss_bytes = rss_bytes()
        self.last = stats
        if self.sender is not None:
            self.sender.put(("stats", self.name, stats, time.time()))

