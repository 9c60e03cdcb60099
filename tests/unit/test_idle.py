"""IdleStrategy (--spin-us): hot for its budget after `worked()`, then blocking again; off,
never hot."""
from __future__ import annotations

import time

from engine.net.idle import IdleStrategy
from engine.net.links import ClientLoop


def test_off_never_spins():
    idle = IdleStrategy(0)
    idle.worked()
    assert idle.timeout(0.1) == 0.1 and idle.spins == 0


def test_hot_for_the_budget_then_blocking_again():
    idle = IdleStrategy(30_000)  # 30 ms
    assert idle.timeout(0.1) == 0.1  # nothing done yet: block
    idle.worked()
    assert idle.timeout(0.1) == 0.0 and idle.spins == 1
    end = time.monotonic() + 5
    while idle.timeout(0.1) == 0.0 and time.monotonic() < end:
        pass
    assert idle.timeout(0.1) == 0.1
    assert idle.spins > 1


def test_a_hot_client_loop_polls_instead_of_waiting():
    loop = ClientLoop(IdleStrategy(50_000))
    try:
        loop.idle.worked()
        end = loop.idle.hot_until - 5_000_000  # (5 ms short of it: the last poll is hot too)
        while time.perf_counter_ns() < end:
            loop.poll(10.0)  # would wait 10 s if it blocked: it returns at once while hot
        assert loop.idle.spins > 0
    finally:
        loop.close()
