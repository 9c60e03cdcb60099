"""The desk's controller model (gui/model.py) with plain pytest, no Qt: non-blocking restart
and ordered stop-all over a real ProcessController with small stand-in children, running
totals across restarts, the confirmation decoder, the chart history ring, settings merging.

The stand-in children are in tests/standins.py, which a spawned child imports by name without
importing pytest or this module."""
from __future__ import annotations

import os
import time

import pytest

from engine.control.controller import ProcessController
from engine.control.events import StateChanged
from engine.control.lifecycle import State
from engine.control.roster import START_ORDER, Roster
from tests.standins import crash_target, idle_target, stubborn_target

pytestmark = pytest.mark.timeout(60)


def targets(**override):
    t = {name: idle_target for name in START_ORDER}
    t.update(override)
    return t


@pytest.fixture
def make_model(config):
    from engine.control.controller import ProcessController
    from gui.models.desk import DeskModel
    made = []

    def make(**override):
        model = DeskModel(config, lambda cfg: ProcessController(
            cfg, roster=Roster.from_targets(targets(**override))))
        made.append(model)
        return model

    yield make
    for m in made:
        m.close()


def pump(model, cond, timeout=15.0, what="condition"):
    """Wait for cond while the model's controller is polled (it waits on the children's
    reports, not a sleep)."""
    from engine.testing import wait_until
    return wait_until(cond, timeout, what, pump=model.poll)


def all_running(model):
    return all(s == "running" for s in model.states().values())


# -- verbs ------------------------------------------------------------------------------------
def test_restart_never_blocks_and_touches_one_process(make_model):
    model = make_model()
    events = []
    model.subscribe(lambda ev: isinstance(ev, StateChanged) and events.append(
        (ev.name, ev.state)))
    model.start_all()
    pump(model, lambda: all_running(model), what="all running")
    pids = {n: p.pid for n, p in model.ctl.procs.items()}

    t0 = time.monotonic()
    model.restart("orderbook")
    assert time.monotonic() - t0 < 0.2
    assert model.state("orderbook") == "stopping"
    assert "orderbook" in model.ctl.pending_restart
    pump(model, lambda: model.state("orderbook") == "running"
         and model.ctl.procs["orderbook"].pid != pids["orderbook"], what="orderbook back")
    assert not model.ctl.pending_restart
    seq = [s for n, s in events if n == "orderbook"]
    assert seq[-4:] == ["stopping", "stopped", "starting", "running"]
    for n in ("gateway", "strategy", "order_manager"):
        assert model.ctl.procs[n].pid == pids[n]
        assert model.state(n) == "running"

    # restart of a stopped process is a plain start; start while stopping restarts it
    model.stop("gateway")
    pump(model, lambda: model.state("gateway") == "stopped")
    model.restart("gateway")
    assert model.state("gateway") == "starting"
    model.stop("strategy")
    assert model.start("strategy") is False and "strategy" in model.ctl.pending_restart
    pump(model, lambda: all_running(model), what="gateway and strategy back")


def test_stop_all_is_ordered_and_non_blocking(make_model):
    model = make_model()
    model.start_all()
    pump(model, lambda: all_running(model))
    order = []
    model.subscribe(lambda ev: isinstance(ev, StateChanged) and ev.state in (
        "stopping", "stopped") and order.append((ev.name, ev.state)))
    t0 = time.monotonic()
    model.stop_all()
    assert time.monotonic() - t0 < 0.2
    # the Strategy first, alone: the others still run
    states = model.states()
    assert states["strategy"] == "stopping"
    assert [states[n] for n in ("gateway", "orderbook", "order_manager")] == ["running"] * 3
    pump(model, model.all_finished, what="all stopped")
    at = {ev: i for i, ev in enumerate(order)}
    assert len(order) == 8
    # each once what must go before it has exited: what depends on it (the Strategy depends
    # on all three), and for the OrderBook the Gateway it drains
    assert at[("strategy", "stopped")] < min(at[(n, "stopping")] for n in (
        "gateway", "orderbook", "order_manager"))
    assert at[("gateway", "stopped")] < at[("orderbook", "stopping")]
    assert model.any_active() is False


