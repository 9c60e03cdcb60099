"""Wire protocol: sans-IO framing and self-validating message types.

Nothing here touches a socket. `FrameDecoder` buffers bytes and hands out complete frames;
the message classes turn one frame's payload into a typed value or raise:

* `RemoteProtocolError`: the peer sent something we cannot accept. Log it, count it, go on.
* `LocalProtocolError`: we were asked to send something invalid. That is our bug: raise.

Frames are payloads separated by MESSAGE_DELIMITER (`*`). A payload never contains it.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import List, Optional

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
    return frame(json.dumps(obj, separators=(",", ":"), allow_nan=False).encode("utf-8"))


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


@dataclass(frozen=True)
class Order:
    client_order_id: str
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
        if not isinstance(o.client_order_id, str) or not 0 < len(o.client_order_id) <= 64:
            raise err("order: client_order_id must be a string of 1..64 characters")
        if o.side not in SIDES:
            raise err(f"order: side must be BUY or SELL, not {o.side!r}")
        _symbol(o.symbol, err)
        if isinstance(o.qty, bool) or not isinstance(o.qty, int) or not 0 < o.qty <= MAX_QTY:
            raise err(f"order: qty must be a positive integer, not {o.qty!r}")
        _finite_positive(o.price, "order: price", err)

    def to_dict(self) -> dict:
        d = {"type": "order", "client_order_id": self.client_order_id, "side": self.side,
             "symbol": self.symbol, "qty": self.qty, "price": round(self.price, 6)}
        if self.tick_ns is not None:
            d["tick_ns"] = self.tick_ns
        return d

    def encode(self) -> bytes:
        return encode_json(self.to_dict())

    @classmethod
    def from_dict(cls, obj: dict) -> "Order":
        what = "order"
        if obj.get("type") != "order":
            raise RemoteProtocolError(f"expected an order, got type {obj.get('type')!r}")
        coid = _require(obj, "client_order_id", str, what)
        side = _require(obj, "side", str, what)
        symbol = _require(obj, "symbol", str, what)
        qty = _require(obj, "qty", (int, float), what)
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
