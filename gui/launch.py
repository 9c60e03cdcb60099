"""The desk's launcher: `python launcher.py` in a checkout, `ipcdesk` once installed.

    ipcdesk                                 the desk window (PySide6 + pyqtgraph)
    ipcdesk --headless [--duration S] [--summary FILE.json]
                                            the same four processes without a window
    ipcdesk [--headless] --stack FILE.toml  the processes a stack file names
    ipcdesk --demo-video demo.mp4           the desk plays a tour of itself and records it

Every flag of the processes (ports, symbols, windows, thresholds...) is accepted here too;
`--help` lists them. Qt is imported only once the window is wanted, so --headless, --help
and the explanations of why a window cannot open work without it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_PROG = "ipcdesk"
INSTALL_HINT = "python -m pip install -r requirements.txt"


def build_parser(prog: str = DEFAULT_PROG) -> argparse.ArgumentParser:
    from engine.config.flags import add_arguments, parser_for
    from engine.config.stack_file import add_stack_arguments
    from engine.control.headless import add_headless_arguments
    parser = parser_for(
        prog,
        "IPC Trading Desk: Gateway, OrderBook, Strategy and OrderManager as four "
        "processes over TCP and shared memory, with a live desk window.")
    parser.add_argument("--headless", action="store_true",
                        help="run the stack without a window, printing every process's log")
    add_headless_arguments(parser, "with --headless: ")
    add_stack_arguments(parser)
    parser.add_argument("--demo-video", metavar="FILE.mp4", default=None,
                        help="play a scripted tour of the desk (start all, orders, stop and "
                             "restart the Gateway, kill and restart the OrderBook, the logs, "
                             "stop all; about 70 s) and record it, with captions, to this "
                             "MP4 file; works off screen (QT_QPA_PLATFORM=offscreen)")
    add_arguments(parser)
    return parser


def missing_gui_message(exc: ImportError, prog: str = DEFAULT_PROG) -> str:
    return (f"The desk window needs PySide6 and pyqtgraph ({exc.name or exc} is missing).\n"
            f"Install them with:\n\n    {INSTALL_HINT}\n\n"
            f"or run without a window:  {prog} --headless")


XCB_LIBS_HINT = (
    "    sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \\\n"
    "         libxcb-render-util0 libxcb-xkb1 libxkbcommon-x11-0      (Debian, Ubuntu)\n"
    "    sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms xcb-util-image \\\n"
    "         xcb-util-renderutil libxkbcommon-x11                    (Fedora)")


def _load_qt_xcb_plugin() -> None:
    """dlopen Qt's X11 platform plugin as Qt would: OSError names the first missing library."""
    import ctypes

    from PySide6.QtCore import QLibraryInfo
    plugin = (Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
              / "libqxcb.so")
    if plugin.exists():
        ctypes.CDLL(str(plugin))


def display_problem(env=None, platform: str = sys.platform, probe=_load_qt_xcb_plugin,
                    prog: str = DEFAULT_PROG) -> str:
    """Why Qt could not open a window here, said before Qt aborts the process with a core
    dump (on Linux it does when there is no display, or when its X11 plugin cannot load
    because a system library is missing); '' when nothing is in the way. Windows and macOS
    always have their own platform plugin."""
    import os
    import re
    env = os.environ if env is None else env
    if not platform.startswith("linux"):
        return ""
    qpa = env.get("QT_QPA_PLATFORM", "")
    if qpa and not qpa.startswith("xcb"):
        return ""  # offscreen, wayland, vnc...: the user chose, and Qt says what it lacks
    wayland = bool(env.get("WAYLAND_DISPLAY")) and not qpa
    if not env.get("DISPLAY") and not wayland:
        return ("There is no display to open the desk window on (DISPLAY and WAYLAND_DISPLAY "
                "are not set).\nRun it in a desktop session, under a virtual display "
                f"(Xvfb :99 & DISPLAY=:99 {prog}),\nor without a window:  {prog} --headless")
    if wayland and env.get("XDG_SESSION_TYPE") == "wayland":
        return ""  # Qt takes its Wayland plugin there
    try:
        probe()
    except OSError as exc:
        found = re.search(r"lib[\w.+-]+?\.so[.\d]*", str(exc))
        missing = found.group(0) if found else str(exc)
        return (f"The desk window cannot open: Qt's X11 plugin needs {missing}, which this "
                f"machine lacks.\nInstall Qt's X11 libraries with:\n\n{XCB_LIBS_HINT}\n\n"
                f"or run without a window:  {prog} --headless")
    return ""


def main(argv=None, prog: str = DEFAULT_PROG) -> int:
    """The desk (or, with --headless, the stack without a window)."""
    from engine.config.flags import from_args, given
    parser = build_parser(prog)
    ns = parser.parse_args(argv)
    try:
        config = from_args(ns)
    except ValueError as exc:
        parser.error(str(exc))
    from engine.control.headless import stack_or_exit
    plan = stack_or_exit(prog, ns, config)  # a bad stack file: one line, exit 2
    if ns.headless:
        from engine.control.headless import run_headless
        return run_headless(config, ns.duration, ns.summary, plan=plan)
    try:
        from .app import run_gui
    except ImportError as exc:
        message = missing_gui_message(exc, prog)
        print(message, file=sys.stderr)
        _show_plain_dialog(message)
        return 2
    problem = display_problem(prog=prog)
    if problem:
        print(problem, file=sys.stderr)
        _show_plain_dialog(problem)
        return 2
    if ns.demo_video:  # on ports and shared memory of its own unless given
        from engine.control.private import private_stack

        from .demo import run_demo
        return run_demo(private_stack(config, set(given(ns))), ns.demo_video)
    # the settings the user gave on the command line win over the desk's saved ones, and a
    # stack file's over both
    return run_gui(plan.config, explicit=set(given(ns)) | set(plan.stack_settings),
                   plan=plan if ns.stack or ns.on_crash or config.remote else None)


def _show_plain_dialog(message: str) -> None:
    """A double-clicked launcher has no terminal: try Tk for a visible message."""
    try:
        import tkinter
        from tkinter import messagebox
        root = tkinter.Tk()
        root.withdraw()
        messagebox.showerror("IPC Trading Desk", message)
        root.destroy()
    except Exception as exc:  # no Tk here (or no display): the message went to stderr
        print(f"(could not show it in a window either: {exc})", file=sys.stderr)
