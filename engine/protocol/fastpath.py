"""The price stream's fast path: NumPy over a whole block of `SYMBOL,PRICE*` frames.

`PriceScanner` validates a block and reduces it to the latest price and tick count of each
symbol (the OrderBook applies that in one write); `encode_price_rounds` makes the frames of
many rounds at once. Each agrees byte for byte, frame for frame, with the one-frame rule
(`PriceScanner.accept`, `messages.PriceTick`); tests/test_ingest.py checks it on random
input."""
from __future__ import annotations

import functools
from typing import Dict, List, Optional, Tuple

import numpy as np

from .errors import LocalProtocolError
from .framing import DEFAULT_MAX_FRAME, MESSAGE_DELIMITER, frame
from .values import check_symbol

INF = float("inf")
# Byte classes inside a price text, packed so one cumulative sum counts three things per frame:
# bits 0-7 bytes that are neither a digit nor '.', bits 8-15 dots, bits 16-23 digits 1-9.
# (The sums wrap around, but the difference over one price text of at most _FAST_PRICE_MAX
# bytes is exact in each field.)
_PRICE_CLASS = np.full(256, 1, dtype=np.uint32)
_PRICE_CLASS[ord("0")] = 0
_PRICE_CLASS[ord("1"):ord("9") + 1] = 1 << 16
_PRICE_CLASS[ord(".")] = 1 << 8
_FAST_PRICE_MAX = 32    # longer price texts (and any unusual one) take the scalar path
# bytes: smaller blocks are cheaper frame by frame than with NumPy. NumPy's fixed cost is
# ~60 us hot but ~600 us in a process that slept since the last round (the demo rate): one
# round of 300 symbols (3.3 KB) took 512 us frame by frame and 693 us with NumPy, 500 symbols
# 814 vs 754 us (python -m tools.bench.thresholds). Full-speed chunks are
# 64-256 KiB and always take NumPy.
_SCALAR_BELOW = 4096
_SLICE = 128 * 1024     # bytes NumPy works on at once: its temporaries stay in the CPU cache
_KEY_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(9)], dtype=np.uint64)


