"""SharedPriceBook: the latest price of every symbol, written by the OrderBook and read by
everyone else, and the doorbell ports of the readers that want a wake-up after each batch.

Rows are 32 bytes: symbol S8, price f8, seq u8 (updates of that row), recv_ns i8
(time.perf_counter_ns() when the OrderBook received the tick)."""
from __future__ import annotations

import math
import time
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from .segment import H_EXTRA, H_LAST, H_UPDATES, HEADER_SLOTS, SeqlockBook

# Prices older than this are stale: the one rule of the Strategy (it holds its positions)
# and the desk (its feed says so)
STALE_AFTER_S = 2.0


def staleness(updates: int, writer_pid: int, last_ns: int, now_ns: int) -> Optional[str]:
    """Why the book's prices are stale, as it reads to a user, or None while they are live
    (or none came yet)."""
    if not updates:
        return None
    if writer_pid == 0:
        return "the OrderBook stopped writing them"
    age = (now_ns - last_ns) / 1e9
    return f"no update for {age:.1f} s" if age > STALE_AFTER_S else None


PRICE_DTYPE = np.dtype([("symbol", "S8"), ("price", "<f8"), ("seq", "<u8"), ("recv_ns", "<i8")])


class PriceRow(NamedTuple):
    symbol: str
    price: float
    seq: int
    recv_ns: int


class SharedPriceBook(SeqlockBook):
    """Latest price of every symbol, written by the OrderBook, read by everyone else."""

    MAGIC = 0x4B4F4F42454349  # "ICEBOOK"
    DTYPE = PRICE_DTYPE

    def _init_rows(self):
        self.rows["price"] = math.nan

    def update(self, symbol: str, price: float, recv_ns: Optional[int] = None) -> None:
        """Write one tick (the assignment's API)."""
        i = self.index[symbol]
        if recv_ns is None:
            recv_ns = time.perf_counter_ns()
        s, f, q = self._stride, self._f, self._q
        self._begin()
        f[i * s + 1] = price
        q[i * s + 2] += 1
        q[i * s + 3] = recv_ns
        h = self._h
        h[H_UPDATES] += 1
        h[H_LAST] = recv_ns
        self._end()

    def update_many(self, latest: Dict[int, Tuple[float, int]], recv_ns: int) -> int:
        """Apply a batch: {row index: (last price, ticks of that row)} under one lock.

        The book keeps only the latest price, so a chunk of ticks reduces to the last one of
        each symbol plus how many there were. Returns the ticks applied.
        """
        if not latest:
            return 0
        s, f, q, h = self._stride, self._f, self._q, self._h
        total = 0
        self._begin()
        for i, (price, count) in latest.items():
            f[i * s + 1] = price
            q[i * s + 2] += count
            q[i * s + 3] = recv_ns
            total += count
        h[H_UPDATES] += total
        h[H_LAST] = recv_ns
        self._end()
        return total

    def update_rows(self, rows: np.ndarray, prices: np.ndarray, ticks: np.ndarray,
                    recv_ns: int) -> int:
        """`update_many` with arrays (row indexes, each once; their last prices; their tick
        counts): a round of thousands of symbols in three NumPy writes under one lock."""
        if not len(rows):
            return 0
        r = self.rows
        total = int(ticks.sum())
        self._begin()
        r["price"][rows] = prices
        r["seq"][rows] += ticks.astype(np.uint64)
        r["recv_ns"][rows] = recv_ns
        h = self._h
        h[H_UPDATES] += total
        h[H_LAST] = recv_ns
        self._end()
        return total

    # -- doorbells: how readers learn of new prices without polling ---------------------
    # Header slots 9..15 hold the UDP ports of readers that want a wake-up datagram after
    # every batch the writer applies (see net.Doorbell), four 16-bit ports a slot: 28
    # readers (ten Strategies side by side need ten). A datagram, unlike a shared
    # multiprocessing Event, leaves no lock behind when either side is killed. A slot is
    # one aligned 8-byte word, written whole; two readers registering at the same instant
    # may overwrite each other's port, which is why a reader checks now and then that its
    # port is still there (`has_doorbell`) and registers again.
    DOORBELL_SLOTS = range(H_EXTRA, HEADER_SLOTS)
    PORTS_PER_SLOT = 4
    MAX_DOORBELLS = len(DOORBELL_SLOTS) * PORTS_PER_SLOT

    @staticmethod
    def _ports(word: int) -> list:
        return [p for p in ((word >> (16 * k)) & 0xFFFF for k in range(4)) if p]

    @staticmethod
    def _word(ports) -> int:
        word = 0
        for k, p in enumerate(ports):
            word |= (int(p) & 0xFFFF) << (16 * k)
        return word - (1 << 64) if word >= 1 << 63 else word  # (a signed 8-byte word)

    def doorbell_ports(self) -> list:
        h, out = self._h, []
        for i in self.DOORBELL_SLOTS:
            word = h[i]
            if word:
                out += self._ports(word)
        return out

    def has_doorbell(self, port: int) -> bool:
        return port in self.doorbell_ports()

    def add_doorbell(self, port: int, in_use=None) -> bool:
        """Register a reader's wake-up port in a free place. A port nobody holds any more
        (`in_use(port)` is False: a reader that was killed) gives its place up."""
        h = self._h
        if not 0 < port < 65536:
            return False
        if self.has_doorbell(port):
            return True
        for i in self.DOORBELL_SLOTS:
            ports = self._ports(h[i])
            if len(ports) < self.PORTS_PER_SLOT:
                h[i] = self._word(ports + [port])
                return True
        if in_use is not None:  # full: take the place of a reader that is gone
            for i in self.DOORBELL_SLOTS:
                ports = self._ports(h[i])
                alive = [p for p in ports if in_use(p)]
                if len(alive) < len(ports):
                    h[i] = self._word(alive + [port])
                    return True
        return False

    def remove_doorbell(self, port: int) -> None:
        h = self._h
        for i in self.DOORBELL_SLOTS:
            ports = self._ports(h[i])
            if port in ports:
                h[i] = self._word([p for p in ports if p != port])

    def read_row(self, symbol: str) -> PriceRow:
        i = self.index[symbol]
        s, f, q = self._stride, self._f, self._q
        price, seq, ns = self._consistent(lambda: (f[i * s + 1], q[i * s + 2], q[i * s + 3]))
        return PriceRow(symbol, price, seq, ns)

    def read_rows(self, rows: Sequence[int]) -> List[Tuple[float, int, int]]:
        """(price, seq, recv_ns) of each row index, consistent with each other: the
        Strategy's read after every doorbell, as plain floats and ints (no NumPy copy)."""
        s, f, q = self._stride, self._f, self._q
        return self._consistent(
            lambda: [(f[i * s + 1], q[i * s + 2], q[i * s + 3]) for i in rows])

    def read_columns(self, rows: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(prices, seqs, recv_ns) of the row indexes `rows` as arrays, consistent with each
        other: the Strategy's read of a whole universe after a doorbell (three gathers under
        the seqlock, whatever the number of rows)."""
        r = self.rows

        def grab():
            return r["price"][rows], r["seq"][rows], r["recv_ns"][rows]
        return self._consistent(grab)

    def read(self, symbol: str) -> Optional[float]:
        """Latest price of `symbol`, or None before its first tick."""
        row = self.read_row(symbol)
        return row.price if row.seq else None
