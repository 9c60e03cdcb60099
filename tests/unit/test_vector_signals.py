"""The vectorised Strategy decides exactly as the per-symbol rules: both engines run over the
same random paths (random subsets of symbols ticking each round, sentiment moving between
rounds, trading switched off and on, rejections and recovered positions) and every order,
position and moving average must agree."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.trading.signals import SignalEngine
from engine.trading.vector_signals import VectorSignalEngine


def run_both(seed: int, n: int, rounds: int, short: int, long: int, *, price_scale=100.0,
             tick_p=0.7, sigma=0.004, flat_p=0.0):
    rng = np.random.default_rng(seed)
    symbols = [f"S{i}" for i in range(n)]
    scalar = SignalEngine(symbols, short, long, bullish=60, bearish=40, qty=10)
    vector = VectorSignalEngine(symbols, short, long, bullish=60, bearish=40, qty=10)
    prices = price_scale * np.exp(rng.normal(0, 0.5, n))
    orders = 0
    for r in range(rounds):
        if rng.random() < 0.3:
            value = int(rng.integers(0, 101))
            scalar.on_sentiment(value)
            vector.on_sentiment(value)
        # steps in whole cents, some rounds flat (equal means must compare as equal)
        step = np.exp(rng.normal(0, sigma, n)) if rng.random() >= flat_p else np.ones(n)
        prices = np.maximum(np.round(prices * step, 2), 0.01)
        rows = np.flatnonzero(rng.random(n) < tick_p)
        trade = rng.random() > 0.1
        want = [scalar.on_price(symbols[i], float(prices[i]), trade=trade) for i in rows]
        want = [w for w in want if w is not None]
        got = vector.on_prices(rows, prices[rows], trade=trade)
        assert got == want, f"round {r}"
        orders += len(got)
        for intent in got:
            if rng.random() < 0.05:  # the OrderManager refuses one now and then
                scalar.on_rejected(intent)
                vector.on_rejected(intent)
        if rng.random() < 0.01:  # positions recovered after a reconnect
            sym = symbols[int(rng.integers(n))]
            shares = int(rng.choice([-10, 0, 10]))
            scalar.set_position(sym, shares)
            vector.set_position(sym, shares)
    short_means, long_means = vector.means()
    for i, s in enumerate(symbols):
        assert vector.position(s) == scalar.position(s)
        want_s, want_l = scalar.averages(s)
        for got_v, want_v in ((short_means[i], want_s), (long_means[i], want_l)):
            assert (math.isnan(got_v) and math.isnan(want_v)) or got_v == want_v, s
    return orders


@pytest.mark.parametrize("seed", range(8))
def test_same_orders_over_random_paths(seed):
    orders = run_both(seed, n=40, rounds=400, short=3 + seed % 4, long=8 + seed)
    assert orders > 50  # the paths do trade: the comparison is not of two empty lists


def test_equal_means_are_not_a_crossing():
    """Flat rounds make the short and long means equal: neither engine trades on them."""
    orders = run_both(99, n=10, rounds=300, short=2, long=4, sigma=0.01, flat_p=0.6)
    assert orders > 10


def test_prices_too_big_for_int64_products_stay_exact():
    """Prices past int64 in micro-units: the sums move to Python integers and still agree."""
    orders = run_both(5, n=6, rounds=300, short=3, long=9, price_scale=3e13, sigma=0.01)
    assert orders > 10


def test_one_symbol_and_the_views():
    v = VectorSignalEngine(["AAPL"], 2, 3, qty=5)
    v.on_sentiment(90)
    assert v.on_prices([0], [10.0]) == []
    assert v.crossover(np.array([0]))[0] == 0  # fewer prices than the long window
    v.on_prices([0], [10.0])
    v.on_prices([0], [10.0])
    [buy] = v.on_prices([0], [11.0])
    assert (buy.side, buy.qty, buy.target, buy.price) == ("BUY", 5, 5, 11.0)
    assert v.averages("AAPL") == (10.5, pytest.approx(31 / 3))
    assert v.position("AAPL") == 5
    v.on_rejected(buy)
    assert v.position("AAPL") == 0


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12), short=st.integers(1, 6),
       extra=st.integers(1, 10))
def test_same_orders_for_any_shape(seed, n, short, extra):
    run_both(seed, n=n, rounds=80, short=short, long=short + extra, sigma=0.01)
