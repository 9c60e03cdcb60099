"""The desk over a real stack (four spawned processes), driven by clicks, off screen.
Every wait is a condition (qtbot.waitUntil), never a sleep."""
from __future__ import annotations

import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest

from engine.config.schema import ROLES as PROCESS_NAMES
from engine.platforms.oscompat import kill_from_outside, pid_alive
from engine.shm.segment import segment_exists

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

START_MS = 20_000


def states(window):
    return {n: window.process_panel.state_of(n) for n in PROCESS_NAMES}


def start_all(qtbot, window):
    window.process_panel.start_all.click()
    qtbot.waitUntil(lambda: all(s == "running" for s in states(window).values()),
                    timeout=START_MS)


def child_pids(window):
    return {n: p.pid for n, p in window.adapter.controller.procs.items()}


def test_start_all_prices_orders_then_close_leaves_nothing(qtbot, desk):
    window = desk
    assert window.windowTitle() == "IPC Trading Desk"
    assert not window.settings_panel.is_locked()
    start_all(qtbot, window)
    assert window.settings_panel.is_locked(), "settings stay locked while processes run"
    assert not window.process_panel.start_all.isEnabled()
    row = window.process_panel.rows["gateway"]
    assert row.pid.text() == str(window.adapter.controller.procs["gateway"].pid)

    charts, orders = window.charts, window.orders_view
    qtbot.waitUntil(lambda: charts.point_count() >= 20, timeout=10_000)
    # what the panel gave the curve (getData() is what is drawn: 'peak' downsampling keeps
    # about two points a pixel column, so fewer while the samples span a few pixels)
    qtbot.waitUntil(lambda: charts.pct_curves[0].xData is not None
                    and len(charts.pct_curves[0].xData) >= 20, timeout=5_000)
    qtbot.waitUntil(lambda: orders.row_count() >= 3, timeout=20_000)
    rows = orders.model.rows
    assert rows[0][1].order_id > rows[-1][1].order_id, "newest on top"
    # position per symbol = BUY qty - SELL qty of the confirmations shown
    expect = {}
    for _, c in rows:
        expect[c.symbol] = expect.get(c.symbol, 0) + (c.qty if c.side == "BUY" else -c.qty)
    for sym, pos in expect.items():
        assert orders.position(sym) == pos
    assert orders.listener.bad_frames == 0
    qtbot.waitUntil(lambda: charts.marker_count() > 0, timeout=5_000)

    # status line: live figures
    qtbot.waitUntil(lambda: window.adapter.model.figures()["ticks_per_s"] > 0, timeout=5_000)
    qtbot.waitUntil(lambda: window.adapter.model.figures()["orders"] > 0, timeout=5_000)
    window.update_status()
    text = window.status.text
    assert "feed live" in text and "ticks/s" in text and "fps" in text
    shm = window.adapter.controller.memory.nbytes
    assert "shm <b>" in text and str(shm) in text.replace(",", "")
    # (frames follow the changes now: a loaded second may draw fewer; some second draws more)
    qtbot.waitUntil(lambda: charts.fps() > 5, timeout=5_000)
    # the status line never counts fewer orders than the Orders table already shows
    import re
    with qtbot.waitSignal(orders.listener.confirmsReceived, timeout=10_000):
        pass
    shown = int(re.search(r"orders <b>([\d,]+)</b>", window.status.text).group(1)
                .replace(",", ""))
    assert shown >= window.session.orders, (shown, window.session.orders)

    # closing stops every process and unlinks the shared memory
    pids = [p for p in child_pids(window).values() if p]
    cfg = window.adapter.config
    window.close()
    assert not window.shutdown_done, "closing must not block: it stops children in order"
    assert "stopping" in window.status.message.text()
    qtbot.waitUntil(lambda: window.shutdown_done, timeout=20_000)
    assert not any(pid_alive(p) for p in pids)
    assert multiprocessing.active_children() == []
    assert not segment_exists(cfg.shm_name)
    assert not segment_exists(cfg.signal_shm_name)


