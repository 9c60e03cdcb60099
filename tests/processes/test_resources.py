"""What a process costs, as the desk shows it: each child's CPU seconds and current memory,
read the same as the kernel reads them (Linux: /proc), for this process and for another."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from engine.control.controller import ProcessController
from engine.control.lifecycle import State
from engine.control.roster import Roster
from engine.platforms.resources import cpu_seconds, rss_bytes
from tests.standins import idle_target

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")


def proc_rss(pid) -> int:
    with open(f"/proc/{pid}/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def proc_cpu(pid) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


@linux
def test_this_process_reads_as_the_kernel_reads_it():
    keep = bytearray(64 << 20)  # 64 MiB touched: the resident set grows by it
    keep[::4096] = b"x" * len(keep[::4096])
    assert abs(rss_bytes() - proc_rss("self")) < 2 << 20
    end = time.process_time() + 0.2
    while time.process_time() < end:
        pass
    assert abs(cpu_seconds() - proc_cpu("self")) < 0.05  # the kernel counts 10 ms ticks
    del keep


@linux
def test_another_process_is_read_by_its_pid():
    child = subprocess.Popen([sys.executable, "-c", "import time; b = bytearray(40 << 20); "
                              "b[::4096] = b'x' * len(b[::4096]); time.sleep(30)"])
    try:
        deadline = time.monotonic() + 10
        while proc_rss(child.pid) < 40 << 20 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert abs(rss_bytes(child.pid) - proc_rss(child.pid)) < 2 << 20
    finally:
        child.kill()
        child.wait()
    assert rss_bytes(child.pid) == 0  # gone: 0, never an exception


@linux
def test_a_child_reports_its_cpu_and_memory_as_the_kernel_counts_them(config):
    ctl = ProcessController(config, roster=Roster.from_targets({"gateway": idle_target}))
    try:
        ctl.start("gateway")
        assert ctl.wait_until(lambda: ctl.status("gateway").last_report is not None
                              and ctl.state("gateway") == State.RUNNING, 15)
        p = ctl.status("gateway")
        seen = p.last_report
        assert ctl.wait_until(lambda: p.last_report != seen, 5)  # a fresh report
        pid, stats = p.pid, p.stats
        rss, cpu = proc_rss(pid), proc_cpu(pid)
        assert abs(stats.rss_bytes - rss) < 0.1 * rss, (stats.rss_bytes, rss)
        # reported up to 0.5 s ago by an idle child: the kernel's count is a little ahead
        assert -0.05 < cpu - stats.cpu_s < 0.25, (stats.cpu_s, cpu)
    finally:
        ctl.close()
