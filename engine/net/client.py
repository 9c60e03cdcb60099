"""The client side: a reconnecting connect with capped backoff, an Outage that says a lost
link once, and reads and writes that turn OSError into ConnectionClosed (the peer's doing)."""
from __future__ import annotations

import logging
import socket
import ssl
import time
from typing import Callable, Optional

from engine.protocol import auth_frame

RECV_SIZE = 256 * 1024


class ConnectionClosed(Exception):
    """The peer went away (EOF, reset, broken pipe): the OSError family, translated."""


class Outage:
    """Logs a lost or refused connection once per outage, not once per retry.

    After a reconnect the outage ends only when `confirmed()` (first bytes from the new
    connection): a server being killed can still accept a connection from its dying
    listening socket and reset it a moment later, and that is the same outage."""

    def __init__(self, log: logging.Logger, what: str):
        self.log = log
        self.what = what
        self.down_since: Optional[float] = None
        self.outages = 0
        self.ever_connected = False
        self.last_error = ""  # why the link last failed (the desk's System map shows it)
        self._kinds: set = set()  # the kinds of failure said in this outage

    def failed(self, exc: BaseException):
        # a new kind of failure within one outage is said too, once: refused while the
        # server starts, then a certificate it is not trusted for, is two reasons to know
        kind = (type(exc).__name__, getattr(exc, "errno", None))
        self.last_error = str(getattr(exc, "strerror", None) or exc)
        if self.down_since is None:
            self.down_since = time.monotonic()
            self.outages += 1
            self._kinds = set()
            verb = "lost" if self.ever_connected else "cannot reach"
        elif kind in self._kinds:
            return
        else:
            verb = "still cannot reach"
        self._kinds.add(kind)
        self.log.warning("%s %s (%s); retrying every <= 0.5 s", verb, self.what,
                         self.last_error)

    def lost(self, why: str):
        self.last_error = why
        if self.down_since is None:
            self.down_since = time.monotonic()
            self.outages += 1
            self.log.warning("lost %s (%s); reconnecting", self.what, why)

    @property
    def up(self) -> bool:
        return self.down_since is None and self.ever_connected

    def link(self, frames: int, **more) -> dict:
        """A client's side of a link, as Stats.links carries it."""
        return {"frames": frames, "connected": self.up,
                "error": "" if self.up else self.last_error, **more}

    def connected(self):
        if not self.ever_connected:
            self.log.info("connected to %s", self.what)
            self.down_since = None
            self.ever_connected = True

    def confirmed(self):
        """The new connection works (data arrived, or the protocol needs none)."""
        if self.down_since is not None:
            self.log.info("reconnected to %s after %.2f s", self.what,
                          time.monotonic() - self.down_since)
            self.down_since = None


BACKOFF_START = 0.02
BACKOFF_CAP = 0.5  # reconnect within half a second of a server coming back
# A connect to this machine succeeds or is refused within a millisecond, except on Windows,
# where a refused one takes about 2 s (the SYN is retried after the RST): give up on it soon
# and retry, so that a restarted server is reached within the backoff, not seconds later.
CONNECT_TIMEOUT_LOCAL = 0.25
CONNECT_TIMEOUT_REMOTE = 3.0


def connect_timeout(host: str) -> float:
    local = host in ("localhost", "::1") or host.startswith("127.")
    return CONNECT_TIMEOUT_LOCAL if local else CONNECT_TIMEOUT_REMOTE


def connect(host: str, port: int, stop_event, outage: Outage, *, nodelay: bool = False,
            auth_token: Optional[str] = None, tls: Optional[ssl.SSLContext] = None,
            while_waiting: Optional[Callable[[], None]] = None) -> Optional[socket.socket]:
    """Connect, retrying with capped exponential backoff (<= 0.5 s) until connected or stopped.
    With `tls`, the server must show a certificate the context trusts, for `host`. Returns
    None only when stop_event is set. `while_waiting` is called between attempts (a process
    whose loop this is goes on reporting, so it is not taken for a hung one)."""
    delay = BACKOFF_START
    timeout = connect_timeout(host)
    while not stop_event.is_set():
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
            if tls is not None:
                try:
                    sock = tls.wrap_socket(sock, server_hostname=host)
                except OSError:
                    sock.close()
                    raise
        except OSError as exc:  # refused, timed out, or a TLS certificate not trusted
            outage.failed(exc)
            if while_waiting is not None:
                while_waiting()
            if stop_event.wait(delay):
                return None
            delay = min(delay * 2, BACKOFF_CAP)
            continue
        if nodelay:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if auth_token:
            try:
                sock.sendall(auth_frame(auth_token))
            except OSError as exc:
                sock.close()
                outage.failed(exc)
                continue
        outage.connected()
        return sock
    return None


def recv_some(sock: socket.socket, size: int = RECV_SIZE) -> Optional[bytes]:
    """bytes read; None on timeout; raises ConnectionClosed on EOF or a socket error."""
    try:
        data = sock.recv(size)
    except (socket.timeout, BlockingIOError, InterruptedError):
        return None
    except OSError as exc:
        raise ConnectionClosed(str(exc)) from None
    if not data:
        raise ConnectionClosed("closed by peer")
    return data


def send_all(sock: socket.socket, data: bytes) -> None:
    try:
        sock.sendall(data)
    except OSError as exc:
        raise ConnectionClosed(str(exc)) from None

