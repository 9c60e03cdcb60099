"""The processes the benchmark adds to the engine's: a blaster in the Gateway's place, the far
end of a round trip, and the Strategy and OrderManager with their trace hooks on (module-level
functions, so the spawn context starts them by name)."""
from __future__ import annotations

import json
import logging
import socket
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from engine.config.schema import Config
from engine.measure import trace
from engine.measure.stats import Stats
from engine.net.ports import PortInUse, listen
from engine.processes.order_manager import run_order_manager
from engine.processes.reports import Reporter
from engine.processes.shell import fatal
from engine.processes.strategy import run_strategy
from engine.trading.market import RandomWalk


def price_block(symbols, target_bytes: int = 1 << 20, seed: int = 11):
    """About `target_bytes` of valid price frames from the Gateway's random walk, and the end
    offset of every frame (to send an exact count)."""
    walk = RandomWalk(symbols, seed)
    parts, size = [], 0
    while size < target_bytes:
        data, _ = walk.next_round()
        parts.append(data)
        size += len(data)
    block = b"".join(parts)
    ends = np.flatnonzero(np.frombuffer(block, np.uint8) == ord("*")) + 1
    return block, ends


def run_blaster(config: Config, stop_event, reporter: Optional[Reporter] = None,
                ticks: int = 1_000_000) -> None:
    """Stands in for the Gateway on the price port: sends exactly `ticks` valid frames to the
    first client as fast as the socket takes them, then idles until stopped."""
    log = logging.getLogger("gateway")
    reporter = reporter or Reporter(None, "gateway")
    block, ends = price_block(config.symbols)
    try:
        srv = listen(config.bind_host, config.price_port, "prices")
    except PortInUse as exc:
        fatal(log, str(exc))
    reporter.running(price_port=config.price_port)
    conn = None
    try:
        while conn is None and not stop_event.is_set():
            try:
                conn, _ = srv.accept()
            except (BlockingIOError, InterruptedError):
                stop_event.wait(0.005)
        if conn is None:
            return
        sent, t0, t1 = _blast(conn, block, ends, ticks, stop_event)
        log.info("blaster sent %d ticks in %.3f s", sent, (t1 - t0) / 1e9)
        reporter.send(Stats(ticks_sent=sent, extra={"t0_ns": t0, "t1_ns": t1}))
        stop_event.wait()
    finally:
        if conn is not None:
            conn.close()
        srv.close()


def _blast(conn, block: bytes, ends, ticks: int, stop_event):
    conn.setblocking(True)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    per_block, sent = len(ends), 0
    view = memoryview(block)
    t0 = time.perf_counter_ns()
    while sent < ticks and not stop_event.is_set():
        left = ticks - sent
        if left >= per_block:
            conn.sendall(view)
            sent += per_block
        else:
            conn.sendall(view[:ends[left - 1]])
            sent += left
    return sent, t0, time.perf_counter_ns()


# -- the breakdown: the engine's trace hooks on, what they say kept for the report ---------
def run_strategy_traced(config: Config, stop_event, reporter=None) -> None:
    """The Strategy with its trace hooks recording: when its doorbell wait returned, when it
    began and ended sending each order, when each ack arrived (strategy_times.json)."""
    times: Dict[str, dict] = {}
    woke = [0]

    def on_woke(t):
        woke[0] = t

    def on_sent(coid, tick_ns, t0, t1):
        times[coid] = {"tick": tick_ns, "woke": woke[0], "send0": t0, "send1": t1}

    def on_ack(coid, t):
        if coid in times:
            times[coid]["ack"] = t

    trace.HOOKS.woke, trace.HOOKS.order_sent, trace.HOOKS.ack_received = \
        on_woke, on_sent, on_ack
    try:
        run_strategy(config, stop_event, reporter=reporter)
    finally:
        trace.reset()
        (Path(config.log_dir) / "strategy_times.json").write_text(json.dumps(times),
                                                                  encoding="utf-8")


def run_order_manager_traced(config: Config, stop_event, reporter=None) -> None:
    """The OrderManager with its trace hooks recording: when its loop woke for the order's
    bytes, when handling began and ended (om_times.json). Frames are kept raw and decoded at
    exit, so the ack leaves as early as without the hooks."""
    handled: List[tuple] = []
    woke = [0]

    def on_read(t):
        woke[0] = t

    def on_handled(frames, t_in, t_out):
        handled.append((woke[0], t_in, t_out, list(frames)))

    trace.HOOKS.frames_read, trace.HOOKS.orders_handled = on_read, on_handled
    try:
        run_order_manager(config, stop_event, reporter=reporter)
    finally:
        trace.reset()
        rows = {}
        for woke_ns, t_in, t_out, frames in handled:
            for f in frames:
                obj = json.loads(f)
                if obj.get("type") == "order":
                    rows[obj["client_order_id"]] = (woke_ns, t_in, t_out)
        (Path(config.log_dir) / "om_times.json").write_text(json.dumps(rows), encoding="utf-8")
