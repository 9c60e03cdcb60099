"""ProcessController: starts, stops, kills and restarts each process of its roster on its
own, holds the stack's shared memory (a StackMemory), and turns what the children report into
typed events. No Qt in here: the desk wraps it in a thin adapter, the headless launcher polls
it directly. Long: the one owner of every process's life, ours and external ones alike.

Every verb returns at once; `poll()` (a timer in the desk, the loop of the headless launcher)
moves things on: it drains the children's reports, notices exits, escalates a stop that takes
too long (terminate() after GRACE_S, kill() after KILL_AFTER_S more), starts what waits once
what it depends on is ready, stops what stop-all asked once what depends on it has exited,
and starts again what was restarted once it has exited. The `*_and_wait` wrappers block
(headless, tools, tests). A process moves only through `lifecycle.next_state`.

Ours are started with the `spawn` context on every OS. Each has a StopFlag and a report
pipe of its own (engine.processes.reports.ReportSender on its side), so a child killed
mid-write harms no other; it is ready when it says so. An external process (a `command` of
the stack) is an ExternalProcess: its own process group, its output read on threads, ready
when its probe passes, its CPU and memory read from the operating system.
"""
from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection
import time
from typing import Callable, Dict, List, Optional

from engine.config.schema import Config
from engine.measure.stats import Stats
from engine.platforms.resources import process_usage
from engine.processes.shell import StopFlag, child_entry
from engine.shm.stack import StackMemory

from .events import LogLine, StateChanged, StatsUpdate
from .external import ExternalProcess, ExternalStop, PortProbe
from .lifecycle import Change, State, next_state
from .process_state import ProcState
from .roster import ProcessSpec, Roster, default_roster

GRACE_S = 3.0       # polite stop -> terminate()
KILL_AFTER_S = 2.0  # terminate() -> kill()
WAIT_S = GRACE_S + KILL_AFTER_S + 2.0  # the longest a blocking stop waits
EXTERNAL_STATS_S = 0.5  # how often an external process's CPU and memory are read