class PriceScanner:
    """Validates a block of `SYMBOL,PRICE*` frames (from FrameDecoder.feed_block) and reduces
    it to the latest price of each known symbol plus how many valid ticks it had.

    The rule for one frame is `accept`: the text before the first comma is a known symbol and
    float() of the rest is finite and positive. Big blocks are checked with NumPy: frames
    whose price is plain digits with at most one dot (and a non-zero digit, at most 32
    characters) are valid without calling float(); every other frame goes through `accept`,
    so both paths agree on every frame (tests/test_ingest.py checks this on random input).
    """

    def __init__(self, rows: Dict[bytes, int], max_frame: int = DEFAULT_MAX_FRAME):
        self.rows = dict(rows)  # symbol bytes -> row index
        self.max_frame = max_frame
        self._nrows = max(self.rows.values(), default=-1) + 1
        # A symbol's bytes packed little-endian in a uint64 are its key; a multiplicative hash
        # of the key picks a slot of a small table holding the known (key, length, row).
        # Different known symbols never share a slot; an unknown symbol that lands on a
        # known one's slot fails the exact key and length comparison.
        syms = [s for s in self.rows if 0 < len(s) <= 8]
        self._bits = max(len(syms), 1).bit_length() + 2
        rng = np.random.default_rng(1)
        keys = np.array([int.from_bytes(s, "little") for s in syms], dtype=np.uint64)
        while True:
            self._mult = rng.integers(1, 2 ** 63, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
            slots = self._slot(keys)
            if len(set(slots.tolist())) == len(syms):
                break
        size = 1 << self._bits
        self._slot_key = np.zeros(size, dtype=np.uint64)
        self._slot_len = np.full(size, -1, dtype=np.int64)  # -1: no symbol has this slot
        self._slot_row = np.full(size, -1, dtype=np.int64)
        for s, slot in zip(syms, slots.tolist()):
            self._slot_key[slot] = int.from_bytes(s, "little")
            self._slot_len[slot] = len(s)
            self._slot_row[slot] = self.rows[s]
        self._known = bool(syms)

    def _slot(self, keys: np.ndarray) -> np.ndarray:
        return ((keys * self._mult) >> np.uint64(64 - self._bits)).astype(np.intp)

    def accept(self, frame: bytes) -> Tuple[Optional[int], float]:
        """(row, price) of a valid frame; (None, 0.0) otherwise."""
        sym, _, tail = frame.partition(b",")
        i = self.rows.get(sym)
        if i is not None:
            try:
                price = float(tail)
            except ValueError:
                return None, 0.0
            if 0.0 < price < INF:  # finite and positive (NaN fails too)
                return i, price
        return None, 0.0

    def is_small(self, block: bytes) -> bool:
        """A block cheaper to check frame by frame than with NumPy (a round of a handful of
        symbols): `scan` gives it as a dict, which the book applies row by row."""
        return len(block) < _SCALAR_BELOW or not self._known

    def scan(self, block: bytes):
        """-> (latest {row: (price, ticks)}, rejected frames in order, frames over the cap).
        Empty frames are skipped, as FrameDecoder.feed() does."""
        if self.is_small(block):
            return self._scan_frames(block)
        rows, prices, counts, rejected, oversize = self.scan_arrays(block)
        return (dict(zip(rows.tolist(), zip(prices.tolist(), counts.tolist()))), rejected,
                oversize)

    def scan_arrays(self, block: bytes):
        """-> (rows, latest prices, ticks) as arrays in row order, rejected frames in order,
        frames over the cap: `scan` without a Python step per symbol (a round of 5,000)."""
        if self.is_small(block):
            latest, rejected, oversize = self._scan_frames(block)
            return (*_arrays(latest), rejected, oversize)
        if len(block) <= _SLICE:
            return self._scan_numpy(block)
        price = np.empty(self._nrows)
        ticks = np.zeros(self._nrows, dtype=np.int64)
        rejected: List[bytes] = []
        oversize = 0
        start = 0
        while start < len(block):  # slices that end at a delimiter
            end = block.rfind(MESSAGE_DELIMITER, start, start + _SLICE) + 1
            if end <= start:  # one frame longer than a slice
                end = block.index(MESSAGE_DELIMITER, start + _SLICE) + 1
            rows, prices, counts, rej, over = self._scan_numpy(block[start:end])
            price[rows] = prices  # a later slice's price wins, the counts add up
            ticks[rows] += counts
            rejected += rej
            oversize += over
            start = end
        rows = np.flatnonzero(ticks)
        return rows, price[rows], ticks[rows], rejected, oversize

    def _scan_frames(self, block: bytes):
        latest: Dict[int, Tuple[float, int]] = {}
        rejected: List[bytes] = []
        oversize = 0
        parts = block.split(MESSAGE_DELIMITER)
        parts.pop()  # after the last delimiter: nothing
        accept, cap = self.accept, self.max_frame
        for f in parts:
            if not f:
                continue
            if len(f) > cap:
                oversize += 1
                continue
            i, price = accept(f)
            if i is None:
                rejected.append(f)
            else:
                prev = latest.get(i)
                latest[i] = (price, prev[1] + 1 if prev else 1)
        return latest, rejected, oversize

    def _scratch(self, size: int):
        """Byte-sized work arrays, kept between calls: a fresh 0.5 MB array per slice costs
        page faults every time (~0.7 ms a slice in a VM), more than the work itself."""
        if getattr(self, "_mask", None) is None or len(self._mask) < size:
            self._mask = np.empty(size, dtype=bool)
            self._padded = np.zeros(size + 8, dtype=np.uint8)
            self._class = np.empty(size, dtype=np.uint32)
            self._counts = np.empty(size, dtype=np.uint32)
        return (self._mask[:size], self._padded[:size + 8], self._class[:size],
                self._counts[:size])

    def _scan_numpy(self, block: bytes):
        a = np.frombuffer(block, dtype=np.uint8)
        mask, padded, klass, counts = self._scratch(len(a))
        ends = np.flatnonzero(np.equal(a, MESSAGE_DELIMITER[0], out=mask))
        n = len(ends)
        starts = np.empty(n, dtype=np.int64)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        lens = ends - starts
        over = lens > self.max_frame
        comma, has = _first_commas(np.flatnonzero(np.equal(a, 44, out=mask)), ends)
        sym_len = comma - starts
        price_len = ends - comma - 1
        fast = has & (sym_len >= 1) & (sym_len <= 8) & (price_len >= 1) \
            & (price_len <= _FAST_PRICE_MAX) & ~over
        row, known = self._symbol_rows(a, padded, starts, sym_len)
        fast &= known
        # price: digits with at most one dot and a non-zero digit (so float() is finite and
        # positive): one cumulative sum of byte classes counts all three for every frame
        # (indices of frames without a comma or price are wrong, but they are not `fast`)
        np.cumsum(_PRICE_CLASS.take(a, out=klass), dtype=np.uint32, out=counts)
        c = counts[ends - 1] - counts[comma]
        fast &= ((c & 0xFF) == 0) & (((c >> 8) & 0xFF) <= 1) & ((c >> 16) & 0xFF > 0)
        good = np.flatnonzero(fast)
        rows = row[good]
        ticks = np.bincount(rows, minlength=self._nrows)
        last = np.full(self._nrows, -1, dtype=np.int64)
        np.maximum.at(last, rows, good)
        hit = np.flatnonzero(ticks)
        j = last[hit]
        prices = _parse_prices(padded, comma[j] + 1, ends[j])
        counts = ticks[hit]
        # everything else (rare): the exact rule, frame by frame
        slow = np.flatnonzero(~fast & (lens > 0) & ~over).tolist()
        if not slow:
            return hit, prices, counts, [], int(over.sum())
        latest = dict(zip(hit.tolist(), zip(prices.tolist(), counts.tolist())))
        rejected = self._scan_slow(block, slow, starts, ends, last, latest)
        return (*_arrays(latest), rejected, int(over.sum()))

    def _symbol_rows(self, a, padded, starts, sym_len):
        """Each frame's book row and whether its symbol is known: the symbol's bytes packed
        little-endian in a uint64 (an unaligned 8-byte window at every offset of the
        zero-padded block), looked up among the known keys."""
        padded[:len(a)] = a
        padded[len(a):] = 0
        window = np.ndarray((len(a) + 1,), dtype="<u8", buffer=padded, strides=(1,))
        keys = window[starts] & _KEY_MASKS[np.minimum(sym_len, 8)]
        slot = self._slot(keys)
        known = (self._slot_key[slot] == keys) & (self._slot_len[slot] == sym_len)
        return self._slot_row[slot], known

    def _scan_slow(self, block: bytes, frames: List[int], starts, ends, last,
                   latest: Dict[int, Tuple[float, int]]) -> List[bytes]:
        """The frames the fast path left, by the exact rule: merged into `latest` (a later
        frame's price wins, counts add up); returns the rejected ones."""
        rejected: List[bytes] = []
        slow_latest: Dict[int, Tuple[int, float, int]] = {}
        for j in frames:
            f = block[starts[j]:ends[j]]
            i, price = self.accept(f)
            if i is None:
                rejected.append(f)
            else:
                prev = slow_latest.get(i)
                slow_latest[i] = (j, price, prev[2] + 1 if prev else 1)
        for i, (j, price, count) in slow_latest.items():
            fast_last, fast_count = (int(last[i]), latest[i][1]) if i in latest else (-1, 0)
            latest[i] = (price if j > fast_last else latest[i][0], fast_count + count)
        return rejected


def _arrays(latest: Dict[int, Tuple[float, int]]):
    """{row: (price, ticks)} -> (rows, prices, ticks) arrays in row order."""
    rows = np.array(sorted(latest), dtype=np.intp)
    pairs = [latest[i] for i in rows.tolist()]
    return (rows, np.array([p for p, _ in pairs], dtype=np.float64),
            np.array([c for _, c in pairs], dtype=np.int64))


_POW10 = 10.0 ** np.arange(23)       # exact in float64 up to 1e22


def _parse_prices(padded: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """float() of the price texts padded[starts[i]:ends[i]] (digits with at most one dot, as
    the fast path checked), all at once. With at most 15 digits the digits' integer and the
    power of ten are exact in float64, so their quotient is the correctly rounded value that
    float() gives (the classic fast path of strtod); longer texts go through NumPy's own
    conversion of fixed-width bytes, which is correctly rounded too."""
    m = len(starts)
    if not m:
        return np.empty(0)
    lens = ends - starts
    width = int(lens.max())
    # column c holds every text's c-th byte: Horner's rule a column at a time
    text = padded.take(starts[None, :] + np.arange(width)[:, None], mode="clip")
    value = np.zeros(m, dtype=np.int64)
    ndigits = np.zeros(m, dtype=np.int64)
    decimals = np.zeros(m, dtype=np.int64)
    after_dot = np.zeros(m, dtype=bool)
    for c in range(width):
        inside = lens > c
        digit = inside & (text[c] != 46)  # 46: '.'
        value = np.where(digit, value * 10 + (text[c].astype(np.int64) - 48), value)
        ndigits += digit
        decimals += digit & after_dot
        after_dot |= inside & ~digit
    out = value / _POW10[np.minimum(decimals, 22)]  # (rows past 15 digits: below)
    long_rows = np.flatnonzero(ndigits > 15)
    if len(long_rows):
        cols = text[:, long_rows].T.copy()
        cols[np.arange(width) >= lens[long_rows, None]] = 0  # NUL padding ends each text
        out[long_rows] = cols.view(f"S{width}").ravel().astype(np.float64)
    return out


def _first_commas(commas, ends):
    """(position of the first comma of every frame, whether it has one); frames without a
    comma get their end."""
    n = len(ends)
    if len(commas) == n and (commas < ends).all() and (commas[1:] > ends[:-1]).all():
        return commas, np.ones(n, dtype=bool)  # the usual case: one comma each
    frame_of = np.searchsorted(ends, commas)
    first = np.searchsorted(frame_of, np.arange(n))
    has = first < len(commas)
    has[has] = frame_of[first[has]] == np.flatnonzero(has)
    comma = ends.copy()
    comma[has] = commas[first[has]]
    return comma, has


def to_cents(price: float) -> int:
    """A price in whole cents, as the frames carry it (half-way cases to even, as np.rint)."""
    return round(price * 100)


_FORMAT_BELOW = 64  # prices: fewer are formatted one by one (NumPy's set-up costs ~40 us)


@functools.lru_cache(maxsize=64)
def _prefixes(symbols: tuple) -> tuple:
    """b"SYMBOL," of each symbol, checked once (as a frame would be)."""
    return tuple(frame(f"{check_symbol(s, LocalProtocolError)},".encode("ascii"))[:-1]
                 for s in symbols)


@functools.lru_cache(maxsize=16)
def _prefix_block(symbols: tuple):
    """The prefixes right-aligned in a (symbols x widest) byte array, and where they are
    (not padding): what every round of these symbols starts its frames with."""
    prefixes = _prefixes(symbols)
    pw = max(len(p) for p in prefixes)
    block = np.zeros((len(prefixes), pw), dtype=np.uint8)
    keep = np.zeros((len(prefixes), pw), dtype=bool)
    for c, prefix in enumerate(prefixes):
        block[c, pw - len(prefix):] = np.frombuffer(prefix, dtype=np.uint8)
        keep[c, pw - len(prefix):] = True
    return block, keep


def encode_price_rounds(symbols, cents) -> bytes:
    """The `SYMBOL,PRICE*` frames of a (rounds x symbols) array of prices in whole cents, round
    by round in symbol order, made in one go with NumPy: byte for byte what
    PriceTick(symbol, cents / 100).encode() gives for each, at a fraction of the cost."""
    cents = np.asarray(cents, dtype=np.int64)
    rounds, k = cents.shape
    if k != len(symbols):
        raise LocalProtocolError("one column of prices per symbol")
    if rounds == 0:
        return b""
    if cents.min() < 1:
        raise LocalProtocolError("prices must be positive (at least one cent)")
    prefixes = _prefixes(tuple(symbols))
    if cents.size <= _FORMAT_BELOW:  # a round or two (the Gateway at its demo rate)
        return b"".join(b"%s%d.%02d*" % (prefixes[c], v // 100, v % 100)
                        for row in cents.tolist() for c, v in enumerate(row))
    whole, frac = np.divmod(cents, 100)
    ndigits = len(str(int(whole.max())))
    # Every frame gets a row of the same width: its symbol prefix (right-aligned in the
    # widest prefix), its whole part (right-aligned in the most digits), then ".cc*". The
    # padding is marked in `keep` and squeezed out at the end, leaving the frames in order.
    prefix_block, prefix_keep = _prefix_block(tuple(symbols))
    pw = prefix_block.shape[1]
    width = pw + ndigits + 4
    rows = np.empty((rounds, k, width), dtype=np.uint8)
    keep = np.ones((rounds, k, width), dtype=bool)
    rows[:, :, :pw] = prefix_block
    keep[:, :, :pw] = prefix_keep
    rest = whole
    for d in range(ndigits):  # units digit first, leading zeros dropped
        col = pw + ndigits - 1 - d
        rows[:, :, col] = 48 + rest % 10
        if d:
            keep[:, :, col] = whole >= 10 ** d
        rest = rest // 10
    rows[:, :, -4] = ord(".")
    rows[:, :, -3] = 48 + frac // 10
    rows[:, :, -2] = 48 + frac % 10
    rows[:, :, -1] = MESSAGE_DELIMITER[0]
    return rows[keep].tobytes()
