"""`soak`: the engine at the default rates with 500 symbols for a long run (10 minutes; --quick
1 minute), each process's resident memory sampled every few seconds: at the start (after the
warm-up), after a fifth of the run (the issue's "after the first 5 minutes" of an hour) and
at the end; its growth a minute and a thousand orders; and whether anything was lost. Memory
that grows with the orders (an id kept for every order, say) shows here as a steady slope.

    python -m tools.bench --only soak [--quick] [--soak-minutes 60]"""
from __future__ import annotations

import time
from pathlib import Path

from engine.control.lifecycle import State
from engine.control.summary import run_summary
from engine.platforms.resources import process_usage

from .common import BenchContext, pump, wait
from .scale_stack import WARMUP_S, order_log_check, scale_config, verdict

SYMBOLS = 500
EVERY_S = 5.0


def soak(ctx: BenchContext) -> dict:
    seconds = getattr(ctx, "soak_s", None) or ctx.pick(600.0, 60.0, 10.0)
    cfg = scale_config(Path(ctx.workdir) / "soak", SYMBOLS, f"{ctx.shm_base}soak")
    ctl = ctx.controller(cfg)
    samples = []  # (seconds since the start, orders acked, {name: rss bytes})
    try:
        ctl.start_all()
        wait(ctl, lambda: all(ctl.state(n) == State.RUNNING for n in ctl.procs)
             and ctl.memory.book.update_counter > 0, 60, "the stack to run")
        pump(ctl, WARMUP_S)
        t0 = time.monotonic()
        while True:
            samples.append((time.monotonic() - t0, ctl.role_totals("strategy").orders_acked,
                            {n: process_usage(p.pid)[1] for n, p in ctl.procs.items()
                             if p.pid}))
            if samples[-1][0] >= seconds:
                break
            pump(ctl, min(EVERY_S, seconds - samples[-1][0]))
        ctl.stop_all_and_wait()
        lost = verdict(run_summary(ctl), order_log_check(Path(cfg.log_dir)))
    finally:
        ctl.close()
    every = max(1, len(samples) // 20)  # (the series: about 20 points)
    res = {"symbols": SYMBOLS, "seconds": round(samples[-1][0], 1),
           "orders": samples[-1][1] - samples[0][1], "nothing_lost": lost["nothing_lost"],
           "processes": rss_growth(samples),
           # the shape: each process's RSS (MB), about 20 points over the run
           "series": {"s": [round(s[0]) for s in samples[::every]],
                      "orders": [s[1] for s in samples[::every]],
                      "rss_mb": {n: [round(s[2].get(n, 0) / 1e6, 2) for s in samples[::every]]
                                 for n in samples[-1][2]}}}
    ctx.say(describe(res))
    return res


def rss_growth(samples) -> dict:
    """Each process's RSS (MB) at the start, after a fifth of the run, half of it and at the
    end; its growth from the fifth to the end (a minute, an order), and over the last half
    (memory that is bounded but fills at first grows in the first half only)."""
    first, last = samples[0], samples[-1]
    fifth = min(samples, key=lambda s: abs(s[0] - last[0] / 5))
    half = min(samples, key=lambda s: abs(s[0] - last[0] / 2))
    minutes = max((last[0] - fifth[0]) / 60, 1e-9)
    orders = max(last[1] - fifth[1], 1)
    out = {}
    for name in last[2]:
        mb = [s[2].get(name, 0) / 1e6 for s in (first, fifth, last, half)]
        out[name] = {"rss_start_mb": round(mb[0], 1), "rss_fifth_mb": round(mb[1], 1),
                     "rss_half_mb": round(mb[3], 1), "rss_end_mb": round(mb[2], 1),
                     "last_half_growth_pct": round(100 * (mb[2] - mb[3]) / mb[3], 1)
                     if mb[3] else None,
                     "growth_pct": round(100 * (mb[2] - mb[1]) / mb[1], 1) if mb[1] else None,
                     "mb_per_minute": round((mb[2] - mb[1]) / minutes, 3),
                     "bytes_per_order": round((mb[2] - mb[1]) * 1e6 / orders, 1)}
    return out


def describe(r: dict) -> str:
    return (f"soak {r['symbols']} symbols, {r['seconds']} s, {r['orders']:,} orders: RSS after "
            f"a fifth -> end (growth) " + "; ".join(
                f"{n} {p['rss_fifth_mb']} -> {p['rss_end_mb']} MB ({p['growth_pct']}%, "
                f"{p['bytes_per_order']} B an order; last half {p['last_half_growth_pct']}%)"
                for n, p in r["processes"].items())
            + f"; nothing lost: {r['nothing_lost']}")
