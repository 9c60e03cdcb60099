"""Make docs/screenshot.png from a real running stack.

    python -m tools.screenshot --out docs/screenshot.png --seconds 20

Starts the desk off screen (QT_QPA_PLATFORM=offscreen unless --show) on free ports with a
private shared-memory name, log folder and settings file (your own desk and its settings are
not touched), clicks Start all, lets the stack run, puts the crosshair on the price chart,
grabs the window and closes it the normal way. It also prints the chart frame rate measured
while it ran. Any engine flag (--symbols, --tick-interval, --bullish ...) is accepted.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def default_out() -> Path:
    """docs/screenshot.png in a checkout (the README shows it), else in the data folder."""
    from engine.platforms.paths import default_output
    return default_output("docs", "screenshot.png")


def make_parser() -> argparse.ArgumentParser:
    from engine.config.flags import add_arguments, parser_for
    parser = parser_for("python -m tools.screenshot", __doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=None,
                        help=f"the picture (default {default_out()})")
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
    parser.add_argument("--palette", default="dark", choices=("dark", "light", "system"),
                        help="the desk's palette (View > Appearance); default dark")
    parser.add_argument("--on-crash", default="", metavar="NAME,...",
                        help="processes whose restart policy is 'on crash' (default none)")
    parser.add_argument("--log-filter", default="", metavar="TEXT",
                        help="text typed into the Logs' filter box")
    parser.add_argument("--log-level", default="all",
                        choices=("all", "info", "warning", "error"),
                        help="the lowest log level shown (default %(default)s)")
    parser.add_argument("--system-map", action="store_true",
                        help="show the System map in front of the Orders")
    parser.add_argument("--stop", default="", metavar="NAME",
                        help="stop this process 3 s before the picture (its links go red)")
    parser.add_argument("--menu", default="", metavar="TITLE",
                        help="a menu of the menu bar shown open in the picture (File, View, "
                             "Processes, Help)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the run's temporary folder (logs, settings) and print it")
    parser.add_argument("--stack", default=None, metavar="FILE.toml",
                        help="the processes of a stack file (its settings under the flags)")
    parser.add_argument("--show-account", default=None, metavar="NAME",
                        help="show this account in the Orders pane (and the watchlist)")
    add_arguments(parser)
    return parser


def private_config(ns, tmp: Path):
    """The flags' config, with free ports, a private shared-memory name, log folder and seed
    wherever the user did not say otherwise: the user's own desk is never touched."""
    from engine.config.flags import from_args, given
    from engine.control.private import private_stack
    said = set(given(ns))
    changes = {}
    if "log_dir" not in said:
        changes["log_dir"] = str(tmp / "logs")
    if "seed" not in said:
        changes["seed"] = 11
    return private_stack(from_args(ns).replace(**changes), said, "ipcshot")


