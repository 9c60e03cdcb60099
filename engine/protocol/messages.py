"""Every message on the wire, declared once with its fields.

Text frames from the Gateway (`PriceTick` `AAPL,172.53`, `Sentiment` `73`) and JSON frames
between the Strategy, the OrderManager and the desk (`Order`, `Ack`, `Confirm`,
`PositionsRequest`, `PositionsReply`). A JSON message is a frozen dataclass whose wire fields
say how they are read (`wire(...)`): one generic `from_dict` reads them all, one `to_dict`
writes them all. A message checks its own values when it is made (`check`): made by us, a bad
value is our bug (LocalProtocolError); read from a peer, the same check says it was theirs
(RemoteProtocolError).

Long: every message of the wire is here, so that each field is declared, read, written and
checked in one place (the way h11 keeps its events in one module); split by message, the
generic reading and writing would be repeated or scattered.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Dict, Optional, Tuple

from .errors import LocalProtocolError, RemoteProtocolError
from .fastpath import encode_price_rounds, to_cents
from .framing import frame
from .values import check_symbol, finite_positive

MAX_JSON_DEPTH = 8
SIDES = ("BUY", "SELL")
MAX_QTY = 1_000_000_000
MAX_ID = 64
AUTH_PREFIX = b"AUTH "


# -- text frames from the Gateway ----------------------------------------------------------------
@dataclass(frozen=True)
class PriceTick:
    symbol: str
    price: float

    def __post_init__(self):
        check_symbol(self.symbol, LocalProtocolError)
        finite_positive(self.price, "price", LocalProtocolError)

    def encode(self) -> bytes:
        """`AAPL,172.53*`: the one encoder of price frames (fastpath), for a single tick."""
        return encode_price_rounds((self.symbol,), [[to_cents(self.price)]])

    @classmethod
    def decode(cls, payload: bytes) -> "PriceTick":
        return cls(*parse_price(payload))


def parse_price(payload: bytes) -> Tuple[str, float]:
    """`b"AAPL,172.53"` -> ("AAPL", 172.53), validated, with the reason when it is not."""
    head, sep, tail = payload.partition(b",")
    if not sep:
        raise RemoteProtocolError(f"price frame without a comma: {payload[:40]!r}")
    try:
        sym = head.decode("ascii")
        price = float(tail)
    except (UnicodeDecodeError, ValueError):
        raise RemoteProtocolError(f"unparsable price frame: {payload[:40]!r}") from None
    check_symbol(sym)
    if not (price > 0 and price != float("inf")):  # (NaN fails too)
        raise RemoteProtocolError(f"price must be finite and positive: {payload[:40]!r}")
    return sym, price


@dataclass(frozen=True)
class Sentiment:
    value: int

    def __post_init__(self):
        if isinstance(self.value, bool) or not isinstance(self.value, int) or \
                not 0 <= self.value <= 100:
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


def auth_frame(token: str) -> bytes:
    """`AUTH <token>*`: a client's first frame when the servers want a token."""
    return frame(AUTH_PREFIX + token.encode("utf-8"))


# -- JSON ----------------------------------------------------------------------------------------
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


# one encoder for every frame: json.dumps with options builds a new JSONEncoder per call
_ENCODE = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def encode_json(obj: dict) -> bytes:
    """One JSON frame. A `*` can only stand inside a JSON string, where the escape \\u002a
    means the same: so any text (an echoed id, a reason quoting peer data) frames safely."""
    text = _ENCODE(obj)
    if "*" in text:
        text = text.replace("*", "\\u002a")
    return frame(text.encode("utf-8"))


@dataclass(frozen=True)
class Wire:
    """How one field is read from a peer's JSON object."""
    types: tuple                  # accepted JSON types (bool only when listed)
    aliases: tuple = ()           # other names other implementations use for it
    optional: bool = False        # may be absent (or null): the field's default then
    convert: Any = None           # value -> value, after the type check


