"""OrderLink: the Strategy's OrderLedger (engine.trading.order_ledger) over a reconnecting
socket to the OrderManager, served by the Strategy's one loop (engine.net.links)."""
from __future__ import annotations

import logging
import time
from typing import Callable, List, Optional, Tuple

from engine.config.schema import Config
from engine.measure import trace
from engine.measure.rejections import Rejections, reason_of
from engine.net import tls
from engine.net.client import Outage
from engine.net.links import Link
from engine.protocol import FrameDecoder, Order
from engine.trading.order_ledger import POSITIONS_WAIT_S, QUEUED, Entry, OrderLedger
from engine.trading.signals import OrderIntent


class OrderLink(Link):
    """The ledger over a reconnecting socket, on the thread of the ClientLoop it is added
    to: `send_many()` writes and the loop reads acks on that one thread, and calls back
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
        self.positions_ready = False  # set once trading may begin
        self.decoder = FrameDecoder(config.max_frame)
        self._said_no_answer = False
        super().__init__(config.connect_host, config.order_port,
                         Outage(log, f"order manager at {config.host}:{config.order_port}"),
                         "orders", nodelay=True, auth_token=config.auth_token,
                         tls=tls.for_client(config))

    # counters and state, as the ledger keeps them
    sent = property(lambda self: self.ledger.sent)
    resent = property(lambda self: self.ledger.resent)
    acked = property(lambda self: self.ledger.acked)
    rejected = property(lambda self: self.ledger.rejected)
    delivered = property(lambda self: self.ledger.delivered)
    pending = property(lambda self: self.ledger.pending)
    peer_acks = property(lambda self: self.ledger.peer_acks)
    positions_known = property(lambda self: self.ledger.positions_known)

    def send_one(self, order: Order, intent: OrderIntent) -> str:
        """SENT (its ack will come), DELIVERED (to an OrderManager that sends no acks) or
        QUEUED (no connection now: it is sent as soon as there is one)."""
        return self.send_many([(order, intent)])[0]

    def send_many(self, orders: List[Tuple[Order, OrderIntent]]) -> List[str]:
        """Orders made together (one round, one news value) leave in one write, so the
        OrderManager reads, logs and acks them as one batch; what became of each, in order."""
        data = b"".join([self.ledger.new_order(o, i) for o, i in orders])
        t0 = time.perf_counter_ns()
        if not self.send(data):
            return [QUEUED] * len(orders)
        hook = trace.HOOKS.order_sent
        if hook is not None:
            t1 = time.perf_counter_ns()
            for o, _ in orders:
                hook(o.client_order_id, o.tick_ns or 0, t0, t1)
        return [self.ledger.on_wire(o) for o, _ in orders]

    def _connected(self) -> None:
        self.outage.confirmed()  # acks come only for orders: nothing to wait for
        self.decoder = FrameDecoder(self.config.max_frame)
        if self.ledger.pending:
            self.log.info("resending %d unacknowledged order(s)", len(self.ledger.pending))
        if self.send(b"".join(self.ledger.greeting(time.monotonic()))):
            self._report_delivered(self.ledger.after_greeting())

    def _report_delivered(self, done: List[Entry]) -> None:
        if self.on_delivered:
            for order, intent, _ in done:
                self.on_delivered(order, intent)

    def _readable(self, data: bytes, now_ns: int) -> None:
        try:
            for f in self.decoder.feed(data):
                self._on_frame(f, now_ns)
        except Exception:  # a bug here must not leave the Strategy without orders
            self.log.exception("order link: unexpected error; reconnecting")
            self.drop("unexpected error")

    def tick(self, now: float) -> None:
        """The loop's every turn: has the wait for the OrderManager's answer run out?"""
        if self.ledger.asked_at is not None:
            self._check_wait(now)

    def _check_wait(self, now: float) -> None:
        done = self.ledger.check_wait(now)
        if done is None:
            return
        if not self._said_no_answer:
            self._said_no_answer = True
            self.log.warning(
                "the order manager %s within %.1f s: trading from the positions held here%s",
                "did not answer the positions request" if self.ledger.greeted else
                "sent no hello (a plain one: it is sent nothing but orders)",
                self.ledger.positions_wait_s,
                "" if self.ledger.peer_acks else "; it sends no acks either, so an order "
                "counts as delivered once sent (no resend after a reconnect)")
        self.positions_ready = True
        self._report_delivered(done)

    def _on_frame(self, frame: bytes, now_ns: int) -> None:
        was_acking = self.ledger.peer_acks
        out = self.ledger.on_frame(frame)
        if out.request is not None:  # a hello: ask now
            self.send(out.request)
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
        if out.kind == "hello":
            if self.ledger.ready:  # it does not keep positions: trade on
                self.positions_ready = True
        elif out.kind == "positions":
            if self.on_positions:
                self.on_positions(out.positions, out.late)
            self.positions_ready = True
        elif out.kind == "unknown-positions":
            self.log.warning("the order manager does not know the positions request (%s): "
                             "trading from the positions held here",
                             out.ack.reason or out.ack.status)
            self.positions_ready = True
        elif out.kind == "stray":
            if out.ack.status == "rejected":
                self.log.warning("order manager rejected a frame: %s", out.ack.reason)
        else:
            self.on_ack(out.ack, out.order, out.intent, now_ns)

    def drain(self, timeout: float) -> int:
        """Serve the loop (bounded) until every order is acknowledged; how many are not."""
        deadline = time.monotonic() + timeout
        while self.ledger.pending and self.sock is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.loop.poll(min(left, 0.05))
        return len(self.ledger.pending)
