"""`tick_to_order`: the OrderBook and the Strategy alone, timed from outside, as another
team's Gateway and OrderManager would see them. One process of the bench's own plays both
edges in one loop (`edges`): it sends a round of prices every 5 ms (1,000 ticks/s with 5
symbols) and news every 0.1 s, and notes when each order arrives. tick-to-order = the
order's arrival - the send of the round its tick came in (the order's `tick_ns` is when the
OrderBook received it, on the clock every process shares). Its floor: a TCP one-way, the
doorbell, a TCP one-way, each 5 ms apart (half a TCP round trip twice and half a UDP one, from
the same run's `floor` section)."""
from __future__ import annotations

import json
import multiprocessing as mp
import random
import selectors
import socket
import time
from bisect import bisect_right
from pathlib import Path

from engine.processes.orderbook import run_orderbook
from engine.processes.strategy import run_strategy
from engine.protocol import FrameDecoder

from .common import BenchContext, pcts, pump, wait


def edges(price_port: int, news_port: int, order_port: int, symbols, gap: float, stop,
          out: str) -> None:
    """The Gateway's and the OrderManager's sides (plain, as the assignment has them) in one
    selectors loop; what it sent and received goes to `out` (JSON) when stopped."""
    sel = selectors.DefaultSelector()
    for port, name in ((price_port, "price"), (news_port, "news"), (order_port, "orders")):
        srv = socket.create_server(("127.0.0.1", port))
        srv.setblocking(False)
        sel.register(srv, selectors.EVENT_READ, ("listen", name))
    conns: dict = {}
    rounds, arrivals = [], []
    rng = random.Random(7)
    prices = {s: 100.0 + i for i, s in enumerate(symbols)}
    next_round = next_news = time.monotonic()
    news_n = 0
    while not stop.is_set():
        wait_s = max(0.0, min(next_round, next_news) - time.monotonic())
        for key, _ in sel.select(wait_s):
            kind, what = key.data
            if kind == "listen":
                conn, _ = key.fileobj.accept()
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conns[what] = conn
                if what == "orders":
                    conn.setblocking(False)
                    sel.register(conn, selectors.EVENT_READ, ("orders", FrameDecoder()))
                continue
            try:
                data = key.fileobj.recv(65536)
            except OSError:
                data = b""
            t = time.perf_counter_ns()
            if not data:
                sel.unregister(key.fileobj)
                key.fileobj.close()
                continue
            arrivals += [(t, f.decode("utf-8", "replace")) for f in what.feed(data)]
        now = time.monotonic()
        if now >= next_round:
            next_round += gap
            if "price" in conns:
                for s in prices:
                    prices[s] *= 1 + rng.choice((-0.004, 0.004))
                frame = "".join(f"{s},{p:.2f}*" for s, p in prices.items()).encode()
                t = time.perf_counter_ns()
                try:
                    conns["price"].sendall(frame)
                    rounds.append(t)
                except OSError:
                    conns.pop("price").close()
        if now >= next_news:
            next_news += 0.1
            news_n += 1
            if "news" in conns:
                try:
                    conns["news"].sendall(b"90*" if news_n // 3 % 2 else b"10*")
                except OSError:
                    conns.pop("news").close()
    for conn in conns.values():
        conn.close()
    sel.close()
    Path(out).write_text(json.dumps({"rounds": rounds, "arrivals": arrivals}),
                         encoding="utf-8")


def tick_to_order_samples(rounds, arrivals) -> list:
    """Each order's arrival minus the send of the latest round before its tick (ns)."""
    out = []
    for t, text in arrivals:
        try:
            tick = json.loads(text).get("tick_ns")
        except ValueError:
            continue
        i = bisect_right(rounds, tick or 0) - 1
        if tick and i >= 0:
            out.append(t - rounds[i])
    return out


def tick_to_order(ctx: BenchContext) -> dict:
    duration = ctx.pick(20.0, 5.0, 1.5)
    cfg = ctx.latency_config()
    spawn = mp.get_context("spawn")
    stop = spawn.Event()
    out = Path(cfg.log_dir) / "edges.json"
    Path(cfg.log_dir).mkdir(parents=True, exist_ok=True)
    peer = spawn.Process(target=edges, name="ipcdesk-bench-edges", daemon=True, args=(
        cfg.price_port, cfg.news_port, cfg.order_port, cfg.symbols,
        len(cfg.symbols) / 1000, stop, str(out)))
    peer.start()
    ctl = ctx.controller(cfg, targets={"orderbook": run_orderbook, "strategy": run_strategy})
    try:
        ctl.start_all()
        wait(ctl, lambda: ctl.status("strategy").stats.orders_sent > 0, 30, "the first order")
        pump(ctl, duration)
        ctl.stop_all_and_wait()
    finally:
        ctl.close()
        stop.set()
        peer.join(10)
        if peer.is_alive():
            peer.kill()
            peer.join(5)
    got = json.loads(out.read_text(encoding="utf-8"))
    samples = tick_to_order_samples(got["rounds"], got["arrivals"])
    if not samples:
        raise RuntimeError(f"no order reached the bench's OrderManager side; see the logs in "
                           f"{cfg.log_dir}")
    res = pcts(samples)
    floor = (getattr(ctx, "results", None) or {}).get("floor") or {}
    if "tick_to_ack_floor_us" in floor:  # the same primitives: two TCP one-ways, a doorbell
        res["floor_us"] = floor["tick_to_ack_floor_us"]
    ctx.say(f"tick-to-order (OrderBook + Strategy alone, timed from outside) at 1,000 "
            f"ticks/s: p50 {res['p50']} us, p99 {res['p99']} us ({res['count']} orders)"
            + (f"; {res['p50'] / res['floor_us']:.1f} x its floor of {res['floor_us']} us"
               if res.get("floor_us") else ""))
    return res
