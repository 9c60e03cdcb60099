"""ClientLoop: every client socket of a process served by one thread's selector, so that
nothing on the order path waits for another thread (a reader thread must first win the GIL
from the loop that sent the order).

Connecting is the one thing done elsewhere: a link that is down asks its Connector, a thread
that connects with capped backoff (and the TLS handshake and the token), since a server
that is away must not stop the loop for the 0.25-3 s a refused connect can take. The
Connector hands the socket over, non-blocking, and rings the loop's waker; from then on
only the loop reads and writes it. An IdleStrategy (engine.net.idle) keeps the loop polling for
a moment after its owner says it worked, so the reply to what it just sent finds it awake.
"""
from __future__ import annotations

import select
import selectors
import socket
import ssl
import threading
import time
from typing import Callable, List, Optional

from .client import RECV_SIZE, ConnectionClosed, Outage, connect
from .doorbell import Doorbell, Ringer
from .idle import IdleStrategy

WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
# A send that makes no progress for this long: the peer stopped reading (or vanished without
# a reset). The link is dropped and what it carried goes again after the reconnect.
SEND_STALL_S = 0.5


def recv_ready(sock: socket.socket, size: int = RECV_SIZE) -> bytes:
    """What a non-blocking socket holds now; b"" when nothing is whole yet (a TLS record
    half in). Raises ConnectionClosed on EOF or a socket error. A TLS socket's decrypted
    bytes still in its buffer are read too: the selector cannot see them."""
    try:
        data = sock.recv(size)
    except WOULD_BLOCK:
        return b""
    except OSError as exc:
        raise ConnectionClosed(str(exc)) from None
    if not data:
        raise ConnectionClosed("closed by peer")
    if isinstance(sock, ssl.SSLSocket):
        more = [data]
        while sock.pending():
            more.append(recv_ready(sock, size))
        data = b"".join(more)
    return data


def send_now(sock: socket.socket, data: bytes, stall_s: float = SEND_STALL_S) -> None:
    """All of `data` on a non-blocking socket: at once when its buffer has room (always, at
    the rates here), else waiting for room, at most `stall_s` without progress."""
    view = memoryview(data)
    while view:
        try:
            view = view[sock.send(view):]
            continue
        except WOULD_BLOCK as exc:
            reading = isinstance(exc, ssl.SSLWantReadError)
        except OSError as exc:
            raise ConnectionClosed(str(exc)) from None
        try:
            ready = select.select([sock] if reading else [], [] if reading else [sock], [],
                                  stall_s)
        except (OSError, ValueError) as exc:
            raise ConnectionClosed(str(exc)) from None
        if not any(ready):
            raise ConnectionClosed(f"the peer took no bytes for {stall_s} s")


class Connector:
    """Makes one link's connections on a thread of its own and hands each to the loop.
    The thread never reads nor writes a connected socket."""

    def __init__(self, host: str, port: int, outage: Outage, wake: Callable[[], None],
                 name: str, **options):
        self.host, self.port, self.outage, self.wake = host, port, outage, wake
        self.options = options  # connect()'s: nodelay, auth_token, tls
        self.stop = threading.Event()
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._made: Optional[socket.socket] = None
        self.thread = threading.Thread(target=self._run, name=f"connect-{name}", daemon=True)

    def start(self) -> None:
        self._wanted.set()
        self.thread.start()

    def request(self) -> None:
        """The link is down: make a new connection."""
        self._wanted.set()

    def take(self) -> Optional[socket.socket]:
        if self._made is None:  # (the loop asks at every turn: no lock for the answer no)
            return None
        with self._lock:
            sock, self._made = self._made, None
        return sock

    def _run(self) -> None:
        while not self.stop.is_set():
            if not self._wanted.wait(0.2):
                continue
            sock = connect(self.host, self.port, self.stop, self.outage, **self.options)
            if sock is None:
                return
            sock.setblocking(False)
            with self._lock:
                self._wanted.clear()
                self._made = sock
            self.wake()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2.0)
        sock = self.take()
        if sock is not None:
            sock.close()


