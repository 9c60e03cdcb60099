"""An open stack (issue 24), run as a user runs it: `python launcher.py --headless --stack
FILE`. Two Strategies of their own accounts on one OrderManager; the minimal peers of
tests/interop as external processes in each role; Start all without one refused connection;
processes killed from outside and healed by the restart policy."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from engine.config.stack_file import load_stack, plan_from_args
from engine.control.controller import ProcessController
from engine.control.events import StateChanged, StatsUpdate
from engine.control.lifecycle import State
from engine.control.roster import Roster
from engine.records.order_log import read_order_log
from engine.shm.segment import segment_exists
from engine.testing import wait_until
from tests.support import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

STACKS = ROOT / "docs" / "stacks"
PEERS = ROOT / "tests" / "interop" / "peers"


def ports(config):
    return ["--price-port", str(config.price_port), "--news-port", str(config.news_port),
            "--order-port", str(config.order_port), "--confirm-port",
            str(config.confirm_port), "--shm-name", config.shm_name, "--log-dir",
            config.log_dir]


def headless(stack, config, tmp_path, *extra, duration=8):
    summary = tmp_path / "s.json"
    res = subprocess.run([sys.executable, str(ROOT / "launcher.py"), "--headless", "--stack",
                          str(stack), "--duration", str(duration), "--summary", str(summary),
                          *ports(config), *extra], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-3000:]
    return json.loads(summary.read_text(encoding="utf-8")), res.stdout


def starting_part(out: str) -> str:
    """The output up to the end of the run (before the ordered stop)."""
    return out.split(": stopping", 1)[0]


def test_two_strategies_trade_on_their_own_accounts(config, tmp_path):
    s, out = headless(STACKS / "two-strategies.toml", config, tmp_path, "--seed", "11",
                      duration=12)
    accounts = s["accounts"]
    assert set(accounts) == {"fast", "slow"}
    assert all(a["orders"] > 0 for a in accounts.values()), accounts
    # the accounts add up to the session, cent for cent
    for key in ("realized", "unrealized", "total"):
        assert round(sum(a["pnl"][key] for a in accounts.values()), 2) == s["pnl"][key]
    assert sum(a["orders"] for a in accounts.values()) == s["orders_logged"]
    procs = s["processes"]
    assert [procs[n]["role"] for n in ("fast", "slow")] == ["strategy", "strategy"]
    assert not any(p["external"] for p in procs.values())
    assert all(p["ended"] == "stopped" for p in procs.values()), procs
    assert (procs["fast"]["account"], procs["slow"]["account"]) == ("fast", "slow")
    # each Strategy's orders are its own (the order log says whose)
    logged = list(read_order_log(Path(s["session"]) / "orders.jsonl"))
    assert {r["account"] for r in logged} == {"fast", "slow"}
    for name in ("fast", "slow"):
        assert procs[name]["orders_sent"] == procs[name]["orders_acked"] == \
            accounts[name]["orders"]
    # Start all: every process after those it waits for, no connection refused anywhere
    start = starting_part(out)
    assert "refused" not in start.lower(), start
    assert start.index("gateway: running") < start.index("orderbook: starting")
    for name in ("fast", "slow"):
        assert start.index("orderbook: running") < start.index(f"{name}: starting")
        assert start.index("order_manager: running") < start.index(f"{name}: starting")


def peer_stack(tmp_path, role: str) -> Path:
    """Our four, with the minimal peer of `role` in the place of ours (or beside it, for a
    Strategy)."""
    peers = {
        "gateway": '''
            [[process]]
            name = "their-gateway"
            role = "gateway"
            command = ["{python}", "-u", "%s/mini_gateway.py", "--price-port", "{price_port}",
                       "--news-port", "{news_port}", "--symbols", "{symbols}",
                       "--rounds", "100000", "--record", "{log_dir}/sent.jsonl"]
            ''',
        "orderbook": '''
            [[process]]
            name = "their-reader"
            role = "orderbook"
            command = ["{python}", "-u", "%s/mini_readers.py", "prices", "--port",
                       "{price_port}", "--frames", "1000000"]
            ''',
        "strategy": '''
            [[process]]
            name = "their-strategy"
            role = "strategy"
            command = ["{python}", "-u", "%s/mini_strategy.py", "--port", "{order_port}",
                       "--listen", "3600", '{"side":"BUY","symbol":"AAPL","qty":10,"price":1.5}']
            ''',
        "order_manager": '''
            [[process]]
            name = "their-om"
            role = "order_manager"
            command = ["{python}", "-u", "%s/mini_order_manager.py", "--port", "{order_port}",
                       "--record", "{log_dir}/received.jsonl"]
            ''',
    }
    ours = {"gateway", "orderbook", "strategy", "order_manager"} - {role}
    if role == "strategy":
        ours.add("strategy")
    text = "[stack]\nsymbols = \"AAPL,MSFT\"\nshort-window = 2\nlong-window = 4\n" \
           "bullish = 50\nbearish = 50\ntick-interval = 0.02\nnews-interval = 0.1\n"
    for name in sorted(ours):
        text += f'\n[[process]]\nname = "{name}"\nrole = "{name}"\n'
    text += textwrap.dedent(peers[role] % PEERS.as_posix())
    path = tmp_path / f"{role}.toml"
    path.write_text(text, encoding="utf-8")
    return path


EXPECT = {  # what the peer says in its log, once it runs with ours
    "gateway": "listening",
    "orderbook": '"bad": []',
    "strategy": '"status":"accepted"',
    "order_manager": "Received Order 1: ",
}


@pytest.mark.parametrize("role", list(EXPECT))
def test_a_peer_in_each_role_runs_logs_and_stops_politely(role, config, tmp_path):
    stack = peer_stack(tmp_path, role)
    name = load_stack(stack).processes[-1].name
    if role == "orderbook":  # a reader that reads for ever: ask it to stop, as a user does
        s, out = headless(stack, config, tmp_path, duration=5)
    else:
        s, out = headless(stack, config, tmp_path, duration=6)
    p = s["processes"][name]
    assert p["external"] and p["role"] == role
    # Ctrl+C first: a Python program ends by it (SIGINT), well before a terminate
    assert p["ended"] in ("stopped (SIGINT)", "stopped (exit 1)", "stopped"), p
    # (a reader ends by itself once the Gateway, stopped before it so that it drains it,
    # closes its stream)
    assert (f"{name}: stopping" in out or role == "orderbook") and "terminating" not in out
    log = (Path(s["session"]) / f"{name}.log").read_text(encoding="utf-8")
    if role != "orderbook":
        assert EXPECT[role] in log, log[-2000:]
    assert f"[{name:>13}] " in out  # and on the console, under its name
    assert s["external"] == [name]
    if role == "strategy":  # its order is in the account of its connection
        assert s["accounts"]["anon"]["orders"] == 1
    if role == "order_manager":  # our Strategy traded with it, without acks
        assert "Received Order" in log
    assert "refused" not in starting_part(out).lower()
    assert not segment_exists(config.shm_name)  # (the leak check: and no process left)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds processes by title")
def test_a_headless_run_heals_each_process_killed_from_outside(config, tmp_path):
    """`--headless --on-crash restart`: each of the four and an external Strategy killed from
    outside (kill -9), one after another, each running again within about two seconds
    (before, an OrderBook killed 8 s into a 30 s run never came back); at the end every
    process stopped in order, each restarted once, every order logged once. Ours are found
    by their titles ('ipcdesk: orderbook'), the external one by its command line."""
    stack = peer_stack(tmp_path, "strategy")
    summary = tmp_path / "s.json"
    proc = subprocess.Popen([sys.executable, str(ROOT / "launcher.py"), "--headless",
                             "--stack", str(stack), "--on-crash", "restart", "--duration",
                             "30", "--summary", str(summary), *ports(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=tmp_path)

    def found(name):
        for p in psutil.Process(proc.pid).children(recursive=True):
            try:
                cmd = p.cmdline()
            except psutil.Error:
                continue
            if cmd[:1] == [f"ipcdesk: {name}"] or (
                    name == "their-strategy" and any("mini_strategy" in c for c in cmd)):
                return p
        return None

    names = ("their-strategy", "gateway", "order_manager", "strategy", "orderbook")
    try:
        wait_until(lambda: all(found(n) for n in names), 30, "every process, by its title")
        time.sleep(2)  # (let it trade: what it sent is checked below)
        for name in names:
            first = found(name)
            killed_at = time.monotonic()
            os.kill(first.pid, signal.SIGKILL)
            wait_until(lambda: (p := found(name)) is not None and p.pid != first.pid, 5,
                       f"{name} running again")
            assert time.monotonic() - killed_at < 2.5, name
            time.sleep(1.5)
        out, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out[-3000:]
    s = json.loads(summary.read_text(encoding="utf-8"))
    for name in names:
        p = s["processes"][name]
        assert p["restarts"] == 1, (name, p)
        assert p["ended"].startswith("stopped"), (name, p)
    assert out.count("restart on crash: restart 1 of 3") == len(names)
    logged = list(read_order_log(Path(s["session"]) / "orders.jsonl"))
    ids = [r["client_order_id"] for r in logged]
    assert logged and len(ids) == len(set(ids)), "an order logged twice"
    assert s["orders_logged"] == len(logged)


def test_each_process_killed_from_outside_comes_back_and_nothing_is_lost(config, tmp_path):
    """The restart policy as --headless runs it (the same controller, built from the stack
    file with --on-crash restart): each of the four and an external Strategy killed from
    outside, one after another, each running again within two seconds; every tick the
    Gateway sent after the OrderBook's return applied, every order acked and logged once."""
    stack = peer_stack(tmp_path, "strategy")

    class Args:
        on_crash = "restart"
    Args.stack = str(stack)
    base = {k: getattr(config, k) for k in ("price_port", "news_port", "order_port",
                                             "confirm_port", "shm_name", "log_dir")}
    plan = plan_from_args(Args, config, base)
    ctl = ProcessController(plan.config, roster=Roster.from_plan(plan))
    reports = []  # (time, name, stats)
    states = []   # (time, name, state)
    ctl.subscribe(lambda e: isinstance(e, StatsUpdate) and reports.append(
        (time.monotonic(), e.name, e.stats)))
    ctl.subscribe(lambda e: isinstance(e, StateChanged) and states.append(
        (time.monotonic(), e.name, e.state)))
    logs = Path(plan.config.log_dir)
    with ctl:
        ctl.start_all()
        # (the peer first: it ends by itself, exit 0, when its OrderManager goes away)
        names = ("their-strategy", "gateway", "order_manager", "strategy", "orderbook")
        wait_until(lambda: all(ctl.state(n) == State.RUNNING for n in names), 30,
                   "all running", pump=ctl.poll, logs=logs)
        wait_until(lambda: ctl.totals("strategy").orders_acked >= 2, 30, "orders",
                   pump=ctl.poll, logs=logs)
        s0 = None
        for name in names:  # the OrderBook last: from its return on, nothing may be lost
            pid = ctl.procs[name].pid
            t0 = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: ctl.state(name) == State.RUNNING and ctl.procs[name].pid != pid,
                       5, f"{name} running again", pump=ctl.poll, logs=logs)
            assert time.monotonic() - t0 < 2.5, f"{name} took {time.monotonic() - t0:.1f} s"
            if name == "orderbook":
                # the Gateway's count while nobody read prices: frozen, the base of the rest
                quiet = [st.ticks_sent for t, n, st in reports
                         if n == "gateway" and t > t0 and st.price_clients == 0]
                assert quiet, "no Gateway report while the OrderBook was away"
                s0 = quiet[-1]
        wait_until(lambda: ctl.procs["orderbook"].stats.ticks_applied > 100, 15,
                   "prices again", pump=ctl.poll, logs=logs)
        wait_until(lambda: ctl.procs["strategy"].stats.orders_acked > 0, 30,
                   "orders again", pump=ctl.poll, logs=logs)
        assert ctl.stop_all_and_wait()
        gateway_sent = ctl.procs["gateway"].stats.ticks_sent  # its last run's, as s0
        applied_since = ctl.procs["orderbook"].stats.ticks_applied  # its last run's
        assert gateway_sent - s0 == applied_since, (gateway_sent, s0, applied_since)
        for name in names:
            assert ctl.procs[name].restarts == 1, name
        ours = ctl.procs["strategy"].stats
        assert ours.orders_sent == ours.orders_acked and ours.orders_pending == 0
    logged = list(read_order_log(logs / "orders.jsonl"))
    ids = [r["client_order_id"] for r in logged]
    assert len(ids) == len(set(ids)), "an order logged twice"
    # the peer sent its one order at each of its two starts, and was acked each time
    peer = (logs / "their-strategy.log").read_text(encoding="utf-8")
    assert peer.count('"status":"accepted"') == 2
    assert sum(1 for r in logged if r["account"] == "anon") == 2
