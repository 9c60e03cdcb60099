"""The roster (engine.control.roster): the processes a stack runs, each a name, a role and a
target. The start and stop orders follow from the roles whatever the names and their
number; a role's figures add up over every process of it."""
from __future__ import annotations

import pytest

from engine.config.schema import Config
from engine.control.controller import ProcessController
from engine.control.roster import ProcessSpec, Roster, default_roster
from engine.measure.stats import Stats
from tests.standins import idle_target


def roster():
    return Roster([ProcessSpec("fast", "strategy", idle_target),
                   ProcessSpec("gateway", "gateway", idle_target),
                   ProcessSpec("slow", "strategy", idle_target),
                   ProcessSpec("om", "order_manager", idle_target),
                   ProcessSpec("orderbook", "orderbook", idle_target)])


def test_servers_start_first_and_strategies_stop_first():
    r = roster()
    assert r.names == ("fast", "gateway", "slow", "om", "orderbook")  # as given
    assert r.start_order() == ["om", "gateway", "orderbook", "fast", "slow"]
    # the reverse, but a Gateway before the OrderBook that reads it (which drains it)
    assert r.stop_order() == ["fast", "slow", "gateway", "om", "orderbook"]
    assert r.with_role("strategy") == ["fast", "slow"]
    assert r.title("gateway") == "Gateway" and r.title("fast") == "fast"


def test_names_are_unique_and_roles_known():
    with pytest.raises(ValueError, match="two processes called a"):
        Roster([ProcessSpec("a", "gateway", idle_target), ProcessSpec("a", "strategy", idle_target)])
    with pytest.raises(ValueError, match="no role called 'broker'"):
        ProcessSpec("b", "broker", idle_target)


def test_the_default_stack_is_the_four_less_what_runs_elsewhere():
    assert default_roster(Config()).names == ("gateway", "orderbook", "strategy", "order_manager")
    assert default_roster(Config(remote="gateway,order-manager")).names == ("orderbook",
                                                                            "strategy")


def test_a_roles_figures_add_up_over_its_processes(tmp_path):
    ctl = ProcessController(Config(log_dir=str(tmp_path)), roster=roster())
    ctl.procs["fast"].stats = Stats(orders_sent=3, orders_acked=2)
    ctl.procs["slow"].stats = Stats(orders_sent=4, orders_acked=4)
    total = ctl.role_totals("strategy")
    assert (total.orders_sent, total.orders_acked) == (7, 6)
    assert ctl.role_totals("gateway").ticks_sent == 0
