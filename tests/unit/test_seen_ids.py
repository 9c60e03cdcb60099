"""The OrderManager's memory of the ids it logged is bounded (issue 27, point 5): a window of
the latest ids and a counter a prefix, the log on disk searched for an old resend. A resend,
however old, is still answered with its first order id and never logged twice."""
from __future__ import annotations

import logging
import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config.schema import Config
from engine.protocol import Ack, Order, decode_json
from engine.records.order_log import ORDERS_FILE, OrderLog, read_order_log
from engine.records.seen_ids import SeenIds, split_counter
from engine.trading.order_desk import OrderDesk

LOG = logging.getLogger("seen-test")


def frame(coid: str) -> bytes:
    return Order(client_order_id=coid, side="BUY", qty=10, symbol="AAPL",
                 price=100.0).encode()[:-1]


def test_an_id_ends_in_a_counter_or_has_none():
    assert split_counter("fast-3f9a1c-17") == ("fast-3f9a1c", 17)
    assert split_counter("anon-ab12cd.3-9") == ("anon-ab12cd.3", 9)
    for plain in ("abc", "-5", "x-", "x-1e3", "x-\u0661", "x-" + "9" * 19):
        assert split_counter(plain) is None


def test_the_window_and_the_marks_answer_without_the_disk_and_old_ids_with_it():
    on_disk = {}
    searched = []

    def find(coid):
        searched.append(coid)
        return on_disk.get(coid)
    seen = SeenIds(find, window=3)
    for n in range(1, 11):
        on_disk[f"s-ab-{n}"] = n
        seen.add(f"s-ab-{n}", n)
    assert len(seen) == 3 and seen.get("s-ab-9") == 9 and not searched  # the window
    assert seen.get("s-ab-11") is None and not searched  # past the mark: new, no search
    assert seen.get("s-ab-2") == 2 and searched == ["s-ab-2"]  # old: found on disk
    assert seen.get("other-1") is None  # a prefix never seen
    seen.add("plain-id", 11)  # no counter: the window only
    for n in range(12, 16):
        seen.add(f"t-{n}", n)
    assert seen.get("plain-id") is None
    seen.add("u-5", 16)
    seen.add("u-3", 17)  # counters that go down: no counter, the window only
    for n in range(18, 22):
        seen.add(f"v-{n}", n)
    assert seen.get("u-4") is None and "u-4" not in searched


def test_memory_stays_bounded_however_many_ids():
    seen = SeenIds(lambda coid: None, window=1000, prefixes=50)
    for n in range(60_000):
        seen.add(f"acct{n % 500}-run-{n}", n)
    assert len(seen.recent) == 1000 and len(seen.marks) <= 50 and len(seen.unordered) <= 50


def test_an_order_log_kept_for_hours_grows_no_memory_and_answers_any_resend(tmp_path):
    """Tens of thousands of orders: the log's memory after 40,000 is what it was after
    10,000 (it grew ~140 bytes an order for ever); a resend of the first is still a
    duplicate of order 1, on a restarted OrderManager too, and is logged once."""
    path = tmp_path / ORDERS_FILE
    log = OrderLog(path, LOG, window=500)
    desk = OrderDesk(Config(log_dir=str(tmp_path)), LOG, log)
    tracemalloc.start()
    try:
        sizes = []
        for n in range(1, 40_001):
            log.add(Order(client_order_id=f"strategy-ab12cd-{n}", side="BUY", qty=1,
                          symbol="AAPL", price=100.0), "strategy")
            if n % 1000 == 0:
                log.flush()
            if n in (10_000, 40_000):
                sizes.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert sizes[1] - sizes[0] < 200_000, sizes  # 30,000 more orders: < 7 bytes each
    replies, _ = desk.handle([frame("strategy-ab12cd-1"), frame("strategy-ab12cd-40001")])
    got = [Ack.from_dict(decode_json(r[:-1])) for r in replies]
    assert [(a.status, a.order_id) for a in got] == [("duplicate", 1), ("accepted", 40_001)]
    assert log.seen.searches == 1  # the old one only: a new id is never searched for
    log.close()
    again = OrderLog(path, LOG, window=500)
    assert again.seen.get("strategy-ab12cd-2") == 2
    assert again.seen.get("strategy-ab12cd-40002") is None
    again.close()
    coids = [r["client_order_id"] for r in read_order_log(path)]
    assert len(coids) == len(set(coids)) == 40_001


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a-x", "b-y", "plain", "c"]),
                          st.integers(min_value=0, max_value=40)), max_size=120))
def test_bounded_memory_answers_as_remembering_every_id_would(tmp_path_factory, ids):
    """Differential: for ids in any order (counters up, down, repeated, none), the bounded
    memory with a window of 4 answers every look-up as a dict of every id would, for ids
    with an ordered counter and for any id in its window."""
    path = tmp_path_factory.mktemp("seen") / ORDERS_FILE
    log = OrderLog(path, LOG, window=4)
    everything = {}
    for prefix, n in ids:
        coid = prefix if prefix in ("plain", "c") and n % 2 else f"{prefix}-{n}"
        want = everything.get(coid)
        got = log.seen.get(coid)
        ordered = split_counter(coid) is not None and \
            split_counter(coid)[0] not in log.seen.unordered
        if ordered or coid in log.seen.recent:
            assert got == want, (coid, got, want)
        else:  # out of the window, no counter in order: taken as new (documented)
            assert got is None or got == want
        if got is None and want is None:
            oid = log.add(Order(client_order_id=coid, side="BUY", qty=1, symbol="AAPL",
                                price=1.0), "")
            everything[coid] = oid
            log.flush()
    log.close()
