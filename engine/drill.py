"""Fault drill: try to break a live stack, and say whether it held.

    python -m engine.drill [--load-clients 50] [--load-orders 1000] [--keep-logs DIR]

Starts its own stack (its own free ports, shared-memory name and log folder, so it never
disturbs a desk that is running) and runs, in order:

1. gateway_restart      kill -9 the Gateway, start it again: OrderBook and Strategy reconnect
                        within 1 s of it listening, each outage logged once, prices flow.
2. orderbook_restart    kill -9 the OrderBook: the price book survives, the Strategy marks the
                        prices stale; the new OrderBook attaches to the same segment.
3. order_manager_restart  kill -9 the OrderManager right after an ack, mid-stream: the acked
                        order is on disk, the Strategy resends what was not acknowledged, every
                        acked order is logged exactly once and numbering goes on.
4. strategy_restart     kill -9 the Strategy: it recovers its positions from the OrderManager
                        and never sends an order for a position it already holds.
5. slow_clients         a price client and a confirmations listener that never read: each is
                        dropped, memory stays bounded, the others keep getting data on time.
6. bad_input            hostile bytes to every server and from a hostile Gateway to the
                        clients: everything stays up, valid frames between bad ones still
                        count, every rejection is counted.
7. load                 50 clients x 1,000 orders at once: exactly 50,000 logged and acked,
                        no duplicates, ids strictly increasing.

The scenario functions are what tests/integration/test_faults.py runs too.
"""
from __future__ import annotations

import json
import os
import random
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

from .config import Config, parser_for
from .gateway import BATCH_BYTES, run_gateway
from .net import free_ports
from .order_manager import ORDERS_FILE
from .protocol import Ack, FrameDecoder
from .shared_memory_utils import SharedPriceBook
from .signals import position_label
from .lifecycle import State
from .supervisor import LogLine, ProcessController, StatsUpdate

CRASHED, RUNNING = State.CRASHED, State.RUNNING


@dataclass
class Result:
    scenario: str
    passed: bool = False
    recovery_s: Optional[float] = None
    orders_acked: int = 0
    orders_logged: int = 0
    duplicates: int = 0
    bad_rejected: int = 0
    checks: List[str] = field(default_factory=list)   # failed checks, if any
    notes: List[str] = field(default_factory=list)

    def check(self, ok: bool, what: str) -> bool:
        if not ok:
            self.checks.append(what)
        return ok


class DrillError(AssertionError):
    pass


def drill_config(log_dir: str, **overrides) -> Config:
    price, news, order, confirm = free_ports(4)
    base = dict(price_port=price, news_port=news, order_port=order, confirm_port=confirm,
                shm_name=f"ipcdrill{os.getpid() % 100000}_{random.randrange(16**6):06x}",
                log_dir=log_dir, tick_interval=0.01, news_interval=0.1, short_window=3,
                long_window=8, bullish=55, bearish=45, client_buffer_cap=256 * 1024, seed=11)
    base.update(overrides)
    return Config(**base)


class Stack:
    """A live stack under a ProcessController, with its log lines kept for the checks."""

    def __init__(self, config: Config):
        self.config = config
        self.ctl = ProcessController(config)
        self.logs: List[LogLine] = []
        self.strategy_report_time = 0.0  # time.time() the Strategy stamped its last stats
        self.ctl.subscribe(self._on_event)

    def _on_event(self, ev) -> None:
        if isinstance(ev, LogLine):
            self.logs.append(ev)
        elif isinstance(ev, StatsUpdate) and ev.name == "strategy":
            self.strategy_report_time = ev.time

    # waiting ------------------------------------------------------------------------
    def wait(self, cond: Callable[[], object], timeout: float, what: str):
        end = time.monotonic() + timeout
        while True:
            self.ctl.poll(0.02)
            value = cond()
            if value:
                return value
            if time.monotonic() > end:
                raise DrillError(f"timed out after {timeout:.0f} s waiting for {what}")

    def state(self, name: str) -> str:
        return self.ctl.status(name).state

    def stats(self, name: str) -> dict:
        return self.ctl.status(name).stats

    def lines(self, name: str, text: str, since: int = 0) -> List[LogLine]:
        return [l for l in self.logs[since:] if l.name == name and text in l.text]

    def start(self) -> None:
        self.ctl.start_all()
        self.wait(lambda: all(self.state(n) == RUNNING for n in self.ctl.procs), 30,
                  "all four processes running")
        self.wait(lambda: self.stats("strategy").orders_acked >= 1, 60,
                  "the first acknowledged order")

    def strategy_acked(self) -> tuple:
        """(acks the Strategy has received in all its runs, the time.time() it counted them),
        from a report it makes after this call (it reports every 0.5 s), so that the orders
        logged up to that same time can be set against it. A Strategy that is not running
        has nothing newer to report: its last figures and now."""
        asked = time.time()
        if self.state("strategy") == RUNNING:
            end = time.monotonic() + 2.0
            while self.strategy_report_time < asked and time.monotonic() < end:
                self.ctl.poll(0.02)
        stamp = self.strategy_report_time if self.strategy_report_time >= asked else asked
        return self.ctl.totals("strategy").orders_acked, stamp

    def kill(self, name: str) -> None:
        self.ctl.kill(name)
        self.wait(lambda: self.state(name) == CRASHED, 10, f"{name} to die")

    def restart(self, name: str) -> None:
        self.ctl.start(name)
        self.wait(lambda: self.state(name) == RUNNING, 20, f"{name} running again")

    @property
    def orders_path(self) -> Path:
        return Path(self.config.log_dir) / ORDERS_FILE

    def orders(self) -> List[dict]:
        if not self.orders_path.exists():
            return []
        with self.orders_path.open(encoding="utf-8") as fh:
            return [json.loads(l) for l in fh if l.strip()]

    def healthy(self) -> bool:
        return all(self.state(n) == RUNNING for n in self.ctl.procs)

    def close(self) -> None:
        self.ctl.close()


