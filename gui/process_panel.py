"""The process panel: one row per process (state, pid, uptime, restarts, Start / Stop /
Restart acting on that process alone) plus Start all and Stop all.

A view over the ControllerAdapter: it takes the adapter in its constructor, subscribes with
`_on_*` handlers and calls the adapter's non-blocking verbs."""
from __future__ import annotations

from typing import Dict, Optional

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QSizePolicy, QVBoxLayout, QWidget)

from . import theme
from .model import PROCESS_NAMES, TITLES, State

ROLES = {"gateway": "prices + news servers", "orderbook": "prices into shared memory",
         "strategy": "MA crossover + sentiment", "order_manager": "orders, log, confirmations"}


def state_text(state: str, detail: str = "") -> str:
    """'crashed (exit 1)', 'crashed (killed (SIGKILL))' reads badly: a kill reads 'killed ...'."""
    if state == State.CRASHED and detail.startswith("killed"):
        return detail
    if state in (State.CRASHED, State.STOPPED) and detail:
        return f"{state} ({detail})"
    return state


def fmt_uptime(seconds: float) -> str:
    if seconds <= 0:
        return "-"
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProcessRow:
    """The widgets of one process row (kept together so tests can click them)."""

    def __init__(self, name: str, panel: "ProcessPanel"):
        self.name = name
        self.title = QLabel(TITLES.get(name, name))
        self.title.setObjectName("heading")
        self.title.setToolTip(ROLES.get(name, ""))
        self.role = QLabel(ROLES.get(name, ""))
        self.role.setObjectName("muted")
        self.role.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.state = QLabel()
        self.state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.state.setMinimumWidth(120)
        self.pid = QLabel("-")
        self.uptime = QLabel("-")
        self.restarts = QLabel("0")
        for w in (self.pid, self.uptime, self.restarts):
            w.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            w.setFont(theme.mono_font())
        self.start = QPushButton("Start")
        self.stop = QPushButton("Stop")
        self.restart = QPushButton("Restart")
        for b in (self.start, self.stop, self.restart):
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            b.setMinimumWidth(56)
        self.start.setToolTip(f"Start {TITLES.get(name, name)} alone")
        self.stop.setToolTip(f"Stop {TITLES.get(name, name)} alone (the others keep running)")
        self.restart.setToolTip(f"Stop {TITLES.get(name, name)}, then start it again")
        self.start.clicked.connect(lambda: panel.adapter.start(name))
        self.stop.clicked.connect(lambda: panel.adapter.stop(name))
        self.restart.clicked.connect(lambda: panel.adapter.restart(name))
        self.state_name = State.STOPPED
        self.exitcode = None

    def set_state(self, state: str, pid, exitcode, detail: str = "") -> None:
        self.state_name = state
        self.exitcode = exitcode
        color = theme.STATE_COLORS.get(state, theme.GREY)
        self.state.setText("\u25cf  " + state_text(state, detail))
        c = QColor(color)
        rgb = f"{c.red()}, {c.green()}, {c.blue()}"
        self.state.setStyleSheet(
            f"QLabel {{ color: {color}; background: rgba({rgb}, 0.13); border: 1px solid "
            f"rgba({rgb}, 0.45); border-radius: 9px; padding: 1px 8px; font-weight: 600; }}")
        if pid and state in (State.STARTING, State.RUNNING, State.STOPPING):
            self.pid.setText(str(pid))
        elif state in (State.STOPPED, State.CRASHED):
            self.pid.setText("-")
        busy = state in (State.STARTING, State.RUNNING)
        self.start.setEnabled(state in (State.STOPPED, State.CRASHED))
        self.stop.setEnabled(busy)
        self.restart.setEnabled(state != State.STOPPING)