def test_stop_and_restart_one_process_leaves_the_others_running(qtbot, desk):
    window = desk
    panel = window.process_panel
    model = window.adapter.model
    start_all(qtbot, window)
    qtbot.waitUntil(lambda: model.figures()["feed"] == "live", timeout=10_000)
    before = child_pids(window)

    # Stop on the Gateway alone: a polite stop (it finishes its loop and says goodbye with
    # its counters, exit code 0), not a kill
    t0 = time.monotonic()
    panel.rows["gateway"].stop.click()
    assert time.monotonic() - t0 < 0.5, "Stop must not block the GUI thread"
    qtbot.waitUntil(lambda: panel.state_of("gateway") == "stopped", timeout=10_000)
    assert panel.state_label("gateway").endswith("\u25cf  stopped")  # no exit detail
    assert window.adapter.controller.procs["gateway"].exitcode == 0
    qtbot.waitUntil(lambda: "gateway stopping: " in window.log_view.text("gateway"),
                    timeout=3_000)
    assert {n: s for n, s in states(window).items() if n != "gateway"} == {
        "orderbook": "running", "strategy": "running", "order_manager": "running"}
    # no ticks: the feed goes stale, the charts keep their prices
    points = window.charts.point_count()
    qtbot.waitUntil(lambda: model.figures()["feed"] == "stale", timeout=6_000)
    assert window.charts.point_count() >= points > 0
    assert len(window.charts.price_curve.getData()[0]) > 0

    # Restart brings it back and prices flow again
    counter = window.adapter.controller.memory.book.update_counter
    panel.rows["gateway"].restart.click()
    qtbot.waitUntil(lambda: panel.state_of("gateway") == "running", timeout=START_MS)
    qtbot.waitUntil(lambda: window.adapter.controller.memory.book.update_counter > counter + 20,
                    timeout=10_000)
    qtbot.waitUntil(lambda: model.figures()["feed"] == "live", timeout=5_000)
    after = child_pids(window)
    assert after["gateway"] != before["gateway"]
    for n in ("orderbook", "strategy", "order_manager"):
        assert after[n] == before[n], f"{n} must not have been restarted"

    # Restart of a running process does not block either (stop, then start on STOPPED)
    t0 = time.monotonic()
    panel.rows["orderbook"].restart.click()
    assert time.monotonic() - t0 < 0.5, "Restart must not block the GUI thread"
    assert panel.state_of("orderbook") == "stopping"
    qtbot.waitUntil(lambda: panel.state_of("orderbook") == "running"
                    and window.adapter.controller.procs["orderbook"].pid != before["orderbook"],
                    timeout=START_MS)
    qtbot.waitUntil(lambda: panel.rows["orderbook"].restarts.text() == "1", timeout=2_000)

    # Stopping the OrderBook alone: charts keep the last prices and say the feed is stale
    panel.rows["orderbook"].stop.click()
    qtbot.waitUntil(lambda: panel.state_of("orderbook") == "stopped", timeout=10_000)
    qtbot.waitUntil(lambda: model.figures()["feed"] == "stale", timeout=3_000)
    frames = window.charts.frames_rendered
    qtbot.waitUntil(lambda: window.charts.frames_rendered > frames + 10, timeout=3_000)
    assert len(window.charts.price_curve.getData()[0]) > 0, "last prices stay on the chart"
    window.update_status()
    assert "feed stale" in window.status.text
    assert "stale" in window.charts.pct_plot.titleLabel.text
    assert states(window)["gateway"] == "running"


