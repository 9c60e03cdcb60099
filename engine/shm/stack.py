"""The shared memory of one stack: its price book and signal book, made before the first
process starts, measured, and unlinked at the end (the controller holds one StackMemory);
and what a stack of n symbols takes (`footprint`)."""
from __future__ import annotations

import logging
from typing import Callable, Dict, Iterable, Optional

from .price_book import PRICE_DTYPE, SharedPriceBook
from .segment import HEADER_BYTES
from .signal_book import SIGNAL_DTYPE, SignalBook


class StackMemory:
    """Creates the two books on `ensure()` and unlinks them on `release()`; between the two
    `marks()` reads the latest prices, afterwards it gives those the book last held."""

    def __init__(self, symbols, shm_name: str, signal_shm_name: str,
                 say: Optional[Callable[[int, str], None]] = None):
        self.symbols = tuple(symbols)
        self.shm_name, self.signal_shm_name = shm_name, signal_shm_name
        self.say = say or (lambda level, text: None)
        self.book: Optional[SharedPriceBook] = None
        self.signal_book: Optional[SignalBook] = None
        self.final_marks: Dict[str, float] = {}  # the prices when the book was released

    def ensure(self) -> None:
        """Create the price and signal books (this object owns and unlinks them)."""
        if self.book is None:
            self.book = SharedPriceBook(self.symbols, name=self.shm_name)
            if self.book.replaced_stale:
                self.say(logging.WARNING, f"replaced a stale shared-memory segment "
                                          f"{self.shm_name!r} left by a crashed run")
        if self.signal_book is None:
            self.signal_book = SignalBook(self.symbols, name=self.signal_shm_name)

    def marks(self) -> Dict[str, float]:
        """The latest price of every symbol that has one (what P&L is marked to): from the
        price book while it exists, else as it was when it was released."""
        if self.book is None:
            return dict(self.final_marks)
        rows = self.book.snapshot()
        return {s.decode("ascii"): float(p) for s, p, seq in
                zip(rows["symbol"], rows["price"], rows["seq"]) if seq}

    def release(self) -> None:
        if self.book is not None:
            self.final_marks = self.marks()
        for attr in ("book", "signal_book"):
            b = getattr(self, attr)
            if b is not None:
                b.close()
                b.unlink()
                setattr(self, attr, None)

    @property
    def nbytes(self) -> int:
        """Bytes of both books' layouts (header plus rows), 0 before they exist."""
        return sum(b.nbytes for b in (self.book, self.signal_book) if b is not None)


def footprint(symbols: Iterable[str]) -> Dict[str, int]:
    """Bytes of the books of a stack of these symbols."""
    n = len(tuple(symbols))
    prices = HEADER_BYTES + PRICE_DTYPE.itemsize * n
    signals = HEADER_BYTES + SIGNAL_DTYPE.itemsize * n
    return {"price_book": prices, "signal_book": signals, "total": prices + signals,
            "per_symbol": PRICE_DTYPE.itemsize + SIGNAL_DTYPE.itemsize}
