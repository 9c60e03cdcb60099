"""A stack file: the processes a stack runs, in TOML, read into a StackPlan (and written back).

    [stack]                        # any setting of the stack, under its flag's name
    symbols = "AAPL,MSFT,GOOG"
    tick-interval = 0.05

    [[process]]
    name = "fast"                  # unique; its log is fast.log
    role = "strategy"              # gateway, orderbook, strategy or order_manager
    short-window = 3               # that process's own settings, under their flag names
    long-window = 8
    account = "fast"               # a Strategy's account (default: its name)
    on_crash = "restart"           # or "never" (the default)

    [[process]]
    name = "their-om"
    role = "order_manager"
    command = ["python", "peers/om.py", "{order_port}"]    # an external process
    cwd = "."                      # relative to this file
    env = { PYTHONUNBUFFERED = "1" }
    depends_on = ["gateway"]       # started once these are ready
    ready = { port = "{order_port}", timeout = 10 }       # or { output = "listening" }

    [[process]]
    name = "gateway"
    role = "gateway"
    host = "10.0.0.5"              # runs on another machine: ours connect there, never start it

Without `depends_on`, a process waits for the servers its role talks to (an OrderBook for the
Gateways, a Strategy for the Gateways, OrderBooks and OrderManagers). Ours are ready when they
say so (their servers listen); an external one when its `ready` probe passes (by default a
server role's port accepting, a client role at once).

An error says the file, the line and the key, and nothing starts (StackFileError). Long:
most of it is that, for every key a person can get wrong.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from .schema import ROLES, Config, settings
from .stack import (NAME_RE, PLACEHOLDERS, READY_TIMEOUT_S, STACK_SETTINGS, STRATEGY_SETTINGS,
                    ProcessEntry, Ready, StackPlan, default_plan, dependency_cycle, fill)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ON_CRASH = {"never": "never", "restart": "on crash", "on crash": "on crash"}
PROCESS_KEYS = ("name", "role", "account", "command", "cwd", "env", "depends_on", "ready",
                "on_crash", "host")
READY_KEYS = ("port", "output", "timeout")


class StackFileError(ValueError):
    """What is wrong with a stack file, where: `FILE:LINE: key 'k': what`."""

    def __init__(self, path, line: Optional[int], key: Optional[str], message: str):
        self.path, self.line, self.key, self.message = path, line, key, message
        where = f"{path}:{line}" if line else f"{path}"
        super().__init__(f"{where}: {f'key {key!r}: ' if key else ''}{message}")


# -- the flags' names -----------------------------------------------------------------------------
def _fields_by_key() -> Dict[str, str]:
    """'short-window' (and 'short_window') -> the Config field."""
    out = {}
    for name, s in settings():
        key = s.flag.lstrip("-")
        out[key] = out[key.replace("-", "_")] = name
    return out


def _as_setting(value, parse):
    """A TOML value as the setting's parser takes it: a list joined with commas (symbols), a
    number as text for a parser of text."""
    if isinstance(value, bool):
        raise ValueError("true or false is for a switch")
    if isinstance(value, list):
        return parse(",".join(str(v) for v in value))
    if isinstance(value, (int, float)) and parse not in (int, float):
        return parse(str(value))
    return parse(value)


def _settings(table: dict, path, lines, where: int, skip=()) -> Dict[str, object]:
    keys = _fields_by_key()
    parsers = dict(settings())
    out = {}
    for key, value in table.items():
        if key in skip:
            continue
        name = keys.get(key)
        if name is None:
            raise StackFileError(path, _line_of(lines, where, key), key,
                                 "no setting of that name (see --help for every flag)")
        s = parsers[name]
        try:
            if s.switch:
                if not isinstance(value, bool):
                    raise ValueError("a switch is true or false")
                out[name] = value
            else:
                out[name] = _as_setting(value, s.parse)
        except (TypeError, ValueError) as exc:
            raise StackFileError(path, _line_of(lines, where, key), key,
                                 f"cannot use {value!r}: {exc}") from None
    return out


# -- where a key is -------------------------------------------------------------------------------
def _headers(lines: List[str]) -> List[Tuple[int, str]]:
    """(line number, header) of every table header: '[stack]', '[[process]]'."""
    out = []
    for i, line in enumerate(lines, 1):
        m = re.match(r"^\s*(\[\[?\s*[A-Za-z0-9_.-]+\s*\]\]?)", line)
        if m:
            out.append((i, re.sub(r"\s", "", m.group(1))))
    return out


def _table_line(lines, header: str, n: int = 0) -> Optional[int]:
    found = [i for i, h in _headers(lines) if h == header]
    return found[n] if n < len(found) else None


def _line_of(lines, start: Optional[int], key: str) -> Optional[int]:
    """The line of `key = ...` in the table whose header is on line `start` (1-based), else
    the header's line."""
    if start is None:
        return None
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for i in range(start, len(lines)):  # lines[start] is the line after the header
        if re.match(r"^\s*\[", lines[i]):
            break
        if pattern.match(lines[i]):
            return i + 1
    return start


