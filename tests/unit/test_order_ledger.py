"""The order side of both ends, without sockets: the Strategy's OrderLedger (pending,
resent, acked, rejected; what kind of OrderManager it talks to) and the OrderManager's
OrderDesk (validate, number, log, ack)."""
from __future__ import annotations

import json
import logging

import pytest

from engine.config.schema import Config
from engine.protocol import HELLO_FEATURES, Ack, Hello, Order, PositionsReply, decode_json
from engine.records.order_log import OrderLog
from engine.trading.order_desk import OrderDesk
from engine.trading.order_ledger import DELIVERED, SENT, OrderLedger
from engine.trading.signals import OrderIntent


def order(n, side="BUY", qty=10, symbol="AAPL"):
    return (Order(client_order_id=f"strategy-s-{n}", side=side, symbol=symbol, qty=qty,
                  price=100.0 + n),
            OrderIntent(side, symbol, qty, 100.0 + n, qty if side == "BUY" else -qty))


def ack(n, status="accepted", oid=None):
    return Ack(client_order_id=f"strategy-s-{n}" if n else None,
               order_id=oid if status != "rejected" else None, status=status,
               reason="nope" if status == "rejected" else None).encode()[:-1]


def positions(held):
    return PositionsReply(account="strategy", positions=held).encode()[:-1]


def hello(features=HELLO_FEATURES):
    return Hello(server="ours", features=list(features)).encode()[:-1]


def greeted(led, now=0.0):
    """A connection to an OrderManager of ours: its hello, our positions request."""
    led.greeting(now)
    out = led.on_frame(hello())
    assert out.kind == "hello" and decode_json(out.request[:-1])["type"] == "positions"
    return out


# -- the Strategy's ledger --------------------------------------------------------------------
def test_an_order_is_pending_until_its_ack_and_resent_after_a_reconnect():
    led = OrderLedger()
    assert led.greeting(now=0.0) == []  # nothing before the OrderManager says what it is
    out = led.on_frame(hello())
    assert decode_json(out.request[:-1]) == {"type": "positions", "account": "strategy"}
    assert not led.ready
    assert led.on_frame(positions({})).kind == "positions"
    assert led.ready and led.positions_known and led.peer_acks
    o1, i1 = order(1)
    o2, i2 = order(2, "SELL", 20)
    led.new_order(o1, i1)
    assert led.on_wire(o1) == SENT
    led.new_order(o2, i2)  # made while disconnected: never on the wire yet
    assert list(led.pending) == [o1.client_order_id, o2.client_order_id]
    out = led.on_frame(ack(1, oid=7))
    assert (out.kind, out.order, out.ack.order_id) == ("ack", o1, 7)
    # a reconnect: positions are known, so only the pending order goes out again
    again = led.greeting(now=5.0)
    assert [decode_json(f[:-1])["client_order_id"] for f in again] == [o2.client_order_id]
    assert led.resent == 1 and led.after_greeting() == []
    out = led.on_frame(ack(2, "duplicate", oid=8))
    assert out.kind == "ack" and out.ack.status == "duplicate"
    assert not led.pending and (led.sent, led.acked, led.rejected) == (2, 2, 0)


def test_a_rejected_order_is_counted_and_its_intent_handed_back():
    led = OrderLedger()
    led.greeting(0.0)
    led.on_frame(positions({}))
    o, i = order(1)
    led.new_order(o, i)
    led.on_wire(o)
    out = led.on_frame(ack(1, "rejected"))
    assert (out.kind, out.intent, led.rejected, led.acked) == ("ack", i, 1, 0)


def test_an_order_manager_that_answers_nothing_gets_orders_without_acks():
    led = OrderLedger(positions_wait_s=1.0)
    led.greeting(now=10.0)
    assert led.check_wait(now=10.5) is None and not led.ready  # still waiting
    o, i = order(1)
    led.new_order(o, i)  # made before trading began (a queued resend, say)
    assert led.check_wait(now=11.1) == [(o, i, o.encode())]  # done: it was sent
    assert led.ready and led.peer_acks is False and not led.pending
    o2, i2 = order(2)
    led.new_order(o2, i2)
    assert led.on_wire(o2) == DELIVERED and led.delivered == 2
    # an ack that still comes (a slow OrderManager of ours) is counted after all
    out = led.on_frame(ack(2, oid=1))
    assert out.kind == "ack" and led.peer_acks is True
    assert (led.delivered, led.acked) == (1, 1)


def test_a_late_positions_reply_adds_what_was_sent_after_the_request():
    led = OrderLedger(positions_wait_s=1.0)
    greeted(led, now=0.0)
    assert led.check_wait(now=2.0) == []  # no answer in time: trade from flat
    o, i = order(1, "BUY", 10)
    led.new_order(o, i)
    led.on_wire(o)
    out = led.on_frame(positions({"AAPL": -10, "MSFT": 5}))
    assert out.kind == "positions" and out.late
    assert out.positions == {"AAPL": 0, "MSFT": 5}  # -10 held + 10 bought since


def test_a_rejection_of_the_request_means_it_does_not_know_positions():
    led = OrderLedger()
    greeted(led)
    out = led.on_frame(ack(None, "rejected"))
    assert out.kind == "unknown-positions" and led.ready
    assert led.peer_acks is True and not led.positions_known
    assert led.on_frame(ack(None, "rejected")).kind == "stray"  # later ones are strays
    assert led.on_frame(b"not json").kind == "bad"