def wire(*types, aliases=(), optional=False, convert=None, default=None):
    """A message field that travels on the wire."""
    spec = Wire(tuple(types), tuple(aliases), optional, convert)
    if optional:
        return field(default=default, metadata={"wire": spec})
    return field(metadata={"wire": spec})


class Message:
    """A JSON message: TYPE, its wire fields, and check() for its values."""
    TYPE: ClassVar[str]
    TYPE_REQUIRED: ClassVar[bool] = True  # False: a peer may leave out "type" (orders)

    def __post_init__(self):
        self.check(LocalProtocolError)

    def check(self, err) -> None:  # overridden where values have rules beyond their types
        pass

    @classmethod
    def wire_fields(cls) -> tuple:
        """(name, Wire, omit when None) of each wire field, read from the dataclass once
        (every order, ack and confirmation goes through here: a round of 5,000 symbols
        can make hundreds at once)."""
        cached = cls.__dict__.get("_wire_fields")
        if cached is None:
            cached = tuple((f.name, f.metadata["wire"], f.metadata.get("omit_none", True))
                           for f in fields(cls) if "wire" in f.metadata)
            setattr(cls, "_wire_fields", cached)
        return cached

    def to_dict(self) -> dict:
        out = {"type": self.TYPE}
        for name, spec, omit_none in self.wire_fields():
            value = getattr(self, name)
            if not (value is None and spec.optional and omit_none):
                out[name] = value
        return out

    def encode(self) -> bytes:
        return encode_json(self.to_dict())

    @classmethod
    def from_dict(cls, obj: dict):
        """Read a peer's object (already JSON-decoded): RemoteProtocolError when it is not one
        of ours, with the reason."""
        what = cls.TYPE
        kind = obj.get("type", None if cls.TYPE_REQUIRED else cls.TYPE)
        if kind != cls.TYPE:
            raise RemoteProtocolError(f"expected {_a(cls.TYPE)}, got type {kind!r}")
        values = {}
        for name, spec, _ in cls.wire_fields():
            if spec.aliases:
                present = [n for n in (name, *spec.aliases) if obj.get(n) is not None]
            else:
                present = [name] if obj.get(name) is not None else []
            if not present:
                if spec.optional:
                    continue
                raise RemoteProtocolError(f"{what}: missing field {name!r}")
            value = obj[present[0]]
            if len(present) > 1 and _norm(obj[present[1]]) != _norm(value):
                raise RemoteProtocolError(f"{what}: {present[0]} and {present[1]} disagree")
            if isinstance(value, bool) and bool not in spec.types or \
                    not isinstance(value, spec.types):
                raise RemoteProtocolError(
                    f"{what}: {present[0]} has the wrong type ({type(value).__name__})")
            values[name] = spec.convert(value) if spec.convert else value
        try:
            return cls(**values)
        except LocalProtocolError as exc:  # the same check, but the values were theirs
            raise RemoteProtocolError(str(exc)) from None

    @classmethod
    def decode(cls, payload: bytes):
        return cls.from_dict(decode_json(payload))


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _norm(value):
    return value.upper() if isinstance(value, str) else value


def _side(value: str) -> str:
    """A side in any case ("buy" is BUY); anything else stays as it is, to be refused."""
    return value.upper() if value.upper() in SIDES else value


def _whole(value):
    """A quantity: 10 or 10.0, not 10.5 (JSON has one kind of number)."""
    if isinstance(value, float):
        if not value.is_integer():
            raise RemoteProtocolError(f"order: qty must be a whole number, not {value!r}")
        return int(value)
    return value


def valid_id(value) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_ID and "*" not in value


def _check_id(value, what: str, err) -> None:
    if value is not None and not valid_id(value):
        raise err(f"{what}: client_order_id must be a string of 1..{MAX_ID} characters, "
                  f"no '*'")


