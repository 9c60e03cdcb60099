"""ProcState: one process as the controller keeps it (its run, its reports, its CPU, its
restart policy); tools and views read it through the controller's `status()`."""
from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection
import time
from dataclasses import dataclass, field
from typing import Optional

from engine.measure.stats import Stats
from engine.platforms.oscompat import exit_text
from engine.processes.shell import StopFlag

from .lifecycle import State
from .supervision import Restarts, unresponsive_for

CPU_WINDOW_S = 2.0  # a process's CPU % is over its reports of about this long


@dataclass
class ProcState:
    """One process as the controller keeps it. Tools read it through `status()`."""
    name: str
    state: State = State.STOPPED
    process: Optional[mp.process.BaseProcess] = None
    stop_flag: Optional[StopFlag] = None
    reports: object = None  # the parent's end of the child's report pipe
    pid: Optional[int] = None
    exitcode: Optional[int] = None
    started_at: Optional[float] = None
    stop_deadline: Optional[float] = None
    terminated: bool = False
    killed: bool = False  # kill() ended this run (its exit code then says SIGTERM on Windows)
    restarts: int = 0
    stats: Stats = field(default_factory=Stats)    # this run's latest report
    earlier: Stats = field(default_factory=Stats)  # counters of the runs before it
    last_report: Optional[float] = None            # time.time() of the latest report
    ready_at: Optional[float] = None               # time.time() it said it runs
    cpu_percent: float = 0.0                       # of one core, over CPU_WINDOW_S
    cpu_mark: Optional[tuple] = None               # (time, cpu_s) where that window began
    auto: Restarts = field(default_factory=Restarts)  # restart on crash (never by default)
    ready_deadline: float = 0.0  # (monotonic) its dependents stop waiting for it after this
    late: bool = False           # it was not ready by then (said once)
    probe: object = None         # an external server's PortProbe, until it accepts
    next_usage: float = 0.0      # (monotonic) when an external one's CPU and memory are read

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    @property
    def exit_detail(self) -> str:
        """How the last run ended, in the platform's words ('' while running or after a
        clean exit)."""
        if self.killed:
            return exit_text(self.exitcode, killed=True)
        return "" if self.exitcode in (None, 0) else exit_text(self.exitcode)

    @property
    def uptime(self) -> float:
        if self.started_at is None or self.state.finished:
            return 0.0
        return time.monotonic() - self.started_at

    @property
    def totals(self) -> Stats:
        """Counters over every run of the process (the latest run's gauges)."""
        return self.earlier.add(self.stats)

    def reported(self, stats: Stats, t: float) -> None:
        """A report arrived (sent at `t`): the latest figures, and its CPU % over the reports
        of the last CPU_WINDOW_S."""
        if self.cpu_mark is None:
            self.cpu_mark = (t, stats.cpu_s)
        elif t - self.cpu_mark[0] >= CPU_WINDOW_S:
            self.cpu_percent = max(0.0, 100 * (stats.cpu_s - self.cpu_mark[1]) /
                                   (t - self.cpu_mark[0]))
            self.cpu_mark = (t, stats.cpu_s)
        self.stats, self.last_report = stats, t

    def unresponsive(self, now: Optional[float] = None) -> float:
        """Seconds since it last reported while it runs, once that is too long (else 0)."""
        return unresponsive_for(self.state == State.RUNNING, self.last_report, self.ready_at,
                                time.time() if now is None else now)
