"""A process's log: <log dir>/<name>.log (rotated), the report pipe to the controller, and
the console when it runs in a terminal of its own."""
from __future__ import annotations

import logging
import sys
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Optional

from engine.platforms.oscompat import console_safe

from .reports import ReportSender

LOG_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-7s %(name)s: %(message)s"
DATE_FORMAT = "%H:%M:%S"


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

