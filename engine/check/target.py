"""The component under test: already running at an address, or started by the checker from
its command(s) (the placeholders of a stack file filled: `{price_port}`, `{order_port}`,
`{shm_name}`, `{log_dir}`, `{python}`...) in a process group of its own, its output kept, and
stopped after (Ctrl+C, then terminate, then kill: engine.control.external)."""
from __future__ import annotations

import shlex
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Tuple, Union

from engine.config.schema import Config
from engine.config.stack import fill
from engine.config.stack_file import command_problem
from engine.control.external import ExternalProcess
from engine.net.ports import free_ports
from engine.platforms.paths import DATA_ENV
from engine.control.private import unique_shm_name

STOP_WAIT_S = 5.0
# a command's program written as a bare `python`: the Python that runs the checker (the one
# with this project's dependencies), not whichever `python` comes first on PATH
BARE_PYTHON = ("python", "python3", "py")
READY_WAIT_S = 20.0  # a started component's port accepts within this


class CannotRun(Exception):
    """The check cannot run (a bad address, a command that does not start): exit 2."""


def parse_address(text: str, ports: int) -> tuple:
    """'127.0.0.1:5001,5002' -> ('127.0.0.1', [5001, 5002]), exactly `ports` of them."""
    host, sep, rest = text.rpartition(":")
    try:
        numbers = [int(p) for p in rest.split(",")]
    except ValueError:
        numbers = []
    if not sep or not host or len(numbers) != ports or not all(0 < p < 65536 for p in numbers):
        raise CannotRun(f"--address {text!r}: expected HOST:{','.join(['PORT'] * ports)}")
    return host, numbers


@dataclass(frozen=True)
class Command:
    """A command of the component: a string (split as a shell would) or an argv list, with
    placeholders; the folder and environment it runs in (a stack file's cwd and env)."""
    argv: Union[str, Tuple[str, ...]]
    cwd: Optional[str] = None
    env: Dict[str, str] = field(default_factory=dict)


class Target:
    """Where the component is, and (with commands) the processes of it the checker runs."""

    def __init__(self, config: Config, commands: Sequence = ()):
        self.config = config
        self.commands = [c if isinstance(c, Command) else Command(c) for c in commands]
        self.procs: List[ExternalProcess] = []
        self.output: List[str] = []   # every line it printed, in order

    @classmethod
    def for_commands(cls, commands: Sequence[str]) -> "Target":
        """Free ports, a unique shared-memory name and a folder of its own, for the
        placeholders."""
        price, news, order, confirm = free_ports(4)
        folder = tempfile.mkdtemp(prefix="ipcdesk-check-")
        config = Config(price_port=price, news_port=news, order_port=order,
                        confirm_port=confirm, shm_name=unique_shm_name(), log_dir=folder)
        return cls(config, commands)

    @classmethod
    def at(cls, host: str, **ports) -> "Target":
        return cls(replace(Config(), host=host, **ports))

    @property
    def host(self) -> str:
        return self.config.connect_host

    def describe(self) -> str:
        return " && ".join(self.argv_text(c) for c in self.commands) if self.commands else \
            f"{self.host}"

    def argv(self, command: Command) -> List[str]:
        raw = command.argv
        argv = shlex.split(raw, posix=sys.platform != "win32") if isinstance(raw, str) \
            else list(raw)
        if not argv:
            raise CannotRun("an empty --command")
        if argv[0] in BARE_PYTHON:  # the Python that runs the checker, as {python} is
            argv[0] = "{python}"
        problem = command_problem(argv, self.config, command.cwd)
        if problem:
            raise CannotRun(f"--command {raw!r}: {problem}")
        return [fill(a, self.config) for a in argv]

    def argv_text(self, command: Command) -> str:
        return " ".join(shlex.quote(a) for a in self.argv(command))

    def start(self) -> None:
        for n, command in enumerate(self.commands, start=1):
            # ours write their logs in the checker's folder, not the user's data folder
            env = {"PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8",
                   DATA_ENV: self.config.log_dir, **command.env}
            proc = ExternalProcess(f"checked{n}", self.argv(command), cwd=command.cwd, env=env)
            try:
                proc.start()
            except OSError as exc:
                raise CannotRun(f"--command {command!r} did not start: {exc}") from None
            self.procs.append(proc)

    def wait_port(self, port: int, seconds: float = READY_WAIT_S) -> None:
        """Until `port` accepts (a component it started may take a while); CannotRun when
        its process exits first or the time runs out."""
        end = time.monotonic() + seconds
        while True:
            try:
                socket.create_connection((self.host, port), timeout=1).close()
                return
            except OSError as exc:
                why = exc
            if self.procs and not self.alive():
                last = self.lines()[-3:]
                raise CannotRun(f"it exited (codes {self.exit_codes()}) before port {port} "
                                f"accepted; its last lines: {last}")
            if time.monotonic() > end:
                raise CannotRun(f"port {port} did not accept within {seconds:.0f} s ({why})")
            time.sleep(0.05)

    def lines(self) -> List[str]:
        """Every line it printed so far (its own; the checker's notes about it left out)."""
        for proc in self.procs:
            for _, text, _ in proc.take_lines():
                if not (text.startswith("started: ") and proc.command[0] in text):
                    self.output.append(text)
        return self.output

    def wait_line(self, test, seconds: float) -> List[str]:
        """Lines that `test` accepts, waiting up to `seconds` for the first of them."""
        end = time.monotonic() + seconds
        while True:
            found = [t for t in self.lines() if test(t)]
            if found or time.monotonic() > end:
                return found
            time.sleep(0.05)

    def alive(self) -> Optional[bool]:
        """Every process of it still runs (None without commands: not the checker's to see)."""
        return all(p.is_alive() for p in self.procs) if self.procs else None

    def exit_codes(self) -> List[Optional[int]]:
        return [p.exitcode for p in self.procs]

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.interrupt()
        for step in ("terminate", "kill"):
            end = time.monotonic() + STOP_WAIT_S
            for proc in self.procs:
                proc.join(max(0.0, end - time.monotonic()))
            if not any(p.is_alive() for p in self.procs):
                break
            for proc in self.procs:
                getattr(proc, step)()
        for proc in self.procs:
            proc.join(2)
            proc.kill_leftovers()
            proc.close()
        self.lines()
        if self.commands:  # the folder it wrote in is the checker's
            shutil.rmtree(self.config.log_dir, ignore_errors=True)