def test_crash_is_reported_and_the_others_keep_running(make_model):
    model = make_model(strategy=crash_target)
    model.start_all()
    pump(model, lambda: model.state("strategy") == "crashed", what="strategy crashed")
    assert model.ctl.procs["strategy"].exitcode == 3
    pump(model, lambda: all(model.state(n) == "running"
                            for n in ("gateway", "orderbook", "order_manager")))
    model.restart("strategy")  # from crashed: starts at once
    assert model.state("strategy") == "starting"


def test_totals_survive_a_restart_and_rates_fall_to_zero(make_model):
    model = make_model()
    model.start_all()
    pump(model, lambda: model.ctl.totals("orderbook").ticks_applied > 20)
    pump(model, lambda: model.figures()["ticks_per_s"] > 0, what="a tick rate")
    # (a loaded machine: the OrderBook's ticks may come before the last one says it runs)
    pump(model, lambda: model.figures()["running"] == 4, what="all four running")
    # each of the four reports 1 (its first report may come a moment after it runs)
    pump(model, lambda: model.figures()["bad_frames"] == 4, what="four reports")
    fig = model.figures()
    assert fig["running"] == 4 and fig["feed"] == "waiting"  # stand-ins write no prices
    assert fig["bad_frames"] == 4
    model.restart("orderbook")
    pump(model, lambda: model.state("orderbook") == "stopped"
         or model.state("orderbook") == "starting")
    before = model.ctl.totals("orderbook").ticks_applied
    pump(model, lambda: model.state("orderbook") == "running")
    pump(model, lambda: model.ctl.procs["orderbook"].stats.ticks_applied > 0)
    assert model.ctl.totals("orderbook").ticks_applied > before, "never backwards"
    assert model.ctl.procs["orderbook"].restarts == 1
    model.stop_all()
    pump(model, model.all_finished)
    now = time.time() + 5
    assert model.figures(now)["ticks_per_s"] == 0.0


def test_replace_config_only_while_everything_is_stopped(make_model, config):
    from engine.shm.segment import segment_exists
    model = make_model()
    model.ctl.memory.ensure()
    assert segment_exists(config.shm_name)
    new = config.replace(short_window=3, long_window=8)
    model.start("gateway")
    with pytest.raises(RuntimeError):
        model.replace_config(new)
    model.stop("gateway")
    pump(model, model.all_finished)
    old = model.ctl
    assert model.replace_config(new) is True
    assert model.ctl is not old and model.config.long_window == 8
    assert old.closed and not segment_exists(config.shm_name), "old segments unlinked"
    assert model.replace_config(new) is False  # nothing changed


def test_a_partial_stack_has_no_state_for_what_it_does_not_run(config):
    """A stack of some of the four (the chart bench runs a feed and the OrderBook): a view
    asking after a process it does not run gets None, never a KeyError in a frame timer."""
    from engine.control.controller import ProcessController
    from engine.control.lifecycle import State
    ctl = ProcessController(config, roster=Roster.from_targets({"gateway": idle_target}))
    try:
        assert ctl.state("gateway") == State.STOPPED
        assert ctl.state("strategy") is None
    finally:
        ctl.close()


# -- pure pieces ------------------------------------------------------------------------------
def test_totals_add_counters_across_runs_and_keep_the_latest_gauges():
    from engine.measure.stats import Stats
    first = Stats(ticks_applied=25, bad_frames=2, connected=True, shm_bytes=616)
    second = Stats(ticks_applied=5, bad_frames=0, connected=False, shm_bytes=616)
    total = first.add(second)
    assert (total.ticks_applied, total.bad_frames) == (30, 2)
    assert total.connected is False and total.shm_bytes == 616  # gauges: the later run's
    assert "connected" not in Stats.COUNTERS and "ticks_applied" in Stats.COUNTERS
    with pytest.raises(TypeError):
        Stats(ticks_aplied=1)  # a misspelt figure fails where it is made


