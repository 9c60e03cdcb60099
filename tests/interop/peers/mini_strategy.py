"""The order side of a Strategy as another team writes it from the assignment text alone:
each order a JSON object with side, symbol, quantity and price, followed by `*`.

It sends every JSON order given on the command line (or `--repeat` copies of one), then reads
what the server sends back for `--listen` seconds and prints each reply frame on a line of its
own (a plain client may never read at all: `--listen 0 --hold S`).

    python mini_strategy.py --port P '{"side":"BUY","symbol":"AAPL","qty":10,"price":173.2}'
"""
import argparse
import socket
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--listen", type=float, default=2.0)
    ap.add_argument("--expect", type=int, default=0, help="stop listening after this many")
    ap.add_argument("--hold", type=float, default=0.0,
                    help="then keep the connection open this long without reading")
    ap.add_argument("orders", nargs="+")
    args = ap.parse_args()
    sock = socket.create_connection(("127.0.0.1", args.port))
    payload = b"".join(o.encode() + b"*" for o in args.orders)
    for _ in range(args.repeat):
        sock.sendall(payload)
    print("sent", flush=True)
    end = time.time() + args.listen
    buf, got = b"", 0
    sock.settimeout(0.1)
    while time.time() < end and not (args.expect and got >= args.expect):
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        if not data:
            break
        buf += data
        while b"*" in buf:
            frame, buf = buf.split(b"*", 1)
            got += 1
            print(frame.decode(), flush=True)
    time.sleep(args.hold)
    sock.close()


if __name__ == "__main__":
    main()
