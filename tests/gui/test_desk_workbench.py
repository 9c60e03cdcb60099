"""The desk as a workbench, driven through its real widgets: the log panes' filter, pause,
clear and save; the orders table sorted and filtered, exported as CSV equal to the
session's order log, and the rejected orders listed with their reasons; the charts exported
as PNG, SVG and CSV, a series hidden by a click on its legend entry, the price chart's y
zoomed; the menu bar with its shortcuts, its docks closed and brought back."""
from __future__ import annotations

import csv
import json
import logging
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt

pytestmark = [pytest.mark.timeout(120)]

START_MS = 20_000


@pytest.fixture
def log_view(qtbot, bare_adapter):
    from gui.views.log_view import LogView
    view = LogView(bare_adapter)
    box = view.panel()
    qtbot.addWidget(box)
    view.box = box  # the dock's widget, which owns the view: kept while the test runs
    return view


def _lines(view, name):
    view.flush()
    return view.panes[name].toPlainText().splitlines()


def test_log_filter_hides_and_shows_lines_by_text_and_level(qtbot, log_view):
    emit = log_view._on_log_line
    t = time.time()
    emit("gateway", logging.INFO, "price server listening on 127.0.0.1:5001", t)
    emit("gateway", logging.WARNING, "prices: client#3 too slow; dropped", t)
    emit("gateway", logging.ERROR, "accept failed: too many open files", t)
    emit("strategy", logging.INFO, "BUY 10 AAPL @ 172.91", t)
    assert len(_lines(log_view, "gateway")) == 3

    qtbot.keyClicks(log_view.filter_box, "CLIENT")  # any case
    assert [ln.split(" ", 1)[1] for ln in _lines(log_view, "gateway")] == \
        ["WARNING: prices: client#3 too slow; dropped"]
    assert _lines(log_view, "strategy") == []  # the filter is every pane's
    log_view.filter_box.clear()
    log_view.level_box.setCurrentIndex(log_view.level_box.findText("Warnings and up"))
    assert len(_lines(log_view, "gateway")) == 2
    emit("gateway", logging.INFO, "a new info line", t)  # filtered as it arrives too
    emit("gateway", logging.ERROR, "a new error line", t)
    assert [ln.split(" ", 1)[1] for ln in _lines(log_view, "gateway")][-1] == \
        "ERROR: a new error line"
    assert len(_lines(log_view, "gateway")) == 3
    log_view.level_box.setCurrentIndex(0)  # every line is back, in order
    texts = [ln.split(" ", 1)[1] for ln in _lines(log_view, "gateway")]
    assert texts == ["price server listening on 127.0.0.1:5001",
                     "WARNING: prices: client#3 too slow; dropped",
                     "ERROR: accept failed: too many open files", "a new info line",
                     "ERROR: a new error line"]


def test_log_pause_holds_the_pane_then_resumes_and_clear_and_save(qtbot, log_view, tmp_path):
    emit = log_view._on_log_line
    log_view.setCurrentWidget(log_view.panes["order_manager"])
    pane = log_view.panes["order_manager"]
    emit("order_manager", logging.INFO, "Received Order 1: BUY 10 AAPL @ 172.91", time.time())
    log_view.flush_shown()
    qtbot.mouseClick(log_view.pause_button, Qt.MouseButton.LeftButton)
    assert log_view.pause_button.text() == "Resume" and pane.paused
    emit("order_manager", logging.INFO, "Received Order 2: SELL 10 AAPL @ 173.00", time.time())
    qtbot.wait(300)  # three of the view's flushes
    assert pane.lines() == 1 and pane.waiting() == 1
    qtbot.mouseClick(log_view.pause_button, Qt.MouseButton.LeftButton)
    assert log_view.pause_button.text() == "Pause"
    assert pane.toPlainText().count("Received Order") == 2

    out = tmp_path / "pane.txt"
    assert log_view.save_pane("order_manager", out) == 2
    saved = out.read_text(encoding="utf-8").splitlines()
    assert saved[0].endswith("Received Order 1: BUY 10 AAPL @ 172.91")
    assert saved[1].endswith("Received Order 2: SELL 10 AAPL @ 173.00")

    qtbot.mouseClick(log_view.clear_button, Qt.MouseButton.LeftButton)
    assert pane.toPlainText() == "" and not pane.kept
    emit("order_manager", logging.INFO, "Received Order 3: BUY 10 MSFT @ 325.00", time.time())
    assert _lines(log_view, "order_manager")[0].endswith("Received Order 3: BUY 10 MSFT @ 325.00")


