"""Socket shells: a non-blocking multi-client server, a reconnecting client, OSError translation.

The protocol logic stays in protocol.py; this module only moves bytes. Every server:
* binds to the configured address (127.0.0.1 by default) and says clearly when the port is taken;
* keeps a FrameDecoder per client (frames are capped) and a capped output buffer per client:
  a client that stops reading is dropped when its buffer passes the cap, so it never stalls
  the others or grows our memory without end;
* when an auth token is configured, lets a client in only after its first frame is
  `AUTH <token>` (within AUTH_TIMEOUT_S);
* with a TLS context (engine/tls.py), speaks TLS: the handshake is driven by the loop like
  any read or write (never blocking the other clients), must end within AUTH_TIMEOUT_S, and
  a client that fails it (plain text, a certificate it does not trust) is refused and
  counted;
* sheds load instead of spinning: when accept() fails for want of descriptors or memory
  (EMFILE, ENFILE, ENOBUFS, ENOMEM) it stops accepting for 0.1 s, doubling to 1 s while that
  lasts (or until one of its clients goes, freeing a descriptor), and says so once per
  episode; past `max_clients` a new connection is accepted and
  closed at once; while it is under pressure (accepts paused lately, or more than half the cap
  held) an input port drops connections that never sent a byte within SILENT_TIMEOUT_S;
* logs each kind of connection event at most LOG_BURST times in LOG_WINDOW_S, then how many
  more there were.
"""
from __future__ import annotations

import errno
import hmac
import logging
import selectors
import socket
import ssl
import time
from typing import Callable, Dict, List, Optional, Tuple

from . import trace
from .oscompat import PORT_FORBIDDEN, PORT_TAKEN, port_forbidden_hint
from .protocol import AUTH_PREFIX, FrameDecoder, auth_frame

RECV_SIZE = 256 * 1024
# a non-blocking socket (plain or TLS) that cannot go on now: try again when it is ready
WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
MAX_CLIENTS = 1000           # per server, unless --max-clients says otherwise
ACCEPT_PAUSE_S = (0.1, 1.0)  # accepts paused this long when descriptors run out, doubling
OUT_OF_DESCRIPTORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
AUTH_TIMEOUT_S = 5.0         # a client with a token to give gives it at once
SILENT_TIMEOUT_S = 10.0      # under pressure: an input port's client that never sent a byte
PRESSURE_MEMORY_S = 30.0     # accepts paused within this long: still under pressure
LOG_WINDOW_S, LOG_BURST = 10.0, 20


class LogLimiter:
    """At most `burst` lines of one kind every `window` seconds; past that the lines are
    counted, and the count is said when the window ends ("... 4,112 more in the last 10 s"),
    so that a flood of connections cannot become a flood of log lines."""

    def __init__(self, log: logging.Logger, window: float = LOG_WINDOW_S, burst: int = LOG_BURST):
        self.log, self.window, self.burst = log, window, burst
        self.kinds: Dict[str, list] = {}  # kind -> [window start, shown, held back, level]
        self.held_total = 0

    def __call__(self, kind: str, level: int, msg: str, *args) -> None:
        now = time.monotonic()
        w = self.kinds.get(kind)
        if w is None or now - w[0] >= self.window:
            if w is not None:
                self._say_held(kind, w, now)
            w = self.kinds[kind] = [now, 0, 0, level]
        if w[1] < self.burst:
            w[1] += 1
            self.log.log(level, msg, *args)
        else:
            w[2] += 1
            w[3] = max(w[3], level)
            self.held_total += 1

    def _say_held(self, kind: str, w: list, now: float) -> None:
        if w[2]:
            self.log.log(w[3], "%s: %s more in the last %.0f s", kind, f"{w[2]:,}",
                         now - w[0])

    def flush(self, all_: bool = False) -> None:
        """Say the counts of windows that have ended (the loop calls this now and then), or
        of every window (`all_`: the server is closing)."""
        now = time.monotonic()
        for kind, w in list(self.kinds.items()):
            if all_ or now - w[0] >= self.window:
                self._say_held(kind, w, now)
                del self.kinds[kind]