class ProcessPanel(QWidget):
    def __init__(self, adapter, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.adapter = adapter
        self.rows: Dict[str, ProcessRow] = {}
        self.remote: Dict[str, QLabel] = {}  # --remote processes: their state labels

        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 6, 8, 6)
        outer.setSpacing(6)

        top = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setObjectName("heading")
        self.start_all = QPushButton("\u25b6  Start all")
        self.start_all.setObjectName("primary")
        self.stop_all = QPushButton("\u25a0  Stop all")
        self.stop_all.setObjectName("danger")
        self.start_all.clicked.connect(self.adapter.start_all)
        self.stop_all.clicked.connect(self.adapter.stop_all)
        top.addWidget(self.summary)
        top.addStretch(1)
        top.addWidget(self.start_all)
        top.addWidget(self.stop_all)
        outer.addLayout(top)

        outer.addWidget(self._process_grid())
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        adapter.stateChanged.connect(self._on_state_changed)
        adapter.configChanged.connect(self._on_config_changed)
        self._sync_all()

        self.clock = QTimer(self)
        self.clock.setInterval(500)
        self.clock.timeout.connect(self._on_clock)
        self.clock.start()

    def _process_grid(self) -> QFrame:
        """A card with one row a process: title, role, state, PID, uptime, restarts and
        its Start/Stop/Restart buttons."""
        card = QFrame()
        card.setObjectName("card")
        grid = QGridLayout(card)
        grid.setContentsMargins(10, 6, 10, 6)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(4)
        for col, text in enumerate(("Process", "", "State", "PID", "Uptime", "Restarts")):
            h = QLabel(text)
            h.setObjectName("muted")
            if col >= 3:
                h.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(h, 0, col)
        remote = self.adapter.config.remote
        for r, name in enumerate(PROCESS_NAMES, start=1):
            if name in remote:  # runs on another machine: shown, never started from here
                self.remote[name] = self._remote_row(grid, r, name)
                continue
            row = ProcessRow(name, self)
            self.rows[name] = row
            for col, w in enumerate((row.title, row.role, row.state, row.pid, row.uptime,
                                     row.restarts)):
                grid.addWidget(w, r, col)
            buttons = QHBoxLayout()
            buttons.setSpacing(4)
            for b in (row.start, row.stop, row.restart):
                buttons.addWidget(b)
            grid.addLayout(buttons, r, 6)
        grid.setColumnStretch(1, 1)
        return card

    def _remote_row(self, grid: QGridLayout, r: int, name: str) -> QLabel:
        title = QLabel(TITLES.get(name, name))
        title.setObjectName("heading")
        role = QLabel(f"{ROLES.get(name, '')} (on {self.adapter.config.host})")
        role.setObjectName("muted")
        state = QLabel("\u25cb  remote")
        state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        state.setToolTip(f"{TITLES.get(name, name)} runs on {self.adapter.config.host} "
                         f"(--remote): this desk neither starts nor stops it")
        state.setStyleSheet(
            f"QLabel {{ color: {theme.ACCENT}; border: 1px solid {theme.ACCENT}; border-radius: "
            f"9px; padding: 1px 8px; font-weight: 600; }}")
        for col, w in enumerate((title, role, state)):
            grid.addWidget(w, r, col)
        return state

    # -- handlers -----------------------------------------------------------------------
    def _on_state_changed(self, name: str, state: str, pid, exitcode, detail: str) -> None:
        row = self.rows.get(name)
        if row is not None:
            row.set_state(state, pid, exitcode, detail)
        self._update_summary()

    def _on_config_changed(self, _config) -> None:
        self._sync_all()

    def _on_clock(self) -> None:
        for name, row in self.rows.items():
            v = self.adapter.view(name)
            row.uptime.setText(fmt_uptime(v.uptime))
            row.restarts.setText(str(v.restarts))

    def _sync_all(self) -> None:
        for name, row in self.rows.items():
            v = self.adapter.view(name)
            row.set_state(v.state, v.pid, None, v.detail)
        self._on_clock()
        self._update_summary()

    def _update_summary(self) -> None:
        states = [r.state_name for r in self.rows.values()]
        running = states.count(State.RUNNING)
        crashed = states.count(State.CRASHED)
        text = f"{running} of {len(states)} running"
        if self.remote:
            text += f"  \u00b7  {len(self.remote)} remote"
        if crashed:
            text += f"  \u00b7  <span style='color:{theme.RED}'>{crashed} crashed</span>"
        self.summary.setText(text)
        self.start_all.setEnabled(any(s in (State.STOPPED, State.CRASHED) for s in states))
        self.stop_all.setEnabled(any(s in (State.STARTING, State.RUNNING) for s in states))

    # -- for tests ----------------------------------------------------------------------
    def state_of(self, name: str) -> str:
        return self.rows[name].state_name

    def state_label(self, name: str) -> str:
        return self.rows[name].state.text()
