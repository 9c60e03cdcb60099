"""An OrderManager as another team writes it from the assignment text alone: it reads
`*`-delimited JSON orders from any number of clients, prints `Received Order N: ...` for each,
and never answers anything. What it received is recorded with its time in `--record`.

    python mini_order_manager.py --port P --record received.jsonl [--close-after-first]

--close-after-first is a deliberate fault (for the conformance checker's tests): every
connection is closed after its first frame.
"""
import argparse
import json
import socket
import threading
import time

count = 0
lock = threading.Lock()


def handle(conn, out, close_after_first=False):
    global count
    buf = b""
    while True:
        try:
            data = conn.recv(4096)
        except OSError:
            return
        if not data:
            return
        buf += data
        while b"*" in buf:
            frame, buf = buf.split(b"*", 1)
            t = time.time()
            try:
                order = json.loads(frame)
                side, symbol = order["side"], order["symbol"]
                qty, price = order.get("quantity", order.get("qty")), order["price"]
            except (ValueError, KeyError, TypeError) as exc:
                print(f"Bad order ({exc!r}): {frame[:80]!r}", flush=True)
                continue
            with lock:
                count += 1
                n = count
                print(f"Received Order {n}: {side} {qty} {symbol} @ {price:.2f}", flush=True)
                out.write(json.dumps({"t": t, "n": n, "side": side, "qty": qty,
                                      "symbol": symbol, "price": price}) + "\n")
                out.flush()
            if close_after_first:
                conn.close()
                return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--close-after-first", action="store_true")
    args = ap.parse_args()
    out = open(args.record, "w", encoding="utf-8")
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen()
    print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(conn, out, args.close_after_first),
                         daemon=True).start()


if __name__ == "__main__":
    main()
