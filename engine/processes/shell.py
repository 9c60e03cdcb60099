"""What every process shell shares: its stop flag, and the two ways to start it (a child of
the ProcessController, or `python -m engine.<name>` in its own terminal), its fatal line,
and the loop of a process built around servers (ServerProcess)."""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Optional

from engine.config.flags import parse_args, parser_for
from engine.platforms.oscompat import name_process, on_console_close, stop_signals

from .logs import setup_logging
from .reports import Reporter, ReportSender


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
    name_process(name)
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
    name_process(name)
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
            import json  # Strategy started on its own
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
    from engine.net import tls
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
        self.reporter = reporter or Reporter(None, self.name)
        self.name = self.reporter.name  # its name in the stack (its log's), not its role's
        self.log = logging.getLogger(self.name)

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
