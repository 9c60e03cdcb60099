"""A stack as a plan: its settings and its processes (ProcessEntry: name, role, own settings,
account, an external command, dependencies, readiness, restart policy, where it runs), what
each waits for, and the default stack of four. A stack file (stack_file.py) reads into one
and the desk writes one back; the controller's roster is made from one.

An entry keeps what the file says, not what it means today: its own settings (merged over the
stack's when it starts, so a change of the stack's settings reaches it) and its command with
the placeholders unfilled (filled from its settings when it starts: `{order_port}` is the
order port of that run).
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple, Union

from .schema import ROLES, Config

READY_TIMEOUT_S = 10.0
# what each role waits for when the file does not say: the servers it connects to
DEPENDS_BY_ROLE = {"gateway": (), "order_manager": (), "orderbook": ("gateway",),
                   "strategy": ("gateway", "orderbook", "order_manager")}
# an external server is ready when this port of its settings accepts
READY_PORT_BY_ROLE = {"gateway": "price_port", "order_manager": "order_port"}
# settings only a Strategy has, and settings only the whole stack has
STRATEGY_SETTINGS = ("short_window", "long_window", "bullish", "bearish", "qty", "account")
STACK_SETTINGS = ("log_dir", "remote", "log_max_mb")
# what a command may name: the addresses of the stack as that process sees them
# (and {python}: the Python that runs the desk, so that a peer written in Python needs no PATH)
PLACEHOLDERS = ("host", "price_port", "news_port", "order_port", "confirm_port", "shm_name",
                "symbols", "log_dir", "python")
POLICIES = ("never", "on crash")
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


@dataclass(frozen=True)
class Ready:
    """When an external process is ready: a port that accepts (a number, or a placeholder
    such as '{order_port}'), or a line of its output (a regular expression)."""
    port: Union[int, str, None] = None
    output: Optional[str] = None
    timeout: float = READY_TIMEOUT_S


@dataclass(frozen=True)
class ProcessEntry:
    """One process of a stack, as the file (or the desk) says it."""
    name: str
    role: str
    settings: Dict[str, object] = field(default_factory=dict)  # its own, by Config field
    account: Optional[str] = None             # a Strategy's (default: its name)
    command: Optional[Tuple[str, ...]] = None  # an external process; placeholders unfilled
    cwd: Optional[str] = None
    env: Dict[str, str] = field(default_factory=dict)
    depends_on: Optional[Tuple[str, ...]] = None  # None: the servers its role talks to
    ready: Optional[Ready] = None              # None: its role's port (an external server)
    on_crash: str = "never"                    # or "on crash": restarted with backoff
    host: Optional[str] = None                 # runs on another machine: never started here

    def __post_init__(self) -> None:
        if not NAME_RE.match(self.name):
            raise ValueError(f"a process name is 1 to 40 letters, digits, '_', '.' or '-', "
                             f"not {self.name!r}")
        if self.role not in ROLES:
            raise ValueError(f"no role called {self.role!r} (choose from {', '.join(ROLES)})")
        if self.on_crash not in POLICIES:
            raise ValueError(f"on_crash is one of {POLICIES}, not {self.on_crash!r}")
        if self.account is not None and (self.role != "strategy"
                                         or not NAME_RE.match(self.account)):
            raise ValueError("an account is a Strategy's: 1 to 40 letters, digits, '_', "
                             "'.' or '-'")

    @property
    def external(self) -> bool:
        return self.command is not None

    @property
    def remote(self) -> bool:
        return self.host is not None

    def config(self, stack: Config) -> Config:
        """Its settings: the stack's with its own over them (and its account)."""
        own = dict(self.settings)
        if self.role == "strategy":
            own["account"] = self.account or own.get("account") or self.name
        if self.host is not None:
            own["host"] = self.host
        return stack.replace(**own) if own else stack

    def argv(self, config: Config) -> List[str]:
        """Its command with the placeholders filled from `config` (its own)."""
        return [fill(c, config) for c in self.command or ()]

    def ready_port(self, config: Config) -> Optional[int]:
        """The port whose accepting makes it ready, if any."""
        if self.ready is not None:
            if self.ready.port is None:
                return None
            return int(fill(str(self.ready.port), config))
        if self.external and self.role in READY_PORT_BY_ROLE:
            return getattr(config, READY_PORT_BY_ROLE[self.role])
        return None

    @property
    def ready_timeout(self) -> float:
        return self.ready.timeout if self.ready is not None else READY_TIMEOUT_S


PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_]+)\}")


def fill(text: str, config: Config) -> str:
    """'{order_port}' -> '5003': a command's placeholders from a process's settings (KeyError
    for an unknown one). Other braces stay as they are (a JSON order as an argument)."""
    values = {p: getattr(config, p) for p in ("price_port", "news_port", "order_port",
                                              "confirm_port", "shm_name")}
    values.update(symbols=",".join(config.symbols), host=config.connect_host,
                  log_dir=config.log_dir, python=sys.executable)

    def one(m):
        if m.group(1) not in values:
            raise KeyError(m.group(0))
        return str(values[m.group(1)])

    return PLACEHOLDER_RE.sub(one, text)


@dataclass(frozen=True)
class StackPlan:
    """The stack: its settings and its processes, in the order the file gives them."""
    config: Config
    processes: Tuple[ProcessEntry, ...]
    path: Optional[str] = None
    stack_settings: Dict[str, object] = field(default_factory=dict)  # what [stack] set

    def __post_init__(self) -> None:
        names = [p.name for p in self.processes]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"two processes called {', '.join(twice)}")
        for p in self.processes:
            for d in p.depends_on or ():
                if d not in names:
                    raise ValueError(f"{p.name!r} depends on {d!r}, which is not in the stack")
        cycle = dependency_cycle(self.processes)
        if cycle:
            raise ValueError("a dependency cycle: " + " -> ".join(cycle + [cycle[0]]))

    def __getitem__(self, name: str) -> ProcessEntry:
        for p in self.processes:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def names(self) -> Tuple[str, ...]:
        return tuple(p.name for p in self.processes)

    def with_process(self, entry: ProcessEntry) -> "StackPlan":
        """The plan with `entry` added, or put in place of the one of its name."""
        if entry.name in self.names:
            procs = tuple(entry if p.name == entry.name else p for p in self.processes)
        else:
            procs = self.processes + (entry,)
        return StackPlan(self.config, procs, self.path, self.stack_settings)

    def without(self, name: str) -> "StackPlan":
        """The plan less one process (and the dependencies on it that were written out)."""
        procs = []
        for p in self.processes:
            if p.name == name:
                continue
            if p.depends_on and name in p.depends_on:
                p = _replace(p, depends_on=tuple(d for d in p.depends_on if d != name))
            procs.append(p)
        return StackPlan(self.config, tuple(procs), self.path, self.stack_settings)

    def with_config(self, config: Config) -> "StackPlan":
        return StackPlan(config, self.processes, self.path, self.stack_settings)


def _replace(entry: ProcessEntry, **changes) -> ProcessEntry:
    from dataclasses import replace
    return replace(entry, **changes)


def dependencies(processes) -> Dict[str, Tuple[str, ...]]:
    """Each process's dependencies: what the file says, else the processes of the roles its
    role talks to (an OrderBook waits for the Gateways, a Strategy for the Gateways,
    OrderBooks and OrderManagers)."""
    processes = tuple(processes)
    by_role: Dict[str, List[str]] = {}
    for p in processes:
        by_role.setdefault(p.role, []).append(p.name)
    out = {}
    for p in processes:
        if p.depends_on is not None:
            out[p.name] = tuple(p.depends_on)
        else:
            out[p.name] = tuple(n for role in DEPENDS_BY_ROLE[p.role]
                                for n in by_role.get(role, ()) if n != p.name)
    return out


def dependency_cycle(processes) -> List[str]:
    """A cycle of dependencies (names in order), or [] when there is none."""
    deps = dependencies(processes)
    state: Dict[str, int] = {}
    path: List[str] = []

    def visit(n) -> List[str]:
        state[n] = 1
        path.append(n)
        for d in deps.get(n, ()):
            if state.get(d) == 1:
                return path[path.index(d):]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        path.pop()
        state[n] = 2
        return []

    for n in deps:
        if n not in state:
            found = visit(n)
            if found:
                return list(found)
    return []


def default_plan(config: Config) -> StackPlan:
    """Today's stack: the four, named by their roles; those --remote names run elsewhere."""
    return StackPlan(config, tuple(
        ProcessEntry(name=role, role=role,
                     host=config.connect_host if role in config.remote else None)
        for role in ROLES))
