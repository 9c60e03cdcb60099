"""What the controller tells its listeners (the desk, the headless printer, tools): a process
changed state, said a log line, or reported its Stats."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from engine.measure.stats import Stats

from .lifecycle import State


@dataclass(frozen=True)
class StateChanged:
    name: str
    state: State
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
    stats: Stats
    time: float
