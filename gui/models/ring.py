"""Ring: a preallocated history whose latest rows are always one contiguous view, so charts
hand NumPy views to setData without copying."""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np


class Ring:
    """Preallocated history of (time, row of `width` floats), oldest dropped at `capacity`.

    Each sample is written at i and i + capacity, so `view()` is always one contiguous slice
    of the arrays: no copy and no allocation per frame."""

    def __init__(self, capacity: int, width: int):
        self.capacity = int(capacity)
        self.width = int(width)
        self._t = np.zeros(2 * self.capacity, dtype=np.float64)
        self._v = np.full((2 * self.capacity, self.width), np.nan, dtype=np.float64)
        self._next = 0   # slot of the next write, 0..capacity-1
        self.count = 0   # samples held, <= capacity
        self.total = 0   # samples ever appended

    def append(self, t: float, values) -> None:
        i = self._next
        j = i + self.capacity
        self._t[i] = self._t[j] = t
        self._v[i] = values
        self._v[j] = self._v[i]
        self._next = i + 1 if i + 1 < self.capacity else 0
        self.count = min(self.count + 1, self.capacity)
        self.total += 1

    def _start(self) -> int:
        # slot of the oldest held sample (with a full ring: the one written next)
        return (self._next - self.count) % self.capacity

    def view(self) -> Tuple[np.ndarray, np.ndarray]:
        """(times, values[n, width]) of the held samples, oldest first (views, not copies)."""
        s = self._start()
        return self._t[s:s + self.count], self._v[s:s + self.count]

    def last(self) -> Optional[Tuple[float, np.ndarray]]:
        if not self.count:
            return None
        i = self._next - 1 if self._next else self.capacity - 1
        return self._t[i], self._v[i]

    def clear(self) -> None:
        self._next = self.count = self.total = 0
