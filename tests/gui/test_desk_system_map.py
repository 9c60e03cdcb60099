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
    # shown, the map measures the kernel's floor once (~1 s of round trips): before the
    # stack runs, so that it does not weigh on the hops measured below
    qtbot.waitUntil(lambda: set(smap.floors) == {"wake", "handled", "ack"}, timeout=15_000)
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
    # each hop beside its floor on this machine (measured once the map showed, issue 27,
    # point 7): the doorbell's, the order's and the ack's, the decision none
    assert all(f > 0 for f in smap.floors.values())
    smap.grab()
    lines = [text for _r, text, _shown in smap.drawn["hops"]]
    assert sum("(floor " in t and "\u00a0x)" in t for t in lines) == 3, lines
    assert any(t.startswith("\u2192 decision") and "floor" not in t for t in lines)

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


def crowded_view():
    """Every link down with its error, every figure long: the map at its most crowded."""
    from gui.models.system import HOP_TITLES, LINKS, NODES, LinkView, NodeView, SystemView
    nodes = {k: NodeView(k, state="running", pid=123456, cpu_percent=12.3,
                         detail="ipcdesk_12345_abcdef12 · 36,256 B · 500 rows · 4,990 "
                                "updates/s" if k == "shm" else "")
             for k in NODES}
    links = {s.key: LinkView(s, status="down", frames_per_s=4990.0, bytes_per_s=512_000.0,
                             clients=12, error="[Errno 111] Connection refused")
             for s in LINKS}
    hops = [(title, 12345.0, 56789.0) for _, title in HOP_TITLES]
    return SystemView(nodes=nodes, links=links, hops=hops, tick_to_ack=(1913.0, 5050.0),
                      histogram=[1, 3, 9, 4, 1, 0], hop_window_s=7.0)


def overlap(a, b) -> float:
    r = a.intersected(b)
    return max(r.width(), 0) * max(r.height(), 0)


@pytest.mark.parametrize("size, whole", [((1366, 290), False), ((780, 424), False),
                                         ((1000, 600), True), ((560, 330), False)])
def test_no_map_text_covers_another_or_a_node_or_is_cut(qtbot, bare_adapter, size, whole):
    """The map at every size its dock gets (the tabs above a watchlist, the compact
    layout's tab, a desktop's, a small one) with an error on every link: no label covers a
    node, another label or the hops, or leaves the map; each stays beside its own link,
    whole where there is room, else shortened (its title kept, the whole in its tooltip);
    a node holds its figures; no hop line is cut."""
    from PySide6.QtCore import QRectF

    from gui.models.system import LINKS
    from gui.views.system_map import SystemMap
    smap = SystemMap(bare_adapter)
    qtbot.addWidget(smap)
    smap.refresh_timer.stop()
    smap.view = crowded_view()
    smap.set_floors({"wake": 63.0, "handled": 81.0, "ack": 81.0})  # each hop's floor too
    smap.resize(*size)
    smap.grab()  # painted once to size its nodes, then as shown
    smap.grab()
    room = QRectF(smap.rect())
    nodes, labels = smap.drawn["nodes"], smap.drawn["labels"]
    # a map smaller than any layout makes may leave a link unlabelled (its line's tip says
    # it all); the desk's own sizes never
    omitted = {lines[0].split(" :")[0] for _, lines in smap.drawn["omitted"]}
    assert len(labels) + len(omitted) == len(LINKS)
    assert not omitted or size == (560, 330), omitted
    for line, lines in smap.drawn["omitted"]:
        assert smap.label_tip(line.center()) == "\n".join(lines)
    labelled = [s for s in LINKS if s.label not in omitted]
    for i, (r, spec) in enumerate(zip(labels, labelled)):
        assert room.contains(r), (spec.key, r)
        assert not [n for n in nodes if overlap(r, n)], (spec.key, r)
        assert not [o for o in labels[:i] if overlap(r, o)], (spec.key, r)
        assert not overlap(r, smap._hops_area()), spec.key
        a, b = smap.node_rect(spec.src).center(), smap.node_rect(spec.dst).center()
        link = QRectF(a, b).normalized().adjusted(-9, -9, 9, 9)  # (its lane: 7 px aside)
        assert r.adjusted(-8, -8, 8, 8).intersects(link), (spec.key, "away from its link")
        form, lines = smap.drawn["label_text"][i]
        assert form[0] == lines[0] and (form == lines or not whole), (spec.key, form)
        assert smap.label_tip(r.center()) == "\n".join(lines)
    for key in smap.view.nodes:
        assert smap.node_rect(key).height() >= smap._node_h[key]
    for r, text, shown in smap.drawn["hops"]:
        assert room.contains(r) and shown == text, (text, shown)
