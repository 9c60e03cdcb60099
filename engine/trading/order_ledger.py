"""OrderLedger: the Strategy's orders and what became of them, a pure state machine (no
socket, thread or clock in it: times are passed in). engine.processes.order_link moves its
bytes.

An order is pending from the moment it is made until its ack says accepted, duplicate or
rejected; after a reconnect every pending order is resent (the OrderManager acknowledges a
resend as a duplicate and never logs it twice).

On a connection made while the positions are unknown it waits at most `positions_wait_s`
for the OrderManager to say what it is; a plain OrderManager is never sent anything but
orders:

    a hello with "positions"  ours: it asks for the positions and waits for the reply
                              (positions recovered; the peer acknowledges orders)
    an ack or a rejection     the peer does not know positions but acknowledges orders
    nothing                   an OrderManager written to the bare assignment: it neither
                              greets nor acknowledges, so it is not asked, and an order is
                              done once the socket took it (no pending table, no resend)

Trading waits for the first of these. A reply that comes later is still applied (plus what
was sent after the request); an ack that comes later switches back to acks.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from engine.protocol import (Ack, Hello, Order, PositionsReply, PositionsRequest,
                             RemoteProtocolError, decode_json)

from .signals import OrderIntent

# How long the Strategy waits for the OrderManager's answer to its positions request after
# connecting, before it trades from the positions it believes it holds (an OrderManager
# written to the assignment never answers).
POSITIONS_WAIT_S = 1.0

# what happened to an order that was sent
SENT = "sent"            # on the wire; its ack will come
DELIVERED = "delivered"  # on the wire to an OrderManager that sends no acks: done
QUEUED = "queued"        # no connection: it goes out as soon as there is one

Entry = Tuple[Order, OrderIntent, bytes]


@dataclass(frozen=True)
class Outcome:
    """What a frame from the OrderManager meant."""
    kind: str                       # "ack", "hello", "positions", "unknown-positions",
    #                                 "stray", "bad"
    ack: Optional[Ack] = None
    order: Optional[Order] = None
    intent: Optional[OrderIntent] = None
    positions: Optional[Dict[str, int]] = None
    late: bool = False              # a positions answer that came after the wait
    request: Optional[bytes] = None  # a hello's: the positions request to send now
    error: Optional[RemoteProtocolError] = None


class OrderLedger:
    """Every order the Strategy made and what became of it. Pure: no I/O."""

    UNACKED_KEPT = 10_000

    def __init__(self, account: str = "strategy", positions_wait_s: float = POSITIONS_WAIT_S):
        self.account = account
        self.positions_wait_s = positions_wait_s
        self.pending: "OrderedDict[str, Entry]" = OrderedDict()
        # the latest orders counted as delivered without an ack: an ack that still comes for
        # one (a slow OrderManager of ours that missed the wait) is counted as usual
        self.unacked: "OrderedDict[str, Entry]" = OrderedDict()
        self.ready = False             # trading may begin
        self.positions_known = False   # the OrderManager told us what this account holds
        self.peer_acks: Optional[bool] = None  # does the OrderManager acknowledge orders?
        self.asked_at: Optional[float] = None  # when the wait for its hello and answer began
        self.request_open = False      # a request is unanswered (past the wait too)
        self.greeted = False           # the OrderManager sent a hello on this connection
        self.since_request: Dict[str, int] = {}  # position deltas sent after that request
        self.sent = self.resent = self.acked = self.rejected = self.delivered = 0

    # -- orders ---------------------------------------------------------------------------
    def new_order(self, order: Order, intent: OrderIntent) -> bytes:
        """Record an order (pending until its fate is known); its bytes to send."""
        data = order.encode()
        self.pending[order.client_order_id] = (order, intent, data)
        self.sent += 1
        return data

    def on_wire(self, order: Order) -> str:
        """The order's bytes left: SENT, or DELIVERED to a peer that sends no acks."""
        entry = self.pending[order.client_order_id]
        self._count_since_request(entry[1])
        if self.peer_acks is not False:
            return SENT
        self._deliver(self.pending.pop(order.client_order_id))
        return DELIVERED

    def _count_since_request(self, intent: OrderIntent) -> None:
        if self.request_open:  # not in the positions a reply to the request will give
            delta = intent.qty if intent.side == "BUY" else -intent.qty
            self.since_request[intent.symbol] = self.since_request.get(intent.symbol, 0) + delta

    def _deliver(self, entry: Entry) -> None:
        self.delivered += 1
        self.unacked[entry[0].client_order_id] = entry
        if len(self.unacked) > self.UNACKED_KEPT:
            self.unacked.popitem(last=False)

    def _deliver_pending(self) -> List[Entry]:
        done = list(self.pending.values())
        for entry in done:
            self._deliver(entry)
        self.pending.clear()
        return done

    # -- a connection ---------------------------------------------------------------------
    def greeting(self, now: float) -> List[bytes]:
        """What to send on a new connection: every pending order again (the positions
        request waits for the OrderManager's hello); while the positions are unknown, the
        wait for its hello begins."""
        out = []
        self.greeted = False
        if not self.positions_known:
            self.asked_at, self.request_open, self.since_request = now, False, {}
        if self.pending:
            self.resent += len(self.pending)
            for _, intent, data in self.pending.values():
                out.append(data)
                self._count_since_request(intent)
        return out

    def after_greeting(self) -> List[Entry]:
        """The greeting left: to a peer that sends no acks, the resent orders are done."""
        return self._deliver_pending() if self.peer_acks is False else []

    def check_wait(self, now: float) -> Optional[List[Entry]]:
        """None while the wait for an answer goes on (or none is awaited). When it has run
        out with no answer: trade on; a peer that never acknowledged is taken to send no acks
        (the pending orders are then done: returned)."""
        if self.asked_at is None or now - self.asked_at < self.positions_wait_s:
            return None
        self.asked_at = None
        self.ready = True
        if self.peer_acks is None:
            self.peer_acks = False
            return self._deliver_pending()
        return []

    # -- frames from the OrderManager -----------------------------------------------------
    def on_frame(self, frame: bytes) -> Outcome:
        try:
            obj = decode_json(frame)
            kind = obj.get("type")
            if kind == "positions":
                return self._on_positions(PositionsReply.from_dict(obj).positions)
            if kind == "hello":
                return self._on_hello(Hello.from_dict(obj))
            ack = Ack.from_dict(obj)
        except RemoteProtocolError as exc:
            return Outcome("bad", error=exc)
        if self.peer_acks is not True:
            self.peer_acks = True
        coid = ack.client_order_id
        entry = self.pending.pop(coid, None) if coid else None
        if entry is None and coid in self.unacked:  # counted as delivered: it was acked
            entry = self.unacked.pop(coid)
            self.delivered -= 1
        if entry is None:
            if self.request_open and coid is None:  # its answer to the request
                self.asked_at, self.request_open, self.ready = None, False, True
                return Outcome("unknown-positions", ack=ack)
            return Outcome("stray", ack=ack)
        if ack.status == "rejected":
            self.rejected += 1
        else:
            self.acked += 1
        return Outcome("ack", ack=ack, order=entry[0], intent=entry[1])

    def _on_hello(self, hello: Hello) -> Outcome:
        """An OrderManager of ours: it acknowledges; one that knows positions is asked for
        this account's (unless they are known), and the request is returned to be sent."""
        self.greeted = True
        if "acks" in hello.features:
            self.peer_acks = True
        if self.positions_known or "positions" not in hello.features:
            if self.asked_at is not None and not self.positions_known:
                self.asked_at, self.ready = None, True  # it will not answer: trade on
            return Outcome("hello")
        self.request_open, self.since_request = True, {}
        return Outcome("hello", request=PositionsRequest(account=self.account).encode())

    def _on_positions(self, held: Dict[str, int]) -> Outcome:
        held = dict(held)
        for sym, delta in self.since_request.items():  # sent after the request: not in it
            held[sym] = held.get(sym, 0) + delta
        late = self.ready
        self.asked_at, self.request_open, self.since_request = None, False, {}
        self.positions_known = self.ready = True
        self.peer_acks = True
        return Outcome("positions", positions=held, late=late)

