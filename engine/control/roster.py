"""The roster: the processes a stack runs, each a ProcessSpec (a unique name, its role, the
module-level target a spawned child runs, its title). The controller works over a roster, not
a fixed list of four; the start and stop orders follow from the roles.

Without anything said, a stack's roster is the four of the assignment, named by their roles,
less those `--remote` says run elsewhere (`default_roster`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Mapping, Sequence

from engine.config.schema import ROLES, Config
from engine.processes.gateway import run_gateway
from engine.processes.order_manager import run_order_manager
from engine.processes.orderbook import run_orderbook
from engine.processes.strategy import run_strategy

TITLES = {"gateway": "Gateway", "orderbook": "OrderBook", "strategy": "Strategy",
          "order_manager": "OrderManager"}
TARGETS = {"gateway": run_gateway, "orderbook": run_orderbook, "strategy": run_strategy,
           "order_manager": run_order_manager}
# Servers first so clients connect at once (they would retry anyway).
START_ORDER = ("order_manager", "gateway", "orderbook", "strategy")
# Strategy first (it waits for its acks), then the Gateway so the OrderBook can drain every
# tick it was sent, then the OrderBook, then the OrderManager.
STOP_ORDER = ("strategy", "gateway", "orderbook", "order_manager")


@dataclass(frozen=True)
class ProcessSpec:
    """One process of a stack."""
    name: str          # unique in the stack; its log is <name>.log
    role: str          # one of ROLES: what it does, and so where it starts and stops
    target: Callable   # what the spawned child runs: module-level, so it pickles by name
    title: str = ""    # what people read ("" : the role's title)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"process {self.name!r}: no role called {self.role!r} "
                             f"(choose from {', '.join(ROLES)})")
        if not self.title:
            object.__setattr__(self, "title", TITLES[self.role] if self.name == self.role
                               else self.name)


class Roster:
    """The specs of a stack, by name, in the order given (the order people read them in);
    they start and stop in the orders their roles call for."""

    def __init__(self, specs: Sequence[ProcessSpec]):
        names = [s.name for s in specs]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"two processes called {', '.join(twice)}")
        self._specs: Dict[str, ProcessSpec] = {s.name: s for s in specs}

    @classmethod
    def from_targets(cls, targets: Mapping[str, Callable]) -> "Roster":
        """Processes named by their roles ({"gateway": run_gateway, ...}): a stack of some
        of the four, or of stand-ins for them (tools and tests)."""
        return cls([ProcessSpec(role, role, target) for role, target in targets.items()])

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

    def start_order(self) -> List[str]:
        rank = {role: i for i, role in enumerate(START_ORDER)}
        return [s.name for s in sorted(self._specs.values(), key=lambda s: rank[s.role])]

    def stop_order(self) -> List[str]:
        rank = {role: i for i, role in enumerate(STOP_ORDER)}
        return [s.name for s in sorted(self._specs.values(), key=lambda s: rank[s.role])]

    def with_role(self, role: str) -> List[str]:
        return [s.name for s in self._specs.values() if s.role == role]

    def title(self, name: str) -> str:
        spec = self._specs.get(name)
        return spec.title if spec is not None else TITLES.get(name, name)


def default_roster(config: Config) -> Roster:
    """The four processes of the assignment, less those that run elsewhere (--remote)."""
    return Roster([ProcessSpec(role, role, TARGETS[role]) for role in ROLES
                   if role not in config.remote])
