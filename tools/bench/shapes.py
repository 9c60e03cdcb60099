"""What reading other teams' shapes costs (engine.protocol.variants): price frames a second
through the OrderBook's core (PriceIngest) and orders through the OrderManager's
(OrderDesk), each shape against the assignment's; and the bytes of one of our orders, now
that it carries the assignment's spellings (`quantity`, `id`) beside ours. A variant is read
only where the assignment's shape does not parse, so the assignment's figures are the fast
path's, unchanged.

    python -m tools.bench.shapes [--frames 20000] [--orders 5000]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path

from engine.config.schema import Config
from engine.control.private import unique_shm_name
from engine.protocol import Order
from engine.records.order_log import OrderLog
from engine.shm.price_book import SharedPriceBook
from engine.trading.ingest import PriceIngest
from engine.trading.order_desk import OrderDesk

SYMS = ("AAPL", "MSFT", "GOOG", "AMZN", "TSLA")
PRICES = {
    "assignment": lambda i, s: f"{s},{100 + i % 50}.25*",
    "with a timestamp": lambda i, s: f"{s},{100 + i % 50}.25,1700000000.5*",
    "JSON symbol -> price": lambda i, s: json.dumps(
        {"type": "prices", "data": {s: 100 + i % 50 + .25}}) + "*",
    "JSON symbol, price": lambda i, s: json.dumps({"symbol": s, "price": 100 + i % 50 + .25})
    + "*",
}
ORDERS = {
    "ours": lambda i: Order(client_order_id=f"s-ab-{i}", side="BUY", symbol="AAPL", qty=10,
                            price=100.5, account="s").encode()[:-1],
    "assignment": lambda i: json.dumps({"side": "BUY", "symbol": "AAPL", "quantity": 10,
                                        "price": 100.5}).encode(),
    "CSV": lambda i: b"1700000000,BUY,10,AAPL,100.5",
    "sym/px": lambda i: json.dumps({"side": "BUY", "sym": "AAPL", "quantity": 10,
                                    "px": 100.5}).encode(),
    "their own id": lambda i: json.dumps({"id": i, "side": "BUY", "symbol": "AAPL",
                                          "quantity": 10, "price": 100.5}).encode(),
}


def prices(n: int, log) -> dict:
    out = {}
    for name, make in PRICES.items():
        with SharedPriceBook(SYMS, name=unique_shm_name()) as book:
            ing = PriceIngest(book, SYMS, log, 64 * 1024)
            rounds = ["".join(make(i, s) for s in SYMS).encode() for i in range(n // 5)]
            t = time.perf_counter()
            for r in rounds:  # a round of five symbols a read, as the Gateway sends them
                ing.feed(r, 1)
            out[name] = ((time.perf_counter() - t) / n * 1e6, ing.applied)
            book.unlink()
    return out


def orders(n: int, log, folder: Path) -> dict:
    out = {}
    for k, (name, make) in enumerate(ORDERS.items()):
        order_log = OrderLog(folder / f"{k}.jsonl", log)
        desk = OrderDesk(Config(log_dir=str(folder)), log, order_log)
        frames = [make(i) for i in range(n)]
        t = time.perf_counter()
        for i in range(0, n, 10):  # ten a read
            desk.handle(frames[i:i + 10], 1)
        out[name] = ((time.perf_counter() - t) / n * 1e6, desk.accepted)
        order_log.close()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.shapes",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=5_000)
    ns = parser.parse_args(argv)
    log = logging.getLogger("bench.shapes")
    log.disabled = True  # the first-time lines are not what is measured
    if hasattr(os, "getloadavg"):
        print("load average before: %.2f %.2f %.2f" % os.getloadavg())
    for name, (us, applied) in prices(ns.frames, log).items():
        print(f"prices {name:22s} {us:6.2f} us a frame ({applied:,} applied)")
    with tempfile.TemporaryDirectory(prefix="ipcdesk-shapes-") as tmp:
        for name, (us, accepted) in orders(ns.orders, log, Path(tmp)).items():
            print(f"orders {name:22s} {us:6.2f} us an order, logged ({accepted:,} accepted)")
    ours = Order(client_order_id="strategy-3f9a1c-7", side="BUY", symbol="AAPL", qty=10,
                 price=173.2, tick_ns=123456789012345, account="strategy").encode()
    plain = len(b',"quantity":10,"id":"strategy-3f9a1c-7"')
    print(f"one order of ours: {len(ours)} bytes, {plain} of them the assignment's spellings")
    if hasattr(os, "getloadavg"):
        print("load average after: %.2f %.2f %.2f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
