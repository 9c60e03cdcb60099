"""The harness of tests and tools (as trio.testing ships with trio): a stack's Config on
free ports with a shared-memory name of its own, waiting on a condition with the stack's log
tails in the message, and reading a log that is still being written. The test suite, the
fault drill and the benchmark use these; the product does not."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, Optional

from engine.config.schema import Config
from engine.control.private import unique_shm_name
from engine.net.ports import free_ports


def stack_config(log_dir, shm_prefix: str = "ipct", **overrides) -> Config:
    """A Config on free ports with a fresh shared-memory name and the given log folder."""
    price, news, order, confirm = free_ports(4)
    base = dict(price_port=price, news_port=news, order_port=order, confirm_port=confirm,
                shm_name=unique_shm_name(shm_prefix), log_dir=str(Path(log_dir)))
    base.update(overrides)
    return Config(**base)


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
