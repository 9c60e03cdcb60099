"""ExternalProcess: a process of the stack that is not ours (another team's component, any
command), run as the controller runs its own: started in a process group of its own, its
output read line by line on threads of their own (decoded whatever its encoding, each line
capped, never blocking the desk), stopped politely (Ctrl+C, or Ctrl+Break on Windows), then
terminated, then killed. It offers what the controller asks of a spawned child (pid,
is_alive, exitcode, join, terminate, kill) and a stop flag whose set() is the polite stop.

Its lines go to <log dir>/<name>.log (rotated as ours are) and to the controller, which says
them as the process's log lines; its CPU and memory are the operating system's (psutil)."""
from __future__ import annotations

import logging
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Dict, Optional, Sequence

from engine.processes.logs import DATE_FORMAT, LOG_KEEP

LINE_CAP = 64 * 1024       # bytes of one output line kept (the rest of it is dropped)
LINES_HELD = 10_000        # lines waiting for the controller at most (then counted, dropped)
WINDOWS = sys.platform == "win32"


def decode(raw: bytes) -> str:
    """A line of another program's output, whatever its encoding: UTF-8 where it is, else the
    bytes shown one by one (latin-1 never fails), line endings dropped."""
    raw = raw.rstrip(b"\r\n")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class ExternalProcess:
    def __init__(self, name: str, command: Sequence[str], cwd: Optional[str] = None,
                 env: Optional[Dict[str, str]] = None, log_dir: Optional[str] = None,
                 ready_output: Optional[str] = None, max_mb: float = 10.0):
        self.name = name
        self.command = list(command)
        self.cwd, self.env = cwd, dict(env or {})
        self.lines: "queue.Queue" = queue.Queue(LINES_HELD)
        self.dropped = 0          # lines the controller had no room for (the file has them)
        self.ready_pattern = re.compile(ready_output) if ready_output else None
        self.saw_ready = False    # a line matched the readiness pattern
        self.proc: Optional[subprocess.Popen] = None
        self.started_at = 0.0
        self.file = self._file_log(log_dir, max_mb) if log_dir else None

    def _file_log(self, log_dir: str, max_mb: float) -> logging.Logger:
        log = logging.getLogger(f"ipcdesk.external.{self.name}.{id(self)}")
        log.propagate = False
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(Path(log_dir) / f"{self.name}.log",
                                      maxBytes=int(max_mb * 1024 * 1024),
                                      backupCount=LOG_KEEP, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d %(message)s",
                                               DATE_FORMAT))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        return log

    # -- what the controller asks of a child ---------------------------------------------------
    def start(self) -> None:
        kwargs = {}
        if WINDOWS:  # its own group, so that Ctrl+Break reaches it and not us
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore
        else:
            kwargs["start_new_session"] = True  # its own group, away from our terminal
        self.proc = subprocess.Popen(
            self.command, cwd=self.cwd, env={**os.environ, **self.env},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
        self.started_at = time.monotonic()
        self.say(logging.INFO, f"started: {subprocess.list2cmdline(self.command)} "
                               f"(pid {self.proc.pid})")
        for stream, level in ((self.proc.stdout, logging.INFO),
                              (self.proc.stderr, logging.WARNING)):
            threading.Thread(target=self._read, args=(stream, level),
                             name=f"{self.name}-output", daemon=True).start()

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc is not None else None

    def is_alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def exitcode(self) -> Optional[int]:
        return None if self.proc is None else self.proc.poll()

    def join(self, timeout: Optional[float] = None) -> None:
        if self.proc is not None:
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass

    def interrupt(self) -> None:
        """The polite stop: what Ctrl+C (Ctrl+Break on Windows) in its terminal would do."""
        self._signal(signal.CTRL_BREAK_EVENT if WINDOWS else signal.SIGINT)  # type: ignore

    def terminate(self) -> None:
        if WINDOWS:
            self._call(self.proc.terminate)
        else:
            self._signal(signal.SIGTERM)

    def kill(self) -> None:
        """It and everything it started: the process group (POSIX), the process tree
        (Windows: taskkill /T, since TerminateProcess ends one process only)."""
        if WINDOWS:
            if self.is_alive():
                subprocess.run(["taskkill", "/F", "/T", "/PID", str(self.proc.pid)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               check=False)
            self._call(self.proc.kill)
        else:
            self._signal(signal.SIGKILL)

    def kill_leftovers(self) -> None:
        """After it exited: what it started and left behind in its group (POSIX)."""
        if not WINDOWS and self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, OSError):
                pass

    def _signal(self, sig) -> None:
        if not self.is_alive():
            return
        try:
            if WINDOWS:
                self.proc.send_signal(sig)
            else:
                os.killpg(self.proc.pid, sig)  # the group: what it started goes too
        except (ProcessLookupError, PermissionError, OSError):
            pass

    def _call(self, fn) -> None:
        try:
            fn()
        except OSError:
            pass

    # -- its output ------------------------------------------------------------------------------
    def _read(self, stream, level: int) -> None:
        try:
            while True:
                raw = stream.readline(LINE_CAP)
                if not raw:
                    return
                if len(raw) == LINE_CAP and not raw.endswith(b"\n"):
                    while raw and not raw.endswith(b"\n"):  # the rest of an endless line
                        raw = stream.readline(LINE_CAP)
                    raw = b"... (line cut at 64 KiB)"
                text = decode(raw)
                if self.ready_pattern is not None and self.ready_pattern.search(text):
                    self.saw_ready = True
                self.say(level, text)
        except (OSError, ValueError):  # the pipe closed under us
            return
        finally:
            stream.close()

    def say(self, level: int, text: str) -> None:
        """A line of its, for the controller (and its log file)."""
        if self.file is not None:
            self.file.log(level, text)
        try:
            self.lines.put_nowait((level, text, time.time()))
        except queue.Full:
            self.dropped += 1

    def take_lines(self, limit: int = 5000) -> list:
        out = []
        while len(out) < limit:
            try:
                out.append(self.lines.get_nowait())
            except queue.Empty:
                break
        return out

    def close(self) -> None:
        if self.file is not None:
            for h in list(self.file.handlers):
                h.close()
                self.file.removeHandler(h)


class ExternalStop:
    """The controller's stop flag of an external process: set() asks it to stop politely."""

    def __init__(self, proc: ExternalProcess):
        self.proc = proc
        self.requested = False

    def set(self) -> None:
        self.requested = True
        self.proc.interrupt()

    def is_set(self) -> bool:
        return self.requested


class PortProbe:
    """Is anything accepting on host:port yet? Asked from a thread of its own (a connect to
    another machine can take seconds), every PROBE_EVERY_S until it is, or until stopped."""

    PROBE_EVERY_S = 0.05

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.accepted = False
        self._stop = threading.Event()
        threading.Thread(target=self._run, name=f"probe-{port}", daemon=True).start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                socket.create_connection((self.host, self.port), timeout=1.0).close()
                self.accepted = True
                return
            except OSError:
                self._stop.wait(self.PROBE_EVERY_S)

    def stop(self) -> None:
        self._stop.set()
