"""A stack for tests and tools (as trio.testing ships with trio): free ports, a private
shared-memory name and log folder, and waiting on a condition. The test suite, the fault
drill and the benchmark all use these, so that they never disturb a desk that is running and
never collide with each other."""
from __future__ import annotations

import json
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Callable, List, Optional

from .config import Config


def free_ports(n: int, host: str = "127.0.0.1") -> List[int]:
    """n distinct TCP ports the OS just handed out (bound to port 0 together, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def unique_shm_name(prefix: str = "ipct") -> str:
    """`<prefix><pid>_<8 hex>`: unique on this machine, within the 28 characters a price book
    name may have (macOS), and recognisable as this process's."""
    return f"{prefix}{os.getpid() % 100000}_{uuid.uuid4().hex[:8]}"


def stack_config(log_dir, shm_prefix: str = "ipct", **overrides) -> Config:
    """A Config on free ports with a fresh shared-memory name and the given log folder."""
    price, news, order, confirm = free_ports(4)
    base = dict(price_port=price, news_port=news, order_port=order, confirm_port=confirm,
                shm_name=unique_shm_name(shm_prefix), log_dir=str(Path(log_dir)))
    base.update(overrides)
    return Config(**base)


PORTS = ("price_port", "news_port", "order_port", "confirm_port")


def private_stack(config: Config, said=frozenset(), shm_prefix: str = "ipcd") -> Config:
    """`config` on ports nobody uses and a shared-memory name of its own, except where the
    user said otherwise (`said`: the fields given as flags), so that a tool's stack (the
    screenshot, the demo video) never meets a desk that is running."""
    changes = {}
    if not set(said) & set(PORTS):
        changes.update(zip(PORTS, free_ports(len(PORTS))))
    if "shm_name" not in said:
        changes["shm_name"] = unique_shm_name(shm_prefix)
    return config.replace(**changes)


class WaitTimeout(AssertionError):
    """A condition did not come true in time (an AssertionError, so a test fails with it)."""


def read_jsonl(path) -> list:
    """The records of a JSON-lines file that a process may still be appending to: every
    whole line (a last line not yet ended by its newline is left for the next read); a
    file not made yet has none."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.split("\n")[:-1] if line.strip()]


def log_tails(log_dir, lines: int = 12) -> str:
    """The last `lines` lines of every process log in `log_dir`, for a failure message: a
    timed-out wait on a stack says what each process was doing."""
    out = []
    for path in sorted(Path(log_dir).glob("*.log")):
        try:
            tail = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        except OSError as exc:
            tail = [f"(unreadable: {exc})"]
        out.append(f"--- {path.name}\n" + "\n".join(tail))
    return "\n".join(out)


def wait_until(cond: Callable[[], object], timeout: float = 10.0, what: str = "condition",
               pump: Optional[Callable[[float], object]] = None, every: float = 0.02,
               logs=None):
    """cond()'s first true value, checked every `every` seconds; between checks `pump(every)`
    runs (a controller's poll, which also waits) or, without one, a sleep. WaitTimeout after
    `timeout` seconds; with `logs` (a stack's log folder) its message ends with each
    process's latest log lines."""
    end = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > end:
            detail = f"\n{log_tails(logs)}" if logs is not None else ""
            raise WaitTimeout(f"timed out after {timeout:g} s waiting for {what}{detail}")
        if pump is not None:
            pump(every)
        else:
            time.sleep(every)
