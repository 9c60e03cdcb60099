"""What a child reports to the controller every 0.5 s (and when it stops): one typed record.

Each process fills the fields that are its own and leaves the others at zero; a misspelt
field is a TypeError where the report is made, not a silent zero where it is read. Counters
(`counter()`) start at 0 in every run of a process: the controller adds up the runs
(`Stats.add`), the desk and the summary read those totals. The rest are gauges (the latest
value wins)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Dict, Optional


def counter(default: int = 0):
    return field(default=default, metadata={"counter": True})


@dataclass
class Stats:
    # Gateway
    ticks_sent: int = counter()
    news_sent: int = counter()
    rounds: int = counter()
    price_clients: int = 0
    news_clients: int = 0
    max_backlog: int = 0            # bytes queued for the slowest client now
    # OrderBook
    ticks_applied: int = counter()
    reconnects: int = counter()
    connected: bool = False
    shm_bytes: int = 0
    # Strategy
    orders_sent: int = counter()
    orders_acked: int = counter()
    orders_resent: int = counter()
    orders_no_ack: int = counter()   # sent to an OrderManager that sends no acks
    orders_pending: int = 0
    order_manager_acks: Optional[bool] = None
    news_received: int = counter()
    ticks_seen: int = counter()
    stale: bool = False
    positions: Dict[str, int] = field(default_factory=dict)
    latency_us: Dict[str, dict] = field(default_factory=dict)
    # OrderManager
    orders_logged: int = counter()
    orders_duplicate: int = counter()
    orders_assigned_id: int = counter()
    replies_discarded_bytes: int = counter()
    order_clients: int = 0
    confirm_clients: int = 0
    next_order_id: int = 0
    # several
    orders_rejected: int = counter()
    rejection_reasons: Dict[str, int] = field(default_factory=dict)  # reason -> count
    # frames accepted in another team's shape, by name ("orders in the CSV shape" -> count)
    wire_variants: Dict[str, int] = field(default_factory=dict)
    bad_frames: int = counter()
    dropped_slow: int = counter()
    refused_auth: int = counter()
    refused_full: int = counter()    # connections past --max-clients, closed at once
    dropped_idle: int = counter()    # no token in time, or silent while the server was busy
    accept_pauses: int = counter()   # accepts paused for want of descriptors
    refused_tls: int = counter()     # TLS handshakes that failed
    log_lines_held: int = counter()  # connection log lines counted instead of written
    peak_backlog: int = 0           # most bytes ever queued for one client
    largest_send: int = 0
    cpu_s: float = 0.0              # CPU seconds of the process so far (process_time)
    rss_bytes: int = 0              # resident memory now: platforms.resources.rss_bytes
    # each link this process is an end of (gauges of counters: frames, bytes, clients,
    # rejected, connected, error), for the desk's System map (gui/models/system.py)
    links: Dict[str, dict] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # a tool's own figures (the benchmark's)

    COUNTERS = ()  # filled below

    def add(self, other: "Stats") -> "Stats":
        """Counters of both runs added; the gauges of `other` (the later run)."""
        out = replace(other)  # shallow: asdict() deep-copied a universe's positions each call
        for name in self.COUNTERS:
            setattr(out, name, getattr(self, name) + getattr(other, name))
        for name in ("rejection_reasons", "wire_variants"):  # these add up across runs too
            mine = getattr(self, name)
            if mine:
                merged = dict(mine)
                for key, n in getattr(other, name).items():
                    merged[key] = merged.get(key, 0) + n
                setattr(out, name, merged)
        return out

    def as_dict(self) -> dict:
        return asdict(self)


Stats.COUNTERS = tuple(f.name for f in fields(Stats) if f.metadata.get("counter"))
