"""Stack files (issue 24): the examples the docs use load; a plan written back reads back the
same; every mistake a person can make is one message with the file, the line and the key."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.config.schema import Config
from engine.config.stack import ProcessEntry, StackPlan, dependencies, fill
from engine.config.stack_file import StackFileError, dump_stack, load_stack, plan_from_args
from engine.control.roster import Roster
from tests.support import ROOT

EXAMPLES = sorted((ROOT / "docs" / "stacks").glob("*.toml"))
FOUR = """
[[process]]
name = "gateway"
role = "gateway"
[[process]]
name = "orderbook"
role = "orderbook"
[[process]]
name = "om"
role = "order_manager"
"""


def write(tmp_path, text, name="stack.toml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_the_example_stacks_load_and_read_back_the_same(path, tmp_path):
    plan = load_stack(path)
    assert plan.processes and plan.path == str(path)
    again = load_stack(write(tmp_path, dump_stack(plan)))
    assert again.processes == plan.processes
    assert again.config == plan.config


def test_two_strategies_differ_in_their_own_settings():
    plan = load_stack(ROOT / "docs" / "stacks" / "two-strategies.toml")
    fast, slow = plan["fast"], plan["slow"]
    f, s = fast.config(plan.config), slow.config(plan.config)
    assert (f.short_window, f.long_window, s.short_window, s.long_window) == (3, 8, 10, 30)
    assert (f.account, s.account) == ("fast", "slow")  # an account is its name by default
    assert f.symbols == s.symbols == plan.config.symbols
    assert slow.on_crash == "on crash" and fast.on_crash == "never"
    # a Strategy waits for the Gateway, the OrderBook and the OrderManager of the stack
    assert dependencies(plan.processes)["fast"] == ("gateway", "orderbook", "order_manager")


def test_placeholders_are_filled_from_the_process_settings(tmp_path):
    plan = load_stack(write(tmp_path, FOUR + """
        [[process]]
        name = "peer"
        role = "strategy"
        order-port = 6003
        command = ["ls", "--port", "{order_port}", '{"side":"BUY"}', "{host}:{news_port}"]
        """))
    peer = plan["peer"]
    assert peer.command[2] == "{order_port}"  # kept as written: filled when it starts
    assert peer.argv(peer.config(plan.config)) == ["ls", "--port", "6003", '{"side":"BUY"}',
                                                   "127.0.0.1:5002"]
    assert fill("{python}", Config()) == sys.executable


def test_the_command_line_wins_over_the_file(tmp_path):
    path = write(tmp_path, "[stack]\nsymbols = \"AAPL\"\nqty = 5\n" + FOUR)

    class Args:
        stack, on_crash = str(path), "restart"
    plan = plan_from_args(Args, Config(), {"qty": 7})
    assert plan.config.qty == 7 and plan.config.symbols == ("AAPL",)
    assert {p.on_crash for p in plan.processes} == {"on crash"}


BAD = [
    ("unknown role", """
        [[process]]
        name = "x"
        role = "broker"
        """, 4, "role", "no role called 'broker'"),
    ("missing command", """
        [[process]]
        name = "x"
        role = "strategy"
        command = "no-such-program-zz --port 1"
        """, 5, "command", "no program 'no-such-program-zz'"),
    ("empty command", """
        [[process]]
        name = "x"
        role = "strategy"
        command = []
        """, 5, "command", "not empty"),
    ("a dependency cycle", """
        [[process]]
        name = "a"
        role = "gateway"
        depends_on = ["b"]

        [[process]]
        name = "b"
        role = "orderbook"
        depends_on = ["a"]
        """, 5, "depends_on", "a dependency cycle: a -> b -> a"),
    ("an unknown setting", """
        [stack]
        symbols = "AAPL"

        [[process]]
        name = "s"
        role = "strategy"
        shortwindow = 3
        """, 8, "shortwindow", "no setting of that name"),
    ("a Strategy's setting on a Gateway", """
        [[process]]
        name = "g"
        role = "gateway"
        short-window = 3
        """, 5, "short-window", "a Strategy's setting"),
    ("settings that do not go together", """
        [[process]]
        name = "s"
        role = "strategy"
        short-window = 30
        long-window = 8
        """, 5, "short-window", "short-window < --long-window"),
    ("a dependency that is not there", """
        [[process]]
        name = "s"
        role = "strategy"
        depends_on = ["gw"]
        """, 5, "depends_on", "'gw', which is not in the stack"),
    ("two of one name", FOUR + """
        [[process]]
        name = "om"
        role = "strategy"
        """, 13, "name", "two processes called 'om'"),
    ("not TOML", """
        [[process]]
        name = "s
        """, 3, None, "not TOML"),
    ("a bad ready", """
        [[process]]
        name = "s"
        role = "gateway"
        command = ["ls"]
        ready = { port = "{nope}" }
        """, 6, "ready", "a port number or a placeholder"),
]


@pytest.mark.parametrize("what,text,line,key,message", BAD, ids=[b[0] for b in BAD])
def test_a_mistake_names_the_file_line_and_key(tmp_path, what, text, line, key, message):
    path = write(tmp_path, text)
    with pytest.raises(StackFileError) as err:
        load_stack(path)
    e = err.value
    assert (e.line, e.key) == (line, key), str(e)
    assert message in str(e)
    assert str(e).startswith(f"{path}:{line}: " + (f"key '{key}': " if key else ""))


def test_a_bad_stack_file_stops_the_launcher_with_one_line_and_exit_2(tmp_path):
    path = write(tmp_path, BAD[0][1])
    logs = tmp_path / "logs"
    for args in (["--headless"], []):  # headless, and the desk: before any window
        r = subprocess.run([sys.executable, str(ROOT / "launcher.py"), *args, "--stack",
                            str(path), "--log-dir", str(logs)], capture_output=True,
                           text=True, timeout=60, env={"QT_QPA_PLATFORM": "offscreen",
                                                       "PATH": "/usr/bin:/bin"})
        assert r.returncode == 2, r.stderr
        assert r.stderr.strip() == (f"python launcher.py: error: {path}:4: key 'role': no "
                                    f"role called 'broker' (choose from gateway, orderbook, "
                                    f"strategy, order_manager)")
        assert r.stdout == ""
    assert not logs.exists()  # nothing started: not even a session folder


def test_a_plan_checks_names_and_dependencies_as_the_desk_changes_it():
    plan = StackPlan(Config(), (ProcessEntry("gateway", "gateway"),))
    with pytest.raises(ValueError, match="two processes called gateway"):
        StackPlan(Config(), plan.processes + (ProcessEntry("gateway", "strategy"),))
    with pytest.raises(ValueError, match="not in the stack"):
        plan.with_process(ProcessEntry("s", "strategy", depends_on=("nope",)))
    with pytest.raises(ValueError, match="an account is a Strategy's"):
        ProcessEntry("g", "gateway", account="mine")
    two = plan.with_process(ProcessEntry("s", "strategy", depends_on=("gateway",)))
    assert two.without("gateway").processes == (ProcessEntry("s", "strategy", depends_on=()),)
    roster = Roster.from_plan(two)
    assert roster.plan(Config()).processes == two.processes
