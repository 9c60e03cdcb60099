"""The drill's first seven scenarios: each takes the live Stack, tries to break it in one way and
returns a Result whose checks say what held. (The table and the order of play are in
tools/drill/__init__.py.)

Long: one function a scenario, in the order the drill plays them, each read top to bottom as
the fault it is; what they share is in stack.py."""
from __future__ import annotations

import random
import socket
import threading
import time
from pathlib import Path
from typing import List

from engine.control.controller import ProcessController
from engine.control.lifecycle import State
from engine.control.roster import Roster
from engine.processes.gateway import BATCH_BYTES, run_gateway
from engine.shm.price_book import SharedPriceBook
from engine.testing import free_ports, wait_until
from engine.trading.signals import position_label

from .stack import (HostileGateway, OrderClient, Result, Stack, account_positions, all_at_once,
                    duplicates_in, log_invariants)

RUNNING, CRASHED = State.RUNNING, State.CRASHED


# -- a process killed and started again -----------------------------------------------------
def gateway_restart(stack: Stack) -> Result:
    r = Result("gateway_restart")
    mark = len(stack.logs)
    stack.kill("gateway")
    stack.wait(lambda: stack.lines("orderbook", "lost gateway prices", mark) and
               stack.lines("strategy", "lost gateway news", mark), 10, "clients to notice")
    stack.ctl.poll(0.3)  # a few retries happen while the Gateway is down
    stack.restart("gateway")
    listening = stack.wait(lambda: stack.lines("gateway", "news server listening", mark), 10,
                           "gateway listening")[0].time
    ob = stack.wait(lambda: stack.lines("orderbook", "reconnected to gateway prices", mark), 10,
                    "orderbook reconnect")[0].time
    st = stack.wait(lambda: stack.lines("strategy", "reconnected to gateway news", mark), 10,
                    "strategy reconnect")[0].time
    r.recovery_s = max(ob, st) - listening
    before = stack.ctl.memory.book.update_counter
    stack.wait(lambda: stack.ctl.memory.book.update_counter > before + 20, 10, "prices flowing")
    r.check(r.recovery_s <= 1.0, f"reconnected within 1 s of listening ({r.recovery_s:.2f} s)")
    r.check(len(stack.lines("orderbook", "lost gateway prices", mark)) == 1,
            "orderbook logged the outage once")
    r.check(len(stack.lines("strategy", "lost gateway news", mark)) == 1,
            "strategy logged the outage once")
    return r.finish(stack)


def orderbook_restart(stack: Stack) -> Result:
    r = Result("orderbook_restart")
    mark = len(stack.logs)
    created = stack.ctl.memory.book.created_ns
    stack.kill("orderbook")
    other = SharedPriceBook.attach(stack.config.shm_name)  # as any reader would
    survived = other.created_ns == created and other.read(stack.config.symbols[0]) is not None
    other.close()
    r.check(survived, "price book survives the OrderBook")
    stack.wait(lambda: stack.stats("strategy").stale, 10, "strategy to see stale prices")
    r.check(stack.state("strategy") == RUNNING, "strategy keeps running on the last prices")
    t0 = time.monotonic()
    stack.restart("orderbook")
    before = stack.ctl.memory.book.update_counter
    stack.wait(lambda: stack.ctl.memory.book.update_counter > before, 10, "prices flowing again")
    r.recovery_s = time.monotonic() - t0
    r.check(bool(stack.lines("orderbook", "attached to shared price book", mark)),
            "new OrderBook attached to the existing segment")
    r.check(stack.ctl.memory.book.created_ns == created, "same segment")
    stack.wait(lambda: not stack.stats("strategy").stale, 10,
               "strategy to see fresh prices")
    return r.finish(stack)


