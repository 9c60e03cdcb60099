"""EventLoop: one selectors loop for a thread's servers, and their timers."""
from __future__ import annotations

import selectors
import time
from typing import Optional

from .idle import IdleStrategy


class EventLoop:
    """A selectors loop for one thread's servers."""

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.servers: list = []  # its Servers: the loop runs their timers and events
        self.idle = IdleStrategy(0)  # its owner may make it spin after work

    def poll(self, timeout: Optional[float]) -> int:
        now = time.monotonic()
        for server in self.servers:  # their timers: never later than they ask
            wake = server.tick(now)
            timeout = wake if timeout is None else min(timeout, wake)
        if not self.sel.get_map():
            if timeout:
                time.sleep(timeout)
            return 0
        events = self.sel.select(self.idle.timeout(timeout))
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