# -- reading --------------------------------------------------------------------------------------
def load_stack(path, base: Optional[Config] = None) -> StackPlan:
    """Read a stack file. `base` holds the settings given outside it (the command line);
    the file's [stack] table goes over them, each process's own over that."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StackFileError(path, None, None, f"cannot read it: {exc.strerror or exc}") \
            from None
    lines = text.splitlines()
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise StackFileError(path, int(m.group(1)) if m else None, None,
                             f"not TOML: {exc}") from None
    for key in doc:
        if key not in ("stack", "process"):
            raise StackFileError(path, _line_of(lines, 0, key) or _table_line(lines, f"[{key}]"),
                                 key, "a stack file has a [stack] table and [[process]] tables")
    stack_line = _table_line(lines, "[stack]")
    raw_stack = doc.get("stack", {})
    if not isinstance(raw_stack, dict):
        raise StackFileError(path, stack_line, "stack", "must be a table")
    stack_settings = _settings(raw_stack, path, lines, stack_line)
    base = base or Config()
    try:
        config = base.replace(**stack_settings)
    except ValueError as exc:
        key = _key_in(str(exc))
        raise StackFileError(path, _line_of(lines, stack_line, key) if key else stack_line,
                             key, str(exc)) from None
    tables = doc.get("process", [])
    if not isinstance(tables, list) or not tables:
        raise StackFileError(path, None, "process", "no [[process]] table: a stack needs "
                                                    "at least one process")
    entries = [_entry(table, config, path, lines, _table_line(lines, "[[process]]", n))
               for n, table in enumerate(tables)]
    _check_stack(entries, path, lines)
    hosts = {e.host for e in entries if e.host}
    if hosts:  # our processes connect to those elsewhere at their address
        config = config.replace(host=hosts.pop())
    return StackPlan(config, tuple(entries), str(path), stack_settings)


def _key_in(message: str) -> Optional[str]:
    m = re.search(r"--([a-z][a-z-]+)", message)
    return m.group(1) if m else None


def _entry(t: dict, stack: Config, path, lines, where: Optional[int]) -> ProcessEntry:
    def fail(key, message):
        raise StackFileError(path, _line_of(lines, where, key) if key else where, key, message)

    name, role = t.get("name"), t.get("role")
    if not isinstance(name, str) or not NAME_RE.match(name):
        fail("name", "every process needs a name: 1 to 40 letters, digits, '_', '.' or '-'")
    if role not in ROLES:
        fail("role", f"no role called {role!r} (choose from {', '.join(ROLES)})")
    own = _settings(t, path, lines, where, skip=PROCESS_KEYS)
    for key, field_name in _keys_of(t, own):
        if field_name in STACK_SETTINGS:
            fail(key, "a setting of the whole stack: put it in [stack]")
        if field_name in STRATEGY_SETTINGS and role != "strategy":
            fail(key, f"a Strategy's setting, and {name!r} is a {role}")
    account = t.get("account")
    if account is not None and (role != "strategy" or not isinstance(account, str)
                                or not NAME_RE.match(account)):
        fail("account", "an account is a Strategy's: a name of 1 to 40 letters, digits, "
                        "'_', '.' or '-'")
    host = t.get("host")
    if host is not None and (not isinstance(host, str) or not host):
        fail("host", "host is the address of the machine it runs on")
    try:
        config = stack.replace(**own, **({"host": host} if host else {}))
    except ValueError as exc:
        fail(_key_in(str(exc)) or next(iter(t), None), str(exc))
    command = t.get("command")
    if "command" in t:
        if isinstance(command, str):
            command = shlex.split(command, posix=sys.platform != "win32")
        if (not isinstance(command, list) or not command
                or not all(isinstance(c, str) and c for c in command)):
            fail("command", "a command is a list of strings, or one string, and not empty")
        problem = _placeholder_problem(command, config)
        if problem:
            fail("command", problem)
    cwd = t.get("cwd")
    if cwd is not None:
        if command is None:
            fail("cwd", "cwd is for an external process (one with a command)")
        if not isinstance(cwd, str):
            fail("cwd", "cwd is a folder")
        cwd = str((Path(path).parent / cwd).resolve())
        if not Path(cwd).is_dir():
            fail("cwd", f"no folder {cwd}")
    if command is not None and host is None:
        problem = command_problem(command, config, cwd)
        if problem:
            fail("command", problem)
    env = t.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, (str, int, float))
                                            for v in env.values()):
        fail("env", "env is a table of NAME = \"value\"")
    if env and command is None:
        fail("env", "env is for an external process (one with a command)")
    depends = t.get("depends_on")
    if depends is not None:
        if isinstance(depends, str):
            depends = [depends]
        if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
            fail("depends_on", "depends_on is a list of process names")
    ready = _ready(t.get("ready"), config, command is not None, fail)
    policy = t.get("on_crash", "never")
    if policy not in ON_CRASH:
        fail("on_crash", "on_crash is \"never\" or \"restart\"")
    if host is not None and command is not None:
        fail("host", "a process on another machine is not started from here: no command")
    return ProcessEntry(name=name, role=role, settings=own, account=account,
                        command=tuple(command) if command is not None else None, cwd=cwd,
                        env={k: str(v) for k, v in env.items()},
                        depends_on=tuple(depends) if depends is not None else None,
                        ready=ready, on_crash=ON_CRASH[policy], host=host)


def _keys_of(table: dict, own: dict):
    """(key as written, Config field) of the settings a process table gives."""
    keys = _fields_by_key()
    return [(k, keys[k]) for k in table if k in keys and keys[k] in own]


def _placeholder_problem(argv, config: Config) -> str:
    try:
        for c in argv:
            fill(c, config)
    except KeyError as exc:
        return (f"no placeholder {exc.args[0]} (there are "
                f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)})")
    return ""


def command_problem(argv, config: Config, cwd: Optional[str] = None) -> str:
    """What would stop a command from starting ('' when nothing): an unknown placeholder,
    or a program that is neither a path (from `cwd`) nor on PATH."""
    problem = _placeholder_problem(argv, config)
    if problem:
        return problem
    program = fill(argv[0], config)
    if not _program(program, cwd):
        return f"no program {program!r} (not on PATH{'' if cwd is None else ' nor in ' + cwd})"
    return ""


def _program(program: str, cwd: Optional[str]) -> bool:
    """Whether a command's program can be found: a path (from cwd), or a name on PATH."""
    if os.sep in program or (os.altsep and os.altsep in program):
        return (Path(cwd or ".") / program).exists()
    return shutil.which(program) is not None


