"""Sans-IO codec tests: no sockets. Each message whole, byte by byte, many in one chunk,
oversize, garbage."""
import json
import math

import pytest

from engine.protocol import (Ack, Confirm, FrameDecoder, LocalProtocolError, Order, PriceTick,
                             RemoteProtocolError, Sentiment, decode_json, format_received, frame,
                             parse_price)

ORDER = Order(client_order_id="strategy-ab12cd-7", side="BUY", symbol="AAPL", qty=10,
              price=173.2, tick_ns=123)
MESSAGES = [
    (PriceTick("AAPL", 172.53), PriceTick),
    (Sentiment(73), Sentiment),
    (ORDER, Order),
    (Ack(client_order_id="strategy-ab12cd-7", order_id=12, status="accepted"), Ack),
    (Ack(status="rejected", reason="order: side must be BUY or SELL"), Ack),
    (Confirm(order_id=12, side="BUY", qty=10, symbol="AAPL", price=173.2,
             client_order_id="strategy-ab12cd-7"), Confirm),
]


@pytest.mark.parametrize("msg,cls", MESSAGES, ids=lambda m: type(m).__name__)
def test_round_trip_whole(msg, cls):
    data = msg.encode()
    assert data.endswith(b"*") and data.count(b"*") == 1
    frames = FrameDecoder().feed(data)
    assert frames == [data[:-1]]
    assert cls.decode(frames[0]) == msg


@pytest.mark.parametrize("msg,cls", MESSAGES, ids=lambda m: type(m).__name__)
def test_round_trip_byte_by_byte(msg, cls):
    data = msg.encode()
    dec = FrameDecoder()
    got = []
    for i in range(len(data)):
        got += dec.feed(data[i:i + 1])
        if i < len(data) - 1:
            assert got == [] and dec.pending == i + 1
    assert [cls.decode(f) for f in got] == [msg]
    assert dec.pending == 0


def test_many_frames_in_one_chunk_and_trailing_partial():
    data = b"".join(m.encode() for m, _ in MESSAGES) * 3 + b"AAPL,17"
    dec = FrameDecoder()
    frames = dec.feed(data)
    assert len(frames) == 3 * len(MESSAGES)
    decoded = [cls.decode(f) for f, (_, cls) in zip(frames, MESSAGES * 3)]
    assert decoded == [m for m, _ in MESSAGES] * 3
    assert dec.pending == len(b"AAPL,17")
    assert dec.feed(b"2.5*") == [b"AAPL,172.5"]


def test_price_frame_is_exactly_symbol_comma_price():
    assert PriceTick("MSFT", 325.2).encode() == b"MSFT,325.20*"
    assert PriceTick.decode(b"MSFT,325.20") == PriceTick("MSFT", 325.2)


def test_empty_frames_are_skipped():
    assert FrameDecoder().feed(b"*" + b"AAPL,1.00**" + b"*") == [b"AAPL,1.00"]


def test_oversize_frame_dropped_up_to_next_delimiter():
    dec = FrameDecoder(max_frame=16)
    assert dec.feed(b"A" * 10) == []
    assert dec.feed(b"B" * 10) == []          # 20 bytes: over the cap, discarding
    assert dec.oversize == 1 and dec.pending == 0
    assert dec.feed(b"C" * 100_000) == []     # still the same frame: nothing buffered
    assert dec.pending == 0
    assert dec.feed(b"CCC*AAPL,1.00*") == [b"AAPL,1.00"]
    assert dec.oversize == 1


def test_oversize_complete_frame_inside_a_chunk():
    dec = FrameDecoder(max_frame=8)
    assert dec.feed(b"AAPL,1.00*" + b"X" * 50 + b"*MSFT,2*") == [b"MSFT,2"]
    assert dec.oversize == 2  # "AAPL,1.00" is 9 bytes: also over an 8-byte cap


def test_endless_bytes_without_delimiter_stay_bounded():
    dec = FrameDecoder(max_frame=1024)
    for _ in range(1000):
        dec.feed(b"x" * 4096)
        assert dec.pending <= 1024
    assert dec.oversize == 1
    assert dec.feed(b"*AAPL,3*") == [b"AAPL,3"]


def test_garbage_frames_raise_remote_errors_and_decoder_goes_on():
    dec = FrameDecoder()
    frames = dec.feed(b"\xff\xfe*AAPL,abc*,12*AAPL*AAPL,-1*AAPL,nan*AAPL,inf*lower,1*AAPL,1.5*")
    good, bad = [], 0
    for f in frames:
        try:
            good.append(parse_price(f))
        except RemoteProtocolError:
            bad += 1
    assert good == [("AAPL", 1.5)]
    assert bad == 8


