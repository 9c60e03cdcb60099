"""Issue 4: faults, bad input, load. Each drill scenario runs against one live stack of real
processes (the same functions `python -m tools.drill` runs) and must pass every check."""
import os
import signal
import sys
import time

import pytest

from engine.control.controller import ProcessController
from engine.control.lifecycle import State
from engine.shm.price_book import SharedPriceBook
from engine.shm.segment import segment_exists
from engine.testing import wait_until
from tests.support import SHARED_CONTROLLERS, unique_shm_name
from tools import drill

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    cfg = drill.drill_config(str(tmp_path_factory.mktemp("drill") / "logs"),
                             shm_name=unique_shm_name())
    s = drill.Stack(cfg)
    SHARED_CONTROLLERS.append(s.ctl)
    try:
        s.start()
        yield s
    finally:
        s.close()
        SHARED_CONTROLLERS.remove(s.ctl)
    assert not s.ctl.running(), "the drill stack left processes behind"
    assert not segment_exists(cfg.shm_name) and not segment_exists(cfg.signal_shm_name)


def run(stack, fn, *args):
    r = drill.run_scenario(stack, fn.__name__, fn, *args)
    assert r.passed, f"{r.scenario} failed: {r.checks}; notes: {r.notes}"
    return r


def test_gateway_hard_restart(stack):
    r = run(stack, drill.gateway_restart)
    assert r.recovery_s <= 1.0


def test_orderbook_hard_restart(stack):
    run(stack, drill.orderbook_restart)


def test_order_manager_hard_restart(stack):
    r = run(stack, drill.order_manager_restart)
    assert r.duplicates == 0


def test_strategy_hard_restart(stack):
    run(stack, drill.strategy_restart)


def test_slow_and_stalled_clients(stack):
    run(stack, drill.slow_clients)


def test_bad_input_everywhere(stack):
    r = run(stack, drill.bad_input)
    assert r.bad_rejected >= len(drill.HOSTILE_ORDERS) + len(drill.HOSTILE_PRICES)


def test_load_50_clients_1000_orders(stack):
    r = run(stack, drill.load, 50, 1000)
    assert r.orders_logged >= 50_000 and r.duplicates == 0
    # acked and logged are counted over one window (the Strategy trades on meanwhile): they
    # differ by no more than the orders in flight at its edges
    assert abs(r.orders_acked - r.orders_logged) <= 3, (r.orders_acked, r.orders_logged)


def test_a_descriptor_flood_is_shed_not_spun(stack):
    """600 idle connections against each of two servers limited to 256 open files (where
    the limit can be lowered): logs grow < 1 MB, CPU stays low, the clients held keep their
    data, a new order client is served within 1 s of the flood ending."""
    r = run(stack, drill.descriptor_flood)
    assert r.recovery_s < 1.0


def test_past_the_connection_cap_clients_are_closed_at_once(stack):
    run(stack, drill.connection_cap)


def test_process_logs_rotate_and_the_order_log_never_does(stack):
    run(stack, drill.log_rotation)


def test_tls_strangers_are_refused_and_the_right_client_served(stack):
    r = run(stack, drill.tls_refusals)
    if r.skipped:
        pytest.skip(r.notes[0])


def test_drill_table_format():
    rows = [drill.Result("a", passed=True, recovery_s=0.25, orders_acked=3, orders_logged=3),
            drill.Result("b", passed=False, checks=["x"])]
    table = drill.format_table(rows)
    assert "| a " in table and "0.25 s" in table and "passed" in table and "FAILED" in table


