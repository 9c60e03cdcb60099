"""Our processes against other teams' implementations of the same assignment, both ways.

The peers in peers/ are written from the assignment text alone (prices `SYMBOL,PRICE*`, news
`NN*`, orders a JSON object with side, symbol, quantity and price, `*`-delimited); they know
nothing of our ids, acks or positions request. Ours run as a user starts them
(`python -m engine.<name>`), each in its own process."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time

import pytest

from engine.protocol import FrameDecoder
from engine.testing import free_ports, read_jsonl
from engine.testing import wait_until as wait_for
from engine.trading.signals import SignalEngine

from .procs import PEERS, Procs

pytestmark = pytest.mark.slow

GOOD = [  # the shapes other teams' Strategies send
    ('{"side":"BUY","symbol":"AAPL","qty":10,"price":173.2}', "BUY 10 AAPL @ 173.20"),
    ('{"side":"SELL","symbol":"MSFT","quantity":5,"price":325.5}', "SELL 5 MSFT @ 325.50"),
    ('{"side":"buy","symbol":"GOOG","qty":1,"price":135.41}', "BUY 1 GOOG @ 135.41"),
    ('{"action":"SELL","symbol":"AAPL","quantity":10,"price":174}', "SELL 10 AAPL @ 174.00"),
]
BAD = [  # still refused, each with a reason
    ('{"side":"HOLD","symbol":"AAPL","qty":1,"price":1}', "side must be BUY or SELL"),
    ('{"side":"BUY","symbol":"ZZZZ","qty":1,"price":1}', "unknown symbol"),
    ('{"side":"BUY","symbol":"AAPL","qty":0,"price":1}', "qty must be a positive integer"),
    ('{"side":"BUY","symbol":"AAPL","qty":1,"price":-1}', "price must be finite and positive"),
    ('{"side":"\u2192BUY","symbol":"AAPL","qty":1,"price":1}', "side must be BUY or SELL"),
    ('{"side":"BUY","symbol":"AAPL","qty":1}', "missing field 'price'"),
]


def wait_listening(port: int, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.02)


def order_manager(procs, tmp_path):
    order_port, confirm_port = free_ports(2)
    logs = tmp_path / "logs"
    procs.ours("order_manager", "--order-port", order_port, "--confirm-port", confirm_port,
               "--log-dir", logs)
    wait_listening(order_port)
    wait_listening(confirm_port)
    return order_port, confirm_port, logs / "orders.jsonl"


def test_plain_strategy_orders_are_acked_logged_printed_and_confirmed(tmp_path):
    with Procs(tmp_path) as procs:
        order_port, confirm_port, orders = order_manager(procs, tmp_path)
        listener = socket.create_connection(("127.0.0.1", confirm_port), timeout=10)
        time.sleep(0.2)  # the listener is registered before the first order
        shapes = [o for o, _ in GOOD] + [o for o, _ in BAD]
        res = subprocess.run([sys.executable, str(PEERS / "mini_strategy.py"), "--port",
                              str(order_port), "--listen", "10", "--expect",
                              str(len(shapes) + 1), *shapes], capture_output=True, text=True,
                             timeout=60, encoding="utf-8")
        assert res.returncode == 0, res.stderr
        hello, *replies = [json.loads(line) for line in res.stdout.splitlines()[1:]]
        assert hello["type"] == "hello"  # first, as it connected: a reader may ignore it
        assert len(replies) == len(shapes)
        for i, ack in enumerate(replies[:len(GOOD)], start=1):
            assert ack["type"] == "ack" and ack["status"] == "accepted", ack
            assert ack["order_id"] == i
            assert ack["client_order_id"].startswith("anon-")  # an id of the OrderManager's
        assert len({a["client_order_id"] for a in replies[:len(GOOD)]}) == len(GOOD)
        for ack, (_, why) in zip(replies[len(GOOD):], BAD):
            assert ack["status"] == "rejected" and why in ack["reason"], ack
            assert "  " not in ack["reason"]
        logged = read_jsonl(orders)
        assert [r["order_id"] for r in logged] == [1, 2, 3, 4]
        assert [r["client_order_id"] for r in logged] == \
            [a["client_order_id"] for a in replies[:len(GOOD)]]
        out = procs.wait_output("order_manager", f"Received Order {len(GOOD)}: ")
        for i, (_, line) in enumerate(GOOD, start=1):
            assert f"Received Order {i}: {line}" in out
        dec, confirms = FrameDecoder(), []
        listener.settimeout(10)
        while len(confirms) < len(GOOD):
            confirms += [json.loads(f) for f in dec.feed(listener.recv(65536))]
        listener.close()
        assert [(c["order_id"], c["side"], c["qty"], c["symbol"]) for c in confirms] == \
            [(1, "BUY", 10, "AAPL"), (2, "SELL", 5, "MSFT"), (3, "BUY", 1, "GOOG"),
             (4, "SELL", 10, "AAPL")]
        assert procs.stop("order_manager") == 0


def test_plain_strategy_that_never_reads_its_acks_keeps_its_orders(tmp_path):
    """A Strategy written to the assignment may never read the order socket: its acks pile
    up. It is not dropped (its orders would be lost); the replies it ignores are."""
    n = 40_000
    with Procs(tmp_path) as procs:
        order_port, _, orders = order_manager(procs, tmp_path)
        procs.peer("deaf", "mini_strategy.py", "--port", order_port, "--listen", "0",
                   "--hold", "60", "--repeat", n, GOOD[0][0])
        wait_for(lambda: len(read_jsonl(orders)) >= n, 60, f"{n} orders logged")
        out = procs.wait_output("order_manager", "does not read what it is sent")
        deaf = re.findall(r"orders: (client#\d+) \S+ connected", out.split("Received")[0])[-1]
        assert "too slow" not in out and f"{deaf} " not in out.split("does not read")[1]
        res = subprocess.run([sys.executable, str(PEERS / "mini_strategy.py"), "--port",
                              str(order_port), "--expect", "2", GOOD[1][0]],
                             capture_output=True, text=True, timeout=30)
        assert json.loads(res.stdout.splitlines()[2])["order_id"] == n + 1
        assert len(read_jsonl(orders)) == n + 1
        assert procs.stop("order_manager") == 0


def test_plain_readers_parse_our_gateway(tmp_path):
    price_port, news_port = free_ports(2)
    with Procs(tmp_path) as procs:
        procs.ours("gateway", "--price-port", price_port, "--news-port", news_port,
                   "--tick-interval", "0.01", "--news-interval", "0.05", "--log-dir",
                   tmp_path / "logs")
        wait_listening(price_port)
        for kind, port, frames in (("prices", price_port, 500), ("news", news_port, 10)):
            res = subprocess.run([sys.executable, str(PEERS / "mini_readers.py"), kind,
                                  "--port", str(port), "--frames", str(frames)],
                                 capture_output=True, text=True, timeout=60)
            assert res.returncode == 0, res.stderr
            got = json.loads(res.stdout)
            assert got["read"] == frames and got["bad"] == [], got
            if kind == "prices":
                assert set(got["latest"]) == {"AAPL", "MSFT", "GOOG", "AMZN", "TSLA"}
        assert procs.stop("gateway") == 0


def expected_orders(sent, qty=10):
    """Replay what the mini Gateway sent through the Strategy's own rules (default settings):
    [(time of the tick that decides, side, qty, symbol)]."""
    engine = SignalEngine(sorted({e["symbol"] for e in sent if "symbol" in e}), qty=qty)
    out = []
    for e in sent:
        if "news" in e:
            engine.on_sentiment(e["news"])
            continue
        intent = engine.on_price(e["symbol"], e["price"])
        if intent is not None:
            out.append((e["t"], intent.side, intent.qty, intent.symbol))
    return out


def test_our_orderbook_and_strategy_trade_against_a_plain_gateway_and_order_manager(tmp_path):
    """Ours against theirs: the OrderManager never answers the positions request nor acks an
    order; the Strategy waits about a second, then trades, and sends every order its rules
    call for, each within 2 s of the tick that calls for it."""
    price_port, news_port, order_port = free_ports(3)
    sent, received = tmp_path / "sent.jsonl", tmp_path / "received.jsonl"
    shm = f"ipci{tmp_path.name[-10:]}".replace("-", "_")[:20]
    common = ["--symbols", "AAPL", "--shm-name", shm, "--log-dir", tmp_path / "logs",
              "--price-port", price_port, "--news-port", news_port, "--order-port", order_port]
    with Procs(tmp_path) as procs:
        procs.peer("their_om", "mini_order_manager.py", "--port", order_port,
                   "--record", received)
        procs.peer("their_gateway", "mini_gateway.py", "--price-port", price_port,
                   "--news-port", news_port, "--record", sent, "--rounds", "150",
                   "--half", "25")
        procs.wait_output("their_om", "listening")
        procs.wait_output("their_gateway", "listening")
        procs.ours("orderbook", *common)
        procs.ours("strategy", *common)
        procs.wait_output("their_gateway", "done", timeout=60)
        time.sleep(2.5)  # the last decision's order, at most 2 s late, is in
        strategy_rc = procs.stop("strategy")
        orderbook_rc = procs.stop("orderbook")
        strategy_out = procs.output("strategy")
    assert strategy_rc == 0 and orderbook_rc == 0, strategy_out[-3000:]
    expected = expected_orders(read_jsonl(sent))
    got = read_jsonl(received)
    assert len(expected) >= 5, expected  # the script makes the rules trade both ways
    assert [(o["side"], o["qty"], o["symbol"]) for o in got] == \
        [(side, qty, sym) for _, side, qty, sym in expected], (got, expected)
    for (t_tick, *_), order in zip(expected, got):
        assert order["t"] - t_tick <= 2.0, (order, t_tick)
    # its OrderManager did not answer: said once, and the orders count as sent, not acked
    assert strategy_out.count("sent no hello (a plain one: it is sent nothing but orders)") \
        == 1, strategy_out
    assert "Bad order" not in procs.output("their_om")  # it got nothing but orders
    assert "sent (the order manager sends no acks)" in strategy_out
    assert "Traceback" not in strategy_out


def test_a_strategy_that_hangs_up_without_reading_is_a_disconnect_not_an_error(tmp_path):
    """Its unread hello and ack make its close a reset: logged as a disconnect, every time."""
    with Procs(tmp_path) as procs:
        order_port, _, orders = order_manager(procs, tmp_path)
        for _ in range(3):
            subprocess.run([sys.executable, str(PEERS / "mini_strategy.py"), "--port",
                            str(order_port), "--listen", "0", GOOD[0][0]], check=True,
                           capture_output=True, timeout=30)
        wait_for(lambda: len(read_jsonl(orders)) == 3, 20, "3 orders logged")
        out = procs.wait_output("order_manager", "hung up without reading")
        assert "read error" not in out and "write error" not in out
        assert procs.stop("order_manager") == 0
