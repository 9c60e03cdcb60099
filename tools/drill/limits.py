"""The drill's limits: more connections than a server can hold, more log than a disk should
take. Each runs a Gateway or an OrderManager of its own (their own ports, books and log
folder), so that the stack's processes keep the limits they were started with; the orders
these servers take are in their own log, not in the table's columns (those are the stack's).

descriptor_flood  the two servers started with at most 256 open files (macOS's default), 600
                  idle connections held against the price port and 600 against the order port
                  for 10 s: the servers pause accepting instead of spinning, their logs grow by
                  well under 1 MB, the clients they already had keep their data, and a new
                  order client is served within 1 s of the flood ending.
connection_cap    a Gateway holding at most 20 clients, 60 connecting: 40 are closed at once,
                  counted, and said in a bounded number of log lines; the 20 keep their ticks.
log_rotation      an OrderManager whose log rotates past 50 kB, 3,000 orders: its log is
                  order_manager.log and three older files, none past the size; orders.jsonl
                  keeps every order (it is never rotated).
tls_refusals      an OrderManager speaking TLS: strangers refused, the right client served.
"""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path
from typing import List, Optional

from engine.control.controller import ProcessController
from engine.control.roster import Roster
from engine.net.loglimit import LOG_BURST
from engine.processes.gateway import run_gateway
from engine.processes.order_manager import run_order_manager
from engine.testing import free_ports

from .stack import DrillError, OrderClient, Result, Stack, start_running, wait_running

try:  # POSIX: the open-file limit a child inherits
    import resource
except ImportError:  # pragma: no cover - Windows has no such limit to lower
    resource = None

FD_LIMIT = 256


@contextlib.contextmanager
def open_file_limit(soft: Optional[int]):
    """Processes started inside inherit a soft open-file limit of `soft` (POSIX); this one
    gets its own back at the end. Where the limit cannot be set, nothing changes (yields
    False)."""
    if resource is None or soft is None:
        yield False
        return
    old_soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, hard), hard))
    try:
        yield True
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (old_soft, hard))


def _room_for(n: int) -> int:
    """Raise this process's own open-file limit to hold n more sockets, as far as the hard
    limit allows; how many it may open."""
    if resource is None:
        return n
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 256
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    return min(n, soft - 256)


def _private_servers(stack: Stack, tag: str, **changes):
    """A Gateway and an OrderManager of their own: free ports, books and a log folder."""
    price, news, order, confirm = free_ports(4)
    cfg = stack.config.replace(price_port=price, news_port=news, order_port=order,
                               confirm_port=confirm, shm_name=stack.config.shm_name + tag,
                               log_dir=str(Path(stack.config.log_dir) / f"flood-{tag}"),
                               **changes)
    return cfg, ProcessController(cfg, roster=Roster.from_targets({"gateway": run_gateway,
                                                "order_manager": run_order_manager}))


def _log_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("*.log*") if p.is_file())


def _cpu(ctl: ProcessController, name: str) -> float:
    stats = ctl.status(name).stats
    return stats.cpu_s if stats is not None else 0.0


