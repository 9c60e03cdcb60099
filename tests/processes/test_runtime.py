"""StopFlag: the stop request the controller hands each child (see engine/runtime.py)."""
import multiprocessing
import time

from engine.processes.shell import StopFlag


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


def test_a_thread_that_crashes_says_so_in_the_process_log(tmp_path, monkeypatch):
    """Without the hook a crashed thread prints to stderr only (which the desk does not
    show) and the process goes on without it, silently."""
    import threading

    from engine.processes.logs import setup_logging
    seen = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_type))
    log = setup_logging("crashy", str(tmp_path))
    setup_logging("crashy", str(tmp_path))  # set up again: one line, not two

    def boom():
        raise ValueError("went wrong in a thread")
    t = threading.Thread(target=boom, name="feed-reader")
    t.start()
    t.join(5)
    for h in log.handlers:
        h.flush()
    text = (tmp_path / "crashy.log").read_text(encoding="utf-8")
    assert text.count("thread feed-reader crashed") == 1
    assert "ValueError: went wrong in a thread" in text and "Traceback" in text
    assert seen == [ValueError]  # the hook that was there before still runs
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()


def test_process_logs_rotate_and_keep_three_old_files(tmp_path):
    """A long or noisy run never fills a disk: past --log-max-mb the log moves to .1 (.2,
    .3), and the oldest goes."""
    from engine.processes.logs import LOG_KEEP, setup_logging
    log = setup_logging("noisy", str(tmp_path), max_mb=0.01)  # 10 KiB a file
    for i in range(2000):
        log.info("line %05d %s", i, "x" * 40)
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["noisy.log"] + [f"noisy.log.{k}" for k in range(1, LOG_KEEP + 1)]
    assert all(p.stat().st_size <= int(0.01 * 1024 * 1024) for p in tmp_path.iterdir())
    assert "line 01999" in (tmp_path / "noisy.log").read_text(encoding="utf-8")


def test_a_process_alone_prints_info_lines_bare_and_others_with_their_level():
    """In a terminal of its own the OrderManager prints `Received Order 12: ...` exactly as
    the assignment shows it; a warning says it is one."""
    import logging

    from engine.processes.logs import ConsoleFormatter
    fmt = ConsoleFormatter()

    def line(level, msg):
        return fmt.format(logging.LogRecord("order_manager", level, __file__, 1, msg, (), None))
    assert line(logging.INFO, "Received Order 12: BUY 10 AAPL @ 173.20") == \
        "Received Order 12: BUY 10 AAPL @ 173.20"
    assert line(logging.WARNING, "lost gateway") == "WARNING: lost gateway"
