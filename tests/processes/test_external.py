"""External processes (issue 24): another team's program, any command, run by the controller
as it runs ours: its own process group, its output (whatever the encoding, a line capped) in
its log pane and file, ready when its probe passes, stopped politely (Ctrl+C), then
terminated, then killed, its CPU and memory from the OS, restarted on crash.

The program is tests/processes/ext_program.py; the leak check fails a test that leaves any
of it (or what it started) running."""
from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from engine.config.stack import ProcessEntry, Ready
from engine.control.controller import GRACE_S, ProcessController
from engine.control.events import LogLine, StateChanged, StatsUpdate
from engine.control.lifecycle import State
from engine.control.roster import ProcessSpec, Roster
from engine.testing import free_ports, wait_until
from tests.standins import idle_target

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals checked")]

PROGRAM = str(Path(__file__).with_name("ext_program.py"))


def external(name, *args, role="strategy", **kw) -> ProcessSpec:
    return ProcessSpec.of(ProcessEntry(name, role, command=(sys.executable, PROGRAM, *args),
                                       **kw))


class Recorder:
    def __init__(self, ctl):
        self.events = []
        ctl.subscribe(self.events.append)

    def lines(self, name):
        return [(e.level, e.text) for e in self.events if isinstance(e, LogLine)
                and e.name == name]

    def texts(self, name):
        return [t for _, t in self.lines(name)]

    def states(self, name):
        return [e.state for e in self.events if isinstance(e, StateChanged) and e.name == name]


def controller(config, *specs):
    return ProcessController(config, roster=Roster(list(specs)))


def test_its_lines_are_decoded_capped_and_in_its_own_log(config):
    ready = Ready(output=r"^ready$")
    with controller(config, external("peer", "talk", ready=ready)) as ctl:
        rec = Recorder(ctl)
        ctl.start("peer")
        wait_until(lambda: ctl.state("peer") == State.RUNNING, 15, "peer ready", pump=ctl.poll)
        wait_until(lambda: "to stderr" in rec.texts("peer"), 5, "its stderr", pump=ctl.poll)
        texts = rec.texts("peer")
        assert "caf\u00e9 \u2192 UTF-8" in texts          # UTF-8 where it is
        assert "na\u00efve Latin-1" in texts               # else the bytes, one by one
        assert "... (line cut at 64 KiB)" in texts         # an endless line is cut, not held
        assert texts.index("ready") > texts.index("na\u00efve Latin-1")
        assert (logging.WARNING, "to stderr") in rec.lines("peer")
        assert rec.states("peer")[-2:] == [State.STARTING, State.RUNNING]
        # polite: Ctrl+C, which it handles ('bye', exit 0), long before a terminate
        t0 = time.monotonic()
        ctl.stop("peer")
        wait_until(lambda: ctl.state("peer").finished, 10, "peer stopped", pump=ctl.poll)
        assert time.monotonic() - t0 < GRACE_S
        assert ctl.procs["peer"].exitcode == 0 and ctl.state("peer") == State.STOPPED
        assert "bye" in rec.texts("peer")
    log = (Path(config.log_dir) / "peer.log").read_text(encoding="utf-8")
    assert "caf\u00e9 \u2192 UTF-8" in log and "bye" in log and "to stderr" in log


def test_one_that_ignores_ctrl_c_is_terminated_and_kill_kills(config):
    with controller(config, external("stubborn", "stubborn", ready=Ready(output="ready"))) as ctl:
        rec = Recorder(ctl)
        ctl.start("stubborn")
        wait_until(lambda: ctl.state("stubborn") == State.RUNNING, 15, "ready", pump=ctl.poll)
        t0 = time.monotonic()
        ctl.stop("stubborn")
        wait_until(lambda: ctl.state("stubborn").finished, 15, "stopped", pump=ctl.poll)
        assert time.monotonic() - t0 >= GRACE_S  # Ctrl+C first, the terminate after the grace
        assert ctl.procs["stubborn"].exitcode == -signal.SIGTERM
        assert any("terminating" in t for t in rec.texts("stubborn"))
        assert ctl.state("stubborn") == State.STOPPED
        ctl.start("stubborn")
        wait_until(lambda: ctl.state("stubborn") == State.RUNNING, 15, "ready", pump=ctl.poll)
        ctl.kill("stubborn")
        wait_until(lambda: ctl.state("stubborn").finished, 5, "killed", pump=ctl.poll)
        assert ctl.state("stubborn") == State.CRASHED
        assert ctl.procs["stubborn"].exit_detail == "killed (SIGKILL)"