def order_manager_restart(stack: Stack) -> Result:
    r = Result("order_manager_restart")
    client = OrderClient(stack.config.order_port, f"drill-om{random.randrange(1 << 20):x}")
    acked: List[str] = []
    try:
        for i in range(20):
            coid, frame = client.order_frame(price=100.0 + i)
            client.send(frame)
            ack = client.acks(1)[0]
            if ack.status == "accepted":
                acked.append(coid)
        # one more, and kill the OrderManager the moment its ack arrives
        coid, frame = client.order_frame(price=200.0)
        client.send(frame)
        ack = client.acks(1)[0]
        stack.ctl.kill("order_manager")
        acked.append(coid)
    finally:
        client.close()
    stack.wait(lambda: stack.state("order_manager") == CRASHED, 10, "order manager dead")
    r.check(any(x["client_order_id"] == coid for x in stack.orders()),
            "the order acked right before the kill is on disk")
    # the Strategy keeps trading meanwhile: its orders pile up unacknowledged (the drill's
    # market is eager: a few a second)
    stack.wait(lambda: stack.stats("strategy").orders_pending >= 2, 20,
               "strategy orders waiting while the order manager is down")
    resent_before = stack.stats("strategy").orders_resent
    pending_while_down = stack.stats("strategy").orders_pending
    t0 = time.monotonic()
    stack.restart("order_manager")
    stack.wait(lambda: stack.stats("strategy").orders_pending == 0
               and stack.stats("strategy").orders_acked ==
               stack.stats("strategy").orders_sent, 20,
               "strategy's orders all acknowledged")
    r.recovery_s = time.monotonic() - t0
    resent = stack.stats("strategy").orders_resent - resent_before
    r.check(resent >= pending_while_down,
            f"the {pending_while_down} orders waiting were resent after the restart "
            f"(resent {resent})")
    records = stack.orders()
    log_invariants(r, records)
    r.check(any(x["order_id"] == ack.order_id + 1 for x in records),
            f"the session's numbering went on after the kill (order {ack.order_id + 1} "
            f"follows {ack.order_id}, from the session's order log)")
    logged = {x["client_order_id"] for x in records}
    r.check(all(c in logged for c in acked), "every acked drill order is in the log")
    r.orders_acked = len(acked)
    r.notes.append(f"{pending_while_down} strategy orders were waiting when the restart began, "
                   f"{resent} resent after it (more piled up meanwhile)")
    return r.finish(stack)


def strategy_restart(stack: Stack) -> Result:
    r = Result("strategy_restart")
    mark = len(stack.logs)
    stack.wait(lambda: any(stack.stats("strategy").positions.values()), 30,
               "the strategy to hold a position")
    stack.kill("strategy")
    held = {s: p[-1] for s, p in account_positions(stack.orders(), "strategy").items()}
    t0 = time.monotonic()
    stack.restart("strategy")
    line = stack.wait(lambda: stack.lines("strategy", "positions recovered", mark), 10,
                      "positions recovered")[0].text
    r.recovery_s = time.monotonic() - t0
    said = set(line.split(": ", 1)[1].split(", ")) - {"all flat"}
    want = {f"{s} {position_label(q)} {q:+d}" for s, q in held.items() if q}
    r.check(said == want, f"recovered positions ({line}) equal the log's {held}")
    logged_before = len(stack.orders())
    stack.wait(lambda: len(stack.orders()) >= logged_before + 3, 30, "trading again")
    qty = stack.config.qty
    paths = account_positions(stack.orders(), "strategy")
    r.check(all(-qty <= v <= qty for p in paths.values() for v in p),
            "no order for a position already held (positions stay within +-qty)")
    return r.finish(stack)


# -- clients that do not read ----------------------------------------------------------------
def slow_clients(stack: Stack) -> Result:
    r = Result("slow_clients")
    mark = len(stack.logs)
    _stalled_price_client(stack, r)
    _stalled_confirmations_listener(stack, r, mark)
    return r.finish(stack)


