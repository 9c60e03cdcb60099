"""The thin Qt adapter over the controller model: a QTimer calls poll() and the controller's
typed events come out as Qt signals. Views take the adapter in their constructor and connect
`_on_*` handlers; they never touch the multiprocessing side themselves.

Every verb returns at once (stop without waiting; restart = stop, then start when the child is
gone, finished by the next poll), so the GUI thread never blocks on a child.
"""
from __future__ import annotations

import logging
import time
import traceback
from typing import Callable, Optional

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from engine.config.saved import saved_text
from engine.config.schema import Config, settings_fields
from engine.control.events import LogLine, StateChanged, StatsUpdate
from engine.control.lifecycle import State
from gui.models.desk import DeskModel, ProcView

POLL_MS = 50


class ControllerAdapter(QObject):
    # name, state, pid (int or None), exit code (int or None), how it ended ("" while alive)
    stateChanged = Signal(str, str, object, object, str)
    # name, level (logging level), text, time (epoch seconds)
    logLine = Signal(str, int, str, float)
    # name, engine.stats.Stats
    statsUpdated = Signal(str, object)
    # the Config the next start uses (after a settings change)
    configChanged = Signal(object)
    # a verb failed (e.g. shared memory in use, invalid settings): one line for the user
    errorOccurred = Signal(str)
    # the stack's processes changed (one added or removed, another stack opened): the
    # views that list processes list them again
    rosterChanged = Signal()

    def __init__(self, model, parent: Optional[QObject] = None, poll_ms: int = POLL_MS):
        super().__init__(parent)
        self.model: DeskModel = model if isinstance(model, DeskModel) else DeskModel(model)
        self.model.subscribe(self._on_event)
        self._config_provider: Optional[Callable[[], Config]] = None
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self.poll)
        self.timer.start()
        self.polls = 0
        self.closed = False

    # -- views of the model -----------------------------------------------------------------
    @property
    def controller(self):
        return self.model.ctl

    @property
    def config(self) -> Config:
        return self.model.config

    def state(self, name: str) -> Optional[State]:
        return self.model.state(name)

    def view(self, name: str) -> ProcView:
        """What a view shows of one process (state, pid, uptime, restarts, how it ended)."""
        return self.model.view(name)

    @property
    def price_book(self):
        """The shared price book (None before the first start)."""
        return self.model.ctl.memory.book

    @property
    def signal_book(self):
        """The Strategy's shared signal book (None before the first start)."""
        return self.model.ctl.memory.signal_book

    def any_active(self) -> bool:
        return self.model.any_active()

    # -- the pump ---------------------------------------------------------------------------
    def poll(self) -> None:
        if self.closed:
            return
        self.polls += 1
        try:
            self.model.poll()
        except Exception as exc:  # never let one bad event kill the timer
            self._fail(f"poll failed: {exc}", exc)

    def _on_event(self, ev) -> None:
        if self.closed:  # the final blocking close: the views may be gone
            return
        if isinstance(ev, StateChanged):
            self.stateChanged.emit(ev.name, ev.state, ev.pid, ev.exitcode, ev.detail)
        elif isinstance(ev, LogLine):
            self.logLine.emit(ev.name, int(ev.level), ev.text, float(ev.time))
        elif isinstance(ev, StatsUpdate):
            self.statsUpdated.emit(ev.name, ev.stats)

    def _fail(self, message: str, exc: Optional[BaseException] = None) -> None:
        if exc is not None and not isinstance(exc, (ValueError, RuntimeError, OSError)):
            message += "\n" + "".join(traceback.format_exception(exc)).rstrip()
        self.logLine.emit("launcher", logging.ERROR, message, time.time())
        self.errorOccurred.emit(message.splitlines()[0])

    # -- settings ---------------------------------------------------------------------------
    def set_config_provider(self, provider: Optional[Callable[[], Config]]) -> None:
        """provider() returns the Config the next start should use (raises ValueError for an
        invalid one). Applied before a start while every process is stopped."""
        self._config_provider = provider

    def apply_pending_config(self) -> bool:
        """Replace the controller when the settings changed and all processes are stopped.
        False (and an error signal) when the settings are invalid."""
        if self._config_provider is None or self.model.any_active():
            return True
        try:
            cfg = self._config_provider()
        except ValueError as exc:
            self._fail(f"settings not applied: {exc}")
            return False
        if cfg is None or cfg == self.model.config:
            return True
        return self.replace_config(cfg)

    def replace_config(self, config: Config) -> bool:
        try:
            changed = self.model.replace_config(config)
        except (RuntimeError, ValueError) as exc:
            self._fail(str(exc))
            return False
        if changed:
            self.logLine.emit("launcher", logging.INFO,
                              "settings applied: " + ", ".join(
                                  f"{k}={v}" for k, v in _settings_text(config)),
                              time.time())
            self.configChanged.emit(config)
        return True

    def say(self, text: str) -> None:
        """A line of the desk's own in its Desk log pane: what the user did from the desk
        (starts, stops, kills, exports, recordings), so the log tells the whole story."""
        self.logLine.emit("launcher", logging.INFO, text, time.time())

    # -- verbs (never block) ----------------------------------------------------------------
    def _do(self, what: str, fn, *args) -> None:
        self.say(what[:1].upper() + what[1:])
        try:
            fn(*args)
        except Exception as exc:
            self._fail(f"{what} failed: {exc}", exc)
        self.poll()  # report the new states at once

    def start(self, name: str) -> None:
        if self.apply_pending_config():
            self._do(f"start {self.model.title(name)}", self.model.start, name)

    def stop(self, name: str) -> None:
        self._do(f"stop {self.model.title(name)}", self.model.stop, name)

    def restart(self, name: str) -> None:
        if self.apply_pending_config():
            self._do(f"restart {self.model.title(name)}", self.model.restart, name)

    def kill(self, name: str) -> None:
        self._do(f"kill {self.model.title(name)}", self.model.kill, name)

    def set_restart_policy(self, name: str, policy: str) -> None:
        self._do(f"restart policy of {name}", self.model.set_restart_policy, name, policy)

    def start_all(self) -> None:
        if self.apply_pending_config():
            self._do("start all", self.model.start_all)

    def stop_all(self) -> None:
        self._do("stop all", self.model.stop_all)

    # -- the stack (never blocks) -------------------------------------------------------------
    def add_process(self, entry, start: bool = True) -> bool:
        """A process added to the running stack (and started unless told); False, with the
        reason said, when it cannot be (a name taken, settings that do not fit)."""
        try:
            self.model.add_process(entry, start=False)
        except (ValueError, RuntimeError) as exc:
            self._fail(f"cannot add {entry.name}: {exc}")
            return False
        self.rosterChanged.emit()
        if start:
            self.start(entry.name)
        return True

    def update_process(self, entry) -> bool:
        """New settings of a stopped process (its own, over the stack's)."""
        try:
            self.model.update_process(entry)
        except (ValueError, RuntimeError) as exc:
            self._fail(f"settings of {entry.name} not applied: {exc}")
            return False
        self.logLine.emit("launcher", logging.INFO,
                          f"settings of {entry.name}: " + (", ".join(
                              f"{k}={saved_text(v)}" for k, v in entry.settings.items())
                              or "the stack's"), time.time())
        return True

    def remove_process(self, name: str) -> bool:
        try:
            self.model.remove_process(name)
        except (KeyError, RuntimeError) as exc:
            self._fail(f"cannot remove {name}: {exc}")
            return False
        self.rosterChanged.emit()
        return True

    def save_stack(self, path) -> bool:
        """The running stack (its processes and settings) to a stack file."""
        from engine.config.stack_file import save_stack
        try:
            save_stack(self.model.plan(), path)
        except OSError as exc:
            self._fail(f"cannot save the stack to {path}: {exc.strerror or exc}")
            return False
        self.model.stack_path = str(path)
        self.logLine.emit("launcher", logging.INFO, f"stack saved to {path}", time.time())
        return True

    def open_stack(self, path) -> bool:
        """Run the stack of a file from now on (every process must be stopped): its
        processes and settings, the desk's other settings kept. A file with a mistake is
        said (file, line, key) and changes nothing."""
        from engine.config.stack_file import load_stack
        if self.model.any_active():
            self._fail("stop every process before opening another stack")
            return False
        try:
            plan = load_stack(path, base=self.config)
            self.model.open_plan(plan)
        except (ValueError, RuntimeError) as exc:  # StackFileError is a ValueError
            self._fail(str(exc))
            return False
        self.logLine.emit("launcher", logging.INFO, f"stack {path}: "
                          f"{', '.join(plan.names)}", time.time())
        self.rosterChanged.emit()  # (first: the views list the new processes, then their
        self.configChanged.emit(self.config)  # settings)
        return True

    def close(self) -> None:
        """Stop everything (blocking, escalating) and unlink the shared memory. Idempotent."""
        if self.closed:
            return
        self.timer.stop()
        self.closed = True
        self.model.close()


def _settings_text(config: Config):
    for name in settings_fields():
        yield name, saved_text(getattr(config, name))
