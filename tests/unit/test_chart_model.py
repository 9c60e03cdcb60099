"""The charts' data model without Qt: sampling real shared-memory books into the history, the
views a frame draws, the y range, fills, and what a crosshair reads."""
from __future__ import annotations

import math
import os
import time

import numpy as np
import pytest

from engine.shm.price_book import SharedPriceBook
from engine.shm.signal_book import SignalBook
from gui.models.chart_data import ChartData, fit, visible

SYMS = ("AAPL", "MSFT")


def test_sampling_takes_one_row_a_frame_only_when_something_changed(shm_name):
    with SharedPriceBook(SYMS, name=shm_name) as book, \
            SignalBook(SYMS, name=shm_name + "_s") as sig:
        book.set_writer(os.getpid())  # a live OrderBook writes it
        data = ChartData(SYMS, history_s=10, fps=30)
        assert data.sample(100.0, book, sig, True) is False and data.feed == "waiting"
        book.update("AAPL", 100.0)
        book.update("MSFT", 200.0)
        sig.publish("AAPL", 99.0, 98.0, 10, 1)
        sig.set_sentiment(70)
        assert data.sample(100.1, book, sig, True)
        assert data.sample(100.2, book, sig, False) is False  # nothing new
        assert data.sample(100.5, book, sig, True)  # the sentiment repeats while it runs
        assert (data.prices.count, data.mas.count, data.sentiment.count) == (1, 1, 2)
        book.update("AAPL", 110.0)
        data.sample(101.0, book, sig, True)
        t, pct, v = data.pct_view(99.0, 102.0)
        assert list(t) == [100.1, 101.0] and v[-1].tolist() == [110.0, 200.0]
        assert pct[0].tolist() == pytest.approx([0.0, 10.0])  # AAPL +10 % from the left edge
        assert pct[1].tolist() == [0.0, 0.0]
        ts, short, long_ = data.ma_view(99.0, 102.0, 0)
        assert (short[-1], long_[-1]) == (99.0, 98.0)
        last, change = data.changes(99.0)
        assert (last[0], change[0]) == pytest.approx((110.0, 10.0)) and change[1] == 0.0
        at = data.values_at(100.5, 99.0)
        assert at["prices"][0][0] == 100.0 and at["sentiment"] == 70 and at["short"][0] == 99.0


def test_fills_visible_slices_and_the_y_range():
    data = ChartData(SYMS, history_s=10, fps=30)
    data.add_fill(1.0, "AAPL", 101.0, True)
    data.add_fill(2.0, "AAPL", 102.0, False)
    buys, sells = data.fills("AAPL")
    assert buys.tolist() == [[1.0, 101.0]] and sells.tolist() == [[2.0, 102.0]]
    assert data.marker_count() == 2 and data.marker_count("MSFT") == 0
    t = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert visible(t, 2.5, 3.5) == slice(1, 4)  # one on each side, so lines reach the edges
    lo, hi = fit([np.array([1.0, np.nan, 3.0])], min_span=0.1)
    assert lo < 1.0 and hi > 3.0 and math.isclose(hi - lo, 2.0 * 1.16)
    assert fit([np.array([np.nan]), np.empty((2, 0))], 0.1) is None
    lo, hi = fit([np.array([5.0])], min_span=1.0)
    assert math.isclose(hi - lo, 1.16)


def test_a_new_controller_is_read_afresh(shm_name):
    with SharedPriceBook(SYMS, name=shm_name) as book:
        data = ChartData(SYMS, history_s=10, fps=30)
        book.update("AAPL", 1.0)
        assert data.sample(time.time(), book, None, False)
        data.reset_sources()
        assert data.sample(time.time(), book, None, False)  # the same counter, read again


def test_a_universe_history_fits_its_budget_and_keeps_the_selected_symbol_at_every_frame(
        shm_name):
    """5,000 symbols: the all-symbols history is sampled less often so that it stays within
    HISTORY_VALUES floats; the selected symbol has a history of its own at every frame, begun
    from the coarse one when it is picked."""
    from engine.config.schema import universe
    from gui.models.chart_data import HISTORY_VALUES
    syms = universe(5000)
    data = ChartData(syms, history_s=600, fps=30)
    assert data.universe and data.sample_every > 0
    assert 3 * len(syms) * data.prices.capacity <= HISTORY_VALUES
    assert data.prices.capacity * data.sample_every == pytest.approx(600)
    small = ChartData(SYMS, history_s=600, fps=30)
    assert not small.universe and small.sample_every == 0
    with SharedPriceBook(syms, name=shm_name) as book, \
            SignalBook(syms, name=shm_name + "_s") as sig:
        book.set_writer(os.getpid())
        rows = np.arange(len(syms))
        t = 1000.0
        for k in range(40):  # 40 frames 1/30 s apart
            book.update_rows(rows, np.full(len(syms), 100.0 + k), np.ones(len(syms), int),
                             time.perf_counter_ns())  # fresh: the feed is live
            sig.publish_rows(rows, np.full(len(syms), 99.0), np.full(len(syms), 98.0),
                             np.zeros(len(syms), int), k)
            assert data.sample(t + k / 30, book, sig, True)
        coarse = data.prices.count
        assert coarse < 40 and data.focus.count == 40  # every frame for the selected one
        data.set_focus(17)  # picked: its history so far is the coarse one
        assert data.focus.count == coarse and data.focus_col == 17
        t_f, price, short, long_ = data.focus_view(t - 1, t + 2)
        assert price[-1] == data.prices.view()[1][-1, 17] and (short[-1], long_[-1]) == (99, 98)
        w = data.watch()
        assert w["last"][17] == 139.0 and w["change"][17] == pytest.approx(39.0)
        assert set(w) == {"last", "change", "short", "long", "signal", "position"}
        assert (w["signal"] == 1).all()


