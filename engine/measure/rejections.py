"""Rejections: what a process refused from a peer, counted by reason (a reason without the
peer's data, at most 64 kinds), the first few of a kind logged, then every thousandth.
Variants: what it accepted in another team's shape (engine.protocol.variants), counted by
name, said once a peer."""
from __future__ import annotations

import re
from collections import Counter


class Rejections:
    """Counts rejected input by reason; logs the first few of each reason, then every 1000th,
    so a hostile peer cannot flood the log."""

    def __init__(self, log, what: str):
        self.log = log
        self.what = what
        self.by_reason: Counter = Counter()
        self.total = 0

    MAX_REASONS = 64  # distinct reasons counted one by one; the rest as "other"

    def reject(self, reason: str, detail: str = "") -> None:
        if reason not in self.by_reason and len(self.by_reason) >= self.MAX_REASONS:
            reason = "other"
        self.total += 1
        self.by_reason[reason] += 1
        n = self.by_reason[reason]
        if n <= 5 or n % 1000 == 0:
            self.log.warning("rejected %s (%s, #%d of this kind): %s", self.what, reason, n,
                             detail)


class Variants:
    """Input accepted in a shape other than the assignment's, counted by name ("orders in the
    CSV shape"); the first of each shape from each peer is logged ("accepting orders in the
    CSV shape from client#3"), at most MAX_SAID lines in a run."""

    MAX_SAID = 200

    def __init__(self, log, what: str):
        self.log = log
        self.what = what
        self.by_name: Counter = Counter()
        self._said: set = set()

    def accept(self, name: str, peer: str, n: int = 1) -> None:
        self.by_name[f"{self.what} {name}"] += n
        if (name, peer) not in self._said and len(self._said) < self.MAX_SAID:
            self._said.add((name, peer))
            self.log.info("accepting %s %s from %s", self.what, name, peer)

    @property
    def total(self) -> int:
        return sum(self.by_name.values())


def reason_of(exc: Exception) -> str:
    """A short, stable reason key from a protocol error message, without the peer's value:
    'order: qty must be a positive integer, not -1' -> 'order: qty must be a positive
    integer'."""
    text = str(exc)
    if not text:
        return type(exc).__name__
    key = ": ".join(part.strip() for part in text.split(":")[0:2])
    key = _PEER_VALUE.split(key, 1)[0].strip(" :")
    return key[:60] or type(exc).__name__


# where a message starts quoting what the peer sent: a repr, a comma before "not ...", a number
# after a colon (the key must not vary with the peer's data: Rejections counts per key)
_PEER_VALUE = re.compile(r"""b?['"]|,|: \d""")