def _ready(value, config: Config, external: bool, fail) -> Optional[Ready]:
    if value is None:
        return None
    if not external:
        fail("ready", "ready is for an external process (ours say when they are ready)")
    if not isinstance(value, dict) or not set(value) <= set(READY_KEYS) or \
            ("port" in value) == ("output" in value):
        fail("ready", "ready is { port = N } or { output = \"a regular expression\" }, "
                      "with an optional timeout = seconds")
    timeout = value.get("timeout", READY_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        fail("ready", "its timeout is a positive number of seconds")
    if "port" in value:
        port = value["port"]
        try:
            n = int(fill(port, config)) if isinstance(port, str) else int(port)
            if isinstance(port, bool) or not 0 < n < 65536:
                raise ValueError
        except (KeyError, ValueError, TypeError):
            fail("ready", f"its port must be a port number or a placeholder such as "
                          f"\"{{order_port}}\", not {port!r}")
        return Ready(port=port, timeout=float(timeout))
    try:
        re.compile(value["output"])
    except (re.error, TypeError) as exc:
        fail("ready", f"its output is not a regular expression: {exc}")
    return Ready(output=value["output"], timeout=float(timeout))


def _check_stack(processes, path, lines) -> None:
    names = [p.name for p in processes]
    for n, p in enumerate(processes):
        where = _table_line(lines, "[[process]]", n)
        if p.name in names[:n]:  # said at its second table
            raise StackFileError(path, _line_of(lines, where, "name"), "name",
                                 f"two processes called {p.name!r}")
        for d in p.depends_on or ():
            if d not in names:
                raise StackFileError(path, _line_of(lines, where, "depends_on"), "depends_on",
                                     f"{p.name!r} depends on {d!r}, which is not in the stack")
    hosts = {p.host for p in processes if p.host}
    if len(hosts) > 1:
        n = next(i for i, p in enumerate(processes) if p.host and p.host != processes[
            next(j for j, q in enumerate(processes) if q.host)].host)
        raise StackFileError(path, _line_of(lines, _table_line(lines, "[[process]]", n), "host"),
                             "host", f"processes elsewhere are at one address, not "
                                     f"{' and '.join(sorted(hosts))}")
    cycle = dependency_cycle(processes)
    if cycle:
        n = names.index(cycle[0])
        where = _table_line(lines, "[[process]]", n)
        raise StackFileError(path, _line_of(lines, where, "depends_on"), "depends_on",
                             "a dependency cycle: " + " -> ".join(cycle + [cycle[0]]))


# -- without a file, and back to a file -----------------------------------------------------------
def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def _setting_value(value) -> str:
    return _toml_value(",".join(value) if isinstance(value, tuple) else value)


def dump_stack(plan: StackPlan) -> str:
    """The plan as a stack file that load_stack reads back to the same stack: the [stack]
    table holds every setting that differs from the defaults (but the log folder, the token
    and --remote, which belong to this machine and this run)."""
    flags = {name: s.flag.lstrip("-") for name, s in settings()}
    defaults = Config()
    out = ["# An IPC Trading Desk stack: python launcher.py --stack THIS_FILE", "", "[stack]"]
    for name, _s in settings():
        value = getattr(plan.config, name)
        if name in ("log_dir", "auth_token", "remote", "account", "host") or value is None \
                or value == getattr(defaults, name):
            continue
        out.append(f"{flags[name]} = {_setting_value(value)}")
    if not any(p.host for p in plan.processes) and plan.config.host != defaults.host:
        out.append(f"host = {_toml_value(plan.config.host)}")
    for p in plan.processes:
        out += ["", "[[process]]", f"name = {_toml_value(p.name)}",
                f"role = {_toml_value(p.role)}"]
        for name, value in p.settings.items():
            out.append(f"{flags[name]} = {_setting_value(value)}")
        if p.account:
            out.append(f"account = {_toml_value(p.account)}")
        if p.command is not None:
            out.append(f"command = {_toml_value(list(p.command))}")
        if p.cwd:
            out.append(f"cwd = {_toml_value(p.cwd)}")
        if p.env:
            out.append(f"env = {_toml_value(p.env)}")
        if p.depends_on is not None:
            out.append(f"depends_on = {_toml_value(list(p.depends_on))}")
        if p.ready is not None:
            r = {"port": p.ready.port} if p.ready.port is not None else \
                {"output": p.ready.output}
            r["timeout"] = p.ready.timeout
            out.append(f"ready = {_toml_value(r)}")
        if p.on_crash != "never":
            out.append('on_crash = "restart"')
        if p.host:
            out.append(f"host = {_toml_value(p.host)}")
    return "\n".join(out) + "\n"


def save_stack(plan: StackPlan, path) -> None:
    """Write the plan to `path` (UTF-8), whole or not at all."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dump_stack(plan), encoding="utf-8")
    os.replace(tmp, path)


# -- from the command line ------------------------------------------------------------------------
def add_stack_arguments(parser) -> None:
    """--stack FILE and --on-crash (the launcher, the desk and headless take them)."""
    parser.add_argument("--stack", metavar="FILE.toml", default=None,
                        help="the processes to run, from a stack file (docs/stacks.md); "
                             "without one, the four of the assignment")
    parser.add_argument("--on-crash", choices=("never", "restart"), default=None,
                        help="restart every process that crashes (with backoff, at most 3 "
                             "times in a row), or never; a stack file can say it per process")


def plan_from_args(ns, config: Config, given: Dict[str, object]) -> StackPlan:
    """The stack to run: the file's (--stack), else the four; the settings given on the
    command line (`given`, by field) over the file's; --remote and --on-crash over every
    process. Raises StackFileError (the file) or ValueError (the flags)."""
    path = getattr(ns, "stack", None)
    if path:
        plan = load_stack(path)
        plan = plan.with_config(plan.config.replace(**given)) if given else plan
    else:
        plan = default_plan(config)
    remote = plan.config.remote
    policy = getattr(ns, "on_crash", None)
    if remote or policy:
        entries = []
        for e in plan.processes:
            if remote and e.role in remote and not e.remote:
                e = replace(e, host=plan.config.connect_host, command=None)
            if policy:
                e = replace(e, on_crash=ON_CRASH[policy])
            entries.append(e)
        plan = StackPlan(plan.config, tuple(entries), plan.path, plan.stack_settings)
    return plan
