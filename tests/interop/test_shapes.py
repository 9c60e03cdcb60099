"""Other teams' shapes against our real processes, started as a user starts them: each
variant arrives as a tick (OrderBook) or an order (OrderManager), is counted and said once in
the log, and `--strict-wire` refuses it."""
from __future__ import annotations

import json
import re
import socket

import pytest

from engine.protocol import FrameDecoder, is_hello
from engine.shm.price_book import SharedPriceBook
from engine.testing import free_ports, read_jsonl
from engine.testing import wait_until as wait_for

from .procs import Procs
from .test_interop import wait_listening

pytestmark = pytest.mark.slow

ORDERS = [  # (another team's order frame, the variant's name, what it means)
    (b"1700000000,BUY,10,AAPL,172.53*", "in the CSV shape", ("BUY", 10, "AAPL", 172.53)),
    (b'{"side":"SELL","sym":"MSFT","quantity":5,"px":325.5}*', "with sym/px for symbol/price",
     ("SELL", 5, "MSFT", 325.5)),
    (b'{"id":7,"side":"BUY","symbol":"GOOG","quantity":1,"price":135.41}*', "with their own id",
     ("BUY", 1, "GOOG", 135.41)),
]


def acks(sock, n):
    dec, out = FrameDecoder(), []
    sock.settimeout(10)
    while len(out) < n:
        data = sock.recv(65536)
        assert data, "the OrderManager closed the connection"
        out += [json.loads(f) for f in dec.feed(data) if not is_hello(f)]
    return out


@pytest.mark.parametrize("strict", [False, True])
def test_our_order_manager_takes_other_shapes_and_strict_wire_refuses_them(tmp_path, strict):
    order_port, confirm_port = free_ports(2)
    logs = tmp_path / "logs"
    with Procs(tmp_path) as procs:
        procs.ours("order_manager", "--order-port", order_port, "--confirm-port", confirm_port,
                   "--log-dir", logs, *(["--strict-wire"] if strict else []))
        wait_listening(order_port)
        s = socket.create_connection(("127.0.0.1", order_port), timeout=10)
        s.sendall(b"".join(f for f, _, _ in ORDERS) + ORDERS[2][0])  # the id one, resent
        got = acks(s, len(ORDERS) + 1)
        s.close()
        if strict:
            assert [a["status"] for a in got[:2]] == ["rejected", "rejected"]
            assert "expected a JSON object with side, symbol, quantity and price" in \
                got[0]["reason"]
            # without its id taken, an order with an id is still an assignment order: the
            # resend is not known for one (a peer's own id is a variant too)
            assert [a["status"] for a in got[2:]] == ["accepted", "accepted"]
        else:
            assert [a["status"] for a in got] == ["accepted"] * 3 + ["duplicate"]
            logged = read_jsonl(logs / "orders.jsonl")
            assert [(o["side"], o["qty"], o["symbol"], o["price"]) for o in logged] == \
                [m for _, _, m in ORDERS]
            out = procs.wait_output("order_manager", "accepting orders with their own id")
            for _, name, _ in ORDERS:
                assert len(re.findall(f"accepting orders {name} from client#\\d+", out)) == 1
        assert procs.stop("order_manager") == 0
        out = procs.output("order_manager")
    assert ("accepting" in out) is not strict


@pytest.mark.parametrize("shape,name", [("timestamp", "with a timestamp field"),
                                        ("json", "as a JSON object of symbol -> price"),
                                        ("json-kv", "as JSON objects with symbol and price")])
@pytest.mark.parametrize("strict", [False, True])
def test_our_orderbook_takes_other_price_shapes_and_strict_wire_refuses_them(
        tmp_path, shape, name, strict):
    price_port, news_port = free_ports(2)
    shm = f"ipcs{tmp_path.name[-12:]}".replace("-", "_")[:20]
    with Procs(tmp_path) as procs:
        procs.peer("their_gateway", "mini_gateway.py", "--price-port", price_port,
                   "--news-port", news_port, "--record", tmp_path / "sent.jsonl",
                   "--rounds", "60", "--shape", shape)
        procs.wait_output("their_gateway", "listening")
        procs.ours("orderbook", "--price-port", price_port, "--symbols", "AAPL", "--shm-name",
                   shm, "--log-dir", tmp_path / "logs", *(["--strict-wire"] if strict else []))
        news = socket.create_connection(("127.0.0.1", news_port), timeout=10)  # starts it
        procs.wait_output("their_gateway", "done", timeout=30)
        sent = [e for e in read_jsonl(tmp_path / "sent.jsonl") if "symbol" in e]
        if not strict:
            wait_for(lambda: _book_price(shm) == sent[-1]["price"], 10,
                     "the last price in shared memory")
        news.close()
        assert procs.stop("orderbook") == 0
        out = procs.output("orderbook")
    applied, bad = map(int, re.search(r"(\d+) ticks applied, (\d+) bad frames", out).groups())
    if strict:
        assert applied == 0 and bad == len(sent) and "accepting" not in out
    else:
        assert applied == len(sent) and bad == 0
        assert out.count(f"accepting prices {name} from the gateway at") == 1


def _book_price(shm):
    try:
        book = SharedPriceBook.attach(shm)
    except FileNotFoundError:
        return None
    try:
        return book.read("AAPL")
    finally:
        book.close()
