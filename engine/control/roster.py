"""The roster: the processes a stack runs, each a ProcessSpec (a unique name, its role, the
module-level target a spawned child runs, or the command of an external process, its title,
and its entry of the stack: its own settings, dependencies, readiness, restart policy). The
controller works over a roster, not a fixed list of four.

Start order comes from the dependencies (`depends_on`, else the servers a role talks to): a
process starts once everything it depends on is ready. Stop order is the reverse (a process
stops once everything that depends on it has exited) with one exception, kept from the fixed
order of old: a Gateway stops before the OrderBooks that read it, so that they apply every
tick it sent (an OrderBook stopped first would leave the Gateway's last ticks unread).

Without a stack file, a stack's roster is the four of the assignment, named by their roles,
less those `--remote` says run elsewhere (`default_roster`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

from engine.config.schema import ROLES, Config
from engine.config.stack import ProcessEntry, StackPlan, default_plan, dependencies
from engine.processes.gateway import run_gateway
from engine.processes.order_manager import run_order_manager
from engine.processes.orderbook import run_orderbook
from engine.processes.strategy import run_strategy

TITLES = {"gateway": "Gateway", "orderbook": "OrderBook", "strategy": "Strategy",
          "order_manager": "OrderManager"}
TARGETS = {"gateway": run_gateway, "orderbook": run_orderbook, "strategy": run_strategy,
           "order_manager": run_order_manager}
# Among processes free to start (or stop) at the same moment, the order they are asked in.
START_ORDER = ("order_manager", "gateway", "orderbook", "strategy")
STOP_ORDER = ("strategy", "gateway", "orderbook", "order_manager")


@dataclass(frozen=True)
class ProcessSpec:
    """One process of a stack."""
    name: str          # unique in the stack; its log is <name>.log
    role: str          # one of ROLES: what it does, and so what it waits for
    target: Optional[Callable] = None  # what the spawned child runs (module-level, so it
    #                                    pickles by name); None for an external process
    title: str = ""    # what people read ("" : the role's title, or the name)
    entry: Optional[ProcessEntry] = None  # its entry of the stack (None: a plain one)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"process {self.name!r}: no role called {self.role!r} "
                             f"(choose from {', '.join(ROLES)})")
        if self.entry is None:
            object.__setattr__(self, "entry", ProcessEntry(self.name, self.role))
        if self.target is None and not self.entry.external:
            object.__setattr__(self, "target", TARGETS[self.role])
        if not self.title:
            object.__setattr__(self, "title", TITLES[self.role] if self.name == self.role
                               else self.name)

    @property
    def external(self) -> bool:
        return self.entry.external

    @classmethod
    def of(cls, entry: ProcessEntry) -> "ProcessSpec":
        return cls(entry.name, entry.role, None, entry=entry)


def _ranked(names, specs, ranking) -> List[str]:
    rank = {role: i for i, role in enumerate(ranking)}
    given = {n: i for i, n in enumerate(specs)}
    return sorted(names, key=lambda n: (rank[specs[n].role], given[n]))


class Roster:
    """The specs of a stack, by name, in the order given (the order people read them in), and
    the processes of the stack that run elsewhere (`remote`: entries, never started here)."""

    def __init__(self, specs: Sequence[ProcessSpec], remote: Sequence[ProcessEntry] = ()):
        names = [s.name for s in specs] + [e.name for e in remote]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"two processes called {', '.join(twice)}")
        self._specs: Dict[str, ProcessSpec] = {s.name: s for s in specs}
        self.remote: Tuple[ProcessEntry, ...] = tuple(remote)

    @classmethod
    def from_targets(cls, targets: Mapping[str, Callable]) -> "Roster":
        """Processes named by their roles ({"gateway": run_gateway, ...}): a stack of some
        of the four, or of stand-ins for them (tools and tests)."""
        return cls([ProcessSpec(role, role, target) for role, target in targets.items()])

    @classmethod
    def from_plan(cls, plan: StackPlan) -> "Roster":
        """The processes of a stack plan: ours and external ones run here, those with a
        host elsewhere."""
        return cls([ProcessSpec.of(e) for e in plan.processes if not e.remote],
                   [e for e in plan.processes if e.remote])

    def plan(self, config: Config, path: Optional[str] = None,
             stack_settings: Optional[dict] = None) -> StackPlan:
        """The stack this roster runs, as a plan (what File > Save stack writes)."""
        return StackPlan(config, tuple(s.entry for s in self) + self.remote, path,
                         dict(stack_settings or {}))

    # -- changing it while it runs (the controller checks the process is stopped) ----------------
    def add(self, spec: ProcessSpec) -> None:
        if spec.name in self._specs or spec.name in {e.name for e in self.remote}:
            raise ValueError(f"there is a process called {spec.name!r} already")
        self._specs[spec.name] = spec

    def replace(self, spec: ProcessSpec) -> None:
        if spec.name not in self._specs:
            raise KeyError(spec.name)
        self._specs[spec.name] = spec

    def remove(self, name: str) -> None:
        del self._specs[name]

    # -- reading it ------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[ProcessSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, name: str) -> bool:
        return name in self._specs

    def __getitem__(self, name: str) -> ProcessSpec:
        return self._specs[name]

    @property
    def names(self) -> tuple:
        """Every process's name, in the order given."""
        return tuple(self._specs)

    def dependencies(self) -> Dict[str, Tuple[str, ...]]:
        """What each process of this machine waits for, among those of this machine (a
        process elsewhere is never waited for: it runs or it does not, and ours retry)."""
        deps = dependencies([s.entry for s in self] + list(self.remote))
        return {n: tuple(d for d in ds if d in self._specs) for n, ds in deps.items()
                if n in self._specs}

    def stop_before(self) -> Dict[str, Set[str]]:
        """For each process, those that must have exited before it is asked to stop: the
        processes that depend on it; for an OrderBook also the Gateways it reads (and not
        the other way round), so that it applies every tick they sent."""
        deps = self.dependencies()
        before: Dict[str, Set[str]] = {n: set() for n in self._specs}
        for n, ds in deps.items():
            for d in ds:
                if self._specs[n].role == "orderbook" and self._specs[d].role == "gateway":
                    before[n].add(d)  # the Gateway goes first
                else:
                    before[d].add(n)
        if _has_cycle(before):  # a file whose Gateway waits for its OrderBook: plain reverse
            before = {n: set() for n in self._specs}
            for n, ds in deps.items():
                for d in ds:
                    before[d].add(n)
        return before

    def start_order(self) -> List[str]:
        """The order processes start in when each is ready at once: every one after those it
        waits for (among those free together: servers first, then by the order given)."""
        return _waves({n: set(ds) for n, ds in self.dependencies().items()}, self._specs,
                      START_ORDER)

    def stop_order(self) -> List[str]:
        return _waves(self.stop_before(), self._specs, STOP_ORDER)

    def with_role(self, role: str) -> List[str]:
        return [s.name for s in self._specs.values() if s.role == role]

    def title(self, name: str) -> str:
        spec = self._specs.get(name)
        if spec is not None:
            return spec.title
        for e in self.remote:
            if e.name == name:
                return TITLES[e.role] if e.name == e.role else e.name
        return TITLES.get(name, name)

    def role_of(self, name: str) -> Optional[str]:
        if name in self._specs:
            return self._specs[name].role
        return next((e.role for e in self.remote if e.name == name), None)


def _waves(after: Dict[str, Set[str]], specs, ranking) -> List[str]:
    out: List[str] = []
    left = dict(after)
    while left:
        free = [n for n, need in left.items() if not (need & set(left))]
        if not free:  # a cycle (a stack file refuses one): the rest in rank order
            free = list(left)
        out += _ranked(free, specs, ranking)
        for n in free:
            del left[n]
    return out


def _has_cycle(after: Dict[str, Set[str]]) -> bool:
    left = {n: set(v) for n, v in after.items()}
    while left:
        free = [n for n, need in left.items() if not (need & set(left))]
        if not free:
            return True
        for n in free:
            del left[n]
    return False


def default_roster(config: Config) -> Roster:
    """The four processes of the assignment, less those that run elsewhere (--remote)."""
    return Roster.from_plan(default_plan(config))