class PortInUse(OSError):
    """A server port cannot be had (taken by another program, or refused by the OS); the
    message names the port and the flag that changes it."""


class ConnectionClosed(Exception):
    """The peer went away (EOF, reset, broken pipe): the OSError family, translated."""


def port_flag(what: str) -> str:
    return {"prices": "--price-port", "news": "--news-port", "orders": "--order-port",
            "confirmations": "--confirm-port"}.get(what, "--port")


# Connections the kernel completes and queues for accept(). A full queue drops a new client's
# SYN, and the client only tries again a second later (TCP's first retransmission): so that a
# flood held in the queue while descriptors have run out does not keep out the clients that
# come after it, the queue holds 1,024 (the OS may cap it lower: Linux's net.core.somaxconn
# is 4,096 by default, macOS's kern.ipc.somaxconn 128).
LISTEN_BACKLOG = 1024


def listen(host: str, port: int, what: str, backlog: int = LISTEN_BACKLOG) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows: never share a port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        else:  # POSIX: rebind at once after a restart (TIME_WAIT)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        code = getattr(exc, "winerror", None) or exc.errno
        if code in PORT_TAKEN or exc.errno in PORT_TAKEN:
            raise PortInUse(exc.errno, f"port {port} ({what}) is already in use on {host}: "
                                       f"stop what holds it or choose another with "
                                       f"{port_flag(what)}") from None
        if code in PORT_FORBIDDEN or exc.errno in PORT_FORBIDDEN:
            raise PortInUse(exc.errno, f"port {port} ({what}) cannot be used on {host}: "
                                       f"{port_forbidden_hint(port)}; choose another with "
                                       f"{port_flag(what)}") from None
        raise
    sock.setblocking(False)
    return sock


class Peer:
    """One connected client of a Server."""

    __slots__ = ("sock", "addr", "decoder", "out", "authed", "id", "connected_at",
                 "frames_in", "bytes_out", "writing", "discarded", "heard", "handshaking")

    def __init__(self, sock, addr, max_frame: int, authed: bool, peer_id: int):
        self.sock = sock
        self.addr = addr
        self.decoder = FrameDecoder(max_frame)
        self.out = bytearray()
        self.authed = authed
        self.id = peer_id
        self.connected_at = time.monotonic()
        self.frames_in = 0
        self.bytes_out = 0
        self.writing = False
        self.discarded = 0  # bytes not queued for it (Server.keep_slow_readers)
        self.heard = False  # it has sent at least one byte
        self.handshaking = False  # TLS: its handshake is not done yet

    def __repr__(self):
        return f"client#{self.id} {self.addr[0]}:{self.addr[1]}"


FramesHandler = Callable[["Server", Peer, List[bytes]], None]


