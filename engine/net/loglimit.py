"""LogLimiter: at most a burst of log lines of one kind per window, then a count, so that a
flood of connections cannot become a flood of log lines."""
from __future__ import annotations

import logging
import time
from typing import Dict

LOG_WINDOW_S, LOG_BURST = 10.0, 20

class LogLimiter:
    """At most `burst` lines of one kind every `window` seconds; past that the lines are
    counted, and the count is said when the window ends ("... 4,112 more in the last 10 s"),
    so that a flood of connections cannot become a flood of log lines."""

    def __init__(self, log: logging.Logger, window: float = LOG_WINDOW_S, burst: int = LOG_BURST):
        self.log, self.window, self.burst = log, window, burst
        self.kinds: Dict[str, list] = {}  # kind -> [window start, shown, held back, level]
        self.held_total = 0

    def __call__(self, kind: str, level: int, msg: str, *args) -> None:
        now = time.monotonic()
        w = self.kinds.get(kind)
        if w is None or now - w[0] >= self.window:
            if w is not None:
                self._say_held(kind, w, now)
            w = self.kinds[kind] = [now, 0, 0, level]
        if w[1] < self.burst:
            w[1] += 1
            self.log.log(level, msg, *args)
        else:
            w[2] += 1
            w[3] = max(w[3], level)
            self.held_total += 1

    def _say_held(self, kind: str, w: list, now: float) -> None:
        if w[2]:
            self.log.log(w[3], "%s: %s more in the last %.0f s", kind, f"{w[2]:,}",
                         now - w[0])

    def flush(self, all_: bool = False) -> None:
        """Say the counts of windows that have ended (the loop calls this now and then), or
        of every window (`all_`: the server is closing)."""
        now = time.monotonic()
        for kind, w in list(self.kinds.items()):
            if all_ or now - w[0] >= self.window:
                self._say_held(kind, w, now)
                del self.kinds[kind]

