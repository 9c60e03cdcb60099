"""A Gateway as another team writes it from the assignment text alone: a price port that
sends `SYMBOL,PRICE*` and a news port that sends `NN*`, blocking sockets, a thread per port.

It plays a fixed script so that a test knows when a strategy should trade: each symbol's price
is a triangle wave (up for `--half` rounds, then down), and the news is bullish (80) while
prices rise and bearish (20) while they fall. The script starts once a price client and a news
client are connected; every frame sent is recorded with its time in `--record` (JSON lines).

    python mini_gateway.py --price-port P --news-port N --symbols AAPL --record sent.jsonl

--shape timestamp|json|json-kv sends the prices in another team's shape (`AAPL,100.25,<time>*`,
`{"type":"prices","data":{"AAPL":100.25}}*`, `{"symbol":"AAPL","price":100.25}*`).

--news-words is a deliberate fault (for the conformance checker's tests): the news is sent as
a word ("bullish*"), not a number.
"""
import argparse
import json
import socket
import threading
import time


def serve(port, clients, lock, late=0.0):
    time.sleep(late)  # (a gateway that opens this port a moment after the other)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen()
    while True:
        conn, _ = srv.accept()
        with lock:
            clients.append(conn)


def broadcast(clients, lock, text):
    with lock:
        for c in list(clients):
            try:
                c.sendall(text.encode())
            except OSError:
                clients.remove(c)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--price-port", type=int, required=True)
    ap.add_argument("--news-port", type=int, required=True)
    ap.add_argument("--symbols", default="AAPL")
    ap.add_argument("--rounds-per-s", type=float, default=20.0)
    ap.add_argument("--half", type=int, default=40, help="rounds up, then as many down")
    ap.add_argument("--step", type=float, default=0.25)
    ap.add_argument("--rounds", type=int, default=240)
    ap.add_argument("--record", required=True)
    ap.add_argument("--news-words", action="store_true")
    ap.add_argument("--news-late", type=float, default=0.0,
                    help="open the news port this many seconds after the price port")
    ap.add_argument("--shape", choices=["assignment", "timestamp", "json", "json-kv"],
                    default="assignment")
    args = ap.parse_args()
    symbols = args.symbols.split(",")
    lock = threading.Lock()
    prices, news = [], []
    for port, clients, late in ((args.price_port, prices, 0.0),
                                (args.news_port, news, args.news_late)):
        threading.Thread(target=serve, args=(port, clients, lock, late), daemon=True).start()
    print("listening", flush=True)
    while True:
        with lock:
            if prices and news:
                break
        time.sleep(0.01)
    out = open(args.record, "w", encoding="utf-8")
    interval = 1.0 / args.rounds_per_s
    start = time.time()
    mood = None
    for r in range(args.rounds):
        phase = r % (2 * args.half)
        rising = phase < args.half
        level = phase if rising else 2 * args.half - phase
        if rising != mood or r % 5 == 0:  # news at every turn and every 5 rounds
            mood = rising
            value = 80 if rising else 20
            word = "bullish" if rising else "bearish"
            broadcast(news, lock, f"{word if args.news_words else value}*")
            out.write(json.dumps({"t": time.time(), "news": value}) + "\n")
        for i, sym in enumerate(symbols):
            price = round(100.0 + 10 * i + args.step * level, 2)
            broadcast(prices, lock, {
                "assignment": f"{sym},{price:.2f}*",
                "timestamp": f"{sym},{price:.2f},{time.time():.3f}*",
                "json": json.dumps({"type": "prices", "data": {sym: price}}) + "*",
                "json-kv": json.dumps({"symbol": sym, "price": price}) + "*"}[args.shape])
            out.write(json.dumps({"t": time.time(), "symbol": sym, "price": price}) + "\n")
        out.flush()
        time.sleep(max(0.0, start + (r + 1) * interval - time.time()))
    out.close()
    print("done", flush=True)
    while True:  # keep the connections open until killed
        time.sleep(1)


if __name__ == "__main__":
    main()