class ShedsLoad:
    """A Server's timers, apart from its per-client work: accepts paused when descriptors
    run out (and started again), clients dropped past their time, the log counts said."""

    def _pause_accepting(self, exc: OSError) -> None:
        now = time.monotonic()
        self.accept_pauses += 1
        self._pressure_until = now + PRESSURE_MEMORY_S
        if self._episode is None:
            self._episode = [now, 0]
            self.log.warning("%s: cannot accept (%s): pausing accepts for %.1f s, doubling to "
                             "%.0f s while it lasts; the %d clients connected are served",
                             self.what, exc.strerror or exc, self._pause_s, ACCEPT_PAUSE_S[1],
                             len(self.peers))
        self._episode[1] += 1
        self._paused_until = now + self._pause_s
        self._pause_s = min(self._pause_s * 2, ACCEPT_PAUSE_S[1])
        try:
            self.loop.sel.unregister(self.sock)
        except (KeyError, ValueError):
            pass

    def under_pressure(self, now: float) -> bool:
        return now < self._pressure_until or len(self.peers) > self.max_clients // 2

    def tick(self, now: float) -> float:
        """Timers: accepting again after a pause, dropping clients past their time, the log
        counts. Returns the seconds until it wants to run again."""
        if self._paused_until and now >= self._paused_until:
            self._paused_until = 0.0
            self.loop.sel.register(self.sock, selectors.EVENT_READ, (self, None))
        if now >= self._next_sweep:
            self._next_sweep = now + 0.5
            self._sweep(now)
            self.limited.flush()
        wake = self._next_sweep - now
        if self._paused_until:
            wake = min(wake, self._paused_until - now)
        return max(wake, 0.0)

    def _sweep(self, now: float) -> None:
        silent_too = self.input_port and self.under_pressure(now)
        for peer in list(self.peers.values()):
            age = now - peer.connected_at
            if peer.handshaking and age > AUTH_TIMEOUT_S:
                why = f"dropped: no TLS handshake within {AUTH_TIMEOUT_S:g} s"
            elif not peer.authed and age > AUTH_TIMEOUT_S:
                why = f"dropped: no auth token within {AUTH_TIMEOUT_S:g} s"
            elif silent_too and not peer.heard and age > SILENT_TIMEOUT_S:
                why = f"dropped: silent for {SILENT_TIMEOUT_S:g} s while the server is busy"
            else:
                continue
            self.dropped_idle += 1
            self.close_peer(peer, why, level=logging.WARNING, kind="dropped (idle)")


