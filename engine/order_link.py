"""The Strategy's link to the OrderManager: a pure ledger of its orders, and a socket shell.

`OrderLedger` is the state machine, with no socket, thread or clock in it (times are passed
in). An order is pending from the moment it is made until its ack says accepted, duplicate
or rejected; after a reconnect every pending order is resent (the OrderManager acknowledges
a resend as a duplicate and never logs it twice).

On a connection made while the positions are unknown it asks the OrderManager for them and
waits at most `positions_wait_s`; the answer also tells what kind of peer it is:

    a positions reply      positions recovered; the peer acknowledges orders (ours)
    an ack or a rejection  the peer does not know positions but acknowledges orders
    nothing                an OrderManager written to the bare assignment: it neither answers
                           nor acknowledges, so an order is done once the socket took it (no
                           pending table, no resend)

Trading waits for the first of these. A reply that comes later is still applied (plus what
was sent after the request); an ack that comes later switches back to acks.

`OrderLink` moves the ledger's bytes over a reconnecting socket, on a reader thread of its
own.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from . import tls, trace
from .config import Config
from .metrics import Rejections, reason_of
from .net import BACKOFF_CAP, ConnectionClosed, Outage, connect, recv_some, send_all
from .protocol import (Ack, FrameDecoder, Order, PositionsReply, PositionsRequest,
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
    kind: str                       # "ack", "positions", "unknown-positions", "stray", "bad"
    ack: Optional[Ack] = None
    order: Optional[Order] = None
    intent: Optional[OrderIntent] = None
    positions: Optional[Dict[str, int]] = None
    late: bool = False              # a positions answer that came after the wait
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
        self.asked_at: Optional[float] = None  # when the request we still wait on was sent
        self.request_open = False      # a request is unanswered (past the wait too)
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
        """What to send on a new connection: the positions request while they are unknown,
        then every pending order again."""
        out = []
        if not self.positions_known:
            out.append(PositionsRequest(account=self.account).encode())
            self.asked_at, self.request_open, self.since_request = now, True, {}
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
            if obj.get("type") == "positions":
                return self._on_positions(PositionsReply.from_dict(obj).positions)
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

    def _on_positions(self, held: Dict[str, int]) -> Outcome:
        held = dict(held)
        for sym, delta in self.since_request.items():  # sent after the request: not in it
            held[sym] = held.get(sym, 0) + delta
        late = self.ready
        self.asked_at, self.request_open, self.since_request = None, False, {}
        self.positions_known = self.ready = True
        self.peer_acks = True
        return Outcome("positions", positions=held, late=late)


class OrderLink:
    """The ledger over a reconnecting socket. `send()` is called from the Strategy's main
    loop; a reader thread connects, greets, reads acks and calls back:
    on_ack(ack, order, intent, now_ns), on_delivered(order, intent) and
    on_positions(held, late)."""

    def __init__(self, config: Config, log: logging.Logger, on_ack: Callable,
                 rejections: Rejections, account: str = "strategy",
                 on_positions: Optional[Callable] = None,
                 on_delivered: Optional[Callable] = None,
                 positions_wait_s: float = POSITIONS_WAIT_S):
        self.config, self.log, self.rejections = config, log, rejections
        self.on_ack, self.on_positions, self.on_delivered = on_ack, on_positions, on_delivered
        self.ledger = OrderLedger(account, positions_wait_s)
        self.positions_ready = threading.Event()  # set once trading may begin
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        self.sock = None
        self.stop = threading.Event()
        self.outage = Outage(log, f"order manager at {config.host}:{config.order_port}")
        self._said_no_answer = False
        self.thread = threading.Thread(target=self._run, name="order-link", daemon=True)

    # counters and state, as the ledger keeps them
    sent = property(lambda self: self.ledger.sent)
    resent = property(lambda self: self.ledger.resent)
    acked = property(lambda self: self.ledger.acked)
    rejected = property(lambda self: self.ledger.rejected)
    delivered = property(lambda self: self.ledger.delivered)
    pending = property(lambda self: self.ledger.pending)
    peer_acks = property(lambda self: self.ledger.peer_acks)
    positions_known = property(lambda self: self.ledger.positions_known)

    def start(self) -> None:
        self.thread.start()

    def send(self, order: Order, intent: OrderIntent) -> str:
        """SENT (its ack will come), DELIVERED (to an OrderManager that sends no acks) or
        QUEUED (no connection now: it is sent as soon as there is one)."""
        return self.send_many([(order, intent)])[0]

    def send_many(self, orders: List[Tuple[Order, OrderIntent]]) -> List[str]:
        """Orders made together (one round, one news value) leave in one write, so the
        OrderManager reads, logs and acks them as one batch; what became of each, in order."""
        with self.lock:
            data = b"".join([self.ledger.new_order(o, i) for o, i in orders])
            if self.sock is None:
                return [QUEUED] * len(orders)
            t0 = time.perf_counter_ns()
            try:
                send_all(self.sock, data)
            except ConnectionClosed as exc:
                self._drop(str(exc))
                return [QUEUED] * len(orders)
            hook = trace.HOOKS.order_sent
            if hook is not None:
                t1 = time.perf_counter_ns()
                for o, _ in orders:
                    hook(o.client_order_id, o.tick_ns or 0, t0, t1)
            return [self.ledger.on_wire(o) for o, _ in orders]

    def _drop(self, why: str) -> None:  # holds self.lock
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
            self.outage.lost(why)

    def _greet(self, sock) -> bool:
        with self.lock:
            self.sock = sock
            if self.ledger.pending:
                self.log.info("resending %d unacknowledged order(s)", len(self.ledger.pending))
            greeting = self.ledger.greeting(time.monotonic())
            try:
                send_all(sock, b"".join(greeting))
            except ConnectionClosed as exc:
                self._drop(str(exc))
                return False
            done = self.ledger.after_greeting()
        self._report_delivered(done)
        return True

    def _report_delivered(self, done: List[Entry]) -> None:
        if self.on_delivered:
            for order, intent, _ in done:
                self.on_delivered(order, intent)

    def _run(self) -> None:
        while not self.stop.is_set():
            sock = connect(self.config.connect_host, self.config.order_port, self.stop,
                           self.outage, nodelay=True, auth_token=self.config.auth_token,
                           tls=tls.for_client(self.config))
            if sock is None:
                return
            sock.settimeout(0.1)
            self.outage.confirmed()  # acks come only for orders: nothing to wait for
            try:
                if self._greet(sock):
                    self._read(sock)
            except Exception:  # a bug here must not leave the Strategy without orders
                self.log.exception("order link: unexpected error; reconnecting")
                with self.lock:
                    if self.sock is sock:
                        self._drop("unexpected error")
                if self.stop.wait(BACKOFF_CAP):
                    break
        with self.lock:
            if self.sock is not None:
                self.sock.close()
                self.sock = None

    def _read(self, sock) -> None:
        decoder = FrameDecoder(self.config.max_frame)
        while not self.stop.is_set():
            try:
                data = recv_some(sock)
            except ConnectionClosed as exc:
                with self.lock:
                    if self.sock is sock:
                        self._drop(str(exc))
                return
            if data:
                now = time.perf_counter_ns()
                for f in decoder.feed(data):
                    self._on_frame(f, now)
            self._check_wait()
            with self.lock:
                if self.sock is not sock:  # the sender dropped it
                    return

    def _check_wait(self) -> None:
        with self.lock:
            done = self.ledger.check_wait(time.monotonic())
        if done is None:
            return
        if not self._said_no_answer:
            self._said_no_answer = True
            self.log.warning(
                "the order manager did not answer the positions request within %.1f s: "
                "trading from the positions held here%s", self.ledger.positions_wait_s,
                "" if self.ledger.peer_acks else "; it sends no acks either, so an order "
                "counts as delivered once sent (no resend after a reconnect)")
        self.positions_ready.set()
        self._report_delivered(done)

    def _on_frame(self, frame: bytes, now_ns: int) -> None:
        with self.lock:
            was_acking = self.ledger.peer_acks
            out = self.ledger.on_frame(frame)
            if not self.ledger.pending:
                self.idle.notify_all()
        hook = trace.HOOKS.ack_received
        if hook is not None and out.ack is not None:
            hook(out.ack.client_order_id, now_ns)
        timed = trace.HOOKS.ack_timed
        if timed is not None and out.ack is not None and out.ack.om_ns:
            timed(out.ack.client_order_id, now_ns, out.ack.om_ns)
        if out.kind == "bad":
            self.rejections.reject(reason_of(out.error), str(out.error))
            return
        if was_acking is False and out.ack is not None:
            self.log.info("the order manager acknowledges orders after all")
        if out.kind == "positions":
            if self.on_positions:
                self.on_positions(out.positions, out.late)
            self.positions_ready.set()
        elif out.kind == "unknown-positions":
            self.log.warning("the order manager does not know the positions request (%s): "
                             "trading from the positions held here",
                             out.ack.reason or out.ack.status)
            self.positions_ready.set()
        elif out.kind == "stray":
            if out.ack.status == "rejected":
                self.log.warning("order manager rejected a frame: %s", out.ack.reason)
        else:
            self.on_ack(out.ack, out.order, out.intent, now_ns)

    def drain(self, timeout: float) -> int:
        """Wait (bounded) for outstanding acks; returns how many are still pending."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.ledger.pending and self.sock is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.idle.wait(left)
            return len(self.ledger.pending)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2.0)
