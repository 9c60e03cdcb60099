#!/usr/bin/env python3
"""IPC Trading Desk launcher.

    python launcher.py                      the desk window (PySide6 + pyqtgraph)
    python launcher.py --headless [--duration S] [--summary FILE.json]
                                            the same four processes without a window

Every flag of the processes (ports, symbols, windows, thresholds...) is accepted here too;
`python launcher.py --help` lists them.
"""
from __future__ import annotations

import argparse
import multiprocessing
import sys
from pathlib import Path

# A double click starts us with some other working directory: make the project importable.
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

INSTALL_HINT = "python -m pip install -r requirements.txt"


def build_parser() -> argparse.ArgumentParser:
    from engine.config import add_arguments
    parser = argparse.ArgumentParser(
        prog="python launcher.py",
        description="IPC Trading Desk: Gateway, OrderBook, Strategy and OrderManager as four "
                    "processes over TCP and shared memory, with a live desk window.")
    parser.add_argument("--headless", action="store_true",
                        help="run the stack without a window, printing every process's log")
    parser.add_argument("--duration", type=float, default=None,
                        help="with --headless: stop after this many seconds (default: Ctrl+C)")
    parser.add_argument("--summary", default=None, metavar="FILE.json",
                        help="with --headless: write the run's figures to this JSON file")
    add_arguments(parser)
    return parser


def missing_gui_message(exc: ImportError) -> str:
    return (f"The desk window needs PySide6 and pyqtgraph ({exc.name or exc} is missing).\n"
            f"Install them with:\n\n    {INSTALL_HINT}\n\n"
            f"or run without a window:  python launcher.py --headless")


def main(argv=None) -> int:
    from engine.config import from_args
    parser = build_parser()
    ns = parser.parse_args(argv)
    try:
        config = from_args(ns)
    except ValueError as exc:
        parser.error(str(exc))
    if ns.headless:
        from engine.headless import run_headless
        return run_headless(config, ns.duration, ns.summary)
    try:
        from gui.app import run_gui
    except ImportError as exc:
        message = missing_gui_message(exc)
        print(message, file=sys.stderr)
        _show_plain_dialog(message)
        return 2
    return run_gui(config)


def _show_plain_dialog(message: str) -> None:
    """A double-clicked launcher has no terminal: try Tk for a visible message."""
    try:
        import tkinter
        from tkinter import messagebox
        root = tkinter.Tk()
        root.withdraw()
        messagebox.showerror("IPC Trading Desk", message)
        root.destroy()
    except Exception:
        pass


if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
