"""`python launcher.py --demo-video demo.mp4`: the desk plays a scripted tour of the system and
records it, with a caption for each step in a strip under the window (about 70 s):

    start all; orders arrive; stop the Gateway (the feed goes stale, the others keep running);
    start it again (prices flow); kill the OrderBook from outside (it shows crashed within a
    second, the others go on); start it again; each process's log tab; stop all; close.

Every step acts the way a user would (the same adapter verbs as the buttons; the kill comes
from outside the desk, as `kill -9` or Task Manager would) and waits for what it shows to be
true before the caption moves on (within a limit: a step that timed out is reported, and the
tour fails). It works off screen (QT_QPA_PLATFORM=offscreen): a headless machine makes the
video too. The run is a session like any launch: its logs stay in the log folder."""
from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from engine.control.lifecycle import State
from engine.platforms.oscompat import kill_from_outside

SIZE = (1400, 900)  # the window's size in the video (logical pixels), the captions under it


@dataclass
class Step:
    caption: str
    action: Optional[Callable[[], object]] = None
    hold: float = 5.0                                 # seconds shown once `until` holds
    until: Optional[Callable[[], bool]] = None        # what must be true before the hold
    limit: float = 20.0                               # ... within this many seconds


class DemoTour(QObject):
    """Plays `steps()` on `window` while its Recorder records to `path`; finished(ok, report)
    at the end (report: one line a step with its time, and the video's figures)."""

    finished = Signal(bool, list)
    # a step is about to act (index): what the screen shows now is the previous step's
    stepStarting = Signal(int)

    def __init__(self, window, path, scale: float = 1.0, parent: Optional[QObject] = None):
        super().__init__(parent or window)
        self.window, self.adapter = window, window.adapter
        self.recorder = window.record.recorder
        self.path = Path(path)
        self.scale = scale  # < 1: every hold shorter (the tests' quick tour)
        self.steps: List[Step] = self.script()
        self.report: List[str] = []
        self.failures = 0
        self.video: dict = {}
        self.index = -1
        self._step_started = self._held_since = 0.0
        self.timer = QTimer(self)
        self.timer.setInterval(100)
        self.timer.timeout.connect(self._advance)
        self.recorder.stopped.connect(lambda _path, figures: self.video.update(figures))
        self.recorder.failed.connect(self.report.append)  # why, for the command line too

    # -- the script -------------------------------------------------------------------------
    def state(self, name: str) -> State:
        return self.adapter.view(name).state

    def all_in(self, *states: State) -> bool:
        return all(self.state(n) in states for n in self.adapter.model.names)

    def orders(self) -> int:
        return self.window.session.orders

    def feed(self) -> str:
        return self.adapter.model.figures()["feed"]

    def kill_orderbook(self) -> None:
        pid = self.adapter.view("orderbook").pid
        if pid:
            kill_from_outside(pid)

    def show_log(self, name: str) -> Callable[[], None]:
        def show():
            window = self.window
            window.log_view.setCurrentWidget(window.log_view.panes[name])
            window.log_dock.raise_()  # (a tab beside the Orders at a laptop's size)
            if not window.compact():
                self.logs_height(300)  # taller while they are the subject: lines to read
        return show

    def show_map(self, shown: bool) -> Callable[[], None]:
        """The System map in front of the Orders (or the Orders again)."""
        return lambda: self.window.show_system_map(shown)

    def logs_height(self, px: int) -> None:
        self.window.resizeDocks([self.window.log_dock], [px], Qt.Orientation.Vertical)

    def stop_all(self) -> None:
        if not self.window.compact():
            self.logs_height(170)  # the charts their room again
        self.adapter.stop_all()

    def script(self) -> List[Step]:
        a, R = self.adapter, State.RUNNING
        steps = [
            Step("IPC Trading Desk: four independent processes that talk only through TCP "
                 "sockets and shared memory", hold=5),
            Step("Start all: Gateway, OrderBook, Strategy and OrderManager, each a process "
                 "of its own", a.start_all, hold=4, until=lambda: self.all_in(R)),
            Step("Orders arrive: the Strategy sends them over TCP, the OrderManager logs, "
                 "acknowledges and confirms each", hold=8, until=lambda: self.orders() >= 3,
                 limit=40),
            Step("The System map: every socket and the shared memory, live, with what "
                 "flows on each link", self.show_map(True), hold=4),
            Step("Stop the Gateway: its links go red, the feed goes stale, the other three "
                 "keep running", lambda: a.stop("gateway"), hold=6,
                 until=lambda: self.state("gateway") == State.STOPPED and
                 self.feed() == "stale"),
            Step("Start the Gateway again: the OrderBook reconnects by itself, its links "
                 "come back and prices flow", lambda: a.start("gateway"), hold=6,
                 until=lambda: self.state("gateway") == R and self.feed() == "live"),
            Step("Kill the OrderBook from outside (kill -9, Task Manager): the desk shows it "
                 "crashed, the others go on", self.kill_orderbook, hold=6,
                 until=lambda: self.state("orderbook") == State.CRASHED, limit=5),
            Step("Start the OrderBook again: a new price book, and the Strategy follows it",
                 lambda: a.start("orderbook"), hold=6,
                 until=lambda: self.state("orderbook") == R and self.feed() == "live"),
            Step("Back to the orders: every one acknowledged and logged once",
                 self.show_map(False), hold=3),
        ]
        for name in self.adapter.model.shown():
            steps.append(Step(f"Each process writes its own log: {self.adapter.model.title(name)}",
                              self.show_log(name), hold=3.5))
        steps += [
            Step("Stop all: the Strategy first, the OrderManager last, so every order is "
                 "acknowledged and logged", self.stop_all, hold=3,
                 until=lambda: not a.any_active(), limit=30),
            Step("Every order is in the session's orders.jsonl, each process's log beside it",
                 hold=4),
        ]
        return steps

    # -- playing it -------------------------------------------------------------------------
    def start(self) -> bool:
        self.started = time.monotonic()
        self.recorder.captions = True
        self.recorder.caption = f"1/{len(self.steps)}  {self.steps[0].caption}"
        if not self.recorder.start(self.path):
            self.finished.emit(False, self.report or ["the video could not be started"])
            return False
        self.timer.start()
        self._advance()
        return True

    def _next(self) -> None:
        self.index += 1
        if self.index >= len(self.steps):
            self._end()
            return
        step = self.steps[self.index]
        self.recorder.caption = f"{self.index + 1}/{len(self.steps)}  {step.caption}"
        self._step_started = time.monotonic()
        self._held_since = 0.0
        print(f"[{self._step_started - self.started:5.1f} s] {step.caption}", flush=True)
        self.stepStarting.emit(self.index)
        if step.action is not None:
            step.action()

    def _advance(self) -> None:
        if self.index < 0:
            self._next()
            return
        if self.index >= len(self.steps):
            return
        step, now = self.steps[self.index], time.monotonic()
        if not self._held_since:
            met = step.until is None or step.until()
            waited = now - self._step_started
            if not met and waited < step.limit:
                return
            if not met:
                self.failures += 1
                self.report.append(f"step {self.index + 1} did not come true within "
                                   f"{step.limit:g} s: {step.caption}")
            else:
                self.report.append(f"step {self.index + 1} at {self._step_started - self.started:.1f} s "
                                   f"({waited:.1f} s until shown): {step.caption}")
            self._held_since = now
        if now - self._held_since >= step.hold * self.scale:
            self._next()

    def _end(self) -> None:
        self.timer.stop()
        self.recorder.caption = ""
        path = self.recorder.stop()
        ok = path is not None and self.failures == 0
        self.finished.emit(ok, self.report)


