"""Make docs/screenshot.png from a real running stack.

    python -m gui.screenshot --out docs/screenshot.png --seconds 20

Starts the desk off screen (QT_QPA_PLATFORM=offscreen unless --show) on free ports with a
private shared-memory name, log folder and settings file (your own desk and its settings are
not touched), clicks Start all, lets the stack run, puts the crosshair on the price chart,
grabs the window and closes it the normal way. It also prints the chart frame rate measured
while it ran. Any engine flag (--symbols, --tick-interval, --bullish ...) is accepted.
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_ports(n: int):
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


def main(argv=None) -> int:
    from engine.config import add_arguments, from_args, given, parser_for
    parser = parser_for("python -m gui.screenshot", __doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="how long the stack runs before the grab (default %(default)s)")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--show", action="store_true",
                        help="use the real display instead of rendering off screen")
    parser.add_argument("--window", type=float, default=30.0,
                        help="chart time window in seconds for the picture (default %(default)s)")
    parser.add_argument("--log-tab", default="order_manager",
                        help="log pane to show (default %(default)s)")
    parser.add_argument("--no-crosshair", action="store_true")
    parser.add_argument("--keep", action="store_true",
                        help="keep the run's temporary folder (logs, settings) and print it")
    add_arguments(parser)
    ns = parser.parse_args(argv)
    if not ns.show:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    tmp = Path(tempfile.mkdtemp(prefix="ipcdesk-shot-"))
    said = set(given(ns))
    config = from_args(ns)
    changes = {}
    if not said & {"price_port", "news_port", "order_port", "confirm_port"}:
        p = _free_ports(4)
        changes.update(price_port=p[0], news_port=p[1], order_port=p[2], confirm_port=p[3])
    if "shm_name" not in said:
        changes["shm_name"] = "ipcshot_" + uuid.uuid4().hex[:8]
    if "log_dir" not in said:
        changes["log_dir"] = str(tmp / "logs")
    if "seed" not in said:
        changes["seed"] = 11
    config = config.replace(**changes)

    from PySide6.QtCore import QSettings, QTimer
    from .app import build_desk, make_app

    app = make_app()
    settings = QSettings(str(tmp / "desk.ini"), QSettings.Format.IniFormat)
    adapter, window = build_desk(config, settings=None)
    window.settings = settings
    window.resize(ns.width, ns.height)
    window.default_layout()
    window.charts.set_window(ns.window)
    if ns.log_tab in window.log_view.panes:
        window.log_view.setCurrentWidget(window.log_view.panes[ns.log_tab])
    window.show()
    out = Path(ns.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {}

    def grab():
        charts = window.charts
        # show the symbol with the most fills, and the crosshair on its price chart
        best = max(charts.symbols, key=charts.marker_count)
        if charts.marker_count(best):
            charts.select_symbol(best)
        QTimer.singleShot(400, finish_grab)

    def finish_grab():
        charts = window.charts
        if not ns.no_crosshair:
            (left, right), _ = charts.price_plot.vb.viewRange()
            _, (lo, hi) = charts.price_plot.vb.viewRange()
            charts.show_crosshair("price", left + 0.72 * (right - left), lo + 0.6 * (hi - lo))
        app.processEvents()
        result["fps"] = charts.fps(over=2.0)
        result["frame_ms"] = charts.frame_ms
        result["frames"] = charts.frames_rendered
        result["paints"] = charts.paints()
        result["elapsed"] = time.monotonic() - started
        window.grab().save(str(out))
        result["orders"] = window.orders_view.row_count()
        result["status"] = window.status.text
        window.close()

    window.shutdownFinished.connect(app.quit)
    started = time.monotonic()
    QTimer.singleShot(200, window.process_panel.start_all.click)
    QTimer.singleShot(int(ns.seconds * 1000), grab)
    try:
        app.exec()
    finally:
        adapter.close()
        if ns.keep:
            print(f"logs and settings of this run: {tmp}")
        else:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    if "fps" not in result:
        print("no screenshot taken", file=sys.stderr)
        return 1
    print(f"saved {out} ({ns.width}x{ns.height}); chart {result['fps']:.1f} fps "
          f"(target {window.charts.target_fps}), {result['frames']} frames and "
          f"{result['paints']} paints in {result['elapsed']:.1f} s, "
          f"{result['frame_ms']:.2f} ms a frame; {result['orders']} orders in the table")
    return 0


if __name__ == "__main__":
    import multiprocessing
    multiprocessing.freeze_support()
    sys.exit(main())
