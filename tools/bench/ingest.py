"""Throughput: `ingest` (a blaster into the real OrderBook) and `e2e` (the real Gateway at tick
interval 0 into the real OrderBook)."""
from __future__ import annotations

import statistics
import time
from functools import partial

from engine.control.summary import run_summary
from engine.processes.gateway import run_gateway
from engine.processes.orderbook import run_orderbook

from .common import BenchContext, pump, wait
from .procs import price_block, run_blaster


def ingest(ctx: BenchContext) -> dict:
    n = ctx.pick(20_000_000, 2_000_000, 200_000)
    repeats = ctx.pick(5, 1, 1)  # the median of 5 rides out a neighbour's burst
    runs = [_ingest_once(ctx, n) for _ in range(repeats)]
    rates = [r["ticks_per_s"] for r in runs]
    best = max(runs, key=lambda r: r["ticks_per_s"])
    res = {"ticks": n, "runs": len(runs), "ticks_per_s": statistics.median(rates),
           "ticks_per_s_all": rates, "lost": max(r["lost"] for r in runs),
           "bad_frames": max(r["bad_frames"] for r in runs),
           "bytes_per_tick": best["bytes_per_tick"]}
    ctx.say(f"ingest: {res['ticks_per_s']:,.0f} ticks/s (median of {len(runs)}: "
            + ", ".join(f"{r:,.0f}" for r in rates) + f"), {n:,} sent, "
            f"lost {res['lost']}, rejected {res['bad_frames']}")
    return res


def _ingest_once(ctx: BenchContext, n: int) -> dict:
    cfg = ctx.config()
    block, ends = price_block(cfg.symbols)
    ctl = ctx.controller(cfg, targets={"gateway": partial(run_blaster, ticks=n),
                                       "orderbook": run_orderbook})
    try:
        ctl.start_all()
        book = ctl.memory.book
        wait(ctl, lambda: book.update_counter >= n, 120, f"{n} ticks applied")
        t_done = time.perf_counter_ns()
        wait(ctl, lambda: "t0_ns" in ctl.status("gateway").stats.extra, 10,
             "the blaster's report")
        g = ctl.status("gateway").stats
        applied = book.update_counter
        ctl.stop_all_and_wait()
        bad = ctl.status("orderbook").stats.bad_frames
    finally:
        ctl.close()
    return {"ticks_per_s": n / ((t_done - g.extra["t0_ns"]) / 1e9),
            "lost": g.ticks_sent - applied, "bad_frames": bad,
            "bytes_per_tick": len(block) / len(ends)}


def e2e(ctx: BenchContext) -> dict:
    window = ctx.pick(10.0, 3.0, 1.0)
    cfg = ctx.config(tick_interval=0.0)
    ctl = ctx.controller(cfg, targets={"gateway": run_gateway, "orderbook": run_orderbook})
    try:
        ctl.start_all()
        book = ctl.memory.book
        wait(ctl, lambda: book.update_counter > 0, 30, "the first tick")
        pump(ctl, ctx.pick(1.0, 1.0, 0.3))  # warm up
        c0, t0 = book.update_counter, time.perf_counter()
        samples = []
        while time.perf_counter() - t0 < window:
            pump(ctl, 0.5)
            samples.append((time.perf_counter(), book.update_counter))
        c1, t1 = book.update_counter, time.perf_counter()
        ctl.stop_all_and_wait()
        s = run_summary(ctl)
    finally:
        ctl.close()
    per_half = []
    prev_t, prev_c = t0, c0
    for t, c in samples:
        per_half.append((c - prev_c) / (t - prev_t))
        prev_t, prev_c = t, c
    res = {"ticks_per_s": (c1 - c0) / (t1 - t0), "window_s": round(t1 - t0, 2),
           "ticks_per_s_p50_of_0.5s": statistics.median(per_half),
           "ticks_per_s_min_of_0.5s": min(per_half),
           "ticks_sent": s["ticks_sent"], "ticks_applied": s["ticks_applied"],
           "lost": s["ticks_sent"] - s["ticks_applied"], "bad_frames": s["bad_frames"]}
    ctx.say(f"end to end: {res['ticks_per_s']:,.0f} ticks/s over {res['window_s']} s "
            f"(0.5 s windows: median {res['ticks_per_s_p50_of_0.5s']:,.0f}, "
            f"min {res['ticks_per_s_min_of_0.5s']:,.0f}); sent {s['ticks_sent']:,}, "
            f"applied {s['ticks_applied']:,}, lost {res['lost']}")
    return res