def test_stop_all_stops_each_politely_in_order_and_rows_start_again(qtbot, desk):
    """Stop all: the Strategy first, each process once what depends on it has exited (the
    OrderBook after the Gateway it drains), each by its own polite stop (exit code 0, its
    last counters logged); then a row's Start brings back a process that was stopped (not
    only one that crashed)."""
    window = desk
    panel = window.process_panel
    start_all(qtbot, window)
    order = []
    window.adapter.stateChanged.connect(
        lambda name, state, *_: state == "stopped" and order.append(name))
    t0 = time.monotonic()
    panel.stop_all.click()
    assert time.monotonic() - t0 < 0.5, "Stop all must not block the GUI thread"
    qtbot.waitUntil(lambda: set(states(window).values()) == {"stopped"}, timeout=30_000)
    assert order[0] == "strategy" and order.index("gateway") < order.index("orderbook")
    assert sorted(order) == ["gateway", "order_manager", "orderbook", "strategy"]
    for name in order:
        assert panel.state_label(name).endswith("\u25cf  stopped"), panel.state_label(name)
        assert window.adapter.controller.procs[name].exitcode == 0
        qtbot.waitUntil(lambda: "stopping: " in window.log_view.text(name),
                        timeout=3_000)
    assert panel.start_all.isEnabled() and not panel.stop_all.isEnabled()
    assert panel.rows["order_manager"].start.isEnabled()
    panel.rows["order_manager"].start.click()
    qtbot.waitUntil(lambda: panel.state_of("order_manager") == "running", timeout=START_MS)
    assert states(window)["gateway"] == "stopped"


def test_killed_process_shows_crashed_within_a_second(qtbot, desk):
    window = desk
    panel = window.process_panel
    start_all(qtbot, window)
    pid = window.adapter.controller.procs["strategy"].pid
    t0 = time.monotonic()
    how = kill_from_outside(pid)
    qtbot.waitUntil(lambda: panel.state_of("strategy") == "crashed", timeout=3_000)
    assert time.monotonic() - t0 < 1.0
    assert panel.state_label("strategy").endswith(f"crashed ({how})")
    assert panel.rows["strategy"].start.isEnabled()
    others = {n: s for n, s in states(window).items() if n != "strategy"}
    assert set(others.values()) == {"running"}
    assert f"Strategy ended: {how}" in window.log_view.text("strategy")

    # controller.kill through the adapter: named as a kill in the platform's words
    window.adapter.kill("gateway")
    qtbot.waitUntil(lambda: panel.state_of("gateway") == "crashed", timeout=3_000)
    assert panel.state_label("gateway").endswith(
        "killed (TerminateProcess)" if os.name == "nt" else "killed (SIGKILL)")
    assert panel.state_of("order_manager") == "running"

    # a crashed process starts again from its row
    panel.rows["strategy"].start.click()
    qtbot.waitUntil(lambda: panel.state_of("strategy") == "running", timeout=START_MS)


@pytest.mark.parametrize("how", ["close", "SIGTERM", "SIGHUP"])
def test_run_gui_returns_and_leaves_no_child(qtbot, fast_config, qsettings, how):
    """launcher.py's entry: run_gui(config) runs the event loop and, on exit, stops every
    process and unlinks the shared memory. A SIGTERM or SIGHUP to the desk (`kill`, a
    logout, a shutdown) ends it the same way as its close button."""
    import signal
    if how != "close" and (os.name == "nt" or not hasattr(signal, how)):
        pytest.skip(f"no {how} to send to oneself here")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gui.app import run_gui
    from gui.window.main_window import MainWindow

    seen = {}

    def find():
        wins = [w for w in QApplication.topLevelWidgets()
                if isinstance(w, MainWindow) and w.isVisible()]
        return wins[0] if wins else None

    def drive():
        w = find()
        if w is None:
            QTimer.singleShot(50, drive)
            return
        seen["window"] = w
        w.process_panel.start_all.click()
        check()

    def check():
        w = seen["window"]
        if all(w.process_panel.state_of(n) == "running" for n in PROCESS_NAMES):
            seen["pids"] = [p.pid for p in w.adapter.controller.procs.values()]
            if how == "close":
                w.close()
            else:
                os.kill(os.getpid(), getattr(signal, how))
        elif time.monotonic() - t0 > 30:
            w.close()
        else:
            QTimer.singleShot(50, check)

    t0 = time.monotonic()
    QTimer.singleShot(0, drive)
    code = run_gui(fast_config, settings=qsettings)
    assert code == 0
    assert seen.get("pids"), "the stack never reached running"
    assert not any(pid_alive(p) for p in seen["pids"])
    assert multiprocessing.active_children() == []
    assert not segment_exists(fast_config.shm_name)
    assert seen["window"].shutdown_done
    # the launch was a session: its own folder (the desk's log folder), summary.json at exit
    from engine.records.sessions import latest_session
    session = Path(seen["window"].adapter.config.log_dir)
    assert session.parent == Path(fast_config.log_dir)
    assert latest_session(fast_config.log_dir) == session
    summary = json.loads((session / "summary.json").read_text(encoding="utf-8"))
    assert summary["session"] == str(session) and summary["ticks_applied"] > 0
    assert all(p["exitcode"] == 0 for p in summary["processes"].values())
    assert summary["pnl"]["method"] == "average cost"
    seen["window"].deleteLater()


