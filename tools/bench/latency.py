"""Latency at 1,000 ticks/s: `latency` (the stack under the launcher's controller),
`standalone` (the Strategy in a terminal of its own) and `breakdown` (tick-to-ack hop by hop,
from the engine's trace hooks)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from engine.config.flags import to_flags
from engine.control.summary import run_summary
from engine.processes.gateway import run_gateway
from engine.processes.order_manager import run_order_manager
from engine.processes.orderbook import run_orderbook

from .common import ROOT, BenchContext, pcts, pump, stop_subprocess, wait
from .procs import run_order_manager_traced, run_strategy_traced

HOPS = ("OrderBook receipt -> Strategy awake", "awake -> order sending", "order send call",
        "sent -> OrderManager awake", "OrderManager awake -> handling",
        "OrderManager handling", "ack sent -> Strategy has it", "tick-to-ack")


def hop_floors(floor: dict) -> dict:
    """{hop: (floor us, what it is)}: what each hop of tick-to-ack costs at least on this
    machine, from the same run's `floor` section (p50s): the kernel primitive the hop is,
    between two Python processes, after the idle time the hop has (5 ms apart, as at 1,000
    ticks/s). A hop of Python work has no kernel floor: its reference is the same Python
    code hot (encoding and decoding an order)."""
    udp, tcp = floor["udp_rtt_idle_us"]["p50"], floor["tcp_rtt_idle_us"]["p50"]
    hot, tcp_hot = floor["order_codec_hot_us"]["p50"], floor["tcp_rtt_hot_us"]["p50"]
    one_way_udp = ("half a UDP round trip, 5 ms apart (the doorbell)", round(udp / 2, 1))
    one_way_tcp = ("half a TCP round trip, 5 ms apart", round(tcp / 2, 1))
    python = ("Python work: an order encoded and decoded, hot", hot)
    return {hop: (v, what) for hop, (what, v) in zip(HOPS, (
        one_way_udp, python, ("half a TCP round trip, back to back", round(tcp_hot / 2, 1)),
        one_way_tcp, python, python, one_way_tcp,
        ("half a UDP and a TCP round trip, 5 ms apart", floor["tick_to_ack_floor_us"])))}


def latency(ctx: BenchContext) -> dict:
    duration = ctx.pick(30.0, 5.0, 1.5)
    cfg = ctx.latency_config()
    ctl = ctx.controller(cfg)
    try:
        ctl.start_all()
        wait(ctl, lambda: ctl.status("strategy").stats.orders_acked > 0, 30,
             "the first acknowledged order")
        t0, c0 = time.perf_counter(), ctl.memory.book.update_counter
        pump(ctl, duration)
        rate = (ctl.memory.book.update_counter - c0) / (time.perf_counter() - t0)
        ctl.stop_all_and_wait()
        s = run_summary(ctl)
    finally:
        ctl.close()
    res = result(s["latency_us"], rate, s.get("orders_acked"))
    ctx.say(line("latency (launcher)", res))
    return res


def standalone(ctx: BenchContext) -> dict:
    duration = ctx.pick(30.0, 5.0, 1.5)
    cfg = ctx.latency_config()
    ctl = ctx.controller(cfg, targets={"gateway": run_gateway, "orderbook": run_orderbook,
                                       "order_manager": run_order_manager})
    stats_path = Path(cfg.log_dir) / "strategy_stats.json"
    proc = None
    try:
        ctl.start_all()
        proc = _start_strategy(cfg, stats_path)
        log_file = Path(cfg.log_dir) / "order_manager.log"
        wait(ctl, lambda: log_file.exists() and b"Received Order" in log_file.read_bytes(), 30,
             "the standalone Strategy's first order")
        t0, c0 = time.perf_counter(), ctl.memory.book.update_counter
        pump(ctl, duration)
        rate = (ctl.memory.book.update_counter - c0) / (time.perf_counter() - t0)
        stop_subprocess(proc)
        proc = None
        ctl.stop_all_and_wait()
        stats = json.loads(stats_path.read_text(encoding="utf-8"))
    finally:
        if proc is not None:
            proc.kill()
            proc.wait(5)
        ctl.close()
    res = result(stats["latency_us"], rate, stats.get("orders_acked"))
    ctx.say(line("latency (standalone strategy)", res))
    return res


def _start_strategy(cfg, stats_path: Path) -> subprocess.Popen:
    """`python -m engine.strategy` as a user starts it in a terminal of its own."""
    Path(cfg.log_dir).mkdir(parents=True, exist_ok=True)
    kwargs = {}
    if os.name == "nt":
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore
    with open(Path(cfg.log_dir) / "strategy.console", "wb") as console:
        return subprocess.Popen([sys.executable, "-m", "engine.strategy", *to_flags(cfg),
                                 "--stats-json", str(stats_path)], cwd=ROOT, stdout=console,
                                stderr=subprocess.STDOUT, **kwargs)


def breakdown(ctx: BenchContext) -> dict:
    """Where tick-to-ack goes, hop by hop, at 1,000 ticks/s: the Strategy's and the
    OrderManager's trace hooks on (the latency sections run with them off)."""
    duration = ctx.pick(20.0, 5.0, 1.5)
    cfg = ctx.latency_config()
    ctl = ctx.controller(cfg, targets={"gateway": run_gateway, "orderbook": run_orderbook,
                                       "strategy": run_strategy_traced,
                                       "order_manager": run_order_manager_traced})
    try:
        ctl.start_all()
        wait(ctl, lambda: ctl.status("strategy").stats.orders_acked > 0, 30,
             "the first acknowledged order")
        pump(ctl, duration)
        ctl.stop_all_and_wait()
    finally:
        ctl.close()
    st = json.loads((Path(cfg.log_dir) / "strategy_times.json").read_text(encoding="utf-8"))
    om = json.loads((Path(cfg.log_dir) / "om_times.json").read_text(encoding="utf-8"))
    res = {k: pcts(v) for k, v in hop_samples(st, om).items() if v}
    floor = (getattr(ctx, "results", None) or {}).get("floor") or {}
    floors = hop_floors(floor) if "tick_to_ack_floor_us" in floor else {}
    ctx.say("tick-to-ack hop by hop (p50 / p99 us" + (", p50 / this run's floor" if floors
                                                       else "") + "): " + "; ".join(
        f"{k} {v['p50']} / {v['p99']}" + (f" ({v['p50'] / floors[k][0]:.1f} x)"
                                          if floors.get(k, (0,))[0] else "")
        for k, v in res.items()))
    return res


