"""Ports: listening on one (with a message that names the flag to change when it cannot be
had) and finding free ones."""
from __future__ import annotations

import socket
from typing import List

from engine.platforms.oscompat import PORT_FORBIDDEN, PORT_TAKEN, port_forbidden_hint


class PortInUse(OSError):
    """A server port cannot be had (taken by another program, or refused by the OS); the
    message names the port and the flag that changes it."""



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


def free_ports(n: int, host: str = "127.0.0.1") -> List[int]:
    """n distinct TCP ports the OS just handed out (bound to port 0 together, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()
