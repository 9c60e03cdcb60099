"""Live logs: an All pane that interleaves every process's lines by time, each prefixed by its
name in its colour (honcho's way), one bounded, level-coloured pane per process (tabs), and a
Desk pane for the launcher's own messages. Lines are buffered and appended in one edit every 100 ms (to the pane
on screen; a hidden one when its tab is shown), never one repaint per line; each pane keeps at
most `max_lines` lines (QPlainTextEdit drops the oldest).

Above the panes: a filter (text, and the lowest level shown) that applies to every pane, Pause
(the pane on screen stops moving; what arrives meanwhile waits and comes in on Resume), Clear,
Save (the pane's lines as shown, to a text file) and Open log folder. The full logs are in
<log_dir>/<name>.log, written by the processes themselves."""
from __future__ import annotations

import logging
import time
from collections import deque
from pathlib import Path
from typing import Deque, Dict, Optional

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (QComboBox, QFileDialog, QPlainTextEdit, QPushButton, QTabWidget,
                               QVBoxLayout, QWidget)

from . import theme

MAX_LINES = 3000
FLUSH_MS = 100
DESK = "launcher"
ALL = "*all*"  # the pane of every process's lines


# the level box: the lowest level a pane shows
LEVELS = (("All levels", logging.NOTSET), ("Info and up", logging.INFO),
          ("Warnings and up", logging.WARNING), ("Errors only", logging.ERROR))


class LineFilter:
    """Which lines a pane shows: those at `level` or above whose text holds `text` (any
    case). Pure, so the panes and their tests agree on what matches."""

    def __init__(self, text: str = "", level: int = logging.NOTSET):
        self.text, self.level = text.casefold(), level

    def __call__(self, level: int, text: str) -> bool:
        return level >= self.level and (not self.text or self.text in text.casefold())

    @property
    def active(self) -> bool:
        return bool(self.text) or self.level > logging.NOTSET


def level_tag(level: int) -> str:
    """The word before a line's text on screen: none for INFO, 'WARNING: ' and so on."""
    return "" if level == logging.INFO else f"{logging.getLevelName(level)}: "


def level_color(level: int) -> str:
    """A line's colour for its level, in the palette in use."""
    if level >= logging.ERROR:
        return theme.RED
    if level >= logging.WARNING:
        return theme.WARN
    return theme.TEXT if level >= logging.INFO else theme.MUTED


