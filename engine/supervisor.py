"""ProcessController: starts, stops and restarts each of the four processes on its own, owns the
shared memory, and turns what the children report into typed events. No Qt in here: the GUI
wraps it in a thin adapter, the headless launcher polls it directly.

Children are started with the `spawn` context on every OS. Each has its own stop Event; stop()
asks politely, and poll() escalates to terminate() and then kill() after a grace period, so a
hung child never outlives the controller.
"""
from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection
import os
import queue
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from .config import Config
from .gateway import run_gateway
from .order_manager import run_order_manager
from .oscompat import exit_text
from .orderbook import run_orderbook
from .runtime import StopFlag, child_entry
from .shared_memory_utils import SharedPriceBook, SignalBook
from .strategy import run_strategy

PROCESS_NAMES = ("gateway", "orderbook", "strategy", "order_manager")
TITLES = {"gateway": "Gateway", "orderbook": "OrderBook", "strategy": "Strategy",
          "order_manager": "OrderManager"}
# Servers first so clients connect at once (they would retry anyway).
START_ORDER = ("order_manager", "gateway", "orderbook", "strategy")
# Strategy first (it waits for its acks), then the Gateway so the OrderBook can drain every
# tick it was sent, then the OrderBook, then the OrderManager.
STOP_ORDER = ("strategy", "gateway", "orderbook", "order_manager")

STOPPED, STARTING, RUNNING, STOPPING, CRASHED = "stopped", "starting", "running", "stopping", \
    "crashed"
GRACE_S = 3.0       # polite stop -> terminate()
KILL_AFTER_S = 2.0  # terminate() -> kill()

COUNTERS = ("ticks_sent", "news_sent", "ticks_applied", "orders_sent", "orders_acked",
            "orders_rejected", "orders_resent", "orders_logged", "orders_duplicate",
            "dropped_slow", "refused_auth")


# -- events ---------------------------------------------------------------------------
@dataclass(frozen=True)
class StateChanged:
    name: str
    state: str
    pid: Optional[int]
    exitcode: Optional[int]
    time: float
    detail: str = ""  # how it ended, for people: "exit 1", "SIGSEGV", "killed (SIGKILL)"


@dataclass(frozen=True)
class LogLine:
    name: str
    level: int
    text: str
    time: float


@dataclass(frozen=True)
class StatsUpdate:
    name: str
    stats: dict
    time: float


@dataclass
class ProcState:
    name: str
    state: str = STOPPED
    process: Optional[mp.process.BaseProcess] = None
    stop_event: object = None
    pid: Optional[int] = None
    exitcode: Optional[int] = None
    started_at: Optional[float] = None
    stop_deadline: Optional[float] = None
    terminated: bool = False
    killed: bool = False  # kill() ended this run (its exit code then says SIGTERM on Windows)
    restarts: int = 0
    queue: object = None
    stats: dict = field(default_factory=dict)
    totals: dict = field(default_factory=dict)  # counters of earlier runs of this process

    @property
    def exit_detail(self) -> str:
        """How the last run ended, in the platform's words ('' while running or after a
        clean exit)."""
        if self.killed:
            return exit_text(self.exitcode, killed=True)
        return "" if self.exitcode in (None, 0) else exit_text(self.exitcode)

    @property
    def uptime(self) -> float:
        if self.started_at is None or self.state in (STOPPED, CRASHED):
            return 0.0
        return time.monotonic() - self.started_at


