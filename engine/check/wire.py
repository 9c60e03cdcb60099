"""The checker's ends of a connection: a client that sends and reads `*`-delimited frames
with timeouts and notices when the peer hangs up, and a listening end that holds the
connections a component makes to it (the checker playing Gateway or OrderManager)."""
from __future__ import annotations

import socket
import threading
import time
from typing import List, Optional

from engine.protocol import FrameDecoder

MAX_FRAME = 64 * 1024
HEAD = 200


class Conn:
    """One connection, blocking with timeouts: send(), read() frames, closed when the peer
    hung up (or a send failed)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.decoder = FrameDecoder(MAX_FRAME)
        self.frames: List[bytes] = []   # every frame read, in order
        self.timed: List[tuple] = []     # (monotonic time it came, frame) of each
        self.head = b""                  # the first bytes it sent (evidence of a bad frame)
        self.closed = False
        self.why = ""                   # how it closed

    @classmethod
    def to(cls, host: str, port: int, timeout: float = 3.0,
           rcvbuf: Optional[int] = None) -> "Conn":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(timeout)
        try:
            s.connect((host, port))
        except OSError:
            s.close()
            raise
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(s)

    def send(self, data: bytes) -> bool:
        if self.closed:
            return False
        try:
            self.sock.sendall(data)
            return True
        except OSError as exc:
            self._closed(f"send failed: {exc}")
            return False

    def read(self, seconds: float, frames: int = 0) -> List[bytes]:
        """Frames read in up to `seconds` (less once `frames` of them came, or it closed)."""
        got: List[bytes] = []
        end = time.monotonic() + seconds
        while not self.closed:
            left = end - time.monotonic()
            if left <= 0 or (frames and len(got) >= frames):
                break
            try:
                self.sock.settimeout(min(left, 0.1))
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError as exc:
                self._closed(f"read failed: {exc}")
                break
            if not data:
                self._closed("it closed the connection")
                break
            if len(self.head) < HEAD:
                self.head += data[:HEAD - len(self.head)]
            new = self.decoder.feed(data)
            got += new
            self.frames += new
            if new:
                now = time.monotonic()
                self.timed += [(now, f) for f in new]
        return got

    def alive(self, seconds: float = 0.3) -> bool:
        """Still open after reading what comes for `seconds`."""
        self.read(seconds)
        return not self.closed

    def _closed(self, why: str) -> None:
        self.closed, self.why = True, why

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True


class Listener:
    """A listening port of the checker's: each connection a component makes is taken on a
    thread and kept in `conns` (frames it sends are read into it)."""

    def __init__(self, host: str, port: int):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.conns: List[Conn] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn = Conn(sock)
            with self.lock:
                self.conns.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: Conn) -> None:
        while not conn.closed and not self.stopping.is_set():
            conn.read(0.2)

    def live(self) -> List[Conn]:
        with self.lock:
            return [c for c in self.conns if not c.closed]

    def wait_for(self, n: int, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if len(self.live()) >= n:
                return True
            time.sleep(0.02)
        return len(self.live()) >= n

    def broadcast(self, data: bytes) -> None:
        for c in self.live():
            c.send(data)

    def frames(self) -> List[bytes]:
        with self.lock:
            return [f for c in self.conns for f in c.frames]

    def close(self) -> None:
        """Stop listening and hang up on every connection (a server that went away)."""
        self.stopping.set()
        self.sock.close()
        self.thread.join(2)
        with self.lock:
            for c in self.conns:
                c.close()