def hop_samples(st: dict, om: dict) -> dict:
    """{hop: [ns, ...]} from the Strategy's and the OrderManager's times of each order."""
    hops = {h: [] for h in HOPS}
    for coid, t in st.items():
        if coid not in om or "ack" not in t or not t["woke"]:
            continue
        woke, t_in, t_out = om[coid]
        for key, value in zip(HOPS, (t["woke"] - t["tick"], t["send0"] - t["woke"],
                                     t["send1"] - t["send0"], woke - t["send1"],
                                     t_in - woke, t_out - t_in, t["ack"] - t_out,
                                     t["ack"] - t["tick"])):
            hops[key].append(value)
    return hops


def result(lat: dict, rate: float, acked) -> dict:
    return {"ticks_per_s": round(rate, 1), "orders_acked": acked,
            "tick_to_decision_us": lat["tick_to_decision"],
            "tick_to_ack_us": lat["tick_to_ack"]}


def line(title: str, r: dict) -> str:
    def f(d):
        return f"p50 {d['p50']} us, p99 {d['p99']} us, max {d['max']} us ({d['count']} samples)"
    return (f"{title} at {r['ticks_per_s']:,.0f} ticks/s: tick-to-decision "
            f"{f(r['tick_to_decision_us'])}; tick-to-ack {f(r['tick_to_ack_us'])}")
