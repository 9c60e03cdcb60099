"""Shared fixtures: free ports, unique shared-memory names, a Config wired to both, and a
leak check that fails any test leaving a child process or a segment behind."""
from __future__ import annotations

import multiprocessing
import os
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.config import Config  # noqa: E402
from engine.net import free_ports  # noqa: E402,F401  (tests import it from here)

SHM_PREFIX = "ipct"


def _prefix() -> str:
    # per test run, so parallel runs on one machine never see each other's segments
    return f"{SHM_PREFIX}{os.getpid() % 100000}_"


def unique_shm_name() -> str:
    return f"{_prefix()}{uuid.uuid4().hex[:8]}"


def shm_segments() -> set:
    shm = Path("/dev/shm")
    if not shm.is_dir():  # macOS and Windows keep no visible folder
        return set()
    prefix = _prefix()
    return {p.name for p in shm.iterdir() if p.name.startswith(prefix)}


def kill_from_outside(pid: int) -> str:
    """What `kill -9 <pid>` (Task Manager's End task on Windows) does to a child; returns
    how the desk then names the exit."""
    if os.name == "nt":  # pragma: no cover - TerminateProcess with exit code 1
        import ctypes
        handle = ctypes.windll.kernel32.OpenProcess(1, False, pid)  # PROCESS_TERMINATE
        ctypes.windll.kernel32.TerminateProcess(handle, 1)
        ctypes.windll.kernel32.CloseHandle(handle)
        return "exit 1"
    import signal
    os.kill(pid, signal.SIGKILL)
    return "SIGKILL"


@pytest.fixture
def shm_name():
    return unique_shm_name()


@pytest.fixture
def config(tmp_path, shm_name) -> Config:
    price, news, order, confirm = free_ports(4)
    return Config(price_port=price, news_port=news, order_port=order, confirm_port=confirm,
                  shm_name=shm_name, log_dir=str(tmp_path / "logs"), seed=7,
                  tick_interval=0.02, news_interval=0.2)


# Controllers of module-scoped fixtures: their children outlive single tests on purpose
# (the fixture's own teardown checks they are gone).
SHARED_CONTROLLERS: list = []


def _shared_pids() -> set:
    return {p.pid for ctl in SHARED_CONTROLLERS for p in ctl.procs.values() if p.pid}


@pytest.fixture(autouse=True)
def no_leaks():
    """A test that leaks a child process or a shared-memory segment fails."""
    before = shm_segments()
    yield
    shared = _shared_pids()
    children = [c for c in multiprocessing.active_children() if c.pid not in shared]
    for c in children:
        c.kill()
        c.join(2)
    leaked = shm_segments() - before
    for name in leaked:
        try:
            (Path("/dev/shm") / name).unlink()
        except OSError:
            pass
    assert not children, f"test left child processes running: {children}"
    assert not leaked, f"test left shared-memory segments: {sorted(leaked)}"
