"""Other teams' shapes of the same meaning (engine.protocol.variants): each arrives as the tick
or the order its assignment-shaped twin gives, counted by name, and `--strict-wire` refuses it
with a reason that says what was expected."""
from __future__ import annotations

import json
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config.schema import Config
from engine.protocol import Ack, Order, decode_json
from engine.protocol.variants import (CSV_ORDER, JSON_PRICE, JSON_PRICES, PEER_ID, SYM_PX,
                                      WITH_TIMESTAMP)
from engine.records.order_log import ORDERS_FILE, OrderLog, read_order_log
from engine.shm.price_book import SharedPriceBook
from engine.testing import unique_shm_name
from engine.trading.ingest import PriceIngest
from engine.trading.order_desk import OrderDesk

LOG = logging.getLogger("variants-test")
SYMS = ("AAPL", "MSFT", "GOOG")

PRICE_VARIANTS = [  # (frames, variant, the ticks they mean)
    (b"AAPL,172.53,1700000000.25*", WITH_TIMESTAMP, {"AAPL": 172.53}),
    (b'{"type":"prices","data":{"AAPL":172.5,"MSFT":325.2}}*', JSON_PRICES,
     {"AAPL": 172.5, "MSFT": 325.2}),
    (b'{"AAPL":172.5,"GOOG":135.41,"timestamp":1700000000}*', JSON_PRICES,
     {"AAPL": 172.5, "GOOG": 135.41}),
    (b'{"symbol":"MSFT","price":325.25}*', JSON_PRICE, {"MSFT": 325.25}),
]


@pytest.fixture
def ingest(shm_name):
    made = []

    def make(strict=False):
        book = SharedPriceBook(SYMS, name=f"{shm_name}{len(made)}")
        made.append(book)
        return PriceIngest(book, SYMS, LOG, 64 * 1024, strict=strict), book
    yield make
    for book in made:
        book.close()
        book.unlink()


@pytest.mark.parametrize("frames,variant,ticks", PRICE_VARIANTS)
def test_each_price_variant_is_a_tick_counted_by_name_and_refused_when_strict(
        ingest, frames, variant, ticks, caplog):
    ing, book = ingest()
    with caplog.at_level(logging.INFO, logger=LOG.name):
        assert ing.feed(frames + frames, 1) == 2 * len(ticks)
    assert {s: book.read(s) for s in ticks} == ticks
    assert ing.variants.by_name == {f"prices {variant}": 2 * len(ticks)}
    assert ing.rejections.total == 0
    said = [r.getMessage() for r in caplog.records if "accepting" in r.getMessage()]
    assert said == [f"accepting prices {variant} from the gateway"]  # once, not per frame
    strict, sbook = ingest(strict=True)
    assert strict.feed(frames, 1) == 0 and strict.rejections.total == 1
    assert not strict.variants.by_name and all(sbook.read(s) is None for s in ticks)


def test_a_price_frame_in_no_shape_is_refused_saying_what_was_expected(ingest, caplog):
    ing, _ = ingest()
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        assert ing.feed(b"AAPL;172.5*AAPL,1,2,3*{\"AAPL\":-1}*ZZZ,1,2*AAPL,170.5*", 1) == 1
    assert ing.rejections.total == 4 and not ing.variants.by_name
    assert all("expected SYMBOL,PRICE" in r.getMessage() for r in caplog.records
               if "unknown symbol" not in r.getMessage())


@settings(max_examples=150, deadline=None)
@given(sym=st.sampled_from(SYMS), cents=st.integers(1, 10**8),
       stamp=st.floats(0, 2e9, allow_nan=False), shape=st.sampled_from(["ts", "map", "kv"]))
def test_a_price_variant_and_its_assignment_twin_give_the_same_tick(sym, cents, stamp, shape):
    price = cents / 100
    twin = f"{sym},{price}".encode()
    variant = {"ts": f"{sym},{price},{stamp}".encode(),
               "map": json.dumps({"type": "prices", "data": {sym: price}}).encode(),
               "kv": json.dumps({"symbol": sym, "price": price}).encode()}[shape]
    got = []
    for frame in (twin, variant):
        with SharedPriceBook(SYMS, name=unique_shm_name()) as book:
            ing = PriceIngest(book, SYMS, LOG, 64 * 1024)
            assert ing.feed(frame + b"*", 1) == 1
            got.append(book.read(sym))
            book.unlink()
    assert got[0] == got[1] == price


# -- orders -------------------------------------------------------------------------------------
ORDER_VARIANTS = [  # (frame, variants, (side, qty, symbol, price))
    (b"1700000000.5,BUY,10,AAPL,172.53", [CSV_ORDER], ("BUY", 10, "AAPL", 172.53)),
    (b'{"side":"SELL","sym":"MSFT","quantity":5,"px":325.5}', [SYM_PX],
     ("SELL", 5, "MSFT", 325.5)),
    (b'{"id":12,"side":"BUY","symbol":"GOOG","quantity":1,"price":135.41}', [PEER_ID],
     ("BUY", 1, "GOOG", 135.41)),
    (b'{"id":"a7","side":"buy","sym":"AAPL","qty":3,"px":170}', [SYM_PX, PEER_ID],
     ("BUY", 3, "AAPL", 170.0)),
]


