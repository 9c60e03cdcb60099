"""The OrderManager handles what one read brought as a batch (validated, numbered, logged with
one flush, acknowledged): differential test against the same frames handled one by one, on
random input with bad orders, duplicates, other teams' shapes and positions requests among
them. Acks, log lines, confirmations and printed lines must be exactly the same (issue 27,
point 4)."""
from __future__ import annotations

import json
import logging

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config.schema import Config
from engine.protocol import Order
from engine.records.order_log import ORDERS_FILE, OrderLog
from engine.trading.order_desk import OrderDesk

LOG = logging.getLogger("batch-test")


def good(coid, side, qty, symbol, price) -> bytes:
    return Order(client_order_id=coid, side=side, qty=qty, symbol=symbol,
                 price=price).encode()[:-1]


frames = st.one_of(
    st.builds(good, st.sampled_from(["s-ab-1", "s-ab-2", "s-ab-3", "t-cd-1", "t-cd-2"]),
              st.sampled_from(["BUY", "SELL"]), st.integers(1, 50),
              st.sampled_from(["AAPL", "MSFT", "ZZZZ"]), st.floats(1, 500).map(lambda p:
                                                                                round(p, 2))),
    st.builds(lambda s, q, p: json.dumps({"side": s, "symbol": "GOOG", "quantity": q,
                                          "price": p}).encode(),
              st.sampled_from(["buy", "SELL", "HOLD"]), st.integers(-1, 20),
              st.floats(0, 200).map(lambda p: round(p, 2))),       # the bare assignment
    st.just(b'{"type":"positions","account":"s"}'),
    st.just(b"AAPL,BUY,10,172.5"),                                  # another team's CSV
    st.just(b'{"sym":"MSFT","side":"SELL","qty":3,"px":325.1}'),    # another team's keys
    st.binary(max_size=30),                                         # garbage
    st.just(b'{"side":"BUY"'),                                      # cut short
)


def run(tmp, batches, peer: int = 1):
    log = OrderLog(tmp / ORDERS_FILE, LOG)
    desk = OrderDesk(Config(log_dir=str(tmp)), LOG, log)
    desk._run = "run123"  # (the ids given to bare orders carry a random token a run)
    replies, confirms, printed = [], [], []
    try:
        for batch in batches:
            r, accepted = desk.handle(batch, peer)
            replies += r
            c, p = desk.announce(accepted)
            confirms += c
            printed += p
    finally:
        log.close()
    lines = [{k: v for k, v in json.loads(raw).items() if k != "time"}
             for raw in (tmp / ORDERS_FILE).read_bytes().splitlines()]
    return replies, confirms, printed, lines, (desk.accepted, desk.duplicates,
                                               desk.rejections.total)


@settings(max_examples=80, deadline=None)
@given(st.lists(frames, max_size=40), st.lists(st.integers(1, 8), max_size=12))
def test_a_batch_gives_exactly_what_one_by_one_gives(tmp_path_factory, items, cuts):
    batches, i = [], 0
    for n in cuts + [len(items)]:
        if i < len(items):
            batches.append(items[i:i + n])
            i += n
    one = run(tmp_path_factory.mktemp("one"), [[f] for f in items])
    together = run(tmp_path_factory.mktemp("batch"), batches)
    assert together == one