def test_feed_state(shm_name):
    from engine.shm.price_book import SharedPriceBook
    from gui.models.desk import feed_state
    assert feed_state(None) == "off"
    with SharedPriceBook(("AAPL",), name=shm_name) as book:
        assert feed_state(book) == "waiting"
        book.set_writer(os.getpid())
        book.update("AAPL", 1.0)
        assert feed_state(book) == "live"
        assert feed_state(book, book.last_update_ns + int(2.5e9)) == "stale"
        book.set_writer(0)
        assert feed_state(book) == "stale"


def test_saved_settings_are_defaults_and_flags_win(config):
    from engine.config.saved import merge_saved, parse_saved
    from engine.config.schema import settings_fields
    saved = {"symbols": "aapl,msft", "short_window": "3", "long_window": "9",
             "bullish": "70", "bearish": "20", "qty": "5", "tick_interval": "0.05"}
    cfg = merge_saved(config, saved, {"qty"})  # --qty was given on the command line
    assert cfg.symbols == ("AAPL", "MSFT") and cfg.short_window == 3 and cfg.long_window == 9
    assert cfg.qty == config.qty and cfg.tick_interval == 0.05 and cfg.bullish == 70
    assert set(settings_fields()) == set(saved)  # the fields the desk remembers
    # junk and impossible combinations never break the start
    assert parse_saved({"qty": "lots", "tick_interval": "nan"}) == {}
    bad = merge_saved(config, {"short_window": "50", "long_window": "9"})
    assert bad.short_window < bad.long_window
    assert merge_saved(config, {}) is config


def test_kill_is_a_kill_not_a_polite_terminate(config):
    """Kill sends SIGKILL (TerminateProcess on Windows): a child that ignores a terminate
    and its stop flag still ends at once, and its exit says it was killed by that signal,
    not only the label the controller writes."""
    import signal
    ctl = ProcessController(config, roster=Roster.from_targets({"gateway": stubborn_target}))
    try:
        ctl.start("gateway")
        assert ctl.wait_until(lambda: ctl.state("gateway") == State.RUNNING, 15)
        started = time.monotonic()
        ctl.kill("gateway")
        assert ctl.wait_until(lambda: ctl.state("gateway").finished, 3), "a kill ends it"
        assert time.monotonic() - started < 2.0  # not the stop's escalation (3 s, then 2 s)
        p = ctl.status("gateway")
        if os.name != "nt":
            assert p.exitcode == -signal.SIGKILL, p.exitcode
        assert "killed" in p.exit_detail
    finally:
        ctl.close()


@pytest.mark.skipif(os.name == "nt", reason="a POSIX signal to one process")
def test_a_child_ignores_the_terminals_ctrl_c(config):
    """Ctrl+C in a terminal reaches the whole process group: the children ignore it (and
    SIGHUP), the launcher stops them in order. A child sent SIGINT goes on reporting, and
    then stops cleanly when asked."""
    import signal
    ctl = ProcessController(config, roster=Roster.from_targets({"gateway": idle_target}))
    try:
        ctl.start("gateway")
        p = ctl.status("gateway")
        assert ctl.wait_until(lambda: p.last_report is not None, 15)
        for sig in (signal.SIGINT, signal.SIGHUP):
            os.kill(p.pid, sig)
        signalled = p.last_report
        # two reports later it still runs (a child the signal ended reports no more)
        assert ctl.wait_until(lambda: p.last_report > signalled + 0.6, 5), p.state
        assert p.state == State.RUNNING and p.alive
        assert ctl.stop_and_wait("gateway") and p.exitcode == 0
    finally:
        ctl.close()
