"""`strategies`: ten Strategies side by side (issue 24), each of its own account and moving-
average windows, on 50 symbols at the default rates, under the whole desk: whether anything
was lost (every tick sent applied, every order acked and logged once), the desk's frames a
second, and each Strategy's tick-to-ack p50 against a one-Strategy run of the same session
(the same desk, stack and symbols, measured just before; target: within 1.5 x).

Each run is tools/bench/desk_window.py (a process of its own: the engine never imports Qt),
as the `scale` section runs it, with `--strategies 1` and then `--strategies 10`. Before
them, the OrderManager alone: one client, then ten, each sending an order at the same
instant, 200 times; the p50 and p99 of the time to each one's ack (what the OrderManager
adds when several Strategies' orders come together)."""
from __future__ import annotations

import socket
import time

from engine.control.controller import ProcessController
from engine.control.lifecycle import State
from engine.control.roster import Roster
from engine.processes.order_manager import run_order_manager
from engine.protocol import Order

from .common import BenchContext, wait
from .scale import _run_desk

SYMBOLS = 50
STRATEGIES = 10
RELATIVE = 1.5  # each Strategy's tick-to-ack p50, at most this many times the lone one's


def om_fan_in(ctx: BenchContext, clients: int, rounds: int) -> dict:
    """`clients` connections each send one order at the same instant, `rounds` times, 50 ms
    apart: p50 and p99 of the time from the sends to each ack, in us."""
    cfg = ctx.config()
    ctl = ProcessController(cfg, roster=Roster.from_targets(
        {"order_manager": run_order_manager}))
    socks, took = [], []
    try:
        ctl.start_all()
        wait(ctl, lambda: ctl.state("order_manager") == State.RUNNING, 30, "the OrderManager")
        for _ in range(clients):
            s = socket.create_connection((cfg.connect_host, cfg.order_port))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            socks.append(s)
        n = 0
        for _ in range(rounds):
            frames = []
            for i in range(clients):
                n += 1
                frames.append(Order(client_order_id=f"fan{i}-x-{n}", side="BUY",
                                    symbol=cfg.symbols[0], qty=1, price=1.0).encode())
            t0 = time.perf_counter_ns()
            for s, f in zip(socks, frames):
                s.sendall(f)
            for s in socks:
                s.recv(4096)
                took.append((time.perf_counter_ns() - t0) / 1e3)
            ctl.poll(0.0)
            time.sleep(0.05)
    finally:
        for s in socks:
            s.close()
        ctl.close()
    took.sort()
    return {"clients": clients, "orders": len(took), "p50_us": round(took[len(took) // 2], 1),
            "p99_us": round(took[int(len(took) * 0.99)], 1)}


def strategies(ctx: BenchContext) -> dict:
    seconds = ctx.pick(30.0, 8.0, 3.0)
    rounds = ctx.pick(200, 50, 10)
    fan = {str(k): om_fan_in(ctx, k, rounds) for k in (1, STRATEGIES)}
    ctx.say(f"strategies: the OrderManager alone, an order from each of 1 / {STRATEGIES} "
            f"clients at once: acks p50 {fan['1']['p50_us']} / {fan[str(STRATEGIES)]['p50_us']}"
            f" us, p99 {fan['1']['p99_us']} / {fan[str(STRATEGIES)]['p99_us']} us")
    runs = {}
    for k in (1, STRATEGIES):
        res = _run_desk(ctx, SYMBOLS, seconds, strategies=k)
        if "desk_skipped" in res:
            return {"skipped": res["desk_skipped"]}
        runs[str(k)] = res
    one = runs["1"]["tick_to_ack_us"]["p50"]
    ten = runs[str(STRATEGIES)]
    each = {}
    for name, s in ten["strategies"].items():
        p50 = s["tick_to_ack_us"]["p50"]
        each[name] = {"account": s["account"], "orders": s["orders_acked"], "p50_us": p50,
                      "p99_us": s["tick_to_ack_us"]["p99"],
                      "samples": s["tick_to_ack_us"]["count"],
                      "ratio": round(p50 / one, 2) if p50 and one else None}
    ratios = [e["ratio"] for e in each.values() if e["ratio"] is not None]
    out = {"symbols": SYMBOLS, "strategies": STRATEGIES, "window_s": ten["window_s"],
           "om_fan_in": fan,
           "one_p50_us": one, "one_samples": runs["1"]["tick_to_ack_us"]["count"],
           "each": each, "worst_ratio": max(ratios) if ratios else None,
           "within": bool(ratios) and len(ratios) == len(each)
           and max(ratios) <= RELATIVE, "nothing_lost": ten["nothing_lost"],
           "one_nothing_lost": runs["1"]["nothing_lost"],
           "desk_fps": ten["desk"]["fps"] if ten.get("desk") else None,
           "desk_frames_per_change": (ten.get("desk") or {}).get("frames_per_change"),
           "one_desk_fps": runs["1"]["desk"]["fps"] if runs["1"].get("desk") else None,
           "ticks_sent": ten["ticks_sent"], "ticks_applied": ten["ticks_applied"],
           "orders_sent": ten["orders_sent"], "orders_acked": ten["orders_acked"],
           "orders_logged": ten["orders_logged"], "order_log_lines": ten["order_log_lines"],
           "cpu_percent": ten["cpu_percent"], "cpu_percent_total": ten["cpu_percent_total"]}
    ctx.say(describe(out))
    return out


def describe(r: dict) -> str:
    worst = max(r["each"].items(), key=lambda kv: kv[1]["ratio"] or 0)
    return (f"strategies: {r['strategies']} Strategies on {r['symbols']} symbols over "
            f"{r['window_s']} s: tick-to-ack p50 {min(e['p50_us'] or 0 for e in r['each'].values())}"
            f"..{max(e['p50_us'] or 0 for e in r['each'].values())} us against "
            f"{r['one_p50_us']} us alone (worst {worst[0]}, {worst[1]['ratio']} x; within "
            f"{RELATIVE} x: {r['within']}); desk {r['desk_fps']} frames/s; "
            f"ticks {r['ticks_sent']:,} sent, {r['ticks_applied']:,} applied; orders "
            f"{r['orders_sent']:,} sent, {r['orders_acked']:,} acked, {r['orders_logged']:,} "
            f"logged ({r['order_log_lines']:,} lines); nothing lost: {r['nothing_lost']}; "
            f"engine {r['cpu_percent_total']}% of a core")
