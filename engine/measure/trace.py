"""Trace hooks: where the engine says what it just did, for whoever measures it.

Each hook is None unless a tool (the benchmark's `breakdown`, a test) sets it in the process
it measures, before the process runs; the engine calls it as `if trace.HOOKS.x: ...x(...)`,
so a hook that is off costs one attribute lookup. Times are `time.perf_counter_ns()`, the
clock every process shares (DESIGN.md section 4). Nothing in the engine is ever replaced at
run time to measure it."""
from __future__ import annotations

from typing import Callable, List, Optional


class Hooks:
    # Strategy
    woke: Optional[Callable[[int], None]] = None
    """(t) its doorbell wait returned: new prices, or the wait's time-out."""
    order_sent: Optional[Callable[[str, int, int, int], None]] = None
    """(client_order_id, tick_ns, t_before, t_after) around sending one order."""
    ack_received: Optional[Callable[[Optional[str], int], None]] = None
    """(client_order_id, t) an ack arrived (before it is handled)."""
    ack_timed: Optional[Callable[[Optional[str], int, int], None]] = None
    """(client_order_id, t, om_ns) an ack that says when the OrderManager handled its order
    (engine/hops.py, the desk's hop-by-hop latency)."""
    # OrderManager
    frames_read: Optional[Callable[[int], None]] = None
    """(t) its loop woke for a client's bytes (before decoding them)."""
    orders_handled: Optional[Callable[[List[bytes], int, int], None]] = None
    """(frames, t_in, t_out) around validating, numbering, logging and acking them."""


HOOKS = Hooks()


def reset() -> None:
    """Every hook off again."""
    for name in [n for n in vars(Hooks) if not n.startswith("_")]:
        setattr(HOOKS, name, None)
