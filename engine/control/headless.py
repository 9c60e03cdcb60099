"""`python launcher.py --headless` (installed: `ipcdesk-headless`, or `python -m
engine.headless`): the whole stack without a window.

A run is a session (engine/records/sessions.py): its own folder under the log folder. It
starts the stack (the four, or those of a stack file: `--stack FILE`) through one
ProcessController, prints every log line prefixed with its process name, restarts what
crashes where the restart policy says so (`--on-crash restart`, or per process in the file),
stops them in order at the end (or on Ctrl+C), unlinks the shared memory, and writes the
session's summary.json (and `--summary FILE` if given)."""
from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Optional

from engine.config.schema import Config
from engine.config.stack import StackPlan, default_plan
from engine.platforms.oscompat import (console_safe, name_process, on_console_close,
                                       stop_signals)
from engine.records.sessions import start_session, write_summary

from .controller import ProcessController
from .events import LogLine, StateChanged
from .lifecycle import State
from .roster import Roster
from .summary import run_summary

WIDTH = 13


def _printer(out):
    def on_event(ev):
        if isinstance(ev, LogLine):
            level = "" if ev.level == logging.INFO else f"{logging.getLevelName(ev.level)}: "
            print(f"[{ev.name:>{WIDTH}}] {level}{ev.text}", file=out, flush=True)
        elif isinstance(ev, StateChanged):
            extra = f" (pid {ev.pid})" if ev.pid and ev.state.active and \
                ev.state != State.STOPPING else ""
            if ev.detail:
                extra = f" ({ev.detail})"
            print(f"[{'launcher':>{WIDTH}}] {ev.name}: {ev.state}{extra}", file=out, flush=True)
    return on_event


def run_headless(config: Config, duration: Optional[float] = None,
                 summary_path: Optional[str] = None, out=None,
                 plan: Optional[StackPlan] = None) -> int:
    """Run the stack (`plan`, default the four of `config`) until `duration` or Ctrl+C."""
    plan = plan if plan is not None else default_plan(config)
    name_process("launcher")
    # a log line may hold what the console's code page lacks (cp1252 on Windows when the
    # output is redirected): escaped, never a UnicodeEncodeError that ends the run
    out = console_safe(out or sys.stdout)
    interrupted = []

    def on_signal(signum, frame):
        if interrupted and signum == interrupted[0]:  # the same key again: stop waiting
            raise KeyboardInterrupt
        if not interrupted:
            interrupted.append(signum)
            print(f"[{'launcher':>{WIDTH}}] stopping ({signal.Signals(signum).name}; "
                  f"Ctrl+C again to force)", file=out, flush=True)

    # Ctrl+C, Ctrl+Break (Windows), SIGTERM and SIGHUP (a logout, `kill`): the ordered stop
    old = {s: signal.signal(s, on_signal) for s in stop_signals()}
    stopped = threading.Event()
    on_console_close(lambda: interrupted.append(signal.SIGINT), stopped)
    session = start_session(plan.config.log_dir)
    config = plan.config.replace(log_dir=str(session))
    print(f"[{'launcher':>{WIDTH}}] session {session}", file=out, flush=True)
    if plan.path:
        print(f"[{'launcher':>{WIDTH}}] stack {plan.path}: {', '.join(plan.names)}", file=out,
              flush=True)
    ctl = ProcessController(config, roster=Roster.from_plan(plan))
    ctl.subscribe(_printer(out))
    started = time.monotonic()
    summary = None
    try:
        ctl.start_all()
        while not interrupted:
            ctl.poll(0.1)
            if duration is not None and time.monotonic() - started >= duration:
                break
        ctl.stop_all_and_wait()
        summary = run_summary(ctl)
        summary["duration_s"] = round(time.monotonic() - started, 2)
        summary["session"] = str(session)
    finally:
        ctl.close()
        for s, handler in old.items():
            signal.signal(s, handler)
        stopped.set()  # (after an exception too: a console-close handler stops waiting)
    crashed = [n for n in ctl.procs if ctl.state(n) == State.CRASHED]
    print_summary(summary, out)
    written = write_summary(session, summary)
    print(f"[{'launcher':>{WIDTH}}] session summary written to {written}", file=out)
    if summary_path:
        Path(summary_path).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print(f"[{'launcher':>{WIDTH}}] summary written to {summary_path}", file=out)
    return 1 if crashed else 0


