"""The desk's Qt-free models with plain pytest: no Qt, no process, no socket. Rates, the
confirmation stream, the order session (what the Orders pane, the positions and the equity
curve read), the history ring."""
from __future__ import annotations

import json
import math

import pytest

from engine.protocol import Confirm, SessionState
from gui.models.confirms import ConfirmStream
from gui.models.rates import FrameMeter, RateMeter
from gui.models.ring import Ring
from gui.models.session import OrderSession


def test_rate_meter():
    r = RateMeter(window=2.0, silence=1.5)
    for i in range(11):
        r.add(100.0 + i * 0.5, i * 50)
    assert r.rate(105.1) == pytest.approx(100.0)
    assert r.rate(110.0) == 0.0  # silent reporter: no rate


def test_confirm_stream_whole_byte_by_byte_and_bad_frames():
    good = [Confirm(order_id=i, side="BUY" if i % 2 else "SELL", qty=10, symbol="AAPL",
                    price=170.0 + i) for i in range(1, 5)]
    data = b"".join(c.encode() for c in good)
    s = ConfirmStream()
    assert s.feed(data) == good
    s = ConfirmStream()
    out = []
    for i in range(len(data)):
        out += s.feed(data[i:i + 1])
    assert out == good and s.bad_frames == 0
    s = ConfirmStream(max_frame=200)
    bad = (b"not json*" + json.dumps({"type": "ack"}).encode() + b"*" +
           json.dumps({"type": "confirm", "order_id": 1, "side": "HOLD", "qty": 1,
                       "symbol": "AAPL", "price": 1.0}).encode() + b"*" + b"x" * 500 + b"*")
    assert s.feed(bad + good[0].encode()) == [good[0]]
    assert s.bad_frames == 4
    s.feed(b'{"type":"con')
    s.reset()  # reconnect: the partial frame is lost and counted
    assert s.bad_frames == 5


def test_ring_keeps_the_latest_in_one_contiguous_view():
    r = Ring(5, 2)
    assert r.view()[0].size == 0 and r.last() is None
    for i in range(13):
        r.append(float(i), (i, -i))
        t, v = r.view()
        assert list(t) == [float(k) for k in range(max(0, i - 4), i + 1)]
        assert list(v[:, 1]) == [-k for k in range(max(0, i - 4), i + 1)]
        assert t.base is not None, "a view, not a copy"
    assert r.last()[0] == 12.0 and r.count == 5 and r.total == 13
    r.clear()
    assert r.count == 0


def confirm(oid, side, qty, symbol="AAPL", price=100.0, replay=False):
    return (1000.0 + oid, Confirm(order_id=oid, side=side, qty=qty, symbol=symbol, price=price,
                                  replay=replay))


def test_the_session_counts_every_order_and_moves_on_the_live_ones():
    s = OrderSession()
    assert s.orders == 0 and math.isnan(s.pnl_total({}))
    touched = s.confirmed([confirm(1, "BUY", 10, price=100.0), confirm(2, "SELL", 4, price=110.0),
                           confirm(3, "BUY", 5, "MSFT", 50.0)])
    assert touched == ["AAPL", "AAPL", "MSFT"] and s.orders == 3
    assert s.position("AAPL") == 6 and s.fills == {"AAPL": 2, "MSFT": 1}
    # realized 4 x (110 - 100) = 40; the open AAPL marked to 120: 6 x 20 = 120; MSFT at 50
    assert s.pnl_total({"AAPL": 120.0, "MSFT": 50.0}) == pytest.approx(160.0)
    assert s.traded() == ["AAPL", "MSFT"]


def test_a_reconnection_starts_from_the_session_state_and_counts_the_replays_once():
    s = OrderSession()
    s.confirmed([confirm(1, "BUY", 10)])
    state = SessionState(orders=30, positions={"AAPL": 20}, fills={"AAPL": 3}, replay=2,
                         pnl={"AAPL": [100.0, 500]})
    s.reset_to(state)
    assert s.orders == 28 and s.position("AAPL") == 20 and s.fills["AAPL"] == 3
    # the replays the OrderManager sends after its state: counted, already in the positions
    s.confirmed([confirm(29, "BUY", 10, replay=True), confirm(30, "BUY", 10, replay=True)])
    assert s.orders == 30 and s.position("AAPL") == 20
    # realized 5.00 (500 cents), 20 open at an average of 100 marked to 101: 20.00
    assert s.pnl_total({"AAPL": 101.0}) == pytest.approx(25.0)
    s.confirmed([confirm(31, "SELL", 20, price=101.0)])  # live: closes the position
    assert s.orders == 31 and s.position("AAPL") == 0
    assert s.pnl_total({}) == pytest.approx(25.0)


def test_the_frame_meter_counts_the_last_second():
    m = FrameMeter()
    for _ in range(12):
        m.tick()
    assert m.rate(1.0) == 12 and len(m.times()) == 12
