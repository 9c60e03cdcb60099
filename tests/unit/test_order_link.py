"""The Strategy's link to an OrderManager that may not be ours: it never waits for a reply a
plain peer would not send (real TCP on 127.0.0.1, a scripted OrderManager in a thread). The
link is served by a ClientLoop on the test's own thread, as the Strategy's loop serves it."""
from __future__ import annotations

import json
import logging
import socket
import threading
import time

import pytest

from engine.config.schema import Config
from engine.measure.rejections import Rejections
from engine.net.links import ClientLoop
from engine.processes.order_link import OrderLink
from engine.protocol import FrameDecoder, Hello, Order
from engine.testing import free_ports
from engine.trading.order_ledger import DELIVERED, SENT
from engine.trading.signals import OrderIntent


class ScriptedOrderManager(threading.Thread):
    """Accepts clients one after another, greets each with `hello` (ours does; a plain one
    sends nothing) and answers each frame with `reply(obj)` (bytes or None); `connections`
    counts them."""

    def __init__(self, reply, delay_positions: float = 0.0, hello: bytes = b""):
        super().__init__(daemon=True)
        self.reply, self.delay_positions, self.hello = reply, delay_positions, hello
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen()
        self.srv.settimeout(0.1)
        self.port = self.srv.getsockname()[1]
        self.frames = []
        self.connections = 0
        self.done = threading.Event()

    def run(self):
        try:
            while not self.done.is_set():
                try:
                    conn, _ = self.srv.accept()
                except socket.timeout:
                    continue
                self.connections += 1
                self._serve(conn)
        finally:
            self.srv.close()

    def _serve(self, conn):
        conn.settimeout(0.1)
        if self.hello:
            conn.sendall(self.hello)
        dec = FrameDecoder()
        while not self.done.is_set():
            try:
                data = conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            for f in dec.feed(data):
                obj = json.loads(f)
                self.frames.append(obj)
                if obj.get("type") == "positions" and self.delay_positions:
                    time.sleep(self.delay_positions)
                out = self.reply(obj)
                if out:
                    conn.sendall(out)
        conn.close()


HELLO = Hello(server="scripted", features=["acks", "positions"]).encode()


def ack(obj, status="accepted"):
    return json.dumps({"type": "ack", "client_order_id": obj.get("client_order_id"),
                       "order_id": 1 if status == "accepted" else None, "status": status,
                       **({"reason": "not an order"} if status == "rejected" else {})}
                      ).encode() + b"*"


def serve(link, until, timeout=5.0) -> bool:
    """Turn the link's loop (on this thread) until `until()` or the timeout."""
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        link.loop.poll(0.02)
        link.tick(time.monotonic())
    return bool(until())


def ready(link, timeout=5.0) -> bool:
    return serve(link, lambda: link.positions_ready, timeout)


@pytest.fixture
def run_link():
    made = []

    def make(server, wait=1.0, on_ack=None):
        server.start()
        cfg = Config(order_port=server.port, price_port=free_ports(1)[0])
        events = {"acks": [], "positions": [], "delivered": []}
        log = logging.getLogger("test-link")
        link = OrderLink(cfg, log, on_ack or (lambda a, o, i, t: events["acks"].append((a, o))),
                         Rejections(log, "frame"),
                         on_positions=lambda held, late: events["positions"].append(
                             (held, late)),
                         on_delivered=lambda o, i: events["delivered"].append(o),
                         positions_wait_s=wait)
        loop = ClientLoop()
        loop.add(link)
        made.append((loop, server))
        return link, events

    yield make
    for loop, server in made:
        loop.close()
        server.done.set()
        server.join(5)


def order(n=1, side="BUY"):
    return (Order(client_order_id=f"strategy-t-{n}", side=side, symbol="AAPL", qty=10,
                  price=100.0),
            OrderIntent(side, "AAPL", 10, 100.0, 10 if side == "BUY" else -10))


def test_a_silent_order_manager_gets_orders_after_about_a_second(run_link):
    link, events = run_link(ScriptedOrderManager(lambda obj: None))
    t0 = time.monotonic()
    assert ready(link)
    waited = time.monotonic() - t0
    assert 0.9 <= waited <= 2.5, waited
    assert link.peer_acks is False and not link.positions_known
    assert link.send_one(*order()) == DELIVERED
    assert not link.pending and link.delivered == 1