def test_what_it_started_goes_with_it(config):
    """Its own process group: a polite stop reaches what it started, and what it left behind
    when it exited is killed (the leak check sees any of it still running)."""
    with controller(config, external("family", "family", ready=Ready(output="ready"))) as ctl:
        ctl.start("family")
        wait_until(lambda: ctl.state("family") == State.RUNNING, 15, "ready", pump=ctl.poll)
        ctl.stop("family")
        wait_until(lambda: ctl.state("family").finished, 10, "stopped", pump=ctl.poll)
        ctl.start("family")
        wait_until(lambda: ctl.state("family") == State.RUNNING, 15, "ready", pump=ctl.poll)
        ctl.kill("family")
        wait_until(lambda: ctl.state("family").finished, 10, "killed", pump=ctl.poll)


def test_what_it_leaves_behind_when_it_exits_is_killed(config):
    """It exits by itself, leaving a child of its own running (one that ignores Ctrl+C): the
    controller kills what is left of its process group (the leak check sees a survivor)."""
    with controller(config, external("leaver", "leave")) as ctl:
        ctl.start("leaver")
        wait_until(lambda: ctl.state("leaver").finished, 10, "it exited", pump=ctl.poll)
        assert ctl.state("leaver") == State.STOPPED and ctl.procs["leaver"].exitcode == 0
        group = ctl.procs["leaver"].pid
        wait_until(lambda: not _group_alive(group), 5, "its group gone")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def test_a_server_is_ready_when_its_port_accepts_and_dependents_wait(config):
    port = free_ports(1)[0]
    cfg = config.replace(order_port=port)
    server = external("their-om", "listen", "{order_port}", role="order_manager")
    client = ProcessSpec("ours", "strategy", idle_target,
                         entry=ProcessEntry("ours", "strategy", depends_on=("their-om",)))
    with controller(cfg, server, client) as ctl:
        rec = Recorder(ctl)
        t0 = time.time()
        ctl.start_all()
        assert ctl.state("ours") == State.WAITING  # its dependency is on its way
        wait_until(lambda: ctl.state("ours") == State.RUNNING, 15, "client running",
                   pump=ctl.poll)
        order = [(e.name, e.state) for e in rec.events if isinstance(e, StateChanged)]
        # ready once its port accepted (it listens 0.3 s after it starts), not when started
        assert ctl.procs["their-om"].ready_at - t0 >= 0.25
        assert order.index(("their-om", State.RUNNING)) < order.index(("ours", State.STARTING))
        assert ctl.stop_all_and_wait()
        order = [(e.name, e.state) for e in rec.events if isinstance(e, StateChanged)]
        # the reverse: what depends on it stops first
        assert order.index(("ours", State.STOPPED)) < order.index(("their-om", State.STOPPING))


def test_cpu_and_memory_come_from_the_os(config):
    with controller(config, external("spin", "spin", ready=Ready(output="ready"))) as ctl:
        stats = []
        ctl.subscribe(lambda e: isinstance(e, StatsUpdate) and stats.append(e.stats))
        ctl.start("spin")
        wait_until(lambda: ctl.procs["spin"].cpu_percent > 20, 15, "its CPU", pump=ctl.poll)
        assert stats and stats[-1].rss_bytes > 1_000_000 and stats[-1].cpu_s > 0


def test_restarted_on_crash_when_killed_from_outside(config):
    spec = external("peer", "talk", ready=Ready(output="^ready$"), on_crash="on crash")
    with controller(config, spec) as ctl:
        ctl.start("peer")
        wait_until(lambda: ctl.state("peer") == State.RUNNING, 15, "ready", pump=ctl.poll)
        first = ctl.procs["peer"].pid
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: ctl.state("peer") == State.RUNNING and ctl.procs["peer"].pid != first,
                   10, "running again", pump=ctl.poll)
        assert ctl.procs["peer"].restarts == 1


def test_a_program_that_is_not_there_is_a_crash_with_its_reason(config):
    spec = ProcessSpec.of(ProcessEntry("ghost", "strategy", command=("no-such-program-x",)))
    with controller(config, spec) as ctl:
        rec = Recorder(ctl)
        assert ctl.start("ghost") is False
        assert ctl.state("ghost") == State.CRASHED and ctl.procs["ghost"].exitcode == 127
        assert any("cannot start no-such-program-x" in t for t in rec.texts("ghost"))