class Server(ShedsLoad):
    """A listening socket and its clients, driven by a shared selectors loop (`EventLoop`)."""

    def __init__(self, loop: "EventLoop", host: str, port: int, what: str,
                 log: logging.Logger, *, max_frame: int = 64 * 1024,
                 out_cap: int = 1024 * 1024, auth_token: Optional[str] = None,
                 on_frames: Optional[FramesHandler] = None,
                 on_connect: Optional[Callable[["Server", Peer], None]] = None,
                 nodelay: bool = False, sndbuf: int = 256 * 1024,
                 keep_slow_readers: bool = False, max_clients: int = MAX_CLIENTS,
                 input_port: bool = False, tls: Optional[ssl.SSLContext] = None):
        self.loop = loop
        self.tls = tls
        self.max_clients = max_clients
        # clients are expected to send (orders): one that never does may be dropped when
        # the server is under pressure
        self.input_port = input_port
        # False: a client whose backlog passes out_cap is dropped (a stalled price or
        # confirmation reader). True: it is kept and what would pass the cap is discarded
        # (an order client that never reads its acks, as a Strategy written to the
        # assignment may: its orders still count, only the replies it ignores are lost)
        self.keep_slow_readers = keep_slow_readers
        self.discarded_bytes = 0
        self.sndbuf = sndbuf
        self.what = what
        self.log = log
        self.max_frame = max_frame
        self.out_cap = out_cap
        self.auth_token = auth_token
        self.on_frames = on_frames
        self.on_connect = on_connect
        self.nodelay = nodelay
        self.sock = listen(host, port, what)
        self.address = self.sock.getsockname()[:2]
        self.port = self.address[1]
        self.peers: Dict[socket.socket, Peer] = {}
        self._next_id = 1
        self.dropped_slow = 0
        self.refused_auth = 0
        self.peak_backlog = 0  # most bytes ever queued for one client: at most
        self.largest_send = 0  # out_cap plus the largest single send
        self.oversize_frames = 0
        self.refused_full = 0     # connections closed at once: max_clients held
        self.dropped_idle = 0     # never authenticated, or silent on an input port
        self.accept_pauses = 0    # times accepting was paused for want of descriptors
        self.refused_tls = 0      # TLS handshakes that failed (plain text, untrusted...)
        self.frames_in = self.bytes_in = self.bytes_out = 0  # over every client, ever
        self.limited = LogLimiter(log)
        self._paused_until = 0.0  # accepting again at this time (0: accepting)
        self._pause_s = ACCEPT_PAUSE_S[0]
        self._episode: Optional[list] = None  # [start, pauses] of descriptors running out
        self._pressure_until = 0.0
        self._next_sweep = 0.0
        loop.sel.register(self.sock, selectors.EVENT_READ, (self, None))
        loop.servers.append(self)
        log.info("%s server listening on %s:%d", what, host, self.port)

    # -- events from the loop -----------------------------------------------------
    def _accept(self):
        for _ in range(64):
            try:
                sock, addr = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in OUT_OF_DESCRIPTORS:  # the backlog waits; the clients held
                    self._pause_accepting(exc)       # are served meanwhile
                else:
                    self.limited(f"{self.what}: accept failed", logging.WARNING,
                                 "%s: accept failed: %s", self.what, exc)
                return
            if self._episode is not None:
                start, pauses = self._episode
                self._episode = None
                self._pause_s = ACCEPT_PAUSE_S[0]
                self.log.info("%s: accepting again after %.1f s (%d pauses); %d clients "
                              "connected", self.what, time.monotonic() - start, pauses,
                              len(self.peers))
            if len(self.peers) >= self.max_clients:
                self.refused_full += 1
                self._pressure_until = time.monotonic() + PRESSURE_MEMORY_S
                sock.close()
                self.limited(f"{self.what}: refused (full)", logging.WARNING,
                             "%s: refused %s:%s: %d clients connected, the cap (--max-clients)",
                             self.what, addr[0], addr[1], len(self.peers))
                continue
            sock.setblocking(False)
            if self.sndbuf:  # bound the kernel's share of a slow client's backlog too
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.sndbuf)
            if self.nodelay:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False)
            peer = Peer(sock, addr, self.max_frame,
                        self.auth_token is None and self.tls is None, self._next_id)
            peer.handshaking = self.tls is not None
            self._next_id += 1
            self.peers[sock] = peer
            self.loop.sel.register(sock, selectors.EVENT_READ, (self, peer))
            self.limited(f"{self.what}: connected", logging.INFO,
                         "%s: %r connected (%d connected)", self.what, peer, len(self.peers))
            if peer.authed and self.on_connect:
                self.on_connect(self, peer)

    def _handshake(self, peer: Peer) -> None:
        try:
            peer.sock.do_handshake()
        except ssl.SSLWantReadError:
            self._watch(peer, selectors.EVENT_READ)
            return
        except ssl.SSLWantWriteError:
            self._watch(peer, selectors.EVENT_READ | selectors.EVENT_WRITE)
            return
        except (ssl.SSLError, OSError) as exc:
            self.refused_tls += 1
            reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
            self.close_peer(peer, f"refused: TLS handshake failed ({reason})",
                            level=logging.WARNING, kind="refused (TLS)")
            return
        peer.handshaking = False
        peer.authed = self.auth_token is None
        self._watch(peer, selectors.EVENT_READ | (selectors.EVENT_WRITE if peer.out else 0))
        if peer.authed and self.on_connect:
            self.on_connect(self, peer)
        if peer.sock.pending():
            self._readable(peer)

    def _watch(self, peer: Peer, events: int) -> None:
        """What the loop waits for on `peer`: reading always, writing while bytes wait."""
        peer.writing = bool(events & selectors.EVENT_WRITE)
        self.loop.sel.modify(peer.sock, events, (self, peer))

    def _readable(self, peer: Peer):
        hook = trace.HOOKS.frames_read
        if hook is not None:
            hook(time.perf_counter_ns())
        try:
            data = peer.sock.recv(RECV_SIZE)
            if self.tls is not None:  # TLS hands over a record at a time: take them all
                while data and peer.sock.pending():
                    data += peer.sock.recv(peer.sock.pending())
        except WOULD_BLOCK:
            return
        except OSError as exc:
            self.close_peer(peer, f"read error: {exc}")
            return
        if not data:
            if peer.decoder.eof_partial():
                self.limited(f"{self.what}: partial frame", logging.WARNING,
                             "%s: %r disconnected inside a frame (partial frame dropped)",
                             self.what, peer)
            self.close_peer(peer, "disconnected")
            return
        peer.heard = True
        self.bytes_in += len(data)
        before = peer.decoder.oversize
        frames = peer.decoder.feed(data)
        if peer.decoder.oversize != before:
            n = peer.decoder.oversize - before
            self.oversize_frames += n
            self.limited(f"{self.what}: oversize frames", logging.WARNING,
                         "%s: %r sent %d frame(s) over %d bytes; dropped", self.what, peer,
                         n, self.max_frame)
        if not peer.authed and frames:
            first = frames.pop(0)
            if first.startswith(AUTH_PREFIX) and hmac.compare_digest(
                    first[len(AUTH_PREFIX):], self.auth_token.encode("utf-8")):
                peer.authed = True
                self.log.info("%s: %r authenticated", self.what, peer)
                if self.on_connect:
                    self.on_connect(self, peer)
            else:
                self.refused_auth += 1
                self.close_peer(peer, "refused: no valid auth token in its first frame",
                                level=logging.WARNING, kind="refused (auth)")
                return
        if frames:
            peer.frames_in += len(frames)
            self.frames_in += len(frames)
            if self.on_frames:
                self.on_frames(self, peer, frames)

    def _writable(self, peer: Peer):
        self._flush(peer)

    # -- output -------------------------------------------------------------------
    def send(self, peer: Peer, data: bytes) -> bool:
        """Queue bytes for one client; False when the client was dropped."""
        if peer.sock not in self.peers:
            return False
        if len(data) > self.largest_send:
            self.largest_send = len(data)
        if peer.out and self.keep_slow_readers and len(peer.out) + len(data) > self.out_cap:
            if not peer.discarded:
                self.log.warning("%s: %r does not read what it is sent (%d bytes waiting): "
                                 "replies beyond that are discarded, its input still counts",
                                 self.what, peer, len(peer.out))
            peer.discarded += len(data)
            self.discarded_bytes += len(data)
            return False
        if peer.out:
            peer.out += data
        else:
            try:
                n = peer.sock.send(data)
            except WOULD_BLOCK:
                n = 0
            except OSError as exc:
                self.close_peer(peer, f"write error: {exc}")
                return False
            peer.bytes_out += n
            self.bytes_out += n
            if n == len(data):
                return True
            peer.out += data[n:]
        if len(peer.out) > self.peak_backlog:
            self.peak_backlog = len(peer.out)
        if len(peer.out) > self.out_cap:
            self.dropped_slow += 1
            self.close_peer(peer, f"too slow: {len(peer.out)} bytes waiting (cap "
                                  f"{self.out_cap}); dropped", level=logging.WARNING)
            return False
        if not peer.writing:
            self._watch(peer, selectors.EVENT_READ | selectors.EVENT_WRITE)
        return True

    def _flush(self, peer: Peer):
        try:
            n = peer.sock.send(peer.out)
        except WOULD_BLOCK:
            return
        except OSError as exc:
            self.close_peer(peer, f"write error: {exc}")
            return
        peer.bytes_out += n
        self.bytes_out += n
        del peer.out[:n]
        if not peer.out and peer.writing:
            self._watch(peer, selectors.EVENT_READ)

    def broadcast(self, data: bytes) -> int:
        """Send to every authenticated client; returns how many got it queued."""
        n = 0
        for peer in list(self.peers.values()):
            if peer.authed and self.send(peer, data):
                n += 1
        return n

    @property
    def client_count(self) -> int:
        return sum(1 for p in self.peers.values() if p.authed)

    def max_backlog(self) -> int:
        return max((len(p.out) for p in self.peers.values()), default=0)

    def close_peer(self, peer: Peer, why: str, level: int = logging.INFO,
                   kind: str = "disconnected"):
        if self.peers.pop(peer.sock, None) is None:
            return
        try:
            self.loop.sel.unregister(peer.sock)
        except (KeyError, ValueError):
            pass
        peer.sock.close()
        if self._paused_until:  # a descriptor came free: accept again at the next turn
            self._paused_until = time.monotonic()
        self.limited(f"{self.what}: {kind}", level, "%s: %r %s (%d connected)", self.what,
                     peer, why, len(self.peers))

    def close(self):
        for peer in list(self.peers.values()):
            # give queued bytes one last chance, then go
            if peer.out:
                try:
                    peer.sock.setblocking(True)
                    peer.sock.settimeout(0.2)
                    peer.sock.sendall(peer.out)
                except OSError:
                    pass
            self.close_peer(peer, "closed: server stopping")
        try:
            self.loop.sel.unregister(self.sock)
        except (KeyError, ValueError):
            pass
        self.limited.flush(all_=True)
        if self in self.loop.servers:
            self.loop.servers.remove(self)
        self.sock.close()


