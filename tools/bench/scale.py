"""`scale`: the whole stack and the desk at the default rates (10 rounds a second, news every
second) with 5, 50, 500 and 5,000 symbols: tick-to-decision and tick-to-ack, orders a second,
the engine's CPU per process, the desk's frames a second and frame time, and whether anything
was lost (ticks sent == applied; every order acked and logged once).

Each size is one run of the real desk (gui/bench_desk.py, a process of its own: the engine
never imports Qt) which starts its stack with Start all, as a user does; without Qt the same
stack runs under a plain controller and the desk's columns say so. The measuring of the
stack is here, shared by both."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, Optional

from engine.config.schema import Config, universe
from engine.control.controller import ProcessController
from engine.control.lifecycle import State
from engine.control.summary import run_summary
from engine.shm.segment import HEADER_BYTES
from engine.testing import stack_config

from .common import ROOT, BenchContext, cpu_times, pump, wait

SIZES = (5, 50, 500, 5000)
WARMUP_S = 3.0  # after the first prices: imports done, positions asked, windows filled


def window_s(n: int, ctx: BenchContext) -> float:
    """How long each size is measured: 15 s (5,000 symbols: 60 s, the soak the target asks
    for); --quick: 4 s; --smoke: 2 s."""
    return ctx.pick(60.0 if n >= 5000 else 15.0, 4.0, 2.0)


def scale_config(workdir: Path, n: int, shm_name: str) -> Config:
    """The default demo rates with `n` symbols (the five defaults, then generated names)."""
    return stack_config(Path(workdir), seed=7).replace(
        symbols=universe(n), shm_name=shm_name, tick_interval=0.1, news_interval=1.0)


class StackWatch:
    """The engine's figures over a window: CPU of each process, ticks and orders a second."""

    def __init__(self, ctl: ProcessController):
        self.ctl = ctl

    def begin(self) -> None:
        ctl = self.ctl
        self.cpu0, _ = cpu_times(ctl)
        self.t0 = time.perf_counter()
        self.acked0 = ctl.totals("strategy").orders_acked
        self.ticks0 = ctl.memory.book.update_counter

    def end(self) -> dict:
        ctl = self.ctl
        cpu1, how = cpu_times(ctl)
        wall = time.perf_counter() - self.t0
        per = {n: round(100 * (cpu1[n] - self.cpu0[n]) / wall, 2) for n in cpu1}
        return {"window_s": round(wall, 1), "cpu_source": how,
                "cpu_percent": per, "cpu_percent_total": round(sum(per.values()), 2),
                "orders_per_s": round((ctl.totals("strategy").orders_acked - self.acked0)
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
            "order_bursts": log["bursts"],
            "exit_codes": {n: p["exitcode"] for n, p in summary["processes"].items()}}


def measure_engine_only(cfg: Config, seconds: float,
                        pump_fn: Optional[Callable[[float], None]] = None) -> dict:
    """The stack under a plain controller (no desk): the same figures, the desk's none."""
    ctl = ProcessController(cfg)
    try:
        ctl.start_all()
        wait(ctl, lambda: all(ctl.state(n) == State.RUNNING for n in ctl.procs)
             and ctl.memory.book.update_counter > 0, 60, "the stack to run")
        pump(ctl, WARMUP_S)
        watch = StackWatch(ctl)
        watch.begin()
        pump(ctl, seconds)
        res = watch.end()
        ctl.stop_all_and_wait()
        res.update(verdict(run_summary(ctl), order_log_check(Path(cfg.log_dir))))
    finally:
        ctl.close()
    res["desk"] = None
    return res


def _run_desk(ctx: BenchContext, n: int, seconds: float) -> Dict:
    out = Path(ctx.workdir) / f"scale_{n}.json"
    cmd = [sys.executable, "-m", "tools.bench.desk_window", "--symbols", str(n), "--seconds",
           str(seconds), "--json", str(out), "--shm-name", f"{ctx.shm_base}s{n}",
           "--workdir", str(Path(ctx.workdir) / f"scale{n}")]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          timeout=seconds + 240)
    if proc.returncode != 0:
        why = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        if "ModuleNotFoundError" in proc.stderr or "ImportError" in proc.stderr:
            return {"desk_skipped": f"the desk cannot be imported: {why}"}
        raise RuntimeError(f"the desk at {n} symbols failed: {why}")
    return json.loads(out.read_text(encoding="utf-8"))


def scale(ctx: BenchContext) -> dict:
    rows = {}
    for n in SIZES:
        seconds = window_s(n, ctx)
        res = _run_desk(ctx, n, seconds)
        if "desk_skipped" in res:  # no Qt here: the engine alone
            why = res["desk_skipped"]
            cfg = scale_config(Path(ctx.workdir) / f"scale{n}", n, f"{ctx.shm_base}s{n}")
            res = measure_engine_only(cfg, seconds)
            res["desk_skipped"] = why
        rows[str(n)] = res
        ctx.say(describe(n, res))
    return {"sizes": rows, "rates": {"tick_interval_s": 0.1, "news_interval_s": 1.0}}


def describe(n: int, r: dict) -> str:
    d, a = r["tick_to_decision_us"], r["tick_to_ack_us"]
    desk = r.get("desk")
    desk_text = (f"desk {desk['fps']} frames/s, {desk['frame_ms']} ms a frame"
                 if desk else f"desk: {r.get('desk_skipped', 'not measured')}")
    return (f"scale {n:,} symbols over {r['window_s']} s: tick-to-decision p50 {d['p50']} / "
            f"p99 {d['p99']} us; tick-to-ack p50 {a['p50']} / p99 {a['p99']} us; "
            f"{r['orders_per_s']} orders/s; engine {r['cpu_percent_total']}% of a core ("
            + ", ".join(f"{k} {v}%" for k, v in r["cpu_percent"].items())
            + f"); {desk_text}; shared memory {r['shm_bytes']:,} bytes "
              f"({r['shm_bytes_per_symbol']} a symbol); nothing lost: {r['nothing_lost']}")
