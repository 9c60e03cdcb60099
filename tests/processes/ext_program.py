"""Another team's program, as the external-process tests run it (`python ext_program.py MODE`):

    talk      prints a UTF-8 line, a Latin-1 line, a 100 kB line and 'ready', then waits;
              Ctrl+C (SIGINT / Ctrl+Break) prints 'bye' and exits 0
    stubborn  prints 'ready' and ignores Ctrl+C (a terminate ends it)
    family    starts a grandchild that sleeps, prints 'ready', and waits
    leave     starts a grandchild that ignores Ctrl+C and sleeps, then exits by itself
    listen P  listens on port P (after a moment), prints 'listening', accepts and closes
    spin      prints 'ready' and burns CPU until stopped
"""
import os
import signal
import socket
import subprocess
import sys
import time


def wait_for_ctrl_c():
    try:
        while True:
            time.sleep(0.05)
    except KeyboardInterrupt:
        print("bye", flush=True)
        sys.exit(0)


def main():
    mode = sys.argv[1]
    out = sys.stdout.buffer
    if mode == "talk":
        out.write("caf\u00e9 \u2192 UTF-8\n".encode("utf-8"))
        out.write("na\u00efve Latin-1\n".encode("latin-1"))
        out.write(b"x" * 100_000 + b"\n")
        out.write(b"ready\n")
        out.flush()
        print("to stderr", file=sys.stderr, flush=True)
        wait_for_ctrl_c()
    elif mode == "stubborn":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if hasattr(signal, "SIGBREAK"):
            signal.signal(signal.SIGBREAK, signal.SIG_IGN)
        print("ready", flush=True)
        while True:
            time.sleep(0.05)
    elif mode == "family":
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        print("ready", flush=True)
        wait_for_ctrl_c()
    elif mode == "leave":
        subprocess.Popen([sys.executable, "-c", "import signal, time; "
                          "signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(600)"])
        print("ready", flush=True)
        time.sleep(0.3)
        sys.exit(0)
    elif mode == "listen":
        time.sleep(0.3)
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", int(sys.argv[2])))
        srv.listen()
        print("listening", flush=True)
        srv.settimeout(0.05)
        try:
            while True:
                try:
                    srv.accept()[0].close()
                except socket.timeout:
                    pass
        except KeyboardInterrupt:
            sys.exit(0)
    elif mode == "spin":
        print("ready", flush=True)
        try:
            while True:
                sum(range(10000))
        except KeyboardInterrupt:
            sys.exit(0)
    os._exit(2)


if __name__ == "__main__":
    main()
