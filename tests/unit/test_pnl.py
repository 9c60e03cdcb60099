"""P&L by the average-cost method, on hand-worked examples: a buy, an add, a partial close,
a reversal, a short, and the totals marked to prices."""
import math

import pytest

from engine.trading.pnl import Holding, PnLBook


def test_buy_add_partial_close_reversal_by_hand():
    h = Holding()
    assert h.fill("BUY", 10, 100.0) == 0                       # long 10 @ 100
    assert (h.position, h.average) == (10, 100.0)
    assert h.unrealized(104.0) == 40.0                          # 10 x (104 - 100)
    h.fill("BUY", 10, 110.0)                                    # add: 20 @ 105
    assert (h.position, h.average) == (20, 105.0)
    assert h.fill("SELL", 5, 120.0) == 7500                     # close 5: 5 x 15 = $75
    assert (h.position, h.average, h.realized) == (15, 105.0, 75.0)  # the average stays
    assert h.fill("SELL", 25, 90.0) == -22500                   # close 15 at -15: -$225 ...
    assert (h.position, h.average) == (-10, 90.0)               # ... and 10 open short @ 90
    assert h.realized == -150.0
    assert h.unrealized(80.0) == 100.0                          # short gains as it falls
    assert math.isnan(h.unrealized(None))  # open, and nothing to mark it to
    assert h.fill("BUY", 10, 95.0) == -5000                     # cover at 95: -$50
    assert (h.position, h.average, h.realized, h.fills) == (0, 0.0, -200.0, 5)
    assert h.unrealized(None) == 0.0                            # flat: nothing to mark


def test_book_totals_from_order_records():
    records = [{"symbol": "AAPL", "side": "BUY", "qty": 10, "price": 172.5},
               {"symbol": "MSFT", "side": "SELL", "qty": 10, "price": 325.2},
               {"symbol": "AAPL", "side": "SELL", "qty": 20, "price": 173.1},
               {"symbol": "MSFT", "side": "BUY", "qty": 20, "price": 324.2}]
    s = PnLBook().fills_from(records).summary({"AAPL": 172.0, "MSFT": 326.0})
    aapl, msft = s["symbols"]["AAPL"], s["symbols"]["MSFT"]
    assert (aapl["position"], aapl["realized"], aapl["unrealized"]) == (-10, 6.0, 11.0)
    assert (msft["position"], msft["realized"], msft["unrealized"]) == (10, 10.0, 18.0)
    assert (s["realized"], s["unrealized"], s["total"]) == (16.0, 29.0, 45.0)
    assert s["method"] == "average cost" and not s["unmarked"]
    unmarked = PnLBook().fills_from(records[:1]).summary({})
    assert unmarked["unmarked"] == ["AAPL"] and unmarked["symbols"]["AAPL"]["unrealized"] is None


def test_cents_do_not_drift_over_many_round_trips():
    h = Holding()
    for _ in range(10_000):
        h.fill("BUY", 10, 100.01)
        h.fill("SELL", 10, 100.02)
    assert h.realized_cents == 10_000 * 10 and h.position == 0
    with pytest.raises(ValueError):
        h.fill("BUY", 0, 1.0)
