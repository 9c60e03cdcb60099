"""The desk as a supervisor, driven through its real widgets over a real stack: Kill, the
restart-on-crash policy with its backoff and retry limit, a frozen child shown unresponsive,
CPU and memory per process, and the last log lines of a crashed one."""
from __future__ import annotations

import os
import re
import signal
import socket
import sys
import time

import pytest

from engine.control.supervision import BACKOFF_START_S, RETRY_LIMIT, UNRESPONSIVE_AFTER_S
from engine.platforms.oscompat import kill_from_outside
from gui.views.process_panel import SHORT_ROLES

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

START_MS = 20_000


def test_kill_button_kills_at_once_and_is_never_undone(qtbot, desk, start_all):
    panel = desk.process_panel
    start_all(desk)
    row = panel.rows["orderbook"]
    row.policy.setCurrentText("on crash")  # a kill from the desk is the user's: not undone
    assert desk.adapter.controller.status("orderbook").auto.policy == "on crash"
    t0 = time.monotonic()
    row.kill.click()
    qtbot.waitUntil(lambda: panel.state_of("orderbook") == "crashed", timeout=3_000)
    assert time.monotonic() - t0 < 1.0
    word = "TerminateProcess" if os.name == "nt" else "SIGKILL"
    assert panel.state_label("orderbook").endswith(f"killed ({word})")
    assert word in row.kill.toolTip()
    assert not row.kill.isEnabled() and row.start.isEnabled()
    # the header and the System map say what the row says: killed, not crashed
    assert "1 killed" in panel.summary.text() and "crashed" not in panel.summary.text()
    desk.system_map.refresh()
    assert desk.system_map.node("orderbook").state == "killed"
    qtbot.wait(int(BACKOFF_START_S * 1000) + 700)  # longer than the first backoff
    assert panel.state_of("orderbook") == "crashed"
    assert panel.state_of("gateway") == "running"
    # the status line says so for 10 s, and no longer once it runs again (the demo tour's
    # "Start the OrderBook again" step showed "OrderBook killed" beside four running)
    assert "OrderBook killed" in desk.status.message.text()
    row.start.click()
    qtbot.waitUntil(lambda: panel.state_of("orderbook") == "running", timeout=10_000)
    assert "OrderBook" not in desk.status.message.text()


def test_the_map_and_the_status_bar_count_shared_memory_alike(qtbot, desk, start_all):
    start_all(desk)
    desk.status.update(desk.adapter.model.figures(), 0.0, False)
    desk.system_map.refresh()
    shown = re.search(r"shm <b>([\d,]+) B</b>", desk.status.labels["shm"].text()).group(1)
    assert f"\n{shown} B" in desk.system_map.node("shm").detail
    assert int(shown.replace(",", "")) == desk.adapter.controller.memory.nbytes > \
        desk.adapter.price_book.nbytes  # both books: prices and signals


def test_restart_on_crash_comes_back_within_its_backoff_then_gives_up(qtbot, desk,
                                                                      start_all):
    panel, ctl = desk.process_panel, desk.adapter.controller
    start_all(desk)

    # a crash from outside under "on crash": started again after the first backoff
    row = panel.rows["strategy"]
    row.policy.setCurrentText("on crash")
    pid = ctl.status("strategy").pid
    kill_from_outside(pid)
    qtbot.waitUntil(lambda: panel.state_of("strategy") == "crashed", timeout=3_000)
    crashed_at = time.monotonic()
    qtbot.waitUntil(lambda: ctl.status("strategy").pid not in (None, pid), timeout=5_000)
    back_after = time.monotonic() - crashed_at
    assert BACKOFF_START_S - 0.1 <= back_after < BACKOFF_START_S + 0.6, back_after
    qtbot.waitUntil(lambda: panel.state_of("strategy") == "running", timeout=START_MS)
    assert "restart on crash: restart 1 of" in desk.log_view.text("strategy")

    # an OrderManager that cannot open its port crashes at every start: it gives up
    panel.rows["order_manager"].stop.click()
    qtbot.waitUntil(lambda: panel.state_of("order_manager") == "stopped", timeout=10_000)
    held = socket.socket()
    try:
        # the port may still have connections in TIME_WAIT: take it as a server would
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.bind(("127.0.0.1", desk.adapter.config.order_port))
        held.listen()
        panel.rows["order_manager"].policy.setCurrentText("on crash")
        before = ctl.status("order_manager").restarts
        panel.rows["order_manager"].start.click()
        qtbot.waitUntil(lambda: panel.state_label("order_manager").startswith(
            "\u25cf  gave up"), timeout=30_000)
        p = ctl.status("order_manager")
        assert p.restarts - before == RETRY_LIMIT + 1  # the click's start and the retries
        assert p.auto.gave_up == f"gave up after {RETRY_LIMIT} restarts: exit 2"
        panel.refresh()
        assert panel.rows["order_manager"].role.text() == p.auto.gave_up
        assert f"restart on crash: gave up after {RETRY_LIMIT} restarts" in \
            desk.log_view.text("order_manager")
        qtbot.wait(1500)  # and it stays given up
        assert ctl.status("order_manager").restarts == p.restarts and not p.alive
        # the state's tooltip carries its last log lines
        tip = panel.rows["order_manager"].state.toolTip()
        assert tip.startswith("Its last log lines:") and "in use" in tip
    finally:
        held.close()
    panel.rows["order_manager"].start.click()  # the user's Start counts afresh
    qtbot.waitUntil(lambda: panel.state_of("order_manager") == "running", timeout=START_MS)
    assert not ctl.status("order_manager").auto.gave_up


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="SIGSTOP/SIGCONT are POSIX only")
def test_a_frozen_child_reads_unresponsive_and_recovers_when_continued(qtbot, desk,
                                                                       start_all):
    panel = desk.process_panel
    start_all(desk)
    pid = desk.adapter.controller.status("gateway").pid
    os.kill(pid, signal.SIGSTOP)
    try:
        qtbot.waitUntil(lambda: "unresponsive" in panel.state_label("gateway"),
                        timeout=int(UNRESPONSIVE_AFTER_S * 1000) + 3_000)
        assert panel.state_of("gateway") == "running"  # alive: its lifecycle is unchanged
        assert panel.rows["gateway"].role.text().startswith("no report for")
        assert panel.state_label("orderbook").endswith("running")
    finally:
        os.kill(pid, signal.SIGCONT)
    qtbot.waitUntil(lambda: panel.state_label("gateway").endswith("running"), timeout=5_000)
    assert panel.rows["gateway"].role.text() == SHORT_ROLES["gateway"]


def test_cpu_and_memory_per_process(qtbot, desk, start_all):
    panel = desk.process_panel
    start_all(desk)

    def figures():
        panel.refresh()
        return all(r.cpu.text().endswith("%") and r.rss.text().endswith("MB")
                   for r in panel.rows.values())
    qtbot.waitUntil(figures, timeout=5_000)
    for name, row in panel.rows.items():
        v = desk.adapter.view(name)
        assert 10 << 20 < v.rss_bytes < 2 << 30, (name, v.rss_bytes)  # a Python process
        assert 0.0 <= v.cpu_percent < 200.0, (name, v.cpu_percent)
    if sys.platform.startswith("linux"):  # the child's own figure, against the kernel's
        pid = desk.adapter.controller.status("gateway").pid
        with open(f"/proc/{pid}/statm", encoding="ascii") as f:
            rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        assert abs(desk.adapter.view("gateway").rss_bytes - rss) < 0.2 * rss