# -- a small blocking order client -------------------------------------------------------
class OrderClient:
    def __init__(self, port: int, tag: str):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.dec = FrameDecoder()
        self.tag = tag
        self.n = 0
        self._frames: List[bytes] = []

    def order_frame(self, symbol="AAPL", side="BUY", qty=1, price=100.0) -> (str, bytes):
        self.n += 1
        coid = f"{self.tag}-{self.n}"
        return coid, json.dumps({"type": "order", "client_order_id": coid, "side": side,
                                 "symbol": symbol, "qty": qty, "price": price}).encode() + b"*"

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def acks(self, n: int, timeout: float = 30.0) -> List[Ack]:
        end = time.monotonic() + timeout
        while len(self._frames) < n:
            self.sock.settimeout(max(end - time.monotonic(), 0.01))
            data = self.sock.recv(1 << 16)
            if not data:
                raise DrillError("order manager closed the connection")
            self._frames += self.dec.feed(data)
        out, self._frames = self._frames[:n], self._frames[n:]
        return [Ack.decode(f) for f in out]

    def close(self) -> None:
        self.sock.close()


def duplicates_in(records: List[dict]) -> int:
    """How many log records repeat a client_order_id already logged."""
    coids = [x["client_order_id"] for x in records]
    return len(coids) - len(set(coids))


def _log_invariants(r: Result, records: List[dict]) -> None:
    ids = [x["order_id"] for x in records]
    r.duplicates = duplicates_in(records)
    r.check(r.duplicates == 0, "no order logged twice")
    r.check(ids == list(range(1, len(ids) + 1)), "order ids strictly increasing without gaps")


# -- scenarios ---------------------------------------------------------------------------
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
    before = stack.ctl.book.update_counter
    stack.wait(lambda: stack.ctl.book.update_counter > before + 20, 10, "prices flowing")
    r.check(r.recovery_s <= 1.0, f"reconnected within 1 s of listening ({r.recovery_s:.2f} s)")
    r.check(len(stack.lines("orderbook", "lost gateway prices", mark)) == 1,
            "orderbook logged the outage once")
    r.check(len(stack.lines("strategy", "lost gateway news", mark)) == 1,
            "strategy logged the outage once")
    r.check(stack.healthy(), "every process running")
    r.passed = not r.checks
    return r


def orderbook_restart(stack: Stack) -> Result:
    r = Result("orderbook_restart")
    mark = len(stack.logs)
    created = stack.ctl.book.created_ns
    stack.kill("orderbook")
    other = SharedPriceBook.attach(stack.config.shm_name)  # as any reader would
    survived = other.created_ns == created and other.read(stack.config.symbols[0]) is not None
    other.close()
    r.check(survived, "price book survives the OrderBook")
    stack.wait(lambda: stack.stats("strategy").stale, 10, "strategy to see stale prices")
    r.check(stack.state("strategy") == RUNNING, "strategy keeps running on the last prices")
    t0 = time.monotonic()
    stack.restart("orderbook")
    before = stack.ctl.book.update_counter
    stack.wait(lambda: stack.ctl.book.update_counter > before, 10, "prices flowing again")
    r.recovery_s = time.monotonic() - t0
    r.check(bool(stack.lines("orderbook", "attached to shared price book", mark)),
            "new OrderBook attached to the existing segment")
    r.check(stack.ctl.book.created_ns == created, "same segment")
    stack.wait(lambda: not stack.stats("strategy").stale, 10,
               "strategy to see fresh prices")
    r.check(stack.healthy(), "every process running")
    r.passed = not r.checks
    return r


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
    _log_invariants(r, records)
    logged = {x["client_order_id"] for x in records}
    r.check(all(c in logged for c in acked), "every acked drill order is in the log")
    r.orders_acked = len(acked)
    r.notes.append(f"{pending_while_down} strategy orders were waiting when the restart began, "
                   f"{resent} resent after it (more piled up meanwhile)")
    r.check(stack.healthy(), "every process running")
    r.passed = not r.checks
    return r


