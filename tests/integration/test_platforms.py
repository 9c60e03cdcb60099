"""Whole-stack behaviour that differs by platform, reproduced on this machine: a console that
cannot print every character, the stop signals, and a price book made anew under a running
Strategy (terminals on macOS and Linux)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from engine.shm.segment import segment_exists
from engine.testing import wait_until
from tests.interop.procs import Procs
from tests.support import ROOT

from .helpers import connect, read_frames
from .test_stack import flags

pytestmark = pytest.mark.slow


def start_headless(config, tmp_path, extra_env=None, seconds=None):
    out = open(tmp_path / "out.txt", "wb")
    cmd = [sys.executable, str(ROOT / "launcher.py"), "--headless", "--summary",
           str(tmp_path / "s.json")] + flags(config)
    if seconds:
        cmd += ["--duration", str(seconds)]
    kwargs = {}
    if os.name == "nt":  # pragma: no cover - Ctrl+Break needs a group of its own
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
                         env=dict(os.environ, **(extra_env or {})), **kwargs)
    out.close()
    return p


def test_a_cp1252_console_survives_a_hostile_order_and_writes_the_summary(config, tmp_path):
    """Windows with output redirected: the console encoding is cp1252, which has no '→'. The
    OrderManager logs the rejected side "→BUY"; printing that line must not end the run."""
    p = start_headless(config, tmp_path, {"PYTHONIOENCODING": "cp1252"}, seconds=6)
    try:
        s = connect(config.order_port, timeout=30)
        s.sendall(json.dumps({"side": "\u2192BUY", "symbol": "AAPL", "qty": 1, "price": 1},
                             ensure_ascii=False).encode("utf-8") + b"*")
        assert b"rejected" in read_frames(s, 1)[0]
        s.close()
        assert p.wait(60) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    out = (tmp_path / "out.txt").read_bytes().decode("cp1252")
    assert "Traceback" not in out and "UnicodeEncodeError" not in out
    assert "\\u2192BUY" in out  # escaped, not lost
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert summary["orders_rejected"] == 0 and summary["bad_frames"] >= 1


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_stop_signals_run_the_ordered_stop(config, tmp_path, signame):
    """A logout, a shutdown or `kill` ends the run like Ctrl+C: every process stopped in
    order, the shared memory unlinked, the summary written."""
    if not hasattr(signal, signame):
        pytest.skip(f"{signame} does not exist on this platform (Ctrl+Break there)")
    p = start_headless(config, tmp_path)
    try:
        wait_until(lambda: b"order_manager: running" in (tmp_path / "out.txt").read_bytes()
                 and b"strategy: running" in (tmp_path / "out.txt").read_bytes(), 60,
                 what="the stack to run")
        p.send_signal(getattr(signal, signame))
        assert p.wait(60) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    out = (tmp_path / "out.txt").read_text(encoding="utf-8")
    assert f"stopping ({signame}" in out
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert all(v["exitcode"] == 0 for v in summary["processes"].values()), summary
    assert not segment_exists(config.shm_name)
    assert "leaked" not in out  # the resource tracker had nothing to clean up


@pytest.mark.skipif(os.name == "nt", reason="Windows keeps a name while a process holds the "
                                            "segment open, so a reader is never orphaned")
def test_strategy_follows_a_price_book_made_anew_by_a_new_orderbook(config, tmp_path):
    """Each process in its own terminal: the OrderBook that created the price book stops (and
    unlinks it) and a new one creates a fresh book under the same name. The running Strategy
    must attach to the new one instead of reading the orphan for ever."""
    args = flags(config)
    with Procs(tmp_path) as procs:
        procs.ours("gateway", *args)
        procs.ours("orderbook", *args)
        procs.wait_output("orderbook", "created shared price book")
        procs.ours("strategy", *args)
        procs.wait_output("strategy", "connected to gateway news")
        time.sleep(1.0)
        assert procs.stop("orderbook") == 0
        out = procs.wait_output("strategy", "prices are stale", timeout=10)
        # the cause, not an age under the desk's own 2 s rule ("no update for 0.1 s")
        assert "prices are stale (the OrderBook stopped writing them)" in out
        assert not segment_exists(config.shm_name)
        procs.ours("orderbook", *args, name="orderbook2")
        procs.wait_output("orderbook2", "created shared price book")
        out = procs.wait_output("strategy", "prices are flowing again", timeout=10)
        assert "made anew by a new OrderBook: attached to it" in out
        assert procs.stop("strategy") == 0
        assert procs.stop("orderbook2") == 0
        assert procs.stop("gateway") == 0
        assert "Traceback" not in procs.output("strategy")
    assert not segment_exists(config.shm_name)
    assert not segment_exists(config.signal_shm_name)
