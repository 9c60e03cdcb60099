"""The desk's chart benchmark: the ChartsPanel drawn off screen at its own 30 fps with 5
symbols and 60 s of history while the engine ingests at full speed. It measures frames/s, and
the ingest rate (and the engine's CPU) in alternating windows with the charts drawing and
paused (off, on, off, on), from one running stack.

    python -m tools.bench.chart_window --feed ingest|e2e [--window SECONDS] --json OUT.json

`python -m tools.bench` runs it as a process of its own (the engine never imports Qt) and
puts its figures in the report. Feeds: `ingest`, the blaster into the OrderBook (the sender
takes little CPU); `e2e`, the Gateway at tick interval 0 (Gateway and OrderBook each keep a
core busy, so on 2 cores the charts' CPU comes out of it)."""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the same measurement everywhere

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402

from engine.config.flags import parser_for
from engine.control.controller import ProcessController
from engine.control.roster import Roster
from engine.processes.gateway import run_gateway
from engine.processes.orderbook import run_orderbook
from engine.testing import stack_config  # noqa: E402
from gui.app import make_app
from gui.models.desk import DeskModel
from gui.models.session import OrderSession
from gui.sources.controller import ControllerAdapter
from gui.sources.prices import PriceSampler
from gui.views.charts.panel import ChartsPanel

from .common import cpu_times
from .procs import run_blaster

HISTORY_S, FPS = 60.0, 30  # the desk's own frame rate: its timer allows ~30.3 at most
FEEDS = {"ingest": {"gateway": partial(run_blaster, ticks=10 ** 15), "orderbook": run_orderbook},
         "e2e": {"gateway": run_gateway, "orderbook": run_orderbook}}


def run_qt(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def fill_history(panel: ChartsPanel, book) -> None:
    """60 s of history as the panel would have sampled it (one row per frame)."""
    now = time.time()
    snap = book.snapshot()
    rng = np.random.default_rng(1)
    n = int(HISTORY_S * FPS)
    walk = snap["price"] * np.exp(np.cumsum(rng.normal(0, 1e-4, (n, len(snap))), 0))
    for k in range(n):
        t = now - HISTORY_S + k / FPS
        panel.data.prices.append(t, walk[k])
        panel.data.mas.append(t, np.concatenate((walk[k] * 0.999, walk[k] * 0.998)))
        if k % (FPS // 4) == 0:
            panel.data.sentiment.append(t, (float(40 + k % 30),))


def measure_phases(panel: ChartsPanel, ctl, window: float) -> list:
    """Charts paused and drawing, alternately: the ingest rate and the CPU in each."""
    book, phases = ctl.memory.book, []
    for on in (False, True, False, True):
        (panel.sampler.timer.start if on else panel.sampler.timer.stop)()
        run_qt(min(0.5, window / 4))  # settle
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
    return phases


def measure(feed: str, window: float, log_dir: Path, shm_name: str) -> dict:
    cfg = stack_config(log_dir, tick_interval=0.0, seed=7).replace(shm_name=shm_name)
    app = make_app(["bench"])
    model = DeskModel(cfg, controller_factory=lambda c: ProcessController(
        c, roster=Roster.from_targets(FEEDS[feed])))
    adapter = ControllerAdapter(model)
    sampler = PriceSampler(adapter, fps=FPS)
    panel = ChartsPanel(adapter, sampler, OrderSession(), window_s=HISTORY_S)
    sampler.timer.stop()
    ctl = adapter.controller
    try:
        ctl.start_all()
        end = time.monotonic() + 30
        while ctl.memory.book.update_counter == 0:
            if time.monotonic() > end:
                raise RuntimeError("no tick reached the book within 30 s")
            run_qt(0.05)
        fill_history(panel, ctl.memory.book)
        panel.resize(1280, 720)
        panel.show()
        run_qt(min(1.0, window))
        phases = measure_phases(panel, ctl, window)
        frame_ms = panel.frame_ms
    finally:
        sampler.stop()
        panel.stop()
        panel.close()
        adapter.close()
        panel.deleteLater()
        app.processEvents()
    return summarize(feed, phases, frame_ms, len(cfg.symbols), window)


def summarize(feed: str, phases: list, frame_ms: float, symbols: int, window: float) -> dict:
    on = [p for p in phases if p["charts"]]
    rate_off = statistics.mean(p["ticks_per_s"] for p in phases if not p["charts"])
    rate_on = statistics.mean(p["ticks_per_s"] for p in on)
    res = {"feed": feed, "fps": round(min(p["fps"] for p in on), 1),
           "paints_per_s": round(min(p["paints_per_s"] for p in on), 1),
           "target_fps": FPS, "symbols": symbols, "history_s": HISTORY_S,
           "frame_ms": round(frame_ms, 2),
           "gui_cpu_percent": round(statistics.mean(p["gui_cpu_percent"] for p in on), 1),
           # the engine's processes (feed + OrderBook) with the charts paused: near 100% a
           # core each means the machine has no CPU to spare for the charts
           "engine_cpu_percent_paused": round(statistics.mean(
               p["engine_cpu_percent"] for p in phases if not p["charts"]), 1),
           "cpus": os.cpu_count(),
           "ingest_ticks_per_s_without": round(rate_off),
           "ingest_ticks_per_s_with": round(rate_on),
           "ingest_slowdown_percent": round(100 * (1 - rate_on / rate_off), 1),
           "phases": phases, "window_s": window}
    res["note"] = (f"{symbols} symbols, {HISTORY_S:.0f} s window of "
                   f"{phases[-1]['points_per_curve']} points a curve, off screen; "
                   f"{res['frame_ms']} ms a frame (sample + setData); the charts' process "
                   f"used {res['gui_cpu_percent']}% of a core")
    res["slowdown_note"] = (f"{feed} {res['ingest_ticks_per_s_with']:,} ticks/s drawing vs "
                            f"{res['ingest_ticks_per_s_without']:,} paused (alternating "
                            f"{window:.0f} s windows)")
    return res


def main(argv=None) -> int:
    parser = parser_for("python -m tools.bench.chart_window", __doc__.split("\n\n")[0])
    parser.add_argument("--feed", choices=sorted(FEEDS), default="ingest")
    parser.add_argument("--window", type=float, default=6.0,
                        help="seconds of each of the four windows (default %(default)s)")
    parser.add_argument("--json", required=True, help="write the figures here")
    parser.add_argument("--shm-name", default=f"ipcchart{os.getpid() % 100000}")
    ns = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ipcdesk-charts-") as tmp:
        res = measure(ns.feed, ns.window, Path(tmp), ns.shm_name)
    Path(ns.json).write_text(json.dumps(res, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
