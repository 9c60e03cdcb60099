"""`python launcher.py --headless` (installed: `ipcdesk-headless`, or `python -m
engine.headless`): the whole stack without a window.

A run is a session (engine/session.py): its own folder under the log folder. It starts the
four processes through one ProcessController, prints every log line prefixed with its process
name, stops them in order at the end (or on Ctrl+C), unlinks the shared memory, and writes the
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
from engine.platforms.oscompat import console_safe, on_console_close, stop_signals
from engine.records.sessions import start_session, write_summary

from .controller import ProcessController
from .events import LogLine, StateChanged
from .lifecycle import State
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
                 summary_path: Optional[str] = None, out=None) -> int:
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
    session = start_session(config.log_dir)
    config = config.replace(log_dir=str(session))
    print(f"[{'launcher':>{WIDTH}}] session {session}", file=out, flush=True)
    ctl = ProcessController(config)
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

    def l(name):
        d = lat[name]
        return f"p50 {d['p50']} us, p99 {d['p99']} us, max {d['max']} us ({d['count']} samples)"

    lines = [
        f"ticks sent {s['ticks_sent']}, applied {s['ticks_applied']}, bad frames {s['bad_frames']}, "
        f"news sent {s['news_sent']}",
        f"orders sent {s['orders_sent']}, acked {s['orders_acked']}, logged {s['orders_logged']}",
        pnl_line(s["pnl"]),
        f"tick-to-decision {l('tick_to_decision')}",
        f"tick-to-ack      {l('tick_to_ack')}",
        f"shared memory {s['shm_bytes']} bytes; exit codes " + ", ".join(
            f"{n}={p['exitcode']}" for n, p in s["processes"].items()),
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
    parser = parser_for("ipcdesk-headless", "The four processes without a window, every "
                        "log line on the console; Ctrl+C stops them in order.")
    add_headless_arguments(parser)
    config, ns = parse_args(argv, parser=parser)
    return run_headless(config, ns.duration, ns.summary)
