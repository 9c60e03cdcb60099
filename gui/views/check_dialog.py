"""The conformance card of another team's process (its row's menu, or Processes > its name >
Check...): the check (engine.check) runs on a thread of its own on a fresh copy of the
process, the desk goes on meanwhile; the card is shown point by point and can be saved as
Markdown."""
from __future__ import annotations

import threading
from html import escape
from pathlib import Path
from typing import Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QLabel, QPushButton,
                               QTextBrowser, QVBoxLayout, QWidget)

from engine.check.card import FAIL, PASS
from engine.check.cli import run_check

from . import theme


class CheckDialog(QDialog):
    finished_card = Signal(object)  # the Card, from the check's thread

    def __init__(self, name: str, role: str, commands, parent: Optional[QWidget] = None,
                 folder: Optional[str] = None):
        super().__init__(parent)
        self.name, self.role, self.commands = name, role, list(commands)
        self.folder = folder or str(Path.home())
        self.card = None
        self.setWindowTitle(f"Check {name} ({role})")
        self.status = QLabel(f"Checking {name} against the assignment's contract, on a copy "
                             f"of it with ports of its own (10 to 30 s)\u2026")
        self.status.setWordWrap(True)
        self.text = QTextBrowser()  # the card: a row a point, its result in its colour
        self.text.setMinimumSize(520, 280)
        self.save = QPushButton("Save as Markdown\u2026")
        self.save.setEnabled(False)
        self.save.clicked.connect(lambda: self.save_markdown())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.save, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(760, 460)
        self.finished_card.connect(self._show)
        self.thread = threading.Thread(target=self._run, name=f"check-{name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        self.finished_card.emit(run_check(self.role, None, self.commands))

    def _show(self, card) -> None:
        self.card = card
        ok = card.exit_code == 0
        color = theme.GREEN if ok else (theme.RED if card.exit_code == 1 else theme.AMBER)
        self.status.setText(card.summary())
        self.status.setStyleSheet(f"color: {color}; font-weight: bold")
        self.text.setHtml(card_html(card))
        self.save.setEnabled(True)

    def save_markdown(self, path: Optional[str] = None) -> bool:
        if self.card is None:
            return False
        if path is None:
            default = str(Path(self.folder) / f"check-{self.name}.md")
            path, _ = QFileDialog.getSaveFileName(self, "Save the card as", default,
                                                  "Markdown (*.md);;All files (*)")
            if not path:
                return False
        Path(path).write_text(self.card.markdown(), encoding="utf-8")
        self.status.setText(f"{self.card.summary()} \u2014 saved to {path}")
        return True


def result_words(status: str):
    """(word, colour) of a point's result, in the palette in use."""
    return {PASS: ("PASS", theme.GREEN), FAIL: ("FAIL", theme.RED)}.get(
        status, ("n/a", theme.MUTED))


def card_html(card) -> str:
    """The card as the dialog shows it: what was checked, then a row a point (its result in
    its colour, what it means, the evidence in the tables' fixed-width font)."""
    mono = theme.mono_font().family()
    rows = []
    for p in card.points:
        word, color = result_words(p.status)
        title = escape(p.title) + ("" if p.required else
                                   f" <span style='color:{theme.MUTED}'>(optional)</span>")
        rows.append(f"<tr><td style='color:{color}; font-weight:bold; padding-right:10px'>"
                    f"{word}</td><td>{title}<br><span style='color:{theme.MUTED}; "
                    f"font-family:\"{mono}\"'>{escape(p.line())}</span></td></tr>")
    return (f"<p style='color:{theme.MUTED}'>Checked: <span style='font-family:\"{mono}\"'>"
            f"{escape(card.target)}</span></p>"
            f"<table cellspacing='0' cellpadding='3'>{''.join(rows)}</table>")