class ProcessController:
    def __init__(self, config: Config, ctx=None, targets: Optional[Dict[str, Callable]] = None):
        self.config = config
        self.ctx = ctx or mp.get_context("spawn")
        self.book_lock = self.ctx.Lock()
        self.targets = targets or {"gateway": run_gateway, "orderbook": run_orderbook,
                                   "strategy": run_strategy, "order_manager": run_order_manager}
        self.procs: Dict[str, ProcState] = {n: ProcState(n) for n in self.targets}
        self._listeners: List[Callable] = []
        self.book: Optional[SharedPriceBook] = None
        self.signal_book: Optional[SignalBook] = None
        self.closed = False

    # -- subscription -------------------------------------------------------------
    def subscribe(self, callback: Callable) -> None:
        """callback(event) for StateChanged, LogLine and StatsUpdate events (from poll())."""
        self._listeners.append(callback)

    def unsubscribe(self, callback: Callable) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _emit(self, event) -> None:
        for cb in list(self._listeners):
            cb(event)

    def _set_state(self, p: ProcState, state: str) -> None:
        if p.state != state:
            p.state = state
            self._emit(StateChanged(p.name, state, p.pid, p.exitcode, time.time(),
                                    p.exit_detail if state in (STOPPED, CRASHED) else ""))

    # -- shared memory ------------------------------------------------------------
    def ensure_shared_memory(self) -> None:
        """Create the price and signal books (the controller owns and unlinks them)."""
        if self.book is None:
            self.book = SharedPriceBook(self.config.symbols, name=self.config.shm_name,
                                        lock=self.book_lock)
            if self.book.replaced_stale:
                self._log("launcher", 30, f"replaced a stale shared-memory segment "
                                          f"{self.config.shm_name!r} left by a crashed run")
        if self.signal_book is None:
            self.signal_book = SignalBook(self.config.symbols, name=self.config.signal_shm_name)

    def release_shared_memory(self) -> None:
        for attr in ("book", "signal_book"):
            b = getattr(self, attr)
            if b is not None:
                b.close()
                b.unlink()
                setattr(self, attr, None)

    @property
    def shm_bytes(self) -> int:
        return sum(b.nbytes for b in (self.book, self.signal_book) if b is not None)

    # -- control ------------------------------------------------------------------
    def _kwargs(self, name: str) -> dict:
        if name == "orderbook":
            return {"lock": self.book_lock}
        return {}

    def start(self, name: str) -> bool:
        """Start one process; False when it is already running (harmless)."""
        p = self.procs[name]
        if p.process is not None and p.process.is_alive():
            return False
        self.ensure_shared_memory()
        if name == "orderbook" and p.exitcode not in (None, 0):
            # it may have died holding the writers' lock: hand the new one a fresh lock
            self.book_lock = self.ctx.Lock()
            self.book._lock = self.book_lock
        self._retire(p)
        self._drop_queue(p)
        p.stop_event = StopFlag(self.ctx)  # never a multiprocessing.Event: see StopFlag
        # one report queue per child: a child killed while writing to a shared queue
        # would hold its lock forever and silence every other child
        p.queue = self.ctx.Queue()
        proc = self.ctx.Process(
            target=child_entry, name=f"ipcdesk-{name}",
            args=(name, self.targets[name], self.config, p.stop_event, p.queue,
                  self._kwargs(name)),
            daemon=True)
        proc.start()
        p.process, p.pid, p.exitcode = proc, proc.pid, None
        p.started_at = time.monotonic()
        p.stop_deadline = None
        p.terminated = False
        p.killed = False
        p.stats = {}
        self._set_state(p, STARTING)
        return True

    def _retire(self, p: ProcState) -> None:
        """Fold the counters of a finished run into the totals before a new one starts."""
        if p.stats:
            for k in COUNTERS:
                if isinstance(p.stats.get(k), int):
                    p.totals[k] = p.totals.get(k, 0) + p.stats[k]
            p.restarts += 1
        p.stats = {}

    def stop(self, name: str, wait: bool = True, timeout: float = GRACE_S + KILL_AFTER_S + 2):
        """Ask one process to stop. With wait, returns once it has exited."""
        p = self.procs[name]
        if p.process is None or p.state in (STOPPED, CRASHED):
            return
        if p.state != STOPPING:
            p.stop_event.set()
            p.stop_deadline = time.monotonic() + GRACE_S
            self._set_state(p, STOPPING)
        if wait:
            end = time.monotonic() + timeout
            while p.state == STOPPING and time.monotonic() < end:
                p.process.join(0.05)
                self.poll()

    def restart(self, name: str) -> None:
        self.stop(name, wait=True)
        self.start(name)

    def start_all(self) -> None:
        for name in START_ORDER:
            if name in self.procs:
                self.start(name)

    def stop_all(self, wait: bool = True) -> None:
        for name in STOP_ORDER:
            if name in self.procs:
                self.stop(name, wait=wait)

    def kill(self, name: str) -> None:
        """Hard kill (used by fault tests and the drill)."""
        p = self.procs[name]
        if p.process is not None and p.process.is_alive():
            p.killed = True
            p.process.kill()

    def status(self, name: str) -> ProcState:
        return self.procs[name]

    def running(self) -> List[str]:
        return [n for n, p in self.procs.items() if p.process is not None
                and p.process.is_alive()]

    # -- the pump -----------------------------------------------------------------
    def poll(self, timeout: float = 0.0) -> int:
        """Drain child reports and check liveness; emits events. Returns events handled.
        With a timeout, waits up to that long for the first report."""
        handled = self._drain()
        if not handled and timeout > 0:
            readers = [p.queue._reader for p in self.procs.values()  # type: ignore[attr-defined]
                       if p.queue is not None]
            if readers:
                try:
                    mp.connection.wait(readers, timeout)
                except InterruptedError:  # Windows: Ctrl+C arrived while waiting
                    pass
            else:
                time.sleep(timeout)
            handled = self._drain()
        self._check_processes()
        return handled

    def _drain(self, limit: int = 5000) -> int:
        handled = 0
        for p in list(self.procs.values()):
            q = p.queue
            while q is not None and handled < limit:
                try:
                    msg = q.get_nowait()
                except (queue.Empty, OSError, ValueError, EOFError):
                    break
                handled += 1
                self._handle(msg)
        return handled

    def _drop_queue(self, p: "ProcState") -> None:
        if p.queue is not None:
            self._drain()
            p.queue.close()
            p.queue.cancel_join_thread()
            p.queue = None

    def _handle(self, msg) -> None:
        kind, name = msg[0], msg[1]
        p = self.procs.get(name)
        if kind == "log":
            self._emit(LogLine(name, msg[2], msg[3], msg[4]))
        elif kind == "stats" and p is not None:
            p.stats = msg[2]
            self._emit(StatsUpdate(name, msg[2], msg[3]))
        elif kind == "state" and p is not None and p.state == STARTING:
            self._set_state(p, msg[2])

    def _check_processes(self) -> None:
        now = time.monotonic()
        for p in self.procs.values():
            proc = p.process
            if proc is None or p.state in (STOPPED, CRASHED):
                continue
            if not proc.is_alive():
                proc.join(0)
                p.exitcode = proc.exitcode
                if p.state == STOPPING or p.exitcode == 0:
                    self._set_state(p, STOPPED)
                else:
                    self._log(p.name, 40, f"{TITLES.get(p.name, p.name)} ended: "
                                          f"{p.exit_detail}")
                    self._set_state(p, CRASHED)
                continue
            if p.state == STOPPING and p.stop_deadline and now > p.stop_deadline:
                if not p.terminated:
                    self._log(p.name, 30, f"did not stop within {GRACE_S:.0f} s: terminating")
                    proc.terminate()
                    p.terminated = True
                    p.stop_deadline = now + KILL_AFTER_S
                else:
                    self._log(p.name, 30, "still alive after terminate(): killing")
                    proc.kill()
                    p.stop_deadline = now + 10.0

    def _log(self, name: str, level: int, text: str) -> None:
        self._emit(LogLine(name, level, text, time.time()))

    # -- results ------------------------------------------------------------------
    def totals(self, name: str) -> dict:
        p = self.procs[name]
        out = dict(p.totals)
        for k in COUNTERS:
            if isinstance(p.stats.get(k), int):
                out[k] = out.get(k, 0) + p.stats[k]
        return out

    def summary(self) -> dict:
        g, ob, st, om = (self.totals(n) if n in self.procs else {} for n in
                         ("gateway", "orderbook", "strategy", "order_manager"))
        stats = {n: p.stats for n, p in self.procs.items()}
        latency = stats.get("strategy", {}).get("latency_us") or {
            "tick_to_decision": {"p50": None, "p99": None, "max": None, "count": 0},
            "tick_to_ack": {"p50": None, "p99": None, "max": None, "count": 0}}
        bad = sum(int(s.get("bad_frames", 0) or 0) for s in stats.values())
        return {
            "ticks_sent": g.get("ticks_sent", 0),
            "ticks_applied": ob.get("ticks_applied", 0),
            "bad_frames": bad,
            "news_sent": g.get("news_sent", 0),
            "orders_sent": st.get("orders_sent", 0),
            "orders_acked": st.get("orders_acked", 0),
            "orders_rejected": st.get("orders_rejected", 0),
            "orders_logged": om.get("orders_logged", 0),
            "orders_duplicate": om.get("orders_duplicate", 0),
            "latency_us": latency,
            "positions": stats.get("strategy", {}).get("positions", {}),
            "shm_bytes": self.shm_bytes,
            "processes": {n: {"exitcode": p.exitcode, "state": p.state, "restarts": p.restarts}
                          for n, p in self.procs.items()},
        }

    # -- shutdown -----------------------------------------------------------------
    def close(self) -> None:
        """Stop everything (escalating as needed) and release the shared memory."""
        if self.closed:
            return
        self.stop_all(wait=True)
        for p in self.procs.values():  # anything still alive after the escalation
            if p.process is not None and p.process.is_alive():
                p.process.kill()
                p.process.join(2.0)
        self.poll()
        for p in self.procs.values():
            self._drop_queue(p)
        self.release_shared_memory()
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
