"""engine/hops.py: tick-to-ack split into hops from the Strategy's trace hooks and the ack's
om_ns; a typical order's hops add up to tick-to-ack's p50."""
from __future__ import annotations

import random

from engine.measure import trace
from engine.measure.hops import HIST_BINS, HOPS, WINDOW_S, HopTracer


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def _order(tracer, i, wake, decide, handled, ack, base=10_000_000):
    tick = base + i * 1_000_000
    woke = tick + wake
    t0 = woke + decide
    om = t0 + handled
    tracer.on_woke(woke)
    tracer.on_sent(f"s-{i}", tick, t0, t0 + 5_000)
    tracer.on_ack(f"s-{i}", om + ack, om)
    return om + ack - tick


def test_hops_partition_each_order_and_a_typical_order_adds_up():
    clock = Clock()
    tracer = HopTracer(clock)
    rng = random.Random(5)
    totals = []
    for i in range(400):  # long tails on different hops, as on a busy machine
        hops = [int(rng.lognormvariate(12.3, 0.6)) for _ in HOPS]
        totals.append(_order(tracer, i, *hops))
    rep = tracer.report()
    assert rep["total"]["count"] == 400
    totals.sort()
    assert abs(rep["total"]["p50"] - totals[199] / 1e3) < 0.02 * rep["total"]["p50"]
    typical = sum(rep[k]["p50"] for k in HOPS)
    assert abs(typical - rep["total"]["p50"]) <= 0.1 * rep["total"]["p50"]
    assert sum(rep["histogram"]) == 400 and len(rep["histogram"]) == HIST_BINS
    assert all(rep[k]["p99"] >= rep[k]["p50"] for k in HOPS)


def test_an_ack_from_another_clock_or_unknown_order_is_left_out():
    tracer = HopTracer(Clock())
    tracer.on_sent("a", 1_000, 2_000, 2_500)
    tracer.on_ack("a", 3_000, 10**12)  # om_ns after the ack: another machine's clock
    tracer.on_ack("nobody", 3_000, 2_500)
    tracer.on_sent("plain", 0, 2_000, 2_500)  # an order without tick_ns is not traced
    tracer.on_ack("plain", 3_000, 2_600)
    assert tracer.report()["total"]["count"] == 0


def test_the_window_forgets_old_orders_and_a_report_is_cached():
    clock = Clock()
    tracer = HopTracer(clock)
    _order(tracer, 0, 100_000, 50_000, 300_000, 200_000)
    first = tracer.report()
    assert first["total"]["count"] == 1 and first is tracer.report()  # nothing new: cached
    clock.t += WINDOW_S + 1.5
    assert tracer.report()["total"]["count"] == 0


def test_install_takes_the_hooks_only_when_no_tool_has():
    trace.reset()
    try:
        tracer = HopTracer()
        assert tracer.install() and trace.HOOKS.ack_timed == tracer.on_ack
        other = HopTracer()
        assert not other.install()  # a tool (or another tracer) has them
        tracer.uninstall()
        assert trace.HOOKS.woke is None and trace.HOOKS.ack_timed is None
        trace.HOOKS.woke = lambda t: None  # the benchmark's breakdown sets its own
        assert not HopTracer().install()
    finally:
        trace.reset()