def test_a_stale_feed_leaves_a_gap_that_no_line_crosses(shm_name):
    """The OrderBook stopped (its writer slot is empty): the next prices come after a row of
    NaN, so lines drawn with connect="finite" stop before the gap and start after it."""
    with SharedPriceBook(SYMS, name=shm_name) as book:
        book.set_writer(os.getpid())
        data = ChartData(SYMS, history_s=10, fps=30)
        book.update("AAPL", 100.0)
        assert data.sample(1.0, book, None, False)
        book.set_writer(0)  # the OrderBook is gone
        assert not data.sample(2.0, book, None, False) and data.feed == "stale"
        book.set_writer(os.getpid())  # a new one writes again
        book.update("AAPL", 101.0)
        assert data.sample(3.0, book, None, False)
        t, v = data.prices.view()
        assert len(t) == 3 and math.isnan(v[1, 0]) and v[2, 0] == 101.0 and t[1] < 3.0
        ft, price, _, _ = data.focus_view(0, 4)
        assert math.isnan(price[1]) and price[2] == 101.0
        book.update("AAPL", 102.0)  # live again: no more gaps
        data.sample(3.1, book, None, False)
        assert data.prices.count == 4


def test_the_equity_curve_and_its_fills():
    """The session's P&L sampled over time, and each fill marked at the curve's value."""
    data = ChartData(SYMS, history_s=10, fps=30)
    t, v, (ft, at, buy) = data.equity_view(0, 10)
    assert not len(t) and not len(ft)
    data.add_equity(1.0, math.nan)  # nothing traded yet
    data.add_equity(2.0, 10.0)
    data.add_fill(2.5, "AAPL", 100.0, True, order_id=1)
    data.add_fill(2.5, "AAPL", 100.0, True, order_id=1)  # the same order again: once
    data.add_equity(3.0, 20.0)
    data.add_fill(9.0, "MSFT", 100.0, False, order_id=2)  # out of view
    t, v, (ft, at, buy) = data.equity_view(0, 5)
    assert list(t) == [1.0, 2.0, 3.0] and math.isnan(v[0]) and list(v[1:]) == [10.0, 20.0]
    assert list(ft) == [2.5] and list(at) == [15.0] and list(buy) == [True]
    assert data.values_at(2.5, 0)["pnl"] == 10.0


def test_no_average_nor_sentiment_is_drawn_across_a_gap(shm_name):
    """The OrderBook stopped while the Strategy runs on: it still publishes its (unmoving)
    averages and the sentiment repeats, which drew flat lines across the gap the price line
    leaves (issue 26, point 1). Each line breaks where the gap begins and goes on after."""
    with SharedPriceBook(SYMS, name=shm_name) as book, \
            SignalBook(SYMS, name=shm_name + "_s") as sig:
        book.set_writer(os.getpid())
        data = ChartData(SYMS, history_s=60, fps=30)
        book.update("AAPL", 100.0)
        sig.publish("AAPL", 99.0, 98.0, 10, 1)
        sig.set_sentiment(70)
        assert data.sample(1.0, book, sig, True)
        book.set_writer(0)  # the OrderBook is gone; the Strategy runs on, publishing
        for k in range(1, 30):
            sig.publish("AAPL", 99.0, 98.0, 10, 1)
            data.sample(1.0 + k * 0.5, book, sig, True)
        book.set_writer(os.getpid())
        book.update("AAPL", 101.0)
        sig.publish("AAPL", 100.0, 98.5, 10, 1)
        data.sample(20.0, book, sig, True)
        data.sample(21.5, book, sig, True)
        for ring, col in ((data.prices, 0), (data.mas, 0), (data.sentiment, 0),
                          (data.focus, 1)):
            t, v = ring.view()
            inside = (t > 1.0) & (t < 20.0)  # the gap: a NaN where it begins, nothing else
            assert np.isnan(v[inside, col]).all() and inside.sum() == 1, (t, v[:, col])
            assert not np.isnan(v[-1, col])  # and the line goes on after it