class LogPane(QPlainTextEdit):
    def __init__(self, max_lines: int = MAX_LINES, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(max_lines)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(theme.mono_font())
        self.setUndoRedoEnabled(False)
        self.pending: Deque[tuple] = deque(maxlen=max_lines)
        self.kept: Deque[tuple] = deque(maxlen=max_lines)  # every line shown or filtered out
        self.dropped = 0
        self.worst = 0  # highest level since the tab was last looked at
        self.filter = LineFilter()
        self.paused = False
        self.name_width = 0  # the All pane: names padded to the longest
        self._formats: Dict[str, QTextCharFormat] = {}
        self._time_fmt = self._fmt(theme.GREY)

    def restyle(self, colors: Dict[str, str]) -> None:
        """The palette changed: the lines drawn again in its colours (`colors`: each
        process name's, for the All pane's prefixes)."""
        self._formats.clear()
        self._time_fmt = self._fmt(theme.GREY)
        self.kept = deque(((lv, text, t, name, colors.get(name, theme.MUTED) if name else c)
                           for lv, text, t, name, c in self.kept), maxlen=self.kept.maxlen)
        self.set_filter(self.filter)

    def _fmt(self, color: str) -> QTextCharFormat:
        f = self._formats.get(color)
        if f is None:
            f = QTextCharFormat()
            f.setForeground(QColor(color))
            self._formats[color] = f
        return f

    def queue(self, level: int, text: str, t: float, name: str = "", color: str = "") -> None:
        """A line to show; `name` (in `color`) prefixes it in the All pane."""
        if len(self.pending) == self.pending.maxlen:
            self.dropped += 1
        self.pending.append((level, text, t, name, color))

    def _matches(self, line) -> bool:
        """The filter searches a line as it reads on screen: its name, its level word
        ('WARNING: ...') and its text."""
        level, text, _t, name, _c = line
        shown = level_tag(level) + text
        return self.filter(level, f"{name} | {shown}" if name else shown)

    def flush(self) -> int:
        """Lines waiting come in, in the order of their time (those the filter lets through
        are drawn); none while paused. Returns how many were drawn."""
        if self.paused or (not self.pending and not self.dropped):
            return 0
        lines = sorted(self.pending, key=lambda ln: ln[2])  # stable: by time, then as came
        self.pending.clear()
        self.kept.extend(lines)
        skipped, self.dropped = self.dropped, 0
        return self._draw([ln for ln in lines if self._matches(ln)], skipped)

    def _draw(self, lines, skipped: int = 0) -> int:
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 2
        doc = self.document()
        cur = QTextCursor(doc)
        cur.movePosition(QTextCursor.MoveOperation.End)
        cur.beginEditBlock()
        first = doc.isEmpty()
        if skipped:
            cur.insertText(f"... {skipped} older lines skipped (see the .log file)",
                           self._fmt(theme.MUTED))
            first = False
        for level, text, t, name, color in lines:
            if not first:
                cur.insertBlock()
            first = False
            stamp = time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d} "
            cur.insertText(stamp, self._time_fmt)
            if name:
                cur.insertText(f"{name:>{self.name_width}} | ", self._fmt(color or theme.TEXT))
            cur.insertText(level_tag(level) + text, self._fmt(level_color(level)))
        cur.endEditBlock()
        if at_bottom:
            bar.setValue(bar.maximum())
        return len(lines)

    def set_filter(self, line_filter: LineFilter) -> None:
        """Show the kept lines that match, drawn again from the start."""
        self.filter = line_filter
        self.clear_view()
        self._draw([ln for ln in self.kept if self._matches(ln)])

    def clear_view(self) -> None:
        self.document().clear()

    def clear_lines(self) -> None:
        """Clear: what was shown and kept goes (the .log file keeps everything)."""
        self.kept.clear()
        self.pending.clear()
        self.dropped = 0
        self.clear_view()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        if not paused:
            self.flush()

    def waiting(self) -> int:
        return len(self.pending)

    def lines(self) -> int:
        return self.document().blockCount()