@dataclass(frozen=True, kw_only=True)
class Order(Message):
    """An order. Ours carry a client_order_id (an idempotent resend); one from another
    team's Strategy, written to the assignment, may come without one (and without "type",
    with "quantity" for qty and "action" for side, the side in any case): the OrderManager
    then gives it an id of its own (`with_id`)."""
    TYPE: ClassVar[str] = "order"
    TYPE_REQUIRED: ClassVar[bool] = False
    client_order_id: Optional[str] = wire(str, optional=True)
    side: str = wire(str, aliases=("action",), convert=_side)
    symbol: str = wire(str)
    qty: int = wire(int, float, aliases=("quantity",), convert=_whole)
    price: float = wire(int, float, convert=float)
    tick_ns: Optional[int] = wire(int, optional=True)  # recv_ns of the tick behind it
    # whose order (a Strategy's account); without one it is in the account of its connection
    account: Optional[str] = wire(str, optional=True)

    def check(self, err) -> None:
        _check_id(self.client_order_id, "order", err)
        if self.account is not None and not valid_id(self.account):
            raise err(f"order: account must be a string of 1..{MAX_ID} characters, "
                      f"not {self.account!r}")
        if self.side not in SIDES:
            raise err(f"order: side must be BUY or SELL, not {self.side!r}")
        check_symbol(self.symbol, err)
        if isinstance(self.qty, bool) or not isinstance(self.qty, int) or \
                not 0 < self.qty <= MAX_QTY:
            raise err(f"order: qty must be a positive integer, not {self.qty!r}")
        finite_positive(self.price, "order: price", err)

    def to_dict(self) -> dict:
        """Ours, with the assignment's spellings a plain OrderManager reads as well:
        `quantity` (the same as qty) and `id` (the client_order_id)."""
        d = super().to_dict()
        d["price"] = round(self.price, 6)
        d["quantity"] = self.qty
        if self.client_order_id is not None:
            d["id"] = self.client_order_id
        return d

    # Fast paths for the usual shapes (a burst of hundreds of orders from a universe): the
    # same bytes and the same values as the generic to_dict/from_dict, which every other
    # shape still takes (tests/test_protocol.py compares both on arbitrary input).
    def encode(self) -> bytes:
        coid, price, tick, acct = self.client_order_id, self.price, self.tick_ns, self.account
        if type(price) is not float or (tick is not None and type(tick) is not int):
            return super().encode()
        head = '{"type":"order"' if coid is None else \
            '{"type":"order","client_order_id":' + _ENCODE(coid)
        tail = ("" if tick is None else f',"tick_ns":{tick}') + \
            ("" if acct is None else ',"account":' + _ENCODE(acct)) + \
            f',"quantity":{self.qty}' + ("}" if coid is None else ',"id":' + _ENCODE(coid) + "}")
        return (f'{head},"side":"{self.side}","symbol":"{self.symbol}","qty":{self.qty},'
                f'"price":{round(price, 6)!r}{tail}*').encode("utf-8")

    @classmethod
    def from_dict(cls, obj: dict):
        if ("action" in obj or obj.get("type", "order") != "order"
                or ("quantity" in obj and obj["quantity"] != obj.get("qty"))
                or type(obj.get("client_order_id")) not in _STR_OR_NONE
                or type(obj.get("side")) is not str or type(obj.get("symbol")) is not str
                or type(obj.get("qty")) is not int or type(obj.get("price")) not in _NUMBER
                or type(obj.get("tick_ns")) not in _INT_OR_NONE
                or type(obj.get("account")) not in _STR_OR_NONE):
            return super().from_dict(obj)
        try:
            return cls(client_order_id=obj.get("client_order_id"), side=_side(obj["side"]),
                       symbol=obj["symbol"], qty=obj["qty"], price=float(obj["price"]),
                       tick_ns=obj.get("tick_ns"), account=obj.get("account"))
        except LocalProtocolError as exc:  # the same check, but the values were theirs
            raise RemoteProtocolError(str(exc)) from None

    def with_id(self, client_order_id: str) -> "Order":
        from dataclasses import replace
        return replace(self, client_order_id=client_order_id)


_STR_OR_NONE = (str, type(None))
_INT_OR_NONE = (int, type(None))
_NUMBER = (int, float)
ACK_STATUSES = ("accepted", "duplicate", "rejected")