def _stalled_price_client(stack: Stack, r: Result, cap: int = 256 * 1024) -> None:
    """A Gateway of its own, ticking as fast as its loop turns, fills a stalled client fast:
    it is dropped at its cap while another client's ticks keep coming."""
    fast_cfg = stack.config.replace(
        price_port=free_ports(1)[0], news_port=free_ports(1)[0], tick_interval=0.00001,
        client_buffer_cap=cap, log_dir=str(Path(stack.config.log_dir) / "slow"),
        shm_name=stack.config.shm_name + "f")  # books of its own: the stack's stay as they are
    fast = ProcessController(fast_cfg, roster=Roster.from_targets({"gateway": run_gateway}))
    reader = None
    try:
        fast.start("gateway")
        wait_until(lambda: fast.state("gateway") == RUNNING, 20, "a fast gateway", fast.poll)
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", fast_cfg.price_port))
        reader = _GapReader(fast_cfg.price_port)
        t0 = time.monotonic()
        wait_until(lambda: fast.status("gateway").stats.dropped_slow >= 1, 30,
                   "the stalled client to be dropped", fast.poll)
        r.recovery_s = time.monotonic() - t0
        fast.wait_until(lambda: False, 0.5)  # the reader keeps reading after the drop
        worst = reader.stop()
        gstats = fast.status("gateway").stats
        r.check(gstats.price_clients == 1, "the reading client is still served")
        # memory stays bounded: never more than the cap (plus the one send that passed it)
        # was queued for the stalled client
        peak = gstats.peak_backlog
        r.check(cap < peak <= cap + BATCH_BYTES,
                f"the stalled client's backlog stayed bounded: peak {peak:,} bytes for a cap "
                f"of {cap:,}")
        r.check(worst < 0.25, f"the reading client's ticks kept coming (worst gap "
                              f"{worst * 1000:.0f} ms)")
        r.notes.append(f"stalled price client dropped after {r.recovery_s:.1f} s with "
                       f"{peak:,} bytes queued (cap {cap // 1024} KiB); worst gap for the "
                       f"reader {worst * 1000:.0f} ms")
        stalled.close()
    finally:
        if reader is not None:
            reader.stop()
        fast.close()


class _GapReader:
    """Reads a price port on a thread of its own, keeping the longest gap between reads."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(1.0)
        self.gaps: List[float] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        last = time.monotonic()
        while not self.done.is_set():
            try:
                if not self.sock.recv(1 << 16):
                    return
            except socket.timeout:
                pass
            now = time.monotonic()
            self.gaps.append(now - last)
            last = now

    def stop(self) -> float:
        """Stop reading; the worst gap in seconds."""
        self.done.set()
        self.thread.join(3)
        self.sock.close()
        return max(self.gaps) if self.gaps else 99.0


def _stalled_confirmations_listener(stack: Stack, r: Result, mark: int) -> None:
    """A stalled confirmations listener must not slow the OrderManager: dropped at its cap."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    listener.connect(("127.0.0.1", stack.config.confirm_port))
    client = OrderClient(stack.config.order_port, f"drill-slow{random.randrange(1 << 20):x}")
    try:
        n = 8000
        frames = b"".join(client.order_frame(symbol="MSFT", price=300.0)[1] for _ in range(n))
        t0 = time.monotonic()
        client.send(frames)
        acks = client.acks(n, timeout=60)
        elapsed = time.monotonic() - t0
        r.orders_acked = sum(a.status == "accepted" for a in acks)
        r.check(r.orders_acked == n, f"all {n} orders acknowledged")
        stack.wait(lambda: stack.lines("order_manager", "too slow", mark), 10,
                   "the stalled listener to be dropped")
        om = stack.stats("order_manager")
        om_peak, biggest = om.peak_backlog, om.largest_send
        r.check(om_peak <= stack.config.client_buffer_cap + biggest,
                f"the stalled listener's backlog stayed bounded: peak {om_peak:,} bytes for a "
                f"cap of {stack.config.client_buffer_cap:,} (+ one send, at most "
                f"{biggest:,})")
        r.notes.append(f"{n} orders acked in {elapsed:.2f} s with a stalled listener")
    finally:
        client.close()
        listener.close()


# -- hostile input ------------------------------------------------------------------------
HOSTILE_ORDERS = [
    b"\x00\xff\xfe garbage", b"{", b"[]", b"null", b'{"type":"order"}',
    b'{"type":"order","client_order_id":"x","side":"HOLD","symbol":"AAPL","qty":1,"price":1}',
    b'{"type":"order","client_order_id":"x","side":"BUY","symbol":"AAPL","qty":-1,"price":1}',
    b'{"type":"order","client_order_id":"x","side":"BUY","symbol":"AAPL","qty":1.5,"price":1}',
    b'{"type":"order","client_order_id":"x","side":"BUY","symbol":"AAPL","qty":"1","price":1}',
    b'{"type":"order","client_order_id":"x","side":"BUY","symbol":"ZZZZ","qty":1,"price":1}',
    b'{"type":"order","client_order_id":"x","side":"BUY","symbol":"AAPL","qty":1,"price":NaN}',
    b'{"type":"order","client_order_id":"x","side":"BUY","symbol":"AAPL","qty":1,"price":-5}',
    b'{"type":"order","client_order_id":"x","side":"BUY","symbol":"AAPL","qty":1,"price":0}',
    b'{"a":' * 100 + b"1" + b"}" * 100,
    b'{"type":"order","client_order_id":"x\\u002a","side":"BUY","symbol":"AAPL","qty":1,"price":1}',
]
HOSTILE_PRICES = [b"\xff\xfe", b"AAPL", b"AAPL,", b",1.0", b"AAPL,abc", b"AAPL,nan", b"AAPL,inf",
                  b"AAPL,-1", b"AAPL,0", b"ZZZZ,10.00", b"aapl,10.00", b"AAPL,1e999"]
