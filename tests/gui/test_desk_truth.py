"""The desk says what is so (issue 26): each thing a new user saw that was not so, driven
through the real widgets over a real stack, off screen. Every wait is a condition."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.timeout(120)]

START_MS = 20_000


def link_text(window) -> str:
    return window.orders_view.link.text()


@pytest.mark.slow
def test_the_orders_pane_says_reconnecting_only_while_an_order_manager_should_be_there(
        qtbot, desk, start_all):
    assert "OrderManager not running" in link_text(desk)  # nothing started yet
    assert "reconnecting" not in link_text(desk)
    start_all(desk)
    qtbot.waitUntil(lambda: "connected" in link_text(desk) and
                    "not" not in link_text(desk), timeout=10_000)
    desk.process_panel.stop_all.click()
    qtbot.waitUntil(lambda: all(desk.process_panel.state_of(n) == "stopped"
                                for n in desk.process_panel.rows), timeout=START_MS)
    qtbot.waitUntil(lambda: "OrderManager not running" in link_text(desk), timeout=5_000)


def test_the_log_filter_finds_the_level_word_shown_on_screen(qtbot, bare_adapter):
    """`warning` finds the lines that read `WARNING: ...`, in a pane and in the All pane."""
    import logging
    import time

    from gui.views.log_view import LogView
    view = LogView(bare_adapter, max_lines=100)
    try:
        t = time.time()
        bare_adapter.logLine.emit("strategy", logging.WARNING, "prices are stale", t)
        bare_adapter.logLine.emit("strategy", logging.INFO, "BUY 10 AAPL", t + 0.001)
        qtbot.waitUntil(lambda: "BUY 10" in view.all_pane.toPlainText(), timeout=2_000)
        view.filter_box.setText("warning")
        shown = view.all_pane.toPlainText()
        assert "WARNING: prices are stale" in shown and "BUY" not in shown, shown
        pane = view.panes["strategy"]  # (a pane in a tab not shown is drawn when shown)
        assert [ln[1] for ln in pane.kept + pane.pending if pane._matches(ln)] == \
            ["prices are stale"]
    finally:
        view.deleteLater()


@pytest.mark.slow
def test_menus_offer_only_what_does_something(qtbot, desk, start_all):
    """The Processes menu and the System map's node menu as the row's buttons: no Start on a
    running process, no Start all when all run; Start again once stopped."""
    actions, panel = desk.menus.actions, desk.process_panel
    assert actions["start_all"].isEnabled() and not actions["stop_all"].isEnabled()
    assert actions["start_orderbook"].isEnabled() and not actions["kill_orderbook"].isEnabled()
    start_all(desk)
    qtbot.waitUntil(lambda: not actions["start_all"].isEnabled(), timeout=2_000)
    assert actions["stop_all"].isEnabled()
    assert not actions["start_orderbook"].isEnabled() and actions["kill_orderbook"].isEnabled()
    menu = desk.system_map.menu_for("orderbook")
    enabled = {a.text().split()[0]: a.isEnabled() for a in menu.actions() if a.text()}
    assert enabled == {"Start": False, "Stop": True, "Restart": True, "Kill": True}
    panel.rows["orderbook"].stop.click()
    qtbot.waitUntil(lambda: actions["start_orderbook"].isEnabled(), timeout=START_MS)
    assert actions["start_all"].isEnabled() and not actions["stop_orderbook"].isEnabled()
    menu = desk.system_map.menu_for("orderbook")
    assert [a.text() for a in menu.actions() if a.isEnabled()] == ["Start OrderBook",
                                                                    "Restart OrderBook"]


@pytest.mark.slow
def test_the_desk_log_says_what_the_user_did(qtbot, desk, start_all):
    start_all(desk)
    desk.process_panel.rows["strategy"].kill.click()
    qtbot.waitUntil(lambda: desk.process_panel.state_of("strategy") == "crashed",
                    timeout=5_000)
    desk.process_panel.stop_all.click()
    qtbot.waitUntil(lambda: "Stop all" in desk.log_view.text("launcher"), timeout=5_000)
    lines = desk.log_view.text("launcher")
    assert "Start all" in lines and "Kill Strategy" in lines
    assert lines.index("Start all") < lines.index("Kill Strategy") < lines.index("Stop all")


MENU_PATH = r"\b(File|View|Processes|Help|Desk|Edit) > ([A-Z][\w ]*?)(?:\.\.\.|\u2026|\*|,|\)|$)"


def test_every_menu_path_the_docs_name_is_in_the_desks_menus(make_desk, config):
    """'Desk > Open videos folder' was under File: each `Menu > Item` of the docs exists."""
    import re

    from tests.support import ROOT
    _, window = make_desk(config)
    menus = {}
    for action in window.menuBar().actions():
        items = [a.text().replace("&", "").rstrip(".\u2026") for a in action.menu().actions()]
        menus[action.text().replace("&", "")] = items
    named = set()
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for menu, item in re.findall(MENU_PATH, page.read_text(encoding="utf-8"), re.M):
            named.add((page.name, menu, item.strip()))
    assert len(named) >= 4
    wrong = [(page, f"{menu} > {item}") for page, menu, item in named
             if not any(i.startswith(item) for i in menus.get(menu, ()))]
    assert not wrong, (wrong, menus)


def test_a_status_tip_leaves_the_figures_and_links_are_legible(qtbot, make_desk, config):
    """A menu item's status tip used to hide the whole status line (feed, ticks, latency)
    while the mouse rested on it; links were Qt's dark blue on dark grey."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    from gui.views import theme
    _, window = make_desk(config)
    from PySide6.QtGui import QStatusTipEvent
    status = window.status
    # what a hovered menu item sends the window (then an empty one when the mouse leaves)
    QApplication.sendEvent(window, QStatusTipEvent("Every dock back in its place and size"))
    assert "Every dock" in status.message.text() and not window.statusBar().currentMessage()
    assert all(label.isVisible() for label in status.labels.values())
    QApplication.sendEvent(window, QStatusTipEvent(""))
    assert "Every dock" not in status.message.text()
    pal = QApplication.palette()
    window_bg = pal.color(QPalette.ColorRole.Window).name()
    for role in (QPalette.ColorRole.Link, QPalette.ColorRole.LinkVisited):
        assert theme.contrast(pal.color(role).name(), window_bg) >= 4.5


