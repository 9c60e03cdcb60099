"""Fault drill: try to break a live stack, and say whether it held.

    python -m tools.drill [--load-clients 50] [--load-orders 1000] [--keep-logs DIR]

Starts its own stack (its own free ports, shared-memory name and log folder, so it never
disturbs a desk that is running) and runs, in order:

1. gateway_restart      kill -9 the Gateway, start it again: OrderBook and Strategy reconnect
                        within 1 s of it listening, each outage logged once, prices flow.
2. orderbook_restart    kill -9 the OrderBook: the price book survives, the Strategy marks the
                        prices stale; the new OrderBook attaches to the same segment.
3. order_manager_restart  kill -9 the OrderManager right after an ack, mid-stream: the acked
                        order is on disk, the Strategy resends what was not acknowledged, every
                        acked order is logged exactly once and numbering goes on.
4. strategy_restart     kill -9 the Strategy: it recovers its positions from the OrderManager
                        and never sends an order for a position it already holds.
5. slow_clients         a price client and a confirmations listener that never read: each is
                        dropped, memory stays bounded, the others keep getting data on time.
6. bad_input            hostile bytes to every server and from a hostile Gateway to the
                        clients: everything stays up, valid frames between bad ones still
                        count, every rejection is counted.
7. load                 50 clients x 1,000 orders at once: exactly 50,000 logged and acked,
                        no duplicates, ids strictly increasing.
8. descriptor_flood     a Gateway and an OrderManager limited to 256 open files, 600 idle
                        connections against each for 10 s: accepts pause instead of spinning,
                        logs grow < 1 MB, CPU stays low, held clients keep their data, a new
                        order client is served within 1 s after.
9. connection_cap       past --max-clients a connection is closed at once, counted and said
                        in a bounded number of log lines; the clients held keep their ticks.
10. log_rotation        a process log rotates at --log-max-mb, three old files kept; the order
                        log keeps every order.
11. tls_refusals        an OrderManager speaking TLS: plain text, another CA and the wrong
                        token are refused and counted; the right client is served throughout
                        (skipped, and said, without the openssl command).

The scenario functions (tools/drill/scenarios.py and limits.py) are what
tests/integration/test_faults.py runs too; the live stack and its tools are in tools/drill/stack.py.
"""
from __future__ import annotations

import sys
import time
from typing import Callable, List, Optional

from engine.config.schema import Config

from .limits import connection_cap, descriptor_flood, log_rotation, tls_refusals
from .scenarios import (HOSTILE_NEWS, HOSTILE_ORDERS, HOSTILE_PRICES, bad_input,
                        gateway_restart, load, order_manager_restart, orderbook_restart,
                        slow_clients, strategy_restart)
from .scenarios import SCENARIOS as FIRST

SCENARIOS = FIRST + [("descriptor_flood", descriptor_flood),
                     ("connection_cap", connection_cap), ("log_rotation", log_rotation),
                     ("tls_refusals", tls_refusals)]
from .stack import (DrillError, OrderClient, Result, Stack, account_positions, drill_config,
                    duplicates_in)

__all__ = ["SCENARIOS", "run_scenario", "run_drill", "format_table", "drill_config", "Stack",
           "Result", "DrillError", "OrderClient", "duplicates_in", "account_positions",
           "HOSTILE_ORDERS", "HOSTILE_PRICES", "HOSTILE_NEWS", "gateway_restart",
           "orderbook_restart", "order_manager_restart", "strategy_restart", "slow_clients",
           "bad_input", "load", "descriptor_flood", "connection_cap", "log_rotation",
           "tls_refusals"]


def run_scenario(stack: Stack, name: str, fn: Callable, *args) -> Result:
    """One scenario, with the columns every scenario shares filled in the same way."""
    acked0, since = stack.strategy_acked()
    try:
        r = fn(stack, *args)
    except (AssertionError, OSError, ValueError) as exc:  # a wait that ran out, too
        r = Result(name, checks=[f"{type(exc).__name__}: {exc}"])
    # acks the Strategy and the drill's own clients received, and orders logged, over one
    # window: from the Strategy's report before the scenario to its report after it (the log
    # stamps each order with the same clock), so that the two columns differ only by orders
    # in flight at either edge, or whose ack a kill -9 lost
    acked1, until = stack.strategy_acked()
    r.orders_acked += acked1 - acked0
    records = stack.orders()
    r.orders_logged = sum(since < x["time"] <= until for x in records)
    # the whole log after every scenario, not only after the ones about orders
    r.duplicates = duplicates_in(records)
    if not r.check(r.duplicates == 0, "no order logged twice"):
        r.passed = False
    return r


def format_table(results: List[Result]) -> str:
    head = ("scenario", "recovery", "orders acked", "orders logged", "duplicates",
            "bad frames rejected", "result")
    rows = [head]
    for r in results:
        rows.append((r.scenario, "-" if r.recovery_s is None else f"{r.recovery_s:.2f} s",
                     str(r.orders_acked), str(r.orders_logged), str(r.duplicates),
                     str(r.bad_rejected),
                     "skipped" if r.skipped else "passed" if r.passed else "FAILED"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def run_drill(config: Config, only: Optional[List[str]] = None, load_clients: int = 50,
              load_orders: int = 1000, out=sys.stdout) -> List[Result]:
    stack = Stack(config)
    results: List[Result] = []
    try:
        print(f"starting a stack on ports {config.price_port}-{config.confirm_port}, "
              f"logs in {config.log_dir}", file=out, flush=True)
        stack.start()
        for name, fn in SCENARIOS:
            if only and name not in only:
                continue
            print(f"- {name} ...", file=out, flush=True)
            t0 = time.monotonic()
            args = (load_clients, load_orders) if fn is load else ()
            r = run_scenario(stack, name, fn, *args)
            results.append(r)
            print(f"  {'passed' if r.passed else 'FAILED'} in {time.monotonic() - t0:.1f} s"
                  + "".join(f"\n  note: {n}" for n in r.notes)
                  + "".join(f"\n  failed check: {c}" for c in r.checks), file=out, flush=True)
    finally:
        stack.close()
    return results