def account_positions(records: List[dict], account: str) -> Dict[str, List[int]]:
    """Running position per symbol, order by order, for one account."""
    paths: Dict[str, List[int]] = {}
    for x in records:
        if x.get("account") != account:
            continue
        path = paths.setdefault(x["symbol"], [0])
        path.append(path[-1] + (x["qty"] if x["side"] == "BUY" else -x["qty"]))
    return paths


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
    r.check(stack.healthy(), "every process running")
    r.passed = not r.checks
    return r


def slow_clients(stack: Stack) -> Result:
    r = Result("slow_clients")
    mark = len(stack.logs)
    cap = 256 * 1024
    # A Gateway of its own, ticking as fast as its loop turns, fills a stalled client fast.
    fast_cfg = stack.config.replace(
        price_port=free_ports(1)[0], news_port=free_ports(1)[0], tick_interval=0.00001,
        client_buffer_cap=cap, log_dir=str(Path(stack.config.log_dir) / "slow"),
        shm_name=stack.config.shm_name + "f")  # books of its own: the stack's stay as they are
    fast = ProcessController(fast_cfg, targets={"gateway": run_gateway})
    gaps: List[float] = []
    stop = threading.Event()
    try:
        fast.start("gateway")
        _wait_ctl(fast, lambda: fast.status("gateway").state == RUNNING, 20)
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", fast_cfg.price_port))
        reader = socket.create_connection(("127.0.0.1", fast_cfg.price_port))

        def read():
            reader.settimeout(1.0)
            last = time.monotonic()
            while not stop.is_set():
                try:
                    if not reader.recv(1 << 16):
                        return
                except socket.timeout:
                    pass
                now = time.monotonic()
                gaps.append(now - last)
                last = now
        t = threading.Thread(target=read, daemon=True)
        t.start()
        t0 = time.monotonic()
        _wait_ctl(fast, lambda: fast.status("gateway").stats.dropped_slow >= 1, 30)
        r.recovery_s = time.monotonic() - t0
        _wait_ctl(fast, lambda: False, 0.5)  # the reader keeps reading after the drop
        stop.set()
        t.join(3)
        gstats = fast.status("gateway").stats
        r.check(gstats.price_clients == 1, "the reading client is still served")
        # memory stays bounded: never more than the cap (plus the one send that passed it)
        # was queued for the stalled client
        peak = gstats.peak_backlog
        r.check(cap < peak <= cap + BATCH_BYTES,
                f"the stalled client's backlog stayed bounded: peak {peak:,} bytes for a cap "
                f"of {cap:,}")
        worst = max(gaps) if gaps else 99
        r.check(worst < 0.25, f"the reading client's ticks kept coming (worst gap "
                              f"{worst * 1000:.0f} ms)")
        r.notes.append(f"stalled price client dropped after {r.recovery_s:.1f} s with "
                       f"{peak:,} bytes queued (cap {cap // 1024} KiB); worst gap for the "
                       f"reader {worst * 1000:.0f} ms")
        stalled.close()
        reader.close()
    finally:
        stop.set()
        fast.close()
    # A stalled confirmations listener must not slow the OrderManager.
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
    r.check(stack.healthy(), "every process running")
    r.passed = not r.checks
    return r