class Shot:
    """The desk on a private stack: Start all, run, pick the busiest symbol, crosshair, grab,
    close the normal way; `result` holds what it measured."""

    def __init__(self, ns, config, tmp: Path, out: Path):
        from PySide6.QtCore import QSettings, QSize

        from gui.app import build_desk, make_app
        self.ns, self.out, self.result = ns, out, {}
        from gui.views.theme import apply_theme
        self.app = make_app()
        apply_theme(self.app, ns.palette)
        plan = None
        if ns.stack:
            from engine.config.stack_file import load_stack
            plan = load_stack(ns.stack, base=config)
            config = plan.config
        self.adapter, window = build_desk(config, settings=None, plan=plan)
        window.settings = QSettings(str(tmp / "desk.ini"), QSettings.Format.IniFormat)
        window.resize(ns.width, ns.height)
        window.reset_layout(QSize(ns.width, ns.height))  # as a first run lays out this size
        window.charts.set_window(ns.window)
        if ns.log_tab in window.log_view.panes:
            window.log_view.setCurrentWidget(window.log_view.panes[ns.log_tab])
        for name in filter(None, ns.on_crash.split(",")):
            window.process_panel.rows[name].policy.setCurrentText("on crash")
        logs = window.log_view
        logs.filter_box.setText(ns.log_filter)
        logs.level_box.setCurrentIndex(("all", "info", "warning", "error").index(ns.log_level))
        window.shutdownFinished.connect(self.app.quit)
        self.window = window

    def run(self) -> dict:
        from PySide6.QtCore import QTimer
        self.window.show()
        self.started = time.monotonic()
        QTimer.singleShot(200, self.window.process_panel.start_all.click)
        if self.ns.system_map:
            QTimer.singleShot(100, self.window.show_system_map)
        if self.ns.stop:
            QTimer.singleShot(max(int(self.ns.seconds * 1000) - 3000, 500),
                              self.window.process_panel.rows[self.ns.stop].stop.click)
        QTimer.singleShot(int(self.ns.seconds * 1000), self._choose_symbol)
        try:
            self.app.exec()
        finally:
            self.adapter.close()
        return self.result

    def _choose_symbol(self) -> None:
        from PySide6.QtCore import QTimer
        charts = self.window.charts
        best = max(charts.symbols, key=charts.marker_count)  # the one with the most fills
        if charts.marker_count(best):
            charts.select_symbol(best)
        QTimer.singleShot(400, self._grab)

    def _grab(self) -> None:
        charts, window = self.window.charts, self.window
        if not self.ns.no_crosshair:
            (left, right), (lo, hi) = charts.price_plot.vb.viewRange()
            charts.show_crosshair("price", left + 0.72 * (right - left), lo + 0.6 * (hi - lo))
        if self.ns.show_account:
            window.orders_view.pick_account(self.ns.show_account)
        window.process_panel.refresh()
        self.app.processEvents()
        self.result.update(fps=charts.fps(over=2.0), frame_ms=charts.frame_ms,
                           frames=charts.frames_rendered, paints=charts.paints(),
                           elapsed=time.monotonic() - self.started,
                           target_fps=charts.target_fps)
        self._picture().save(str(self.out))
        self.result.update(orders=window.orders_view.row_count(), status=window.status.text)
        window.close()


    def _picture(self):
        """The window; with --menu, that menu drawn open over it (a menu is a window of its
        own, which the window's grab does not hold)."""
        from PySide6.QtGui import QPainter
        picture = self.window.grab()
        if not self.ns.menu:
            return picture
        bar = self.window.menuBar()
        action = next((a for a in bar.actions()
                       if a.text().replace("&", "") == self.ns.menu), None)
        if action is None:
            raise SystemExit(f"no menu {self.ns.menu!r}")
        menu = action.menu()
        where = bar.mapTo(self.window, bar.actionGeometry(action).bottomLeft())
        bar.setActiveAction(action)
        menu.popup(self.window.mapToGlobal(where))
        self.app.processEvents()
        picture = self.window.grab()  # the bar with the menu's title highlighted
        painter = QPainter(picture)
        painter.drawPixmap(where, menu.grab())
        painter.end()
        menu.hide()
        return picture


def main(argv=None) -> int:
    ns = make_parser().parse_args(argv)
    if not ns.show:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    out = Path(ns.out) if ns.out else default_out()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="ipcdesk-shot-"))
    try:
        result = Shot(ns, private_config(ns, tmp), tmp, out).run()
    finally:
        if ns.keep:
            print(f"logs and settings of this run: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if "fps" not in result:
        print("no screenshot taken", file=sys.stderr)
        return 1
    print(f"saved {out} ({ns.width}x{ns.height}); chart {result['fps']:.1f} fps "
          f"(target {result['target_fps']}), {result['frames']} frames and "
          f"{result['paints']} paints in {result['elapsed']:.1f} s, "
          f"{result['frame_ms']:.2f} ms a frame; {result['orders']} orders in the table")
    return 0


if __name__ == "__main__":
    import multiprocessing
    multiprocessing.freeze_support()
    sys.exit(main())
