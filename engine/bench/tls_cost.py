"""What TLS costs on this machine's loopback: the same measurements as
engine.bench.durability (orders/s from 20 clients at once, one order at a time, the stack's
tick to ack), plain TCP against TLS with the auth token, certificates from `engine.tls lab`.

    python -m engine.bench.tls_cost [--seconds 15]
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from ..tls import make_lab
from .durability import throughput, tick_to_ack


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.bench.tls_cost",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--orders", type=int, default=500)
    ns = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ipcdesk-tls-") as tmp:
        lab = make_lab(Path(tmp) / "lab", ["127.0.0.1"])
        secure = {"tls_cert": str(lab["cert"]), "tls_key": str(lab["key"]),
                  "tls_ca": str(lab["ca"]), "auth_token": "bench-token"}
        for name, changes in (("plain TCP", {}), ("TLS + token", secure)):
            t = throughput(Path(tmp) / f"t{bool(changes)}", ns.clients, ns.orders, 500,
                           **changes)
            k = tick_to_ack(Path(tmp) / f"k{bool(changes)}", ns.seconds, **changes)
            print(f"{name:12s} {t['orders_per_s']:>7,} orders/s ({ns.clients} x {ns.orders} "
                  f"at once); one at a time: ack p50 {t['ack_p50_us'] / 1e3:.2f} ms, p99 "
                  f"{t['ack_p99_us'] / 1e3:.2f} ms; stack tick->ack p50 "
                  f"{(k['tick_to_ack_p50_us'] or 0) / 1e3:.2f} ms, p99 "
                  f"{(k['tick_to_ack_p99_us'] or 0) / 1e3:.2f} ms ({k['orders']} orders)",
                  flush=True)
    if hasattr(os, "getloadavg"):
        print("load average: %.2f %.2f %.2f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
