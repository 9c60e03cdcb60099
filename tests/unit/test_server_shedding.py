"""A Server sheds load instead of spinning or flooding its log (real sockets on 127.0.0.1, the
server's loop on a thread). The drill's descriptor_flood does the same against real processes
whose open-file limit is really 256."""
from __future__ import annotations

import errno
import logging
import socket
import threading
import time

import pytest

from engine.net import shedding
from engine.net.loglimit import LogLimiter
from engine.net.loop import EventLoop
from engine.net.server import Server


class Serving:
    """A Server on a free port, its loop polled on a thread until closed."""

    def __init__(self, **options):
        self.loop = EventLoop()
        self.log = logging.getLogger(f"shed{id(self)}")
        self.server = Server(self.loop, "127.0.0.1", 0, "test", self.log, **options)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.done.is_set():
            self.loop.poll(0.02)

    def connect(self) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        s.settimeout(5)
        return s

    def close(self):
        self.done.set()
        self.thread.join(5)
        self.server.close()
        self.loop.close()


@pytest.fixture
def serving():
    made = []

    def make(**options):
        s = Serving(**options)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


def wait(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def closed_by_server(s: socket.socket) -> bool:
    try:
        return s.recv(1) == b""
    except OSError:  # reset
        return True


def test_a_kind_of_line_is_said_a_few_times_then_counted(caplog):
    log = logging.getLogger("limited")
    limited = LogLimiter(log, window=60, burst=3)
    with caplog.at_level(logging.INFO, logger="limited"):
        for i in range(100):
            limited("connected", logging.INFO, "client %d connected", i)
        limited("other", logging.INFO, "another kind")
        limited.flush(all_=True)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[:3] == ["client 0 connected", "client 1 connected", "client 2 connected"]
    assert "another kind" in lines
    assert lines[-1].startswith("connected: 97 more in the last")
    assert len(lines) == 5 and limited.held_total == 97


class FlakyListener:
    """The listening socket, whose accept() fails with EMFILE while `failing` is set (as it
    does when the process is out of descriptors: the connection waits in the backlog)."""

    def __init__(self, sock):
        self.sock = sock
        self.failing = True
        self.calls = 0

    def accept(self):
        self.calls += 1
        if self.failing:
            raise OSError(errno.EMFILE, "Too many open files")
        return self.sock.accept()

    def __getattr__(self, name):
        return getattr(self.sock, name)


def test_out_of_descriptors_pauses_accepting_instead_of_spinning(serving, caplog,
                                                                 monkeypatch):
    monkeypatch.setattr(shedding, "ACCEPT_PAUSE_S", (0.1, 0.4))
    with caplog.at_level(logging.INFO):
        srv = serving()
        held = srv.connect()  # a client from before: it keeps being served
        wait(lambda: len(srv.server.peers) == 1)
        flaky = FlakyListener(srv.server.sock)
        srv.server.sock = flaky
        waiting = srv.connect()  # accept() fails for it
        time.sleep(1.5)
        # paused 0.1, 0.2, 0.4, 0.4 ... s: a handful of tries in 1.5 s, not thousands
        assert 3 <= flaky.calls <= 10, flaky.calls
        assert srv.server.shed.accept_pauses == flaky.calls
        srv.server.broadcast(b"still here*")
        assert held.recv(64) == b"still here*"
        flaky.failing = False  # descriptors again: the waiting client is let in
        wait(lambda: len(srv.server.peers) == 2, timeout=2)
    text = [r.getMessage() for r in caplog.records]
    assert sum("cannot accept" in t for t in text) == 1  # once per episode
    assert any("accepting again after" in t for t in text)
    held.close(), waiting.close()


def test_past_the_cap_a_connection_is_closed_at_once_and_counted(serving):
    srv = serving(max_clients=2)
    kept = [srv.connect(), srv.connect()]
    wait(lambda: len(srv.server.peers) == 2)
    extra = [srv.connect() for _ in range(3)]
    assert all(closed_by_server(s) for s in extra)
    assert srv.server.shed.refused_full == 3 and len(srv.server.peers) == 2
    srv.server.broadcast(b"tick*")
    assert all(s.recv(64) == b"tick*" for s in kept)
    for s in kept + extra:
        s.close()


def test_a_client_that_never_gives_its_token_is_dropped(serving, monkeypatch):
    monkeypatch.setattr(shedding, "AUTH_TIMEOUT_S", 0.3)
    srv = serving(auth_token="secret")
    silent = srv.connect()
    good = srv.connect()
    good.sendall(b"AUTH secret*")
    assert closed_by_server(silent)
    assert srv.server.shed.dropped_idle == 1
    wait(lambda: srv.server.client_count == 1)
    silent.close(), good.close()


def test_an_input_port_drops_silent_clients_only_under_pressure(serving, monkeypatch):
    monkeypatch.setattr(shedding, "SILENT_TIMEOUT_S", 0.3)
    srv = serving(max_clients=6, input_port=True)
    quiet = srv.connect()
    time.sleep(0.8)  # one silent client, no pressure: kept (a Strategy waiting to trade)
    assert len(srv.server.peers) == 1 and srv.server.shed.dropped_idle == 0
    talker = srv.connect()
    talker.sendall(b"{}*")
    crowd = [srv.connect() for _ in range(3)]  # 5 > 6 // 2: under pressure
    wait(lambda: srv.server.shed.dropped_idle == 4, timeout=5)
    assert all(closed_by_server(s) for s in [quiet] + crowd)
    assert len(srv.server.peers) == 1  # the one that spoke stays
    for s in [quiet, talker] + crowd:
        s.close()