def shedding(*servers: "Server") -> dict:
    """What a process's servers turned away, for its Stats."""
    return {"refused_full": sum(s.refused_full for s in servers),
            "dropped_idle": sum(s.dropped_idle for s in servers),
            "accept_pauses": sum(s.accept_pauses for s in servers),
            "refused_tls": sum(s.refused_tls for s in servers),
            "log_lines_held": sum(s.limited.held_total for s in servers)}


def open_servers(loop: "EventLoop", log: logging.Logger, host: str,
                 specs: List[Tuple[int, str, dict]], **common) -> List["Server"]:
    """All the servers of a process or none: (port, what, options) each, with `common`
    options for all. On PortInUse the ones already listening are closed and it is raised."""
    made: List[Server] = []
    try:
        for port, what, options in specs:
            made.append(Server(loop, host, port, what, log, **common, **options))
    except PortInUse:
        for server in made:
            server.close()
        raise
    return made


class EventLoop:
    """A selectors loop for one thread's servers."""

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.servers: List[Server] = []

    def poll(self, timeout: Optional[float]) -> int:
        now = time.monotonic()
        for server in self.servers:  # their timers: never later than they ask
            wake = server.tick(now)
            timeout = wake if timeout is None else min(timeout, wake)
        if not self.sel.get_map():
            if timeout:
                time.sleep(timeout)
            return 0
        events = self.sel.select(timeout)
        for key, mask in events:
            server, peer = key.data
            if peer is None:
                server._accept()
                continue
            if peer.handshaking:
                if peer.sock in server.peers:
                    server._handshake(peer)
                continue
            if mask & selectors.EVENT_WRITE:
                server._writable(peer)
            if mask & selectors.EVENT_READ and peer.sock in server.peers:
                server._readable(peer)
        return len(events)

    def close(self):
        self.sel.close()