class ProcessController:
    def __init__(self, config: Config, ctx=None, roster: Optional[Roster] = None):
        self.config = config
        self.ctx = ctx or mp.get_context("spawn")
        self.book_lock = self.ctx.Lock()
        # the processes of this machine (by default the four, less those --remote names)
        self.roster = roster if roster is not None else default_roster(config)
        self.procs: Dict[str, ProcState] = {}
        for spec in self.roster:
            self._track(spec)
        self._listeners: List[Callable] = []
        self.memory = StackMemory(config.symbols, config.shm_name, config.signal_shm_name,
                                  say=lambda level, text: self._log("launcher", level, text))
        self.pending_restart: set = set()   # stopping now, to be started again once exited
        self.stop_queue: List[str] = []     # what stop-all still has to stop
        self.closed = False

    def _track(self, spec: ProcessSpec) -> None:
        p = self.procs[spec.name] = ProcState(spec.name)
        p.auto.set_policy(spec.entry.on_crash)

    def config_of(self, name: str) -> Config:
        """The settings a process runs with: the stack's, its own over them; in a stack of
        several Strategies only the first of ours publishes to the signal book the desk
        charts."""
        spec = self.roster[name]
        config = spec.entry.config(self.config)
        if spec.role == "strategy" and not spec.external:
            ours = [n for n in self.roster.with_role("strategy") if not self.roster[n].external]
            if ours and ours[0] != name:
                config = config.replace(publish_signals=False)
        return config

    # -- the stack while it runs -------------------------------------------------------------
    def add(self, spec: ProcessSpec) -> None:
        """A new process of the stack (started by start(), not here)."""
        self.roster.add(spec)
        self._track(spec)

    def remove(self, name: str) -> None:
        """Take a stopped process out of the stack."""
        p = self.procs[name]
        if p.state.active or p.alive or p.auto.due is not None:
            raise RuntimeError(f"{name} is {p.state}: stop it before removing it")
        self._retire(p)
        del self.procs[name]
        self.roster.remove(name)

    def update(self, spec: ProcessSpec) -> None:
        """New settings for a stopped process (used from its next start on)."""
        p = self.procs[spec.name]
        if p.state.active:
            raise RuntimeError(f"{spec.name} is {p.state}: stop it before changing it")
        self.roster.replace(spec)
        p.auto.set_policy(spec.entry.on_crash)

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

    def _change(self, p: ProcState, change: Change) -> None:
        """The one place a process changes state."""
        state = next_state(p.state, change)
        if state != p.state:
            p.state = state
            self._emit(StateChanged(p.name, state, p.pid, p.exitcode, time.time(),
                                    p.exit_detail if state.finished else ""))

    def _log(self, name: str, level: int, text: str) -> None:
        self._emit(LogLine(name, level, text, time.time()))

    # -- verbs (none blocks) ------------------------------------------------------
    def start(self, name: str) -> bool:
        """Start one process; False when it is still running or on its way out (a process
        still stopping is started again once it has exited)."""
        self.procs[name].auto.reset()
        return self._start(name)

    def _start(self, name: str) -> bool:
        p = self.procs[name]
        self._forget_stop(name)
        if p.state == State.STOPPING:
            self.pending_restart.add(name)
            return False
        if p.alive or p.state == State.WAITING:
            return False
        self.pending_restart.discard(name)
        if self.waits_for(name):
            self._change(p, Change.QUEUE)
            return True
        return self._spawn(name)

    def waits_for(self, name: str) -> List[str]:
        """What a process starting now would wait for: those it depends on that are on their
        way (waiting, starting, about to restart) and not ready yet. A dependency that is
        stopped, crashed for good, or not ready after its ready timeout is not waited for
        (ours reconnect by themselves)."""
        now = time.monotonic()
        out = []
        for d in self.roster.dependencies().get(name, ()):
            q = self.procs[d]
            coming = (q.state == State.WAITING or d in self.pending_restart
                      or q.auto.due is not None
                      or (q.state == State.STARTING and now < (q.ready_deadline or 0)))
            if coming and q.state != State.RUNNING:
                out.append(d)
        return out

    def _spawn(self, name: str) -> bool:
        p = self.procs[name]
        spec = self.roster[name]
        config = self.config_of(name)
        self.memory.ensure()
        if spec.role == "orderbook" and p.exitcode not in (None, 0):
            # it may have died holding the writers' lock: hand the new one a fresh lock
            self.book_lock = self.ctx.Lock()
        self._retire(p)
        p.started_at, p.stop_deadline, p.last_report = time.monotonic(), None, None
        p.ready_at, p.cpu_percent, p.cpu_mark = None, 0.0, None
        p.ready_deadline = p.started_at + spec.entry.ready_timeout
        p.terminated = p.killed = p.late = False
        if spec.external:
            return self._spawn_external(p, spec, config)
        p.stop_flag = StopFlag(self.ctx)  # never a multiprocessing.Event: see StopFlag
        p.reports, child_end = self.ctx.Pipe(duplex=False)
        kwargs = {"lock": self.book_lock} if spec.role == "orderbook" else {}
        proc = self.ctx.Process(
            target=child_entry, name=f"ipcdesk-{name}",
            args=(name, spec.target, config, p.stop_flag, child_end, kwargs),
            daemon=True)
        proc.start()
        child_end.close()  # the child has its own copy: an EOF now means it is gone
        p.process, p.pid, p.exitcode = proc, proc.pid, None
        self._change(p, Change.START)
        return True

    def _spawn_external(self, p: ProcState, spec: ProcessSpec, config: Config) -> bool:
        entry = spec.entry
        port = entry.ready_port(config)
        proc = ExternalProcess(spec.name, entry.argv(config), cwd=entry.cwd, env=entry.env,
                               log_dir=self.config.log_dir,
                               ready_output=entry.ready.output if entry.ready else None,
                               max_mb=self.config.log_max_mb)
        try:
            proc.start()
        except OSError as exc:  # no such program, not executable, no such folder
            proc.close()
            self._log(spec.name, 40, f"cannot start {' '.join(entry.argv(config))}: {exc}")
            p.exitcode = 127
            self._change(p, Change.START)
            self._change(p, Change.EXIT_ERROR)
            return False
        p.process, p.pid, p.exitcode = proc, proc.pid, None
        p.stop_flag = ExternalStop(proc)
        p.probe = PortProbe(config.connect_host, port) if port is not None else None
        p.next_usage = 0.0
        self._change(p, Change.START)
        self._drain_external(p)
        return True

    def _retire(self, p: ProcState) -> None:
        """Fold a finished run's counters into the earlier runs' before a new run starts."""
        if p.probe is not None:
            p.probe.stop()
            p.probe = None
        if p.process is not None:
            self._drain_one(p)
            if isinstance(p.process, ExternalProcess):
                p.process.close()
            p.earlier = p.totals
            p.stats = Stats()
            p.restarts += 1
            if p.reports is not None:
                p.reports.close()
                p.reports = None

    def stop(self, name: str) -> None:
        """Ask one process to stop; poll() escalates when it does not in time."""
        p = self.procs[name]
        self.pending_restart.discard(name)
        p.auto.reset()
        self._request_stop(p)

    def _request_stop(self, p: ProcState) -> None:
        if p.state == State.WAITING:  # it never started
            self._change(p, Change.STOP)
            return
        if p.state.finished or p.process is None:
            return
        if p.state != State.STOPPING:
            p.stop_flag.set()
            p.stop_deadline = time.monotonic() + GRACE_S
        self._change(p, Change.STOP)

    def restart(self, name: str) -> None:
        """Stop it, and start it again as soon as it has exited (or now, if it has)."""
        p = self.procs[name]
        self._forget_stop(name)
        if p.state.finished and not p.alive:
            self.start(name)
            return
        self._request_stop(p)
        self.pending_restart.add(name)

    def kill(self, name: str) -> None:
        """Hard kill (SIGKILL / TerminateProcess)."""
        p = self.procs[name]
        self.pending_restart.discard(name)
        p.auto.reset()  # a kill from here is the user's: never restarted on its own
        if p.state == State.WAITING:
            self._change(p, Change.STOP)
        elif p.alive:
            p.killed = True
            p.process.kill()

    def start_all(self) -> None:
        """Start every process, each once those it depends on are ready (the roster's
        dependencies; poll() starts the waiting ones)."""
        self.stop_queue.clear()
        for name in self.roster.start_order():
            self.start(name)

    def stop_all(self) -> None:
        """Stop each process once those that must go before it have exited (those that
        depend on it; for an OrderBook the Gateway it reads, so that it drains the Gateway's
        last ticks): Strategies first, which still get their acks, the OrderManager last."""
        self.pending_restart.clear()
        for p in self.procs.values():
            p.auto.reset()
        self.stop_queue = [n for n in self.roster.stop_order() if self.procs[n].state.active]
        self._advance_stop()

    def _forget_stop(self, name: str) -> None:
        if name in self.stop_queue:
            self.stop_queue.remove(name)

    def _advance_stop(self) -> None:
        if not self.stop_queue:
            return
        before = self.roster.stop_before()
        for name in list(self.stop_queue):
            p = self.procs[name]
            if p.state.finished:
                self.stop_queue.remove(name)
        for name in list(self.stop_queue):
            p = self.procs[name]
            if p.state == State.STOPPING:
                continue
            if all(b not in self.procs or self.procs[b].state.finished
                   for b in before.get(name, ())):
                self._request_stop(p)
                if p.state.finished:
                    self.stop_queue.remove(name)

    def _advance_start(self) -> None:
        """Start what waits once nothing it depends on is on its way any more."""
        for name in self.roster.start_order():
            p = self.procs[name]
            if p.state == State.WAITING and not self.waits_for(name):
                self._spawn(name)

    # -- blocking wrappers ----------------------------------------------------------
    def wait_until(self, cond: Callable[[], bool], timeout: float = WAIT_S) -> bool:
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                return False
            self.poll(0.05)
        return True

    def stop_and_wait(self, name: str, timeout: float = WAIT_S) -> bool:
        self.stop(name)
        return self.wait_until(lambda: self.procs[name].state.finished, timeout)

    def restart_and_wait(self, name: str, timeout: float = WAIT_S) -> bool:
        self.restart(name)
        p = self.procs[name]
        return self.wait_until(lambda: name not in self.pending_restart and p.alive, timeout)

    def stop_all_and_wait(self, timeout: float = 4 * WAIT_S) -> bool:
        self.stop_all()
        return self.wait_until(lambda: not self.stop_queue and not self.any_active(), timeout)

    # -- views ----------------------------------------------------------------------
    def status(self, name: str) -> ProcState:
        return self.procs[name]

    def state(self, name: str) -> Optional[State]:
        """The process's state; None when this stack has no such process (a bench that
        runs only some of the four)."""
        p = self.procs.get(name)
        return p.state if p is not None else None

    def running(self) -> List[str]:
        return [n for n, p in self.procs.items() if p.alive]

    def any_active(self) -> bool:
        """True while any process is starting, running or stopping (or about to restart)."""
        return bool(self.pending_restart) or any(p.state.active or p.alive or p.auto.due
                                                 for p in self.procs.values())

    def totals(self, name: str) -> Stats:
        return self.procs[name].totals

    def role_totals(self, role: str) -> Stats:
        """The totals of every process of a role, added up (empty Stats when none runs it)."""
        out = Stats()
        for name in self.roster.with_role(role):
            out = out.add(self.totals(name))
        return out

    # -- the pump -----------------------------------------------------------------
    def poll(self, timeout: float = 0.0) -> int:
        """Drain child reports, check liveness, move stops and restarts on; emits events.
        Returns events handled. With a timeout, waits up to that long for the first report."""
        handled = self._drain()
        if not handled and timeout > 0:
            pipes = [p.reports for p in self.procs.values() if p.reports is not None]
            if pipes:
                try:
                    mp.connection.wait(pipes, timeout)
                except InterruptedError:  # Windows: Ctrl+C arrived while waiting
                    pass
            else:
                time.sleep(timeout)
            handled = self._drain()
        self._check_processes()
        self._advance_start()
        self._advance_stop()
        for name in sorted(self.pending_restart):
            if self.procs[name].state.finished:
                self.start(name)
        now = time.monotonic()
        for name, p in self.procs.items():
            if p.state.finished and p.auto.take_due(now):
                self._start(name)
        return handled

    def _drain(self, limit: int = 5000) -> int:
        handled = 0
        for p in list(self.procs.values()):
            handled += self._drain_one(p, limit - handled)
        return handled

    def _drain_one(self, p: ProcState, limit: int = 5000) -> int:
        if isinstance(p.process, ExternalProcess):
            return self._drain_external(p, limit)
        handled = 0
        conn = p.reports
        try:
            while conn is not None and handled < limit and conn.poll():
                self._handle(p, conn.recv())
                handled += 1
        except (EOFError, OSError):  # the child closed its end: all it sent has been read
            conn.close()
            p.reports = None
        return handled

    def _handle(self, p: ProcState, msg: tuple) -> None:
        kind = msg[0]
        if kind == "log":
            self._emit(LogLine(p.name, msg[2], msg[3], msg[4]))
        elif kind == "stats":
            p.reported(msg[2], msg[3])
            self._emit(StatsUpdate(p.name, msg[2], msg[3]))
        elif kind == "ready":
            p.ready_at = time.time()
            self._change(p, Change.READY)

    def _drain_external(self, p: ProcState, limit: int = 5000) -> int:
        """An external process's output lines as its log lines; once it is ready, READY;
        every EXTERNAL_STATS_S its CPU and memory as a report."""
        proc = p.process
        lines = proc.take_lines(limit)
        for level, text, t in lines:
            self._emit(LogLine(p.name, level, text, t))
        if p.state == State.STARTING and proc.is_alive():
            probe, pattern = p.probe, proc.ready_pattern
            if (probe.accepted if probe is not None else
                    proc.saw_ready if pattern is not None else True):
                p.ready_at = time.time()
                self._change(p, Change.READY)
            elif not p.late and time.monotonic() > p.ready_deadline:
                p.late = True
                what = (f"port {probe.port} does not accept" if probe is not None
                        else f"no line matched {pattern.pattern!r}")
                waiting = [n for n in self.roster.names
                           if p.name in self.roster.dependencies().get(n, ())
                           and self.procs[n].state == State.WAITING]
                self._log(p.name, 30, f"not ready after {self.roster[p.name].entry.ready_timeout:g}"
                                      f" s ({what})" + (f": starting {', '.join(waiting)} anyway"
                                                        if waiting else ""))
        now = time.monotonic()
        if p.state.active and proc.is_alive() and now >= p.next_usage:
            p.next_usage = now + EXTERNAL_STATS_S
            cpu_s, rss = process_usage(proc.pid)
            stats = Stats(cpu_s=cpu_s, rss_bytes=rss)
            t = time.time()
            p.reported(stats, t)
            self._emit(StatsUpdate(p.name, stats, t))
        return len(lines)

    def _check_processes(self) -> None:
        now = time.monotonic()
        for p in self.procs.values():
            proc = p.process
            if proc is None or p.state.finished or p.state == State.WAITING:
                continue
            if not proc.is_alive():
                proc.join(0)
                if isinstance(proc, ExternalProcess):
                    proc.join(0.2)  # its output threads read its last lines
                    proc.kill_leftovers()
                self._drain_one(p)  # its last words first
                p.exitcode = proc.exitcode
                failed = p.exitcode != 0
                crashed = failed and p.state != State.STOPPING
                if crashed:
                    self._log(p.name, 40, f"{self.roster.title(p.name)} ended: "
                                          f"{p.exit_detail}")
                self._change(p, Change.EXIT_ERROR if failed else Change.EXIT_OK)
                if crashed and not p.killed:
                    self._auto_restart(p, now)
                continue
            if p.state == State.STOPPING and p.stop_deadline and now > p.stop_deadline:
                if not p.terminated:
                    self._log(p.name, 30, f"did not stop within {GRACE_S:.0f} s: terminating")
                    proc.terminate()
                    p.terminated = True
                    p.stop_deadline = now + KILL_AFTER_S
                else:
                    self._log(p.name, 30, "still alive after terminate(): killing")
                    proc.kill()
                    p.stop_deadline = now + 10.0

    def _auto_restart(self, p: ProcState, now: float) -> None:
        """A crash under the restart-on-crash policy: schedule the restart, or give up."""
        delay = p.auto.crashed(now, now - (p.started_at or now), p.exit_detail)
        if delay is not None:
            self._log(p.name, 30, f"restart on crash: {p.auto.waiting(now)}")
        elif p.auto.gave_up:
            self._log(p.name, 40, f"restart on crash: {p.auto.gave_up}")
            self._emit(StateChanged(p.name, p.state, p.pid, p.exitcode, time.time(),
                                    p.exit_detail))

    def set_restart_policy(self, name: str, policy: str) -> None:
        """'never' (the default) or 'on crash', for one process."""
        self.procs[name].auto.set_policy(policy)

    # -- shutdown -----------------------------------------------------------------
    def close(self) -> None:
        """Stop everything (escalating as needed) and release the shared memory."""
        if self.closed:
            return
        self.stop_all_and_wait()
        for p in self.procs.values():  # anything still alive after the escalation
            if p.alive:
                p.process.kill()
                p.process.join(2.0)
        self.poll()
        for p in self.procs.values():
            if p.reports is not None:
                p.reports.close()
                p.reports = None
            if isinstance(p.process, ExternalProcess):
                p.process.kill_leftovers()
                p.process.close()
            if p.probe is not None:
                p.probe.stop()
        self.memory.release()
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