HOSTILE_NEWS = [b"-1", b"101", b"abc", b"7.5", b"", b"\xff"]


def bad_input(stack: Stack, seed: int = 5) -> Result:
    r = Result("bad_input")
    rng = random.Random(seed)
    _hostile_orders(stack, r, rng)
    _garbage_at_the_servers(stack, rng)
    _hostile_gateway(stack, r)
    return r.finish(stack)


def _hostile_orders(stack: Stack, r: Result, rng: random.Random) -> None:
    """The OrderManager: hostile frames interleaved with valid orders, and one over the cap."""
    cfg = stack.config
    before = stack.stats("order_manager").orders_rejected
    client = OrderClient(cfg.order_port, f"drill-bad{rng.randrange(1 << 20):x}")
    valid, stream, n_bad = [], b"", 0
    for i, bad in enumerate(HOSTILE_ORDERS + [bytes(rng.randrange(256) for _ in range(40))
                                               .replace(b"*", b"") or b"x" for _ in range(20)]):
        coid, frame = client.order_frame(symbol="GOOG", price=130.0 + i)
        valid.append(coid)
        stream += bad + b"*" + frame
        n_bad += 1
    client.send(stream + b"Z" * (cfg.max_frame + 10) + b"*")
    acks = client.acks(2 * n_bad)
    client.close()
    accepted = [a.client_order_id for a in acks if a.status == "accepted"]
    r.orders_acked = len(accepted)
    r.check(accepted == valid, "every valid order between bad ones accepted, in order")
    r.check(sum(a.status == "rejected" for a in acks) == n_bad,
            "every bad order rejected with an ack")
    stack.wait(lambda: stack.stats("order_manager").orders_rejected >= before + n_bad,
               5, "rejections counted")
    r.bad_rejected += stack.stats("order_manager").orders_rejected - before
    logged = {x["client_order_id"] for x in stack.orders()}
    r.check(all(c in logged for c in valid), "valid orders logged")


def _garbage_at_the_servers(stack: Stack, rng: random.Random) -> None:
    """Every server's port: garbage, endless bytes, a partial frame then a hang-up."""
    cfg = stack.config
    for port in (cfg.price_port, cfg.news_port, cfg.confirm_port):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(bytes(rng.randrange(256) for _ in range(5000)) + b"x" * 300_000)
        s.close()
    s = socket.create_connection(("127.0.0.1", cfg.order_port))
    s.sendall(b'{"type":"order","client_order_id":"partial')  # then hang up
    s.close()
    before_ticks = stack.ctl.memory.book.update_counter
    stack.wait(lambda: stack.ctl.memory.book.update_counter > before_ticks + 10, 10,
               "prices still flowing after garbage at the servers")