def test_a_plain_order_manager_is_sent_nothing_but_orders():
    """No hello within the wait: no positions request ever leaves (a plain OrderManager
    would print it as a junk order), on the first connection or any later one."""
    led = OrderLedger(positions_wait_s=1.0)
    assert led.greeting(now=0.0) == []
    assert led.check_wait(now=1.5) == [] and led.ready and not led.request_open
    o, i = order(1)
    assert led.new_order(o, i) == o.encode() and led.on_wire(o) == DELIVERED
    assert led.greeting(now=9.0) == []  # a reconnect: still nothing but orders


def test_a_hello_without_positions_means_trade_at_once_and_one_with_known_positions_asks_nothing():
    led = OrderLedger()
    led.greeting(0.0)
    out = led.on_frame(hello(["acks"]))
    assert out.request is None and led.ready and led.peer_acks is True
    known = OrderLedger()
    greeted(known)
    known.on_frame(positions({"AAPL": 10}))
    known.greeting(5.0)
    assert known.on_frame(hello()).request is None  # a reconnect: positions are known


# -- the OrderManager's desk ------------------------------------------------------------------
@pytest.fixture
def desk(tmp_path):
    log = logging.getLogger("test-desk")
    orders = OrderLog(tmp_path / "orders.jsonl", log)
    yield OrderDesk(Config(log_dir=str(tmp_path)), log, orders), tmp_path
    orders.close()


def frame(**fields):
    return json.dumps(fields).encode()


def test_the_desk_numbers_logs_and_acks_and_never_logs_a_resend_twice(desk):
    d, folder = desk
    good = frame(type="order", client_order_id="strategy-a-1", side="BUY", symbol="AAPL",
                 qty=10, price=173.2)
    bare = frame(side="sell", symbol="MSFT", quantity=5, price=325.0)  # the assignment's
    replies, accepted = d.handle([good, good, bare, b"junk",
                                  frame(type="positions", account="strategy")], peer_id=3)
    acks = [decode_json(r[:-1]) for r in replies]
    assert [a.get("status") or a["type"] for a in acks] == \
        ["accepted", "duplicate", "accepted", "rejected", "positions"]
    assert [a.get("order_id") for a in acks[:3]] == [1, 1, 2]
    assert acks[2]["client_order_id"].startswith("anon-") and ".3-" in acks[2]["client_order_id"]
    assert acks[4]["positions"] == {"AAPL": 10}
    confirms, lines = d.announce(accepted)
    assert lines == ["Received Order 1: BUY 10 AAPL @ 173.20",
                     "Received Order 2: SELL 5 MSFT @ 325.00"]
    logged = [json.loads(l) for l in (folder / "orders.jsonl").read_text().splitlines()]
    assert [r["order_id"] for r in logged] == [1, 2]
    first = dict(logged[0])
    assert isinstance(first.pop("time"), float)
    assert first == {"order_id": 1, "client_order_id": "strategy-a-1", "side": "BUY",
                     "symbol": "AAPL", "qty": 10, "price": 173.2, "account": "strategy"}
    assert logged[1]["account"] == "anon" and logged[1]["side"] == "SELL"
    # a restarted OrderManager goes on numbering from the log, and still knows the ids
    again = OrderDesk(Config(log_dir=str(folder)), logging.getLogger("t"),
                      OrderLog(folder / "orders.jsonl", logging.getLogger("t")))
    replies, _ = again.handle([good])
    assert decode_json(replies[0][:-1])["status"] == "duplicate"
    assert again.orders.next_id == 3
    assert again.orders.positions == {"strategy": {"AAPL": 10}, "anon": {"MSFT": -5}}
    again.orders.close()


def test_sync_orders_fsyncs_once_per_batch_before_the_acks(tmp_path, monkeypatch):
    """--sync-orders: the orders that arrived together are on disk (one fsync: group
    commit) before handle() returns the acks; without it nothing waits for the disk."""
    import os
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    log = logging.getLogger("test-sync")
    for sync, want in ((False, 0), (True, 2)):
        orders = OrderLog(tmp_path / f"orders-{sync}.jsonl", log, sync=sync)
        d = OrderDesk(Config(log_dir=str(tmp_path)), log, orders)
        batch = [frame(type="order", client_order_id=f"s-{sync}-{i}", side="BUY",
                       symbol="AAPL", qty=1, price=100.0) for i in range(10)]
        d.handle(batch[:7])
        d.handle(batch[7:])
        d.handle([b"junk"])  # nothing new to write: nothing to wait for
        assert orders.syncs == want and len(synced) == want
        orders.close()
    assert len((tmp_path / "orders-True.jsonl").read_text().splitlines()) == 10


def test_the_sync_orders_switch_takes_no_value():
    from engine.config.flags import add_arguments, from_args, parser_for
    parser = add_arguments(parser_for("t"))
    assert from_args(parser.parse_args(["--sync-orders"])).sync_orders is True
    assert from_args(parser.parse_args([])).sync_orders is False


def test_a_reader_of_a_log_being_written_takes_only_whole_records(tmp_path):
    """What the tests read orders.jsonl with while the OrderManager appends to it: a record
    whose newline is not written yet is left for the next read, never half-parsed."""
    from engine.testing import read_jsonl
    path = tmp_path / "orders.jsonl"
    assert read_jsonl(path) == []
    path.write_text('{"order_id":1}\n{"order_id":2', encoding="utf-8")
    assert read_jsonl(path) == [{"order_id": 1}]
    path.write_text('{"order_id":1}\n{"order_id":2}\n', encoding="utf-8")
    assert read_jsonl(path) == [{"order_id": 1}, {"order_id": 2}]