@pytest.mark.slow
def test_orders_sorted_filtered_exported_and_rejections_listed(qtbot, desk, tmp_path,
                                                                start_all, refuse_two_orders):
    window = desk
    start_all(window)
    ov = window.orders_view
    qtbot.waitUntil(lambda: ov.session.orders >= 6, timeout=START_MS)
    refuse_two_orders(window.adapter.config.order_port)
    qtbot.waitUntil(lambda: ov.refused.rowCount() == 2, timeout=5_000)
    reasons = {ov.refused.rows[i].reason for i in range(2)}
    assert reasons == {"order: side must be BUY or SELL, not 'HOLD'",
                       "order: unknown symbol 'ZZZZ'"}
    assert ov.tabs.tabText(1) == "Rejected (2)"
    assert '"ZZZZ"' in ov.refused.rows[0].frame

    # newest on top; a click on Qty sorts by the number, a filter keeps one symbol
    proxy = ov.proxy
    ids = [proxy.index(r, 1).data() for r in range(proxy.rowCount())]
    assert [int(i) for i in ids] == sorted((int(i) for i in ids), reverse=True)
    ov.table.horizontalHeader().sectionClicked.emit(3)
    ov.table.sortByColumn(3, Qt.SortOrder.AscendingOrder)
    qtys = [int(proxy.index(r, 3).data()) for r in range(proxy.rowCount())]
    assert qtys == sorted(qtys)
    # (six orders of five symbols may hold no AAPL yet)
    qtbot.waitUntil(lambda: any(c.symbol == "AAPL" for _, c in ov.model.rows), timeout=START_MS)
    qtbot.keyClicks(ov.filter_box, "aapl")
    assert proxy.rowCount() >= 1
    assert all(proxy.index(r, 4).data() == "AAPL" for r in range(proxy.rowCount()))
    assert ov.refused_proxy.rowCount() == 1  # "... not 'HOLD'" came with symbol AAPL
    ov.set_filter("")

    # the CSV export equals the session's order log, order by order
    window.adapter.stop_all()
    qtbot.waitUntil(lambda: not window.adapter.any_active(), timeout=START_MS)
    out = tmp_path / "orders.csv"
    n = ov.export_orders_csv(out)
    log = [json.loads(line) for line in
           (Path(window.adapter.config.log_dir) / "orders.jsonl").read_text(
               encoding="utf-8").splitlines()]
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert n == len(rows) == len(log) >= 6
    for row, rec in zip(rows, log):
        assert int(row["order_id"]) == rec["order_id"]
        assert (row["side"], int(row["qty"]), row["symbol"]) == \
            (rec["side"], rec["qty"], rec["symbol"])
        assert float(row["price"]) == rec["price"] and float(row["time"]) == rec["time"]
        assert row["client_order_id"] == rec["client_order_id"]
        # the time as the table shows it (with the date), not only raw epoch seconds
        shown = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(rec["time"]))
        assert row["local_time"].startswith(shown) and len(row["local_time"]) == 23
    assert ov.session.orders == len(log)
    assert f"exported {n:,} orders to {out}" in window.log_view.text("launcher")


