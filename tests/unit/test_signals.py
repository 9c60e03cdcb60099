"""The pure strategy core, table-driven: crossover (strict), sentiment thresholds (strict),
positions that never repeat an order, reversals."""
import pytest

from engine.trading.signals import SCALE, RollingMean, SignalEngine


def feed(engine, symbol, prices):
    out = []
    for p in prices:
        out.append(engine.on_price(symbol, p))
    return out


RISING = [100 + i for i in range(20)]      # short mean > long mean after 20 ticks
FALLING = [200 - i for i in range(20)]     # short mean < long mean
FLAT = [100.0] * 20                        # equal means


@pytest.mark.parametrize("prices,sentiment,expected", [
    (RISING, 61, ("BUY", 10)),
    (RISING, 60, None),           # exactly at the bullish threshold: not above
    (RISING, 59, None),
    (RISING, 39, None),           # bearish news but a rising market: no agreement
    (FALLING, 39, ("SELL", 10)),
    (FALLING, 40, None),          # exactly at the bearish threshold: not below
    (FALLING, 61, None),
    (FLAT, 99, None),             # equal averages: neither strictly greater nor less
    (FLAT, 0, None),
    (RISING, None, None),         # no sentiment yet
])
def test_decision_table(prices, sentiment, expected):
    eng = SignalEngine(["AAPL"], 5, 20, 60, 40, 10)
    if sentiment is not None:
        eng.on_sentiment(sentiment)
    results = feed(eng, "AAPL", prices)
    assert all(r is None for r in results[:-1])  # nothing before the long window is full
    last = results[-1]
    if expected is None:
        assert last is None
    else:
        assert (last.side, last.qty) == expected
        assert last.price == prices[-1]


def test_not_enough_data_no_trade():
    eng = SignalEngine(["AAPL"], 5, 20, 60, 40, 10)
    eng.on_sentiment(100)
    assert all(r is None for r in feed(eng, "AAPL", RISING[:19]))


def test_persisting_signal_never_repeats_an_order():
    eng = SignalEngine(["AAPL"], 5, 20, 60, 40, 10)
    eng.on_sentiment(80)
    orders = [o for o in feed(eng, "AAPL", RISING + [120 + i for i in range(30)]) if o]
    assert len(orders) == 1 and orders[0].side == "BUY"
    assert eng.position("AAPL") == 10


def test_reversal_sends_quantity_that_reaches_new_position():
    eng = SignalEngine(["AAPL"], 5, 20, 60, 40, 10)
    eng.on_sentiment(80)
    buy = [o for o in feed(eng, "AAPL", RISING) if o]
    eng.on_sentiment(10)
    sells = [o for o in feed(eng, "AAPL", [100 - i for i in range(30)]) if o]
    assert [(o.side, o.qty, o.target) for o in buy + sells] == [("BUY", 10, 10),
                                                                ("SELL", 20, -10)]
    assert eng.position("AAPL") == -10


def test_mixed_signals_hold_the_position():
    eng = SignalEngine(["AAPL"], 5, 20, 60, 40, 10)
    eng.on_sentiment(80)
    feed(eng, "AAPL", RISING)
    eng.on_sentiment(50)  # neutral news: hold, even when the trend turns
    assert not any(feed(eng, "AAPL", [100 - i for i in range(30)]))
    assert eng.position("AAPL") == 10


def test_symbols_are_independent():
    eng = SignalEngine(["AAPL", "MSFT"], 5, 20, 60, 40, 10)
    eng.on_sentiment(80)
    feed(eng, "AAPL", RISING)
    assert eng.position("AAPL") == 10 and eng.position("MSFT") == 0


def test_rejected_order_restores_position():
    eng = SignalEngine(["AAPL"], 5, 20, 60, 40, 10)
    eng.on_sentiment(80)
    order = [o for o in feed(eng, "AAPL", RISING) if o][0]
    eng.on_rejected(order)
    assert eng.position("AAPL") == 0
    assert eng.on_price("AAPL", 200) is not None  # tries again on the next tick


def test_rolling_mean_exact_over_many_updates():
    """Equal prices stay exactly equal after a million incremental updates (no float drift)."""
    short, long_ = RollingMean(5), RollingMean(20)
    for i in range(1_000_000):
        v = round((0.1 + (i % 7) * 0.01) * SCALE)
        short.push(v)
        long_.push(v)
    for _ in range(20):
        short.push(round(0.3 * SCALE))
        long_.push(round(0.3 * SCALE))
    assert short.sum * long_.count == long_.sum * short.count
    assert short.mean == pytest.approx(0.3)


def test_windows_validated():
    with pytest.raises(ValueError):
        SignalEngine(["AAPL"], 20, 5)
