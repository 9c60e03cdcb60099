"""What every process shell shares: logging, stats reporting, and the two ways to start it
(a child of the ProcessController, or `python -m engine.<name>` in its own terminal)."""
from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
import os
import signal
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Callable, Optional

from .config import parse_args, parser_for
from .oscompat import console_safe, on_console_close, rss_bytes, stop_signals
from .stats import Stats

LOG_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-7s %(name)s: %(message)s"
DATE_FORMAT = "%H:%M:%S"


class StopFlag:
    """A process's stop request, which no child can wedge: what the controller hands each
    child instead of a multiprocessing.Event (same set / is_set / wait).

    multiprocessing.Event.set() waits until every process sleeping in its wait() has woken,
    so a child frozen (SIGSTOP, a debugger) while it slept there, e.g. in a reconnect backoff,
    made set() and with it Stop, Stop all and closing the launcher hang for ever. Here the
    request is one byte of shared memory: set() stores it and returns, is_set() loads it
    (no lock anyone could hold), and wait() sleeps in slices of at most SLICE_S, checking it.
    """

    SLICE_S = 0.02

    def __init__(self, ctx):
        self._flag = ctx.RawValue("b", 0)

    def set(self) -> None:
        self._flag.value = 1

    def clear(self) -> None:
        self._flag.value = 0

    def is_set(self) -> bool:
        return self._flag.value != 0

    def wait(self, timeout: Optional[float] = None) -> bool:
        end = None if timeout is None else time.monotonic() + timeout
        while not self._flag.value:
            left = self.SLICE_S if end is None else end - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, self.SLICE_S))
        return True


class ReportSender:
    """A child's side of its report pipe to the controller: log records, state and stats.

    put() never blocks the process's work: a thread of its own sends what was put, in order,
    through the pipe (a pipe per child, so a child killed mid-send hurts no other). At most
    MAX_PENDING log records wait unsent (a log flood the controller cannot keep up with);
    the rest are dropped and counted, the log file still has them. State and stats are never
    dropped."""

    MAX_PENDING = 10_000

    def __init__(self, conn):
        self.conn = conn
        self.items: deque = deque()
        self.cond = threading.Condition()
        self.closed = False
        self.dropped = 0
        self.thread = threading.Thread(target=self._run, name="reports", daemon=True)
        self.thread.start()

    def put(self, item: tuple, droppable: bool = False) -> None:
        with self.cond:
            if self.closed or (droppable and len(self.items) >= self.MAX_PENDING):
                self.dropped += 1
                return
            self.items.append(item)
            self.cond.notify()

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.items and not self.closed:
                    self.cond.wait()
                if not self.items:
                    return
                batch = list(self.items)
                self.items.clear()
            for item in batch:
                try:
                    self.conn.send(item)
                except (OSError, ValueError):  # the controller is gone
                    return

    def close(self, timeout: float = 2.0) -> None:
        """Send what is left (within `timeout`), then close the pipe."""
        with self.cond:
            self.closed = True
            self.cond.notify()
        self.thread.join(timeout)
        self.conn.close()


class ChannelLogHandler(logging.Handler):
    """Forwards records to the controller as plain tuples."""

    def __init__(self, sender: ReportSender, name: str):
        super().__init__()
        self.sender = sender
        self.proc = name

    def emit(self, record: logging.LogRecord) -> None:
        self.sender.put(("log", self.proc, record.levelno, record.getMessage(), record.created),
                        droppable=True)


class ConsoleFormatter(logging.Formatter):
    """INFO lines print bare (so `Received Order 12: ...` prints exactly); others get a level."""

    def format(self, record):
        msg = record.getMessage()
        if record.levelno == logging.INFO:
            return msg
        return f"{record.levelname}: {msg}"