def test_a_plain_order_manager_gets_nothing_but_orders(run_link):
    """No hello, no positions request: a plain OrderManager would print it as a junk order."""
    server = ScriptedOrderManager(lambda obj: None)
    link, _ = run_link(server)
    assert ready(link)
    link.send_one(*order(1))
    assert serve(link, lambda: server.frames)
    assert [(f["type"], f["side"], f["quantity"], f["id"]) for f in server.frames] == \
        [("order", "BUY", 10, "strategy-t-1")]


def test_an_order_manager_that_rejects_the_request_is_asked_no_more(run_link):
    def reply(obj):
        return ack(obj, "rejected") if obj.get("type") == "positions" else ack(obj)
    link, events = run_link(ScriptedOrderManager(reply, hello=HELLO))
    t0 = time.monotonic()
    assert ready(link)
    assert time.monotonic() - t0 < 0.9  # its answer ends the wait at once
    assert link.peer_acks is True and not link.positions_known
    assert link.send_one(*order()) == SENT
    assert serve(link, lambda: events["acks"])
    assert events["acks"][0][0].status == "accepted"
    assert not link.pending and link.acked == 1


def test_a_late_positions_reply_is_still_applied_and_late_acks_count(run_link):
    def reply(obj):
        if obj.get("type") == "positions":
            return json.dumps({"type": "positions", "account": "strategy",
                               "positions": {"AAPL": -10}}).encode() + b"*"
        return ack(obj)
    link, events = run_link(ScriptedOrderManager(
        reply, delay_positions=1.6, hello=Hello(server="slow", features=["positions"]).encode()))
    assert ready(link)  # the wait ran out first
    assert link.peer_acks is False
    assert link.send_one(*order()) == DELIVERED  # sent after the request: not in the reply
    assert serve(link, lambda: events["positions"] and events["acks"])
    assert events["positions"] == [({"AAPL": 0}, True)]  # -10 held + 10 bought since
    assert link.peer_acks is True and link.positions_known
    assert link.acked == 1 and link.delivered == 0  # the late ack was counted after all


def test_trace_hooks_observe_and_change_nothing(run_link):
    """The bench's breakdown measures through engine.trace: with the hooks on, send() still
    returns what it returns without them (the old patched send dropped it, so every order of
    a measured run read "waiting for the order manager"), and each hook sees its order."""
    from engine.measure import trace
    sent, acked = [], []
    trace.HOOKS.order_sent = lambda coid, tick_ns, t0, t1: sent.append((coid, t0 <= t1))
    trace.HOOKS.ack_received = lambda coid, t: acked.append(coid)
    try:
        link, events = run_link(ScriptedOrderManager(lambda obj: ack(
            obj, "rejected" if obj.get("type") == "positions" else "accepted"), hello=HELLO))
        assert ready(link) and link.peer_acks is True
        assert link.send_one(*order(7)) == SENT
        assert serve(link, lambda: events["acks"])
        assert sent == [("strategy-t-7", True)]
        assert acked[-1] == "strategy-t-7" and link.acked == 1  # (first: the request's)
    finally:
        trace.reset()
    assert trace.HOOKS.order_sent is None and trace.HOOKS.ack_received is None


def test_an_error_in_the_link_is_logged_and_the_link_reconnects(run_link, caplog):
    """A bug met while reading acks (here: the Strategy's ack callback raises once) must not
    end the loop, which would leave the Strategy queueing orders forever: it is logged with
    its traceback and the link connects again and goes on."""
    acks = []

    def on_ack(a, o, i, t):
        acks.append(a)
        if len(acks) == 1:
            raise RuntimeError("a bug in on_ack")

    def reply(obj):
        return ack(obj, "rejected") if obj.get("type") == "positions" else ack(obj)
    server = ScriptedOrderManager(reply, hello=HELLO)
    with caplog.at_level(logging.ERROR, logger="test-link"):
        link, events = run_link(server, on_ack=on_ack)
        assert ready(link)
        assert link.send_one(*order(1)) == SENT
        assert serve(link, lambda: server.connections >= 2 and link.sock is not None, 10)
        assert server.connections == 2, "the link did not connect again"
        assert link.send_one(*order(2)) == SENT
        assert serve(link, lambda: len(acks) >= 2, 10)
    assert [a.client_order_id for a in acks] == ["strategy-t-1", "strategy-t-2"]
    assert not link.pending
    crash = [r for r in caplog.records if "unexpected error" in r.getMessage()]
    assert crash and crash[0].exc_info and "a bug in on_ack" in str(crash[0].exc_info[1])
