"""The process panel: one row per process (state, pid, uptime, restarts, CPU and memory, its
restart policy, Start / Stop / Restart / Kill acting on that process alone) plus Start all
and Stop all. A running process that stops reporting reads "unresponsive"; a crashed one
carries its last log lines in the state's tooltip; one that keeps crashing under the
restart-on-crash policy reads "gave up" with the reason.

A view over the ControllerAdapter: it takes the adapter in its constructor, subscribes with
`_on_*` handlers and calls the adapter's non-blocking verbs."""
from __future__ import annotations

import sys
from typing import Dict, Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (QComboBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QScrollArea, QSizePolicy, QVBoxLayout, QWidget)

from engine.control.lifecycle import State
from engine.control.supervision import BACKOFF_CAP_S, BACKOFF_START_S, POLICIES, RETRY_LIMIT

from ..models.desk import ProcView, state_word, verbs_allowed
from . import theme

ROWS_SHOWN = 6  # process rows shown at once; more scroll
# what a kill is called where it happens
KILL_WORD = "TerminateProcess" if sys.platform == "win32" else "SIGKILL"

ROLES = {"gateway": "prices + news servers", "orderbook": "prices into shared memory",
         "strategy": "MA crossover + sentiment", "order_manager": "orders, log, confirmations"}
# what the row has room for (the whole role is its tooltip)
SHORT_ROLES = {"gateway": "prices, news", "orderbook": "prices \u2192 shm",
               "strategy": "MA + sentiment", "order_manager": "orders, log"}


def state_text(state: str, detail: str = "") -> str:
    """'crashed (exit 1)', 'crashed (killed (SIGKILL))' reads badly: a kill reads 'killed ...'."""
    if state_word(state, detail) == "killed":
        return detail
    if state in (State.CRASHED, State.STOPPED) and detail:
        return f"{state} ({detail})"
    return state


def fmt_rss(n: int) -> str:
    if n <= 0:
        return "-"
    return f"{n / (1 << 20):.0f} MB" if n >= 10 << 20 else f"{n / (1 << 20):.1f} MB"


def shown_state(v: ProcView) -> tuple:
    """(text, colour) of a row's state: its lifecycle state, or what a supervisor adds to
    it ('unresponsive' while it runs but stopped reporting, 'gave up' after its retries)."""
    if v.unresponsive_s:
        return f"unresponsive ({v.unresponsive_s:.0f} s)", theme.AMBER
    if v.state == State.CRASHED and v.auto.startswith("gave up"):
        return f"gave up ({v.detail})" if v.detail else "gave up", theme.RED
    return state_text(v.state, v.detail), theme.STATE_COLORS.get(v.state, theme.GREY)


def fmt_uptime(seconds: float) -> str:
    if seconds <= 0:
        return "-"
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ElidedLabel(QLabel):
    """A label that, short of room, ends its text with '...' instead of cutting it to a
    letter, and asks for no room of its own (a small screen gives it what is left; the
    whole text is its tooltip)."""

    def minimumSizeHint(self):
        hint = super().minimumSizeHint()
        hint.setWidth(0)
        return hint

    def paintEvent(self, ev) -> None:  # a C++ virtual: nothing here raises
        from PySide6.QtGui import QPainter
        p = QPainter(self)
        p.setPen(self.palette().color(self.foregroundRole()))
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                             self.width())
        p.drawText(self.rect(), int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), text)


class ClickLabel(QLabel):
    """A label that says when it is clicked (a process's title selects it)."""
    clicked = Signal()

    def mousePressEvent(self, ev) -> None:  # a C++ virtual: nothing here raises
        self.clicked.emit()