class _Trader(threading.Thread):
    """An order client that was there before the flood: an order every 50 ms, each ack
    awaited; keeps how many were acknowledged and the slowest ack."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.client = OrderClient(port, f"flood{port}")
        self.acked, self.slowest, self.errors = 0, 0.0, []
        self.done = threading.Event()

    def run(self) -> None:
        try:
            while not self.done.is_set():
                t = time.monotonic()
                self.client.send(self.client.order_frame(price=100.0)[1])
                if self.client.acks(1, timeout=10)[0].status == "accepted":
                    self.acked += 1
                self.slowest = max(self.slowest, time.monotonic() - t)
                self.done.wait(0.05)
        except Exception as exc:  # reported by the check
            self.errors.append(str(exc))

    def stop(self) -> None:
        self.done.set()
        self.join(15)
        self.client.close()


def _flood(port: int, n: int) -> List[socket.socket]:
    """n connections that never send a byte (non-blocking connects: past the server's
    backlog they simply wait)."""
    out = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        out.append(s)
    return out


def _served(port: int):
    """A new order client: (its order accepted, seconds from now until the ack)."""
    t0 = time.monotonic()
    fresh = OrderClient(port, "after-flood")
    try:
        fresh.send(fresh.order_frame(price=101.0)[1])
        ok = fresh.acks(1, timeout=10)[0].status == "accepted"
    finally:
        fresh.close()
    return ok, time.monotonic() - t0


def _judge_flood(r: Result, gw, om, *, lowered: bool, grew: int, cpu: dict, gap: float,
                 trader, during: int, served: bool) -> None:
    """The descriptor flood's checks: what the servers did while it lasted and after."""
    if lowered:
        r.check(gw.accept_pauses > 0 and om.accept_pauses > 0,
                f"both servers ran out of descriptors and paused accepting (gateway "
                f"{gw.accept_pauses}, order manager {om.accept_pauses} pauses)")
    r.check(grew < 1_000_000, f"logs grew by {grew:,} bytes (< 1 MB)")
    r.check(max(cpu.values()) < 5.0,
            f"servers' CPU during the flood: {_cpu_text(cpu)} (< 5 %)")
    r.check(gap < 0.5, f"the price client held before the flood kept its ticks "
                       f"(worst gap {gap * 1000:.0f} ms)")
    r.check(not trader.errors and during > 0,
            f"the order client held before the flood kept trading ({during} orders "
            f"acked during it, slowest ack {trader.slowest * 1000:.0f} ms)"
            + (f": {trader.errors[0]}" if trader.errors else ""))
    r.check(served and r.recovery_s < 1.0, f"a new order client was served "
                                           f"{r.recovery_s:.2f} s after the flood ended")


def _cpu_text(cpu: dict) -> str:
    return ", ".join(f"{k} {v:.1f} %" for k, v in cpu.items())


def descriptor_flood(stack: Stack, per_port: int = 600, hold_s: float = 10.0) -> Result:
    from .scenarios import _GapReader
    r = Result("descriptor_flood")
    # the default rates (a tick every 0.1 s), as a headless stack runs: the clients the flood
    # leaves connected to the price port are fed like any reader
    cfg, ctl = _private_servers(stack, "d", tick_interval=0.1, news_interval=1.0)
    reader = trader = None
    flood: List[socket.socket] = []
    try:
        with open_file_limit(FD_LIMIT) as lowered:  # inherited by the two servers alone
            ctl.start("order_manager")
            ctl.start("gateway")
        wait_running(ctl, ctl.procs, "the flood's servers")
        reader = _GapReader(cfg.price_port)
        trader = _Trader(cfg.order_port)
        trader.start()
        ctl.wait_until(lambda: False, 1.0)
        folder = Path(cfg.log_dir)
        logs0, acked0 = _log_bytes(folder), trader.acked
        cpu0 = {n: _cpu(ctl, n) for n in ctl.procs}
        n = _room_for(2 * per_port) // 2
        flood = _flood(cfg.price_port, n) + _flood(cfg.order_port, n)
        t0 = time.monotonic()
        ctl.wait_until(lambda: False, hold_s)
        held = time.monotonic() - t0
        cpu = {k: 100 * (_cpu(ctl, k) - cpu0[k]) / held for k in ctl.procs}
        grew = _log_bytes(folder) - logs0
        during = trader.acked - acked0
        for s in flood:
            s.close()
        ok, r.recovery_s = _served(cfg.order_port)
        worst_gap = reader.stop()
        trader.stop()
        ctl.poll(0.6)
        gw, om = ctl.status("gateway").stats, ctl.status("order_manager").stats
        _judge_flood(r, gw, om, lowered=lowered, grew=grew, cpu=cpu, gap=worst_gap,
                     trader=trader, during=during, served=ok)
        r.notes.append(
            f"{n} + {n} idle connections for {held:.0f} s"
            + (f" against servers limited to {FD_LIMIT} open files" if lowered else
               " (the open-file limit cannot be lowered here)")
            + f": logs +{grew:,} bytes, CPU {_cpu_text(cpu)}, accept pauses "
              f"{gw.accept_pauses} + {om.accept_pauses}, idle clients dropped "
              f"{om.dropped_idle}; new client served in {r.recovery_s:.2f} s")
    finally:
        for s in flood:
            s.close()
        if trader is not None and trader.is_alive():
            trader.stop()
        if reader is not None:
            reader.stop()
        ctl.close()
    return r.finish(stack)