def log_truth(window):
    """orders.jsonl of the running session: the order ids, and BUY - SELL per symbol."""
    path = Path(window.adapter.config.log_dir) / "orders.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    held = {}
    for r in records:
        held[r["symbol"]] = held.get(r["symbol"], 0) + (r["qty"] if r["side"] == "BUY"
                                                       else -r["qty"])
    return [r["order_id"] for r in records], {s: q for s, q in held.items() if q}


def desk_view(window):
    orders = window.orders_view
    ids = sorted(c.order_id for _, c in orders.model.rows)
    held = {s: q for s, q in window.session.positions.items() if q}
    return ids, window.session.orders, held


def test_the_desk_shows_the_order_managers_truth_after_any_reconnect(qtbot, desk):
    """The desk's orders table, count and positions equal the session's orders.jsonl after
    its confirmation listener reconnects, and after the OrderManager restarts: the
    OrderManager sends the session first on every connection; nothing is shown twice."""
    window = desk
    start_all(qtbot, window)
    orders = window.orders_view
    qtbot.waitUntil(lambda: orders.row_count() >= 6, timeout=20_000)

    def settled_and_equal():
        ids, held = log_truth(window)
        got_ids, total, got_held = desk_view(window)
        return got_ids == ids and total == len(ids) and got_held == held

    # the listener drops and connects again (a desk that lost its connection)
    window.listener.stop()
    before = window.session.orders
    qtbot.waitUntil(lambda: len(log_truth(window)[0]) >= before + 3, timeout=20_000)
    window.listener.start()
    qtbot.waitUntil(lambda: window.listener.connected, timeout=5_000)
    window.process_panel.rows["strategy"].stop.click()  # no new orders: compare at rest
    qtbot.waitUntil(lambda: window.process_panel.state_of("strategy") == "stopped",
                    timeout=10_000)
    qtbot.waitUntil(settled_and_equal, timeout=5_000)
    assert window.charts.marker_count() == window.session.orders, "no fill marked twice"

    # the OrderManager restarts (its listener reconnects): the same again
    window.process_panel.rows["order_manager"].restart.click()
    qtbot.waitUntil(lambda: window.listener.connects >= 3, timeout=20_000)
    qtbot.waitUntil(settled_and_equal, timeout=5_000)
    assert window.charts.marker_count() == window.session.orders
    assert orders.listener.bad_frames == 0
    # P&L: the desk's (the OrderManager's session, then each fill) equals the order log's,
    # marked to the same prices
    from engine.records.order_log import pnl_of_log
    marks = window.sampler.marks()
    desk_pnl = window.session.pnl.summary(marks)
    log_pnl = pnl_of_log(Path(window.adapter.config.log_dir) / "orders.jsonl", marks)
    assert desk_pnl == log_pnl and desk_pnl["symbols"]
    row = orders.pos_model.symbols.index(next(iter(log_pnl["symbols"])))
    shown = orders.pos_model.data(orders.pos_model.index(row, 2))
    assert shown == f"{log_pnl['symbols'][orders.pos_model.symbols[row]]['total']:+,.2f}"
    assert "P&amp;L" in orders.header.text()
    # the equity curve under the charts: the session's total P&L, the fills marked on it
    import numpy as np
    charts = window.charts
    qtbot.waitUntil(lambda: charts.pnl_curve.yData is not None
                    and np.isfinite(charts.pnl_curve.yData).any(), timeout=5_000)
    qtbot.waitUntil(lambda: abs(charts.pnl_curve.yData[-1]
                                    - window.session.pnl_total(window.sampler.marks())) < 1e-6,
                    timeout=5_000)  # (the Strategy stopped: nothing trades; prices move)
    assert len(charts.pnl_buys.data) + len(charts.pnl_sells.data) > 0


