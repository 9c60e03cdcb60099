"""Live logs: one bounded, level-coloured pane per process (tabs), plus a Desk pane for the
launcher's own messages. Lines are buffered and appended in one edit every 100 ms (to the pane
on screen; a hidden one when its tab is shown), never one repaint per line; each pane keeps at most `max_lines` blocks (QPlainTextEdit drops the oldest).
The full logs are in <log_dir>/<name>.log, written by the processes themselves; "Open log
folder" shows that folder in the file manager."""
from __future__ import annotations

import logging
import time
from collections import deque
from typing import Deque, Dict, Optional

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QPushButton, QTabWidget, QWidget

from . import theme
from .model import PROCESS_NAMES, TITLES

MAX_LINES = 3000
FLUSH_MS = 100
DESK = "launcher"

LEVEL_COLORS = {logging.DEBUG: theme.MUTED, logging.INFO: theme.TEXT,
                logging.WARNING: "#e3b341", logging.ERROR: theme.RED,
                logging.CRITICAL: theme.RED}


def level_color(level: int) -> str:
    if level >= logging.ERROR:
        return LEVEL_COLORS[logging.ERROR]
    if level >= logging.WARNING:
        return LEVEL_COLORS[logging.WARNING]
    if level >= logging.INFO:
        return LEVEL_COLORS[logging.INFO]
    return LEVEL_COLORS[logging.DEBUG]


class LogPane(QPlainTextEdit):
    def __init__(self, max_lines: int = MAX_LINES, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(max_lines)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(theme.mono_font())
        self.setUndoRedoEnabled(False)
        self.pending: Deque[tuple] = deque(maxlen=max_lines)
        self.dropped = 0
        self.worst = 0  # highest level since the tab was last looked at
        self._formats: Dict[str, QTextCharFormat] = {}
        self._time_fmt = self._fmt(theme.GREY)

    def _fmt(self, color: str) -> QTextCharFormat:
        f = self._formats.get(color)
        if f is None:
            f = QTextCharFormat()
            f.setForeground(QColor(color))
            self._formats[color] = f
        return f

    def queue(self, level: int, text: str, t: float) -> None:
        if len(self.pending) == self.pending.maxlen:
            self.dropped += 1
        self.pending.append((level, text, t))

    def flush(self) -> int:
        if not self.pending and not self.dropped:
            return 0
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 2
        doc = self.document()
        cur = QTextCursor(doc)
        cur.movePosition(QTextCursor.MoveOperation.End)
        cur.beginEditBlock()
        first = doc.isEmpty()
        n = 0
        if self.dropped:
            cur.insertText(f"... {self.dropped} older lines skipped (see the .log file)",
                           self._fmt(theme.MUTED))
            first = False
            self.dropped = 0
        while self.pending:
            level, text, t = self.pending.popleft()
            if not first:
                cur.insertBlock()
            first = False
            stamp = time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d} "
            cur.insertText(stamp, self._time_fmt)
            tag = "" if level == logging.INFO else f"{logging.getLevelName(level)}: "
            cur.insertText(tag + text, self._fmt(level_color(level)))
            n += 1
        cur.endEditBlock()
        if at_bottom:
            bar.setValue(bar.maximum())
        return n

    def lines(self) -> int:
        return self.document().blockCount()


class LogView(QTabWidget):
    def __init__(self, adapter, max_lines: int = MAX_LINES, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.adapter = adapter
        self.panes: Dict[str, LogPane] = {}
        for name in PROCESS_NAMES + (DESK,):
            pane = LogPane(max_lines)
            self.panes[name] = pane
            self.addTab(pane, self._title(name))
        self.currentChanged.connect(self._on_current_changed)
        self.folder_button = QPushButton("Open log folder")
        self.folder_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.folder_button.clicked.connect(self.open_log_folder)
        self.setCornerWidget(self.folder_button, Qt.Corner.TopRightCorner)
        for name in adapter.config.remote:  # its log is where it runs
            self.panes[name].queue(logging.INFO, f"{TITLES.get(name, name)} runs on "
                                   f"{adapter.config.host} (--remote): its log is in the log "
                                   f"folder of that machine", time.time())
        self._on_config_changed(adapter.config)
        adapter.configChanged.connect(self._on_config_changed)
        adapter.logLine.connect(self._on_log_line)
        self.timer = QTimer(self)
        self.timer.setInterval(FLUSH_MS)
        self.timer.timeout.connect(self.flush_shown)
        self.timer.start()

    def log_folder(self) -> Path:
        return Path(self.adapter.config.log_dir)

    def _on_config_changed(self, config) -> None:
        self.folder_button.setToolTip(f"Every process's full log and orders.jsonl: "
                                      f"{config.log_dir}")

    def open_log_folder(self) -> bool:
        """Show the log folder in the platform's file manager (made if not there yet)."""
        folder = self.log_folder()
        folder.mkdir(parents=True, exist_ok=True)
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    @staticmethod
    def _title(name: str) -> str:
        return "Desk" if name == DESK else TITLES.get(name, name)

    def _on_log_line(self, name: str, level: int, text: str, t: float) -> None:
        pane = self.panes.get(name) or self.panes[DESK]
        if pane is self.panes[DESK] and name != DESK:
            text = f"[{name}] {text}"
        pane.queue(level, text, t)
        if level >= logging.WARNING and level > pane.worst and \
                self.currentWidget() is not pane:
            pane.worst = level
            i = self.indexOf(pane)
            self.tabBar().setTabTextColor(i, QColor(level_color(level)))
            self.setTabText(i, self._title(name if name in self.panes else DESK) + " \u25cf")

    def _on_current_changed(self, i: int) -> None:
        pane = self.widget(i)
        if isinstance(pane, LogPane):
            pane.flush()
        if isinstance(pane, LogPane) and pane.worst:
            pane.worst = 0
            self.tabBar().setTabTextColor(i, QColor(theme.TEXT))
            name = next(n for n, p in self.panes.items() if p is pane)
            self.setTabText(i, self._title(name))

    def flush(self) -> int:
        return sum(p.flush() for p in self.panes.values())

    def flush_shown(self) -> int:
        """The timer's flush: the pane on screen only. A hidden pane keeps its newest lines
        (at most max_lines, counting what it had to skip) until its tab is shown, so a
        universe's thousands of order lines a second cost nothing while nobody reads them."""
        pane = self.currentWidget()
        return pane.flush() if isinstance(pane, LogPane) else 0

    def text(self, name: str) -> str:
        self.flush()
        return self.panes[name].toPlainText()
