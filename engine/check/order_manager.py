"""The order-manager card: orders as the assignment writes them (a JSON object with side,
symbol, quantity and price, `*`-delimited) from several clients, in every way TCP may cut and
join them, and bad frames among them; each taken once, printed as `Received Order N: SIDE QTY
SYMBOL @ PRICE` with N going up by one (seen when the checker started it)."""
from __future__ import annotations

import json
import re
import time
from typing import Dict, List

from .card import Card, Check, quote
from .target import Target
from .wire import Conn

RECEIVED = re.compile(r"Received Order (\d+): (BUY|SELL) (\d+) ([A-Z0-9.\-]+) @ ([0-9.]+)")
LINE_WAIT_S = 3.0
def meaning(frame: bytes) -> str:
    o = json.loads(frame.rstrip(b"*"))
    return f"{o['side']} {o['quantity']} {o['symbol']} @ {o['price']:.2f}"


class OrderManagerCheck(Check):
    POINTS = (
        ("accepts", "accepts a connection on the order port"),
        ("keeps-open", "keeps a client's connection open after an order"),
        ("several-clients", "takes orders from several clients at once"),
        ("two-in-one", "two orders in one send: each taken once"),
        ("split", "one order split across sends: taken once"),
        ("bad-json", "malformed JSON does not close other clients nor stop it"),
        ("missing-field", "an order without quantity does not close others nor stop it"),
        ("printed", "prints Received Order N: SIDE QTY SYMBOL @ PRICE, N going up by one"),
        ("still-running", "still running at the end"),
        ("acks", "acknowledges orders (beyond the assignment)", False),
    )

    def __init__(self, card: Card, target: Target):
        super().__init__(card, target)
        self.sent: List[bytes] = []      # every order sent, in order
        self.price = 100.0               # the last order's price (each its own)

    def order(self, side: str = "BUY", qty: int = 10, symbol: str = "AAPL") -> bytes:
        """An order as the assignment writes it, each with a price of its own (so its
        printed line tells which order it was)."""
        self.price = round(self.price + 0.01, 2)
        return json.dumps({"side": side, "symbol": symbol, "quantity": qty,
                           "price": self.price}).encode() + b"*"

    def connect(self) -> Conn:
        conn = Conn.to(self.target.host, self.target.config.order_port)
        self.conns.append(conn)
        return conn

    def send(self, conn: Conn, *orders: bytes, pieces: int = 1) -> None:
        self.sent += orders
        data = b"".join(orders)
        if pieces == 1:
            conn.send(data)
            return
        step = max(1, len(data) // pieces)
        for i in range(0, len(data), step):
            conn.send(data[i:i + step])
            time.sleep(0.05)

    def printed(self, orders: List[bytes]) -> Dict[str, int]:
        """How many times each order's line was printed (waiting for them)."""
        want = {meaning(o) for o in orders}

        def seen():
            counts = dict.fromkeys(want, 0)
            for line in self.target.lines():
                m = RECEIVED.search(line)
                if m:
                    key = f"{m[2]} {m[3]} {m[4]} @ {float(m[5]):.2f}"
                    if key in counts:
                        counts[key] += 1
            return counts
        end = time.monotonic() + LINE_WAIT_S
        while time.monotonic() < end and not all(seen().values()):
            time.sleep(0.05)
        time.sleep(0.1)  # a second line for one of them would be here by now
        return seen()

    def taken(self, orders: List[bytes]) -> tuple:
        """(ok or None when the output is not ours to see, evidence) for `orders`."""
        if not self.target.procs:
            return None, "started elsewhere: its output is not the checker's to read"
        counts = self.printed(orders)
        wrong = {k: n for k, n in counts.items() if n != 1}
        if not wrong:
            return True, "printed once each: " + "; ".join(counts)
        return False, "; ".join(f"{k!r} printed {n} times" for k, n in wrong.items())

    def run(self) -> None:
        c = self.card
        if self.target.procs:
            self.target.wait_port(self.target.config.order_port)
        try:
            first = self.connect()
        except OSError as exc:
            c.set("accepts", False, f"connecting to {self.target.host}:"
                                    f"{self.target.config.order_port}: {exc}")
            return
        c.set("accepts", True, f"connected to {self.target.host}:"
                               f"{self.target.config.order_port}")
        one = self.order()
        self.send(first, one)
        open_ = first.alive(0.5)
        c.set("keeps-open", open_,
              f"sent {quote(one)}; " + ("the connection is still open" if open_ else
                                        f"then {first.why}"))
        self._several()
        self._two_in_one()
        self._split()
        self._bad("bad-json", b'{"side":"BUY","symbol":"AAPL",*not json at all*')
        self._bad("missing-field", b'{"side":"BUY","symbol":"AAPL","price":101.5}*')
        self._printed()
        alive = self.target.alive()
        if alive is None:
            try:
                Conn.to(self.target.host, self.target.config.order_port).close()
                c.set("still-running", True, "its order port still accepts")
            except OSError as exc:
                c.set("still-running", False, f"its order port no longer accepts: {exc}")
        else:
            c.set("still-running", alive, "it runs" if alive else
                  f"it exited with code {self.target.exit_codes()}")
        self._acks()

    def _several(self) -> None:
        try:
            clients = [self.connect() for _ in range(3)]
        except OSError as exc:
            self.card.set("several-clients", False, f"a second client could not connect: {exc}")
            return
        orders = [self.order("BUY" if i % 2 else "SELL", 5 + i) for i in range(3)]
        for conn, o in zip(clients, orders):
            self.send(conn, o)
        ok, evidence = self.taken(orders)
        if ok is None:  # its output is not ours to read: the connections say what they can
            closed = [i for i, conn in enumerate(clients) if not conn.alive(0.2)]
            ok = not closed
            evidence = f"client(s) {closed} closed" if closed else "every connection open"
        self.card.set("several-clients", ok, f"3 clients, an order each; {evidence}")

    def _two_in_one(self) -> None:
        conn = self.connect()
        orders = [self.order("BUY", 3), self.order("SELL", 4)]
        self.send(conn, *orders)
        ok, evidence = self.taken(orders)
        if ok is None:
            ok = conn.alive(0.2)
            evidence = "the connection stayed open" if ok else f"then {conn.why}"
        self.card.set("two-in-one", ok,
                      f"sent {quote(b''.join(orders), 50)} in one send; {evidence}")

    def _split(self) -> None:
        conn = self.connect()
        o = self.order("BUY", 7, "MSFT")
        self.send(conn, o, pieces=3)
        ok, evidence = self.taken([o])
        if ok is None:
            ok = conn.alive(0.2)
            evidence = "the connection stayed open" if ok else f"then {conn.why}"
        self.card.set("split", ok,
                      f"sent {quote(o, 40)} in 3 sends 50 ms apart; {evidence}")

    def _bad(self, key: str, junk: bytes) -> None:
        other = self.connect()
        bad = self.connect()
        bad.send(junk)
        still = other.alive(0.3)  # the junk on another connection did not close this one
        o = self.order("SELL", 2)
        self.send(other, o)
        ok, evidence = self.taken([o])
        if ok is None:
            ok, evidence = still, "it stayed open"
        if not still:
            ok, evidence = False, f"the other client's connection, when the junk came: " \
                                  f"{other.why}"
        self.card.set(key, ok, f"sent {quote(junk, 50)} on one connection, then an order on "
                               f"another: {evidence}")

    def _printed(self) -> None:
        if not self.target.procs:
            self.card.set("printed", None, "started elsewhere: its output is not the "
                                           "checker's to read (give --command)")
            return
        self.card.set("printed", *printed_verdict(self.target.lines(), len(self.sent)))

    def _acks(self) -> None:
        frames = [f for conn in self.conns for f in conn.frames]
        acks = [f for f in frames if b'"ack"' in f]
        if acks:
            self.card.set("acks", True, f"{len(acks)} ack(s), e.g. {quote(acks[0], 80)}")
        else:
            self.card.set("acks", None, "no reply to any order (the assignment asks for none)")
        for conn in self.conns:
            conn.close()


def printed_verdict(output: List[str], sent: int) -> tuple:
    """(ok, evidence) of its `Received Order N: SIDE QTY SYMBOL @ PRICE` lines for `sent`
    orders: each line in that shape, one a valid order, N going up by one."""
    lines = [t for t in output if "Received Order" in t]
    odd = [t for t in lines if not RECEIVED.search(t)]
    if odd:
        return False, (f"{len(odd)} line(s) not SIDE QTY SYMBOL @ PRICE, e.g. "
                       f"{odd[0].strip()!r} (a malformed order taken for one?)")
    numbers = [int(RECEIVED.search(t)[1]) for t in lines]
    if not numbers:
        tail = [t for t in output if t.strip()][-1:] or ["nothing"]
        return False, f"no line 'Received Order N: ...'; its last line: {tail[0]!r}"
    steps = sorted({b - a for a, b in zip(numbers, numbers[1:])})
    ok = steps in ([], [1]) and len(numbers) == sent
    return ok, (f"{len(numbers)} lines for {sent} orders sent, N from {numbers[0]} to "
                f"{numbers[-1]}" + ("" if steps in ([], [1]) else f", steps {steps}"))
