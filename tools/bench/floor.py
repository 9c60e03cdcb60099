"""`floor`: what any implementation pays on this machine. One round trip between two Python
processes over loopback TCP and UDP, back to back and 5 ms apart (the far end sleeps between
messages and has to be woken, as at 1,000 ticks/s), and the same Python code hot and after
sleeping. tick-to-ack needs at least one wake-up of the Strategy (doorbell) and one TCP round
trip to the OrderManager."""
from __future__ import annotations

import multiprocessing as mp
import socket
import time

import numpy as np

from engine.protocol import Order

from .common import BenchContext, after, pcts
from .procs import run_echo


def floor(ctx: BenchContext) -> dict:
    n_hot, n_idle = ctx.pick((3000, 1000), (300, 100), (100, 30))
    res = _round_trips(n_hot, n_idle)
    res["tick_to_ack_floor_us"] = round(res["udp_rtt_idle_us"]["p50"] / 2
                                        + res["tcp_rtt_idle_us"]["p50"], 1)
    res.update(_codec(n_hot, n_idle))
    ctx.say("floor: TCP round trip between two processes p50 "
            f"{res['tcp_rtt_hot_us']['p50']} us back to back, "
            f"{res['tcp_rtt_idle_us']['p50']} us 5 ms apart (p99 "
            f"{res['tcp_rtt_idle_us']['p99']}); UDP round trip {res['udp_rtt_hot_us']['p50']}"
            f" / {res['udp_rtt_idle_us']['p50']} us; so tick-to-ack >= ~"
            f"{res['tick_to_ack_floor_us']} us at 1,000 ticks/s before any work; "
            f"encoding + decoding one order takes {res['order_codec_hot_us']['p50']} us "
            f"back to back, {res['order_codec_cold_us']['p50']} us after 5 ms asleep")
    return res


def _round_trips(n_hot: int, n_idle: int) -> dict:
    spawn = mp.get_context("spawn")
    ports, stop = spawn.Queue(), spawn.Event()
    proc = spawn.Process(target=run_echo, args=(ports, stop), daemon=True)
    proc.start()
    res = {}
    try:
        tcp_port, udp_port = ports.get(timeout=30)
        tcp = socket.create_connection(("127.0.0.1", tcp_port), timeout=5)
        tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        msg = b"x" * 64

        def tcp_rtt():
            t = time.perf_counter_ns()
            tcp.sendall(msg)
            got = 0
            while got < len(msg):
                got += len(tcp.recv(4096))
            return time.perf_counter_ns() - t

        res["tcp_rtt_hot_us"] = pcts([tcp_rtt() for _ in range(n_hot)])
        res["tcp_rtt_idle_us"] = pcts([after(0.005, tcp_rtt) for _ in range(n_idle)])
        tcp.close()
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.settimeout(5)

        def udp_rtt():
            t = time.perf_counter_ns()
            udp.sendto(b"!", ("127.0.0.1", udp_port))
            udp.recvfrom(64)
            return time.perf_counter_ns() - t

        res["udp_rtt_hot_us"] = pcts([udp_rtt() for _ in range(n_hot)])
        res["udp_rtt_idle_us"] = pcts([after(0.005, udp_rtt) for _ in range(n_idle)])
        udp.close()
    finally:
        stop.set()
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join(5)
        ports.close()
        ports.join_thread()
    return res


def _codec(n_hot: int, n_idle: int) -> dict:
    """The same Python code is slower in a process that slept while others ran."""
    junk = np.ones(2_000_000)
    order = Order(client_order_id="bench-1-1", side="BUY", symbol="AAPL", qty=10,
                  price=172.5, tick_ns=1)

    def round_trip():
        t = time.perf_counter_ns()
        Order.decode(order.encode()[:-1])
        return time.perf_counter_ns() - t

    def disturbed():
        time.sleep(0.005)
        junk.sum()  # another workload goes through the caches meanwhile
        return round_trip()

    return {"order_codec_hot_us": pcts([round_trip() for _ in range(n_hot)]),
            "order_codec_cold_us": pcts([disturbed() for _ in range(n_idle)])}