@pytest.mark.parametrize("payload", [b"-1", b"101", b"abc", b"", b"7.5", b"1000", b"+5"])
def test_bad_sentiment(payload):
    with pytest.raises(RemoteProtocolError):
        Sentiment.decode(payload)


@pytest.mark.parametrize("value", [0, 60, 100])
def test_sentiment_bounds(value):
    assert Sentiment.decode(Sentiment(value).encode()[:-1]).value == value


def test_delimiter_inside_payload_is_our_bug():
    with pytest.raises(LocalProtocolError):
        frame(b"AAPL*1")
    with pytest.raises(LocalProtocolError):
        Order(client_order_id="id*1", side="BUY", symbol="AAPL", qty=1, price=1.0).encode()


def order_json(**changes):
    d = ORDER.to_dict()
    for k, v in changes.items():
        if v is KeyError:
            d.pop(k)
        else:
            d[k] = v
    return json.dumps(d).encode()


@pytest.mark.parametrize("changes", [
    {"side": "HOLD"}, {"side": "\u2192BUY"}, {"side": " buy"}, {"qty": -10}, {"qty": 0},
    {"qty": 2.5}, {"qty": "10"}, {"quantity": 5}, {"action": "SELL"}, {"type": "positions"},
    {"qty": True}, {"price": -1}, {"price": 0}, {"price": "1"}, {"symbol": "aapl"},
    {"symbol": "TOOLONGSYM"}, {"client_order_id": ""}, {"client_order_id": 7},
    {"side": KeyError}, {"qty": KeyError, "quantity": KeyError}, {"price": KeyError}, {"type": "ack"},
])
def test_invalid_orders_are_rejected(changes):
    with pytest.raises(RemoteProtocolError):
        Order.decode(order_json(**changes))


@pytest.mark.parametrize("payload", [b"1e999", b"NaN", b'{"price": NaN}', b"[]", b"{",
                                      b"[" * 5000 + b"]" * 5000, b'{"a":' * 50 + b"1" + b"}" * 50])
def test_bad_json(payload):
    with pytest.raises(RemoteProtocolError):
        Order.from_dict(decode_json(payload))


@pytest.mark.parametrize("payload, side, qty", [
    (b'{"side":"BUY","symbol":"AAPL","qty":10,"price":173.2}', "BUY", 10),
    (b'{"side":"SELL","symbol":"AAPL","quantity":7,"price":173.2}', "SELL", 7),
    (b'{"side":"buy","symbol":"AAPL","qty":10,"price":173.2}', "BUY", 10),
    (b'{"action":"Sell","symbol":"AAPL","quantity":3.0,"price":1}', "SELL", 3),
    (b'{"type":"order","side":"BUY","action":"buy","qty":2,"quantity":2,"symbol":"AAPL",'
     b'"price":5}', "BUY", 2),
])
def test_assignment_orders_without_type_or_id_are_accepted(payload, side, qty):
    """Other teams' Strategies know only the assignment: side, symbol, quantity and price."""
    o = Order.decode(payload)
    assert (o.client_order_id, o.side, o.qty, o.symbol) == (None, side, qty, "AAPL")
    assert o.with_id("anon-1.1-1").client_order_id == "anon-1.1-1"
    assert b"client_order_id" not in o.encode()


def test_rejection_reasons_are_short_and_single_spaced():
    from engine.measure.rejections import reason_of
    with pytest.raises(RemoteProtocolError) as exc:
        Order.decode(b'{"side":"BUY","symbol":"AAPL","price":1}')
    assert str(exc.value) == "order: missing field 'qty'"
    assert reason_of(exc.value) == "order: missing field"
    assert reason_of(RemoteProtocolError("a:  b : c")) == "a: b"
    # the key never carries what the peer sent, so a hostile peer cannot grow the counters
    assert reason_of(RemoteProtocolError("order: unknown symbol 'ZZ1'")) == \
        reason_of(RemoteProtocolError("order: unknown symbol 'ZZ2'")) == "order: unknown symbol"
    assert reason_of(RemoteProtocolError("order: qty must be a positive integer, not -1")) == \
        "order: qty must be a positive integer"


def test_rejection_counters_are_capped():
    import logging

    from engine.measure.rejections import Rejections
    r = Rejections(logging.getLogger("test"), "frame")
    for i in range(1000):
        r.reject(f"reason {i}")
    assert r.total == 1000 and len(r.by_reason) == Rejections.MAX_REASONS + 1
    assert r.by_reason["other"] == 1000 - Rejections.MAX_REASONS


