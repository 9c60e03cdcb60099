"""What every section of the benchmark shares: its context (quick or full, where its stacks
put their logs, how it prints), stacks on free ports, waiting, and the measuring helpers."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

import numpy as np

from engine.config.schema import Config
from engine.control.controller import ProcessController
from engine.control.events import LogLine
from engine.control.lifecycle import State
from engine.control.roster import Roster
from engine.platforms.paths import PROJECT_ROOT
from engine.testing import WaitTimeout, stack_config, wait_until

ROOT = PROJECT_ROOT  # the folder that holds engine/ (and gui/): `python -m` runs from it
LATENCY_RATE = 1000  # ticks a second, all symbols together, in the latency sections


class BenchContext:
    """One benchmark run: full, quick or smoke (a smoke run is a quick run made shorter
    still), its temporary folder, its shared-memory prefix."""

    def __init__(self, quick: bool, shm_base: str, workdir: Path, out=sys.stdout,
                 smoke: bool = False):
        self.quick = quick or smoke
        self.smoke = smoke
        self.shm_base = shm_base
        self.workdir = Path(workdir)
        self.out = out
        self._n = 0

    def pick(self, full, quick, smoke):
        """A run's length (seconds, ticks, round trips) for a full, --quick or --smoke run."""
        return smoke if self.smoke else quick if self.quick else full

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def config(self, **changes) -> Config:
        """A Config on fresh ports, a fresh shm name and its own log folder."""
        self._n += 1
        base = stack_config(self.workdir / f"run{self._n}", seed=7)
        return base.replace(shm_name=f"{self.shm_base}{self._n}", **changes)

    def latency_config(self) -> Config:
        """5 symbols every 5 ms = 1,000 ticks/s; an eager market so that orders are frequent."""
        return self.config(tick_interval=len(Config().symbols) / LATENCY_RATE,
                           news_interval=0.1, short_window=2, long_window=4,
                           bullish=50, bearish=50)

    def controller(self, cfg: Config, targets=None) -> ProcessController:
        """A controller whose children's errors are printed (a crash says why)."""
        roster = None if targets is None else Roster.from_targets(targets)
        ctl = ProcessController(cfg, roster=roster)

        def on_event(ev):
            if isinstance(ev, LogLine) and ev.level >= logging.ERROR:
                self.say(f"  [{ev.name}] {logging.getLevelName(ev.level)}: {ev.text}")
        ctl.subscribe(on_event)
        return ctl


def pump(ctl: ProcessController, seconds: float) -> None:
    """Keep the controller polled for `seconds`."""
    ctl.wait_until(lambda: False, seconds)


def wait(ctl: ProcessController, cond: Callable[[], bool], timeout: float, what: str) -> None:
    """wait_until with the controller polled; a crashed process ends the wait with why."""
    def ok():
        crashed = [n for n in ctl.procs if ctl.state(n) == State.CRASHED]
        if crashed:
            raise RuntimeError(f"{crashed} crashed while waiting for {what}; see the logs in "
                               f"{ctl.config.log_dir}")
        return cond()
    try:
        wait_until(ok, timeout, what, pump=ctl.poll, every=0.005)
    except WaitTimeout as exc:
        raise RuntimeError(str(exc)) from None


def pcts(samples_ns) -> dict:
    a = np.asarray(samples_ns, dtype=np.float64) / 1e3
    return {"p50": round(float(np.percentile(a, 50)), 1),
            "p99": round(float(np.percentile(a, 99)), 1),
            "max": round(float(a.max()), 1), "count": len(a)}


def stop_subprocess(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Ctrl+C for a process started in its own 'terminal' (Ctrl+Break on Windows)."""
    proc.send_signal(signal.CTRL_BREAK_EVENT if os.name == "nt"  # type: ignore[attr-defined]
                     else signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _proc_stat_cpu(pid: int) -> Optional[float]:
    """CPU seconds (user + system, all threads) of a process from /proc (Linux)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_times(ctl: ProcessController) -> Tuple[Dict[str, float], str]:
    """{name: CPU seconds} of every running child, and where the figures came from."""
    out, how = {}, "/proc/<pid>/stat"
    for n, p in ctl.procs.items():
        v = _proc_stat_cpu(p.pid) if p.pid else None
        if v is None:  # not Linux: what the child itself reported (os.times, every 0.5 s)
            v, how = float(p.stats.cpu_s), "each process's os.times()"
        out[n] = v
    return out, how


def cpu_over(ctl: ProcessController, seconds: float) -> Tuple[Dict[str, float], float, str]:
    """Pump the controller for `seconds`: each child's CPU over that window in % of one
    core, the window's wall time, and where the figures came from."""
    c0, how = cpu_times(ctl)
    t0 = time.perf_counter()
    pump(ctl, seconds)
    c1, _ = cpu_times(ctl)
    wall = time.perf_counter() - t0
    return {n: round(100 * (c1[n] - c0[n]) / wall, 2) for n in c0}, wall, how