@pytest.fixture
def desk(tmp_path):
    made = []

    def make(strict=False):
        log = OrderLog(tmp_path / f"{len(made)}{ORDERS_FILE}", LOG)
        made.append(log)
        return OrderDesk(Config(log_dir=str(tmp_path), symbols=SYMS, strict_wire=strict),
                         LOG, log), log
    yield make
    for log in made:
        log.close()


def acks(replies):
    return [Ack.from_dict(decode_json(r[:-1])) for r in replies]


@pytest.mark.parametrize("frame,variants,meaning", ORDER_VARIANTS)
def test_each_order_variant_is_an_order_counted_by_name_and_refused_when_strict(
        desk, frame, variants, meaning, caplog):
    d, log = desk()
    with caplog.at_level(logging.INFO, logger=LOG.name):
        replies, accepted = d.handle([frame], peer_id=3)
    assert [a.status for a in acks(replies)] == ["accepted"]
    (_, o), = accepted
    assert (o.side, o.qty, o.symbol, o.price) == meaning
    assert d.variants.by_name == {f"orders {v}": 1 for v in variants}
    said = [r.getMessage() for r in caplog.records if "accepting" in r.getMessage()]
    assert said == [f"accepting orders {v} from client#3" for v in variants]
    strict, _ = desk(strict=True)
    replies, accepted = strict.handle([frame], peer_id=3)
    (ack,) = acks(replies)
    assert not strict.variants.by_name
    if variants == [PEER_ID]:  # an assignment order all the same: its id is not taken
        assert ack.status == "accepted" and "-id" not in ack.client_order_id
    else:
        assert ack.status == "rejected" and not accepted


def test_a_csv_order_refused_says_what_was_expected(desk):
    for strict in (False, True):
        d, _ = desk(strict=strict)
        (ack,), _ = d.handle([b"1700000000,BUY,10,AAPL,172.53,extra"])
        assert ack.endswith(b"*")
        reason = acks([ack])[0].reason
        assert "expected a JSON object with side, symbol, quantity and price" in reason, reason
        assert "timestamp,side,quantity,symbol,price" in reason


def test_a_peers_own_id_takes_a_resend_once_and_never_mixes_two_peers_orders(desk, tmp_path):
    d, log = desk()
    mine = b'{"id":1,"side":"BUY","symbol":"AAPL","quantity":10,"price":170.0}'
    theirs = b'{"id":1,"side":"SELL","symbol":"MSFT","quantity":5,"price":300.0}'
    replies, accepted = d.handle([mine, mine, theirs], peer_id=1)
    assert [a.status for a in acks(replies)] == ["accepted", "duplicate", "accepted"]
    assert [o.symbol for _, o in accepted] == ["AAPL", "MSFT"]
    replies, _ = d.handle([mine], peer_id=2)  # a resend after a reconnect
    assert acks(replies)[0].status == "duplicate"
    log.flush()
    assert len(list(read_order_log(log.path))) == 2


@settings(max_examples=150, deadline=None)
@given(side=st.sampled_from(["BUY", "SELL"]), qty=st.integers(1, 10**6),
       sym=st.sampled_from(SYMS), cents=st.integers(1, 10**8),
       shape=st.sampled_from(["csv", "sympx", "id"]))
def test_an_order_variant_and_its_assignment_twin_give_the_same_order(
        tmp_path_factory, side, qty, sym, cents, shape):
    price = cents / 100
    twin = json.dumps({"side": side, "symbol": sym, "quantity": qty, "price": price}).encode()
    variant = {"csv": f"1700000000,{side},{qty},{sym},{price}".encode(),
               "sympx": json.dumps({"side": side, "sym": sym, "quantity": qty,
                                    "px": price}).encode(),
               "id": json.dumps({"id": cents, "side": side, "symbol": sym, "quantity": qty,
                                 "price": price}).encode()}[shape]
    folder = tmp_path_factory.mktemp("o")
    got = []
    for n, frame in enumerate((twin, variant)):
        log = OrderLog(folder / f"{n}.jsonl", LOG)
        try:
            d = OrderDesk(Config(log_dir=str(folder), symbols=SYMS), LOG, log)
            _, accepted = d.handle([frame])
        finally:
            log.close()
        (_, o), = accepted
        got.append((o.side, o.qty, o.symbol, o.price))
    assert got[0] == got[1] == (side, qty, sym, price)


def test_our_orders_carry_the_assignments_spellings_and_read_back_the_same():
    o = Order(client_order_id="fast-ab12-3", side="BUY", symbol="AAPL", qty=10, price=172.5,
              account="fast")
    d = decode_json(o.encode()[:-1])
    assert (d["qty"], d["quantity"], d["id"]) == (10, 10, "fast-ab12-3")
    assert Order.decode(o.encode()[:-1]) == o
