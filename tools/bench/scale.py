"""`scale`: the whole stack and the desk at the default rates (10 rounds a second, news every
second) with 5, 50, 500 and 5,000 symbols: tick-to-decision and tick-to-ack, orders a second,
the engine's CPU per process, the desk's frames a second and frame time, and whether anything
was lost (ticks sent == applied; every order acked and logged once).

Each size is one run of the real desk (tools/bench/desk_window.py, a process of its own:
the engine never imports Qt) which starts its stack with Start all, as a user does; without Qt the same
stack runs under a plain controller and the desk's columns say so. The measuring of the
stack is in scale_stack.py, shared by both."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, Optional

from engine.config.schema import Config
from engine.control.controller import ProcessController
from engine.control.lifecycle import State
from engine.control.summary import run_summary

from .common import ROOT, BenchContext, pump, wait
from .scale_stack import WARMUP_S, StackWatch, order_log_check, scale_config, verdict

SIZES = (5, 50, 500, 5000)


def window_s(n: int, ctx: BenchContext) -> float:
    """How long each size is measured: 15 s (5,000 symbols: 60 s, the soak the target asks
    for); --quick: 4 s; --smoke: 2 s."""
    return ctx.pick(60.0 if n >= 5000 else 15.0, 4.0, 2.0)


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


def _run_desk(ctx: BenchContext, n: int, seconds: float, strategies: int = 1) -> Dict:
    tag = f"{n}" if strategies == 1 else f"{n}x{strategies}"
    out = Path(ctx.workdir) / f"scale_{tag}.json"
    cmd = [sys.executable, "-m", "tools.bench.desk_window", "--symbols", str(n), "--seconds",
           str(seconds), "--json", str(out), "--shm-name", f"{ctx.shm_base}s{tag}",
           "--workdir", str(Path(ctx.workdir) / f"scale{tag}"), "--strategies",
           str(strategies)]
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
    desk_text = (f"desk {desk['fps']} frames/s for {desk.get('changes_per_s')} changes/s, "
                 f"{desk['frame_ms']} ms a frame, {desk['cpu_percent']}% of a core"
                 if desk else f"desk: {r.get('desk_skipped', 'not measured')}")
    return (f"scale {n:,} symbols over {r['window_s']} s: tick-to-decision p50 {d['p50']} / "
            f"p99 {d['p99']} us; tick-to-ack p50 {a['p50']} / p99 {a['p99']} us; "
            f"{r['orders_per_s']} orders/s; engine {r['cpu_percent_total']}% of a core ("
            + ", ".join(f"{k} {v}%" for k, v in r["cpu_percent"].items())
            + f"); {desk_text}; shared memory {r['shm_bytes']:,} bytes "
              f"({r['shm_bytes_per_symbol']} a symbol); nothing lost: {r['nothing_lost']}")
