"""Strategy: reads prices from shared memory and sentiment from the Gateway's news port, runs
the pure SignalEngine, and sends JSON orders to the OrderManager.

    python -m engine.strategy [--news-port 5002] [--order-port 5003] [--shm-name NAME]

It learns of new prices without polling: it registers a UDP "doorbell" port in the price
book's header and the OrderBook sends it one datagram after every batch it applies. That works
the same under the launcher and in a terminal of its own, and a kill -9 of either side leaves
no lock held (a shared multiprocessing Event could deadlock the survivor).
Orders wait in a pending table until acknowledged and are resent, same client_order_id, after
the OrderManager comes back; the OrderManager never logs a resent order twice.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from typing import Dict, Optional

import numpy as np

from .config import Config
from .metrics import Latency, Rejections, reason_of
from .net import (ConnectionClosed, Doorbell, Outage, connect, recv_some, send_all,
                  udp_port_in_use)
from .protocol import (Ack, FrameDecoder, Order, PositionsReply, PositionsRequest,
                       RemoteProtocolError, Sentiment, decode_json)
from .runtime import Reporter, standalone_main
from .shared_memory_utils import SharedPriceBook, SignalBook
from .signals import OrderIntent, SignalEngine, position_label
from .stats import Stats

STALE_AFTER_S = 2.0
DRAIN_TIMEOUT_S = 1.0


# How long the Strategy waits for the OrderManager's answer to its positions request after
# connecting, before it trades from the positions it believes it holds (an OrderManager
# written to the assignment never answers).
POSITIONS_WAIT_S = 1.0

# what OrderLink.send() did with an order
SENT = "sent"            # on the wire; its ack will come
DELIVERED = "delivered"  # on the wire to an OrderManager that sends no acks: done
QUEUED = "queued"        # no connection: it goes out as soon as there is one


class OrderLink:
    """The connection to the OrderManager: sends orders, reads acks, resends the unacknowledged
    after a reconnect. Its reader thread calls on_ack(ack, order, intent, now_ns) and
    on_delivered(order, intent) (an order to an OrderManager that does not acknowledge).

    On a connection made while the positions are unknown it asks the OrderManager for them
    and waits at most POSITIONS_WAIT_S; the answer also tells what kind of peer it is:
      a positions reply      positions recovered; the peer acknowledges orders (ours)
      an ack or a rejection  the peer does not know positions but acknowledges orders
      nothing                an OrderManager written to the bare assignment: it neither
                             answers nor acknowledges, so an order is done once the socket
                             took it (no pending table, no resend)
    Trading waits for the first of these. A reply that comes later is still applied (plus
    what was sent after the request); an ack that comes later switches back to acks."""

    def __init__(self, config: Config, log: logging.Logger, on_ack, rejections: Rejections,
                 account: str = "strategy", on_positions=None, on_delivered=None,
                 positions_wait_s: float = POSITIONS_WAIT_S):
        self.config = config
        self.log = log
        self.on_ack = on_ack
        self.on_delivered = on_delivered
        self.account = account
        self.on_positions = on_positions
        self.positions_wait_s = positions_wait_s
        # set once the OrderManager answered (or did not, within the wait): trading may begin
        self.positions_ready = threading.Event()
        self.positions_known = False  # the OrderManager told us what this account holds
        self.peer_acks: Optional[bool] = None  # does the OrderManager acknowledge orders?
        self._asked_at: Optional[float] = None  # when the request we still wait on was sent
        self._request_open = False  # a request is unanswered (past the wait too)
        self._since_request: Dict[str, int] = {}  # position deltas sent after that request
        self._said_no_answer = False
        self.rejections = rejections
        self.pending: "OrderedDict[str, tuple]" = OrderedDict()
        self.lock = threading.Lock()
        self.sock = None
        self.stop = threading.Event()
        self.outage = Outage(log, f"order manager at {config.host}:{config.order_port}")
        self.sent = 0
        self.resent = 0
        self.acked = 0
        self.rejected = 0
        self.delivered = 0  # sent to an OrderManager that does not acknowledge
        # the latest orders counted as delivered: an ack that still comes for one (a slow
        # OrderManager of ours that missed the wait) is counted and reported as usual
        self.unacked: "OrderedDict[str, tuple]" = OrderedDict()
        self.idle = threading.Condition(self.lock)
        self.thread = threading.Thread(target=self._run, name="order-link", daemon=True)

    def start(self):
        self.thread.start()

    def send(self, order: Order, intent: OrderIntent) -> str:
        """SENT (its ack will come), DELIVERED (to an OrderManager that sends no acks) or
        QUEUED (no connection now: it is sent as soon as there is one)."""
        data = order.encode()
        with self.lock:
            self.pending[order.client_order_id] = (order, intent, data)
            self.sent += 1
            if self.sock is None:
                return QUEUED
            try:
                send_all(self.sock, data)
            except ConnectionClosed as exc:
                self._drop(str(exc))
                return QUEUED
            self._on_wire(intent)
            if self.peer_acks is not False:
                return SENT
            self._delivered(self.pending.pop(order.client_order_id))
        return DELIVERED

    UNACKED_KEPT = 10_000

    def _delivered(self, entry: tuple) -> None:  # holds self.lock
        self.delivered += 1
        self.unacked[entry[0].client_order_id] = entry
        if len(self.unacked) > self.UNACKED_KEPT:
            self.unacked.popitem(last=False)

    def _on_wire(self, intent: OrderIntent) -> None:  # holds self.lock
        if self._request_open:  # not in the positions a reply to it will give
            delta = intent.qty if intent.side == "BUY" else -intent.qty
            self._since_request[intent.symbol] = self._since_request.get(intent.symbol, 0) + delta

    def _drop(self, why: str) -> None:  # holds self.lock
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
            self.outage.lost(why)

    def _greet(self, sock) -> bool:
        """A new connection: ask for positions while they are unknown, then resend what is
        pending. False when the connection broke meanwhile."""
        delivered = []
        with self.lock:
            self.sock = sock
            try:
                if not self.positions_known:
                    send_all(sock, PositionsRequest(account=self.account).encode())
                    self._asked_at = time.monotonic()
                    self._request_open = True
                    self._since_request = {}
                if self.pending:
                    self.resent += len(self.pending)
                    self.log.info("resending %d unacknowledged order(s)", len(self.pending))
                    send_all(sock, b"".join(d for _, _, d in self.pending.values()))
                    for _, intent, _ in self.pending.values():
                        self._on_wire(intent)
                    if self.peer_acks is False:
                        delivered = self._take_pending()
            except ConnectionClosed as exc:
                self._drop(str(exc))
                return False
        self._report_delivered(delivered)
        return True

    def _take_pending(self) -> list:  # holds self.lock
        """Every pending order counts as delivered (the peer sends no acks)."""
        done = [(o, i) for o, i, _ in self.pending.values()]
        for entry in self.pending.values():
            self._delivered(entry)
        self.pending.clear()
        self.idle.notify_all()
        return done

    def _report_delivered(self, done: list) -> None:
        if self.on_delivered:
            for order, intent in done:
                self.on_delivered(order, intent)

    def _run(self) -> None:
        while not self.stop.is_set():
            sock = connect(self.config.connect_host, self.config.order_port, self.stop, self.outage,
                           nodelay=True, auth_token=self.config.auth_token)
            if sock is None:
                return
            sock.settimeout(0.1)
            self.outage.confirmed()  # acks come only for orders: nothing to wait for
            if not self._greet(sock):
                continue
            decoder = FrameDecoder(self.config.max_frame)
            while not self.stop.is_set():
                try:
                    data = recv_some(sock)
                except ConnectionClosed as exc:
                    with self.lock:
                        if self.sock is sock:
                            self._drop(str(exc))
                    break
                if data:
                    now = time.perf_counter_ns()
                    for f in decoder.feed(data):
                        self._ack(f, now)
                self._check_answer()
                with self.lock:
                    if self.sock is not sock:  # the sender dropped it
                        break
        with self.lock:
            if self.sock is not None:
                self.sock.close()
                self.sock = None

    def _check_answer(self) -> None:
        """No answer to the positions request within the wait: an OrderManager that knows
        only the assignment. Trade from the positions held here, and (unless it has
        acknowledged orders before) count an order as done once it is sent."""
        with self.lock:
            if self._asked_at is None or \
                    time.monotonic() - self._asked_at < self.positions_wait_s:
                return
            self._asked_at = None
            delivered = []
            if self.peer_acks is None:
                self.peer_acks = False
                delivered = self._take_pending()
            say = not self._said_no_answer
            self._said_no_answer = True
        if say:
            self.log.warning(
                "the order manager did not answer the positions request within %.1f s: "
                "trading from the positions held here%s", self.positions_wait_s,
                "" if self.peer_acks else "; it sends no acks either, so an order counts "
                "as delivered once sent (no resend after a reconnect)")
        self.positions_ready.set()
        self._report_delivered(delivered)

    def _ack(self, frame: bytes, now_ns: int) -> None:
        try:
            obj = decode_json(frame)
            if obj.get("type") == "positions":
                self._positions(dict(PositionsReply.from_dict(obj).positions))
                return
            ack = Ack.from_dict(obj)
        except RemoteProtocolError as exc:
            self.rejections.reject(reason_of(exc), str(exc))
            return
        with self.lock:
            if self.peer_acks is not True:
                if self.peer_acks is False:
                    self.log.info("the order manager acknowledges orders after all")
                self.peer_acks = True
            coid = ack.client_order_id
            entry = self.pending.pop(coid, None) if coid else None
            if entry is None and coid in self.unacked:  # counted as delivered: it was acked
                entry = self.unacked.pop(coid)
                self.delivered -= 1
            answered = entry is None and self._request_open \
                and ack.client_order_id is None
            if answered:  # its reply to the positions request: it does not know them
                self._asked_at = None
                self._request_open = False
            elif entry is not None:
                if ack.status == "rejected":
                    self.rejected += 1
                else:
                    self.acked += 1
                if not self.pending:
                    self.idle.notify_all()
        if answered:
            self.log.warning("the order manager does not know the positions request (%s): "
                             "trading from the positions held here", ack.reason or ack.status)
            self.positions_ready.set()
            return
        if entry is None:
            if ack.status == "rejected":
                self.log.warning("order manager rejected a frame: %s", ack.reason)
            return
        self.on_ack(ack, entry[0], entry[1], now_ns)

    def _positions(self, held: Dict[str, int]) -> None:
        with self.lock:
            late = self.positions_ready.is_set()
            # what was sent after the request is not in the reply yet
            for sym, delta in self._since_request.items():
                held[sym] = held.get(sym, 0) + delta
            self._asked_at = None
            self._request_open = False
            self._since_request = {}
            self.positions_known = True
            self.peer_acks = True
        if self.on_positions:
            self.on_positions(held, late)
        self.positions_ready.set()

    def drain(self, timeout: float) -> int:
        """Wait (bounded) for outstanding acks; returns how many are still pending."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.pending and self.sock is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.idle.wait(left)
            return len(self.pending)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2.0)


