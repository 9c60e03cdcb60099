"""The OrderManager's core without sockets (engine.trading.order_desk) over its order log
(engine.records.order_log): frames in, acks out, every accepted order in the log before its
ack; the log read back in one way by the OrderManager, the summary's P&L and the export."""
from __future__ import annotations

import csv
import json
import logging

import pytest

from engine.config.schema import Config
from engine.protocol import Ack, Confirm, Order, decode_json
from engine.records.order_log import (ORDERS_FILE, OrderLog, pnl_of_log, read_order_log,
                                      write_orders_csv)
from engine.trading.order_desk import OrderDesk

LOG = logging.getLogger("desk-test")


def order(coid, side="BUY", qty=10, symbol="AAPL", price=100.0) -> bytes:
    return Order(client_order_id=coid, side=side, qty=qty, symbol=symbol,
                 price=price).encode()[:-1]  # a frame, without its delimiter


def acks(replies):
    return [Ack.from_dict(decode_json(r[:-1])) for r in replies]


@pytest.fixture
def desk(tmp_path):
    made = []

    def make():
        log = OrderLog(tmp_path / ORDERS_FILE, LOG)
        made.append(log)
        return OrderDesk(Config(log_dir=str(tmp_path)), LOG, log)
    yield make
    for log in made:
        log.close()


def test_orders_are_numbered_logged_before_the_ack_and_a_resend_is_a_duplicate(desk, tmp_path):
    d = desk()
    replies, accepted = d.handle([order("strategy-ab-1"), order("strategy-ab-2", "SELL", 4)])
    assert [(a.status, a.order_id) for a in acks(replies)] == [("accepted", 1), ("accepted", 2)]
    logged = list(read_order_log(tmp_path / ORDERS_FILE))  # on disk when handle() returns
    assert [(r["order_id"], r["side"], r["qty"], r["account"]) for r in logged] == \
        [(1, "BUY", 10, "strategy"), (2, "SELL", 4, "strategy")]
    replies, accepted = d.handle([order("strategy-ab-1")])
    assert [(a.status, a.order_id) for a in acks(replies)] == [("duplicate", 1)]
    assert accepted == [] and d.duplicates == 1
    assert len(list(read_order_log(tmp_path / ORDERS_FILE))) == 2, "never logged twice"


def test_each_order_is_in_its_account_named_by_it_its_connection_or_its_id(desk, tmp_path):
    """Several Strategies on one OrderManager: an order names its account; one that does not
    is in the account its connection named before (in an order or a positions request),
    else the one its id shows, else 'anon'. Positions are kept and answered per account,
    confirmations say the account, the session's state carries each account's book."""
    d = desk()
    named = Order(client_order_id="fast-ab-1", side="BUY", qty=10, symbol="AAPL", price=100.0,
                  account="mine").encode()[:-1]
    bare = json.dumps({"side": "SELL", "symbol": "AAPL", "qty": 3, "price": 101.0}).encode()
    d.handle([named], peer_id=1)
    d.handle([bare], peer_id=1)        # the connection said "mine"
    d.handle([order("slow-cd-1", qty=2)], peer_id=2)  # its id says "slow"
    d.handle([bare], peer_id=3)        # nothing says: anon
    d.handle([b'{"type":"positions","account":"late"}', bare], peer_id=4)
    logged = [(r["order_id"], r["account"]) for r in read_order_log(tmp_path / ORDERS_FILE)]
    assert logged == [(1, "mine"), (2, "mine"), (3, "slow"), (4, "anon"), (5, "late")]
    assert d.orders.positions["mine"] == {"AAPL": 7} and d.orders.positions["slow"] == {"AAPL": 2}
    replies, _ = d.handle([b'{"type":"positions","account":"mine"}'], peer_id=9)
    assert json.loads(replies[0][:-1])["positions"] == {"AAPL": 7}
    confirms, _ = d.announce([(1, Order.from_dict(decode_json(named)))])
    assert Confirm.from_dict(decode_json(confirms[0][:-1])).account == "mine"
    state = json.loads(d.orders.state().split(b"*")[0])
    assert state["accounts"]["mine"]["positions"] == {"AAPL": 7}
    assert state["positions"] == {"AAPL": 3}  # (the net: 7 + 2 - 3 - 3)
    d.forget(1)  # the connection went: a new one with its id is not "mine" any more
    assert d.connection_account.get(1) is None


def test_a_bare_assignment_order_gets_an_id_and_a_bad_one_a_reason(desk):
    d = desk()
    bare = json.dumps({"action": "buy", "symbol": "MSFT", "quantity": 5, "price": 1.5}).encode()
    replies, accepted = d.handle([bare, order("s-x-1", symbol="ZZZZ"), b"not json"], peer_id=7)
    a, unknown, junk = acks(replies)
    assert a.status == "accepted" and a.client_order_id.startswith("anon-")
    assert a.client_order_id.split(".")[1].startswith("7-")  # the connection's
    assert unknown.status == "rejected" and "unknown symbol 'ZZZZ'" in unknown.reason
    assert junk.status == "rejected" and d.rejections.total == 2
    assert [r.reason for r in d.take_refused()] == [unknown.reason, junk.reason]
    confirms, lines = d.announce(accepted)
    assert lines == ["Received Order 1: BUY 5 MSFT @ 1.50"]
    assert Confirm.from_dict(decode_json(confirms[0][:-1])).symbol == "MSFT"


def test_a_restarted_order_manager_goes_on_from_its_log(desk, tmp_path):
    d = desk()
    d.handle([order("strategy-ab-1", qty=10), order("strategy-ab-2", "SELL", 3)])
    d.orders.close()
    with (tmp_path / ORDERS_FILE).open("ab") as f:
        f.write(b'{"order_id":3,"client_order_id":"strategy-ab-3","si')  # a crash mid-write
    again = desk()
    assert again.orders.loaded == 2 and again.orders.next_id == 3
    replies, _ = again.handle([order("strategy-ab-2", "SELL", 3), order("strategy-ab-4")])
    assert [(a.status, a.order_id) for a in acks(replies)] == [("duplicate", 2), ("accepted", 3)]
    positions = json.loads(again.handle([b'{"type":"positions","account":"strategy"}'])[0][0][:-1])
    assert positions["positions"] == {"AAPL": 17}
    ids = [r["order_id"] for r in read_order_log(tmp_path / ORDERS_FILE)]
    assert ids == [1, 2, 3], "the half-written line is skipped, the next order is whole"


def test_the_one_reader_types_what_it_reads_and_skips_what_is_not_an_order(tmp_path):
    path = tmp_path / ORDERS_FILE
    path.write_text('{"order_id":"1","client_order_id":"a-b-1","side":"BUY","symbol":"AAPL",'
                    '"qty":"2","price":"10.5","time":1.25}\n'
                    '[1, 2]\n{"order_id":2}\n\n'
                    '{"order_id":3,"client_order_id":"a-b-3","side":"SELL","symbol":"AAPL",'
                    '"qty":2,"price":11.0}\n', encoding="utf-8")
    skipped = []
    recs = list(read_order_log(path, on_skip=skipped.append))
    assert [(r["order_id"], r["qty"], r["price"]) for r in recs] == [(1, 2, 10.5), (3, 2, 11.0)]
    assert recs[0]["time"] == 1.25 and "time" not in recs[1] and len(skipped) == 3
    assert pnl_of_log(path, {})["realized"] == pytest.approx(1.0)
    out = tmp_path / "orders.csv"
    assert write_orders_csv(recs, out) == 2
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["order_id"] for r in rows] == ["1", "3"] and rows[1]["time"] == ""
