"""The report's rows of issue 27's targets, each a ratio to something measured in the same run
(this machine's speed changes from hour to hour): tick-to-ack over its floor at 1,000
ticks/s and at the demo rate, tick-to-order over its floor, each hop over its own floor,
and each process's memory at the end of the soak over its memory after the first fifth."""
from __future__ import annotations

# (limit on p50 / floor, limit on p99 / floor)
ACK_OVER_FLOOR = (2.0, 4.0)
ORDER_OVER_FLOOR = 2.0
HOP_OVER_FLOOR = 3.0
SOAK_GROWTH_PCT = 10.0

WORK_HOPS = ("awake -> order sending", "OrderManager awake -> handling", "OrderManager handling")


def ratio_rows(rows, r: dict) -> None:
    floor = r.get("floor") or {}
    base = floor.get("tick_to_ack_floor_us")
    for sec, title in (("latency", "launcher"), ("standalone", "standalone Strategy")):
        ack = (r.get(sec) or {}).get("tick_to_ack_us")
        if base and ack:
            _pair(rows, f"tick-to-ack over its floor ({title}, 1,000 ticks/s)", ack, base,
                  "half a UDP and a TCP round trip 5 ms apart")
    demo_floor = floor.get("tick_to_ack_floor_demo_us")
    demo = ((r.get("spin") or {}).get("demo") or [None])[0]
    if demo_floor and demo:
        _pair(rows, "tick-to-ack over its floor (launcher, demo rate, --spin-us 0)",
              demo["tick_to_ack_us"], demo_floor, "the same 100 ms apart")
    order = r.get("tick_to_order") or {}
    if order.get("floor_us"):
        rows.add("tick-to-order over its floor (OrderBook + Strategy alone), p50",
                 round(order["p50"] / order["floor_us"], 2), "x floor", None,
                 f"{order['p50']} us over {order['floor_us']} us (a TCP one-way, the "
                 f"doorbell, a TCP one-way); p99 {order['p99']} us; {order['count']} orders",
                 ("<=", ORDER_OVER_FLOOR))
    hops = r.get("breakdown") or {}
    if base and hops:
        from .latency import hop_floors  # (the report is read where no stack runs)
        floors = hop_floors(floor)
        for hop, d in hops.items():
            f, what = floors.get(hop, (None, ""))
            if f and hop != "tick-to-ack":
                rows.add(f"hop {hop} over its floor, p50", round(d["p50"] / f, 2), "x floor",
                         None, f"{d['p50']} us over {f} us ({what})", ("<=", HOP_OVER_FLOOR))
    for name, p in ((r.get("soak") or {}).get("processes") or {}).items():
        rows.add(f"soak: {name} memory growth after the first fifth", p["growth_pct"], "%",
                 None, f"{p['rss_fifth_mb']} -> {p['rss_end_mb']} MB; last half "
                 f"{p['last_half_growth_pct']}%", ("<=", SOAK_GROWTH_PCT))


def _pair(rows, title: str, ack: dict, floor_us: float, what: str) -> None:
    for q, limit in zip(("p50", "p99"), ACK_OVER_FLOOR):
        rows.add(f"{title}, {q}", round(ack[q] / floor_us, 2), "x floor", None,
                 f"{ack[q]} us over {floor_us} us ({what}); {ack['count']} samples",
                 ("<=", limit))


def hop_bounds(r: dict) -> dict:
    """What holds each hop that is over its target, from the run's own figures."""
    floor, hops = r.get("floor") or {}, r.get("breakdown") or {}
    if "order_codec_cold_us" not in floor or not hops:
        return {}
    hot, cold = floor["order_codec_hot_us"]["p50"], floor["order_codec_cold_us"]["p50"]
    out = {}
    first = ("OrderBook receipt -> Strategy awake", "awake -> order sending", "order send call",
             "sent -> OrderManager awake")
    if all(h in hops for h in first):
        out["tick-to-order"] = (
            "its path is tick-to-ack's first four hops plus the Gateway's send: p50s "
            + ", ".join(f"{h} {hops[h]['p50']} us" for h in first)
            + f"; the Strategy's decision is Python work {cold / hot:.1f} x slower than hot")
    for hop in [h for h in hops if h != "tick-to-ack"]:
        if hop in WORK_HOPS:
            out[f"hop {hop}"] = (
                f"Python work in a process that slept: the same order encoded and decoded "
                f"takes {cold} us after 5 ms asleep against {hot} us hot ({cold / hot:.1f} "
                f"x), so a hop of Python work stands 10-20 x its hot floor whatever it does")
        else:
            out[f"hop {hop}"] = (
                f"a wake-up: the floor is the same kernel primitive between two idle Python "
                f"processes; the hop adds the Python around it (a select, a recv, a decode) in "
                f"a process that slept, and its p99 ({hops[hop]['p99']} us) is a woken process "
                f"waiting for a core")
    return out
