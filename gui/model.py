"""The desk's model: everything the window needs that has nothing to do with Qt.

No Qt import here (the Qt adapter in gui/adapter.py wraps it), so plain pytest drives it in
tests/test_controller_model.py.

* DeskModel wraps one engine ProcessController (which owns every verb, non-blocking, and the
  totals across restarts) and adds what only a window needs: replacing the controller with a
  new Config while everything is stopped, the tick rate, the status line's figures, and a
  `ProcView` of each process for the views.
* ConfirmStream decodes the OrderManager's confirmation stream (FrameDecoder + Confirm.decode),
  counting and skipping bad frames; PositionBook sums BUY minus SELL quantities per symbol.
* Ring is a preallocated history buffer whose latest `n` rows are always one contiguous view
  (every row is written twice), so charts hand NumPy views to setData without copying.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from engine.config.schema import ROLES as PROCESS_NAMES
from engine.config.schema import Config
from engine.control.controller import ProcessController
from engine.control.events import LogLine, StatsUpdate
from engine.control.lifecycle import State
from engine.control.roster import TITLES
from engine.control.supervision import NEVER
from engine.protocol import (Confirm, FrameDecoder, Rejection, RemoteProtocolError, SessionState,
                             decode_json)

__all__ = ["DeskModel", "ProcView", "RateMeter", "ConfirmStream", "PositionBook", "Ring",
           "feed_state", "PROCESS_NAMES", "TITLES", "State"]

STALE_AFTER_S = 2.0  # prices older than this are "stale" (same as the Strategy's rule)
LAST_LINES = 6  # a process's latest log lines kept for the row of a crashed one


class RateMeter:
    """Rate of a monotonic counter from (time, total) samples over the last `window` seconds.
    Reports 0 when no sample arrived for `silence` seconds (the reporting process is gone)."""

    def __init__(self, window: float = 2.0, silence: float = 1.5):
        self.window = window
        self.silence = silence
        self._samples: deque = deque()

    def add(self, t: float, total: int) -> None:
        self._samples.append((t, total))
        while len(self._samples) > 2 and self._samples[0][0] < t - self.window:
            self._samples.popleft()

    def rate(self, now: Optional[float] = None) -> float:
        now = time.time() if now is None else now
        if len(self._samples) < 2 or now - self._samples[-1][0] > self.silence:
            return 0.0
        (t0, c0), (t1, c1) = self._samples[0], self._samples[-1]
        return max(c1 - c0, 0) / (t1 - t0) if t1 > t0 else 0.0

    def clear(self) -> None:
        self._samples.clear()


def feed_state(book, now_ns: Optional[int] = None) -> str:
    """'off' (no shared memory), 'waiting' (no tick yet), 'live', or 'stale' (the OrderBook
    released the book, or no update for STALE_AFTER_S)."""
    if book is None:
        return "off"
    try:
        last = book.last_update_ns
        writer = book.writer_pid
        updates = book.update_counter
    except (AttributeError, TypeError, ValueError):  # closed meanwhile
        return "off"
    if not updates:
        return "waiting"
    if writer == 0:
        return "stale"
    now_ns = time.perf_counter_ns() if now_ns is None else now_ns
    return "stale" if (now_ns - last) / 1e9 > STALE_AFTER_S else "live"


# -- the controller model ---------------------------------------------------------------------
TRACKED = ("ticks_applied", "ticks_sent", "orders_logged", "orders_sent", "bad_frames")


@dataclass(frozen=True)
class ProcView:
    """What a view shows of one process."""
    name: str
    state: State
    pid: Optional[int]
    uptime: float
    restarts: int
    detail: str  # how its last run ended ('' while running or after a clean exit)
    cpu_percent: float = 0.0   # of one core, between its last two reports
    rss_bytes: int = 0         # resident memory at its last report (peak on macOS)
    unresponsive_s: float = 0.0  # running but silent this long (0 while it reports)
    policy: str = NEVER        # restart on crash: 'never' or 'on crash'
    auto: str = ""             # 'restart 1 of 3 in 0.4 s', 'gave up after 3 restarts: ...'
    last_lines: Tuple[str, ...] = ()  # its latest log lines (shown beside a crash)


class DeskModel:
    """A ProcessController plus the window's figures. Every verb returns at once; `poll()`
    (called by a timer) pumps the controller."""

    def __init__(self, config: Config,
                 controller_factory: Callable[[Config], ProcessController] = ProcessController):
        self._factory = controller_factory
        self._listeners: List[Callable] = []
        self.tick_rate = RateMeter()
        self.recent: Dict[str, deque] = {}  # name -> its latest log lines
        self.ctl = self._new_controller(config)

    def _new_controller(self, config: Config) -> ProcessController:
        ctl = self._factory(config)
        ctl.subscribe(self._on_event)
        return ctl

    # -- events ---------------------------------------------------------------------------
    def subscribe(self, callback: Callable) -> None:
        """callback(event): the controller's StateChanged / LogLine / StatsUpdate events."""
        self._listeners.append(callback)

    def _on_event(self, ev) -> None:
        if isinstance(ev, StatsUpdate) and ev.name == "orderbook":
            self.tick_rate.add(ev.time, self.ctl.totals("orderbook").ticks_applied)
        elif isinstance(ev, LogLine):
            lines = self.recent.get(ev.name)
            if lines is None:
                lines = self.recent[ev.name] = deque(maxlen=LAST_LINES)
            lines.append(ev.text)
        for cb in list(self._listeners):
            cb(ev)

    def _log(self, level: int, text: str) -> None:
        self._on_event(LogLine("launcher", level, text, time.time()))

    # -- views ----------------------------------------------------------------------------
    @property
    def config(self) -> Config:
        return self.ctl.config

    @property
    def names(self) -> Tuple[str, ...]:
        return tuple(self.ctl.procs)

    def state(self, name: str) -> Optional[State]:
        return self.ctl.state(name)

    def states(self) -> Dict[str, State]:
        return {n: self.ctl.state(n) for n in self.ctl.procs}

    def view(self, name: str) -> ProcView:
        p = self.ctl.status(name)
        running = p.state.active
        now = time.monotonic()
        return ProcView(name, p.state, p.pid if running else None, p.uptime,
                        p.restarts, p.exit_detail if p.state.finished else "",
                        cpu_percent=p.cpu_percent if running else 0.0,
                        rss_bytes=p.stats.rss_bytes if running else 0,
                        unresponsive_s=p.unresponsive(), policy=p.auto.policy,
                        auto=p.auto.waiting(now) or p.auto.gave_up,
                        last_lines=tuple(self.recent.get(name, ())))

    def any_active(self) -> bool:
        """True while any process is starting, running or stopping (or about to restart)."""
        return self.ctl.any_active()

    def all_finished(self) -> bool:
        return not self.any_active()

    # -- verbs (all non-blocking, the controller's) ----------------------------------------
    def start(self, name: str) -> bool:
        return self.ctl.start(name)

    def stop(self, name: str) -> None:
        self.ctl.stop(name)

    def restart(self, name: str) -> None:
        self.ctl.restart(name)

    def kill(self, name: str) -> None:
        self.ctl.kill(name)

    def set_restart_policy(self, name: str, policy: str) -> None:
        self.ctl.set_restart_policy(name, policy)

    def start_all(self) -> None:
        self.ctl.start_all()

    def stop_all(self) -> None:
        self.ctl.stop_all()

    def poll(self, timeout: float = 0.0) -> int:
        """Pump the controller: events, liveness, stop escalation, stop-all, restarts.
        `timeout` waits that long for a first event (0 from a GUI timer: never blocks)."""
        return self.ctl.poll(timeout)

    # -- configuration --------------------------------------------------------------------
    def replace_config(self, config: Config) -> bool:
        """Use `config` from the next start on: only while every process is stopped. The old
        controller is closed (its shared memory unlinked) and a new one takes its place.
        Returns False when nothing changed."""
        if config == self.ctl.config:
            return False
        if self.any_active():
            raise RuntimeError("stop every process before changing the settings")
        old = self.ctl
        self.ctl = self._new_controller(config)
        for name, p in old.procs.items():  # the restart policies the user chose stay
            if name in self.ctl.procs:
                self.ctl.set_restart_policy(name, p.auto.policy)
        old.close()
        self.tick_rate.clear()
        return True

    # -- figures --------------------------------------------------------------------------
    def figures(self, now: Optional[float] = None) -> dict:
        """What the status line shows."""
        ack = self.ctl.status("strategy").stats.latency_us.get("tick_to_ack") or {} \
            if "strategy" in self.ctl.procs else {}
        return {
            "ticks_per_s": self.tick_rate.rate(now),
            "ticks_applied": self._total("orderbook", "ticks_applied"),
            "ack_p50_us": ack.get("p50"),
            "ack_p99_us": ack.get("p99"),
            "orders": self._total("order_manager", "orders_logged"),
            "rejected": self._total("order_manager", "orders_rejected"),
            "rejections": (self.ctl.totals("order_manager").rejection_reasons
                           if "order_manager" in self.ctl.procs else {}),
            "bad_frames": sum(self.ctl.totals(n).bad_frames for n in self.ctl.procs),
            "shm_bytes": self.ctl.memory.nbytes,
            "feed": feed_state(self.ctl.memory.book),
            "running": sum(1 for n in self.ctl.procs if self.ctl.state(n) == State.RUNNING),
        }

    def _total(self, name: str, counter: str) -> int:
        return getattr(self.ctl.totals(name), counter) if name in self.ctl.procs else 0

    def close(self) -> None:
        """Stop everything (the controller escalates to terminate/kill) and unlink the shm."""
        self.ctl.close()


