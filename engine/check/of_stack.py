"""Which check a process of a stack gets (the desk's Check... on another team's process): its
role's card, run on a fresh copy of it (its command, cwd and env from the stack, its ports
the checker's), so the stack that runs is not disturbed. An OrderBook and a Strategy are
checked together: the other of the pair is the stack's (theirs, or ours by its module)."""
from __future__ import annotations

from typing import List, Optional, Tuple

from engine.config.stack import ProcessEntry, StackPlan

from .target import Command

CHECK_ROLE = {"gateway": "gateway", "order_manager": "order-manager",
              "orderbook": "orderbook-strategy", "strategy": "orderbook-strategy"}
# ours, as the checker starts them when a team's OrderBook or Strategy is checked with ours
OURS = {
    "gateway": "{python} -m engine.gateway --price-port {price_port} --news-port {news_port}",
    "order_manager": "{python} -m engine.order_manager --order-port {order_port} "
                     "--confirm-port {confirm_port}",
    "orderbook": "{python} -m engine.orderbook --price-port {price_port} --shm-name {shm_name}",
    "strategy": "{python} -m engine.strategy --price-port {price_port} --news-port {news_port} "
                "--order-port {order_port} --shm-name {shm_name}",
}


def command_of(entry: Optional[ProcessEntry], role: str) -> Command:
    if entry is None or entry.command is None:
        return Command(OURS[role])
    return Command(tuple(entry.command), entry.cwd, dict(entry.env))


def check_of(entry: ProcessEntry, plan: StackPlan) -> Tuple[str, List[Command]]:
    """(check role, the commands to check) for a process of the plan."""
    role = CHECK_ROLE[entry.role]
    if role != "orderbook-strategy":
        return role, [command_of(entry, entry.role)]

    def first(r: str) -> Optional[ProcessEntry]:
        same = [p for p in plan.processes if p.role == r]
        return next((p for p in same if p.external), same[0] if same else None)
    book = entry if entry.role == "orderbook" else first("orderbook")
    strategy = entry if entry.role == "strategy" else first("strategy")
    return role, [command_of(book, "orderbook"), command_of(strategy, "strategy")]
