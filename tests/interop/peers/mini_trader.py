"""An OrderBook and a Strategy as another team writes them from the assignment text alone, in
one script: a thread reads `SYMBOL,PRICE*` from the price port into a dict (their "shared
memory"), another reads `NN*` from the news port; on every price the moving averages (5 and
20) are compared, and on a crossover that the sentiment agrees with (> 60 buys, < 40 sells)
an order `{"side","symbol","quantity","price"}*` goes to the order port. It reconnects to the
Gateway when it goes away, and never reads the order socket.

    python mini_trader.py --price-port P --news-port N --order-port O [--ignore-news]

--ignore-news is a deliberate fault (for the conformance checker's tests): it trades on every
crossover, whatever the sentiment says.
"""
import argparse
import json
import socket
import threading
import time
from collections import deque

latest = {}
sentiment = [50]
lock = threading.Lock()


def frames(port, on_frame):
    """Read `*`-delimited frames from the port for ever, reconnecting when it goes away."""
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", port))
        except OSError:
            time.sleep(0.3)
            continue
        buf = b""
        while True:
            try:
                data = sock.recv(4096)
            except OSError:
                break
            if not data:
                break
            buf += data
            while b"*" in buf:
                frame, buf = buf.split(b"*", 1)
                try:
                    on_frame(frame.decode())
                except (ValueError, UnicodeDecodeError):
                    pass  # a bad frame: skipped
        sock.close()
        time.sleep(0.3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--price-port", type=int, required=True)
    ap.add_argument("--news-port", type=int, required=True)
    ap.add_argument("--order-port", type=int, required=True)
    ap.add_argument("--ignore-news", action="store_true")
    args = ap.parse_args()
    orders = socket.create_connection(("127.0.0.1", args.order_port))
    short, long_ = {}, {}
    position = {}
    was_above = {}

    def on_price(text):
        sym, price = text.split(",")
        price = float(price)
        with lock:
            latest[sym] = price
            mood = sentiment[0]
        s = short.setdefault(sym, deque(maxlen=5))
        lg = long_.setdefault(sym, deque(maxlen=20))
        s.append(price)
        lg.append(price)
        if len(lg) < 20:
            return
        above = sum(s) / len(s) > sum(lg) / len(lg)
        before = was_above.get(sym)
        was_above[sym] = above
        if before is None or above == before:
            return
        held = position.get(sym, 0)
        side = None
        if above and held <= 0 and (args.ignore_news or mood > 60):
            side = "BUY"
        elif not above and held >= 0 and (args.ignore_news or mood < 40):
            side = "SELL"
        if side:
            position[sym] = held + (10 if side == "BUY" else -10)
            order = {"side": side, "symbol": sym, "quantity": 10, "price": price}
            orders.sendall(json.dumps(order).encode() + b"*")
            print(f"sent {side} 10 {sym} @ {price:.2f}", flush=True)

    def on_news(text):
        with lock:
            sentiment[0] = int(text)

    threading.Thread(target=frames, args=(args.news_port, on_news), daemon=True).start()
    print("trading", flush=True)
    frames(args.price_port, on_price)


if __name__ == "__main__":
    main()