# -- confirmations ----------------------------------------------------------------------------
class ConfirmStream:
    """Bytes of the confirmations port in, Confirm objects out (and, to a desk that asked for
    the session, its SessionState and Rejection frames); bad frames are counted."""
    KINDS = {"state": SessionState, "rejected": Rejection}

    def __init__(self, max_frame: int = 64 * 1024):
        self.max_frame = max_frame
        self.decoder = FrameDecoder(max_frame)
        self.bad_frames = 0
        self.received = 0
        self.last_error: Optional[str] = None
        self._oversize = 0

    def reset(self) -> None:
        """A new connection: a partial frame of the old one is gone."""
        if self.decoder.eof_partial():
            self.bad_frames += 1
        self.decoder = FrameDecoder(self.max_frame)
        self._oversize = 0

    def feed(self, data: bytes) -> list:
        """Confirm objects, the SessionState the OrderManager sends first on a connection and
        the Rejections it tells a desk of, in the order they came."""
        out: list = []
        for f in self.decoder.feed(data):
            try:
                obj = decode_json(f)
                kind = self.KINDS.get(obj.get("type"), Confirm)
                out.append(kind.from_dict(obj))
            except RemoteProtocolError as exc:
                self.bad_frames += 1
                self.last_error = str(exc)
        if self.decoder.oversize != self._oversize:
            self.bad_frames += self.decoder.oversize - self._oversize
            self._oversize = self.decoder.oversize
        self.received += sum(1 for x in out if isinstance(x, Confirm))
        return out


