"""A run in one dict: what `--headless` prints and writes to summary.json, and what the
benchmark and the drill read."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.records.order_log import ORDERS_FILE, pnl_of_log

if TYPE_CHECKING:
    from .controller import ProcessController


def run_summary(ctl: "ProcessController") -> dict:
    """The run in one dict (headless prints it, the bench reads it): totals across
    restarts, latency, positions and each process's end."""
    g, ob, st, om = (ctl.role_totals(role) for role in
                     ("gateway", "orderbook", "strategy", "order_manager"))
    latency = st.latency_us or {
        "tick_to_decision": {"p50": None, "p99": None, "max": None, "count": 0},
        "tick_to_ack": {"p50": None, "p99": None, "max": None, "count": 0}}
    return {
        "ticks_sent": g.ticks_sent,
        "ticks_applied": ob.ticks_applied,
        "bad_frames": sum(ctl.totals(n).bad_frames for n in ctl.procs),
        "news_sent": g.news_sent,
        "orders_sent": st.orders_sent,
        "orders_acked": st.orders_acked,
        "orders_rejected": st.orders_rejected,
        "orders_logged": om.orders_logged,
        "orders_duplicate": om.orders_duplicate,
        "latency_us": latency,
        "positions": st.positions,
        # from the OrderManager's log (the truth), marked to the last prices
        "pnl": pnl_of_log(Path(ctl.config.log_dir) / ORDERS_FILE, ctl.memory.marks()),
        "shm_bytes": ctl.memory.nbytes,
        "processes": {n: {"exitcode": p.exitcode, "state": p.state.value,
                          "restarts": p.restarts} for n, p in ctl.procs.items()},
    }
