"""What a process supervisor adds to start and stop (supervisor's `autorestart`,
`startretries` and FATAL state): restart on crash with exponential backoff and a retry limit,
and noticing a child that lives but has stopped reporting. Pure: no processes and no clock
of its own; the controller hands in the times and acts on the answers, and plain tests
drive it (tests/test_supervision.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

NEVER = "never"
ON_CRASH = "on crash"
POLICIES = (NEVER, ON_CRASH)

BACKOFF_START_S = 0.5  # the first restart after a crash; each next one waits twice as long
BACKOFF_CAP_S = 8.0
RETRY_LIMIT = 3        # restarts in a row that crash again before it gives up
STABLE_AFTER_S = 10.0  # a run this long was a good one: the count starts again
UNRESPONSIVE_AFTER_S = 3.0  # children report every 0.5 s: six reports missed


@dataclass
class Restarts:
    """One process's restart-on-crash bookkeeping."""
    policy: str = NEVER
    attempts: int = 0              # restarts since the last run that stayed up
    due: Optional[float] = None    # when the next restart is due (the controller's clock)
    gave_up: str = ""              # why it no longer restarts ('' while it does)

    def set_policy(self, policy: str) -> None:
        if policy not in POLICIES:
            raise ValueError(f"restart policy must be one of {POLICIES}, not {policy!r}")
        self.policy = policy
        if policy == NEVER:
            self.due = None

    def crashed(self, now: float, ran_for: float, why: str) -> Optional[float]:
        """It ended by itself with an error (or was killed from outside): the delay until
        its restart, or None when it is not restarted (policy never, or it gave up now)."""
        if self.policy != ON_CRASH:
            return None
        if ran_for >= STABLE_AFTER_S:
            self.attempts = 0
        if self.attempts >= RETRY_LIMIT:
            self.due = None
            self.gave_up = f"gave up after {self.attempts} restarts: {why}"
            return None
        delay = min(BACKOFF_START_S * 2 ** self.attempts, BACKOFF_CAP_S)
        self.attempts += 1
        self.due = now + delay
        return delay

    def take_due(self, now: float) -> bool:
        """True once, when the restart is due."""
        if self.due is not None and now >= self.due:
            self.due = None
            return True
        return False

    def reset(self) -> None:
        """The user started, stopped or killed it: no restart pending, a fresh count."""
        self.attempts, self.due, self.gave_up = 0, None, ""

    def waiting(self, now: float) -> str:
        """What the row says while a restart is due ('' when none is)."""
        if self.due is None:
            return ""
        return (f"restart {self.attempts} of {RETRY_LIMIT} in "
                f"{max(self.due - now, 0.0):.1f} s")


def unresponsive_for(running: bool, last_report: Optional[float], started: Optional[float],
                     now: float) -> float:
    """Seconds since a running child last reported, once that is past UNRESPONSIVE_AFTER_S
    (0.0 while it reports, or is not running). A child that never reported counts from its
    start. Times are one clock's (the controller's time.time())."""
    if not running:
        return 0.0
    since = last_report if last_report is not None else started
    if since is None:
        return 0.0
    quiet = now - since
    return quiet if quiet > UNRESPONSIVE_AFTER_S else 0.0