class ProcessRow:
    """The widgets of one process row (kept together so tests can click them)."""

    def __init__(self, name: str, panel: "ProcessPanel"):
        self.name = name
        model = panel.adapter.model
        title, role = model.title(name), model.role(name)
        self.role_name = role
        self.external = model.is_external(name)
        self.what = ROLES.get(role, "") + (
            f"; another team's program: {' '.join(model.entry(name).command or ())}"
            if self.external else "")
        self.short = ("ext. \u00b7 " if self.external else "") + SHORT_ROLES.get(role, "")
        self.title = ClickLabel(title)
        self.title.setObjectName("heading")
        self.title.setToolTip(self.what + "\n(click: its settings)")
        self.title.setCursor(Qt.CursorShape.PointingHandCursor)
        self.title.clicked.connect(lambda: panel.processSelected.emit(name))
        if self.external:  # its row's menu (right click): Check... against the contract
            check = QAction("Check\u2026", self.title)
            check.setStatusTip("Check it against the assignment's contract: a report card")
            check.triggered.connect(lambda: panel.checkRequested.emit(name))
            self.title.addAction(check)
            self.title.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
            self.title.setToolTip(self.what + "\n(click: its settings; right click: Check\u2026)")
        self.role = ElidedLabel(self.short)
        self.role.setObjectName("muted")
        self.role.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.state = QLabel()
        self.state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.state.setMinimumWidth(120)
        self.pid = QLabel("-")
        self.uptime = QLabel("-")
        self.restarts = QLabel("0")
        self.cpu = QLabel("-")
        self.rss = QLabel("-")
        self.cpu.setToolTip("CPU of one core, between its last two reports (it measures its "
                            "own CPU time every 0.5 s)")
        self.rss.setToolTip("Resident memory now, as the process reports it every 0.5 s")
        for w in (self.pid, self.uptime, self.restarts, self.cpu, self.rss):
            w.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            w.setFont(theme.mono_font())
        self.policy = QComboBox()
        self.policy.addItems(POLICIES)
        self.policy.setToolTip(
            f"Restart {title} when it crashes: after {BACKOFF_START_S:g} s, each next time "
            f"twice as long (at most {BACKOFF_CAP_S:g} s), giving up after {RETRY_LIMIT} "
            f"restarts in a row that crash again; a Stop or Kill from here is never undone")
        self.policy.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.policy.currentTextChanged.connect(
            lambda text: panel.adapter.set_restart_policy(name, text))
        self.start = QPushButton("Start")
        self.stop = QPushButton("Stop")
        self.restart = QPushButton("Restart")
        self.kill = QPushButton("Kill")
        self.kill.setObjectName("danger")
        for b in (self.start, self.stop, self.restart, self.kill):
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            b.setMinimumWidth(max(48, b.sizeHint().width()))  # its word whole, never "esta"
        self.start.setToolTip(f"Start {title} alone")
        self.stop.setToolTip(f"Stop {title} alone (the others keep running)")
        self.restart.setToolTip(f"Stop {title}, then start it again")
        self.kill.setToolTip(f"Kill {title} at once ({KILL_WORD}): no chance to clean up, "
                             f"as a crash would")
        self.start.clicked.connect(lambda: panel.adapter.start(name))
        self.stop.clicked.connect(lambda: panel.adapter.stop(name))
        self.restart.clicked.connect(lambda: panel.adapter.restart(name))
        self.kill.clicked.connect(lambda: panel.adapter.kill(name))
        self.state_name = State.STOPPED
        self.detail = ""  # how its last run ended ('killed (SIGKILL)', 'exit 1')
        self.shown = ""  # the state text as shown (it may say unresponsive or gave up)
        self.exitcode = None

    def set_state(self, state: str, pid, exitcode, detail: str = "") -> None:
        self.state_name = state
        self.detail = detail
        self.exitcode = exitcode
        self._paint(state_text(state, detail), theme.STATE_COLORS.get(state, theme.GREY))
        if pid and state in (State.STARTING, State.RUNNING, State.STOPPING):
            self.pid.setText(str(pid))
        elif state in (State.STOPPED, State.CRASHED):
            self.pid.setText("-")
        for verb, allowed in verbs_allowed(state).items():
            getattr(self, verb).setEnabled(allowed)

    def show_view(self, v: ProcView) -> None:
        """The clock's refresh: figures, and what a supervisor adds to the state."""
        self.uptime.setText(fmt_uptime(v.uptime))
        self.restarts.setText(str(v.restarts))
        self.cpu.setText(f"{v.cpu_percent:.1f} %" if v.state == State.RUNNING else "-")
        self.rss.setText(fmt_rss(v.rss_bytes))
        text, color = shown_state(v)
        if text != self.shown:
            self._paint(text, color)
        note = v.auto or (f"no report for {v.unresponsive_s:.0f} s (frozen, or stuck in a "
                          f"call)" if v.unresponsive_s else "")
        self.role.setText(note or self.short)
        self.role.setToolTip(note or self.what)
        self.role.setStyleSheet(f"QLabel {{ color: {color if note else theme.MUTED}; }}")
        tip = self.what
        if v.state == State.CRASHED and v.last_lines:
            tip = "Its last log lines:\n" + "\n".join(v.last_lines)
        self.state.setToolTip(tip)
        if self.policy.currentText() != v.policy:
            self.policy.blockSignals(True)
            self.policy.setCurrentText(v.policy)
            self.policy.blockSignals(False)

    def _paint(self, text: str, color: str) -> None:
        self.shown = text
        self.state.setText("\u25cf  " + text)
        c = QColor(color)
        rgb = f"{c.red()}, {c.green()}, {c.blue()}"
        self.state.setStyleSheet(
            f"QLabel {{ color: {color}; background: rgba({rgb}, 0.13); border: 1px solid "
            f"rgba({rgb}, 0.45); border-radius: 9px; padding: 1px 8px; font-weight: 600; }}")