def connection_cap(stack: Stack, cap: int = 20, extra: int = 40) -> Result:
    from .scenarios import _GapReader
    r = Result("connection_cap")
    cfg, ctl = _private_servers(stack, "c", max_clients=cap)
    readers: List[_GapReader] = []
    try:
        start_running(ctl, "gateway", what="a capped gateway")
        readers = [_GapReader(cfg.price_port) for _ in range(cap)]
        ctl.wait_until(lambda: ctl.status("gateway").stats is not None and
                       ctl.status("gateway").stats.price_clients == cap, 10)
        turned = 0
        for _ in range(extra):  # each is accepted and closed at once: EOF, no ticks
            s = socket.create_connection(("127.0.0.1", cfg.price_port), timeout=5)
            s.settimeout(5)
            try:
                turned += s.recv(1 << 16) == b""
            except OSError:
                turned += 1
            s.close()
        ctl.wait_until(lambda: False, 1.0)
        gaps = [rd.stop() for rd in readers]
        readers = []
        ctl.stop_and_wait("gateway")  # its last log lines, the held-back counts among them
        stats = ctl.totals("gateway")
        log = (Path(cfg.log_dir) / "gateway.log").read_text(encoding="utf-8")
        refused_lines = log.count("the cap (--max-clients)")
        r.check(turned == extra and stats.refused_full == extra,
                f"{extra} connections past the cap of {cap} closed at once and counted "
                f"({turned} saw the close, {stats.refused_full} counted)")
        r.check(refused_lines <= LOG_BURST and "more in the last" in log,
                f"said in {refused_lines} lines and a count, not {extra}")
        r.check(max(gaps) < 0.5, f"the {cap} clients held kept their ticks (worst gap "
                                 f"{max(gaps) * 1000:.0f} ms)")
        r.notes.append(f"cap {cap}: {stats.refused_full} refused, {refused_lines} log lines")
    finally:
        for rd in readers:
            rd.stop()
        ctl.close()
    return r.finish(stack)


def log_rotation(stack: Stack, orders: int = 3000, max_mb: float = 0.05) -> Result:
    from engine.processes.logs import LOG_KEEP
    r = Result("log_rotation")
    cfg, ctl = _private_servers(stack, "r", log_max_mb=max_mb)
    try:
        start_running(ctl, "order_manager", what="an order manager with a small log")
        client = OrderClient(cfg.order_port, "rotation")
        try:
            for start in range(0, orders, 500):
                n = min(500, orders - start)
                client.send(b"".join(client.order_frame(price=100.0 + i % 10)[1]
                                     for i in range(n)))
                client.acks(n, timeout=30)
        finally:
            client.close()
        ctl.stop_and_wait("order_manager")
        folder = Path(cfg.log_dir)
        logs = sorted(folder.glob("order_manager.log*"))
        limit = int(max_mb * 1024 * 1024)
        sizes = {p.name: p.stat().st_size for p in logs}
        lines = (folder / "orders.jsonl").read_text(encoding="utf-8").splitlines()
        r.check(len(logs) == 1 + LOG_KEEP, f"the log and {LOG_KEEP} older files, no more "
                                           f"({', '.join(sizes)})")
        r.check(max(sizes.values()) <= limit, f"none past {limit:,} bytes (largest "
                                               f"{max(sizes.values()):,})")
        r.check(f"Received Order {orders}:" in (folder / "order_manager.log").read_text(
            encoding="utf-8"), "the newest lines are in order_manager.log")
        r.check(len(lines) == orders, f"orders.jsonl holds all {orders} orders ({len(lines)})")
        r.notes.append(f"{orders} orders: {len(logs)} log files, {sum(sizes.values()):,} "
                       f"bytes in all; orders.jsonl {len(lines)} lines")
    finally:
        ctl.close()
    return r.finish(stack)