class PositionBook:
    """Position per symbol from confirmations: BUY qty minus SELL qty."""

    def __init__(self):
        self.positions: Dict[str, int] = {}
        self.fills: Dict[str, int] = {}
        self.last_price: Dict[str, float] = {}

    def apply(self, c: Confirm) -> None:
        delta = c.qty if c.side == "BUY" else -c.qty
        self.positions[c.symbol] = self.positions.get(c.symbol, 0) + delta
        self.fills[c.symbol] = self.fills.get(c.symbol, 0) + 1
        self.last_price[c.symbol] = c.price

    def clear(self) -> None:
        self.positions.clear()
        self.fills.clear()
        self.last_price.clear()

    def reset_to(self, state: SessionState) -> None:
        """The OrderManager's totals for the session (every account): what the book holds
        until the next confirmation."""
        self.clear()
        self.positions.update(state.positions)
        self.fills.update(state.fills)


# -- history ----------------------------------------------------------------------------------
class Ring:
    """Preallocated history of (time, row of `width` floats), oldest dropped at `capacity`.

    Each sample is written at i and i + capacity, so `view()` is always one contiguous slice
    of the arrays: no copy and no allocation per frame."""

    def __init__(self, capacity: int, width: int):
        self.capacity = int(capacity)
        self.width = int(width)
        self._t = np.zeros(2 * self.capacity, dtype=np.float64)
        self._v = np.full((2 * self.capacity, self.width), np.nan, dtype=np.float64)
        self._next = 0   # slot of the next write, 0..capacity-1
        self.count = 0   # samples held, <= capacity
        self.total = 0   # samples ever appended

    def append(self, t: float, values) -> None:
        i = self._next
        j = i + self.capacity
        self._t[i] = self._t[j] = t
        self._v[i] = values
        self._v[j] = self._v[i]
        self._next = i + 1 if i + 1 < self.capacity else 0
        self.count = min(self.count + 1, self.capacity)
        self.total += 1

    def _start(self) -> int:
        # slot of the oldest held sample (with a full ring: the one written next)
        return (self._next - self.count) % self.capacity

    def view(self) -> Tuple[np.ndarray, np.ndarray]:
        """(times, values[n, width]) of the held samples, oldest first (views, not copies)."""
        s = self._start()
        return self._t[s:s + self.count], self._v[s:s + self.count]

    def last(self) -> Optional[Tuple[float, np.ndarray]]:
        if not self.count:
            return None
        i = self._next - 1 if self._next else self.capacity - 1
        return self._t[i], self._v[i]

    def clear(self) -> None:
        self._next = self.count = self.total = 0