class Link:
    """A reconnecting client socket served by a ClientLoop. A subclass reads in
    `_readable(data, now_ns)` and greets a new connection in `_connected()`."""

    def __init__(self, host: str, port: int, outage: Outage, name: str, **options):
        self.outage = outage
        self.sock: Optional[socket.socket] = None
        self.loop: Optional["ClientLoop"] = None
        self.connector = Connector(host, port, outage, self._wake, name, **options)

    def _wake(self) -> None:
        if self.loop is not None:
            self.loop.wake()

    def adopt(self) -> None:
        """Take a connection the Connector made (the loop calls this every turn)."""
        sock = self.connector.take()
        if sock is None:
            return
        self.sock = sock
        self.loop.sel.register(sock, selectors.EVENT_READ, (1, self._on_readable))
        self._connected()

    def _on_readable(self, now_ns: int) -> None:
        sock = self.sock
        if sock is None:  # dropped by an earlier handler of the same turn
            return
        try:
            data = recv_ready(sock)
        except ConnectionClosed as exc:
            self.drop(str(exc))
            return
        if data:
            self._readable(data, now_ns)

    def send(self, data: bytes) -> bool:
        """False when the link is down (or went down in this send)."""
        if self.sock is None:
            return False
        try:
            send_now(self.sock, data)
        except ConnectionClosed as exc:
            self.drop(str(exc))
            return False
        return True

    def drop(self, why: str) -> None:
        if self._forget():
            self.outage.lost(why)
            self.connector.request()

    def _forget(self) -> bool:
        """Out of the loop's selector and closed; False when there was no connection."""
        sock, self.sock = self.sock, None
        if sock is None:
            return False
        if self.loop is not None:
            try:
                self.loop.sel.unregister(sock)
            except (KeyError, ValueError):
                pass
        sock.close()
        return True

    def _connected(self) -> None:
        """A new connection is ours: greet the peer, reset the decoder."""

    def _readable(self, data: bytes, now_ns: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.connector.close()
        self._forget()


class ClientLoop:
    """One selector for a thread's links and any other socket it waits on (a doorbell),
    and a waker the Connectors ring when they hand a connection over."""

    def __init__(self, idle: Optional[IdleStrategy] = None):
        self.sel = selectors.DefaultSelector()
        self.links: List[Link] = []
        self.idle = idle or IdleStrategy(0)
        self.waker = Doorbell()
        self._ringer = Ringer()  # (shared by the Connectors' threads: one datagram a call)
        self.watch(self.waker.sock, lambda now_ns: self.waker.drain(), priority=2)

    def add(self, link: Link) -> Link:
        link.loop = self
        self.links.append(link)
        link.connector.start()
        return link

    def watch(self, sock: socket.socket, handler: Callable[[int], None],
              priority: int = 1) -> None:
        """`handler(now_ns)` when `sock` is readable; a lower priority is served first."""
        sock.setblocking(False)
        self.sel.register(sock, selectors.EVENT_READ, (priority, handler))

    def wake(self) -> None:
        """From any thread: end the loop's wait now."""
        self._ringer.ring((self.waker.port,))

    def poll(self, timeout: Optional[float]) -> int:
        """Serve what is ready, waiting at most `timeout` (0 while the idle strategy spins:
        its owner calls `idle.worked()` when a reply is due); how many sockets were served."""
        for link in self.links:
            link.adopt()
        events = self.sel.select(self.idle.timeout(timeout))
        if not events:
            return 0
        now = time.perf_counter_ns()
        if len(events) > 1:
            events.sort(key=lambda e: e[0].data[0])
        for key, _ in events:
            key.data[1](now)
        return len(events)

    def close(self) -> None:
        for link in self.links:
            link.close()
        self.sel.close()
        self.waker.close()
        self._ringer.close()
