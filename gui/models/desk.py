"""The desk's controller model, without Qt (the Qt adapter, gui/sources/controller.py, wraps
it; plain pytest drives it): DeskModel over one ProcessController (every verb non-blocking,
totals across restarts) adds what only a window needs: a new Config while everything is
stopped, the stack as a plan (saved to a file, opened from one, a process added, changed or
removed while the others run), the tick rate, the status line's figures, a ProcView of each
process, the feed's state."""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from engine.config.schema import ROLES, Config
from engine.config.stack import ProcessEntry, StackPlan, default_plan
from engine.control.controller import ProcessController
from engine.control.events import LogLine, StatsUpdate
from engine.control.lifecycle import State
from engine.control.roster import ProcessSpec, Roster
from engine.control.supervision import NEVER
from engine.control.summary import wire_variants
from engine.shm.price_book import staleness

from .rates import RateMeter

LAST_LINES = 6  # a process's latest log lines kept for the row of a crashed one


def feed_state(book, now_ns: Optional[int] = None) -> str:
    """'off' (no shared memory), 'waiting' (no tick yet), 'live', or 'stale' (the OrderBook
    released the book, or no update for STALE_AFTER_S: engine.shm.price_book.staleness, the
    Strategy's rule)."""
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
    now_ns = time.perf_counter_ns() if now_ns is None else now_ns
    return "stale" if staleness(updates, writer, last, now_ns) else "live"


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
    rss_bytes: int = 0         # resident memory at its last report
    unresponsive_s: float = 0.0  # running but silent this long (0 while it reports)
    policy: str = NEVER        # restart on crash: 'never' or 'on crash'
    auto: str = ""             # 'restart 1 of 3 in 0.4 s', 'gave up after 3 restarts: ...'
    last_lines: Tuple[str, ...] = ()  # its latest log lines (shown beside a crash)


def state_word(state, detail: str = "") -> str:
    """What a process is, in the one word every view says (row, header, System map): a
    crash the user asked for with Kill is 'killed', not 'crashed'."""
    state = getattr(state, "value", state)
    return "killed" if state == "crashed" and detail.startswith("killed") else state


def verbs_allowed(state) -> Dict[str, bool]:
    """Which of Start, Stop, Restart and Kill do something to a process in `state`: the one
    rule of its row's buttons, the Processes menu and the System map's menu."""
    state = State(getattr(state, "value", state))
    return {"start": state.finished,
            "stop": state in (State.STARTING, State.RUNNING, State.WAITING),
            "restart": state != State.STOPPING,
            "kill": state in (State.STARTING, State.RUNNING, State.STOPPING)}


