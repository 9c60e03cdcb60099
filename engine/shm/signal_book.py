"""SignalBook: what the Strategy sees, for the desk: sentiment (a header slot), both moving
averages and the position of every symbol, with the time of its decision (40-byte rows)."""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from .segment import H_EXTRA, H_LAST, H_UPDATES, SeqlockBook

SIGNAL_DTYPE = np.dtype([("symbol", "S8"), ("short_ma", "<f8"), ("long_ma", "<f8"),
                         ("position", "<i8"), ("decision_ns", "<i8")])


class SignalBook(SeqlockBook):
    """What the Strategy sees: sentiment, both moving averages and the position per symbol."""

    MAGIC = 0x4C474953454349  # "ICESIGL"
    DTYPE = SIGNAL_DTYPE
    S_SENTIMENT, S_SENT_SEQ = H_EXTRA, H_EXTRA + 1

    def _init_extras(self):
        self._h[self.S_SENTIMENT] = -1

    def _init_rows(self):
        self.rows["short_ma"] = math.nan
        self.rows["long_ma"] = math.nan

    @property
    def sentiment(self) -> Optional[int]:
        v = self._h[self.S_SENTIMENT]
        return None if v < 0 else v

    def set_sentiment(self, value: int) -> None:
        self._begin()
        self._h[self.S_SENTIMENT] = value
        self._h[self.S_SENT_SEQ] += 1
        self._end()

    def publish(self, symbol: str, short_ma: float, long_ma: float, position: int,
                decision_ns: int) -> None:
        i = self.index[symbol]
        s, f, q = self._stride, self._f, self._q
        self._begin()
        f[i * s + 1] = short_ma
        f[i * s + 2] = long_ma
        q[i * s + 3] = position
        q[i * s + 4] = decision_ns
        self._h[H_UPDATES] += 1
        self._h[H_LAST] = decision_ns
        self._end()

    def publish_rows(self, rows: np.ndarray, short_ma: np.ndarray, long_ma: np.ndarray,
                     positions: np.ndarray, decision_ns: int) -> None:
        """`publish` for many rows at once (row indexes, arrays in the same order)."""
        if not len(rows):
            return
        r = self.rows
        self._begin()
        r["short_ma"][rows] = short_ma
        r["long_ma"][rows] = long_ma
        r["position"][rows] = positions
        r["decision_ns"][rows] = decision_ns
        self._h[H_UPDATES] += len(rows)
        self._h[H_LAST] = decision_ns
        self._end()

    def read_all(self):
        """(sentiment or None, copy of the rows), consistent with each other."""
        def grab():
            return self._h[self.S_SENTIMENT], self.rows.copy()
        sent, rows = self._consistent(grab)
        return (None if sent < 0 else sent), rows