@pytest.mark.slow
def test_charts_export_png_svg_csv_hide_a_series_and_zoom_y(qtbot, make_desk, config,
                                                            tmp_path):
    window = make_desk(config)[1]
    window.process_panel.start_all.click()
    charts = window.charts
    qtbot.waitUntil(lambda: charts.prices.count > 20 and charts.data.focus_view(
        time.time() - 30, time.time())[0].size > 20, timeout=START_MS)
    tools = charts.tools

    charts.show_crosshair("price", time.time() - 5, 100.0)  # the mouse over the chart
    png = tools.export_image(tmp_path / "charts.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not any(v.isVisible() or h.isVisible() for v, h in charts.crosshair.lines.values())
    assert "exported the charts to" in window.log_view.text("launcher")
    from PySide6.QtGui import QImage
    img = QImage(str(png))
    assert img.width() == charts.glw.width() and img.height() > 100
    svg = tools.export_image(tmp_path / "charts.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "</svg>" in svg
    with tools.export_csv(tmp_path / "price.csv").open(encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    assert len(table[0]) >= 6 and len(table) > 10  # time and value of price and both MAs
    assert float(table[5][1]) > 0  # a price

    # a click on the price legend's "MA 5" hides that curve, a second shows it again
    legend = charts.price_legend
    rect = legend.item.mapRectToParent(legend.item.boundingRect())
    y_ma5 = rect.top() + rect.height() * 1.5 / 5
    assert legend.entry_at(y_ma5) == 1
    view = charts.glw

    def click_legend():
        pos = view.mapFromScene(legend.mapToScene(QPointF(20, y_ma5)))
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    click_legend()
    qtbot.waitUntil(lambda: not charts.short_curve.isVisible(), timeout=2_000)
    assert "<s>MA 5</s>" in legend.html and charts.price_curve.isVisible()
    click_legend()
    qtbot.waitUntil(lambda: charts.short_curve.isVisible(), timeout=2_000)
    assert "<s>" not in legend.html

    # y zoom on the price chart: the user's range stays until Live
    vb = charts.price_plot.vb
    (_, _), (y0, y1) = vb.viewRange()
    vb.scaleBy(y=0.5)
    vb.sigRangeChangedManually.emit([False, True])
    zoomed = vb.viewRange()[1]
    qtbot.wait(300)  # nine frames
    assert tools.price_y_manual and vb.viewRange()[1] == zoomed
    assert zoomed[1] - zoomed[0] < 0.75 * (y1 - y0)
    charts.live_btn.click()
    qtbot.waitUntil(lambda: vb.viewRange()[1] != zoomed, timeout=2_000)
    assert not tools.price_y_manual


def test_menu_bar_shortcuts_docks_and_about(qtbot, make_desk, config):
    window = make_desk(config)[1]
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&File", "&View", "&Processes", "&Help"]
    acts = window.menus.actions
    from PySide6.QtGui import QKeySequence
    assert QKeySequence("Ctrl+Q") in acts["quit"].shortcuts()
    assert acts["record"].shortcut().toString() == "Ctrl+R"
    assert acts["start_all"].shortcut().toString() == "F5"
    for key in ("export_png", "export_svg", "export_csv", "export_orders", "log_folder",
                "reset_layout", "stop_all", "about", "readme", "kill_strategy",
                "dock_processes", "dock_settings", "dock_orders", "dock_logs"):
        assert key in acts, key

    # a dock closed from its title bar comes back from the View menu, and with Reset layout
    assert window.log_dock.features() & window.log_dock.DockWidgetFeature.DockWidgetClosable
    window.log_dock.close()
    qtbot.waitUntil(lambda: not window.log_dock.isVisible(), timeout=1_000)
    assert not acts["dock_logs"].isChecked()
    acts["dock_logs"].trigger()
    qtbot.waitUntil(lambda: window.log_dock.isVisible(), timeout=1_000)
    window.orders_dock.close()
    window.settings_dock.setFloating(True)
    acts["reset_layout"].trigger()
    qtbot.waitUntil(lambda: window.orders_dock.isVisible(), timeout=1_000)
    assert not window.settings_dock.isFloating()
    assert window.dockWidgetArea(window.orders_dock) == Qt.DockWidgetArea.RightDockWidgetArea

    # Processes > Strategy > Start starts that one alone
    acts["start_strategy"].trigger()
    qtbot.waitUntil(lambda: window.process_panel.state_of("strategy") == "running",
                    timeout=START_MS)
    assert window.process_panel.state_of("gateway") == "stopped"

    # Ctrl+Q quits through the ordered stop, as the close button does
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2_000)
    qtbot.keyClick(window.process_panel, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.closing, timeout=2_000)
    qtbot.waitUntil(lambda: window.shutdown_done, timeout=START_MS)
    assert window.process_panel.state_of("strategy") == "stopped"

    box = window.menus.show_about()
    from gui.window.menus import version
    assert version() in box.text() and "PySide6" in box.text() and "README" in box.text()
    assert "docs/desk.md#the-system-map'" in box.text()  # each page a link
    from gui.models.help import HELP_PAGES, anchor
    root = Path(__file__).resolve().parents[2]
    for title, page, heading in HELP_PAGES:  # every page and heading named is there
        assert title in box.text() and (root / page).is_file(), page
        if heading:
            text = (root / page).read_text(encoding="utf-8")
            assert any(line.lstrip("#").strip() == heading for line in text.splitlines()
                       if line.startswith("#")), heading
            assert f"{page}#{anchor(heading)}'" in box.text()
    box.close()
