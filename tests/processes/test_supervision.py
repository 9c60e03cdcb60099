"""Restart on crash and unresponsiveness, as pure rules (engine/supervision.py), and the
controller's use of them with a stand-in child that crashes at once."""
from __future__ import annotations

import pytest

from engine.control.roster import Roster
from engine.control.supervision import (BACKOFF_CAP_S, BACKOFF_START_S, NEVER, ON_CRASH,
                                        RETRY_LIMIT, STABLE_AFTER_S, UNRESPONSIVE_AFTER_S,
                                        Restarts, unresponsive_for)


def test_never_is_the_default_and_never_restarts():
    r = Restarts()
    assert r.policy == NEVER
    assert r.crashed(now=100.0, ran_for=1.0, why="exit 1") is None
    assert r.due is None and not r.gave_up


def test_backoff_doubles_then_gives_up_after_the_limit():
    r = Restarts()
    r.set_policy(ON_CRASH)
    delays = []
    now = 0.0
    for _ in range(RETRY_LIMIT):
        d = r.crashed(now, ran_for=0.2, why="exit 2")
        delays.append(d)
        assert r.due == now + d
        assert not r.take_due(now + d - 0.01) and r.take_due(now + d)
        assert r.due is None and not r.take_due(now + d)  # once
        now += d + 0.2
    assert delays == [min(BACKOFF_START_S * 2 ** i, BACKOFF_CAP_S) for i in range(RETRY_LIMIT)]
    assert r.crashed(now, ran_for=0.2, why="exit 2") is None
    assert r.gave_up == f"gave up after {RETRY_LIMIT} restarts: exit 2"
    assert r.due is None


def test_the_backoff_is_capped(monkeypatch):
    import engine.control.supervision as sv
    monkeypatch.setattr(sv, "RETRY_LIMIT", 100)
    r = Restarts(policy=ON_CRASH)
    delays = [r.crashed(0.0, 0.0, "exit 1") for _ in range(8)]
    assert delays[:3] == [BACKOFF_START_S, 2 * BACKOFF_START_S, 4 * BACKOFF_START_S]
    assert max(delays) == BACKOFF_CAP_S and delays[-1] == BACKOFF_CAP_S


def test_a_run_that_stayed_up_starts_the_count_again():
    r = Restarts(policy=ON_CRASH)
    for _ in range(RETRY_LIMIT):
        r.crashed(0.0, ran_for=0.1, why="exit 1")
    assert r.attempts == RETRY_LIMIT
    assert r.crashed(0.0, ran_for=STABLE_AFTER_S, why="exit 1") == BACKOFF_START_S
    assert r.attempts == 1 and not r.gave_up


def test_the_user_resets_it_and_never_cancels_a_pending_restart():
    r = Restarts(policy=ON_CRASH)
    r.crashed(10.0, 0.1, "exit 1")
    assert r.waiting(10.2) == f"restart 1 of {RETRY_LIMIT} in 0.3 s"
    r.reset()
    assert r.due is None and r.attempts == 0 and r.waiting(10.2) == ""
    r.crashed(10.0, 0.1, "exit 1")
    r.set_policy(NEVER)
    assert r.due is None
    with pytest.raises(ValueError):
        r.set_policy("always")


def test_unresponsive_only_while_running_and_past_the_limit():
    t = 1000.0
    assert unresponsive_for(True, last_report=t - 1.0, started=t - 60, now=t) == 0.0
    quiet = UNRESPONSIVE_AFTER_S + 1.5
    assert unresponsive_for(True, last_report=t - quiet, started=t - 60, now=t) == quiet
    assert unresponsive_for(False, last_report=t - 100, started=t - 200, now=t) == 0.0
    # never reported since it said it runs: counted from then
    assert unresponsive_for(True, last_report=None, started=t - quiet, now=t) == quiet
    assert unresponsive_for(True, last_report=None, started=None, now=t) == 0.0


def test_the_controller_restarts_a_crashing_child_with_backoff_then_gives_up(config):
    """A child that exits 3 at once, under 'on crash': started again RETRY_LIMIT times, each
    after its backoff, then left crashed with the reason; a later Start counts afresh."""
    import time

    from engine.control.controller import ProcessController
    from engine.control.lifecycle import State
    from tests.standins import crash_at_once
    events = []
    with ProcessController(config, roster=Roster.from_targets({"gateway": crash_at_once})) as ctl:
        ctl.subscribe(events.append)
        ctl.set_restart_policy("gateway", ON_CRASH)
        ctl.start("gateway")
        p = ctl.status("gateway")
        assert ctl.wait_until(lambda: bool(p.auto.gave_up), 30)
        assert p.state == State.CRASHED and p.exitcode == 3
        assert p.restarts == RETRY_LIMIT and p.auto.attempts == RETRY_LIMIT
        assert p.auto.gave_up == f"gave up after {RETRY_LIMIT} restarts: exit 3"
        starts = [e.time for e in events if getattr(e, "state", None) == State.STARTING]
        crashes = [e.time for e in events if getattr(e, "state", None) == State.CRASHED]
        assert len(starts) == RETRY_LIMIT + 1
        for i, (crash, start) in enumerate(zip(crashes, starts[1:])):
            wait = start - crash
            assert wait >= BACKOFF_START_S * 2 ** i - 0.05, (i, wait)
        ctl.poll()
        deadline = time.monotonic() + BACKOFF_START_S * 2
        while time.monotonic() < deadline:  # it stays given up
            ctl.poll(0.05)
        assert p.restarts == RETRY_LIMIT and not p.alive
        ctl.start("gateway")  # the user's start: a fresh count
        assert p.auto.attempts == 0 and not p.auto.gave_up
        assert ctl.wait_until(lambda: p.auto.attempts == 1, 10)
        ctl.set_restart_policy("gateway", NEVER)
        assert ctl.wait_until(lambda: p.state.finished and not p.alive and p.auto.due is None, 10)
