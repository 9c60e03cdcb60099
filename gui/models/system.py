"""The System map's figures, without Qt: what moves between the processes, over which
socket or segment, how fast, and whether a link is flowing, idle, stalled or down.

Every figure comes from the processes' own reports (their `Stats.links`, counters of the
frames and bytes each server and client moved, the errors their clients last met, and the
Strategy's hop-by-hop latency), never from the desk polling a socket. A link's frames/s and
bytes/s are the rates of those counters over the last 2 s of reports. A process this desk
does not run (--remote) has no report, nor has an external one (another team's program): its
links are drawn from what our process at the other end says. A node is a role: with several
processes of a role (two Strategies), it is drawn once, naming them, from the first that
reports."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from engine.control.lifecycle import State
from engine.measure.stats import Stats

from .rates import RateMeter

# the nodes, and where the picture puts them (fractions of its width and height)
NODES: Dict[str, Tuple[float, float]] = {
    "gateway": (0.22, 0.10), "orderbook": (0.75, 0.10), "shm": (0.75, 0.37),
    "strategy": (0.22, 0.37), "order_manager": (0.22, 0.64), "desk": (0.75, 0.64)}
NODE_TITLES = {"gateway": "Gateway", "orderbook": "OrderBook", "strategy": "Strategy",
               "order_manager": "OrderManager", "desk": "Desk", "shm": "SharedPriceBook"}


@dataclass(frozen=True)
class LinkSpec:
    key: str
    src: str
    dst: str
    kind: str           # "tcp" or "shm"
    label: str          # what travels
    server: str         # the process whose report counts it ("" for the desk's own)
    client: str         # the process at the other end (its report says connected/error)
    steady: bool        # traffic should never pause while both ends run (prices, news)


LINKS: Tuple[LinkSpec, ...] = (
    LinkSpec("prices", "gateway", "orderbook", "tcp", "prices", "gateway", "orderbook", True),
    LinkSpec("news", "gateway", "strategy", "tcp", "news", "gateway", "strategy", True),
    LinkSpec("shm_write", "orderbook", "shm", "shm", "writes", "orderbook", "", True),
    LinkSpec("shm_read", "shm", "strategy", "shm", "reads", "strategy", "", False),
    LinkSpec("orders", "strategy", "order_manager", "tcp", "orders", "order_manager",
             "strategy", False),
    LinkSpec("acks", "order_manager", "strategy", "tcp", "acks", "order_manager",
             "strategy", False),
    LinkSpec("confirmations", "order_manager", "desk", "tcp", "confirmations",
             "order_manager", "desk", False),
    LinkSpec("shm_desk", "shm", "desk", "shm", "charts read", "", "", False),
)
PORT_OF = {"prices": "price_port", "news": "news_port", "orders": "order_port",
           "acks": "order_port", "confirmations": "confirm_port"}

STALLED_AFTER_S = 3.0  # a steady link without a frame this long while both ends run

# the hops of tick-to-ack, as the Strategy measures each order (engine/hops.py)
HOP_TITLES = (("wake", "receipt \u2192 shm \u2192 Strategy awake"),
              ("decide", "\u2192 decision"),
              ("handled", "\u2192 sent, handled by the OrderManager"),
              ("ack", "\u2192 ack back"))


@dataclass
class LinkView:
    """One link as the picture draws it."""
    spec: LinkSpec
    status: str = "down"       # "flowing", "idle", "stalled", "down", or "off" (neither
    #                            end runs, and neither crashed: nothing is expected to flow)
    frames_per_s: float = 0.0
    bytes_per_s: Optional[float] = None
    clients: Optional[int] = None
    rejected: int = 0
    error: str = ""

    def text(self) -> str:
        parts = [f"{self.frames_per_s:,.0f}/s"]
        if self.bytes_per_s is not None:
            parts.append(fmt_rate(self.bytes_per_s))
        if self.clients is not None:
            parts.append(f"{self.clients} client{'s' if self.clients != 1 else ''}")
        if self.rejected:
            parts.append(f"{self.rejected:,} rejected")
        return " \u00b7 ".join(parts)


@dataclass
class NodeView:
    key: str
    state: str = "stopped"     # a process's state, "remote", or for shm/desk "up"/"off"
    pid: Optional[int] = None
    cpu_percent: float = 0.0
    detail: str = ""           # the shared-memory block: name, size, rows, updates/s
    names: Tuple[str, ...] = ()      # the processes of the role (when not just the role)
    external: Tuple[str, ...] = ()   # those of them that are not ours


@dataclass
class SystemView:
    nodes: Dict[str, NodeView] = field(default_factory=dict)
    links: Dict[str, LinkView] = field(default_factory=dict)
    hops: List[Tuple[str, Optional[float], Optional[float]]] = field(default_factory=list)
    tick_to_ack: Optional[Tuple[float, float]] = None   # p50, p99 in us (the window's)
    histogram: List[int] = field(default_factory=list)  # tick-to-ack counts, log bins
    hop_window_s: float = 0.0


def fmt_bytes(n: int) -> str:
    """A size as the status bar and the System map both say it."""
    return f"{n:,} B"


def fmt_rate(bytes_per_s: float) -> str:
    if bytes_per_s >= 1e6:
        return f"{bytes_per_s / 1e6:.1f} MB/s"
    if bytes_per_s >= 1e3:
        return f"{bytes_per_s / 1e3:.1f} kB/s"
    return f"{bytes_per_s:.0f} B/s"


FAILED = ("crashed", "killed")  # an end in one of these: its links are down, not off


class SystemModel:
    """Turns the controller's latest reports into a SystemView, twice a second."""

    def __init__(self):
        self.meters: Dict[Tuple[str, str], RateMeter] = {}
        self.last_frame_at: Dict[str, float] = {}
        self._seen: Dict[Tuple[str, str], Tuple[float, int]] = {}

    def _rate(self, key: Tuple[str, str], t: Optional[float], total: Optional[int],
              now: float) -> Optional[float]:
        if total is None or t is None:
            return None
        meter = self.meters.get(key)
        if meter is None:
            meter = self.meters[key] = RateMeter(window=2.0, silence=1.5)
        if self._seen.get(key) != (t, total):
            prev = self._seen.get(key)
            if prev is not None and total < prev[1]:  # a new run of the process: anew
                meter.clear()
            self._seen[key] = (t, total)
            meter.add(t, total)
        return meter.rate(now)

    def view(self, procs: Dict[str, dict], shm: dict, desk: dict,
             now: Optional[float] = None) -> SystemView:
        """procs: name -> {"state", "pid", "cpu", "stats": Stats or None, "time": report
        time, "remote": bool}; shm: {"name", "bytes", "rows"}; desk: {"connected": bool,
        "fps": float}."""
        now = time.time() if now is None else now
        out = SystemView()
        for name, p in procs.items():
            out.nodes[name] = NodeView(name, "remote" if p.get("remote") else str(p["state"]),
                                       p.get("pid"), p.get("cpu", 0.0),
                                       names=tuple(p.get("names", ())),
                                       external=tuple(p.get("external", ())))
        up = {n: v.state in (State.RUNNING.value, "remote") for n, v in out.nodes.items()}
        states = {n: v.state for n, v in out.nodes.items()}
        out.nodes["shm"] = NodeView("shm", "up" if shm.get("bytes") else "off", detail=(
            f"{shm.get('name', '')}\n{fmt_bytes(shm.get('bytes', 0))} \u00b7 "
            f"{shm.get('rows', 0)} rows"))
        out.nodes["desk"] = NodeView("desk", "up")
        up["shm"], up["desk"] = bool(shm.get("bytes")), True
        states["shm"] = "up" if shm.get("bytes") else "none yet"
        for spec in LINKS:
            out.links[spec.key] = self._link(spec, procs, up, states, desk, now)
        rate = out.links["shm_write"].frames_per_s
        out.nodes["shm"].detail += f" \u00b7 {rate:,.0f} updates/s"
        self._hops(out, procs.get("strategy", {}).get("stats"))
        return out

    @staticmethod
    def role_of(states: List[str]) -> str:
        """The state a role's node shows: running while any of its processes runs, else the
        most telling of theirs."""
        for state in ("running", "starting", "waiting", "stopping", "crashed", "killed"):
            if state in states:
                return state
        return "stopped"

    @staticmethod
    def _figures(spec: LinkSpec, procs: Dict[str, dict]) -> dict:
        """frames (a counter), bytes, clients, rejected, error, connected: from the server's
        report when this desk runs it, else from the client's; "t" is that report's time."""
        out: dict = {"t": None}
        for who in filter(None, (spec.server, spec.client)):
            p = procs.get(who) or {}
            st: Optional[Stats] = p.get("stats")
            mine = st.links.get(spec.key) if st is not None else None
            if mine is None:
                continue
            for k, v in mine.items():
                out.setdefault(k, v)
            if out["t"] is None:
                out["t"] = p.get("time")
        return out

    def _link(self, spec: LinkSpec, procs, up, states, desk, now) -> LinkView:
        f = self._figures(spec, procs)
        lv = LinkView(spec)
        if spec.key == "shm_desk":
            lv.frames_per_s = desk.get("fps", 0.0)
        else:
            lv.frames_per_s = self._rate((spec.key, "frames"), f["t"], f.get("frames"),
                                         now) or 0.0
        lv.bytes_per_s = self._rate((spec.key, "bytes"), f["t"], f.get("bytes"), now)
        lv.clients = f.get("clients")
        lv.rejected = int(f.get("rejected") or 0)
        lv.error = f.get("error") or ""
        connected = f.get("connected", True)
        if spec.key == "confirmations":
            connected = desk.get("connected", False)
        ends_up = up.get(spec.src, False) and up.get(spec.dst, False)
        if not ends_up:  # nothing can flow: not the last reports' figures, which lag
            lv.frames_per_s = 0.0
            lv.bytes_per_s = 0.0 if lv.bytes_per_s is not None else None
            lv.clients, lv.rejected = None, 0  # not "1 client" beside a dead server
        if lv.frames_per_s > 0:
            self.last_frame_at[spec.key] = now
        quiet = now - self.last_frame_at.get(spec.key, now - 1e9)
        ends = (spec.src, spec.dst)
        others = [e for e in ends if e != "desk"]  # (the desk is always up: it is us)
        if not any(up.get(e, False) for e in others) and \
                not any(states.get(e) in FAILED for e in ends):
            lv.status, lv.error = "off", ""  # before a start, after a stop: not a fault
            return lv
        if not ends_up or not connected:
            lv.status = "down"
        elif lv.frames_per_s > 0:
            lv.status = "flowing"
        elif spec.steady and quiet > STALLED_AFTER_S:
            lv.status = "stalled"
        else:
            lv.status = "idle"
        if lv.status == "down" and not lv.error and not ends_up:
            gone = [f"{NODE_TITLES[n]} {states.get(n) or 'stopped'}" for n in ends
                    if not up.get(n, False)]
            lv.error = " and ".join(gone)
        return lv

    @staticmethod
    def _hops(out: SystemView, st: Optional[Stats]) -> None:
        hops = (st.latency_us.get("hops") if st is not None else None) or {}
        out.hops = [(title, (hops.get(k) or {}).get("p50"), (hops.get(k) or {}).get("p99"))
                    for k, title in HOP_TITLES]
        total = hops.get("total") or {}
        if total.get("p50") is not None:
            out.tick_to_ack = (total["p50"], total["p99"])
        out.histogram = list(hops.get("histogram") or [])
        out.hop_window_s = float(hops.get("window_s") or 0.0)
