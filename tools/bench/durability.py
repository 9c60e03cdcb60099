"""What --sync-orders costs: the OrderManager waits for the disk (fsync, one per batch of orders
that arrived together) before it acknowledges. Measured with and without it:

* orders/s: `clients` clients send `orders` orders each at once, to an OrderManager of its own;
* one order at a time: a client sends an order and waits for its ack, `single` times (every
  order is then a batch of one: an fsync each), the ack's round trip p50 / p99;
* tick to ack: the whole stack at its default rates for `seconds`, as the Strategy measures it.

    python -m tools.bench.durability [--seconds 15] [--clients 20] [--orders 500]

The log folder is a temporary folder: on the disk that holds it (`--dir` chooses another)."""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Iterable, Tuple

from engine.control.controller import ProcessController
from engine.control.roster import Roster
from engine.net import tls
from engine.processes.order_manager import run_order_manager
from engine.testing import stack_config
from tools.drill.stack import OrderClient, all_at_once, start_running


def _order_manager(folder: Path, **changes):
    cfg = stack_config(folder, shm_prefix="ipcdur", **changes)
    ctl = ProcessController(cfg, roster=Roster.from_targets({"order_manager": run_order_manager}))
    start_running(ctl, what="order manager")
    return cfg, ctl


def throughput(folder: Path, clients: int, orders: int, single: int, **changes) -> dict:
    """Orders/s and one-at-a-time acks against an OrderManager of its own (`changes`: its
    settings, e.g. sync_orders=True, or TLS with tls_cert/tls_key/tls_ca)."""
    cfg, ctl = _order_manager(folder, **changes)

    def client(tag: str) -> OrderClient:  # over TLS and with the token when cfg says so
        return OrderClient(cfg.order_port, tag).secured(tls.for_client(cfg), cfg.auth_token)
    try:
        conns = [client(f"dur{k}") for k in range(clients)]
        batches = [b"".join(c.order_frame(price=100.0 + i % 9)[1] for i in range(orders))
                   for c in conns]
        elapsed, _, errors = all_at_once(conns, batches, orders)
        if errors:
            raise RuntimeError("; ".join(errors[:3]))
        per_s = clients * orders / elapsed
        for c in conns:
            c.close()
        one = client("dur-one")
        rtt = []
        for _ in range(single):
            t = time.perf_counter()
            one.send(one.order_frame()[1])
            one.acks(1)
            rtt.append((time.perf_counter() - t) * 1e6)
        one.close()
        rtt.sort()
        return {"orders_per_s": round(per_s), "ack_p50_us": round(rtt[len(rtt) // 2]),
                "ack_p99_us": round(rtt[int(len(rtt) * 0.99)])}
    finally:
        ctl.close()


def tick_to_ack(folder: Path, seconds: float, **changes) -> dict:
    cfg = stack_config(folder, shm_prefix="ipcdur", **changes)
    ctl = ProcessController(cfg)
    try:
        start_running(ctl, what="the stack", timeout=30)
        ctl.wait_until(lambda: False, seconds)
        lat = ctl.status("strategy").stats.latency_us.get("tick_to_ack", {})
        return {"tick_to_ack_p50_us": lat.get("p50"), "tick_to_ack_p99_us": lat.get("p99"),
                "orders": lat.get("count")}
    finally:
        ctl.stop_all_and_wait()
        ctl.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.durability",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--single", type=int, default=500)
    parser.add_argument("--dir", default=None, help="where the order logs go")
    ns = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ipcdesk-dur-", dir=ns.dir) as tmp:
        compare(Path(tmp), [("default (flush)", {}), ("--sync-orders", {"sync_orders": True})],
                ns.clients, ns.orders, ns.single, ns.seconds)
    return 0


def compare(folder: Path, variants: Iterable[Tuple[str, dict]], clients: int, orders: int,
            single: int, seconds: float) -> None:
    """Each (name, settings) measured by throughput() and tick_to_ack(), a line each, then
    the load average (the durability and TLS benches)."""
    for k, (name, changes) in enumerate(variants):
        t = throughput(folder / f"t{k}", clients, orders, single, **changes)
        a = tick_to_ack(folder / f"k{k}", seconds, **changes)
        print(f"{name:16s} {t['orders_per_s']:>7,} orders/s ({clients} x {orders} at once); "
              f"one at a time: ack p50 {t['ack_p50_us'] / 1e3:.2f} ms, p99 "
              f"{t['ack_p99_us'] / 1e3:.2f} ms; stack tick->ack p50 "
              f"{(a['tick_to_ack_p50_us'] or 0) / 1e3:.2f} ms, p99 "
              f"{(a['tick_to_ack_p99_us'] or 0) / 1e3:.2f} ms ({a['orders']} orders)",
              flush=True)
    if hasattr(os, "getloadavg"):
        print("load average: %.2f %.2f %.2f" % os.getloadavg())

if __name__ == "__main__":
    raise SystemExit(main())
