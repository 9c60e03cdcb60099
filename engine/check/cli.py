"""`python -m engine.check ROLE (--address HOST:PORT[,PORT...] | --command "..." ...)`: run
the role's card against the component, print it, optionally save it as Markdown; exit 0 when
every required point passes, 1 when one fails, 2 when the check could not run."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional, Sequence

from engine.config.flags import parser_for

from .card import NA, Card
from .target import CannotRun, Target, parse_address

# role -> the ports --address names, in order (check_class gives its check)
ROLES = {
    "gateway": ("price_port", "news_port"),
    "orderbook-strategy": ("price_port", "news_port", "order_port"),
    "order-manager": ("order_port",),
}
ADDRESS_HELP = {
    "gateway": "HOST:PRICE_PORT,NEWS_PORT of a running Gateway",
    "orderbook-strategy": "HOST:PRICE_PORT,NEWS_PORT,ORDER_PORT the checker listens on, "
                          "where the OrderBook and Strategy (started by you) connect",
    "order-manager": "HOST:ORDER_PORT of a running OrderManager",
}


def check_class(role: str):
    if role == "gateway":
        from .gateway import GatewayCheck
        return GatewayCheck
    if role == "orderbook-strategy":
        from .orderbook_strategy import OrderBookStrategyCheck
        return OrderBookStrategyCheck
    from .order_manager import OrderManagerCheck
    return OrderManagerCheck


def run_check(role: str, address: Optional[str] = None,
              commands: Sequence[str] = ()) -> Card:
    """The card of one component (never raises for the component's faults)."""
    card = Card(role, address or "")
    target: Optional[Target] = None
    try:
        if address:
            host, ports = parse_address(address, len(ROLES[role]))
            target = Target.at(host, **dict(zip(ROLES[role], ports)))
        else:
            target = Target.for_commands(commands)
            card.target = target.describe()
        check = check_class(role)(card, target)
        if target.commands and role != "orderbook-strategy":
            target.start()  # (the orderbook-strategy check starts it once it listens)
        check.run()
        for point in card.points:  # the points an earlier failure left unchecked
            if point.status == NA and not point.evidence:
                point.evidence = "not checked: a point it needs failed"
    except CannotRun as exc:
        card.could_not_run = str(exc)
    finally:
        if target is not None and target.commands:
            target.stop()
            card.output = list(target.output)
    return card


def main(argv: Optional[List[str]] = None) -> None:
    ap = parser_for("python -m engine.check", "Check a component of any team against the "
                    "assignment's contract: a report card, point by point. Exit 0 when every "
                    "required point passes, 1 when one fails, 2 when the check cannot run.")
    ap.add_argument("role", choices=sorted(ROLES))
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--address", help="; ".join(f"{r}: {h}" for r, h in ADDRESS_HELP.items()))
    where.add_argument("--command", action="append", default=[],
                       help="the component's command, started and stopped by the checker, "
                            "with placeholders {host} {price_port} {news_port} {order_port} "
                            "{confirm_port} {shm_name} {log_dir} {python}; orderbook-strategy "
                            "takes two (the OrderBook's, then the Strategy's) or one")
    ap.add_argument("--markdown", metavar="FILE", help="also save the card as Markdown")
    args = ap.parse_args(argv)
    card = run_check(args.role, args.address, args.command)
    print(card.text())
    lines = [t for t in card.output if t.strip()]
    if lines and card.exit_code:
        print("\nits last lines:\n  " + "\n  ".join(lines[-8:]))
    if args.markdown:
        Path(args.markdown).write_text(card.markdown(), encoding="utf-8")
        print(f"card saved to {args.markdown}")
    sys.exit(card.exit_code)