def tls_refusals(stack: Stack) -> Result:
    """An OrderManager of its own speaking TLS (a lab CA made for the run): a client with the
    CA and the token is served; plain text, a client trusting another CA and the wrong token
    are refused and counted; the served client's orders keep being acknowledged throughout."""
    import shutil
    import ssl

    from engine.net.tls import make_lab
    r = Result("tls_refusals")
    if shutil.which("openssl") is None:
        r.skipped = True
        r.notes.append("skipped: the openssl command makes the run's certificates")
        return r.finish(stack)
    folder = Path(stack.config.log_dir) / "tls-lab"
    lab, other = make_lab(folder / "lab", ["127.0.0.1"]), make_lab(folder / "other",
                                                                    ["127.0.0.1"])
    cfg, ctl = _private_servers(stack, "t", auth_token="drill-token", tls_cert=str(lab["cert"]),
                                tls_key=str(lab["key"]), tls_ca=str(lab["ca"]))

    def client(ca, token):
        return OrderClient(cfg.order_port, f"tls{random_tag()}").secured(
            ssl.create_default_context(cafile=str(ca)), token)
    try:
        start_running(ctl, "order_manager", what="an order manager speaking TLS")
        good = client(lab["ca"], "drill-token")
        good.send(good.order_frame()[1])
        r.check(good.acks(1)[0].status == "accepted", "the client with the CA and the token "
                                                      "is served")
        plain_refused, other_refused, wrong_refused = _strangers(
            cfg.order_port, lambda: client(other["ca"], "drill-token"),
            lambda: client(lab["ca"], "wrong-token"))
        good.send(good.order_frame()[1])
        still = good.acks(1)[0].status == "accepted"
        good.close()
        ctl.wait_until(lambda: ctl.status("order_manager").stats.refused_tls >= 2 and
                       ctl.status("order_manager").stats.refused_auth >= 1, 5)
        om = ctl.status("order_manager").stats
        r.check(plain_refused, "a plain-text client is refused")
        r.check(other_refused, "a client trusting another CA will not talk to it")
        r.check(wrong_refused, "the wrong token is refused inside TLS")
        r.check(still, "the served client's orders are still acknowledged")
        r.check(om.refused_tls >= 2 and om.refused_auth >= 1,
                f"refusals counted (TLS {om.refused_tls}, token {om.refused_auth})")
        r.notes.append(f"TLS refusals {om.refused_tls}, token refusals {om.refused_auth}; "
                       f"the client with the CA and the token served throughout")
    finally:
        ctl.close()
    return r.finish(stack)


def _strangers(port: int, other_ca_client, wrong_token_client):
    """(a plain-text client refused, a client trusting another CA refused, the wrong token
    refused) against a server speaking TLS on `port`."""
    import ssl
    plain = socket.create_connection(("127.0.0.1", port), timeout=5)
    plain.sendall(b"AUTH drill-token*")
    plain.settimeout(5)
    try:
        plain_refused = plain.recv(1 << 16) == b""
    except OSError:
        plain_refused = True
    plain.close()
    try:
        other_ca_client().close()
        other_refused = False
    except ssl.SSLCertVerificationError:
        other_refused = True
    wrong = wrong_token_client()
    wrong.send(wrong.order_frame()[1])
    try:
        wrong.acks(1, timeout=5)
        wrong_refused = False
    except (DrillError, OSError):
        wrong_refused = True
    wrong.close()
    return plain_refused, other_refused, wrong_refused


def random_tag() -> str:
    import random
    return f"{random.randrange(1 << 24):x}"
