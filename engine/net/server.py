"""Server: a non-blocking multi-client server on a shared selectors loop. It only moves
bytes (the protocol is engine.protocol's); every server:

* binds to the configured address (127.0.0.1 by default) and says clearly when the port is taken;
* keeps a FrameDecoder per client (frames are capped) and a capped output buffer per client:
  a client that stops reading is dropped when its buffer passes the cap, so it never stalls
  the others or grows our memory without end;
* when an auth token is configured, lets a client in only after its first frame is
  `AUTH <token>` (within the shedder's AUTH_TIMEOUT_S);
* with a TLS context (engine.net.tls), speaks TLS: the handshake is driven by the loop like
  any read or write (never blocking the other clients), must end within AUTH_TIMEOUT_S, and
  a client that fails it (plain text, a certificate it does not trust) is refused and
  counted;
* sheds load instead of spinning (its LoadShedder, engine.net.shedding);
* logs each kind of connection event at most LOG_BURST times in LOG_WINDOW_S, then how many
  more there were (LogLimiter).
"""
from __future__ import annotations

import hmac
import logging
import selectors
import socket
import ssl
import time
from typing import Callable, Dict, List, Optional, Tuple

from engine.measure import trace
from engine.protocol import AUTH_PREFIX, FrameDecoder

from .client import RECV_SIZE
from .loglimit import LogLimiter
from .loop import EventLoop
from .ports import PortInUse, listen
from .shedding import LoadShedder

# a non-blocking socket (plain or TLS) that cannot go on now: try again when it is ready
WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
MAX_CLIENTS = 1000           # per server, unless --max-clients says otherwise


# a peer that hangs up with unread bytes in its socket resets the connection: a disconnect,
# not a fault (a plain Strategy that closes without reading its acks does it every time)
HANG_UPS = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)


def _why(exc: OSError, doing: str) -> str:
    if isinstance(exc, HANG_UPS):
        return "disconnected (it hung up without reading all it was sent)"
    return f"{doing} error: {exc}"


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


class Server:
    """A listening socket and its clients, driven by a shared selectors loop (`EventLoop`)."""

    def __init__(self, loop: EventLoop, host: str, port: int, what: str,
                 log: logging.Logger, *, max_frame: int = 64 * 1024,
                 out_cap: int = 1024 * 1024, auth_token: Optional[str] = None,
                 on_frames: Optional[FramesHandler] = None,
                 on_connect: Optional[Callable[["Server", Peer], None]] = None,
                 on_close: Optional[Callable[["Server", Peer], None]] = None,
                 nodelay: bool = False, sndbuf: int = 256 * 1024,
                 keep_slow_readers: bool = False, max_clients: int = MAX_CLIENTS,
                 input_port: bool = False, tls: Optional[ssl.SSLContext] = None):
        self.loop = loop
        self.tls = tls
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
        self.on_close = on_close  # a client went (whatever the reason)
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
        self.refused_tls = 0      # TLS handshakes that failed (plain text, untrusted...)
        self.frames_in = self.bytes_in = self.bytes_out = 0  # over every client, ever
        self.limited = LogLimiter(log)
        self.shed = LoadShedder(what, log, max_clients, input_port)
        loop.sel.register(self.sock, selectors.EVENT_READ, (self, None))
        loop.servers.append(self)
        log.info("%s server listening on %s:%d", what, host, self.port)

    # -- timers -------------------------------------------------------------------
    def tick(self, now: float) -> float:
        """The loop's turn for our timers: accepting again after a pause, dropping clients
        past their time (the shedder's rules), the log counts. Returns the seconds until it
        wants to run again."""
        if self.shed.resume_due(now):
            self.loop.sel.register(self.sock, selectors.EVENT_READ, (self, None))
        if self.shed.sweep_due(now):
            busy = self.shed.under_pressure(now, len(self.peers))
            for peer in list(self.peers.values()):
                why = self.shed.overdue(peer, now, busy)
                if why:
                    self.close_peer(peer, why, level=logging.WARNING, kind="dropped (idle)")
            self.limited.flush()
        return self.shed.wake_in(now)

    def _unwatch_listener(self) -> None:
        try:
            self.loop.sel.unregister(self.sock)
        except (KeyError, ValueError):
            pass

    # -- events from the loop -----------------------------------------------------
    def _accept(self):
        for _ in range(64):
            try:
                sock, addr = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if self.shed.out_of_descriptors(exc):
                    self.shed.pause_accepting(exc, len(self.peers))
                    self._unwatch_listener()
                else:
                    self.limited(f"{self.what}: accept failed", logging.WARNING,
                                 "%s: accept failed: %s", self.what, exc)
                return
            self.shed.accepted(len(self.peers))
            if self.shed.full(len(self.peers)):
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
            self.close_peer(peer, _why(exc, "read"))
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
                self.close_peer(peer, _why(exc, "write"))
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
            self.close_peer(peer, _why(exc, "write"))
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
        self.shed.descriptor_freed()
        if self.on_close:
            self.on_close(self, peer)
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
        self._unwatch_listener()
        self.limited.flush(all_=True)
        if self in self.loop.servers:
            self.loop.servers.remove(self)
        self.sock.close()


def shed_totals(*servers: "Server") -> dict:
    """What a process's servers turned away, for its Stats."""
    return {"refused_full": sum(s.shed.refused_full for s in servers),
            "dropped_idle": sum(s.shed.dropped_idle for s in servers),
            "accept_pauses": sum(s.shed.accept_pauses for s in servers),
            "refused_tls": sum(s.refused_tls for s in servers),
            "log_lines_held": sum(s.limited.held_total for s in servers)}


def open_servers(loop: EventLoop, log: logging.Logger, host: str,
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

