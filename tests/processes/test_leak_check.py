"""The leak check itself: tests that leave a process (started any way), a shared-memory
segment or an open socket behind fail, run by a pytest of their own."""
from __future__ import annotations

import sys

import pytest

from tests.support import ROOT

pytest_plugins = ["pytester"]

LEAKY = '''
import socket, subprocess, sys, multiprocessing
from multiprocessing import shared_memory
from tests.support import unique_shm_name

KEEP = []

def test_leaks_a_subprocess():
    KEEP.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]))

def test_leaks_a_grandchild():
    # the child starts a grandchild and exits at once: only the grandchild is left
    subprocess.run([sys.executable, "-c", "import subprocess, sys; subprocess.Popen("
                    "[sys.executable, '-c', 'import time; time.sleep(60)'])"], check=True)

def test_leaks_a_segment():
    shm = shared_memory.SharedMemory(name=unique_shm_name(), create=True, size=64)
    shm.close()
    from multiprocessing import resource_tracker
    resource_tracker.unregister(shm._name, "shared_memory")

def test_leaks_a_listening_socket():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    KEEP.append(s)

def test_leaks_nothing():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
'''


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="finds stray processes and sockets through /proc (Linux)")
def test_a_test_that_leaks_fails(pytester, monkeypatch):
    pytester.makeconftest((ROOT / "tests" / "conftest.py").read_text(encoding="utf-8"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # where the plugin (tests.leaks) is found
    pytester.makepyfile(test_leaky=LEAKY)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=5, errors=4)
    out = result.stdout.str()
    assert "test left processes running" in out  # the subprocess and the grandchild
    assert "test left shared-memory segments" in out
    assert "test left socket(s) open" in out and "listening" in out