@dataclass(frozen=True, kw_only=True)
class Ack(Message):
    """The OrderManager's answer to one order frame. A rejection carries a reason (and the
    client_order_id when the frame had a usable one)."""
    TYPE: ClassVar[str] = "ack"
    client_order_id: Optional[str] = field(default=None, metadata={
        "wire": Wire((str,), optional=True), "omit_none": False})
    order_id: Optional[int] = field(default=None, metadata={
        "wire": Wire((int,), optional=True), "omit_none": False})
    status: str = wire(str)
    reason: Optional[str] = wire(str, optional=True)
    # when the OrderManager handled the order (perf_counter_ns), for a client whose orders
    # carry tick_ns (ours: the desk's hop-by-hop latency); a plain peer never gets it
    om_ns: Optional[int] = wire(int, optional=True)

    def encode(self) -> bytes:
        """The generic frame's bytes; an ack without a reason (every accepted one) is
        written directly."""
        oid, om = self.order_id, self.om_ns
        if self.reason is not None or (oid is not None and type(oid) is not int) or \
                (om is not None and type(om) is not int):
            return super().encode()
        timed = "" if om is None else f',"om_ns":{om}'
        return (f'{{"type":"ack","client_order_id":{_ENCODE(self.client_order_id)},'
                f'"order_id":{"null" if oid is None else oid},"status":"{self.status}"'
                f'{timed}}}*').encode("utf-8")

    def check(self, err) -> None:
        if self.status not in ACK_STATUSES:
            raise err(f"ack: bad status {self.status!r}")
        if self.status != "rejected" and (isinstance(self.order_id, bool)
                                          or not isinstance(self.order_id, int)):
            raise err("ack: an accepted ack needs an integer order_id")


@dataclass(frozen=True, kw_only=True)
class Confirm(Message):
    """What the OrderManager broadcasts to listeners for every order it logged. Sent again to
    a listener that connects (after a `SessionState`), it carries `replay` and the `time` the
    order was logged (epoch seconds)."""
    TYPE: ClassVar[str] = "confirm"
    order_id: int = wire(int)
    side: str = wire(str)
    qty: int = wire(int)
    symbol: str = wire(str)
    price: float = wire(int, float, convert=float)
    client_order_id: Optional[str] = wire(str, optional=True)
    time: Optional[float] = wire(int, float, optional=True, convert=float)
    replay: Optional[bool] = wire(bool, optional=True)
    account: Optional[str] = wire(str, optional=True)  # whose order (a Strategy's account)

    def check(self, err) -> None:
        if self.side not in SIDES:
            raise err(f"confirm: bad side {self.side!r}")
        check_symbol(self.symbol, err)
        finite_positive(self.price, "confirm: price", err)


@dataclass(frozen=True, kw_only=True)
class SessionRequest(Message):
    """A confirmation listener -> the OrderManager: send me the session so far. Optional: a
    listener that never asks gets the live confirmations only, as a plain one expects."""
    TYPE: ClassVar[str] = "session"


@dataclass(frozen=True, kw_only=True)
class Rejection(Message):
    """OrderManager -> a confirmation listener that sent a SessionRequest (a desk): an order
    frame it refused and why, as the sender's rejection ack said. A plain listener never
    asks, so it never gets one. Sent again (replay set) after a SessionState, for the latest
    ones of the session."""
    TYPE: ClassVar[str] = "rejected"
    reason: str = wire(str)
    frame: str = wire(str)   # the start of the refused frame, as text (at most FRAME_SHOWN)
    time: float = wire(int, float, convert=float)
    replay: Optional[bool] = wire(bool, optional=True)

    FRAME_SHOWN: ClassVar[int] = 200

    @classmethod
    def of(cls, reason: str, frame: bytes, t: float) -> "Rejection":
        text = frame[:cls.FRAME_SHOWN].decode("utf-8", errors="replace")
        return cls(reason=reason[:cls.FRAME_SHOWN], frame=text, time=t)


