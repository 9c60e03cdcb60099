"""What a process costs, read the same way on Windows, macOS and Linux.

* CPU: `time.process_time()` of the process itself (every thread, user + system), which
  counts in nanoseconds; psutil's cpu_times() on Linux counts 10 ms clock ticks, which at the
  demo rate made half a second of a process read 0 % or 2 %.
* Memory: the current resident set (RSS) by psutil, for this process or any pid: on Linux
  /proc/<pid>/statm, on Windows the working set, on macOS the task's resident size (where
  getrusage gives only the peak, which is not what a memory column claims).
"""
from __future__ import annotations

import time
from typing import Optional

import psutil


def cpu_seconds() -> float:
    """CPU seconds this process has used so far (all threads)."""
    return time.process_time()


def rss_bytes(pid: Optional[int] = None) -> int:
    """Resident memory now, in bytes, of `pid` (this process by default); 0 when it cannot
    be read (gone, or not ours to read)."""
    try:
        return int(psutil.Process(pid).memory_info().rss)
    except (psutil.Error, OSError):
        return 0


def process_usage(pid: int) -> tuple:
    """(CPU seconds, resident bytes) of another program and everything it started (a shell
    script's Python, say), as the operating system counts them; (0.0, 0) when it is gone.
    Its CPU is psutil's cpu_times(): 10 ms ticks on Linux, fine over the seconds a CPU %
    is taken over."""
    try:
        top = psutil.Process(pid)
        procs = [top] + top.children(recursive=True)
    except (psutil.Error, OSError):
        return 0.0, 0
    cpu, rss = 0.0, 0
    for p in procs:
        try:
            with p.oneshot():
                t = p.cpu_times()
                cpu += t.user + t.system
                rss += p.memory_info().rss
        except (psutil.Error, OSError):
            continue
    return cpu, rss
