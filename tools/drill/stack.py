"""The drill's live stack and the tools its scenarios use: a Stack under a ProcessController
with its log lines kept, a blocking order client, a hostile Gateway, and the checks every
scenario shares."""
from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

from engine.config.schema import Config
from engine.control.controller import ProcessController
from engine.control.events import LogLine, StatsUpdate
from engine.control.lifecycle import State
from engine.measure.stats import Stats
from engine.protocol import Ack, FrameDecoder, auth_frame, is_hello
from engine.records.order_log import ORDERS_FILE
from engine.testing import stack_config, wait_until


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
    skipped: bool = False  # what it needs is not on this machine (its note says what)

    def check(self, ok: bool, what: str) -> bool:
        if not ok:
            self.checks.append(what)
        return ok

    def finish(self, stack) -> "Result":
        """Every scenario ends so: the whole stack still running, and passed when no check
        failed."""
        self.check(stack.healthy(), "every process running")
        self.passed = not self.checks
        return self


class DrillError(AssertionError):
    """A check of the drill could not even be made (a connection closed on it)."""


def drill_config(log_dir: str, **overrides) -> Config:
    """A stack of the drill's own: free ports, its own shared-memory name, a fast, eager
    market (orders several times a second) and small per-client caps."""
    base = dict(tick_interval=0.01, news_interval=0.1, short_window=3, long_window=8,
                bullish=55, bearish=45, client_buffer_cap=256 * 1024, seed=11)
    base.update(overrides)
    return stack_config(log_dir, shm_prefix="ipcdrill", **base)


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
        """cond()'s first true value, the controller polled meanwhile; WaitTimeout after
        `timeout` seconds."""
        return wait_until(cond, timeout, what, pump=self.ctl.poll)

    def state(self, name: str) -> State:
        return self.ctl.status(name).state

    def stats(self, name: str) -> Stats:
        return self.ctl.status(name).stats

    def lines(self, name: str, text: str, since: int = 0) -> List[LogLine]:
        return [l for l in self.logs[since:] if l.name == name and text in l.text]

    def start(self) -> None:
        self.ctl.start_all()
        self.wait(lambda: all(self.state(n) == State.RUNNING for n in self.ctl.procs), 30,
                  "all four processes running")
        self.wait(lambda: self.stats("strategy").orders_acked >= 1, 60,
                  "the first acknowledged order")

    def strategy_acked(self) -> tuple:
        """(acks the Strategy has received in all its runs, the time.time() it counted them),
        from a report it makes after this call (it reports every 0.5 s), so that the orders
        logged up to that same time can be set against it. A Strategy that is not running
        has nothing newer to report: its last figures and now."""
        asked = time.time()
        if self.state("strategy") == State.RUNNING:
            end = time.monotonic() + 2.0
            while self.strategy_report_time < asked and time.monotonic() < end:
                self.ctl.poll(0.02)
        stamp = self.strategy_report_time if self.strategy_report_time >= asked else asked
        return self.ctl.totals("strategy").orders_acked, stamp

    def kill(self, name: str) -> None:
        self.ctl.kill(name)
        self.wait(lambda: self.state(name) == State.CRASHED, 10, f"{name} to die")

    def restart(self, name: str) -> None:
        self.ctl.start(name)
        self.wait(lambda: self.state(name) == State.RUNNING, 20, f"{name} running again")

    @property
    def orders_path(self) -> Path:
        return Path(self.config.log_dir) / ORDERS_FILE

    def orders(self) -> List[dict]:
        if not self.orders_path.exists():
            return []
        with self.orders_path.open(encoding="utf-8") as fh:
            return [json.loads(l) for l in fh if l.strip()]

    def healthy(self) -> bool:
        return all(self.state(n) == State.RUNNING for n in self.ctl.procs)

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

    def secured(self, context=None, token: Optional[str] = None) -> "OrderClient":
        """The same client speaking TLS with `context` (for 127.0.0.1), then giving `token`
        first, as a client of a server that asks for them does."""
        if context is not None:
            self.sock = context.wrap_socket(self.sock, server_hostname="127.0.0.1")
        if token:
            self.send(auth_frame(token))
        return self

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def acks(self, n: int, timeout: float = 30.0) -> List[Ack]:
        end = time.monotonic() + timeout
        while len(self._frames) < n:
            self.sock.settimeout(max(end - time.monotonic(), 0.01))
            data = self.sock.recv(1 << 16)
            if not data:
                raise DrillError("order manager closed the connection")
            # (the OrderManager's hello as we connected is not an ack: skipped)
            self._frames += [f for f in self.dec.feed(data) if not is_hello(f)]
        out, self._frames = self._frames[:n], self._frames[n:]
        return [Ack.decode(f) for f in out]

    def close(self) -> None:
        self.sock.close()


def all_at_once(conns: List[OrderClient], batches: List[bytes], per_client: int,
                timeout: float = 120.0):
    """Every client sends its batch at the same moment and waits for its acks, on a thread
    each: (seconds from the start to the last ack, each client's acks or None, errors)."""
    results: List[Optional[List[Ack]]] = [None] * len(conns)
    errors: List[str] = []
    go = threading.Event()

    def run(k):
        try:
            go.wait()
            conns[k].send(batches[k])
            results[k] = conns[k].acks(per_client, timeout=timeout)
        except Exception as exc:  # reported, not raised: the caller's check says it
            errors.append(f"client {k}: {exc}")

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(conns))]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    go.set()
    for t in threads:
        t.join(timeout + 60)
    return time.perf_counter() - t0, results, errors


def start_running(ctl: ProcessController, *names: str, what: str,
                  timeout: float = 20.0) -> None:
    """Start `names` (all of the controller's processes when none) and wait until they run;
    WaitTimeout naming `what` otherwise."""
    names = names or tuple(ctl.procs)
    for name in names:
        ctl.start(name)
    wait_running(ctl, names, what, timeout)


def wait_running(ctl: ProcessController, names, what: str, timeout: float = 20.0) -> None:
    wait_until(lambda: all(ctl.state(n) == State.RUNNING for n in names), timeout, what,
               ctl.poll)


def duplicates_in(records: List[dict]) -> int:
    """How many log records repeat a client_order_id already logged."""
    coids = [x["client_order_id"] for x in records]
    return len(coids) - len(set(coids))


def log_invariants(r: Result, records: List[dict]) -> None:
    """No order logged twice; ids 1, 2, 3... without gaps."""
    ids = [x["order_id"] for x in records]
    r.duplicates = duplicates_in(records)
    r.check(r.duplicates == 0, "no order logged twice")
    r.check(ids == list(range(1, len(ids) + 1)), "order ids strictly increasing without gaps")


def account_positions(records: List[dict], account: str) -> Dict[str, List[int]]:
    """Running position per symbol, order by order, for one account."""
    paths: Dict[str, List[int]] = {}
    for x in records:
        if x.get("account") != account:
            continue
        path = paths.setdefault(x["symbol"], [0])
        path.append(path[-1] + (x["qty"] if x["side"] == "BUY" else -x["qty"]))
    return paths


class HostileGateway:
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