def _wait_ctl(ctl: ProcessController, cond, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not cond():
        ctl.poll(0.02)
        if time.monotonic() > end:
            if timeout >= 1:
                raise DrillError(f"timed out after {timeout:.0f} s")
            return


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
    cfg = stack.config
    # 1. the OrderManager: hostile frames interleaved with valid orders
    before = stack.stats("order_manager").orders_rejected
    client = OrderClient(cfg.order_port, f"drill-bad{rng.randrange(1 << 20):x}")
    valid, stream, n_bad = [], b"", 0
    for i, bad in enumerate(HOSTILE_ORDERS + [bytes(rng.randrange(256) for _ in range(40))
                                               .replace(b"*", b"") or b"x" for _ in range(20)]):
        coid, frame = client.order_frame(symbol="GOOG", price=130.0 + i)
        valid.append(coid)
        stream += bad + b"*" + frame
        n_bad += 1
    client.send(stream + b"Z" * (cfg.max_frame + 10) + b"*")  # and one frame over the cap
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
    # 2. the Gateway's ports: garbage, endless bytes, a partial frame then a disconnect
    for port in (cfg.price_port, cfg.news_port, cfg.confirm_port):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(bytes(rng.randrange(256) for _ in range(5000)) + b"x" * 300_000)
        s.close()
    s = socket.create_connection(("127.0.0.1", cfg.order_port))
    s.sendall(b'{"type":"order","client_order_id":"partial')  # then hang up
    s.close()
    before_ticks = stack.ctl.book.update_counter
    stack.wait(lambda: stack.ctl.book.update_counter > before_ticks + 10, 10,
               "prices still flowing after garbage at the servers")
    # 3. a hostile Gateway: the OrderBook and the Strategy must reject and go on
    ob_bad = stack.stats("orderbook").bad_frames
    st_bad = stack.stats("strategy").bad_frames
    mark = len(stack.logs)
    stack.kill("gateway")
    price_chunks = [b"*".join(HOSTILE_PRICES + [b"AAPL,123.45"]) + b"*",
                    b"Q" * (cfg.max_frame + 100) + b"*MSFT,321.09*", b"TSLA,99"]  # partial
    # a valid sentiment after the bad ones, one the Strategy does not hold yet
    good_news = 78 if stack.ctl.signal_book.sentiment == 77 else 77
    news_chunks = [b"*".join(HOSTILE_NEWS + [str(good_news).encode()]) + b"*"]
    # bad price frames + the oversize one + the partial frame cut off by the disconnect
    expected_ob = len(HOSTILE_PRICES) + 2
    expected_st = len([n for n in HOSTILE_NEWS if n])  # an empty frame is skipped, not bad
    fake = _HostileGateway(cfg, price_chunks, news_chunks)
    try:
        stack.wait(lambda: stack.ctl.book.read("AAPL") == 123.45 and
                   stack.ctl.book.read("MSFT") == 321.09, 10, "valid frames from the fake")
        stack.wait(lambda: stack.stats("strategy").bad_frames >= st_bad + expected_st,
                   10, "the strategy's rejections")
        try:
            stack.wait(lambda: stack.ctl.signal_book.sentiment == good_news, 5,
                       "the valid sentiment after the bad ones")
        except DrillError:
            pass  # the check below says so
        r.check(stack.ctl.signal_book.sentiment == good_news,
                f"the valid sentiment {good_news} after the bad ones reached the Strategy "
                f"(it holds {stack.ctl.signal_book.sentiment})")
    finally:
        fake.close()
    stack.restart("gateway")
    before_ticks = stack.ctl.book.update_counter
    stack.wait(lambda: stack.ctl.book.update_counter > before_ticks + 10, 10,
               "real prices again")
    try:  # the partial frame is counted at the reconnect; stats come every 0.5 s
        stack.wait(lambda: stack.stats("orderbook").bad_frames - ob_bad >= expected_ob, 5,
                   "the orderbook's count")
    except DrillError:
        pass  # the exact check below says what was counted
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
    r.check(stack.healthy(), "every process running")
    r.passed = not r.checks
    return r


class _HostileGateway:
    """Listens on the Gateway's ports and sends the given chunks to whoever connects."""

    def __init__(self, cfg: Config, price_chunks, news_chunks):
        self.socks, self.conns, self.threads = [], [], []
        for port, chunks in ((cfg.price_port, price_chunks), (cfg.news_port, news_chunks)):
            srv = socket.socket()
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.bind(("127.0.0.1", port))
            srv.listen()
            srv.settimeout(10)
            self.socks.append(srv)
            t = threading.Thread(target=self._serve, args=(srv, chunks), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve(self, srv, chunks):
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        self.conns.append(conn)
        for c in chunks:
            conn.sendall(c)

    def close(self):
        for s in self.socks + self.conns:
            s.close()
        for t in self.threads:
            t.join(2)


def load(stack: Stack, clients: int = 50, per_client: int = 1000) -> Result:
    r = Result("load")
    tag = f"drill-load{random.randrange(1 << 20):x}"
    results: List[Optional[List[Ack]]] = [None] * clients
    errors: List[str] = []
    conns = [OrderClient(stack.config.order_port, f"{tag}c{k}") for k in range(clients)]
    batches = [b"".join(c.order_frame(symbol="AMZN", side="SELL" if i % 2 else "BUY",
                                      qty=1 + i % 7, price=140.0 + i % 10)[1]
                        for i in range(per_client)) for c in conns]
    go = threading.Event()

    def run(k):
        try:
            go.wait()
            conns[k].send(batches[k])
            results[k] = conns[k].acks(per_client, timeout=120)
        except Exception as exc:  # reported, not raised: the check below fails
            errors.append(f"client {k}: {exc}")

    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    go.set()
    for t in threads:
        t.join(180)
    elapsed = time.monotonic() - t0
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
    r.check(stack.healthy(), "every process running")
    r.passed = not r.checks
    return r


SCENARIOS = [("gateway_restart", gateway_restart), ("orderbook_restart", orderbook_restart),
             ("order_manager_restart", order_manager_restart),
             ("strategy_restart", strategy_restart), ("slow_clients", slow_clients),
             ("bad_input", bad_input), ("load", load)]


def run_scenario(stack: Stack, name: str, fn: Callable, *args) -> Result:
    """One scenario, with the columns every scenario shares filled in the same way."""
    acked0, since = stack.strategy_acked()
    try:
        r = fn(stack, *args)
    except (DrillError, OSError, ValueError) as exc:
        r = Result(name, checks=[f"{type(exc).__name__}: {exc}"])
    # acks the Strategy and the drill's own clients received, and orders logged, over one
    # window: from the Strategy's report before the scenario to its report after it (the log
    # stamps each order with the same clock), so that the two columns differ only by orders
    # in flight at either edge, or whose ack a kill -9 lost
    acked1, until = stack.strategy_acked()
    r.orders_acked += acked1 - acked0
    records = stack.orders()
    r.orders_logged = sum(since < x["time"] <= until for x in records)
    # the whole log after every scenario, not only after the ones about orders
    r.duplicates = duplicates_in(records)
    if not r.check(r.duplicates == 0, "no order logged twice"):
        r.passed = False
    return r


def format_table(results: List[Result]) -> str:
    head = ("scenario", "recovery", "orders acked", "orders logged", "duplicates",
            "bad frames rejected", "result")
    rows = [head]
    for r in results:
        rows.append((r.scenario, "-" if r.recovery_s is None else f"{r.recovery_s:.2f} s",
                     str(r.orders_acked), str(r.orders_logged), str(r.duplicates),
                     str(r.bad_rejected), "passed" if r.passed else "FAILED"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def run_drill(config: Config, only: Optional[List[str]] = None, load_clients: int = 50,
              load_orders: int = 1000, out=sys.stdout) -> List[Result]:
    stack = Stack(config)
    results: List[Result] = []
    try:
        print(f"starting a stack on ports {config.price_port}-{config.confirm_port}, "
              f"logs in {config.log_dir}", file=out, flush=True)
        stack.start()
        for name, fn in SCENARIOS:
            if only and name not in only:
                continue
            print(f"- {name} ...", file=out, flush=True)
            t0 = time.monotonic()
            args = (load_clients, load_orders) if fn is load else ()
            r = run_scenario(stack, name, fn, *args)
            results.append(r)
            print(f"  {'passed' if r.passed else 'FAILED'} in {time.monotonic() - t0:.1f} s"
                  + "".join(f"\n  note: {n}" for n in r.notes)
                  + "".join(f"\n  failed check: {c}" for c in r.checks), file=out, flush=True)
    finally:
        stack.close()
    return results


def main(argv=None) -> int:
    p = parser_for("python -m engine.drill", __doc__.split("\n\n")[0])
    p.add_argument("--only", default=None, help="comma-separated scenario names")
    p.add_argument("--load-clients", type=int, default=50)
    p.add_argument("--load-orders", type=int, default=1000, help="orders per load client")
    p.add_argument("--keep-logs", default=None, metavar="DIR",
                   help="write the drill's logs here (default: a temporary folder)")
    ns = p.parse_args(argv)
    tmp = None
    if ns.keep_logs:
        log_dir = ns.keep_logs
    else:
        tmp = tempfile.TemporaryDirectory(prefix="ipcdesk-drill-")
        log_dir = tmp.name
    try:
        results = run_drill(drill_config(log_dir), ns.only.split(",") if ns.only else None,
                            ns.load_clients, ns.load_orders)
    finally:
        if tmp:
            tmp.cleanup()
    print()
    print(format_table(results))
    ok = results and all(r.passed for r in results)
    print(f"\n{sum(r.passed for r in results)} passed, {sum(not r.passed for r in results)} "
          f"failed")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
