"""Small blocking socket helpers for integration tests (real TCP on 127.0.0.1)."""
from __future__ import annotations

import json
import socket
import time

from engine.protocol import FrameDecoder, is_hello


def connect(port, timeout=10.0):
    end = time.monotonic() + timeout
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return s
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.02)


def read_frames(sock, n, timeout=10.0):
    """Read until n frames arrived (the OrderManager's hello not counted: skipped); returns
    them (bytes payloads)."""
    dec = FrameDecoder()
    frames = []
    sock.settimeout(timeout)
    end = time.monotonic() + timeout
    while len(frames) < n:
        if time.monotonic() > end:
            raise AssertionError(f"only {len(frames)} of {n} frames arrived")
        data = sock.recv(65536)
        if not data:
            break
        frames += [f for f in dec.feed(data) if not is_hello(f)]
    return frames


def order_frame(coid, side="BUY", symbol="AAPL", qty=10, price=173.2):
    return json.dumps({"type": "order", "client_order_id": coid, "side": side,
                       "symbol": symbol, "qty": qty, "price": price}).encode() + b"*"
