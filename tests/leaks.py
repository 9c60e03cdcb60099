"""The leak check, a pytest plugin of its own (the root conftest registers it): a test that
leaves behind a process it started (by multiprocessing or subprocess, or started by one of
those), a shared-memory segment or an open socket fails, and what it left is cleaned up.

Processes are found by an environment variable every child inherits (Linux: /proc), sockets
among this process's descriptors, segments in /dev/shm under this run's prefix."""
from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from pathlib import Path

import pytest

from tests.support import SHARED_CONTROLLERS, shm_prefix


def _shared_pids() -> set:
    return {p.pid for ctl in SHARED_CONTROLLERS for p in ctl.procs.values() if p.pid}


def shm_segments() -> set:
    shm = Path("/dev/shm")
    if not shm.is_dir():  # macOS and Windows keep no visible folder
        return set()
    prefix = shm_prefix()
    return {p.name for p in shm.iterdir() if p.name.startswith(prefix)}


# Every process a test starts (multiprocessing, subprocess, and what those start in turn)
# inherits the test's id in its environment: what still runs with it afterwards leaked.
TEST_ID_ENV = "IPCDESK_TEST_ID"
PROC = Path("/proc")


def _environ(d: Path) -> bytes:
    """A process's environment. A child caught inside exec (the parent of a vfork, as
    subprocess uses on 3.13, runs on before the kernel has laid out the new environment)
    reads as empty for a moment: read it again then, so a leak is never missed by a race.
    Kernel threads (parent 2) and zombies really have none."""
    env = (d / "environ").read_bytes()
    if env:
        return env
    stat = (d / "stat").read_text(encoding="ascii", errors="replace")
    fields = stat[stat.rfind(")") + 2:].split()
    if d.name == "2" or fields[0] in ("Z", "X") or fields[1] == "2":
        return env
    for _ in range(40):  # at most 0.2 s, only for a process caught mid-exec
        time.sleep(0.005)
        env = (d / "environ").read_bytes()
        if env:
            break
    return env


def processes_of(test_id: str) -> list:
    """(pid, command line) of every live process carrying this test id (Linux: /proc)."""
    needle = f"{TEST_ID_ENV}={test_id}".encode()
    found = []
    for d in PROC.iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            if needle not in _environ(d).split(b"\0"):
                continue
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        found.append((int(d.name), cmd.strip()))
    return found


def own_sockets() -> set:
    """The socket descriptors this (pytest) process holds (Linux: /proc/self/fd)."""
    out = set()
    for fd in (PROC / "self" / "fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:"):
            out.add(target)
    return out


def describe_socket(link: str) -> str:
    """'socket:[123]' -> what it is ('tcp 127.0.0.1:5003 listening'), for the message."""
    import socket as sk
    for fd in (PROC / "self" / "fd").iterdir():
        try:
            if os.readlink(fd) != link:
                continue
            s = sk.socket(fileno=os.dup(int(fd.name)))
        except OSError:
            continue
        with s:
            try:
                name = s.getsockname()
            except OSError:
                name = "?"
            try:
                listening = s.getsockopt(sk.SOL_SOCKET, sk.SO_ACCEPTCONN)
            except OSError:
                listening = 0
            kind = {sk.SOCK_STREAM: "tcp", sk.SOCK_DGRAM: "udp"}.get(s.type, str(s.type))
            return f"{s.family.name} {kind} {name}{' listening' if listening else ''}"
    return link


def _resource_tracker_pid():
    from multiprocessing import resource_tracker
    return getattr(resource_tracker._resource_tracker, "_pid", None)


def _kill(pid: int) -> None:
    import signal
    try:
        os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
    except OSError:
        pass


@pytest.fixture(autouse=True)
def no_leaks():
    """A test that leaves behind a process it started (by multiprocessing or subprocess, or
    started by one of those), a shared-memory segment or an open socket fails."""
    test_id = uuid.uuid4().hex
    os.environ[TEST_ID_ENV] = test_id
    linux = PROC.is_dir() and (PROC / "self" / "environ").exists()
    before_shm = shm_segments()
    before_socks = own_sockets() if linux else set()
    yield
    shared = _shared_pids()
    ignore = shared | {_resource_tracker_pid()}
    children = [c for c in multiprocessing.active_children() if c.pid not in shared]
    for c in children:
        c.kill()
        c.join(2)
    stray = []
    if linux:  # processes that are just exiting get a moment to go
        deadline = time.monotonic() + 3.0
        while True:
            stray = [(pid, cmd) for pid, cmd in processes_of(test_id) if pid not in ignore]
            if not stray or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        for pid, _ in stray:
            _kill(pid)
    leaked = shm_segments() - before_shm
    for name in leaked:
        try:
            (Path("/dev/shm") / name).unlink()
        except OSError:
            pass
    socks = own_sockets() - before_socks if linux else set()
    assert not children, f"test left child processes running: {children}"
    assert not stray, f"test left processes running: {stray}"
    assert not leaked, f"test left shared-memory segments: {sorted(leaked)}"
    assert not socks, f"test left socket(s) open: {[describe_socket(x) for x in sorted(socks)]}"
