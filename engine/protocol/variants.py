"""Shapes other teams send that carry the assignment's meaning, read when the assignment's own
shape does not parse (and never under `--strict-wire`).

    prices  `AAPL,172.53,1700000000.5`                 WITH_TIMESTAMP  (a third field, a time)
            `{"type":"prices","data":{"AAPL":172.5}}`  JSON_PRICES     (symbol -> price, or
            `{"AAPL":172.5,"MSFT":325.2}`                               at the top level)
            `{"symbol":"AAPL","price":172.5}`          JSON_PRICE
    orders  `1700000000,BUY,10,AAPL,172.53`            CSV_ORDER       (timestamp,side,
                                                                        quantity,symbol,price)
            `{"side":..,"sym":"AAPL","px":172.5,..}`   SYM_PX
            `{"id":12,"side":..}`                      PEER_ID         (their own id: a resend
                                                                        of the same order is
                                                                        taken once)

Each reader returns what the assignment's shape would have given (ticks; an order's JSON
object), so the rest of the process never knows a variant came; the caller counts it by name
(`Variants`). Anything else is refused with a reason that says what was expected.
"""
from __future__ import annotations

import hashlib
import json
import math
from typing import List, Optional, Tuple

from .errors import RemoteProtocolError
from .messages import decode_json
from .values import check_symbol

# names, as the log and the stats say them ("accepting prices with a timestamp field from ...")
WITH_TIMESTAMP = "with a timestamp field"
JSON_PRICES = "as a JSON object of symbol -> price"
JSON_PRICE = "as JSON objects with symbol and price"
CSV_ORDER = "in the CSV shape"
SYM_PX = "with sym/px for symbol/price"
PEER_ID = "with their own id"

PRICE_EXPECTED = "expected SYMBOL,PRICE"
ORDER_EXPECTED = ("expected a JSON object with side, symbol, quantity and price "
                  "(or timestamp,side,quantity,symbol,price)")
MAX_PRICES = 10_000  # symbols in one JSON prices frame
_TIME_KEYS = {"type", "time", "timestamp", "ts", "t"}

Ticks = List[Tuple[str, float]]


def _price(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise RemoteProtocolError(f"{what}: the price is not a number")
    try:
        price = float(value)
    except ValueError:
        raise RemoteProtocolError(f"{what}: the price is not a number") from None
    if not (price > 0 and math.isfinite(price)):
        raise RemoteProtocolError(f"{what}: the price must be finite and positive")
    return price


def _number(text: bytes) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def read_price_variant(payload: bytes) -> Tuple[str, Ticks]:
    """(variant name, [(symbol, price)]) of a price frame in another team's shape;
    RemoteProtocolError when it is in none."""
    body = payload.strip()
    if body.startswith(b"{"):
        obj = decode_json(body)
        data = obj.get("data")
        if isinstance(data, dict):
            return JSON_PRICES, _price_map(data)
        if "symbol" in obj and "price" in obj:
            sym = obj["symbol"]
            if not isinstance(sym, str):
                raise RemoteProtocolError("JSON price: the symbol is not text")
            check_symbol(sym)
            return JSON_PRICE, [(sym, _price(obj["price"], "JSON price"))]
        return JSON_PRICES, _price_map({k: v for k, v in obj.items() if k not in _TIME_KEYS})
    parts = body.split(b",")
    if len(parts) == 3 and _number(parts[2]):
        try:
            sym = parts[0].decode("ascii").strip()
        except UnicodeDecodeError:
            raise RemoteProtocolError(f"price frame: {PRICE_EXPECTED}") from None
        check_symbol(sym)
        return WITH_TIMESTAMP, [(sym, _price(parts[1].strip().decode("ascii", "replace"),
                                             "price frame"))]
    raise RemoteProtocolError(f"price frame: {PRICE_EXPECTED}, got {payload[:40]!r}")


def _price_map(data: dict) -> Ticks:
    if not data:
        raise RemoteProtocolError("JSON prices: no symbol in it")
    if len(data) > MAX_PRICES:
        raise RemoteProtocolError(f"JSON prices: more than {MAX_PRICES} symbols")
    out = []
    for sym, value in data.items():
        check_symbol(sym)
        out.append((sym, _price(value, "JSON prices")))
    return out


def read_order_variant(payload: bytes) -> Tuple[List[str], dict]:
    """(variant names, the order as the assignment's JSON object) of an order frame: JSON,
    with sym/px or a peer's own id taken for what they mean, or the CSV shape. Names is empty
    for an order in the assignment's shape."""
    body = payload.strip()
    if body[:1] in (b"{", b"["):
        return normalise_order(decode_json(body))
    return [CSV_ORDER], csv_order(body)


def csv_order(body: bytes) -> dict:
    """`timestamp,side,quantity,symbol,price` -> the order's JSON object."""
    parts = [p.strip() for p in body.split(b",")]
    # (the reason does not quote the frame: it goes back in an ack, and the desk has the
    # frame itself)
    if len(parts) != 5 or not _number(parts[0]):
        raise RemoteProtocolError(f"not an order: {ORDER_EXPECTED}")
    try:
        side, qty, sym, price = (p.decode("ascii") for p in parts[1:])
        quantity = int(qty)
    except (UnicodeDecodeError, ValueError):
        raise RemoteProtocolError(f"CSV order: {ORDER_EXPECTED}") from None
    return {"side": side, "quantity": quantity, "symbol": sym, "price": _price(price,
                                                                               "CSV order")}


def normalise_order(obj: dict) -> Tuple[List[str], dict]:
    """sym/px for symbol/price and a peer's own `id` (when it gives no client_order_id)."""
    names: List[str] = []
    if ("sym" in obj and "symbol" not in obj) or ("px" in obj and "price" not in obj):
        obj = dict(obj)
        if "sym" in obj and "symbol" not in obj:
            obj["symbol"] = obj.pop("sym")
        if "px" in obj and "price" not in obj:
            obj["price"] = obj.pop("px")
        names.append(SYM_PX)
    if obj.get("client_order_id") is None and obj.get("id") is not None:
        coid = peer_order_id(obj)
        if coid is not None:
            obj = dict(obj, client_order_id=coid)
            names.append(PEER_ID)
    return names, obj


def peer_order_id(obj: dict) -> Optional[str]:
    """Our client_order_id for an order that carries the peer's own `id`: the same for a
    resend of the same order (taken once), different for a different order under the same id
    (two peers numbering from 1 never collide). None when the id is no id (a list, a bool)."""
    pid = obj.get("id")
    if isinstance(pid, bool) or not isinstance(pid, (str, int)):
        return None
    text = str(pid).replace("-", "_").replace("*", "_")[:24]
    what = json.dumps([str(pid), obj.get("side", obj.get("action")), obj.get("symbol"),
                       obj.get("quantity", obj.get("qty")), obj.get("price")],
                      default=str, sort_keys=True)
    digest = hashlib.blake2s(what.encode("utf-8"), digest_size=5).hexdigest()
    return f"anon-{digest}-id{text}"


def order_reason(exc: RemoteProtocolError) -> str:
    """A JSON error on an order frame, said with what was expected."""
    return f"not an order: {ORDER_EXPECTED} ({exc})"


__all__ = ["read_price_variant", "read_order_variant", "csv_order", "normalise_order",
           "peer_order_id", "order_reason", "WITH_TIMESTAMP", "JSON_PRICES", "JSON_PRICE",
           "CSV_ORDER", "SYM_PX", "PEER_ID"]
