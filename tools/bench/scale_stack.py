"""A stack of n symbols as the scale section runs it, shared by the section (tools/bench/
scale.py, the engine alone) and the desk window it starts (tools/bench/desk_window.py): its
config, what it watches while it runs, and whether anything was lost."""
from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from engine.config.schema import Config, universe
from engine.config.stack import ProcessEntry, StackPlan, default_plan
from engine.control.controller import ProcessController
from engine.shm.segment import HEADER_BYTES
from engine.testing import stack_config

from .common import cpu_times

WARMUP_S = 3.0  # after the first prices: imports done, positions asked, windows filled


def scale_config(workdir: Path, n: int, shm_name: str) -> Config:
    """The default demo rates with `n` symbols (the five defaults, then generated names)."""
    return stack_config(Path(workdir), seed=7).replace(
        symbols=universe(n), shm_name=shm_name, tick_interval=0.1, news_interval=1.0)


# the windows of the Strategies of the `strategies` section: all different
WINDOWS = ((5, 20), (3, 8), (4, 12), (6, 18), (8, 24), (10, 30), (2, 6), (12, 36), (15, 45),
           (20, 60))


def strategies_plan(config: Config, k: int) -> StackPlan:
    """The stack with `k` Strategies, each of its own account and windows (WINDOWS; the
    first is the default 5 / 20): k = 1 is the four of the assignment."""
    if k == 1:
        return default_plan(config)
    servers = tuple(ProcessEntry(r, r) for r in ("gateway", "orderbook", "order_manager"))
    strategies = tuple(
        ProcessEntry(f"s{i + 1:02d}", "strategy",
                     settings={"short_window": w[0], "long_window": w[1]})
        for i, w in enumerate(WINDOWS[:k]))
    return StackPlan(config, servers + strategies)


def per_strategy(summary: dict) -> dict:
    """Each Strategy's orders and tick-to-ack, from a run's summary."""
    return {n: {"account": p["account"], "orders_sent": p["orders_sent"],
                "orders_acked": p["orders_acked"], "tick_to_ack_us": p["latency_us"]["tick_to_ack"]}
            for n, p in summary["processes"].items() if p["role"] == "strategy"}


class StackWatch:
    """The engine's figures over a window: CPU of each process, ticks and orders a second."""

    def __init__(self, ctl: ProcessController):
        self.ctl = ctl

    def begin(self) -> None:
        ctl = self.ctl
        self.cpu0, _ = cpu_times(ctl)
        self.t0 = time.perf_counter()
        self.acked0 = ctl.role_totals("strategy").orders_acked
        self.ticks0 = ctl.memory.book.update_counter

    def end(self) -> dict:
        ctl = self.ctl
        cpu1, how = cpu_times(ctl)
        wall = time.perf_counter() - self.t0
        per = {n: round(100 * (cpu1[n] - self.cpu0[n]) / wall, 2) for n in cpu1}
        return {"window_s": round(wall, 1), "cpu_source": how,
                "cpu_percent": per, "cpu_percent_total": round(sum(per.values()), 2),
                "orders_per_s": round((ctl.role_totals("strategy").orders_acked - self.acked0)
                                      / wall, 1),
                "ticks_per_s": round((ctl.memory.book.update_counter - self.ticks0) / wall),
                "shm_bytes": ctl.memory.nbytes,
                "shm_bytes_per_symbol": round((ctl.memory.nbytes - 2 * HEADER_BYTES)
                                              / len(ctl.config.symbols), 1)}


def order_log_check(log_dir: Path) -> dict:
    """Lines in orders.jsonl, and any order id or client_order_id written twice."""
    path = Path(log_dir) / "orders.jsonl"
    ids, coids = Counter(), Counter()
    times = []
    if path.exists():
        with path.open("rb") as fh:
            for raw in fh:
                rec = json.loads(raw)
                ids[rec["order_id"]] += 1
                coids[rec["client_order_id"]] += 1
                times.append(rec["time"])
    return {"lines": len(times), "ids_twice": sum(1 for c in ids.values() if c > 1),
            "client_ids_twice": sum(1 for c in coids.values() if c > 1),
            "bursts": bursts(times)}


def bursts(times, gap_s: float = 0.02) -> dict:
    """Orders logged less than `gap_s` apart belong to one burst (one round that made many
    symbols trade): how many bursts, and their median and largest size."""
    sizes, last = [], None
    for t in sorted(times):
        if last is None or t - last > gap_s:
            sizes.append(0)
        sizes[-1] += 1
        last = t
    if not sizes:
        return {"count": 0, "median": 0, "largest": 0}
    sizes.sort()
    return {"count": len(sizes), "median": sizes[len(sizes) // 2], "largest": sizes[-1]}


def verdict(summary: dict, log: dict) -> dict:
    """Nothing lost: every tick sent applied, every order sent acked, logged once."""
    lat = summary["latency_us"]
    ok = (summary["ticks_sent"] == summary["ticks_applied"]
          and summary["orders_sent"] == summary["orders_acked"] == summary["orders_logged"]
          == log["lines"] and not log["ids_twice"] and not log["client_ids_twice"]
          and not summary["orders_rejected"] and not summary["bad_frames"])
    return {"tick_to_decision_us": lat["tick_to_decision"], "tick_to_ack_us": lat["tick_to_ack"],
            "ticks_sent": summary["ticks_sent"], "ticks_applied": summary["ticks_applied"],
            "orders_sent": summary["orders_sent"], "orders_acked": summary["orders_acked"],
            "orders_logged": summary["orders_logged"], "order_log_lines": log["lines"],
            "orders_logged_twice": log["client_ids_twice"], "nothing_lost": ok,
            "strategies": per_strategy(summary),
            "order_bursts": log["bursts"],
            "exit_codes": {n: p["exitcode"] for n, p in summary["processes"].items()}}


