"""The Strategy serves every socket it has (the doorbell, the news, the orders and their
acks) on one thread: an ack never waits for another thread to win the GIL. A real
OrderManager and a plain news server run on threads of this test; the Strategy's loop runs
on a thread of its own, whose identity every handler must share."""
from __future__ import annotations

import dataclasses
import socket
import threading

import pytest

from engine import testing
from engine.measure import trace
from engine.net.doorbell import Ringer
from engine.processes.order_manager import OrderManager
from engine.processes.strategy import StrategyProcess
from engine.shm.price_book import SharedPriceBook


class NewsServer(threading.Thread):
    """A plain news port: one client, a sentiment frame every 20 ms (bullish, then bearish
    once `turn` is set, so that the Strategy buys and then sells)."""

    def __init__(self):
        super().__init__(name="test-news", daemon=True)
        self.srv = socket.create_server(("127.0.0.1", 0))
        self.srv.settimeout(0.1)
        self.port = self.srv.getsockname()[1]
        self.done, self.turn = threading.Event(), threading.Event()

    def run(self):
        conn = None
        try:
            while conn is None and not self.done.is_set():
                try:
                    conn, _ = self.srv.accept()
                except socket.timeout:
                    pass
            while conn is not None and not self.done.wait(0.02):
                conn.sendall(b"10*" if self.turn.is_set() else b"90*")
        except OSError:
            pass
        finally:
            if conn is not None:
                conn.close()
            self.srv.close()


class Watched(StrategyProcess):
    """The Strategy, noting the thread each of its sockets' handlers runs on."""

    def __init__(self, *args):
        super().__init__(*args)
        self.threads = {"prices": set(), "news": set(), "acks": set(), "sent": set()}

    def _on_bell(self, now_ns):
        if now_ns:
            self.threads["prices"].add(threading.get_ident())
        super()._on_bell(now_ns)

    def _on_news(self, value):
        self.threads["news"].add(threading.get_ident())
        super()._on_news(value)

    def _on_ack(self, *args):
        self.threads["acks"].add(threading.get_ident())
        super()._on_ack(*args)

    def _send_round(self, made):
        self.threads["sent"].add(threading.get_ident())
        super()._send_round(made)


@pytest.fixture
def running(config, request):
    """An OrderManager and a news server on threads, the price book made here; yields a
    function that starts the Strategy's loop on a thread of its own. Parametrized
    indirectly, the --spin-us of both."""
    news = NewsServer()
    cfg = dataclasses.replace(config, symbols=("AAPL",), short_window=1, long_window=2,
                              news_port=news.port, spin_us=getattr(request, "param", 0))
    book = SharedPriceBook(cfg.symbols, name=cfg.shm_name)
    om_stop, st_stop = threading.Event(), threading.Event()
    manager = OrderManager(cfg, om_stop)
    om = threading.Thread(target=manager.run, name="test-om")
    news.start()
    om.start()
    started = []

    def start():
        strategy = Watched(cfg, st_stop)
        loop = threading.Thread(target=strategy.run, name="strategy-loop")
        before = set(threading.enumerate())
        loop.start()
        started.append(loop)
        return strategy, loop, before

    try:
        yield cfg, book, start, news, manager
    finally:
        st_stop.set()
        for t in started:
            t.join(10)
        om_stop.set()
        news.done.set()
        om.join(10)
        news.join(10)
        book.close()
        book.unlink()


def news_in(strategy) -> int:
    news = getattr(strategy, "news", None)  # (made once the loop has opened its books)
    return news.received if news is not None else 0


def test_one_thread_serves_the_doorbell_the_news_and_the_acks(running):
    cfg, book, start, news, _ = running
    strategy, loop, before = start()
    ringer = Ringer()
    price = [100.0]

    def tick(step):
        price[0] += step
        book.update("AAPL", price[0])
        ringer.ring(book.doorbell_ports())

    def trades(n):
        def cond():
            tick(+0.5 if not news.turn.is_set() else -0.5)
            return strategy.link.acked >= n
        return cond

    try:
        testing.wait_until(lambda: news_in(strategy) >= 3, 10, "news values")
        testing.wait_until(trades(1), 10, "a buy acknowledged")
        news.turn.set()
        testing.wait_until(trades(2), 10, "a sell acknowledged")
        mine = {t.name for t in set(threading.enumerate()) - before if t is not loop}
    finally:
        ringer.close()
    assert strategy.threads["prices"] == {loop.ident}
    assert strategy.threads["news"] == {loop.ident}
    assert strategy.threads["sent"] == {loop.ident}
    assert strategy.threads["acks"] == {loop.ident}, "an ack was read on another thread"
    # besides its loop, the Strategy has only the threads that make connections
    assert mine <= {"connect-orders", "connect-news"}, mine


def trade_once(book, strategy, until, what: str) -> None:
    """Once the news is in, a rising price rung round after round until `until()`."""
    ringer = Ringer()
    price = [100.0]

    def rise():
        price[0] += 0.5
        book.update("AAPL", price[0])
        ringer.ring(book.doorbell_ports())
        return until()

    try:
        testing.wait_until(lambda: news_in(strategy) >= 3, 10, "news values")
        testing.wait_until(rise, 10, what)
    finally:
        ringer.close()


def test_acks_are_read_while_no_price_rings(running):
    """With no price after the order, the ack still arrives at once: the orders' socket is
    in the loop's select, not read only when a doorbell wakes it."""
    cfg, book, start, news, _ = running
    seen = []
    trace.HOOKS.ack_received = lambda coid, t: seen.append(threading.get_ident())
    try:
        strategy, loop, _ = start()
        trade_once(book, strategy, lambda: strategy.link.sent >= 1, "an order sent")
        testing.wait_until(lambda: strategy.link.acked >= 1, 10, "its ack, with no ring")
    finally:
        trace.reset()
    assert seen and set(seen) == {loop.ident}


@pytest.mark.parametrize("running", [0, 20_000], indirect=True)
def test_with_a_spin_budget_the_loops_poll_after_an_order_and_its_ack(running):
    """--spin-us: the Strategy polls without blocking after it sent an order (its ack is
    due), the OrderManager after it handled one; with 0, neither ever does."""
    cfg, book, start, news, manager = running
    strategy, loop, _ = start()
    trade_once(book, strategy, lambda: strategy.link.acked >= 1, "an order acknowledged")
    if cfg.spin_us:
        assert strategy.loop.idle.spins > 0 and manager.loop.idle.spins > 0
    else:
        assert strategy.loop.idle.spins == 0 and manager.loop.idle.spins == 0
