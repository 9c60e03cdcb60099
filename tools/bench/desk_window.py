"""The whole desk with a universe of symbols, measured: the window off screen at 1400x900
starts its stack with Start all (default rates), runs, and reports the desk's frames a second,
its frame time and CPU, with the engine's figures (tools/bench/scale_stack.py measures those).

    python -m tools.bench.desk_window --symbols 500 --seconds 15 --json OUT.json
    python -m tools.bench.desk_window --symbols 5 --record /tmp/r.mp4 --json OUT.json   (while recording)
    python -m tools.bench.desk_window --symbols 50 --strategies 10 --json OUT.json

`python -m tools.bench` runs it once per size in its `scale` section, and with one and ten
Strategies in its `strategies` section (a process of its own: the engine never imports
Qt)."""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the same measurement everywhere

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402

from engine.config.flags import parser_for
from engine.control.lifecycle import State
from engine.control.summary import run_summary
from gui.app import build_desk, make_app

from .scale_stack import (WARMUP_S, StackWatch, order_log_check, scale_config, strategies_plan,
                          verdict)


def run_qt(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def run_until(cond, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        run_qt(0.05)


def measure(n: int, seconds: float, workdir: Path, shm_name: str,
            record: Optional[Path] = None, strategies: int = 1) -> dict:
    cfg = scale_config(workdir, n, shm_name)
    app = make_app(["bench"])
    adapter, window = build_desk(cfg, settings=None, plan=strategies_plan(cfg, strategies))
    window.settings = QSettings(str(workdir / "desk.ini"), QSettings.Format.IniFormat)
    window.resize(1400, 900)
    window.default_layout()
    window.show()
    ctl = adapter.controller
    try:
        started = time.monotonic()
        window.process_panel.start_all.click()
        run_until(lambda: all(ctl.state(p) == State.RUNNING for p in ctl.procs) and
                  ctl.memory.book is not None and ctl.memory.book.update_counter > 0, 60,
                  "the stack to run")
        first_prices_s = time.monotonic() - started
        run_qt(WARMUP_S)
        charts = window.charts
        if record is not None:  # the desk recording itself the whole measured window
            window.record.recorder.start(record)
        watch = StackWatch(ctl)
        watch.begin()
        f0, p0, cpu0 = charts.frames_rendered, charts.paints(), sum(os.times()[:2])
        c0 = charts.prices.total  # price samples that changed: what the charts must draw
        run_qt(seconds)
        res = watch.end()
        if record is not None:
            window.record.recorder.stopped.connect(lambda _p, figures: res.update(
                recording=figures))
            window.record.recorder.stop()
        wall = res["window_s"]
        frames, changes = charts.frames_rendered - f0, charts.prices.total - c0
        desk = {"fps": round(frames / wall, 1),
                # the charts draw what changed and the scroll's pixels, not 30 frames a
                # second of one picture: every change drawn is >= 1 frame a change
                "changes_per_s": round(changes / wall, 1),
                "frames_per_change": round(frames / changes, 2) if changes else None,
                "paints_per_s": round((charts.paints() - p0) / wall, 1),
                "frame_ms": round(charts.frame_ms, 2), "target_fps": charts.target_fps,
                "cpu_percent": round(100 * (sum(os.times()[:2]) - cpu0) / wall, 1),
                "universe": charts.universe, "first_prices_s": round(first_prices_s, 2)}
        t_close = time.monotonic()
        window.close()  # the ordered stop, as the close button does
        run_until(lambda: window.shutdown_done, 60, "the desk to stop its stack")
        desk["stop_s"] = round(time.monotonic() - t_close, 2)
        res.update(verdict(run_summary(ctl), order_log_check(Path(cfg.log_dir))))
        res["desk"] = desk
    finally:
        adapter.close()
        window.deleteLater()
        app.processEvents()
    res["symbols"] = n
    res["strategy_count"] = strategies
    return res


def main(argv=None) -> int:
    parser = parser_for("python -m tools.bench.desk_window", __doc__.split("\n\n")[0])
    parser.add_argument("--symbols", type=int, required=True, help="how many symbols")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured window")
    parser.add_argument("--json", required=True, help="write the figures here")
    parser.add_argument("--record", default=None, metavar="FILE.mp4",
                        help="record the desk to this file while measuring")
    parser.add_argument("--strategies", type=int, default=1,
                        help="Strategies side by side, each of its own account and windows")
    parser.add_argument("--shm-name", default=f"ipcdesk{os.getpid() % 100000}")
    parser.add_argument("--workdir", default=None,
                        help="logs and settings of the run (default: a temporary folder)")
    ns = parser.parse_args(argv)
    record = Path(ns.record).absolute() if ns.record else None
    if ns.workdir:
        Path(ns.workdir).mkdir(parents=True, exist_ok=True)
        res = measure(ns.symbols, ns.seconds, Path(ns.workdir), ns.shm_name, record,
                      ns.strategies)
    else:
        with tempfile.TemporaryDirectory(prefix="ipcdesk-scale-") as tmp:
            res = measure(ns.symbols, ns.seconds, Path(tmp), ns.shm_name, record,
                          ns.strategies)
    Path(ns.json).write_text(json.dumps(res, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