class NewsReader(threading.Thread):
    def __init__(self, config: Config, stop_event, log, on_value, rejections: Rejections):
        super().__init__(name="news", daemon=True)
        self.config, self.stop_event, self.log = config, stop_event, log
        self.on_value = on_value
        self.rejections = rejections
        self.received = 0
        self.outage = Outage(log, f"gateway news at {config.host}:{config.news_port}")

    def run(self) -> None:
        while not self.stop_event.is_set():
            sock = connect(self.config.connect_host, self.config.news_port, self.stop_event,
                           self.outage, auth_token=self.config.auth_token)
            if sock is None:
                return
            sock.settimeout(0.2)
            decoder = FrameDecoder(self.config.max_frame)
            try:
                while not self.stop_event.is_set():
                    data = recv_some(sock)
                    if not data:
                        continue
                    if self.outage.down_since is not None:
                        self.outage.confirmed()
                    for f in decoder.feed(data):
                        try:
                            value = Sentiment.decode(f).value
                        except RemoteProtocolError as exc:
                            self.rejections.reject(reason_of(exc), str(exc))
                            continue
                        self.received += 1
                        self.on_value(value)
            except ConnectionClosed as exc:
                self.outage.lost(str(exc))
            finally:
                sock.close()


def attach_book(cls, name: str, stop_event, log, what: str, lock=None):
    """Attach to a segment, waiting (without spinning) until its owner has created it."""
    logged = False
    while not stop_event.is_set():
        try:
            return cls.attach(name, lock=lock)
        except (FileNotFoundError, ValueError):
            if not logged:
                log.info("waiting for the %s %r to appear (start the OrderBook or the launcher)",
                         what, name)
                logged = True
            stop_event.wait(0.2)
    return None


