"""The gateway card: both ports accept; every price frame is `SYMBOL,PRICE` and every news
frame an integer 0-100, each ended by `*`; several clients are served at once; a client that
stalls does not stop the others; one that leaves and comes back is served again."""
from __future__ import annotations

import math
import re
import time
from typing import List

from .card import Check, quote
from .wire import Conn

SYMBOL = re.compile(rb"^[A-Z0-9.\-]{1,8}$")
PRICE_FRAMES = 20        # read at least this many prices (or for PRICE_WAIT_S)
PRICE_WAIT_S = 5.0
NEWS_FRAMES = 2
NEWS_WAIT_S = 6.0        # news may come once every few seconds
STALL_S = 3.0


def price_problem(frame: bytes) -> str:
    parts = frame.split(b",")
    if len(parts) != 2:
        return "not SYMBOL,PRICE"
    if not SYMBOL.match(parts[0].strip()):
        return "its symbol is not 1-8 of A-Z 0-9 . -"
    try:
        price = float(parts[1])
    except ValueError:
        return "its price is not a number"
    return "" if price > 0 and math.isfinite(price) else "its price is not finite and positive"


def news_problem(frame: bytes) -> str:
    text = frame.strip()
    if not text.isdigit():
        return "not an integer"
    return "" if 0 <= int(text) <= 100 else "out of 0-100"


class GatewayCheck(Check):
    POINTS = (
        ("price-port", "accepts a connection on the price port"),
        ("news-port", "accepts a connection on the news port"),
        ("price-frames", "every price frame is SYMBOL,PRICE ended by *"),
        ("news-frames", "every news frame is an integer 0-100 ended by *"),
        ("several-clients", "serves several clients at once"),
        ("stalled-client", "a client that stalls does not stop the others"),
        ("comes-back", "a client that disconnects and comes back is served again"),
    )

    def connect(self, port: int, **kw) -> Conn:
        conn = Conn.to(self.target.host, port, **kw)
        self.conns.append(conn)
        return conn

    def run(self) -> None:
        cfg, c = self.target.config, self.card
        if self.target.procs:  # one it started: until both ports accept (a gateway may
            for port in (cfg.price_port, cfg.news_port):  # open them one after the other)
                self.target.wait_port(port)
        conns = {}
        for key, port in (("price-port", cfg.price_port), ("news-port", cfg.news_port)):
            try:
                conns[key] = self.connect(port)
                c.set(key, True, f"connected to {self.target.host}:{port}")
            except OSError as exc:
                c.set(key, False, f"connecting to {self.target.host}:{port}: {exc}")
        try:
            if "price-port" in conns:
                self._frames("price-frames", conns["price-port"], PRICE_FRAMES, PRICE_WAIT_S,
                             price_problem)
            if "news-port" in conns:
                self._frames("news-frames", conns["news-port"], NEWS_FRAMES, NEWS_WAIT_S,
                             news_problem)
            if "price-port" in conns:
                self._several()
                self._stalled()
                self._comes_back()
        finally:
            for conn in self.conns:
                conn.close()

    def _frames(self, key: str, conn: Conn, n: int, seconds: float, problem) -> None:
        got = conn.read(seconds, frames=n)
        if not got:
            why = conn.why or f"nothing in {seconds:.0f} s"
            self.card.set(key, False, f"no frame ended by '*': {why}"
                          + (f"; it sent {quote(conn.head)}" if conn.head else ""))
            return
        bad = [(f, problem(f)) for f in got if problem(f)]
        if bad:
            f, why = bad[0]
            self.card.set(key, False, f"{len(bad)} of {len(got)} frames wrong, e.g. "
                                      f"{quote(f + b'*')}: {why}")
            return
        self.card.set(key, True, f"{len(got)} frames, e.g. "
                                 f"{quote(b'*'.join(got[:3]) + b'*')}")

    def _readers(self, n: int) -> List[Conn]:
        return [self.connect(self.target.config.price_port) for _ in range(n)]

    def _several(self) -> None:
        try:
            readers = self._readers(3)
        except OSError as exc:
            self.card.set("several-clients", False, f"another client could not connect: {exc}")
            return
        counts = []
        end = time.monotonic() + PRICE_WAIT_S
        for r in readers:
            r.read(max(0.1, end - time.monotonic()), frames=3)
        counts = [len(r.frames) for r in readers]
        ok = all(counts)
        self.card.set("several-clients", ok, f"3 more clients at once got {counts} frames"
                      + ("" if ok else " (one got nothing)"))
        for r in readers:
            r.close()

    def _stalled(self) -> None:
        """One client reads nothing (a small receive buffer fills fast); another reads on:
        its frames must keep coming while the stalled one stays stalled."""
        port = self.target.config.price_port
        stalled = self.connect(port, rcvbuf=4096)
        reader = self.connect(port)
        reader.read(1.0)
        before = len(reader.frames)
        if not before:
            self.card.set("stalled-client", False, "the reader got nothing before the stall")
            return
        stalled.sock.settimeout(0.1)
        reader.read(STALL_S)
        late = reader.read(1.0)
        during = len(reader.frames) - before
        ok = bool(late) and not reader.closed
        self.card.set("stalled-client", ok,
                      f"with a client reading nothing for {STALL_S + 1:.0f} s, another got "
                      f"{during} frames, {len(late)} in the last second"
                      + ("" if ok else f" ({reader.why or 'then nothing'})"))
        stalled.close()
        reader.close()

    def _comes_back(self) -> None:
        port = self.target.config.price_port
        first = self.connect(port)
        got = first.read(PRICE_WAIT_S, frames=1)
        first.close()
        time.sleep(0.3)
        try:
            again = self.connect(port)
        except OSError as exc:
            self.card.set("comes-back", False, f"reconnecting: {exc}")
            return
        again_got = again.read(PRICE_WAIT_S, frames=3)
        ok = bool(got) and bool(again_got)
        self.card.set("comes-back", ok, f"before leaving: {len(got)} frame(s); after coming "
                                        f"back: {len(again_got)}"
                      + ("" if ok else f" ({again.why or 'nothing in 5 s'})"))
        again.close()


