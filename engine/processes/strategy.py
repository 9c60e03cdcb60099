"""Strategy: reads prices from shared memory and sentiment from the Gateway's news port, runs
the pure SignalEngine, and sends JSON orders to the OrderManager.

    python -m engine.strategy [--news-port 5002] [--order-port 5003] [--account NAME]

Its orders are in its account (its name by default: several Strategies side by side each
have theirs). It learns of new prices without polling: it registers a UDP "doorbell" port in the price
book's header and the OrderBook sends it one datagram after every batch it applies. That works
the same under the launcher and in a terminal of its own, and a kill -9 of either side leaves
no lock held (a shared multiprocessing Event could deadlock the survivor).
Orders wait in the link's ledger until acknowledged and are resent, same client_order_id,
after the OrderManager comes back (engine/order_link.py); the OrderManager never logs a
resent order twice. One thread serves the doorbell, the news and the orders' socket (a
ClientLoop, engine/net/links.py): an ack never waits for another thread to win the GIL.
Long: one loop, its books, its link and its news, and their lines.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

from engine.config.schema import Config
from engine.measure import trace
from engine.measure.hops import HopTracer
from engine.measure.latency import Latency
from engine.measure.rejections import Rejections
from engine.measure.stats import Stats
from engine.net import tls
from engine.net.doorbell import Doorbell, udp_port_in_use
from engine.net.idle import IdleStrategy
from engine.net.links import ClientLoop
from engine.protocol import Ack, Order
from engine.shm.price_book import SharedPriceBook, staleness
from engine.shm.signal_book import SignalBook
from engine.trading.order_ledger import DELIVERED, QUEUED, SENT
from engine.trading.signals import OrderIntent, SignalEngine, position_label
from engine.trading.vector_signals import VectorSignalEngine

from .news_link import NewsLink
from .order_link import OrderLink
from .reports import Reporter
from .shell import fatal, process_main

DRAIN_TIMEOUT_S = 1.0
BELL_CHECK_S = 1.0  # how often a Strategy checks its doorbell is still registered

# From this many symbols a round is read, decided and published as arrays (VectorSignalEngine);
# below, symbol by symbol: NumPy's fixed cost in a process that slept is ~450 us a round, one
# symbol ~5-7 us (cold: 64 symbols 451 vs 435 us, 80: 444 vs 506: tools.bench.thresholds).
VECTOR_FROM = 64
# Above this many symbols the stats report only the positions held (a flat universe of
# 5,000 would send 5,000 zeros twice a second).
ALL_POSITIONS_UP_TO = 50


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
    if not config.publish_signals:  # another Strategy of the stack publishes: keep ours here
        return SignalBook(config.symbols, lock=lock, private=True)
    try:
        return SignalBook.attach(config.signal_shm_name, lock=lock)
    except FileNotFoundError:
        book = SignalBook(config.symbols, name=config.signal_shm_name, lock=lock)
        log.info("created signal book %r (%d bytes)", book.name, book.nbytes)
        return book


class StrategyProcess:
    """One run of the Strategy: its books, its pure SignalEngine, its link to the
    OrderManager and its news reader, and the loop that joins them."""

    def __init__(self, config: Config, stop_event, reporter: Optional[Reporter] = None):
        self.config, self.stop_event = config, stop_event
        self.reporter = reporter or Reporter(None, "strategy")
        self.name = self.reporter.name  # its name in the stack: its log's
        self.account = config.account or self.name  # whose orders and positions these are
        self.log = logging.getLogger(self.name)
        self.rejections = Rejections(self.log, "frame")
        self.tick_to_decision, self.tick_to_ack = Latency(), Latency()
        self.hops = HopTracer()  # tick-to-ack hop by hop, for the desk's System map
        self.hops_on = False
        self.session = os.urandom(3).hex()
        self.orders_made = 0
        self.ticks_seen = 0
        self.stale = False
        self.last_counter = -1
        self.reasons: Dict[str, tuple] = {}  # why each order was sent, logged with its fate
        self.bell_check_at = 0.0
        self.bell_missing = False
        self.idle_at = 0.0

    # -- start and stop -------------------------------------------------------------------
    def run(self) -> None:
        if not self._open():
            return
        try:
            self._loop()
        finally:
            self._close()

    def _open(self) -> bool:
        cfg, log = self.config, self.log
        try:
            tls.for_client(cfg)  # a CA file that cannot be used: said now, in one line
        except tls.TlsSetupError as exc:
            fatal(log, str(exc))
        self.book = attach_book(SharedPriceBook, cfg.shm_name, self.stop_event, log,
                                "shared price book")
        if self.book is None:
            return False
        self.symbols = [s for s in cfg.symbols if s in self.book.index]
        self.symbol_set = frozenset(self.symbols)
        if len(self.symbols) < len(cfg.symbols):
            log.warning("price book has no row for %s; trading %s only",
                        sorted(set(cfg.symbols) - set(self.symbols)), self.symbols)
        self.signals = open_signal_book(cfg, log)
        self.vector = len(self.symbols) >= VECTOR_FROM
        self.engine = (VectorSignalEngine if self.vector else SignalEngine)(
            self.symbols, cfg.short_window, cfg.long_window, cfg.bullish, cfg.bearish, cfg.qty)
        self.sig_rows = np.array([self.signals.index[s] for s in self.symbols], dtype=np.intp)
        self.loop = ClientLoop(IdleStrategy(cfg.spin_us))
        self.link = self.loop.add(OrderLink(
            cfg, log, self._on_ack, self.rejections, account=self.account,
            on_positions=self._on_positions, on_delivered=self._on_delivered))
        self.news = self.loop.add(NewsLink(cfg, log, self._on_news, self.rejections))
        self.hops_on = self.hops.install()  # unless a tool has taken the trace hooks
        self.reporter.running(session=self.session)
        log.info("strategy %s-%s trading %s: MA %d/%d, sentiment >%d buys, <%d sells, qty %d",
                 self.name, self.session, ",".join(self.symbols), cfg.short_window,
                 cfg.long_window, cfg.bullish, cfg.bearish, cfg.qty)
        self._use_book(self.book)
        # the OrderBook rings this UDP port after every batch it applies (no polling, no lock)
        self.doorbell = Doorbell()
        self.loop.watch(self.doorbell.sock, self._on_bell, priority=0)  # prices first
        self.book.add_doorbell(self.doorbell.port, udp_port_in_use)
        self.signals.set_writer(os.getpid())  # also repairs a seqlock a killed one left odd
        return True

    def _use_book(self, book: SharedPriceBook) -> None:
        self.book = book
        self.rows = [book.index[s] for s in self.symbols]
        self.row_array = np.array(self.rows, dtype=np.intp)
        self.last_seq = (np.zeros(len(self.symbols), dtype=np.uint64) if self.vector
                         else [0] * len(self.symbols))
        self.last_counter = -1

    def _close(self) -> None:
        left = self.link.drain(DRAIN_TIMEOUT_S)
        if left:
            self.log.warning("%d order(s) still unacknowledged at exit", left)
        self.loop.close()
        self.book.remove_doorbell(self.doorbell.port)
        self.doorbell.close()
        self.signals.set_writer(0)
        final = self._stats()
        if self.hops_on:
            self.hops.uninstall()
        self.reporter.send(final)
        owner = self.signals.owner
        self.signals.close()
        if owner:
            self.signals.unlink()
        self.book.close()
        self.log.info("strategy stopping: %d orders sent, %d acked, %d rejected; tick-to-ack "
                      "p50 %s us", final.orders_sent, final.orders_acked,
                      final.orders_rejected, final.latency_us["tick_to_ack"]["p50"])

    # -- the loop -------------------------------------------------------------------------
    def _loop(self) -> None:
        """Every socket in one select: the doorbell (new prices) first, then the acks and
        the news; the prices are looked at every 0.1 s too, rung or not (a reader that
        found no place for its doorbell polls)."""
        link = self.link
        while not self.stop_event.is_set():
            self.loop.poll(0.1)
            self._on_bell(0)  # (new prices that no ring announced: a reader with no place)
            now = time.monotonic()
            link.tick(now)
            if now >= self.idle_at:
                self.idle_at = now + 0.1
                self._idle()
                self.reporter.maybe(self._stats)
            if now >= self.bell_check_at:  # (another reader may have taken its place)
                self.bell_check_at = now + BELL_CHECK_S
                self._keep_doorbell()

    def _on_bell(self, now_ns: int) -> None:
        """The doorbell rang (now_ns), or the loop looks for new prices without one (0)."""
        if now_ns:
            self.doorbell.drain()
            hook = trace.HOOKS.woke
            if hook is not None:
                hook(time.perf_counter_ns())
        count = self.book.update_counter
        if count != self.last_counter:
            self.last_counter = count
            self._on_prices()

    def _idle(self) -> None:
        """No new prices: say when they go stale, follow a book made anew, keep the bell."""
        book, log = self.book, self.log
        if book.update_counter != self.last_counter:
            return
        if not self.stale:
            why = staleness(book.update_counter, book.writer_pid, book.last_update_ns,
                            time.perf_counter_ns())
            if why:
                self.stale = True
                log.warning("prices are stale (%s): holding positions", why)
        if self.stale and book.replaced():  # a new OrderBook made the book anew
            fresh = self._reattach()
            if fresh is not None:
                self._use_book(fresh)
                return
        self._keep_doorbell()

    def _keep_doorbell(self) -> None:
        if self.book.has_doorbell(self.doorbell.port):
            return
        if self.book.add_doorbell(self.doorbell.port, udp_port_in_use):
            self.bell_missing = False
        elif not self.bell_missing:
            self.bell_missing = True
            self.log.warning("no free doorbell place in the price book (%d readers): polling "
                             "every 0.1 s", SharedPriceBook.MAX_DOORBELLS)

    def _reattach(self) -> Optional[SharedPriceBook]:
        """The OrderBook that owned our price book stopped (and unlinked it) and a new one
        created a book under the same name (terminals on macOS and Linux): attach to the new
        one, or we would read the orphan for ever."""
        try:
            fresh = SharedPriceBook.attach(self.config.shm_name)
        except (FileNotFoundError, ValueError):
            return None
        if not all(s in fresh.index for s in self.symbols):
            fresh.close()
            return None
        self.book.remove_doorbell(self.doorbell.port)
        self.book.close()
        fresh.add_doorbell(self.doorbell.port, udp_port_in_use)
        self.log.info("the price book %r was made anew by a new OrderBook: attached to it",
                      self.config.shm_name)
        return fresh

    def _on_prices(self) -> None:
        if self.stale:
            self.stale = False
            self.log.info("prices are flowing again")
        if self.vector:
            self._on_round_arrays()
        else:
            self._on_round_each()

    def _on_round_each(self) -> None:
        """A handful of symbols: plain floats and ints under the seqlock (~3 us, where a
        NumPy gather costs more for five rows), decided one by one."""
        engine, ticks = self.engine, []
        for j, (price, seq, recv_ns) in enumerate(self.book.read_rows(self.rows)):
            if seq != self.last_seq[j]:
                self.last_seq[j] = seq
                ticks.append((self.symbols[j], price, recv_ns))
        if not ticks:
            return
        orders, done = [], []
        # until the OrderManager has told us our positions, only learn prices
        trade = self.link.positions_ready
        for sym, price, recv_ns in ticks:
            intent = engine.on_price(sym, price, trade=trade)
            short_ma, long_ma = engine.averages(sym)
            done.append((sym, recv_ns, short_ma, long_ma, engine.position(sym)))
            if intent is not None:
                orders.append((intent, recv_ns, (short_ma, long_ma, engine.sentiment)))
        decided = time.perf_counter_ns()
        if orders:  # the orders first: the rest can wait, they cannot
            self._send_round(orders)
        publish = self.signals.publish if self.config.publish_signals else None  # (one a desk)
        for sym, recv_ns, short_ma, long_ma, position in done:
            self.tick_to_decision.record(decided - recv_ns)
            if publish is not None:
                publish(sym, short_ma, long_ma, position, decided)
        self.ticks_seen += len(done)

    def _on_round_arrays(self) -> None:
        """A universe: the changed rows gathered in one read, decided, recorded and published
        as arrays; Python touches only the orders."""
        engine = self.engine
        prices, seqs, recv = self.book.read_columns(self.row_array)
        changed = np.flatnonzero(seqs != self.last_seq)
        if not len(changed):
            return
        self.last_seq[changed] = seqs[changed]
        recv = recv[changed]
        intents = engine.on_prices(changed, prices[changed], trade=self.link.positions_ready)
        short_ma, long_ma = engine.means(changed)
        positions = engine.positions[changed]
        sentiment = engine.sentiment
        decided = time.perf_counter_ns()
        if intents:
            at = np.searchsorted(changed, [engine.index[i.symbol] for i in intents]).tolist()
            self._send_round([(i, int(recv[k]), (float(short_ma[k]), float(long_ma[k]),
                                                  sentiment))
                              for i, k in zip(intents, at)])
        self.tick_to_decision.record_many(decided - recv)
        if self.config.publish_signals:
            self.signals.publish_rows(self.sig_rows[changed], short_ma, long_ma, positions, decided)
        self.ticks_seen += len(changed)

    def _send_round(self, made: List[Tuple[OrderIntent, int, tuple]]) -> None:
        """The orders of one round, (intent, tick time, why) each, in one write."""
        pairs = []
        for intent, recv_ns, why in made:
            self.orders_made += 1
            order = Order(client_order_id=f"{self.name}-{self.session}-{self.orders_made}",
                          side=intent.side, symbol=intent.symbol, qty=intent.qty,
                          price=round(intent.price, 2), tick_ns=recv_ns,
                          account=self.account)
            self.reasons[order.client_order_id] = why
            pairs.append((order, intent))
        fates = self.link.send_many(pairs)
        if SENT in fates:
            self.loop.idle.worked()  # their acks are due: let them find the loop awake
        for (order, intent), how in zip(pairs, fates):
            if how == DELIVERED:
                self._on_delivered(order, intent)
            elif how == QUEUED:
                self.log.info("%s: waiting for the order manager", self._describe(order, intent))

    # -- what the link and the news reader report -----------------------------------------
    def _describe(self, order: Order, intent: OrderIntent) -> str:
        short_ma, long_ma, sentiment = self.reasons.get(order.client_order_id,
                                                        (0.0, 0.0, None))
        return (f"{order.side} {order.qty} {order.symbol} @ {order.price:.2f} (short "
                f"{short_ma:.3f} {'>' if short_ma > long_ma else '<'} long {long_ma:.3f}, "
                f"sentiment {sentiment}) -> {position_label(intent.target)}")

    def _on_ack(self, ack: Ack, order: Order, intent: OrderIntent, now_ns: int) -> None:
        if self.link.pending:
            self.loop.idle.worked()  # more acks are due
        what = self._describe(order, intent)
        self.reasons.pop(order.client_order_id, None)  # the order's fate is known: one line
        if ack.status == "rejected":
            self.log.warning("%s: rejected by the order manager: %s", what, ack.reason)
            self.engine.on_rejected(intent)
            return
        if order.tick_ns:
            self.tick_to_ack.record(now_ns - order.tick_ns)
        # logged once the ack is in, not between sending the order and its ack, where the
        # log's file write and queue hand-off would compete for the CPU with the order
        self.log.info("%s: order %d%s, %.0f us after the tick", what, ack.order_id,
                      " (resent)" if ack.status == "duplicate" else "",
                      (now_ns - order.tick_ns) / 1e3 if order.tick_ns else float("nan"))

    def _on_delivered(self, order: Order, intent: OrderIntent) -> None:
        what = self._describe(order, intent)
        self.reasons.pop(order.client_order_id, None)
        self.log.info("%s: sent (the order manager sends no acks), %.0f us after the tick",
                      what, (time.perf_counter_ns() - order.tick_ns) / 1e3 if order.tick_ns
                      else float("nan"))

    def _on_positions(self, held: Dict[str, int], late: bool) -> None:
        for sym in self.symbols:
            self.engine.set_position(sym, held.get(sym, 0))
        self.log.info("positions recovered from the order manager%s: %s",
                      " (its answer came late)" if late else "",
                      ", ".join(f"{s} {position_label(q)} {q:+d}" for s, q in held.items()
                                if s in self.symbol_set) or "all flat")

    def _on_news(self, value: int) -> None:
        self.engine.on_sentiment(value)
        self.signals.set_sentiment(value)

    def _positions(self) -> Dict[str, int]:
        engine = self.engine
        if len(self.symbols) <= ALL_POSITIONS_UP_TO:
            return {s: engine.position(s) for s in self.symbols}
        held = np.flatnonzero(engine.positions)
        return {self.symbols[j]: int(engine.positions[j]) for j in held.tolist()}

    def _stats(self) -> Stats:
        link, news = self.link, self.news
        latency = {"tick_to_decision": self.tick_to_decision.percentiles_us(),
                   "tick_to_ack": self.tick_to_ack.percentiles_us()}
        if self.hops_on:
            latency["hops"] = self.hops.report()
        return Stats(orders_sent=link.sent, orders_acked=link.acked,
                     orders_rejected=link.rejected, orders_resent=link.resent,
                     orders_pending=len(link.pending), orders_no_ack=link.delivered,
                     order_manager_acks=link.peer_acks, news_received=self.news.received,
                     ticks_seen=self.ticks_seen, bad_frames=self.rejections.total,
                     stale=self.stale,
                     positions=self._positions(), latency_us=latency,
                     links={"news": news.outage.link(news.received),
                            "orders": link.outage.link(link.sent),
                            "acks": {"frames": link.acked + link.rejected},
                            "shm_read": {"frames": self.ticks_seen}})


def run_strategy(config: Config, stop_event, reporter: Optional[Reporter] = None) -> None:
    StrategyProcess(config, stop_event, reporter).run()


main = process_main("strategy", run_strategy, "Strategy: moving-average crossover gated by "
                                              "news sentiment (Ctrl+C stops it).")
