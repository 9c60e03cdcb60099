"""`python -m engine.bench`: measure the engine with real processes and write the report.

    python -m engine.bench            full run (a few minutes), writes performance_report.md/.json
    python -m engine.bench --quick    the same figures from shorter runs (under a minute)
    python -m engine.bench --only ingest,latency   some sections only

Every section starts real processes (spawn) through the ProcessController, on free loopback
ports and a fresh shared-memory name, with logs and the order log in a temporary folder, and
stops and unlinks everything at the end. Definitions follow DESIGN.md section 6.

Sections:
  ingest      a blaster process sends N pre-encoded `SYMBOL,PRICE*` frames over TCP as fast as
              the socket takes them; the real OrderBook process validates and applies them.
              Ticks/s = N / (time the book's counter reached N - time of the first send);
              N sent must equal N applied, with no frame rejected.
  e2e         the real Gateway (tick interval 0: as fast as the clients read) and OrderBook;
              ticks/s the book's counter grows over a window, then ticks sent == applied.
  floor       one loopback TCP and UDP round trip between two Python processes, back to
              back and 5 ms apart (the far end sleeps in between, as at 1,000 ticks/s).
  latency     the whole stack at 1,000 ticks/s (5 symbols every 5 ms) under the launcher's
              controller: tick-to-decision and tick-to-ack from the Strategy, p50/p99/max.
  standalone  the same, but the Strategy is `python -m engine.strategy` in its own process,
              as a user starts it in a terminal (it learns of prices the same way: the
              OrderBook rings its UDP doorbell; stopped with Ctrl+C, figures via --stats-json).
  breakdown   (not in --quick) the latency run again with timestamps around the Strategy's
              doorbell wait and order send and the OrderManager's handling: tick-to-ack hop
              by hop.
  cpu         the whole engine at the default demo rate: CPU time of the four processes over
              wall time, from /proc/<pid>/stat (Linux) or each process's own os.times().
  footprint   bytes of every shared-memory segment, per symbol and in all.
  charts      the desk's ChartsPanel (gui/, off screen, its own 30 fps, 5 symbols, 60 s of
              history) while the engine ingests at full speed: frames/s, and the ingest rate
              in alternating windows with the charts drawing and paused. Over the blaster-fed
              OrderBook, and in full runs over the Gateway at tick interval 0 too.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import platform
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np

from .config import Config, parser_for
from .gateway import RandomWalk
from .net import PortInUse, listen
from .runtime import Reporter, fatal
from .shared_memory_utils import book_footprint
from .stats import Stats
from .supervisor import LogLine, ProcessController

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("ingest", "e2e", "floor", "latency", "standalone", "breakdown", "cpu",
            "footprint", "charts")
QUICK_SKIPS = ("breakdown",)  # diagnostic; --quick stays under a minute without it
LATENCY_RATE = 1000  # ticks a second, all symbols together

TARGETS = {
    "ingest_ticks_per_s": (">=", 5_000_000),
    "e2e_ticks_per_s": (">=", 2_000_000),
    "tick_to_ack_p50_us": ("<=", 250),
    "tick_to_ack_p99_us": ("<=", 1000),
    "cpu_percent_of_one_core": ("<=", 3.0),
    "chart_fps": (">=", 30),
    "chart_ingest_slowdown_percent": ("<=", 10),
}


# ---------------------------------------------------------------------------
# Processes the benchmark adds
# ---------------------------------------------------------------------------
def price_block(symbols, target_bytes: int = 1 << 20, seed: int = 11):
    """About `target_bytes` of valid price frames from the Gateway's random walk, and the end
    offset of every frame (to send an exact count)."""
    walk = RandomWalk(symbols, seed)
    parts, n, size = [], 0, 0
    while size < target_bytes:
        data, k = walk.next_round()
        parts.append(data)
        n += k
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
    per_block = len(ends)
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
        conn.setblocking(True)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        sent = 0
        t0 = time.perf_counter_ns()
        view = memoryview(block)
        while sent < ticks and not stop_event.is_set():
            left = ticks - sent
            if left >= per_block:
                conn.sendall(view)
                sent += per_block
            else:
                conn.sendall(view[:ends[left - 1]])
                sent += left
        t1 = time.perf_counter_ns()
        log.info("blaster sent %d ticks in %.3f s", sent, (t1 - t0) / 1e9)
        reporter.send(Stats(ticks_sent=sent, extra={"t0_ns": t0, "t1_ns": t1}))
        stop_event.wait()
    finally:
        if conn is not None:
            conn.close()
        srv.close()


def run_order_manager_timed(config: Config, stop_event, reporter=None) -> None:
    """The OrderManager with timestamps around OrderDesk.handle (the `breakdown` section):
    when its event loop woke for the order's bytes, when handling began and ended. Frames are
    kept raw and decoded at exit, so the ack leaves as early as without the timing."""
    from . import net, order_manager
    trace: List[tuple] = []
    woke = [0]
    readable, handle = net.Server._readable, order_manager.OrderDesk.handle

    def timed_readable(server, peer):
        woke[0] = time.perf_counter_ns()
        return readable(server, peer)

    def timed_handle(desk, frames, *args):
        t_in = time.perf_counter_ns()
        out = handle(desk, frames, *args)
        trace.append((woke[0], t_in, time.perf_counter_ns(), list(frames)))
        return out

    net.Server._readable, order_manager.OrderDesk.handle = timed_readable, timed_handle
    try:
        order_manager.run_order_manager(config, stop_event, reporter=reporter)
    finally:
        rows = {}
        for woke_ns, t_in, t_out, frames in trace:
            for f in frames:
                obj = json.loads(f)
                if obj.get("type") == "order":
                    rows[obj["client_order_id"]] = (woke_ns, t_in, t_out)
        (Path(config.log_dir) / "om_times.json").write_text(json.dumps(rows))


def run_strategy_timed(config: Config, stop_event, reporter=None) -> None:
    """The Strategy with timestamps: when its doorbell wait returned, when it began and ended
    sending each order, when each ack arrived (the `breakdown` section)."""
    from . import strategy
    times: Dict[str, dict] = {}
    acks: List[tuple] = []
    woke = [0]
    wait, send, ack = strategy.Doorbell.wait, strategy.OrderLink.send, strategy.OrderLink._ack

    def timed_wait(bell, timeout):
        rung = wait(bell, timeout)
        woke[0] = time.perf_counter_ns()
        return rung

    def timed_send(link, order, intent):
        t0 = time.perf_counter_ns()
        send(link, order, intent)
        times[order.client_order_id] = {"tick": order.tick_ns, "woke": woke[0], "send0": t0,
                                        "send1": time.perf_counter_ns()}

    def timed_ack(link, frame, now_ns):
        acks.append((frame, now_ns))
        return ack(link, frame, now_ns)

    strategy.Doorbell.wait, strategy.OrderLink.send = timed_wait, timed_send
    strategy.OrderLink._ack = timed_ack
    try:
        strategy.run_strategy(config, stop_event, reporter=reporter)
    finally:
        for frame, now_ns in acks:
            coid = json.loads(frame).get("client_order_id")
            if coid in times:
                times[coid]["ack"] = now_ns
        (Path(config.log_dir) / "strategy_times.json").write_text(json.dumps(times))


def run_echo(ports, stop_event) -> None:
    """The far end of the floor measurement: echoes TCP messages (TCP_NODELAY) and answers
    UDP datagrams, so the parent times one round trip between two Python processes."""
    tcp = listen("127.0.0.1", 0, "echo")
    tcp.setblocking(True)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    ports.put((tcp.getsockname()[1], udp.getsockname()[1]))
    conn, _ = tcp.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    udp.settimeout(0.2)
    conn.settimeout(0.2)
    try:
        while not stop_event.is_set():
            try:
                data = conn.recv(4096)
            except socket.timeout:
                data = None
            if data == b"":
                break
            if data:
                conn.sendall(data)
                continue
        # then UDP
        while not stop_event.is_set():
            try:
                data, addr = udp.recvfrom(64)
            except socket.timeout:
                continue
            udp.sendto(data, addr)
    finally:
        conn.close()
        tcp.close()
        udp.close()


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def free_ports(n: int) -> List[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Bench:
    def __init__(self, quick: bool, shm_base: str, workdir: Path, out=sys.stdout):
        self.quick = quick
        self.shm_base = shm_base
        self.workdir = workdir
        self.out = out
        self._n = 0

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def config(self, **changes) -> Config:
        """A Config on fresh ports, a fresh shm name and its own log folder."""
        self._n += 1
        price, news, order, confirm = free_ports(4)
        base = Config(price_port=price, news_port=news, order_port=order,
                      confirm_port=confirm, shm_name=f"{self.shm_base}{self._n}",
                      log_dir=str(self.workdir / f"run{self._n}"), seed=7)
        return base.replace(**changes)

    # -- controller plumbing ----------------------------------------------------------
    def controller(self, cfg: Config, targets=None) -> ProcessController:
        """A controller whose children's warnings and errors are printed (a crash says why)."""
        ctl = ProcessController(cfg, targets=targets)

        def on_event(ev):
            if isinstance(ev, LogLine) and ev.level >= logging.ERROR:
                self.say(f"  [{ev.name}] {logging.getLevelName(ev.level)}: {ev.text}")
        ctl.subscribe(on_event)
        return ctl

    @staticmethod
    def pump(ctl: ProcessController, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ctl.poll(min(0.05, max(end - time.monotonic(), 0)))

    @staticmethod
    def wait_until(ctl: ProcessController, cond: Callable[[], bool], timeout: float,
                   what: str) -> None:
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
            crashed = [n for n, p in ctl.procs.items() if p.state == "crashed"]
            if crashed:
                raise RuntimeError(f"{crashed} crashed while waiting for {what}; see "
                                   f"the logs in {ctl.config.log_dir}")
            ctl.poll(0.005)

    # -- sections ---------------------------------------------------------------------
    def ingest(self) -> dict:
        n = 2_000_000 if self.quick else 20_000_000
        repeats = 1 if self.quick else 5  # the median of 5 rides out a neighbour's burst
        runs = [self._ingest_once(n) for _ in range(repeats)]
        rates = [r["ticks_per_s"] for r in runs]
        best = max(runs, key=lambda r: r["ticks_per_s"])
        res = {"ticks": n, "runs": len(runs), "ticks_per_s": statistics.median(rates),
               "ticks_per_s_all": rates, "lost": max(r["lost"] for r in runs),
               "bad_frames": max(r["bad_frames"] for r in runs),
               "bytes_per_tick": best["bytes_per_tick"]}
        self.say(f"ingest: {res['ticks_per_s']:,.0f} ticks/s (median of {len(runs)}: "
                 + ", ".join(f"{r:,.0f}" for r in rates) + f"), {n:,} sent, "
                 f"lost {res['lost']}, rejected {res['bad_frames']}")
        return res

    def _ingest_once(self, n: int) -> dict:
        cfg = self.config()
        block, ends = price_block(cfg.symbols)
        from .orderbook import run_orderbook
        ctl = self.controller(cfg, targets={"gateway": partial(run_blaster, ticks=n),
                                              "orderbook": run_orderbook})
        try:
            ctl.start_all()
            book = ctl.book
            self.wait_until(ctl, lambda: book.update_counter >= n, 120, f"{n} ticks applied")
            t_done = time.perf_counter_ns()
            self.wait_until(ctl, lambda: "t0_ns" in ctl.procs["gateway"].stats.extra, 10,
                            "the blaster's report")
            g = ctl.procs["gateway"].stats
            applied = book.update_counter
            ctl.stop_all_and_wait()
            ob = ctl.totals("orderbook")
            bad = ctl.procs["orderbook"].stats.bad_frames
        finally:
            ctl.close()
        return {"ticks_per_s": n / ((t_done - g.extra["t0_ns"]) / 1e9),
                "lost": g.ticks_sent - applied, "bad_frames": bad,
                "applied_reported": ob.ticks_applied,
                "bytes_per_tick": len(block) / len(ends)}

    def e2e(self) -> dict:
        window = 3.0 if self.quick else 10.0
        cfg = self.config(tick_interval=0.0)
        from .gateway import run_gateway
        from .orderbook import run_orderbook
        ctl = self.controller(cfg, targets={"gateway": run_gateway, "orderbook": run_orderbook})
        try:
            ctl.start_all()
            book = ctl.book
            self.wait_until(ctl, lambda: book.update_counter > 0, 30, "the first tick")
            self.pump(ctl, 1.0)  # warm up
            c0, t0 = book.update_counter, time.perf_counter()
            samples = []
            while time.perf_counter() - t0 < window:
                self.pump(ctl, 0.5)
                samples.append((time.perf_counter(), book.update_counter))
            c1, t1 = book.update_counter, time.perf_counter()
            ctl.stop_all_and_wait()
            s = ctl.summary()
        finally:
            ctl.close()
        rate = (c1 - c0) / (t1 - t0)
        per_half = []
        prev_t, prev_c = t0, c0
        for t, c in samples:
            per_half.append((c - prev_c) / (t - prev_t))
            prev_t, prev_c = t, c
        res = {"ticks_per_s": rate, "window_s": round(t1 - t0, 2),
               "ticks_per_s_p50_of_0.5s": statistics.median(per_half),
               "ticks_per_s_min_of_0.5s": min(per_half),
               "ticks_sent": s["ticks_sent"], "ticks_applied": s["ticks_applied"],
               "lost": s["ticks_sent"] - s["ticks_applied"], "bad_frames": s["bad_frames"]}
        self.say(f"end to end: {rate:,.0f} ticks/s over {res['window_s']} s "
                 f"(0.5 s windows: median {res['ticks_per_s_p50_of_0.5s']:,.0f}, "
                 f"min {res['ticks_per_s_min_of_0.5s']:,.0f}); sent {s['ticks_sent']:,}, "
                 f"applied {s['ticks_applied']:,}, lost {res['lost']}")
        return res

    def _latency_config(self) -> Config:
        # 5 symbols every 5 ms = 1,000 ticks/s; an eager market so that orders are frequent
        return self.config(tick_interval=len(Config().symbols) / LATENCY_RATE,
                           news_interval=0.1, short_window=2, long_window=4,
                           bullish=50, bearish=50)

    def latency(self) -> dict:
        duration = 5.0 if self.quick else 30.0
        cfg = self._latency_config()
        ctl = self.controller(cfg)
        try:
            ctl.start_all()
            self.wait_until(ctl, lambda: ctl.procs["strategy"].stats.orders_acked > 0,
                            30, "the first acknowledged order")
            t0, c0 = time.perf_counter(), ctl.book.update_counter
            self.pump(ctl, duration)
            rate = (ctl.book.update_counter - c0) / (time.perf_counter() - t0)
            ctl.stop_all_and_wait()
            s = ctl.summary()
        finally:
            ctl.close()
        res = self._latency_result(s["latency_us"], rate, s.get("orders_acked"))
        self.say(self._latency_line("latency (launcher)", res))
        return res

    def standalone(self) -> dict:
        duration = 5.0 if self.quick else 30.0
        cfg = self._latency_config()
        from .gateway import run_gateway
        from .order_manager import run_order_manager
        from .orderbook import run_orderbook
        ctl = self.controller(cfg, targets={"gateway": run_gateway, "orderbook": run_orderbook,
                                              "order_manager": run_order_manager})
        stats_path = Path(cfg.log_dir) / "strategy_stats.json"
        proc = None
        try:
            ctl.start_all()
            Path(cfg.log_dir).mkdir(parents=True, exist_ok=True)
            console = open(Path(cfg.log_dir) / "strategy.console", "wb")
            kwargs = {}
            if os.name == "nt":
                kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore
            cmd = [sys.executable, "-m", "engine.strategy", *cli_flags(cfg),
                   "--stats-json", str(stats_path)]
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=console, stderr=subprocess.STDOUT,
                                    **kwargs)
            console.close()
            log_file = Path(cfg.log_dir) / "order_manager.log"
            self.wait_until(ctl, lambda: log_file.exists() and b"Received Order"
                            in log_file.read_bytes(), 30, "the standalone Strategy's first order")
            t0, c0 = time.perf_counter(), ctl.book.update_counter
            self.pump(ctl, duration)
            rate = (ctl.book.update_counter - c0) / (time.perf_counter() - t0)
            stop_subprocess(proc)
            proc = None
            ctl.stop_all_and_wait()
            stats = json.loads(stats_path.read_text(encoding="utf-8"))
        finally:
            if proc is not None:
                proc.kill()
                proc.wait(5)
            ctl.close()
        res = self._latency_result(stats["latency_us"], rate, stats.get("orders_acked"))
        self.say(self._latency_line("latency (standalone strategy)", res))
        return res

    def breakdown(self) -> dict:
        """Where tick-to-ack goes, hop by hop, at 1,000 ticks/s (timestamps wrapped around the
        Strategy's and the OrderManager's methods; the latency sections run unwrapped)."""
        duration = 5.0 if self.quick else 20.0
        cfg = self._latency_config()
        from .gateway import run_gateway
        from .orderbook import run_orderbook
        ctl = self.controller(cfg, targets={"gateway": run_gateway, "orderbook": run_orderbook,
                                            "strategy": run_strategy_timed,
                                            "order_manager": run_order_manager_timed})
        try:
            ctl.start_all()
            self.wait_until(ctl, lambda: ctl.procs["strategy"].stats.orders_acked > 0,
                            30, "the first acknowledged order")
            self.pump(ctl, duration)
            ctl.stop_all_and_wait()
        finally:
            ctl.close()
        st = json.loads((Path(cfg.log_dir) / "strategy_times.json").read_text())
        om = json.loads((Path(cfg.log_dir) / "om_times.json").read_text())
        hops = {"OrderBook receipt -> Strategy awake": [], "awake -> order sending": [],
                "order send call": [], "sent -> OrderManager awake": [],
                "OrderManager awake -> handling": [], "OrderManager handling": [],
                "ack sent -> Strategy has it": [], "tick-to-ack": []}
        for coid, t in st.items():
            if coid not in om or "ack" not in t or not t["woke"]:
                continue
            woke, t_in, t_out = om[coid]
            for key, value in zip(hops, (t["woke"] - t["tick"], t["send0"] - t["woke"],
                                         t["send1"] - t["send0"], woke - t["send1"],
                                         t_in - woke, t_out - t_in, t["ack"] - t_out,
                                         t["ack"] - t["tick"])):
                hops[key].append(value)
        res = {k: _pcts(v) for k, v in hops.items() if v}
        self.say("tick-to-ack hop by hop (p50 / p99 us): " + "; ".join(
            f"{k} {v['p50']} / {v['p99']}" for k, v in res.items()))
        return res

    @staticmethod
    def _latency_result(lat: dict, rate: float, acked) -> dict:
        return {"ticks_per_s": round(rate, 1), "orders_acked": acked,
                "tick_to_decision_us": lat["tick_to_decision"],
                "tick_to_ack_us": lat["tick_to_ack"]}

    @staticmethod
    def _latency_line(title: str, r: dict) -> str:
        def f(d):
            return (f"p50 {d['p50']} us, p99 {d['p99']} us, max {d['max']} us "
                    f"({d['count']} samples)")
        return (f"{title} at {r['ticks_per_s']:,.0f} ticks/s: tick-to-decision "
                f"{f(r['tick_to_decision_us'])}; tick-to-ack {f(r['tick_to_ack_us'])}")

    def cpu(self) -> dict:
        window = 6.0 if self.quick else 30.0
        cfg = self.config(seed=None)  # the default demo: 10 rounds/s, news every second
        ctl = self.controller(cfg)
        try:
            ctl.start_all()
            self.wait_until(ctl, lambda: all(p.state == "running" for p in ctl.procs.values())
                            and ctl.book.update_counter > 0, 30, "the stack to run")
            self.pump(ctl, 2.0)  # imports and connections done
            pids = {n: p.pid for n, p in ctl.procs.items()}
            c0, how = cpu_times(ctl)
            t0 = time.perf_counter()
            self.pump(ctl, window)
            c1, _ = cpu_times(ctl)
            wall = time.perf_counter() - t0
            ctl.stop_all_and_wait()
        finally:
            ctl.close()
        per = {n: round(100 * (c1[n] - c0[n]) / wall, 2) for n in pids}
        total = round(sum(per.values()), 2)
        res = {"percent_of_one_core": total, "per_process_percent": per,
               "window_s": round(wall, 1), "source": how,
               "tick_interval_s": cfg.tick_interval, "news_interval_s": cfg.news_interval}
        self.say(f"cpu at the default demo rate: {total}% of one core over {wall:.0f} s ("
                 + ", ".join(f"{n} {v}%" for n, v in per.items()) + f"; from {how})")
        return res

    def floor(self) -> dict:
        """One round trip between two Python processes over loopback TCP and UDP, back to back
        and spaced 5 ms apart (as the ticks of the latency runs: the far end sleeps between
        messages and has to be woken). tick-to-ack needs at least one wake-up of the Strategy
        (doorbell) and one TCP round trip to the OrderManager."""
        import multiprocessing as mp
        n_hot, n_idle = (300, 100) if self.quick else (3000, 1000)
        ctx = mp.get_context("spawn")
        ports, stop = ctx.Queue(), ctx.Event()
        proc = ctx.Process(target=run_echo, args=(ports, stop), daemon=True)
        proc.start()
        res = {}
        try:
            tcp_port, udp_port = ports.get(timeout=30)
            tcp = socket.create_connection(("127.0.0.1", tcp_port), timeout=5)
            tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            msg = b"x" * 64

            def tcp_rtt():
                t = time.perf_counter_ns()
                tcp.sendall(msg)
                got = 0
                while got < len(msg):
                    got += len(tcp.recv(4096))
                return time.perf_counter_ns() - t

            res["tcp_rtt_hot_us"] = _pcts([tcp_rtt() for _ in range(n_hot)])
            res["tcp_rtt_idle_us"] = _pcts([_after(0.005, tcp_rtt) for _ in range(n_idle)])
            tcp.close()
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.settimeout(5)

            def udp_rtt():
                t = time.perf_counter_ns()
                udp.sendto(b"!", ("127.0.0.1", udp_port))
                udp.recvfrom(64)
                return time.perf_counter_ns() - t

            res["udp_rtt_hot_us"] = _pcts([udp_rtt() for _ in range(n_hot)])
            res["udp_rtt_idle_us"] = _pcts([_after(0.005, udp_rtt) for _ in range(n_idle)])
            udp.close()
        finally:
            stop.set()
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
            ports.close()
            ports.join_thread()
        res["tick_to_ack_floor_us"] = round(res["udp_rtt_idle_us"]["p50"] / 2
                                            + res["tcp_rtt_idle_us"]["p50"], 1)
        # the same Python code is slower in a process that slept while others ran
        from .protocol import Order
        junk = np.ones(2_000_000)

        def order_round_trip():
            t = time.perf_counter_ns()
            Order.decode(Order(client_order_id="bench-1-1", side="BUY", symbol="AAPL", qty=10,
                               price=172.5, tick_ns=1).encode()[:-1])
            return time.perf_counter_ns() - t

        def disturbed():
            time.sleep(0.005)
            junk.sum()  # another workload goes through the caches meanwhile
            return order_round_trip()

        res["order_codec_hot_us"] = _pcts([order_round_trip() for _ in range(n_hot)])
        res["order_codec_cold_us"] = _pcts([disturbed() for _ in range(n_idle)])
        self.say("floor: TCP round trip between two processes p50 "
                 f"{res['tcp_rtt_hot_us']['p50']} us back to back, "
                 f"{res['tcp_rtt_idle_us']['p50']} us 5 ms apart (p99 "
                 f"{res['tcp_rtt_idle_us']['p99']}); UDP round trip {res['udp_rtt_hot_us']['p50']}"
                 f" / {res['udp_rtt_idle_us']['p50']} us; so tick-to-ack >= ~"
                 f"{res['tick_to_ack_floor_us']} us at 1,000 ticks/s before any work; "
                 f"encoding + decoding one order takes {res['order_codec_hot_us']['p50']} us "
                 f"back to back, {res['order_codec_cold_us']['p50']} us after 5 ms asleep")
        return res

    def footprint(self) -> dict:
        cfg = self.config()
        ctl = self.controller(cfg, targets={})
        try:
            ctl.ensure_shared_memory()
            fp = book_footprint(cfg.symbols)
            res = {"symbols": len(cfg.symbols), "price_book_bytes": ctl.book.nbytes,
                   "signal_book_bytes": ctl.signal_book.nbytes,
                   "total_bytes": ctl.shm_bytes, "per_symbol_bytes": fp["per_symbol"],
                   "header_bytes_per_segment": ctl.book.nbytes - 32 * len(cfg.symbols),
                   "os_mapped_bytes": ctl.book.segment_size + ctl.signal_book.segment_size}
        finally:
            ctl.close()
        self.say(f"shared memory: {res['total_bytes']} bytes for {res['symbols']} symbols "
                 f"(price book {res['price_book_bytes']}, signal book "
                 f"{res['signal_book_bytes']}; {res['per_symbol_bytes']} bytes a symbol + "
                 f"2 x {res['header_bytes_per_segment']} header; the OS maps "
                 f"{res['os_mapped_bytes']})")
        return res

    def charts(self) -> dict:
        """The desk's ChartsPanel (gui/, drawn off screen) with 5 symbols and 60 s of history
        while the engine ingests at full speed: frames/s, and the ingest rate in windows with
        the charts drawing and paused, taken alternately (off, on, off, on) from one running
        stack. Two feeds: the blaster into the OrderBook (the `ingest` figure: the sender
        takes little CPU), and, in full runs, the Gateway at tick interval 0 (`e2e`: Gateway
        and OrderBook each keep a core busy, so on 2 cores the charts' CPU comes out of it)."""
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # the same measurement on every machine
        try:
            import gui  # noqa: F401  (installs the PySide6 workaround first)
            import gui.charts  # noqa: F401
        except ImportError as exc:
            res = {"skipped": f"the desk's charts cannot be imported: {exc}"}
            self.say(f"charts: skipped ({res['skipped']})")
            return res
        from .gateway import run_gateway
        from .orderbook import run_orderbook
        res = self._charts_over("ingest", {"gateway": partial(run_blaster, ticks=10 ** 15),
                                           "orderbook": run_orderbook})
        if not self.quick:
            res["e2e"] = self._charts_over("e2e", {"gateway": run_gateway,
                                                   "orderbook": run_orderbook})
        return res

    def _charts_over(self, feed: str, targets: dict) -> dict:
        from PySide6.QtCore import QEventLoop, QTimer
        from gui.adapter import ControllerAdapter
        from gui.app import make_app
        from gui.charts import ChartsPanel
        from gui.model import DeskModel
        window = 2.0 if self.quick else 6.0
        history_s, fps = 60.0, 30  # the desk's own frame rate: its timer allows ~30.3 at most
        cfg = self.config(tick_interval=0.0)
        app = make_app(["bench"])
        model = DeskModel(cfg, controller_factory=lambda c: self.controller(c, targets=targets))
        adapter = ControllerAdapter(model)
        panel = ChartsPanel(adapter, None, fps=fps, window_s=history_s)
        panel.timer.stop()
        ctl = adapter.controller

        def run_qt(seconds: float) -> None:
            loop = QEventLoop()
            QTimer.singleShot(int(seconds * 1000), loop.quit)
            loop.exec()

        phases = []
        try:
            ctl.start_all()
            book = ctl.book
            end = time.monotonic() + 30
            while book.update_counter == 0:
                if time.monotonic() > end:
                    raise RuntimeError("no tick reached the book within 30 s")
                run_qt(0.05)
            # 60 s of history as the panel would have sampled it (one row per frame)
            now = time.time()
            snap = book.snapshot()
            rng = np.random.default_rng(1)
            n = int(history_s * fps)
            walk = snap["price"] * np.exp(np.cumsum(rng.normal(0, 1e-4, (n, len(snap))), 0))
            for k in range(n):
                t = now - history_s + k / fps
                panel.prices.append(t, walk[k])
                panel.mas.append(t, np.concatenate((walk[k] * 0.999, walk[k] * 0.998)))
                if k % (fps // 4) == 0:
                    panel.sentiment.append(t, (float(40 + k % 30),))
            panel.resize(1280, 720)
            panel.show()
            run_qt(1.0)
            for on in (False, True, False, True):
                (panel.timer.start if on else panel.timer.stop)()
                run_qt(0.5)  # settle
                c0, f0, p0 = book.update_counter, panel.frames_rendered, panel.paints()
                t0, cpu0 = time.perf_counter(), sum(os.times()[:2])
                engine0 = sum(cpu_times(ctl)[0].values())
                run_qt(window)
                wall = time.perf_counter() - t0
                engine_s = sum(cpu_times(ctl)[0].values()) - engine0
                phases.append({"charts": on, "ticks_per_s": (book.update_counter - c0) / wall,
                               "fps": (panel.frames_rendered - f0) / wall,
                               "paints_per_s": (panel.paints() - p0) / wall,
                               "gui_cpu_percent": 100 * (sum(os.times()[:2]) - cpu0) / wall,
                               "engine_cpu_percent": 100 * engine_s / wall,
                               "points_per_curve": panel.point_count()})
            frame_ms = panel.frame_ms
        finally:
            panel.stop()
            panel.close()
            adapter.close()
            panel.deleteLater()
            app.processEvents()
        off = [p["ticks_per_s"] for p in phases if not p["charts"]]
        on_ = [p for p in phases if p["charts"]]
        rate_off = statistics.mean(off)
        rate_on = statistics.mean(p["ticks_per_s"] for p in on_)
        res = {"feed": feed, "fps": round(min(p["fps"] for p in on_), 1),
               "paints_per_s": round(min(p["paints_per_s"] for p in on_), 1),
               "target_fps": fps, "symbols": len(cfg.symbols), "history_s": history_s,
               "frame_ms": round(frame_ms, 2),
               "gui_cpu_percent": round(statistics.mean(p["gui_cpu_percent"] for p in on_), 1),
               # the engine's processes (feed + OrderBook) with the charts paused: near
               # 100% a core each means the machine has no CPU to spare for the charts
               "engine_cpu_percent_paused": round(statistics.mean(
                   p["engine_cpu_percent"] for p in phases if not p["charts"]), 1),
               "cpus": os.cpu_count(),
               "ingest_ticks_per_s_without": round(rate_off),
               "ingest_ticks_per_s_with": round(rate_on),
               "ingest_slowdown_percent": round(100 * (1 - rate_on / rate_off), 1),
               "phases": phases, "window_s": window}
        res["note"] = (f"{res['symbols']} symbols, {history_s:.0f} s window of "
                       f"{phases[-1]['points_per_curve']} points a curve, off screen; "
                       f"{res['frame_ms']} ms a frame (sample + setData); the charts' process "
                       f"used {res['gui_cpu_percent']}% of a core")
        res["slowdown_note"] = (f"{feed} {res['ingest_ticks_per_s_with']:,} ticks/s drawing vs "
                                f"{res['ingest_ticks_per_s_without']:,} paused (alternating "
                                f"{window:.0f} s windows)")
        self.say(f"charts over {feed}: {res['fps']} frames/s ({res['paints_per_s']} paints/s) at a "
                 f"{fps} fps target, {res['note']}; {res['slowdown_note']}: "
                 f"{res['ingest_slowdown_percent']}% slower")
        return res

def _after(delay: float, fn):
    time.sleep(delay)
    return fn()


def _pcts(samples_ns) -> dict:
    a = np.asarray(samples_ns, dtype=np.float64) / 1e3
    return {"p50": round(float(np.percentile(a, 50)), 1),
            "p99": round(float(np.percentile(a, 99)), 1),
            "max": round(float(a.max()), 1), "count": len(a)}


def cli_flags(cfg: Config) -> List[str]:
    """The command-line flags that rebuild `cfg` in a process started on its own."""
    args = {"--host": cfg.host, "--price-port": cfg.price_port, "--news-port": cfg.news_port,
            "--order-port": cfg.order_port, "--confirm-port": cfg.confirm_port,
            "--symbols": ",".join(cfg.symbols), "--shm-name": cfg.shm_name,
            "--log-dir": cfg.log_dir, "--tick-interval": cfg.tick_interval,
            "--news-interval": cfg.news_interval, "--short-window": cfg.short_window,
            "--long-window": cfg.long_window, "--bullish": cfg.bullish,
            "--bearish": cfg.bearish, "--qty": cfg.qty}
    if cfg.seed is not None:
        args["--seed"] = cfg.seed
    out: List[str] = []
    for k, v in args.items():
        out += [k, str(v)]
    return out


def stop_subprocess(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Ctrl+C for a process started in its own 'terminal' (Ctrl+Break on Windows)."""
    if os.name == "nt":
        proc.send_signal(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
    else:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _proc_stat_cpu(pid: int) -> Optional[float]:
    """CPU seconds (user + system, all threads) of a process from /proc (Linux)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_times(ctl: ProcessController):
    """{name: CPU seconds} of every running child, and where the figures came from."""
    out, how = {}, "/proc/<pid>/stat"
    for n, p in ctl.procs.items():
        v = _proc_stat_cpu(p.pid) if p.pid else None
        if v is None:  # not Linux: what the child itself reported (os.times, every 0.5 s)
            v, how = float(p.stats.cpu_s), "each process's os.times()"
        out[n] = v
    return out, how


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
def machine_info() -> dict:
    info = {"platform": platform.platform(), "python": sys.version.split()[0],
            "implementation": platform.python_implementation(), "numpy": np.__version__,
            "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["processor"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 ** 2, 1)
                break
    except OSError:
        pass
    return info


def load_average() -> Optional[List[float]]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def check(key: str, value) -> Optional[bool]:
    if value is None:
        return None
    op, bound = TARGETS[key]
    return value >= bound if op == ">=" else value <= bound


def figures_table(results: dict, command: str) -> List[dict]:
    """One row per reported figure: name, value, target, met, and the command."""
    rows = []

    def add(name, value, unit, key=None, note=""):
        target = None
        met = None
        if key:
            op, bound = TARGETS[key]
            target = f"{op} {bound:,}"
            met = check(key, value)
        rows.append({"figure": name, "value": value, "unit": unit, "target": target,
                     "met": met, "note": note, "command": command})

    r = results
    if "ingest" in r:
        i = r["ingest"]
        add("ingest (OrderBook, blaster feed)", round(i["ticks_per_s"]), "ticks/s",
            "ingest_ticks_per_s", f"{i['ticks']:,} sent, lost {i['lost']}, rejected "
            f"{i['bad_frames']}; median of {i['runs']}: "
            + ", ".join(f"{x / 1e6:.1f} M" for x in i["ticks_per_s_all"]))
    if "e2e" in r:
        e = r["e2e"]
        add("end to end (Gateway generator -> shm)", round(e["ticks_per_s"]), "ticks/s",
            "e2e_ticks_per_s", f"{e['window_s']} s window; sent {e['ticks_sent']:,} = "
            f"applied {e['ticks_applied']:,}" if not e["lost"] else f"LOST {e['lost']}")
    for sec, title in (("latency", "launcher"), ("standalone", "standalone Strategy")):
        if sec in r:
            lat = r[sec]
            for kind in ("tick_to_decision_us", "tick_to_ack_us"):
                d = lat[kind]
                for q in ("p50", "p99", "max"):
                    key = None
                    if kind == "tick_to_ack_us" and q in ("p50", "p99"):
                        key = f"tick_to_ack_{q}_us"
                    add(f"{kind[:-3].replace('_', '-')} {q} ({title})", d[q], "us", key,
                        f"{d['count']} samples at {lat['ticks_per_s']:,.0f} ticks/s")
    if "cpu" in r:
        c = r["cpu"]
        add("CPU, whole engine at the default demo rate", c["percent_of_one_core"],
            "% of one core", "cpu_percent_of_one_core",
            ", ".join(f"{n} {v}" for n, v in c["per_process_percent"].items()))
    if "footprint" in r:
        f = r["footprint"]
        add("shared memory, all segments", f["total_bytes"], "bytes", None,
            f"{f['symbols']} symbols; OS maps {f['os_mapped_bytes']}")
        add("shared memory per symbol", f["per_symbol_bytes"], "bytes", None,
            f"price row 32 + signal row 40; + {f['header_bytes_per_segment']} header a segment")
    if "charts" in r and "fps" in r["charts"]:
        c = r["charts"]
        add("chart frame rate, OrderBook ingesting at full speed", c["fps"], "frames/s",
            "chart_fps",
            c.get("note", ""))
        add("ingest slowdown while charts draw", c["ingest_slowdown_percent"], "%",
            "chart_ingest_slowdown_percent", c.get("slowdown_note", ""))
        if "e2e" in c:
            e = c["e2e"]
            add("chart frame rate, Gateway at full speed", e["fps"], "frames/s", "chart_fps",
                e.get("note", ""))
            add("end-to-end slowdown while charts draw", e["ingest_slowdown_percent"], "%",
                "chart_ingest_slowdown_percent", e.get("slowdown_note", ""))
    return rows


def bounds(results: dict) -> Dict[str, str]:
    """What holds back the figures that can miss their targets, from this run's own
    measurements (the floor, breakdown and charts sections): {figure name prefix: text}."""
    out: Dict[str, str] = {}
    parts = []
    f = results.get("floor") or {}
    if "tick_to_ack_floor_us" in f:
        hot, cold = f["order_codec_hot_us"]["p50"], f["order_codec_cold_us"]["p50"]
        parts.append(f"the wake-ups alone (half a UDP and one TCP round trip between "
                     f"processes that sleep 5 ms between ticks) take "
                     f"{f['tick_to_ack_floor_us']} us, and Python code on the path runs "
                     f"{cold / hot:.1f}x slower than in a hot loop (one order encoded and "
                     f"decoded: {hot} us back to back, {cold} us after sleeping)")
    b = results.get("breakdown") or {}
    work = ("awake -> order sending", "OrderManager awake -> handling",
            "OrderManager handling")
    hops = ("OrderBook receipt -> Strategy awake", "order send call",
            "sent -> OrderManager awake", "ack sent -> Strategy has it")
    if all(k in b for k in work + hops):
        parts.append(f"hop by hop (p50) {sum(b[k]['p50'] for k in work):.0f} us are Python "
                     f"work in the Strategy and the OrderManager and "
                     f"{sum(b[k]['p50'] for k in hops):.0f} us sends and wake-ups with the "
                     f"Python around them; the hops' p99s reach "
                     f"{max(b[k]['p99'] for k in work + hops):.0f} us, a woken process "
                     f"waiting for one of the {os.cpu_count()} cores")
    if parts:
        out["tick-to-ack"] = "; ".join(parts) + "."
    e = (results.get("charts") or {}).get("e2e") or {}
    if "engine_cpu_percent_paused" in e:
        out["end-to-end slowdown"] = (
            f"with the charts paused the Gateway and the OrderBook used "
            f"{e['engine_cpu_percent_paused']}% of the {e['cpus']} cores' "
            f"{100 * e['cpus']}% (two processes that each wait on the other through the "
            f"socket), and drawing took {e['gui_cpu_percent']}% of a core: the two cores "
            f"are shared by three busy processes. (Over the blaster, which leaves most of a "
            f"core idle, the same charts cost the ingest nothing measurable.)")
    return out


METHOD = __doc__.split("Sections:", 1)[1].rstrip()


def write_report(path: Path, json_path: Path, meta: dict, results: dict, rows: List[dict],
                 notes: List[str]) -> None:
    def fmt(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:,.1f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    lines = ["# Performance report", "",
             "Generated by `python -m engine.bench` (do not edit by hand: rerun it).", "",
             f"- date: {meta['date']}",
             f"- command: `{meta['command']}`" + (" (quick: shorter runs)" if meta["quick"]
                                                 else ""),
             f"- machine: {meta['machine']['processor']}, {meta['machine']['cpus']} CPUs"
             + (f", {meta['machine']['memory_gb']} GB" if "memory_gb" in meta["machine"]
                else ""),
             f"- OS: {meta['machine']['platform']}",
             f"- Python {meta['machine']['python']} ({meta['machine']['implementation']}), "
             f"NumPy {meta['machine']['numpy']}",
             f"- load average before / after: {meta['load_before']} / {meta['load_after']}",
             f"- duration: {meta['duration_s']} s", "",
             "## Figures", "",
             "| figure | value | unit | target | met | notes |",
             "| --- | ---: | --- | --- | --- | --- |"]
    for row in rows:
        met = {True: "yes", False: "**no**", None: ""}[row["met"]]
        lines.append(f"| {row['figure']} | {fmt(row['value'])} | {row['unit']} | "
                     f"{row['target'] or ''} | {met} | {row['note']} |")
    lines += ["", f"Every figure above came from `{meta['command']}`; one section alone: "
              "`python -m engine.bench --only SECTION` (" + ", ".join(SECTIONS) + ").", ""]
    if "floor" in results and "tcp_rtt_idle_us" in results["floor"]:
        f = results["floor"]
        lines += ["## Floor: what any implementation pays on this machine", "",
                  "| | p50 us | p99 us | max us |", "| --- | ---: | ---: | ---: |"]
        for key, title in (("tcp_rtt_hot_us", "TCP, back to back"),
                           ("tcp_rtt_idle_us", "TCP, 5 ms apart (as at 1,000 ticks/s)"),
                           ("udp_rtt_hot_us", "UDP, back to back"),
                           ("udp_rtt_idle_us", "UDP, 5 ms apart"),
                           ("order_codec_hot_us", "encode + decode one order (Python), back "
                                                  "to back"),
                           ("order_codec_cold_us", "the same after 5 ms asleep while other "
                                                   "work ran")):
            d = f[key]
            lines.append(f"| {title} | {d['p50']} | {d['p99']} | {d['max']} |")
        lines += ["", "tick-to-ack needs at least half a UDP round trip (the doorbell wakes the "
                  "Strategy) plus one TCP round trip (order out, ack back) between processes "
                  f"that sleep between ticks: about {f['tick_to_ack_floor_us']} us here "
                  "before any Python work, and Python work on that path runs several times "
                  "slower than in a hot loop (last two rows).", ""]
    if "breakdown" in results and "tick-to-ack" in results["breakdown"]:
        lines += ["## Where tick-to-ack goes (1,000 ticks/s, launcher)", "",
                  "| hop | p50 us | p99 us | max us |", "| --- | ---: | ---: | ---: |"]
        for hop, d in results["breakdown"].items():
            lines.append(f"| {hop} | {d['p50']} | {d['p99']} | {d['max']} |")
        lines += ["", "(Timestamps wrapped around the Strategy's doorbell wait and order send "
                  "and the OrderManager's handling; p50s of hops do not add up to the p50 "
                  "of the whole.)", ""]
    if "charts" in results and "skipped" in results["charts"]:
        lines += [f"Charts: not measured ({results['charts']['skipped']}).", ""]
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    lines += ["## Method", "", "```", METHOD.strip("\n"), "```", "",
              f"Raw figures: `{json_path.name}`.", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    json_path.write_text(json.dumps({"meta": meta, "results": results, "figures": rows},
                                    indent=2, default=str) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    parser = parser_for("python -m engine.bench", "Measure the engine with real processes.")
    parser.add_argument("--quick", action="store_true",
                        help="shorter runs (under a minute); the figures are noisier")
    parser.add_argument("--only", default=None,
                        help="comma-separated sections (default: all; --quick leaves out "
                             "breakdown): " + ", ".join(SECTIONS))
    parser.add_argument("--out", default=str(ROOT / "performance_report.md"),
                        help="the Markdown report (default %(default)s)")
    parser.add_argument("--json", default=None,
                        help="the raw figures (default: the report's name with .json)")
    parser.add_argument("--shm-name", default=f"ipcbench{os.getpid() % 100000}_",
                        help="prefix of the shared-memory names the runs use")
    ns = parser.parse_args(argv)
    if ns.only is None:
        sections = [s for s in SECTIONS if not (ns.quick and s in QUICK_SKIPS)]
    else:
        sections = [s.strip() for s in ns.only.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    out_path = Path(ns.out)
    json_path = Path(ns.json) if ns.json else out_path.with_suffix(".json")
    command = "python -m engine.bench" + ("" if argv is None and len(sys.argv) <= 1 else
                                          " " + " ".join(shlex.quote(a) for a in
                                                         (sys.argv[1:] if argv is None
                                                          else argv)))
    meta = {"date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "command": command, "quick": ns.quick, "machine": machine_info(),
            "load_before": load_average(), "sections": sections}
    started = time.monotonic()
    results: Dict[str, dict] = {}
    notes: List[str] = []
    with tempfile.TemporaryDirectory(prefix="ipcbench") as tmp:
        bench = Bench(ns.quick, ns.shm_name, Path(tmp))
        bench.say(f"benchmark ({'quick' if ns.quick else 'full'}) on "
                  f"{meta['machine']['processor']}, {meta['machine']['cpus']} CPUs, "
                  f"Python {meta['machine']['python']}; load {meta['load_before']}")
        for name in SECTIONS:
            if name in sections:
                try:
                    results[name] = getattr(bench, name)()
                except Exception as exc:  # report what failed, go on with the rest
                    logging.getLogger("bench").exception("section %s failed", name)
                    notes.append(f"section {name} failed: {exc!r}")
                    results[name] = {"error": repr(exc)}
    meta["load_after"] = load_average()
    meta["duration_s"] = round(time.monotonic() - started, 1)
    measured = {k: v for k, v in results.items() if "error" not in v}
    rows = figures_table(measured, command)
    why = bounds(measured)
    bounded = []
    for row in rows:
        if row["met"] is False:
            notes.append(f"target missed: {row['figure']} = {row['value']} {row['unit']} "
                         f"(target {row['target']})")
            bounded += [p for p in why if row["figure"].startswith(p) and p not in bounded]
    notes += [f"what bounds {p}, measured in this run: {why[p]}" for p in bounded]
    write_report(out_path, json_path, meta, results, rows, notes)
    bench.say(f"report written to {out_path} and {json_path} ({meta['duration_s']} s)")
    return 1 if any("error" in v for v in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
