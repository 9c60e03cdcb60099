"""Wire protocol: sans-IO framing and self-validating message types.

Nothing here touches a socket. `FrameDecoder` buffers bytes and hands out complete frames;
the message classes turn one frame's payload into a typed value or raise:

* `RemoteProtocolError`: the peer sent something we cannot accept. Log it, count it, go on.
* `LocalProtocolError`: we were asked to send something invalid. That is our bug: raise.

Frames are payloads separated by MESSAGE_DELIMITER (`*`). A payload never contains it.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from .config import SYMBOL_RE

MESSAGE_DELIMITER = b"*"
DEFAULT_MAX_FRAME = 64 * 1024
MAX_JSON_DEPTH = 8


class ProtocolError(Exception):
    """Base of both protocol errors."""


class RemoteProtocolError(ProtocolError):
    """The peer sent bad data: reject that frame, count it, keep the connection."""


class LocalProtocolError(ProtocolError):
    """We tried to send something the protocol forbids: a bug on our side."""


class FrameDecoder:
    """Splits a byte stream into frames.

    feed() returns the complete frames found so far, in order. Partial frames wait for more
    bytes. Empty frames (a lone `*`) are skipped. A frame longer than `max_frame` is dropped
    up to the next delimiter and counted in `oversize`: the buffer never grows past the cap.
    """

    __slots__ = ("max_frame", "_buf", "_discarding", "oversize", "frames", "bytes_in")

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME):
        if max_frame < 1:
            raise LocalProtocolError("max_frame must be positive")
        self.max_frame = max_frame
        self._buf = b""
        self._discarding = False
        self.oversize = 0
        self.frames = 0
        self.bytes_in = 0

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame waiting for its delimiter."""
        return len(self._buf)

    def feed(self, data: bytes) -> List[bytes]:
        self.bytes_in += len(data)
        if self._buf:
            data = self._buf + data
            self._buf = b""
        parts = data.split(MESSAGE_DELIMITER)
        tail = parts.pop()
        if self._discarding and parts:
            # the first part ends the oversize frame we were dropping
            parts[0] = b""
            self._discarding = False
        cap = self.max_frame
        out = [p for p in parts if p]
        if out and max(map(len, out)) > cap:
            kept = [p for p in out if len(p) <= cap]
            self.oversize += len(out) - len(kept)
            out = kept
        if self._discarding:
            pass  # still inside an oversize frame: tail is dropped too
        elif len(tail) > cap:
            self.oversize += 1
            self._discarding = True
        else:
            self._buf = tail
        self.frames += len(out)
        return out

    def feed_block(self, data: bytes) -> bytes:
        """feed() without the split: every complete frame, delimiters included, as one block
        of bytes (b"" when there is none), for a caller that parses many small frames at once
        (PriceScanner). The block may hold empty frames and frames over `max_frame`: the
        caller skips and counts those; the buffer and the oversize tail work as in feed()."""
        self.bytes_in += len(data)
        if self._buf:
            data = self._buf + data
            self._buf = b""
        end = data.rfind(MESSAGE_DELIMITER) + 1
        block, tail = data[:end], data[end:]
        if self._discarding and end:
            # the first frame ends the oversize frame we were dropping
            block = block[block.find(MESSAGE_DELIMITER) + 1:]
            self._discarding = False
        if self._discarding:
            pass  # still inside an oversize frame: tail is dropped too
        elif len(tail) > self.max_frame:
            self.oversize += 1
            self._discarding = True
        else:
            self._buf = tail
        return block

    def eof_partial(self) -> bool:
        """True when the stream ended inside a frame (the partial frame is lost)."""
        return bool(self._buf) or self._discarding


def frame(payload: bytes) -> bytes:
    """One frame on the wire; refuses a payload that would break framing."""
    if MESSAGE_DELIMITER in payload:
        raise LocalProtocolError(f"payload contains the delimiter: {payload[:40]!r}")
    if not payload:
        raise LocalProtocolError("empty payload")
    return payload + MESSAGE_DELIMITER


