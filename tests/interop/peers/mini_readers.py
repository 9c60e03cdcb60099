"""The readers of a Gateway as another team writes them from the assignment text alone: an
OrderBook-style price reader that does `symbol, price = frame.split(",")` and a news reader
that does `int(frame)`. Each reads `--frames` frames and prints one JSON line: how many it
read, and every frame it could not parse.

    python mini_readers.py prices --port P --frames 200
    python mini_readers.py news --port N --frames 5
"""
import argparse
import json
import socket


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=("prices", "news"))
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--frames", type=int, default=100)
    args = ap.parse_args()
    sock = socket.create_connection(("127.0.0.1", args.port))
    sock.settimeout(20)
    buf, read, bad, latest = "", 0, [], {}
    while read < args.frames:
        data = sock.recv(4096)
        if not data:
            break
        buf += data.decode()
        *frames, buf = buf.split("*")
        for frame in frames:
            if read >= args.frames:
                break
            read += 1
            try:
                if args.kind == "prices":
                    symbol, price = frame.split(",")
                    latest[symbol] = float(price)
                else:
                    value = int(frame)
                    assert 0 <= value <= 100
                    latest["news"] = value
            except (ValueError, AssertionError):
                bad.append(frame)
    sock.close()
    print(json.dumps({"read": read, "bad": bad, "latest": latest}), flush=True)


if __name__ == "__main__":
    main()