def log_thread_crashes(log: logging.Logger) -> None:
    """A thread of this process that dies of an exception says so in the process's log, with
    its traceback (by default it goes to stderr only, which a process started by the desk
    does not show, and the process would go on without the thread, saying nothing)."""
    before = threading.excepthook
    before = getattr(before, "chained", before)  # set up again: replace ours, not chain it

    def hook(args) -> None:
        if not issubclass(args.exc_type, SystemExit):
            log.error("thread %s crashed", args.thread.name if args.thread else "?",
                      exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        before(args)
    hook.chained = before
    threading.excepthook = hook


LOG_KEEP = 3  # rotated files kept beside <name>.log


def setup_logging(name: str, log_dir: str, sender: Optional[ReportSender] = None,
                  console: bool = False, level: int = logging.INFO,
                  max_mb: float = 10.0) -> logging.Logger:
    """The process's logger: <log_dir>/<name>.log, rotated past `max_mb` MB (LOG_KEEP older
    files kept, so a long or noisy run never fills a disk), the desk's channel, the console."""
    log = logging.getLogger(name)
    log.setLevel(level)
    log.propagate = False
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()
    folder = Path(log_dir)
    folder.mkdir(parents=True, exist_ok=True)
    fh = RotatingFileHandler(folder / f"{name}.log", maxBytes=int(max_mb * 1024 * 1024),
                             backupCount=LOG_KEEP, encoding="utf-8")
    fh.setFormatter(logging.Formatter(LOG_FORMAT, DATE_FORMAT))
    log.addHandler(fh)
    if sender is not None:
        log.addHandler(ChannelLogHandler(sender, name))
    if console and sys.stdout is not None:  # (pythonw has no console at all)
        ch = logging.StreamHandler(console_safe(sys.stdout))
        ch.setFormatter(ConsoleFormatter())
        log.addHandler(ch)
    log_thread_crashes(log)
    return log


class Reporter:
    """Sends a process's Stats to the controller every `period` seconds and at exit, and its
    state once it runs. Without a sender (a process in its own terminal) it only keeps the
    latest stats (what --stats-json writes at exit)."""

    def __init__(self, sender: Optional[ReportSender], name: str, period: float = 0.5):
        self.sender = sender
        self.name = name
        self.period = period
        self._next = 0.0
        self.last: Optional[Stats] = None

    def running(self, **info) -> None:
        """The process is ready: its servers listen, its books are open."""
        if self.sender is not None:
            self.sender.put(("ready", self.name, info))

    def maybe(self, stats_fn: Callable[[], Stats]) -> None:
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self.period
            self.send(stats_fn())

    def send(self, stats: Stats) -> None:
        # CPU seconds of this process so far (all threads): a portable figure the benchmark
        # falls back on where it cannot read /proc, and the desk's CPU column. process_time
        # counts in nanoseconds where os.times counts 10 ms ticks (Linux), which at the demo
        # rate made 0.5 s of a process read 0 % or 2 %
        stats.cpu_s = round(time.process_time(), 6)
        stats.rss_bytes = rss_bytes()
        self.last = stats
        if self.sender is not None:
            self.sender.put(("stats", self.name, stats, time.time()))


def child_entry(name: str, target: Callable, config, stop_flag, report_conn,
                kwargs: dict) -> None:
    """Entry point of a spawned child (module-level, so it pickles by reference)."""
    # Ctrl+C (Ctrl+Break on Windows) in a terminal, and SIGHUP when the terminal closes,
    # reach the whole process group: the controller owns shutdown and stops the children in
    # order through their stop flags (and a child whose launcher died stops by itself).
    for signame in ("SIGINT", "SIGBREAK", "SIGHUP"):
        if hasattr(signal, signame):
            try:
                signal.signal(getattr(signal, signame), signal.SIG_IGN)
            except (ValueError, OSError):  # pragma: no cover
                pass
    sender = ReportSender(report_conn)
    log = setup_logging(name, config.log_dir, sender=sender, max_mb=config.log_max_mb)
    log.info("%s started (pid %d)", name, os.getpid())
    _stop_with_parent(stop_flag, log)
    reporter = Reporter(sender, name)
    code = 0
    try:
        target(config, stop_flag, reporter=reporter, **kwargs)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except Exception:
        log.exception("%s crashed", name)
        code = 1
    finally:
        log.info("%s stopped", name)
        for h in list(log.handlers):
            h.flush()
        sender.close()
    if code:
        sys.exit(code)


def _stop_with_parent(stop_event, log: logging.Logger, grace_s: float = 3.0) -> None:
    """If the launcher dies without stopping us (killed, crashed), stop too: no orphans."""
    import multiprocessing
    from multiprocessing.connection import wait
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch():
        wait([parent.sentinel])
        if stop_event.is_set():
            return
        log.warning("the launcher is gone: stopping")
        stop_event.set()
        time.sleep(grace_s)
        os._exit(1)  # still here after the grace period: do not linger as an orphan

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def process_main(name: str, target: Callable, description: str) -> Callable[..., int]:
    """The `main(argv=None)` of a process module: `python -m engine.<name>` and the
    `ipcdesk-<name>` command."""
    def main(argv=None) -> int:
        return standalone_main(name, target, description, argv)
    main.__doc__ = description
    return main


def standalone_main(name: str, target: Callable, description: str, argv=None) -> int:
    """One process on its own: parse the shared flags, log to the console and
    <log dir>/<name>.log, stop cleanly on Ctrl+C (or SIGTERM)."""
    parser = parser_for(f"python -m engine.{name}", description)
    parser.add_argument("--stats-json", default=None, metavar="FILE.json",
                        help="at exit, write this process's final counters (and, for the "
                             "Strategy, latency percentiles) to this JSON file")
    config, ns = parse_args(argv, parser=parser)
    log = setup_logging(name, config.log_dir, console=True, max_mb=config.log_max_mb)
    stop = threading.Event()
    stopped = threading.Event()
    on_console_close(stop.set, stopped)  # Windows: closing the console stops us in order

    def on_signal(signum, frame):
        if not stop.is_set():
            log.info("stopping (signal %d)", signum)
        stop.set()

    for signum in stop_signals():  # Ctrl+C, Ctrl+Break, SIGTERM, SIGHUP
        signal.signal(signum, on_signal)
    reporter = Reporter(None, name)
    try:
        target(config, stop, reporter=reporter)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    finally:
        stopped.set()
        if ns.stats_json and reporter.last is not None:  # e.g. the benchmark reading a
            import json                                      # Strategy started on its own
            Path(ns.stats_json).write_text(json.dumps(reporter.last.as_dict(), indent=2)
                                           + "\n", encoding="utf-8")
    return 0


def fatal(log: logging.Logger, message: str, code: int = 2):
    """One clear line, no traceback, and a non-zero exit code."""
    log.error(message)
    raise SystemExit(code)


def server_tls(config, log: logging.Logger):
    """A server's TLS context from its flags (None without --tls-cert), or a fatal line
    saying which certificate or key cannot be used."""
    from . import tls
    try:
        return tls.for_server(config)
    except tls.TlsSetupError as exc:
        fatal(log, str(exc))


class ServerProcess:
    """A process around an event loop of servers (the Gateway, the OrderManager): opened,
    polled until its stop flag is set, closed; its stats reported on the way. A subclass
    names itself and gives _open, _close, stats and, if it has work of its own, _step."""
    name = ""

    def __init__(self, config, stop_event, reporter: Optional["Reporter"] = None):
        self.config, self.stop_event = config, stop_event
        self.log = logging.getLogger(self.name)
        self.reporter = reporter or Reporter(None, self.name)

    def run(self) -> None:
        self._open()
        try:
            while not self.stop_event.is_set():
                self.loop.poll(self._step())
                self.reporter.maybe(self.stats)
        finally:
            self._close()

    def _step(self) -> float:
        """The work due now; returns how long the loop may wait for the sockets."""
        return 0.1
