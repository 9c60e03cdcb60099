"""`floor`: what any implementation pays on this machine. One round trip between two Python
processes over loopback TCP and UDP, back to back, 5 ms apart (the far end sleeps between
messages and has to be woken, as at 1,000 ticks/s) and 100 ms apart (the demo rate), and the
same Python code hot and after sleeping. tick-to-ack needs at least one wake-up of the Strategy (doorbell) and one TCP round
trip to the OrderManager."""
from __future__ import annotations

import time

import numpy as np

from engine.measure.floor import round_trips
from engine.protocol import Order

from .common import BenchContext, pcts


def floor(ctx: BenchContext) -> dict:
    n_hot, n_idle = ctx.pick((3000, 1000), (300, 100), (100, 30))
    res = _round_trips(n_hot, n_idle)
    res["tick_to_ack_floor_us"] = round(res["udp_rtt_idle_us"]["p50"] / 2
                                        + res["tcp_rtt_idle_us"]["p50"], 1)
    # the demo rate's idle time: 100 ms between rounds
    demo = round_trips(5, ctx.pick(40, 10, 3), gap=0.1)
    for kind in ("tcp", "udp"):
        res[f"{kind}_rtt_demo_us"] = pcts(demo[f"{kind}_rtt_idle_ns"])
    res["tick_to_ack_floor_demo_us"] = round(res["udp_rtt_demo_us"]["p50"] / 2
                                             + res["tcp_rtt_demo_us"]["p50"], 1)
    res.update(_codec(n_hot, n_idle))
    ctx.say("floor: TCP round trip between two processes p50 "
            f"{res['tcp_rtt_hot_us']['p50']} us back to back, "
            f"{res['tcp_rtt_idle_us']['p50']} us 5 ms apart (p99 "
            f"{res['tcp_rtt_idle_us']['p99']}); UDP round trip {res['udp_rtt_hot_us']['p50']}"
            f" / {res['udp_rtt_idle_us']['p50']} us; so tick-to-ack >= ~"
            f"{res['tick_to_ack_floor_us']} us at 1,000 ticks/s before any work "
            f"({res['tick_to_ack_floor_demo_us']} us 100 ms apart, at the demo rate); "
            f"encoding + decoding one order takes {res['order_codec_hot_us']['p50']} us "
            f"back to back, {res['order_codec_cold_us']['p50']} us after 5 ms asleep")
    return res


def _round_trips(n_hot: int, n_idle: int) -> dict:
    """The round trips (engine.measure.floor, as the desk's System map measures them), in
    percentiles."""
    rt = round_trips(n_hot, n_idle)
    return {k.replace("_ns", "_us"): pcts(v) for k, v in rt.items()}


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
