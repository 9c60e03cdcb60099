"""StopFlag: the stop request the controller hands each child (see engine/runtime.py)."""
import multiprocessing
import time

from engine.runtime import StopFlag


def _set_later(flag, delay):
    time.sleep(delay)
    flag.set()


def test_wait_times_out_then_sees_set():
    flag = StopFlag(multiprocessing.get_context("spawn"))
    assert not flag.is_set()
    t0 = time.monotonic()
    assert flag.wait(0.05) is False
    assert time.monotonic() - t0 >= 0.05
    flag.set()
    assert flag.is_set() and flag.wait(10) is True and flag.wait() is True
    flag.clear()
    assert not flag.is_set()


def test_set_in_another_process_wakes_a_waiter():
    ctx = multiprocessing.get_context("spawn")
    flag = StopFlag(ctx)
    proc = ctx.Process(target=_set_later, args=(flag, 0.2))
    proc.start()
    try:
        assert flag.wait(30) is True
    finally:
        proc.join(10)
    assert proc.exitcode == 0