class ProcessPanel(QWidget):
    processSelected = Signal(str)  # a process's title was clicked
    checkRequested = Signal(str)   # Check... in an external process's row menu

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

        self.outer = outer
        # the rows scroll past ROWS_SHOWN (ten Strategies must not push the charts away)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.card = self._process_grid()
        self.scroll.setWidget(self.card)
        outer.addWidget(self.scroll)
        self._fit_rows()
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        adapter.stateChanged.connect(self._on_state_changed)
        adapter.configChanged.connect(self._on_config_changed)
        adapter.rosterChanged.connect(self._on_roster_changed)
        # the palette changed: the rows again, their states' pills in its colours
        theme.notifier().changed.connect(self._on_roster_changed)
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
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        for col, text in enumerate(("Process", "", "State", "PID", "Uptime", "Restarts",
                                    "CPU", "Memory", "On crash")):
            h = QLabel(text)
            h.setObjectName("muted")
            if 3 <= col <= 7:
                h.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(h, 0, col)
        model = self.adapter.model
        for r, name in enumerate(model.shown(), start=1):
            if model.is_remote(name):  # runs on another machine: shown, never started here
                self.remote[name] = self._remote_row(grid, r, name)
                continue
            row = ProcessRow(name, self)
            self.rows[name] = row
            for col, w in enumerate((row.title, row.role, row.state, row.pid, row.uptime,
                                     row.restarts, row.cpu, row.rss, row.policy)):
                grid.addWidget(w, r, col)
            buttons = QHBoxLayout()
            buttons.setSpacing(4)
            for b in (row.start, row.stop, row.restart, row.kill):
                buttons.addWidget(b)
            grid.addLayout(buttons, r, 9)
        grid.setColumnStretch(1, 1)
        return card

    def _fit_rows(self) -> None:
        """As tall as its rows, up to ROWS_SHOWN of them; more scroll."""
        grid = self.card.layout()
        self.card.adjustSize()
        rows = len(self.rows) + len(self.remote)
        per_row = max(self.card.sizeHint().height() - grid.contentsMargins().top()
                      - grid.contentsMargins().bottom(), 1) / max(rows + 1, 1)
        shown = min(rows, ROWS_SHOWN) + 1  # (and the header)
        height = int(per_row * shown) + grid.contentsMargins().top() \
            + grid.contentsMargins().bottom() + 2
        self.scroll.setMinimumHeight(min(height, self.card.sizeHint().height()))
        self.scroll.setMaximumHeight(height if rows > ROWS_SHOWN
                                     else self.card.sizeHint().height())

    def _remote_row(self, grid: QGridLayout, r: int, name: str) -> QLabel:
        title = QLabel(self.adapter.model.title(name))
        title.setObjectName("heading")
        role = QLabel(f"{ROLES.get(self.adapter.model.role(name), '')} "
                      f"(on {self.adapter.config.host})")
        role.setObjectName("muted")
        state = QLabel("\u25cb  remote")
        state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        state.setToolTip(f"{title.text()} runs on {self.adapter.config.host} "
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
            row.show_view(self.adapter.view(name))
        self._update_summary()

    def _on_config_changed(self, _config) -> None:
        self._sync_all()

    def _on_roster_changed(self) -> None:
        """Processes came or went: the rows again, one a process of the stack."""
        self.rows.clear()
        self.remote.clear()
        self.card = self._process_grid()
        self.scroll.setWidget(self.card)  # (the old card is deleted with it)
        self._fit_rows()
        self._sync_all()

    def _on_clock(self) -> None:
        for name, row in self.rows.items():
            row.show_view(self.adapter.view(name))

    def _sync_all(self) -> None:
        for name, row in self.rows.items():
            v = self.adapter.view(name)
            row.set_state(v.state, v.pid, None, v.detail)
        self._on_clock()
        self._update_summary()

    def _update_summary(self) -> None:
        states = [r.state_name for r in self.rows.values()]
        words = [state_word(r.state_name, r.detail) for r in self.rows.values()]
        text = f"{words.count('running')} of {len(words)} running"
        if self.remote:
            text += f"  \u00b7  {len(self.remote)} remote"
        for word in ("crashed", "killed"):  # as each row says it
            if word in words:
                text += (f"  \u00b7  <span style='color:{theme.RED}'>{words.count(word)} "
                         f"{word}</span>")
        self.summary.setText(text)
        self.start_all.setEnabled(any(s in (State.STOPPED, State.CRASHED) for s in states))
        self.stop_all.setEnabled(any(s in (State.STARTING, State.RUNNING, State.WAITING)
                                     for s in states))

    # -- for tests ----------------------------------------------------------------------
    def state_of(self, name: str) -> str:
        return self.rows[name].state_name

    def state_label(self, name: str) -> str:
        return self.rows[name].state.text()

    def refresh(self) -> None:
        """What the clock does twice a second, now (tests, and after a verb)."""
        self._on_clock()
