"""A run in one dict: what `--headless` prints and writes to summary.json, and what the
benchmark and the drill read."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.records.order_log import ORDERS_FILE, accounts_of_log, pnl_of_log

if TYPE_CHECKING:
    from .controller import ProcessController


def run_summary(ctl: "ProcessController") -> dict:
    """The run in one dict (headless prints it, the bench reads it): totals across
    restarts, latency, positions, each process (its role, ours or external, how it ended)
    and each account (its orders, positions and P&L, from the order log: they add up to
    `pnl`)."""
    log, marks = Path(ctl.config.log_dir) / ORDERS_FILE, ctl.memory.marks()
    g, ob, st, om = (ctl.role_totals(role) for role in
                     ("gateway", "orderbook", "strategy", "order_manager"))
    # latency is each Strategy's (percentiles do not add up): the top level gives that of
    # the one with the most samples, `processes` each one's
    strategies = [ctl.totals(n) for n in ctl.roster.with_role("strategy")]
    measured = [t for t in strategies if t.latency_us]
    latency = max(measured, key=lambda t: t.latency_us.get("tick_to_ack", {}).get("count", 0)
                  ).latency_us if measured else NO_LATENCY
    positions: dict = {}
    for t in strategies:  # the net of every Strategy's
        for sym, q in t.positions.items():
            positions[sym] = positions.get(sym, 0) + q
    # an external process reports nothing: a role with one has no whole figure (None)
    external = [n for n in ctl.procs if ctl.roster[n].external]

    def whole(role: str, value):
        return None if any(ctl.roster[n].role == role for n in external) else value

    accounts = accounts_of_log(log, marks)
    # orders logged: the order log's own count (the truth: an OrderManager killed from
    # outside took the count of its last half second with it); its report without a log
    logged = sum(a["orders"] for a in accounts.values()) if log.exists() else om.orders_logged
    return {
        "ticks_sent": whole("gateway", g.ticks_sent),
        "ticks_applied": whole("orderbook", ob.ticks_applied),
        "bad_frames": sum(ctl.totals(n).bad_frames for n in ctl.procs),
        "wire_variants": wire_variants(ctl),
        "news_sent": whole("gateway", g.news_sent),
        "orders_sent": whole("strategy", st.orders_sent),
        "orders_acked": whole("strategy", st.orders_acked),
        "orders_rejected": st.orders_rejected,
        "orders_logged": whole("order_manager", logged),
        "orders_duplicate": om.orders_duplicate,
        "external": external,
        "latency_us": latency,
        "positions": positions,
        # from the OrderManager's log (the truth), marked to the last prices
        "pnl": pnl_of_log(log, marks),
        "accounts": accounts,
        "shm_bytes": ctl.memory.nbytes,
        "processes": {n: process_summary(ctl, n) for n in ctl.procs},
    }


NO_LATENCY = {"tick_to_decision": {"p50": None, "p99": None, "max": None, "count": 0},
              "tick_to_ack": {"p50": None, "p99": None, "max": None, "count": 0}}


def wire_variants(ctl: "ProcessController") -> dict:
    """Frames read in other teams' shapes, by name, over every process and run."""
    out: dict = {}
    for n in ctl.procs:
        for name, k in ctl.totals(n).wire_variants.items():
            out[name] = out.get(name, 0) + k
    return out


def process_summary(ctl: "ProcessController", name: str) -> dict:
    spec, p = ctl.roster[name], ctl.procs[name]
    out = {"role": spec.role, "external": spec.external,
           "command": list(spec.entry.argv(ctl.config_of(name))) if spec.external else None,
           "state": p.state.value, "exitcode": p.exitcode, "ended": how_it_ended(p),
           "restarts": p.restarts}
    if spec.role == "strategy" and not spec.external:
        t = p.totals
        out.update(account=ctl.config_of(name).account, orders_sent=t.orders_sent,
                   orders_acked=t.orders_acked, latency_us=t.latency_us or NO_LATENCY)
    return out


def how_it_ended(p) -> str:
    """'stopped', 'stopped (terminated, SIGTERM)', 'crashed (exit 3)', 'never started'."""
    if p.process is None:
        return "never started"
    if p.exitcode is None:
        return p.state.value  # still running (a summary taken before the end)
    detail = p.exit_detail
    if p.state.value == "crashed":
        return f"crashed ({detail})"
    return f"stopped ({detail})" if detail else "stopped"
