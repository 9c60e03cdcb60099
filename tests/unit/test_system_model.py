"""gui/system_model.py (no Qt): a link's rates from the processes' counters, flowing /
idle / stalled / down, and a remote process drawn from the other end's report."""
from __future__ import annotations

from engine.measure.stats import Stats
from gui.models.system import STALLED_AFTER_S, SystemModel


def procs(t, ticks, gateway_state="running", gateway_remote=False, connected=True,
          error=""):
    gw = Stats(links={"prices": {"frames": ticks, "bytes": ticks * 12, "clients": 1},
                      "news": {"frames": int(t), "bytes": int(t) * 3, "clients": 1}})
    ob = Stats(links={"prices": {"frames": ticks, "bytes": ticks * 12,
                                 "connected": connected, "error": error, "rejected": 2},
                      "shm_write": {"frames": ticks}})
    st = Stats(links={"news": {"frames": int(t), "connected": True, "error": ""},
                      "orders": {"frames": 0, "connected": True, "error": ""},
                      "shm_read": {"frames": ticks}})
    out = {"gateway": {"state": gateway_state, "pid": 11, "cpu": 0.5, "stats": gw, "time": t},
           "orderbook": {"state": "running", "pid": 12, "stats": ob, "time": t},
           "strategy": {"state": "running", "pid": 13, "stats": st, "time": t},
           "order_manager": {"state": "running", "pid": 14, "stats": Stats(), "time": t}}
    if gateway_remote:
        out["gateway"] = {"remote": True, "state": "remote"}
    return out


SHM = {"name": "ipcdesk_prices", "bytes": 288, "rows": 5}
DESK = {"connected": True, "fps": 30.0}


def feed(model, seconds, rate=250, t0=1000.0, **kw):
    view = None
    for k in range(int(seconds * 2) + 1):
        t = t0 + k * 0.5
        view = model.view(procs(t, int((t - t0) * rate), **kw), SHM, DESK, now=t)
    return view


def test_rates_statuses_and_figures():
    model = SystemModel()
    view = feed(model, 3.0)
    prices = view.links["prices"]
    assert abs(prices.frames_per_s - 250) < 1 and abs(prices.bytes_per_s - 3000) < 20
    assert prices.status == "flowing" and prices.clients == 1 and prices.rejected == 2
    assert view.links["orders"].status == "idle"  # no orders yet: not a stall
    assert view.links["shm_desk"].frames_per_s == 30.0
    assert "ipcdesk_prices" in view.nodes["shm"].detail and "288 B" in view.nodes["shm"].detail
    assert view.nodes["gateway"].pid == 11


def test_a_stopped_server_turns_its_links_down_and_a_silent_stream_stalls():
    model = SystemModel()
    feed(model, 3.0)
    down = model.view(procs(1004.0, 750, gateway_state="stopped", connected=False,
                            error="Connection refused"), SHM, DESK, now=1004.0)
    assert down.links["prices"].status == "down" and down.links["news"].status == "down"
    assert down.links["prices"].error == "Connection refused"
    assert down.links["prices"].frames_per_s == 0 == down.links["prices"].bytes_per_s
    assert down.links["orders"].status != "down"
    # both ends running but the counters stand still: stalled once past the limit
    model = SystemModel()
    feed(model, 3.0)
    t = 1003.0
    for k in range(int(STALLED_AFTER_S * 2) + 4):
        t += 0.5
        view = model.view(procs(t, 750), SHM, DESK, now=t)
    assert view.links["prices"].status == "stalled"


def test_a_remote_gateway_is_drawn_from_the_orderbooks_report():
    model = SystemModel()
    view = feed(model, 3.0, gateway_remote=True)
    assert view.nodes["gateway"].state == "remote" and view.nodes["gateway"].pid is None
    prices = view.links["prices"]
    assert prices.status == "flowing" and abs(prices.frames_per_s - 250) < 1
    assert prices.clients is None  # only the server knows its clients


def test_before_anything_starts_every_link_is_off_not_down():
    """Nothing started: grey links and no "... not running" on each, no "SharedPriceBook not
    running" for a segment not made yet (issue 26, point 3)."""
    stopped = {n: {"state": "stopped", "stats": None, "time": None}
               for n in ("gateway", "orderbook", "strategy", "order_manager")}
    view = SystemModel().view(stopped, {"name": "x", "bytes": 0, "rows": 5},
                              {"connected": False, "fps": 0.0}, now=1000.0)
    assert {lv.status for lv in view.links.values()} == {"off"}
    assert not any(lv.error for lv in view.links.values())
    assert view.nodes["shm"].state == "off"


def test_a_dead_server_shows_no_clients_and_says_how_it_ended():
    """A Gateway killed: its news link does not say "1 client" from its last report, and
    says the Gateway was killed (issue 26, point 6)."""
    model = SystemModel()
    feed(model, 3.0)
    dead = procs(1004.0, 750, gateway_state="killed")
    view = model.view(dead, SHM, DESK, now=1004.0)
    news = view.links["news"]
    assert news.status == "down" and news.clients is None and "client" not in news.text()
    assert news.error == "Gateway killed"


def test_a_node_never_wraps_between_a_figure_and_its_unit():
    """A narrow node drew '0.8' on one line and '% CPU' on the next (issue 26, point 18)."""
    import re

    from gui.models.system import NodeView
    from gui.views.map_geometry import node_line
    text = node_line(NodeView("gateway", "running", pid=11, cpu_percent=0.8))
    assert "0.8\u00a0%\u00a0CPU" in text and not re.search(r"\d \S*%|% CPU", text)
