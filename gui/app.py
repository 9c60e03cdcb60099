"""`python launcher.py` (no --headless): the desk window.

run_gui(config) starts a session (a folder of its own under the log folder), creates the
QApplication and the window over one ProcessController (the four, or a stack file's), runs the event loop and, whatever
happens, closes the controller on the way out (every child stopped, the shared memory
unlinked) and writes the session's summary.json. Saved settings are defaults: a flag given on the command line
wins over them."""
from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import AbstractSet, Optional, Sequence

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from engine.config.saved import merge_saved
from engine.config.schema import Config
from engine.config.stack import StackPlan
from engine.control.summary import run_summary
from engine.platforms.oscompat import on_console_close, stop_signals
from engine.records.sessions import start_session, write_summary
from gui.models.desk import DeskModel
from gui.sources.controller import ControllerAdapter
from gui.views.settings_panel import APPLICATION, ORGANIZATION, load_saved
from gui.views.theme import apply_theme
from gui.window.main_window import MainWindow


ICON = Path(__file__).resolve().parent / "resources" / "ipcdesk.svg"


def app_icon():
    """The desk's icon (gui/resources/ipcdesk.svg) at the sizes a window, a taskbar and a
    dock ask for, rendered by QtSvg (no image plugin needed); an empty icon if it is gone."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QIcon, QPainter, QPixmap
    from PySide6.QtSvg import QSvgRenderer
    icon = QIcon()
    renderer = QSvgRenderer(str(ICON))
    if not renderer.isValid():
        return icon
    for size in (16, 24, 32, 48, 64, 128, 256):
        pm = QPixmap(size, size)
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        renderer.render(painter)
        painter.end()
        icon.addPixmap(pm)
    return icon


def make_app(argv: Optional[Sequence[str]] = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
        app.setOrganizationName(ORGANIZATION)
        app.setApplicationName(APPLICATION)
        app.setApplicationDisplayName("IPC Trading Desk")
    app.setDesktopFileName("ipcdesk")  # Linux: the .desktop entry whose icon it shows
    if app.windowIcon().isNull():
        app.setWindowIcon(app_icon())  # every window's, the taskbar's and the dock's
    apply_theme(app)
    return app


def build_desk(config: Config, settings: Optional[QSettings] = None,
               explicit: AbstractSet[str] = frozenset(), fps: int = 30,
               plan: Optional[StackPlan] = None):
    """The adapter and the window over the stack `plan` (default: the four), with saved
    settings merged under the command line: the fields in `explicit` (given as flags, or by
    the stack file) keep their value. (Used by run_gui, the screenshot script and the
    tests.)"""
    if settings is not None:
        config = merge_saved(config, load_saved(settings), set(explicit))
    adapter = ControllerAdapter(DeskModel(config, plan=plan))
    window = MainWindow(adapter, settings, fps=fps)
    return adapter, window


def run_gui(config: Config, explicit: AbstractSet[str] = frozenset(),
            settings: Optional[QSettings] = None, plan: Optional[StackPlan] = None) -> int:
    app = make_app()
    if settings is None:
        settings = QSettings(ORGANIZATION, APPLICATION)
    # this launch is a session: its own folder under the log folder (engine/session.py)
    session = start_session(config.log_dir)
    config = config.replace(log_dir=str(session))
    adapter, window = build_desk(config, settings, explicit, plan=plan)
    window.show()

    # Ctrl+C in the terminal, Ctrl+Break, SIGTERM and SIGHUP (a logout, `kill`), and on
    # Windows closing the console window, close the window the normal way (ordered stop).
    # Python runs signal handlers only between bytecodes, and the console handler runs on a
    # thread of its own: a timer on the GUI thread acts on the request.
    close_requested = threading.Event()
    stopped = threading.Event()
    old = {}
    for signum in stop_signals():
        try:
            old[signum] = signal.signal(signum, lambda *_: close_requested.set())
        except ValueError:  # not the main thread
            break
    on_console_close(close_requested.set, stopped)

    def act_on_request():
        if close_requested.is_set():  # once per request: a second one forces the stop
            close_requested.clear()
            window.close()

    tick = QTimer()
    tick.timeout.connect(act_on_request)
    tick.start(200)
    try:
        code = app.exec()
    finally:
        tick.stop()
        for signum, handler in old.items():
            signal.signal(signum, handler)
        adapter.close()  # idempotent: nothing left after a normal close
        stopped.set()
        try:  # the session's summary, as --headless writes it
            write_summary(session, dict(run_summary(adapter.controller), session=str(session)))
        except OSError as exc:
            print(f"desk: the session summary could not be written: {exc}", file=sys.stderr)
    return code
