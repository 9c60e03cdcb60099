"""Doorbell: a cross-process wake-up that survives kill -9 on either side (a UDP datagram
on 127.0.0.1 after every batch; the reader's port is all that is shared)."""
from __future__ import annotations

import socket


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
        self.drain()
        return True

    def drain(self) -> None:
        """Swallow the rings waiting (a loop's non-blocking socket, found readable)."""
        try:
            while True:
                self.sock.recv(64)
        except OSError:
            pass

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