def test_order_whole_float_qty_is_accepted():
    assert Order.decode(order_json(qty=10.0)).qty == 10


def test_order_json_nan_price_rejected():
    with pytest.raises(RemoteProtocolError):
        Order.decode(order_json().replace(b"173.2", b"NaN"))


def test_received_line_format():
    assert format_received(12, Order(client_order_id="c-1-1", side="BUY", symbol="AAPL", qty=10,
                                     price=173.2)) == \
        "Received Order 12: BUY 10 AAPL @ 173.20"


def test_local_errors_for_invalid_outgoing_messages():
    with pytest.raises(LocalProtocolError):
        PriceTick("AAPL", math.nan)
    with pytest.raises(LocalProtocolError):
        Sentiment(101)
    with pytest.raises(LocalProtocolError):
        Order(client_order_id="c", side="HOLD", symbol="AAPL", qty=1, price=1.0)
    with pytest.raises(LocalProtocolError):
        Ack(client_order_id="c", status="accepted")


# -- property: however the stream is cut, the same frames come out --------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st

payloads = st.lists(st.binary(min_size=1, max_size=40).filter(lambda b: b"*" not in b),
                    max_size=30)


@settings(max_examples=200, deadline=None)
@given(payloads, st.lists(st.integers(min_value=1, max_value=50), max_size=60))
def test_any_chunking_gives_the_same_frames(frames, cuts):
    stream = b"".join(f + b"*" for f in frames)
    dec = FrameDecoder(max_frame=64)
    got, pos = [], 0
    for c in cuts:
        got += dec.feed(stream[pos:pos + c])
        pos += c
    got += dec.feed(stream[pos:])
    assert got == frames
    assert dec.pending == 0 and dec.oversize == 0


# -- the fast paths of orders and acks agree with the generic machinery on any input --------
from engine.protocol.messages import Message, encode_json  # noqa: E402

VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 10 ** 12),
                   st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                   st.sampled_from(["BUY", "sell", "Buy", "AAPL", "MSFT", "a*b", "x\"y"]),
                   st.lists(st.integers(), max_size=2))
KEYS = st.sampled_from(["type", "client_order_id", "side", "action", "symbol", "qty",
                        "quantity", "price", "tick_ns", "reason", "account"])


def generic_or_error(fn):
    try:
        return fn()
    except (RemoteProtocolError, LocalProtocolError) as exc:
        return (type(exc), str(exc))


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=8),
       st.fixed_dictionaries({"side": st.sampled_from(["BUY", "SELL", "buy"]),
                              "symbol": st.sampled_from(["AAPL", "BRK.B", "aapl", ""]),
                              "qty": st.one_of(st.integers(-1, 10 ** 10), st.booleans()),
                              "price": st.one_of(st.floats(-1, 1e6), st.integers(-1, 10))}))
def test_order_fast_path_reads_as_the_generic_one(extra, usual):
    """The usual shape (and anything near it): the same Order or the same error."""
    for obj in (usual, {**usual, **extra}, extra):
        fast = generic_or_error(lambda: Order.from_dict(obj))
        slow = generic_or_error(lambda: Message.from_dict.__func__(Order, obj))
        assert fast == slow, obj


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.none(), st.text(min_size=1, max_size=20).filter(lambda s: "*" not in s)),
       st.sampled_from(["BUY", "SELL"]), st.sampled_from(["AAPL", "BRK.B", "X"]),
       st.integers(1, 10 ** 9), st.one_of(st.floats(1e-3, 1e7), st.integers(1, 10 ** 6)),
       st.one_of(st.none(), st.integers(0, 2 ** 62)),
       st.one_of(st.none(), st.integers(0, 10 ** 9)),
       st.sampled_from(["accepted", "duplicate", "rejected"]),
       st.one_of(st.none(), st.text(max_size=20)),
       st.one_of(st.none(), st.text(min_size=1, max_size=20).filter(lambda s: "*" not in s)))
def test_order_and_ack_fast_encoders_write_the_generic_bytes(coid, side, sym, qty, price, tick,
                                                             oid, status, reason, account):
    order = Order(client_order_id=coid, side=side, symbol=sym, qty=qty, price=price,
                  tick_ns=tick, account=account)
    assert order.encode() == encode_json(order.to_dict())
    assert Order.decode(order.encode()[:-1]) == Order.from_dict(order.to_dict())
    if status == "rejected" or oid is not None:
        ack = Ack(client_order_id=coid, order_id=oid if status != "rejected" else None,
                  status=status, reason=reason)
        assert ack.encode() == encode_json(ack.to_dict())
