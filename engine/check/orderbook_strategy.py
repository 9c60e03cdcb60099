"""The orderbook-strategy card: the checker plays the Gateway (prices and news) and the
OrderManager (it takes orders and answers nothing, as a plain one); the team's OrderBook and
Strategy run against a scripted price path and sentiment:

    warm       flat prices, neutral news, with malformed frames, a lone '*', a frame split
               across two sends (every round is several frames in one send)
    disagree   prices rise, news bearish        -> no order
    back       prices fall, news neutral        -> no order
    agree      prices rise, news bullish        -> a BUY
    held       a dip and a new rise, bullish    -> no second BUY (the position is held)
    down       prices fall, news bearish        -> a SELL
    (the Gateway restarts: both ports close, and listen again 1.5 s later)
    again      flat, then a rise with bullish news -> it reconnected, and a BUY

Any windows up to 20 rounds see each crossover (a phase is 40 rounds, or more)."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import List, Optional, Tuple

from .card import Card, Check, quote
from .target import Target
from .wire import Listener

RATE = 25.0             # price rounds a second
STEP = 0.25             # a round's move in a trend
LATE_S = 0.5            # an order this late after its phase ended still counts for it
CONNECT_WAIT_S = 30.0   # for the component to connect (started by the checker, or by you)
NEWS_WAIT_S = 5.0       # then for its other connection
BAD_FRAMES = (b"garbage*", b"*", b"AAPL;100.00*", b"AAPL,abc*", b"**")


@dataclass
class Phase:
    name: str
    rounds: int
    step: float         # price change a round
    news: int
    start: float = 0.0
    end: float = 0.0


def script() -> List[Phase]:
    return [Phase("warm", 75, 0.0, 50), Phase("disagree", 40, STEP, 20),
            Phase("back", 40, -STEP, 50), Phase("agree", 40, STEP, 80),
            Phase("dip", 8, -STEP, 80), Phase("held", 32, STEP, 80),
            Phase("down", 60, -STEP, 20)]


def after_restart() -> List[Phase]:
    return [Phase("settle", 40, 0.0, 50), Phase("again", 50, STEP, 80)]


def read_order(frame: bytes) -> Tuple[Optional[dict], str]:
    """(side, symbol, qty, price) of an order frame, or None and what is wrong with it."""
    try:
        obj = json.loads(frame)
    except ValueError:
        return None, "not JSON"
    if not isinstance(obj, dict):
        return None, "not a JSON object"
    qty = obj.get("quantity", obj.get("qty"))
    side = obj.get("side", obj.get("action"))
    missing = [k for k, v in (("side", side), ("symbol", obj.get("symbol")),
                              ("quantity", qty), ("price", obj.get("price"))) if v is None]
    if missing:
        return None, f"no {', '.join(missing)}"
    if not isinstance(side, str) or side.upper() not in ("BUY", "SELL"):
        return None, f"side {side!r} is not BUY or SELL"
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        return None, f"quantity {qty!r} is not a positive whole number"
    price = obj.get("price")
    if isinstance(price, bool) or not isinstance(price, (int, float)) or not price > 0:
        return None, f"price {price!r} is not a positive number"
    return {"side": side.upper(), "symbol": obj["symbol"], "qty": qty, "price": price}, ""


class OrderBookStrategyCheck(Check):
    POINTS = (
        ("connects", "connects to the price and news ports"),
        ("bad-frames", "keeps running through malformed frames, a lone '*', a split "
                       "frame, several frames in one read"),
        ("agree", "sends the order the rules call for when crossover and sentiment "
                  "agree (a BUY on the rise, a SELL on the fall)"),
        ("disagree", "sends no order where they disagree"),
        ("held", "sends no second BUY for a position held"),
        ("order-shape", "every frame it sends is an order: JSON with side, symbol, "
                        "quantity and price, ended by *"),
        ("reconnects", "reconnects after the Gateway restarts and trades again"),
    )

    def __init__(self, card: Card, target: Target):
        super().__init__(card, target)
        self.prices = self.news = self.orders = None
        self.price = 100.0

    def listen(self) -> None:
        cfg = self.target.config
        host = cfg.bind_host if not self.target.commands else "127.0.0.1"
        self.prices = Listener(host, cfg.price_port)
        self.news = Listener(host, cfg.news_port)
        if self.orders is None:
            self.orders = Listener(host, cfg.order_port)

    def run(self) -> None:
        try:
            self.listen()
        except OSError as exc:
            from .target import CannotRun
            raise CannotRun(f"the checker cannot listen on its ports: {exc}") from None
        try:
            self._run()
        finally:
            for lst in (self.prices, self.news, self.orders):
                if lst is not None:
                    lst.close()

    def _run(self) -> None:
        c = self.card
        if self.target.commands:
            self.target.start()
        else:
            print(f"listening on {self.target.host}: prices {self.target.config.price_port}, "
                  f"news {self.target.config.news_port}, orders "
                  f"{self.target.config.order_port}: start your OrderBook and Strategy",
                  flush=True)
        ok = self.prices.wait_for(1, CONNECT_WAIT_S) and self.news.wait_for(1, NEWS_WAIT_S)
        c.set("connects", ok, f"price connections: {len(self.prices.live())}, news "
                              f"connections: {len(self.news.live())}"
              + ("" if ok else f" ({CONNECT_WAIT_S:.0f} s for the first, then "
                               f"{NEWS_WAIT_S:.0f} s for the other)"))
        if not ok:
            return
        first_price = self.prices.live()[0]
        phases = script()
        self.play(phases)
        survived = not first_price.closed and self.target.alive() is not False
        orders = self.orders_by_phase(phases)
        self.judge(phases, orders, survived, first_price)
        self.restart()
        again = after_restart()
        reconnected = self.prices.wait_for(1, 10.0) and self.news.wait_for(1, 5.0)
        if not reconnected:
            c.set("reconnects", False, "no new price and news connection within 10 s of the "
                                       "Gateway's return")
        else:
            self.play(again)
            got = self.orders_by_phase(again)["again"]
            buys = [o for o in got if o["side"] == "BUY"]
            c.set("reconnects", bool(buys), "connected again; "
                  + (f"then {self.says(buys[0])}" if buys else "but no BUY on the next "
                                                               "bullish rise"))
        self.judge_shape()

    # -- the script --------------------------------------------------------------------------
    def play(self, phases: List[Phase]) -> None:
        t0 = time.monotonic()
        n = 0
        for ph in phases:
            ph.start = time.monotonic()
            for r in range(ph.rounds):
                self.price = round(self.price + ph.step, 2)
                if r % 5 == 0:
                    self.news.broadcast(b"%d*" % ph.news)
                self.send_round(ph, r)
                n += 1
                time.sleep(max(0.0, t0 + n / RATE - time.monotonic()))
            ph.end = time.monotonic()
        time.sleep(LATE_S)

    def send_round(self, ph: Phase, r: int) -> None:
        prices = b"AAPL,%.2f*MSFT,%.2f*" % (self.price, 300.0)
        if ph.name == "warm" and r == 20:
            self.prices.broadcast(b"".join(BAD_FRAMES))
        if ph.name == "warm" and r == 30:  # one frame in two sends
            head, tail = prices[:7], prices[7:]
            self.prices.broadcast(head)
            time.sleep(0.03)
            self.prices.broadcast(tail)
            return
        self.prices.broadcast(prices)

    def restart(self) -> None:
        """The Gateway goes away (both ports) and comes back on the same ports."""
        self.prices.close()
        self.news.close()
        time.sleep(1.5)
        self.listen()

    # -- what it sent ------------------------------------------------------------------------
    def orders_by_phase(self, phases: List[Phase]) -> dict:
        """The orders that came during each phase (and up to LATE_S after the last one's
        end). A phase's crossover comes within its first rounds, so an order early in a phase
        is that phase's, not a late one of the phase before."""
        out = {ph.name: [] for ph in phases}
        bounds = [ph.start for ph in phases]
        last = phases[-1].end + LATE_S
        for t, f in self.order_frames():
            o, _ = read_order(f)
            if o is None or t > last or t < phases[0].start:
                continue
            i = max(k for k, b in enumerate(bounds) if t >= b)
            out[phases[i].name].append(o)
        return out

    def order_frames(self) -> List[Tuple[float, bytes]]:
        """(time it came, frame) of every frame on the order port so far."""
        return [(t, f) for conn in self.orders.conns for t, f in conn.timed]

    @staticmethod
    def says(o: dict) -> str:
        return f"{o['side']} {o['qty']} {o['symbol']} @ {o['price']}"

    def judge(self, phases, orders, survived, first_price) -> None:
        c = self.card
        buys = [o for o in orders["agree"] if o["side"] == "BUY"]
        sells = [o for o in orders["down"] if o["side"] == "SELL"]
        c.set("agree", bool(buys and sells),
              f"rise + bullish: {', '.join(map(self.says, buys)) or 'no BUY'}; fall + "
              f"bearish: {', '.join(map(self.says, sells)) or 'no SELL'}")
        wrong = orders["warm"] + orders["disagree"] + orders["back"] + \
            [o for o in orders["dip"] if o["side"] == "SELL"]
        c.set("disagree", not wrong, "rise + bearish, fall + neutral, a dip while bullish: "
              + (f"{len(wrong)} order(s), e.g. {self.says(wrong[0])}" if wrong else
                 "no order"))
        twice = self.twice([o for ph in phases for o in orders[ph.name]])
        if not buys:
            c.set("held", None, "no BUY to hold (see above)")
        else:
            c.set("held", not twice, "a dip and a second rise while long: "
                  + (f"{self.says(twice[0])} with the position already there" if twice
                     else "no BUY while long, no SELL while short"))
        traded = bool(buys or sells)
        ok = survived and traded
        c.set("bad-frames", ok, f"sent {quote(b''.join(BAD_FRAMES), 50)} and a frame in two "
                                f"sends; " + ("its price connection stayed open and it "
                                              "traded after" if ok else
                                              f"its price connection: "
                                              f"{first_price.why or 'open'}; "
                                              f"running: {self.target.alive()}; "
                                              f"traded after: {traded}"))

    @staticmethod
    def twice(orders: List[dict]) -> List[dict]:
        """Orders that add to a position already held in their direction (a BUY while long,
        a SELL while short), the position followed from its own orders."""
        held, out = {}, []
        for o in orders:
            pos = held.get(o["symbol"], 0)
            if (o["side"] == "BUY" and pos > 0) or (o["side"] == "SELL" and pos < 0):
                out.append(o)
            held[o["symbol"]] = pos + (o["qty"] if o["side"] == "BUY" else -o["qty"])
        return out

    def judge_shape(self) -> None:
        frames = self.order_frames()
        bad = [(f, why) for f, why in ((f, read_order(f)[1]) for _, f in frames) if why]
        if not frames:
            self.card.set("order-shape", None, "it sent nothing to the order port")
        elif bad:
            f, why = bad[0]
            self.card.set("order-shape", False, f"{len(bad)} of {len(frames)} frames are not "
                                                f"orders, e.g. {quote(f + b'*', 70)}: {why}")
        else:
            self.card.set("order-shape", True, f"{len(frames)} orders, e.g. "
                                               f"{quote(frames[0][1] + b'*', 90)}")