def test_a_gateway_restart_is_a_gap_and_the_walk_goes_on(qtbot, make_desk, fast_config):
    """Stop the Gateway until the feed is stale, start it again: the history holds a gap
    (a NaN row, which lines drawn with connect="finite" do not cross) between the last price
    before and the first after, and the first price after continues the last one (the walk
    goes on from the session's saved state instead of its start prices)."""
    import numpy as np
    # a volatile walk (30 % a minute): after 250 ticks the prices are several % from where
    # they started, one tick moves them about 0.5 %
    window = make_desk(fast_config.replace(volatility=30.0))[1]
    start_all(qtbot, window)
    charts, panel = window.charts, window.process_panel
    book = window.adapter.controller.memory.book
    # prices have moved: 250 ticks of each symbol (5 s; counted in ticks, not in the chart's
    # frames, which a busy machine draws fewer of)
    qtbot.waitUntil(lambda: book.update_counter >= 250 * len(window.adapter.config.symbols)
                    and charts.point_count() >= 10, timeout=30_000)
    panel.rows["gateway"].stop.click()
    qtbot.waitUntil(lambda: panel.state_of("gateway") == "stopped", timeout=10_000)
    qtbot.waitUntil(lambda: charts.data.feed == "stale", timeout=5_000)
    t_gap, gap = charts.data.prices.last()
    assert np.isnan(gap).all(), "the line breaks where the gap begins"
    t, v = charts.data.prices.view()
    before = v[-2].copy()  # the last price before the stop
    panel.rows["gateway"].start.click()
    qtbot.waitUntil(lambda: charts.data.prices.last()[0] > t_gap + 0.001
                    and np.isfinite(charts.data.prices.last()[1]).all(), timeout=15_000)
    t, v = charts.data.prices.view()
    i = int(np.searchsorted(t, t_gap, side="right"))
    after = v[i]  # the first price after: nothing between the gap's NaN and it
    assert np.isfinite(after).all()
    # the walk goes on: within a few ticks of the last price, not back at its start
    assert np.all(np.abs(np.log(after / before)) < 0.03), (before, after)
    # the same gap in what the price curve was given (the selected symbol, every frame)
    qtbot.waitUntil(lambda: charts.price_curve.yData is not None
                    and np.isnan(charts.price_curve.yData).any(), timeout=5_000)
    assert "going on with the session's walk" in window.log_view.text("gateway")


def test_rejected_orders_are_counted_with_their_reasons(qtbot, desk, refuse_two_orders):
    """An order the OrderManager refuses is not an order of the session, but the desk says
    how many were refused and why (the Orders header and its tooltip)."""
    window = desk
    start_all(qtbot, window)
    refuse_two_orders(window.adapter.config.order_port)
    header = window.orders_view.header
    qtbot.waitUntil(lambda: "2 rejected" in header.text(), timeout=5_000)
    assert "unknown symbol" in header.toolTip() and "side" in header.toolTip()