# ---------------------------------------------------------------------------
# Client side
# ---------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------
# Doorbell: a cross-process wake-up that survives kill -9 on either side
# ---------------------------------------------------------------------------
class Doorbell:
    """A reader's UDP socket on 127.0.0.1: the writer sends one byte after each batch and
    the reader wakes from a blocking recv. Nothing is shared but a port number (in the
    price book's header), so it works the same for a process started by the launcher and
    one started in its own terminal, on every OS, and a killed peer leaves no lock held."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def wait(self, timeout: float) -> bool:
        """Block until rung (True) or timeout (False); swallows any extra rings."""
        self.sock.settimeout(timeout)
        try:
            self.sock.recv(64)
        except (socket.timeout, BlockingIOError, InterruptedError):
            return False
        except OSError:  # e.g. Windows WSAECONNRESET from an old ICMP: treat as a ring
            return True
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recv(64)
        except OSError:
            pass
        return True

    def close(self) -> None:
        self.sock.close()


class Ringer:
    """The writer's side: one unconnected UDP socket that rings every registered port."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)

    def ring(self, ports) -> None:
        for port in ports:
            try:
                self.sock.sendto(b"!", ("127.0.0.1", port))
            except OSError:  # nobody there any more, or the buffer is full: a ring is enough
                pass

    def close(self) -> None:
        self.sock.close()


def udp_port_in_use(port: int) -> bool:
    """True when some socket holds this UDP port on 127.0.0.1 (we cannot bind it)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.bind(("127.0.0.1", port))
    except OSError:
        return True
    finally:
        probe.close()
    return False
