"""OrderDesk: the OrderManager's core, without sockets: order frames in, (acks, the orders
accepted) out, each accepted order in the order log before its ack leaves; then the
confirmations and the printed lines for those orders.

An order written to the bare assignment (no "type", no client_order_id; "quantity"/"action"
for "qty"/"side"; side in any case) is accepted too and given an id of ours (anon-...): such
an order cannot be deduplicated."""
from __future__ import annotations

import logging
import os
import time
from collections import deque
from dataclasses import replace
from typing import Dict, List, Optional

from engine.config.schema import Config
from engine.measure.rejections import Rejections, Variants, reason_of
from engine.protocol import (Ack, Confirm, Order, PositionsReply, PositionsRequest, Rejection,
                             RemoteProtocolError, decode_json, format_received, valid_id)
from engine.protocol.variants import order_reason, read_order_variant

REFUSED_KEPT = 200  # rejected order frames sent again to a desk that connects (<= ~400 B each)


def account_of(client_order_id: str) -> str:
    """'strategy-3f9a-17' -> 'strategy': the part before the session token and counter."""
    parts = client_order_id.rsplit("-", 2)
    return parts[0] if len(parts) == 3 else ""


ASSIGNED_PREFIX = "anon"


class OrderDesk:
    """Sans-socket order handling: frames in, (acks, confirmations, printed lines) out."""

    def __init__(self, config: Config, log: logging.Logger, order_log):
        # order_log: the durable log of record (engine.records.order_log.OrderLog); the desk
        # asks it which ids it knows, adds to it and flushes it before the acks go
        self.symbols = set(config.symbols)
        self.log = log
        self.orders = order_log
        self.rejections = Rejections(log, "order")
        self.variants = Variants(log, "orders")
        self.strict = config.strict_wire  # only the assignment's shape (no variants)
        self.accepted = 0
        self.duplicates = 0
        self.assigned = 0  # orders that came without a client_order_id
        self.refused: List[Rejection] = []  # handle()'s rejections, until take_refused()
        self.recent_refused: deque = deque(maxlen=REFUSED_KEPT)  # a desk's replay
        # the account each connection named (in an order, or asking for its positions): its
        # orders without an account are in it
        self.connection_account: Dict[int, str] = {}
        # ids this OrderManager gives such orders: anon-<run>.<client>-<n>, unique for the
        # connection and, with a random token per run, for the whole order log
        self._run = os.urandom(3).hex()

    def assign_id(self, peer_id: int) -> str:
        self.assigned += 1
        return f"{ASSIGNED_PREFIX}-{self._run}.{peer_id}-{self.assigned}"

    def handle(self, frames: List[bytes], peer_id: int = 0):
        """Returns (replies to the sender, in order; the orders accepted, as (order_id, order)
        pairs for announce()). Every accepted order is on disk (in the OS) when this returns,
        so the replies can go out at once; confirmations and printed lines can wait.
        `peer_id` names the connection in the ids given to orders that carry none."""
        replies: List[bytes] = []
        accepted: List[tuple] = []
        for f in frames:
            obj = None
            try:
                obj = self._read(f, peer_id)
                if obj.get("type") == "positions":
                    replies.append(self._positions(obj, peer_id))
                    continue
                order = Order.from_dict(obj)
                if order.symbol not in self.symbols:
                    raise RemoteProtocolError(f"order: unknown symbol {order.symbol!r}")
            except RemoteProtocolError as exc:
                self.rejections.reject(reason_of(exc), str(exc))
                replies.append(Ack(client_order_id=_coid_of(obj), status="rejected",
                                   reason=str(exc)).encode())
                self.refused.append(Rejection.of(str(exc), f, time.time()))
                continue
            if order.client_order_id is None:  # an order written to the assignment
                order = order.with_id(self.assign_id(peer_id))
            coid = order.client_order_id
            oid = self.orders.seen.get(coid)
            if oid is not None:
                self.duplicates += 1
                replies.append(Ack(client_order_id=coid, order_id=oid, status="duplicate").encode())
                continue
            account = self.account_of(order, peer_id)
            if account != order.account:
                order = replace(order, account=account or None)
            oid = self.orders.add(order, account)
            self.accepted += 1
            replies.append(Ack(client_order_id=coid, order_id=oid, status="accepted",
                               om_ns=time.perf_counter_ns() if order.tick_ns else None
                               ).encode())
            accepted.append((oid, order))
        self.orders.flush()  # on disk (in the OS) before any ack leaves
        return replies, accepted

    def _read(self, frame: bytes, peer_id: int) -> dict:
        """An order frame's JSON object: the assignment's shape, or (unless strict) another
        team's (engine.protocol.variants), counted by name."""
        if self.strict:
            try:
                return decode_json(frame)
            except RemoteProtocolError as exc:
                raise RemoteProtocolError(order_reason(exc)) from None
        try:
            names, obj = read_order_variant(frame)
        except RemoteProtocolError as exc:
            text = order_reason(exc) if str(exc).startswith("invalid JSON") else str(exc)
            raise RemoteProtocolError(text) from None
        for name in names:
            self.variants.accept(name, f"client#{peer_id}")
        return obj

    def account_of(self, order: Order, peer_id: int) -> str:
        """Whose order: the account it names, else the one its connection named, else the
        part of its id before the run token and counter ('fast-3f9a1c-7' -> 'fast')."""
        if order.account:
            self.connection_account.setdefault(peer_id, order.account)
            return order.account
        return self.connection_account.get(peer_id) or account_of(order.client_order_id)

    def forget(self, peer_id: int) -> None:
        """A connection went away."""
        self.connection_account.pop(peer_id, None)

    def take_refused(self) -> List[Rejection]:
        """The rejections since the last call (for the desks listening), kept for a replay."""
        out, self.refused = self.refused, []
        self.recent_refused.extend(out)
        return out

    def refused_replay(self) -> bytes:
        return b"".join(replace(r, replay=True).encode() for r in self.recent_refused)

    @staticmethod
    def announce(accepted: List[tuple]):
        """(confirmations to broadcast, lines to print) for orders handle() accepted: built
        after the acks have left, since nobody waits on them."""
        confirms = [Confirm(order_id=oid, side=o.side, qty=o.qty, symbol=o.symbol, price=o.price,
                             client_order_id=o.client_order_id, account=o.account).encode()
                    for oid, o in accepted]
        return confirms, [format_received(oid, o) for oid, o in accepted]

    def _positions(self, obj: dict, peer_id: int) -> bytes:
        account = PositionsRequest.from_dict(obj).account
        self.connection_account.setdefault(peer_id, account)
        held = {s: q for s, q in self.orders.positions.get(account, {}).items() if q}
        self.log.info("positions of %r: %s", account, held or "flat")
        return PositionsReply(account=account, positions=held).encode()


def _coid_of(obj: Optional[dict]) -> Optional[str]:
    coid = obj.get("client_order_id") if obj else None
    return coid if valid_id(coid) else None