def print_summary(s: dict, out) -> None:
    lat = s["latency_us"]

    def l(name, lat=lat):
        d = lat[name]
        return f"p50 {d['p50']} us, p99 {d['p99']} us, max {d['max']} us ({d['count']} samples)"

    strategies = {n: p for n, p in s["processes"].items() if "latency_us" in p}

    def n(key):  # a figure an external process would have had to report
        return "?" if s[key] is None else s[key]

    lines = [
        f"ticks sent {n('ticks_sent')}, applied {n('ticks_applied')}, bad frames "
        f"{s['bad_frames']}, news sent {n('news_sent')}",
        f"orders sent {n('orders_sent')}, acked {n('orders_acked')}, logged "
        f"{n('orders_logged')}",
        *([f"(? : {', '.join(s['external'])} external, reporting nothing)"]
          if s["external"] else []),
        pnl_line(s["pnl"]),
        *(f"  account {a}: {acc['orders']} orders, " + pnl_line(acc["pnl"])
          for a, acc in s["accounts"].items() if len(s["accounts"]) > 1),
        f"tick-to-decision {l('tick_to_decision')}",
        f"tick-to-ack      {l('tick_to_ack')}",
        *(f"  {n}: tick-to-ack {l('tick_to_ack', p['latency_us'])}"
          for n, p in strategies.items() if len(strategies) > 1),
        f"shared memory {s['shm_bytes']} bytes",
        *(f"  {n} ({p['role']}{', external' if p['external'] else ''}): {p['ended']}"
          + (f", restarted {p['restarts']} times" if p["restarts"] else "")
          for n, p in s["processes"].items()),
    ]
    for line in lines:
        print(f"[{'summary':>{WIDTH}}] {line}", file=out, flush=True)


def pnl_line(p: dict) -> str:
    text = (f"P&L ({p['method']}): realized {p['realized']:+,.2f}, unrealized "
            f"{p['unrealized']:+,.2f}, total {p['total']:+,.2f}")
    return text + (f" ({len(p['unmarked'])} open without a price)" if p["unmarked"] else "")


def add_headless_arguments(parser, prefix: str = "") -> None:
    """--duration and --summary (the launcher adds them too, for --headless)."""
    parser.add_argument("--duration", type=float, default=None,
                        help=f"{prefix}stop after this many seconds (default: Ctrl+C)")
    parser.add_argument("--summary", default=None, metavar="FILE.json",
                        help=f"{prefix}write the run's figures to this JSON file")


def main(argv=None) -> int:
    from engine.config.flags import parse_args, parser_for
    from engine.config.stack_file import add_stack_arguments
    parser = parser_for("ipcdesk-headless", "The stack without a window, every log line on "
                        "the console; Ctrl+C stops it in order.")
    add_headless_arguments(parser)
    add_stack_arguments(parser)
    config, ns = parse_args(argv, parser=parser)
    plan = stack_or_exit(parser.prog, ns, config)
    return run_headless(config, ns.duration, ns.summary, plan=plan)


def stack_or_exit(prog: str, ns, config: Config) -> StackPlan:
    """The stack the command line asks for; a bad stack file (or flags it cannot take) is
    one line on stderr and exit code 2, before anything starts."""
    from engine.config.flags import given
    from engine.config.stack_file import plan_from_args
    values = given(ns)
    if config.auth_token:  # (from the environment too)
        values["auth_token"] = config.auth_token
    try:
        return plan_from_args(ns, config, values)
    except ValueError as exc:  # StackFileError is one
        print(f"{prog}: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
