"""The System map against a running stack, through the real widget: the price link's
frames/s is the OrderBook's ticks/s, a stopped Gateway turns its links red within a second
and a restarted one brings them back, tick-to-ack's hops add up to it, and a click on a
node selects that process and offers its verbs."""
from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QPointF

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

START_MS = 20_000


def test_the_map_follows_the_stack(qtbot, desk, start_all):
    window = desk
    window.show_system_map()
    smap = window.system_map
    qtbot.waitUntil(lambda: smap.shown, timeout=2_000)
    start_all(window)
    model = window.adapter.model

    def agree():
        smap.refresh()
        ticks = model.tick_rate.rate()
        edge = smap.link("prices").frames_per_s
        return ticks > 50 and abs(edge - ticks) <= 0.1 * ticks
    qtbot.waitUntil(agree, timeout=10_000)
    prices = smap.link("prices")
    assert prices.status == "flowing" and prices.clients == 1
    assert prices.bytes_per_s and prices.bytes_per_s > 5 * prices.frames_per_s
    assert smap.link("shm_write").status == "flowing"
    assert smap.node("gateway").pid == window.adapter.controller.status("gateway").pid
    shm = smap.node("shm").detail
    memory = window.adapter.controller.memory  # both books, as the status bar counts them
    assert window.adapter.config.shm_name in shm and f"{memory.nbytes:,} B" in shm
    assert "5 rows" in shm and "updates/s" in shm
    assert smap.paints > 0  # drawn on screen

    # the hops of tick-to-ack add up to it
    def hops_measured():
        smap.refresh()
        v = smap.view
        hops = window.adapter.controller.status("strategy").stats.latency_us.get("hops")
        return v.tick_to_ack is not None and all(p50 is not None for _, p50, _ in v.hops) \
            and hops["total"]["count"] >= 30  # enough orders for the medians to settle
    qtbot.waitUntil(hops_measured, timeout=START_MS)
    v = smap.view
    total = sum(p50 for _, p50, _ in v.hops)
    assert abs(total - v.tick_to_ack[0]) <= 0.1 * v.tick_to_ack[0], (v.hops, v.tick_to_ack)
    assert sum(v.histogram) > 0

    # the Gateway stopped: its links red within a second; started again: flowing
    t0 = time.monotonic()
    window.process_panel.rows["gateway"].stop.click()
    qtbot.waitUntil(lambda: smap.link("prices").status == "down" and
                    smap.link("news").status == "down", timeout=1_000)
    assert time.monotonic() - t0 < 1.0
    assert smap.link("orders").status != "down"  # the others go on
    qtbot.waitUntil(lambda: window.process_panel.state_of("gateway") == "stopped",
                    timeout=10_000)
    smap.refresh()
    said = window.adapter.controller.status("orderbook").stats.links["prices"]["error"]
    # the OrderBook's own words for what it met ("Connection refused"), or ours
    assert smap.link("prices").error == (said or "Gateway not running")
    window.process_panel.rows["gateway"].start.click()
    qtbot.waitUntil(lambda: (smap.refresh() or True) and
                    smap.link("prices").status == "flowing" and
                    smap.link("news").status != "down", timeout=START_MS)

    # a click on a node selects that process and offers its verbs
    centre = smap.node_rect("strategy").center()
    selected = []
    smap.processSelected.connect(selected.append)
    menu = smap.menu_for("strategy")
    assert [a.text() for a in menu.actions()] == ["Start Strategy", "Stop Strategy",
                                                 "Restart Strategy", "Kill Strategy"]
    smap.select(smap.node_at(QPointF(centre)))
    assert selected == ["strategy"] and smap.selected == "strategy"


def test_the_map_animates_only_while_it_is_shown(qtbot, desk, start_all):
    """While frames flow the map redraws its moving dots; behind the Orders it is never
    drawn (what it costs the charts is measured by `python -m tools.screenshot --system-map`,
    not asserted here)."""
    window = desk
    start_all(window)
    window.show_system_map()
    smap = window.system_map
    qtbot.waitUntil(lambda: smap.shown, timeout=2_000)
    first = smap.paints
    qtbot.waitUntil(lambda: smap.paints > first + 10, timeout=5_000)
    window.show_system_map(False)
    qtbot.waitUntil(lambda: not smap.shown and not smap.anim.isActive(), timeout=2_000)
    before = smap.paints
    qtbot.wait(500)
    assert smap.paints == before
