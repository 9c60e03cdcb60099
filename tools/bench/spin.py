"""`spin`: what the IdleStrategy (`--spin-us`, engine/net/idle.py) buys and costs. The whole
stack under the launcher's controller, at 1,000 ticks/s and at the default demo rate, once
with each spin budget: tick-to-ack p50/p99 (the Strategy's, whole run) and the CPU of each
process over the same window, in turns so that the machine's hour is the same for all."""
from __future__ import annotations

from engine.control.summary import run_summary

from .common import BenchContext, cpu_over, wait

BUDGETS_US = (0, 150, 500)


def one(ctx: BenchContext, cfg, window: float) -> dict:
    ctl = ctx.controller(cfg)
    try:
        ctl.start_all()
        wait(ctl, lambda: ctl.status("strategy").stats.orders_acked > 0, 60,
             "the first acknowledged order")
        per, wall, how = cpu_over(ctl, window)
        ctl.stop_all_and_wait()
        s = run_summary(ctl)
    finally:
        ctl.close()
    ack = s["latency_us"]["tick_to_ack"]
    return {"spin_us": cfg.spin_us, "tick_to_ack_us": ack, "orders_acked": s.get("orders_acked"),
            "cpu_percent": per, "engine_cpu_percent": round(sum(per.values()), 2),
            "window_s": round(wall, 1), "cpu_source": how}


def spin(ctx: BenchContext) -> dict:
    res = {}
    for rate, make, window in (
            ("1000_ticks_s", ctx.latency_config, ctx.pick(20.0, 5.0, 1.5)),
            ("demo", ctx.config, ctx.pick(30.0, 6.0, 1.5))):
        runs = [one(ctx, make().replace(spin_us=us), window) for us in BUDGETS_US]
        res[rate] = runs
        base = runs[0]
        ctx.say(f"spin at {rate.replace('_', ' ').replace('ticks s', 'ticks/s')}: " + "; ".join(
            f"--spin-us {r['spin_us']:g}: tick-to-ack p50 {r['tick_to_ack_us']['p50']} / p99 "
            f"{r['tick_to_ack_us']['p99']} us ({r['tick_to_ack_us']['count']} orders), engine "
            f"CPU {r['engine_cpu_percent']}% (strategy {r['cpu_percent'].get('strategy')}%, "
            f"order_manager {r['cpu_percent'].get('order_manager')}%)"
            + ("" if r is base else f", p50 {r['tick_to_ack_us']['p50'] / max(base['tick_to_ack_us']['p50'], 1e-9):.2f} x off's")
            for r in runs))
    return res
