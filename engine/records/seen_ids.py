"""Which client order ids the order log holds, in bounded memory: the OrderManager answers an
order sent again (a Strategy resends what was unacknowledged when its connection dropped)
with the order id it logged the first time, and never logs it twice.

Keeping every id it ever saw cost ~140 bytes an order for ever (11 MB in ten minutes at 500
symbols; half a gigabyte over a trading day). What is kept instead:

* the latest `window` ids and their order ids (a resend comes seconds after the original);
* for ids shaped `<prefix>-<n>` (ours: `account-session-n`; anything ending in a counter),
  the highest n seen for each prefix (at most `prefixes` of them, the least recently used
  forgotten first). An id of a prefix at or under its mark and out of the window may have
  been logged long ago: the log on disk is searched for it (`find`, rare: only a resend of
  an order older than the window), and an id above its mark is new without a search. A
  prefix whose counters ever go down (not a counter, then) is deduplicated by the window
  alone, as an id without a counter is.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Optional, Tuple

WINDOW = 20_000      # ids (~150 bytes each): 20 s of orders at 1,000 a second
PREFIXES = 4_096     # counters kept (a Strategy's run is one prefix)


def split_counter(coid: str) -> Optional[Tuple[str, int]]:
    """'fast-3f9a1c-17' -> ('fast-3f9a1c', 17); None when the id does not end in a counter."""
    head, sep, tail = coid.rpartition("-")
    if not sep or not head or not tail.isdigit() or len(tail) > 18 or not tail.isascii():
        return None
    return head, int(tail)


class SeenIds:
    """client_order_id -> order_id for the ids the order log holds, in bounded memory."""

    def __init__(self, find: Callable[[str], Optional[int]], window: int = WINDOW,
                 prefixes: int = PREFIXES):
        # find(coid): the order id the log on disk holds for coid, or None
        self.find, self.window, self.prefixes = find, window, prefixes
        self.recent: "OrderedDict[str, int]" = OrderedDict()
        self.marks: "OrderedDict[str, int]" = OrderedDict()  # prefix -> highest counter
        self.unordered: "OrderedDict[str, None]" = OrderedDict()  # prefixes that went down
        self.searches = 0  # look-ups on disk (a resend older than the window, or a prefix
        #                    whose counters are not in order)

    def get(self, coid: str) -> Optional[int]:
        """The order id logged for `coid`, or None if it was never logged."""
        oid = self.recent.get(coid)
        if oid is not None:
            return oid
        parts = split_counter(coid)
        if parts is None or parts[0] in self.unordered:
            return None  # out of the window: taken as new
        mark = self.marks.get(parts[0])
        if mark is None or parts[1] > mark:
            return None  # a counter past its prefix's highest: new
        self.searches += 1
        return self.find(coid)

    def add(self, coid: str, oid: int) -> None:
        self.recent[coid] = oid
        if len(self.recent) > self.window:
            self.recent.popitem(last=False)
        parts = split_counter(coid)
        if parts is None:
            return
        prefix, n = parts
        if prefix in self.unordered:
            self.unordered.move_to_end(prefix)
            return
        mark = self.marks.get(prefix)
        if mark is not None and n <= mark:  # counters that go down are no counter
            del self.marks[prefix]
            self.unordered[prefix] = None
            if len(self.unordered) > self.prefixes:
                self.unordered.popitem(last=False)
            return
        self.marks[prefix] = n
        self.marks.move_to_end(prefix)
        if len(self.marks) > self.prefixes:
            self.marks.popitem(last=False)

    def __len__(self) -> int:
        return len(self.recent)