def _hostile_gateway(stack: Stack, r: Result) -> None:
    """A hostile Gateway in the real one's place: the OrderBook and the Strategy reject each
    bad frame, count it, log why, and take the valid frames among them."""
    cfg = stack.config
    ob_bad = stack.stats("orderbook").bad_frames
    st_bad = stack.stats("strategy").bad_frames
    mark = len(stack.logs)
    stack.kill("gateway")
    price_chunks = [b"*".join(HOSTILE_PRICES + [b"AAPL,123.45"]) + b"*",
                    b"Q" * (cfg.max_frame + 100) + b"*MSFT,321.09*", b"TSLA,99"]  # partial
    # a valid sentiment after the bad ones, one the Strategy does not hold yet
    good_news = 78 if stack.ctl.memory.signal_book.sentiment == 77 else 77
    news_chunks = [b"*".join(HOSTILE_NEWS + [str(good_news).encode()]) + b"*"]
    # bad price frames + the oversize one + the partial frame cut off by the disconnect
    expected_ob = len(HOSTILE_PRICES) + 2
    expected_st = len([n for n in HOSTILE_NEWS if n])  # an empty frame is skipped, not bad
    fake = HostileGateway(cfg, price_chunks, news_chunks)
    try:
        stack.wait(lambda: stack.ctl.memory.book.read("AAPL") == 123.45 and
                   stack.ctl.memory.book.read("MSFT") == 321.09, 10, "valid frames from the fake")
        stack.wait(lambda: stack.stats("strategy").bad_frames >= st_bad + expected_st,
                   10, "the strategy's rejections")
        _settle(stack, lambda: stack.ctl.memory.signal_book.sentiment == good_news, 5)
        r.check(stack.ctl.memory.signal_book.sentiment == good_news,
                f"the valid sentiment {good_news} after the bad ones reached the Strategy "
                f"(it holds {stack.ctl.memory.signal_book.sentiment})")
    finally:
        fake.close()
    stack.restart("gateway")
    before_ticks = stack.ctl.memory.book.update_counter
    stack.wait(lambda: stack.ctl.memory.book.update_counter > before_ticks + 10, 10,
               "real prices again")
    # the partial frame is counted at the reconnect; stats come every 0.5 s
    _settle(stack, lambda: stack.stats("orderbook").bad_frames - ob_bad >= expected_ob, 5)
    got_ob = stack.stats("orderbook").bad_frames - ob_bad
    got_st = stack.stats("strategy").bad_frames - st_bad
    r.check(got_ob == expected_ob,
            f"orderbook rejected exactly {expected_ob} bad price frames (got {got_ob})")
    r.check(got_st == expected_st,
            f"strategy rejected exactly {expected_st} bad sentiment frames (got {got_st})")
    r.check(bool(stack.lines("orderbook", "rejected price frame", mark)) and
            bool(stack.lines("strategy", "rejected frame", mark)),
            "rejections logged with a reason")
    r.bad_rejected += got_ob + got_st


def _settle(stack: Stack, cond, timeout: float) -> None:
    """Give cond a while to come true; an exact check after this says what it found."""
    stack.ctl.wait_until(cond, timeout)


# -- load ---------------------------------------------------------------------------------
def load(stack: Stack, clients: int = 50, per_client: int = 1000) -> Result:
    r = Result("load")
    tag = f"drill-load{random.randrange(1 << 20):x}"
    conns = [OrderClient(stack.config.order_port, f"{tag}c{k}") for k in range(clients)]
    batches = [b"".join(c.order_frame(symbol="AMZN", side="SELL" if i % 2 else "BUY",
                                      qty=1 + i % 7, price=140.0 + i % 10)[1]
                        for i in range(per_client)) for c in conns]
    elapsed, results, errors = all_at_once(conns, batches, per_client)
    for c in conns:
        c.close()
    acks = [a for res in results if res for a in res]
    total = clients * per_client
    r.orders_acked = sum(a.status == "accepted" for a in acks)
    r.check(not errors, "; ".join(errors[:3]))
    r.check(r.orders_acked == total, f"all {total} acknowledged ({r.orders_acked})")
    mine = [x for x in stack.orders() if x["client_order_id"].startswith(tag)]
    ids = [x["order_id"] for x in mine]
    r.orders_logged = len(mine)
    r.duplicates = duplicates_in(mine)
    r.check(len(mine) == total, f"exactly {total} logged ({len(mine)})")
    r.check(r.duplicates == 0, "no duplicates")
    r.check(all(a < b for a, b in zip(ids, ids[1:])), "ids strictly increasing")
    r.check(sorted(a.order_id for a in acks) == sorted(ids), "acked ids are the logged ids")
    r.recovery_s = None
    r.notes.append(f"{total} orders from {clients} clients in {elapsed:.2f} s "
                   f"({total / elapsed:,.0f} orders/s)")
    return r.finish(stack)


SCENARIOS = [("gateway_restart", gateway_restart), ("orderbook_restart", orderbook_restart),
             ("order_manager_restart", order_manager_restart),
             ("strategy_restart", strategy_restart), ("slow_clients", slow_clients),
             ("bad_input", bad_input), ("load", load)]
# (tools/drill/__init__.py adds the limits of tools/drill/limits.py)