def _finite_positive(value, what: str, err=RemoteProtocolError) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise err(f"{what} is not a number: {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise err(f"{what} must be finite and positive: {value!r}")
    return value


def _symbol(value, err=RemoteProtocolError) -> str:
    if not isinstance(value, str) or not SYMBOL_RE.match(value):
        raise err(f"bad symbol: {value!r}")
    return value


# ---------------------------------------------------------------------------
# Text frames from the Gateway
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PriceTick:
    symbol: str
    price: float

    def __post_init__(self):
        _symbol(self.symbol, LocalProtocolError)
        _finite_positive(self.price, "price", LocalProtocolError)

    def encode(self) -> bytes:
        return frame(f"{self.symbol},{self.price:.2f}".encode("ascii"))

    @classmethod
    def decode(cls, payload: bytes) -> "PriceTick":
        sym, price = parse_price(payload)
        return cls(sym, price)


def parse_price(payload: bytes):
    """`b"AAPL,172.53"` -> ("AAPL", 172.53), validated; RemoteProtocolError otherwise."""
    head, sep, tail = payload.partition(b",")
    if not sep:
        raise RemoteProtocolError(f"price frame without a comma: {payload[:40]!r}")
    try:
        sym = head.decode("ascii")
        price = float(tail)
    except (UnicodeDecodeError, ValueError):
        raise RemoteProtocolError(f"unparsable price frame: {payload[:40]!r}") from None
    _symbol(sym)
    if not (price > 0 and math.isfinite(price)):
        raise RemoteProtocolError(f"price must be finite and positive: {payload[:40]!r}")
    return sym, price


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
_SCALAR_BELOW = 512     # bytes: smaller blocks are cheaper frame by frame than with NumPy
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

    def scan(self, block: bytes):
        """-> (latest {row: (price, ticks)}, rejected frames in order, frames over the cap).
        Empty frames are skipped, as FrameDecoder.feed() does."""
        if len(block) < _SCALAR_BELOW or not self._known:
            return self._scan_frames(block)
        if len(block) <= _SLICE:
            return self._scan_numpy(block)
        latest: Dict[int, Tuple[float, int]] = {}
        rejected: List[bytes] = []
        oversize = 0
        start = 0
        while start < len(block):  # slices that end at a delimiter
            end = block.rfind(MESSAGE_DELIMITER, start, start + _SLICE) + 1
            if end <= start:  # one frame longer than a slice
                end = block.index(MESSAGE_DELIMITER, start + _SLICE) + 1
            part, rej, over = self._scan_numpy(block[start:end])
            for i, (price, count) in part.items():
                prev = latest.get(i)
                latest[i] = (price, count + prev[1]) if prev else (price, count)
            rejected += rej
            oversize += over
            start = end
        return latest, rejected, oversize

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
        # the first comma of every frame (frames without one get their end)
        commas = np.flatnonzero(np.equal(a, 44, out=mask))
        if len(commas) == n and (commas < ends).all() and (commas[1:] > ends[:-1]).all():
            comma, has = commas, np.ones(n, dtype=bool)  # the usual case: one comma each
        else:
            frame_of = np.searchsorted(ends, commas)
            first = np.searchsorted(frame_of, np.arange(n))
            has = first < len(commas)
            has[has] = frame_of[first[has]] == np.flatnonzero(has)
            comma = ends.copy()
            comma[has] = commas[first[has]]
        sym_len = comma - starts
        price_len = ends - comma - 1
        fast = has & (sym_len >= 1) & (sym_len <= 8) & (price_len >= 1) \
            & (price_len <= _FAST_PRICE_MAX) & ~over
        # symbol: its bytes packed little-endian in a uint64 (an unaligned 8-byte window at
        # every offset of the zero-padded block), then looked up among the known keys
        padded[:len(a)] = a
        padded[len(a):] = 0
        window = np.ndarray((len(a) + 1,), dtype="<u8", buffer=padded, strides=(1,))
        keys = window[starts] & _KEY_MASKS[np.minimum(sym_len, 8)]
        slot = self._slot(keys)
        fast &= (self._slot_key[slot] == keys) & (self._slot_len[slot] == sym_len)
        row = self._slot_row[slot]
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
        # everything else (rare): the exact rule, frame by frame
        rejected: List[bytes] = []
        slow_latest: Dict[int, Tuple[int, float, int]] = {}
        for j in np.flatnonzero(~fast & (lens > 0) & ~over).tolist():
            f = block[starts[j]:ends[j]]
            i, price = self.accept(f)
            if i is None:
                rejected.append(f)
            else:
                prev = slow_latest.get(i)
                slow_latest[i] = (j, price, prev[2] + 1 if prev else 1)
        latest: Dict[int, Tuple[float, int]] = {}
        for i in np.flatnonzero(ticks).tolist():
            j = int(last[i])
            latest[i] = (float(block[comma[j] + 1:ends[j]]), int(ticks[i]))
        for i, (j, price, count) in slow_latest.items():
            fast_last, fast_count = (int(last[i]), latest[i][1]) if i in latest else (-1, 0)
            latest[i] = (price if j > fast_last else latest[i][0], fast_count + count)
        return latest, rejected, int(over.sum())


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
    prefixes = [frame(f"{_symbol(s, LocalProtocolError)},".encode("ascii"))[:-1]
                for s in symbols]
    whole, frac = np.divmod(cents, 100)
    ndigits = len(str(int(whole.max())))
    # Every frame gets a row of the same width: its symbol prefix (right-aligned in the
    # widest prefix), its whole part (right-aligned in the most digits), then ".cc*". The
    # padding is marked in `keep` and squeezed out at the end, leaving the frames in order.
    pw = max(len(p) for p in prefixes)
    width = pw + ndigits + 4
    rows = np.empty((rounds, k, width), dtype=np.uint8)
    keep = np.ones((rounds, k, width), dtype=bool)
    for c, prefix in enumerate(prefixes):
        rows[:, c, pw - len(prefix):pw] = np.frombuffer(prefix, dtype=np.uint8)
        keep[:, c, :pw - len(prefix)] = False
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


@dataclass(frozen=True)
class Sentiment:
    value: int

    def __post_init__(self):
        if isinstance(self.value, bool) or not isinstance(self.value, int) or not 0 <= self.value <= 100:
            raise LocalProtocolError(f"sentiment must be an int 0..100: {self.value!r}")

    def encode(self) -> bytes:
        return frame(str(self.value).encode("ascii"))

    @classmethod
    def decode(cls, payload: bytes) -> "Sentiment":
        text = payload.strip()
        if not text.isdigit() or len(text) > 3:
            raise RemoteProtocolError(f"sentiment is not an integer 0..100: {payload[:40]!r}")
        value = int(text)
        if value > 100:
            raise RemoteProtocolError(f"sentiment out of range 0..100: {value}")
        return cls(value)


# ---------------------------------------------------------------------------
# JSON frames between Strategy, OrderManager and listeners
# ---------------------------------------------------------------------------
def _json_depth_ok(payload: bytes) -> bool:
    if payload.count(b"{") + payload.count(b"[") <= MAX_JSON_DEPTH:
        return True  # too few brackets to nest deeper: skip the byte loop (every order, ack)
    depth = 0
    for b in payload:
        if b in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return False
        elif b in (0x5D, 0x7D):
            depth -= 1
    return True


def decode_json(payload: bytes) -> dict:
    """Parse one JSON object frame; RemoteProtocolError on anything else."""
    if not _json_depth_ok(payload):
        raise RemoteProtocolError("JSON nested too deeply")
    try:
        obj = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise RemoteProtocolError(f"invalid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise RemoteProtocolError("JSON frame is not an object")
    return obj


def encode_json(obj: dict) -> bytes:
    """One JSON frame. A `*` can only stand inside a JSON string, where the escape \\u002a
    means the same: so any text (an echoed id, a reason quoting peer data) frames safely."""
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False)
    return frame(text.replace("*", "\\u002a").encode("utf-8"))


def _require(obj: dict, key: str, types, what: str):
    if key not in obj:
        raise RemoteProtocolError(f"{what}: missing field {key!r}")
    value = obj[key]
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise RemoteProtocolError(f"{what}: {key} has the wrong type")
    if not isinstance(value, types):
        raise RemoteProtocolError(f"{what}: {key} has the wrong type ({type(value).__name__})")
    return value


SIDES = ("BUY", "SELL")
MAX_QTY = 1_000_000_000
MAX_ID = 64
# Field names other implementations of the assignment use, with ours first: an order may say
# "quantity" for "qty" and "action" for "side" (see "Interoperating" in the README).
SYNONYMS = {"qty": ("qty", "quantity"), "side": ("side", "action")}


def _field(obj: dict, key: str, types, what: str):
    """The value of `key` or of its one synonym (both given must agree)."""
    present = [k for k in SYNONYMS.get(key, (key,)) if k in obj]
    if not present:
        raise RemoteProtocolError(f"{what}: missing field {key!r}")
    if len(present) > 1:
        a, b = (obj[k].upper() if isinstance(obj[k], str) else obj[k] for k in present)
        if a != b:
            raise RemoteProtocolError(f"{what}: {present[0]} and {present[1]} disagree")
    return _require(obj, present[0], types, what)


def _valid_id(value) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_ID and "*" not in value


@dataclass(frozen=True)
class Order:
    """An order. Ours carry a client_order_id (idempotent resend); an order from another
    team's Strategy, written to the assignment, may come without one (None here): the
    OrderManager then gives it an id of its own."""
    client_order_id: Optional[str]
    side: str
    symbol: str
    qty: int
    price: float
    tick_ns: Optional[int] = None  # recv_ns of the tick that triggered it (latency)

    def __post_init__(self):
        try:
            self.validate(self, LocalProtocolError)
        except RemoteProtocolError as exc:  # pragma: no cover - validate raises err
            raise LocalProtocolError(str(exc)) from None

    @staticmethod
    def validate(o, err=RemoteProtocolError):
        if o.client_order_id is not None and not _valid_id(o.client_order_id):
            raise err(f"order: client_order_id must be a string of 1..{MAX_ID} characters, "
                      f"no '*'")
        if o.side not in SIDES:
            raise err(f"order: side must be BUY or SELL, not {o.side!r}")
        _symbol(o.symbol, err)
        if isinstance(o.qty, bool) or not isinstance(o.qty, int) or not 0 < o.qty <= MAX_QTY:
            raise err(f"order: qty must be a positive integer, not {o.qty!r}")
        _finite_positive(o.price, "order: price", err)

    def to_dict(self) -> dict:
        d = {"type": "order"}
        if self.client_order_id is not None:
            d["client_order_id"] = self.client_order_id
        d.update(side=self.side, symbol=self.symbol, qty=self.qty, price=round(self.price, 6))
        if self.tick_ns is not None:
            d["tick_ns"] = self.tick_ns
        return d

    def encode(self) -> bytes:
        return encode_json(self.to_dict())

    @classmethod
    def from_dict(cls, obj: dict) -> "Order":
        """Liberal in what it accepts (the assignment's bare order: no type, no
        client_order_id, "quantity" or "action", side in any case), strict in the values."""
        what = "order"
        kind = obj.get("type", "order")
        if kind != "order":
            raise RemoteProtocolError(f"expected an order, got type {kind!r}")
        coid = obj.get("client_order_id")
        if coid is not None and not _valid_id(coid):
            raise RemoteProtocolError(f"order: client_order_id must be a string of "
                                      f"1..{MAX_ID} characters, no '*'")
        side = _field(obj, "side", str, what)
        side = side.upper() if side.upper() in SIDES else side  # "buy" is BUY
        symbol = _require(obj, "symbol", str, what)
        qty = _field(obj, "qty", (int, float), what)
        price = _require(obj, "price", (int, float), what)
        if isinstance(qty, float):
            if not qty.is_integer():
                raise RemoteProtocolError(f"order: qty must be a whole number, not {qty!r}")
            qty = int(qty)
        tick_ns = obj.get("tick_ns")
        if tick_ns is not None and (isinstance(tick_ns, bool) or not isinstance(tick_ns, int)):
            raise RemoteProtocolError("order: tick_ns must be an integer")
        order = object.__new__(cls)
        for k, v in (("client_order_id", coid), ("side", side), ("symbol", symbol),
                     ("qty", qty), ("price", float(price)), ("tick_ns", tick_ns)):
            object.__setattr__(order, k, v)
        cls.validate(order)
        return order

    def with_id(self, client_order_id: str) -> "Order":
        return dataclasses.replace(self, client_order_id=client_order_id)

    @classmethod
    def decode(cls, payload: bytes) -> "Order":
        return cls.from_dict(decode_json(payload))


ACK_STATUSES = ("accepted", "duplicate", "rejected")


@dataclass(frozen=True)
class Ack:
    client_order_id: Optional[str]
    order_id: Optional[int]
    status: str
    reason: Optional[str] = None

    def __post_init__(self):
        if self.status not in ACK_STATUSES:
            raise LocalProtocolError(f"bad ack status {self.status!r}")
        if self.status != "rejected" and not isinstance(self.order_id, int):
            raise LocalProtocolError("an accepted ack needs an order_id")

    def to_dict(self) -> dict:
        d = {"type": "ack", "client_order_id": self.client_order_id,
             "order_id": self.order_id, "status": self.status}
        if self.reason:
            d["reason"] = self.reason
        return d

    def encode(self) -> bytes:
        return encode_json(self.to_dict())

    @classmethod
    def decode(cls, payload: bytes) -> "Ack":
        return cls.from_dict(decode_json(payload))

    @classmethod
    def from_dict(cls, obj: dict) -> "Ack":
        if obj.get("type") != "ack":
            raise RemoteProtocolError(f"expected an ack, got type {obj.get('type')!r}")
        status = obj.get("status")
        coid = obj.get("client_order_id")
        oid = obj.get("order_id")
        reason = obj.get("reason")
        if status not in ACK_STATUSES:
            raise RemoteProtocolError(f"ack: bad status {status!r}")
        if coid is not None and not isinstance(coid, str):
            raise RemoteProtocolError("ack: client_order_id must be a string")
        if status != "rejected" and (isinstance(oid, bool) or not isinstance(oid, int)):
            raise RemoteProtocolError("ack: order_id must be an integer")
        if reason is not None and not isinstance(reason, str):
            raise RemoteProtocolError("ack: reason must be a string")
        return cls(coid, oid, status, reason)


@dataclass(frozen=True)
class Confirm:
    order_id: int
    side: str
    qty: int
    symbol: str
    price: float
    client_order_id: Optional[str] = None

    def to_dict(self) -> dict:
        d = {"type": "confirm", "order_id": self.order_id, "side": self.side,
             "qty": self.qty, "symbol": self.symbol, "price": self.price}
        if self.client_order_id:
            d["client_order_id"] = self.client_order_id
        return d

    def encode(self) -> bytes:
        return encode_json(self.to_dict())

    @classmethod
    def decode(cls, payload: bytes) -> "Confirm":
        obj = decode_json(payload)
        if obj.get("type") != "confirm":
            raise RemoteProtocolError(f"expected a confirm, got type {obj.get('type')!r}")
        what = "confirm"
        oid = _require(obj, "order_id", int, what)
        side = _require(obj, "side", str, what)
        qty = _require(obj, "qty", int, what)
        symbol = _require(obj, "symbol", str, what)
        price = _require(obj, "price", (int, float), what)
        if side not in SIDES:
            raise RemoteProtocolError(f"confirm: bad side {side!r}")
        _symbol(symbol)
        _finite_positive(price, "confirm: price")
        coid = obj.get("client_order_id")
        return cls(oid, side, qty, symbol, float(price), coid if isinstance(coid, str) else None)


def positions_request(account: str) -> bytes:
    """Strategy -> OrderManager: which positions does `account` hold (from the order log)?"""
    return encode_json({"type": "positions", "account": account})


def positions_reply(account: str, positions: dict) -> bytes:
    return encode_json({"type": "positions", "account": account, "positions": positions})


def parse_positions(obj: dict) -> dict:
    """Validate a positions reply: {symbol: signed int shares}."""
    pos = obj.get("positions")
    if not isinstance(pos, dict):
        raise RemoteProtocolError("positions: missing positions object")
    out = {}
    for sym, qty in pos.items():
        _symbol(sym)
        if isinstance(qty, bool) or not isinstance(qty, int):
            raise RemoteProtocolError(f"positions: {sym} is not an integer")
        out[sym] = qty
    return out


def format_received(order_id: int, order: Order) -> str:
    """The OrderManager's console line, exactly as the assignment prints it."""
    return f"Received Order {order_id}: {order.side} {order.qty} {order.symbol} @ {order.price:.2f}"


AUTH_PREFIX = b"AUTH "


def auth_frame(token: str) -> bytes:
    return frame(AUTH_PREFIX + token.encode("utf-8"))
