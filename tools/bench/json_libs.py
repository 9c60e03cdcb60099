"""What a faster JSON library would buy on the order path: one order frame decoded and one ack
encoded with the standard library (what the engine uses), orjson and msgspec (each only if
installed: `python -m pip install orjson msgspec` to compare), beside what the OrderManager's
core spends on a whole order (OrderDesk.handle: read, validate, number, log, ack);
in-process and hot, so a ceiling on the gain (on the real path the OrderManager's handling is
cold, several times slower: `python -m tools.bench --only floor,breakdown`).

    python -m tools.bench.json_libs [--n 50000]
"""
from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

from engine.config.schema import Config
from engine.protocol import Ack, Order
from engine.records.order_log import OrderLog
from engine.trading.order_desk import OrderDesk

FRAME = Order(client_order_id="strategy-ab12cd-17", side="BUY", symbol="AAPL", qty=10,
              price=172.53, account="strategy", tick_ns=1_700_000_000_000).encode()[:-1]
ACK = {"type": "ack", "client_order_id": "strategy-ab12cd-17", "order_id": 12,
       "status": "accepted", "om_ns": 1_700_000_000_123}


def per_call_us(fn, n: int) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return round((time.perf_counter() - t) / n * 1e6, 2)


def libraries():
    # the standard library's row is what the engine does: json.loads, and Ack.encode (an
    # accepted ack is written directly, its id through the JSON encoder)
    ack = Ack(client_order_id=ACK["client_order_id"], order_id=ACK["order_id"],
              status="accepted", om_ns=ACK["om_ns"])
    out = {"json (standard library)": (json.loads, lambda _obj: ack.encode())}
    try:
        import orjson
        out["orjson"] = (orjson.loads, lambda obj: orjson.dumps(obj) + b"*")
    except ImportError:
        pass
    try:
        import msgspec
        out["msgspec"] = (msgspec.json.decode, lambda obj: msgspec.json.encode(obj) + b"*")
    except ImportError:
        pass
    return out


def order_desk_us(n: int) -> float:
    """One order through the OrderManager's core, hot: read, validate, number, log, ack."""
    with tempfile.TemporaryDirectory() as tmp:
        log = OrderLog(Path(tmp) / "orders.jsonl", logging.getLogger("json-libs"))
        desk = OrderDesk(Config(log_dir=tmp), logging.getLogger("json-libs"), log)
        frames = [Order(client_order_id=f"strategy-ab12cd-{i}", side="BUY", symbol="AAPL",
                        qty=10, price=172.53).encode()[:-1] for i in range(n)]
        t = time.perf_counter()
        for f in frames:
            desk.handle([f])
        us = (time.perf_counter() - t) / n * 1e6
        log.close()
    return round(us, 2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.json_libs")
    parser.add_argument("--n", type=int, default=50_000)
    ns = parser.parse_args(argv)
    rows = {}
    for name, (loads, dumps) in libraries().items():
        rows[name] = {"decode_order_us": per_call_us(lambda: loads(FRAME), ns.n),
                      "encode_ack_us": per_call_us(lambda: dumps(ACK), ns.n)}
    whole = order_desk_us(min(ns.n, 20_000))
    for name, r in rows.items():
        print(f"{name:24s} decode an order {r['decode_order_us']:5.2f} us, encode an ack "
              f"{r['encode_ack_us']:5.2f} us")
    base = rows["json (standard library)"]
    for name, r in rows.items():
        if name.startswith("json"):
            continue
        saved = base["decode_order_us"] + base["encode_ack_us"] - r["decode_order_us"] \
            - r["encode_ack_us"]
        print(f"{name}: {saved:.2f} us saved an order, {100 * saved / whole:.1f} % of the "
              f"OrderManager's {whole} us an order (hot, in-process)")
    if len(rows) == 1:
        print(f"the OrderManager's core: {whole} us an order (hot, in-process); "
              "pip install orjson msgspec to compare")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
