"""What TLS costs on this machine's loopback: the same measurements as
tools.bench.durability (orders/s from 20 clients at once, one order at a time, the stack's
tick to ack), plain TCP against TLS with the auth token, certificates from `engine.net.tls lab`.

    python -m tools.bench.tls_cost [--seconds 15]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from engine.net.tls import make_lab

from .durability import compare


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.tls_cost",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--orders", type=int, default=500)
    ns = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ipcdesk-tls-") as tmp:
        lab = make_lab(Path(tmp) / "lab", ["127.0.0.1"])
        secure = {"tls_cert": str(lab["cert"]), "tls_key": str(lab["key"]),
                  "tls_ca": str(lab["ca"]), "auth_token": "bench-token"}
        compare(Path(tmp), [("plain TCP", {}), ("TLS + token", secure)], ns.clients,
                ns.orders, 500, ns.seconds)
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