def test_the_threshold_labels_leave_the_newest_sentiment_clear(qtbot, make_desk, config):
    """'bullish > 60' and 'bearish < 40' sat at the right end, over the newest sentiment."""
    _, window = make_desk(config)
    charts = window.charts
    qtbot.waitUntil(lambda: charts.sent_plot.vb.sceneBoundingRect().width() > 100,
                    timeout=5_000)
    box = charts.sent_plot.vb.sceneBoundingRect()
    for line in (charts.bull_line, charts.bear_line):  # placed once the view has its range
        qtbot.waitUntil(lambda: line.label.sceneBoundingRect().left() > box.left(),
                        timeout=5_000)
    for line in (charts.bull_line, charts.bear_line):
        label = line.label.sceneBoundingRect()
        assert label.width() > 10 and label.right() < box.left() + box.width() / 3, \
            (label, box)


def test_headers_leave_room_for_the_sort_arrow_and_a_checkbox_shows(qtbot, make_desk, config):
    """The sort arrow covered the end of 'Order'; the 'Held only' box was nearly invisible
    (issue 26, point 18)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QFont, QFontMetrics

    from gui.views import theme
    _, window = make_desk(config.replace(symbols=tuple(f"S{i:02d}" for i in range(50))))
    watch = window.watchlist
    qtbot.waitUntil(watch.isVisible, timeout=5_000)
    for table in (window.orders_view.table, watch.table):
        head = table.horizontalHeader()
        bold = QFont(head.font())
        bold.setBold(True)
        fm = QFontMetrics(bold)
        for c in range(table.model().columnCount() - 1):  # (the last one may stretch)
            title = str(table.model().headerData(c, Qt.Orientation.Horizontal))
            assert head.sectionSize(c) >= fm.horizontalAdvance(title) + theme.SORT_ROOM, title
    image = watch.held_box.grab().toImage()
    bg = QColor(theme.BG).name()
    best = max(theme.contrast(image.pixelColor(x, y).name(), bg)
               for x in range(min(16, image.width())) for y in range(image.height()))
    assert best >= 3.0, best  # its box stands out of the window's background
