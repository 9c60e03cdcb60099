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


def test_a_stack_plan_makes_the_roster_and_each_process_its_settings(tmp_path):
    """From a plan: ours and external processes, those elsewhere apart; each process's own
    settings over the stack's at start; only the first of our Strategies writes the desk's
    signal book; the restart policy of the file."""
    from engine.config.stack import ProcessEntry, StackPlan
    plan = StackPlan(Config(log_dir=str(tmp_path)), (
        ProcessEntry("gateway", "gateway", host="10.0.0.5"),
        ProcessEntry("peer", "strategy", command=("ls",)),
        ProcessEntry("fast", "strategy", settings={"short_window": 3, "long_window": 8},
                     on_crash="on crash"),
        ProcessEntry("slow", "strategy", account="mine")))
    r = Roster.from_plan(plan)
    assert r.names == ("peer", "fast", "slow") and [e.name for e in r.remote] == ["gateway"]
    assert r["peer"].external and r["peer"].target is None and not r["fast"].external
    ctl = ProcessController(plan.config, roster=r)
    fast, slow = ctl.config_of("fast"), ctl.config_of("slow")
    assert (fast.short_window, fast.long_window, fast.account) == (3, 8, "fast")
    assert (slow.short_window, slow.account) == (Config().short_window, "mine")
    assert fast.publish_signals and not slow.publish_signals
    assert ctl.procs["fast"].auto.policy == "on crash" and ctl.procs["slow"].auto.policy == "never"
    assert r.dependencies() == {"peer": (), "fast": (), "slow": ()}  # the Gateway is elsewhere
    assert r.plan(plan.config).processes == plan.processes[1:] + plan.processes[:1]