@dataclass(frozen=True, kw_only=True)
class SessionState(Message):
    """OrderManager -> a confirmation listener that sent a SessionRequest: the session so far
    (orders logged, position and fills per symbol over every account), then the last `replay`
    orders as Confirm frames with replay set; the live confirmations go on after them."""
    TYPE: ClassVar[str] = "state"
    orders: int = wire(int)
    positions: Dict[str, int] = wire(dict)
    fills: Dict[str, int] = wire(dict)
    replay: int = wire(int)
    # per symbol [average entry price, realized P&L in cents] (engine/trading/pnl.py)
    pnl: Optional[Dict[str, list]] = wire(dict, optional=True)
    # the same three per account: {account: {"positions": ..., "fills": ..., "pnl": ...}}
    accounts: Optional[Dict[str, dict]] = wire(dict, optional=True)

    def check(self, err) -> None:
        _check_book(self.positions, self.fills, self.pnl, "state", err)
        for account, book in (self.accounts or {}).items():
            if not valid_id(account) or not isinstance(book, dict):
                raise err(f"state: account {account!r} is not a name with its book")
            _check_book(book.get("positions", {}), book.get("fills", {}), book.get("pnl"),
                        f"state of {account}", err)


def _check_book(positions, fills, pnl, what: str, err) -> None:
    _check_counts(positions, what, err)
    _check_counts(fills, what, err)
    if not isinstance(pnl, (dict, type(None))):
        raise err(f"{what}: its P&L is not a table")
    for sym, pair in (pnl or {}).items():
        check_symbol(sym, err)
        if not (isinstance(pair, list) and len(pair) == 2 and
                all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair)):
            raise err(f"{what}: the P&L of {sym} is not [average, realized cents]")


HELLO_FEATURES = ("acks", "positions", "accounts")


def is_hello(frame: bytes) -> bool:
    """The OrderManager's greeting (our encoding starts so): what a client that reads only
    acks skips."""
    return frame.startswith(b'{"type":"hello"')


@dataclass(frozen=True, kw_only=True)
class Hello(Message):
    """OrderManager -> every order client, as it connects: what it does beyond the assignment.
    Our Strategy sends its positions request only to an OrderManager whose hello lists
    "positions": a plain OrderManager says nothing, so it is sent nothing but orders. A plain
    Strategy may ignore the hello as it ignores the acks."""
    TYPE: ClassVar[str] = "hello"
    server: str = wire(str)
    features: list = wire(list)

    def check(self, err) -> None:
        if not all(isinstance(f, str) for f in self.features):
            raise err("hello: features must be names")


@dataclass(frozen=True, kw_only=True)
class PositionsRequest(Message):
    """Strategy -> OrderManager: which positions does `account` hold (from the order log)?"""
    TYPE: ClassVar[str] = "positions"
    account: str = wire(str)

    def check(self, err) -> None:
        if not valid_id(self.account):
            raise err(f"positions: account must be a string of 1..{MAX_ID} characters, "
                      f"no '*'")


@dataclass(frozen=True, kw_only=True)
class PositionsReply(Message):
    """OrderManager -> Strategy: {symbol: signed shares} of an account."""
    TYPE: ClassVar[str] = "positions"
    account: str = wire(str)
    positions: Dict[str, int] = wire(dict)

    def check(self, err) -> None:
        _check_counts(self.positions, "positions", err)


def _check_counts(book: Dict[str, int], what: str, err) -> None:
    """{symbol: whole number}: a valid symbol each, an int each (not a bool)."""
    for sym, qty in book.items():
        check_symbol(sym, err)
        if isinstance(qty, bool) or not isinstance(qty, int):
            raise err(f"{what}: {sym} is not an integer")


def format_received(order_id: int, order: Order) -> str:
    """The OrderManager's console line, exactly as the assignment prints it."""
    return (f"Received Order {order_id}: {order.side} {order.qty} {order.symbol} @ "
            f"{order.price:.2f}")