def run_demo(config, out, settings=None, scale: float = 1.0) -> int:
    """The desk on `config` (a session like any launch), the tour, the video at `out`;
    0 when every step came true and the video was written."""
    from PySide6.QtCore import QSettings

    from engine.control.summary import run_summary
    from engine.records.sessions import start_session, write_summary

    from .app import build_desk, make_app

    out = Path(out).expanduser().absolute()
    app = make_app()
    session = start_session(config.log_dir)
    config = config.replace(log_dir=str(session))
    private = Path(tempfile.mkdtemp(prefix="ipcdesk-demo-"))
    adapter, window = build_desk(config, settings=None)
    # a fresh layout of the video's size: the user's saved window is neither used nor changed
    window.settings = settings or QSettings(str(private / "desk.ini"),
                                            QSettings.Format.IniFormat)
    window.resize(*SIZE)
    window.default_layout()
    result = {"ok": False, "report": []}

    def done(ok: bool, report: list) -> None:
        result.update(ok=ok, report=report)
        window.close()

    tour = DemoTour(window, out, scale=scale)
    tour.finished.connect(done)
    window.shutdownFinished.connect(app.quit)
    window.show()
    QTimer.singleShot(300, tour.start)
    try:
        app.exec()
    finally:
        adapter.close()
        shutil.rmtree(private, ignore_errors=True)
        try:
            write_summary(session, dict(run_summary(adapter.controller), session=str(session)))
        except OSError:
            pass
    for line in result["report"]:
        print(line)
    video = tour.video
    if video:
        print(f"video: {out} ({video['seconds']:.1f} s, {video['frames']} frames at "
              f"{video['fps']} frames/s, {video['width']}x{video['height']}; "
              f"{video['captured']} captured, capture {video['capture_ms']:.1f} ms a frame)")
    print(f"logs of the run: {session}")
    return 0 if result["ok"] else 1