class DeskModel:
    """A ProcessController plus the window's figures. Every verb returns at once; `poll()`
    (called by a timer) pumps the controller."""

    def __init__(self, config: Config,
                 controller_factory: Optional[Callable[[Config], ProcessController]] = None,
                 plan: Optional[StackPlan] = None):
        plan = plan if plan is not None else default_plan(config)
        self.roster = Roster.from_plan(plan)
        self.stack_path: Optional[str] = plan.path  # the file it came from or was saved to
        self.stack_settings = dict(plan.stack_settings)
        self._factory = controller_factory or (
            lambda cfg: ProcessController(cfg, roster=self.roster))
        self._listeners: List[Callable] = []
        self.tick_rate = RateMeter()
        self.recent: Dict[str, deque] = {}  # name -> its latest log lines
        self.ctl = self._new_controller(config)
        self.roster = self.ctl.roster  # (a test's factory brings its own)

    def _new_controller(self, config: Config) -> ProcessController:
        ctl = self._factory(config)
        ctl.subscribe(self._on_event)
        return ctl

    # -- events ---------------------------------------------------------------------------
    def subscribe(self, callback: Callable) -> None:
        """callback(event): the controller's StateChanged / LogLine / StatsUpdate events."""
        self._listeners.append(callback)

    def _on_event(self, ev) -> None:
        if isinstance(ev, StatsUpdate) and ev.name in self.ctl.roster.with_role("orderbook"):
            self.tick_rate.add(ev.time, self.ctl.role_totals("orderbook").ticks_applied)
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
        """The processes this desk runs (its controller's roster)."""
        return self.ctl.roster.names

    def shown(self) -> Tuple[str, ...]:
        """Every process of the stack as the views list it, in the order data flows: those
        this desk runs and those that run on another machine (--remote, `host`)."""
        flow = {role: i for i, role in enumerate(ROLES)}
        roster = self.ctl.roster
        names = list(roster.names) + [e.name for e in roster.remote]
        names += [n for n in self.config.remote if n not in names and roster.role_of(n) is None
                  and not roster.with_role(n)]
        return tuple(sorted(names, key=lambda n: flow.get(self.role(n), len(flow))))

    def title(self, name: str) -> str:
        return self.ctl.roster.title(name)

    def role(self, name: str) -> str:
        """What the process does (a --remote one is named by its role)."""
        return self.ctl.roster.role_of(name) or name

    def is_remote(self, name: str) -> bool:
        """True for a process of the stack that runs elsewhere (this desk never starts it)."""
        if name in self.ctl.roster:
            return False
        return any(e.name == name for e in self.ctl.roster.remote) or name in self.config.remote

    def is_external(self, name: str) -> bool:
        """True for a process of the stack that is not ours (a command)."""
        return name in self.ctl.roster and self.ctl.roster[name].external

    def entry(self, name: str) -> ProcessEntry:
        return self.ctl.roster[name].entry

    def process_config(self, name: str) -> Config:
        """The settings `name` runs (or will run) with."""
        return self.ctl.config_of(name)

    def charted(self, config: Optional[Config] = None) -> Config:
        """The settings of the Strategy whose averages the desk charts (the first of ours in
        the stack: the one that publishes to the signal book), on `config`'s symbols;
        `config` (default the stack's) when there is none."""
        config = config if config is not None else self.config
        ours = [n for n in self.ctl.roster.with_role("strategy")
                if not self.ctl.roster[n].external]
        if not ours:
            return config
        own = self.ctl.config_of(ours[0])
        return config.replace(**{k: getattr(own, k) for k in (
            "short_window", "long_window", "bullish", "bearish", "qty")})

    def accounts(self) -> List[str]:
        """The accounts of the stack's Strategies (ours), in the order of the stack."""
        out = []
        for n in self.ctl.roster.with_role("strategy"):
            spec = self.ctl.roster[n]
            if not spec.external:
                a = self.ctl.config_of(n).account or n
                if a not in out:
                    out.append(a)
        return out

    # -- the stack ----------------------------------------------------------------------
    def plan(self) -> StackPlan:
        """The stack as it is now (what File > Save stack writes)."""
        return self.ctl.roster.plan(self.config, self.stack_path, self.stack_settings)

    def add_process(self, entry: ProcessEntry, start: bool = True) -> None:
        """A new process of the stack (a Strategy of its own account, a command), started
        at once unless told; the others keep running."""
        if entry.name in self.plan().names:
            raise ValueError(f"there is a process called {entry.name!r} already")
        self.plan().with_process(entry)  # raises for a dependency unknown or in a cycle
        entry.config(self.config)  # raises for settings that do not go together
        self.ctl.add(ProcessSpec.of(entry))
        self._log(20, f"added {entry.name} ({entry.role}"
                      f"{', external' if entry.external else ''}) to the stack")
        if start:
            self.ctl.start(entry.name)

    def update_process(self, entry: ProcessEntry) -> None:
        """New settings for a stopped process of the stack."""
        self.plan().with_process(entry)  # still a valid stack
        entry.config(self.config)
        self.ctl.update(ProcessSpec.of(entry))

    def remove_process(self, name: str) -> None:
        """Take a stopped process out of the stack."""
        self.ctl.remove(name)
        self.recent.pop(name, None)
        self._log(20, f"removed {name} from the stack")

    def open_plan(self, plan: StackPlan) -> None:
        """Run another stack from now on (only while every process is stopped): its
        processes and its settings, in this session's folder."""
        if self.any_active():
            raise RuntimeError("stop every process before opening another stack")
        config = plan.config.replace(log_dir=self.config.log_dir)
        old = self.ctl
        self.roster = Roster.from_plan(plan)
        self.stack_path, self.stack_settings = plan.path, dict(plan.stack_settings)
        self._factory = lambda cfg: ProcessController(cfg, roster=self.roster)
        self.ctl = self._new_controller(config)
        old.close()
        self.tick_rate.clear()
        self.recent.clear()

    def role_running(self, role: str) -> bool:
        """True while some process of that role runs."""
        return any(self.ctl.state(n) == State.RUNNING for n in self.ctl.roster.with_role(role))

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
                        auto=p.auto.waiting(now) or p.auto.gave_up or (
                            "waits for " + ", ".join(self.ctl.waits_for(name))
                            if p.state == State.WAITING else ""),
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
        strategy, om = self.ctl.role_totals("strategy"), self.ctl.role_totals("order_manager")
        ack = strategy.latency_us.get("tick_to_ack") or {}
        return {
            "ticks_per_s": self.tick_rate.rate(now),
            "ticks_applied": self.ctl.role_totals("orderbook").ticks_applied,
            "ack_p50_us": ack.get("p50"),
            "ack_p99_us": ack.get("p99"),
            "orders": om.orders_logged,
            "rejected": om.orders_rejected,
            "rejections": om.rejection_reasons,
            "bad_frames": sum(self.ctl.totals(n).bad_frames for n in self.ctl.procs),
            "variants": wire_variants(self.ctl),
            "shm_bytes": self.ctl.memory.nbytes,
            "feed": feed_state(self.ctl.memory.book),
            "running": sum(1 for n in self.ctl.procs if self.ctl.state(n) == State.RUNNING),
        }

    def close(self) -> None:
        """Stop everything (the controller escalates to terminate/kill) and unlink the shm."""
        self.ctl.close()