def open_signal_book(config: Config, log) -> SignalBook:
    lock = threading.Lock()
    try:
        return SignalBook.attach(config.signal_shm_name, lock=lock)
    except FileNotFoundError:
        book = SignalBook(config.symbols, name=config.signal_shm_name, lock=lock)
        log.info("created signal book %r (%d bytes)", book.name, book.nbytes)
        return book


def run_strategy(config: Config, stop_event, reporter: Optional[Reporter] = None,
                 name: str = "strategy") -> None:
    log = logging.getLogger("strategy")
    reporter = reporter or Reporter(None, name)
    book = attach_book(SharedPriceBook, config.shm_name, stop_event, log, "shared price book")
    if book is None:
        return
    symbols = [s for s in config.symbols if s in book.index]
    if len(symbols) < len(config.symbols):
        log.warning("price book has no row for %s; trading %s only",
                    sorted(set(config.symbols) - set(symbols)), symbols)
    signals = open_signal_book(config, log)
    engine = SignalEngine(symbols, config.short_window, config.long_window, config.bullish,
                          config.bearish, config.qty)
    engine_lock = threading.Lock()
    rejections = Rejections(log, "frame")
    tick_to_decision, tick_to_ack = Latency(), Latency()
    session = os.urandom(3).hex()
    counter = [0]

    # why each order was sent (short MA, long MA, sentiment), logged with its ack
    reasons: Dict[str, tuple] = {}

    def describe(order: Order, intent: OrderIntent) -> str:
        short_ma, long_ma, sentiment = reasons.get(order.client_order_id, (0.0, 0.0, None))
        return (f"{order.side} {order.qty} {order.symbol} @ {order.price:.2f} (short "
                f"{short_ma:.3f} {'>' if short_ma > long_ma else '<'} long {long_ma:.3f}, "
                f"sentiment {sentiment}) -> {position_label(intent.target)}")

    def on_ack(ack: Ack, order: Order, intent: OrderIntent, now_ns: int) -> None:
        what = describe(order, intent)
        reasons.pop(order.client_order_id, None)  # the order's fate is known: one line
        if ack.status == "rejected":
            log.warning("%s: rejected by the order manager: %s", what, ack.reason)
            with engine_lock:
                engine.on_rejected(intent)
            return
        if order.tick_ns:
            tick_to_ack.record(now_ns - order.tick_ns)
        # logged once the ack is in, not between sending the order and its ack, where the
        # log's file write and queue hand-off would compete for the CPU with the order
        log.info("%s: order %d%s, %.0f us after the tick", what, ack.order_id,
                 " (resent)" if ack.status == "duplicate" else "",
                 (now_ns - order.tick_ns) / 1e3 if order.tick_ns else float("nan"))

    def on_news(value: int) -> None:
        engine.on_sentiment(value)
        signals.set_sentiment(value)

    def on_positions(held: Dict[str, int], late: bool) -> None:
        with engine_lock:
            for sym in symbols:
                engine.set_position(sym, held.get(sym, 0))
        log.info("positions recovered from the order manager%s: %s",
                 " (its answer came late)" if late else "",
                 ", ".join(f"{s} {position_label(q)} {q:+d}" for s, q in held.items() if s in
                           engine.state) or "all flat")

    def on_delivered(order: Order, intent: OrderIntent) -> None:
        what = describe(order, intent)
        reasons.pop(order.client_order_id, None)
        log.info("%s: sent (the order manager sends no acks), %.0f us after the tick", what,
                 (time.perf_counter_ns() - order.tick_ns) / 1e3 if order.tick_ns
                 else float("nan"))

    link = OrderLink(config, log, on_ack, rejections, account=name, on_positions=on_positions,
                     on_delivered=on_delivered)
    news = NewsReader(config, stop_event, log, on_news, rejections)
    link.start()
    news.start()
    reporter.running(session=session)
    log.info("strategy %s-%s trading %s: MA %d/%d, sentiment >%d buys, <%d sells, qty %d",
             name, session, ",".join(symbols), config.short_window, config.long_window,
             config.bullish, config.bearish, config.qty)

    def reattach(old: SharedPriceBook) -> Optional[SharedPriceBook]:
        """The OrderBook that owned our price book stopped (and unlinked it) and a new one
        created a book under the same name (terminals on macOS and Linux): attach to the new
        one, or we would read the orphan for ever."""
        try:
            fresh = SharedPriceBook.attach(config.shm_name)
        except (FileNotFoundError, ValueError):
            return None
        if not all(s in fresh.index for s in symbols):
            fresh.close()
            return None
        old.remove_doorbell(doorbell.port)
        old.close()
        fresh.add_doorbell(doorbell.port, udp_port_in_use)
        log.info("the price book %r was made anew by a new OrderBook: attached to it",
                 config.shm_name)
        return fresh

    rows = [book.index[s] for s in symbols]
    last_seq = [0] * len(symbols)
    last_counter = -1
    ticks_seen = 0
    stale = False
    # the OrderBook rings this UDP port after every batch it applies (no polling, no lock)
    doorbell = Doorbell()
    book.add_doorbell(doorbell.port, udp_port_in_use)
    signals.set_writer(os.getpid())  # also repairs a seqlock a killed predecessor left odd

    def stats():
        return Stats(orders_sent=link.sent, orders_acked=link.acked,
                     orders_rejected=link.rejected, orders_resent=link.resent,
                     orders_pending=len(link.pending), orders_no_ack=link.delivered,
                     order_manager_acks=link.peer_acks, news_received=news.received,
                     ticks_seen=ticks_seen, bad_frames=rejections.total, stale=stale,
                     positions={s: engine.position(s) for s in symbols},
                     latency_us={"tick_to_decision": tick_to_decision.percentiles_us(),
                                 "tick_to_ack": tick_to_ack.percentiles_us()})

    try:
        while not stop_event.is_set():
            doorbell.wait(0.1)
            count = book.update_counter
            if count == last_counter:
                now = time.perf_counter_ns()
                age = (now - book.last_update_ns) / 1e9 if book.last_update_ns else 0
                if not stale and (age > STALE_AFTER_S or (count and book.writer_pid == 0)):
                    stale = True
                    log.warning("prices are stale (no update for %.1f s): holding positions",
                                age)
                if stale and book.replaced():  # a new OrderBook made the book anew
                    fresh = reattach(book)
                    if fresh is not None:
                        book, last_counter = fresh, -1
                        rows = [book.index[s] for s in symbols]
                        last_seq = [0] * len(symbols)
                        continue
                if not book.add_doorbell(doorbell.port, udp_port_in_use):
                    log.warning("no free doorbell slot in the price book: polling")
                reporter.maybe(stats)
                continue
            last_counter = count
            if stale:
                stale = False
                log.info("prices are flowing again")
            # plain floats and ints under the seqlock: ~3 us, where a NumPy snapshot of the
            # rows and field lookups per symbol took ~10 us (more with cold caches)
            for j, (price, seq, recv_ns) in enumerate(book.read_rows(rows)):
                if seq == last_seq[j]:
                    continue
                last_seq[j] = seq
                sym = symbols[j]
                with engine_lock:
                    # until the OrderManager has told us our positions, only learn prices
                    intent = engine.on_price(sym, price, trade=link.positions_ready.is_set())
                    short_ma, long_ma = engine.averages(sym)
                    position = engine.position(sym)
                decided = time.perf_counter_ns()
                if intent is not None:  # the order first: the rest can wait, it cannot
                    counter[0] += 1
                    order = Order(client_order_id=f"{name}-{session}-{counter[0]}",
                                  side=intent.side, symbol=sym, qty=intent.qty,
                                  price=round(price, 2), tick_ns=recv_ns)
                    reasons[order.client_order_id] = (short_ma, long_ma, engine.sentiment)
                    how = link.send(order, intent)
                    if how == DELIVERED:
                        on_delivered(order, intent)
                    elif how == QUEUED:
                        log.info("%s: waiting for the order manager", describe(order, intent))
                tick_to_decision.record(decided - recv_ns)
                ticks_seen += 1
                signals.publish(sym, short_ma, long_ma, position, decided)
            reporter.maybe(stats)
    finally:
        left = link.drain(DRAIN_TIMEOUT_S)
        if left:
            log.warning("%d order(s) still unacknowledged at exit", left)
        link.close()
        news.join(timeout=1.0)
        book.remove_doorbell(doorbell.port)
        doorbell.close()
        signals.set_writer(0)
        final = stats()
        reporter.send(final)
        owner = signals.owner
        signals.close()
        if owner:
            signals.unlink()
        book.close()
        log.info("strategy stopping: %d orders sent, %d acked, %d rejected; "
                 "tick-to-ack p50 %s us", final.orders_sent, final.orders_acked,
                 final.orders_rejected, final.latency_us["tick_to_ack"]["p50"])


def main(argv=None) -> int:
    return standalone_main("strategy", run_strategy,
                           "Strategy: moving-average crossover gated by news sentiment "
                           "(Ctrl+C stops it).", argv)


if __name__ == "__main__":
    raise SystemExit(main())
