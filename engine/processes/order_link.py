"""OrderLink: the Strategy's OrderLedger (engine.trading.order_ledger) over a reconnecting
socket to the OrderManager, on a reader thread of its own."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, List, Optional, Tuple

from engine.config.schema import Config
from engine.measure import trace
from engine.measure.rejections import Rejections, reason_of
from engine.net import tls
from engine.net.client import BACKOFF_CAP, ConnectionClosed, Outage, connect, recv_some, send_all
from engine.protocol import FrameDecoder, Order
from engine.trading.order_ledger import POSITIONS_WAIT_S, QUEUED, Entry, OrderLedger
from engine.trading.signals import OrderIntent


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
                "the order manager %s within %.1f s: trading from the positions held here%s",
                "did not answer the positions request" if self.ledger.greeted else
                "sent no hello (a plain one: it is sent nothing but orders)",
                self.ledger.positions_wait_s,
                "" if self.ledger.peer_acks else "; it sends no acks either, so an order "
                "counts as delivered once sent (no resend after a reconnect)")
        self.positions_ready.set()
        self._report_delivered(done)

    def _on_frame(self, frame: bytes, now_ns: int) -> None:
        with self.lock:
            was_acking = self.ledger.peer_acks
            out = self.ledger.on_frame(frame)
            if out.request is not None and self.sock is not None:  # a hello: ask now
                try:
                    send_all(self.sock, out.request)
                except ConnectionClosed as exc:
                    self._drop(str(exc))
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
        if out.kind == "hello":
            if self.ledger.ready:  # it does not keep positions: trade on
                self.positions_ready.set()
        elif out.kind == "positions":
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