class LogView(QTabWidget):
    def __init__(self, adapter, max_lines: int = MAX_LINES, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.adapter = adapter
        self.max_lines = max_lines
        self.panes: Dict[str, LogPane] = {}
        self.colors: Dict[str, str] = {}
        self.all_pane = self._add_pane(ALL)
        for name in adapter.model.shown() + (DESK,):
            self._add_pane(name)
        self.currentChanged.connect(self._on_current_changed)
        self.tools = self._tools()  # the row above the tabs (panel() puts them together)
        self._name_colors()
        self._say_remote(adapter.model.shown())
        self._on_config_changed(adapter.config)
        adapter.configChanged.connect(self._on_config_changed)
        adapter.logLine.connect(self._on_log_line)
        adapter.rosterChanged.connect(self._on_roster_changed)
        self.timer = QTimer(self)
        self.timer.setInterval(FLUSH_MS)
        self.timer.timeout.connect(self.flush_shown)
        self.timer.start()
        theme.notifier().changed.connect(self.restyle)

    def restyle(self) -> None:
        """The palette changed: names, lines and tab titles in its colours."""
        self._name_colors()
        for pane in self.panes.values():
            pane.restyle(self.colors)
            i = self.indexOf(pane)
            self.tabBar().setTabTextColor(i, QColor(level_color(pane.worst) if pane.worst
                                                    else theme.TEXT))

    def _add_pane(self, name: str, index: int = -1) -> LogPane:
        pane = LogPane(self.max_lines)
        if hasattr(self, "filter_box"):
            pane.filter = LineFilter(self.filter_box.text(), self.level_box.currentData())
            pane.paused = self.pause_button.isChecked()
        self.panes[name] = pane
        self.insertTab(index, pane, self._title(name))
        return pane

    def _say_remote(self, names) -> None:
        for name in (n for n in names if self.adapter.model.is_remote(n)):  # its log is there
            self.panes[name].queue(logging.INFO, f"{self._title(name)} runs on "
                                   f"{self.adapter.config.host} (--remote): its log is in "
                                   f"the log folder of that machine", time.time())

    def _name_colors(self) -> None:
        """Each process its colour (the All pane's prefixes), in the order of the stack."""
        names = [n for n in self.panes if n not in (ALL, DESK)]
        self.colors = {n: theme.symbol_color(i) for i, n in enumerate(names)}
        self.colors[DESK] = theme.MUTED
        self.all_pane.name_width = max((len(n) for n in names + [DESK]), default=0)

    def _on_roster_changed(self) -> None:
        """Processes came or went: a pane for each new one (before the Desk's), none for
        those gone."""
        shown = self.adapter.model.shown()
        for name in [n for n in self.panes if n not in shown and n not in (ALL, DESK)]:
            pane = self.panes.pop(name)
            self.removeTab(self.indexOf(pane))
            pane.deleteLater()
        new = [n for n in shown if n not in self.panes]
        for name in new:
            self._add_pane(name, self.indexOf(self.panes[DESK]))
        self._say_remote(new)
        self._name_colors()

    def _tools(self) -> QWidget:
        """The row above the panes: filter, level, Pause, Clear, Save, Open log folder."""
        box, row = theme.tool_row((4, 0, 4, 0))
        self.filter_box = theme.filter_box(
            "Filter lines\u2026", "Show only the lines that contain this text (any case), in "
            "every pane", min_width=160, max_width=320)
        self.level_box = QComboBox()
        for text, level in LEVELS:
            self.level_box.addItem(text, level)
        self.level_box.setToolTip("The lowest level shown, in every pane")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Hold the pane still; what arrives meanwhile comes in on "
                                     "Resume")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Clear this pane (its .log file keeps every line)")
        self.save_button = QPushButton("Save\u2026")
        self.save_button.setToolTip("Save this pane's lines, as shown, to a text file")
        self.folder_button = QPushButton("Open log folder")
        for w in (self.filter_box, self.level_box, self.pause_button, self.clear_button,
                  self.save_button, self.folder_button):
            w.setFocusPolicy(Qt.FocusPolicy.StrongFocus if w is self.filter_box
                             else Qt.FocusPolicy.TabFocus)
            row.addWidget(w)
            if w is self.level_box:
                row.addStretch(1)
        self.filter_box.textChanged.connect(self._on_filter)
        self.level_box.currentIndexChanged.connect(self._on_filter)
        self.pause_button.toggled.connect(self.set_paused)
        self.clear_button.clicked.connect(lambda: self.current_pane().clear_lines())
        self.save_button.clicked.connect(self._on_save)
        self.folder_button.clicked.connect(self.open_log_folder)
        return box

    def panel(self) -> QWidget:
        """The tools row above the tabs: what the Logs dock shows."""
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 2, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.tools)
        lay.addWidget(self, 1)
        return box

    def current_pane(self) -> LogPane:
        return self.currentWidget()

    def _on_filter(self, *_args) -> None:
        f = LineFilter(self.filter_box.text(), self.level_box.currentData())
        for pane in self.panes.values():
            pane.set_filter(f)

    def set_paused(self, paused: bool) -> None:
        """Pause or resume the panes (the button's state follows)."""
        for pane in self.panes.values():
            pane.set_paused(paused)
        if self.pause_button.isChecked() != paused:
            self.pause_button.setChecked(paused)
        self.pause_button.setText("Resume" if paused else "Pause")

    def save_pane(self, name: str, path: Path) -> int:
        """Write pane `name`'s lines as shown to `path`; returns how many lines."""
        pane = self.panes[name]
        pane.flush()
        text = pane.toPlainText()
        Path(path).write_text(text + ("\n" if text else ""), encoding="utf-8")
        return text.count("\n") + 1 if text else 0

    def _on_save(self) -> None:
        name = next(n for n, p in self.panes.items() if p is self.current_pane())
        stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
        path, _ = QFileDialog.getSaveFileName(
            self, "Save log pane", str(self.log_folder() / f"{name}-pane-{stamp}.txt"),
            "Text files (*.txt);;All files (*)")
        if path:
            self.save_pane(name, Path(path))

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

    def _title(self, name: str) -> str:
        if name == ALL:
            return "All"
        return "Desk" if name == DESK else self.adapter.model.title(name)

    def _on_log_line(self, name: str, level: int, text: str, t: float) -> None:
        pane = self.panes.get(name) or self.panes[DESK]
        self.all_pane.queue(level, text, t, name, self.colors.get(name, theme.MUTED))
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