# -- clean shutdown under faults ---------------------------------------------------------
@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="SIGSTOP is POSIX only")
def test_stop_all_ends_a_hung_child_and_unlinks(config):
    ctl = ProcessController(config)
    try:
        ctl.start_all()
        wait_until(lambda: ctl.poll() is not None and
                 all(ctl.status(n).state == State.RUNNING for n in ctl.procs), 30, what="running")
        hung = ctl.status("orderbook").pid
        os.kill(hung, signal.SIGSTOP)  # hung: deaf to its stop event and to SIGTERM
        ctl.kill("gateway")            # and one crashed
        t0 = time.monotonic()
        ctl.stop_all_and_wait()
        assert all(ctl.status(n).state in (State.STOPPED, State.CRASHED) for n in ctl.procs)
        assert time.monotonic() - t0 < 20
        assert not ctl.running()
    finally:
        ctl.close()
    assert not segment_exists(config.shm_name)
    assert not segment_exists(config.signal_shm_name)


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="SIGSTOP is POSIX only")
def test_stop_never_hangs_on_a_child_frozen_while_it_waits(config):
    """A child frozen (SIGSTOP) while it sleeps on its stop request, here the OrderBook in its
    reconnect backoff with no Gateway to reach, must not wedge the controller's stop (a
    multiprocessing.Event's set() waits for every sleeper to wake, for ever)."""
    import threading
    ctl = ProcessController(config)
    lines = []
    ctl.subscribe(lambda ev: lines.append(getattr(ev, "text", "")))
    frozen, hung = None, False
    try:
        ctl.start("orderbook")  # no Gateway: it retries, sleeping on its stop request
        wait_until(lambda: ctl.poll() is not None and
                 any("cannot reach gateway prices" in l for l in lines), 30, what="retrying")
        frozen = ctl.status("orderbook").pid
        os.kill(frozen, signal.SIGSTOP)
        stopper = threading.Thread(target=ctl.stop_and_wait, args=("orderbook",), daemon=True)
        stopper.start()
        stopper.join(15)
        hung = stopper.is_alive()
        assert not hung, "stop() hung on the frozen child"
        assert ctl.status("orderbook").state in (State.STOPPED, State.CRASHED)
        assert not ctl.running()
    finally:
        proc = ctl.status("orderbook").process
        if frozen and proc.is_alive():
            os.kill(frozen, signal.SIGKILL)
            proc.join(5)
        if hung:  # close() would hang the same way: just free what it owns
            ctl.memory.release()
        else:
            ctl.close()
    assert not segment_exists(config.shm_name)


def test_stale_segment_from_a_crash_is_replaced_at_start(config):
    stale = SharedPriceBook(config.symbols, name=config.shm_name)
    stale._h[8] = 2 ** 22 + 4321  # its owner (a crashed launcher) is gone
    stale.close()                 # closed, never unlinked: what a crash leaves behind
    ctl = ProcessController(config)
    try:
        lines = []
        ctl.subscribe(lambda ev: lines.append(getattr(ev, "text", "")))
        ctl.memory.ensure()
        assert ctl.memory.book.replaced_stale
        assert any("stale shared-memory segment" in l for l in lines)
    finally:
        ctl.close()
    assert not segment_exists(config.shm_name)


@pytest.mark.skipif(os.name == "nt", reason="uses POSIX kill(pid, 0) to probe the children")
def test_children_stop_when_the_launcher_is_killed(config, tmp_path):
    """kill -9 of the launcher itself must not leave its four children running."""
    import subprocess

    from tests.support import ROOT

    from .test_stack import flags
    p = subprocess.Popen([sys.executable, str(ROOT / "launcher.py"), "--headless"]
                         + flags(config), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         cwd=tmp_path, text=True)
    pids = []
    try:
        for line in p.stdout:
            if ": running" in line or ": starting (pid" in line:
                if "(pid " in line:
                    pids.append(int(line.split("(pid ")[1].split(")")[0]))
            if len(pids) == 4:
                break
        assert len(pids) == 4, "the four children did not start"
        p.kill()
        p.wait(10)
    finally:
        if p.poll() is None:
            p.kill()
        p.stdout.close()

    def alive(pid):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    wait_until(lambda: not any(alive(pid) for pid in pids), 15, what="children to exit")
    # the launcher could not unlink its segments; Python's resource tracker (it outlives the
    # launcher) removes them once the last process using them is gone
    wait_until(lambda: not segment_exists(config.shm_name) and
             not segment_exists(config.signal_shm_name), 15, what="segments removed")
