"""The dialogs that change the stack while it runs: Processes > Add Strategy... (a name, an
account and its own settings) and Processes > Add command... (another team's program in a
role: its command line, folder, readiness). Each says what is wrong before OK, and gives a
ProcessEntry (engine.config.stack) the adapter adds to the stack."""
from __future__ import annotations

import shlex
import sys
from typing import Optional

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QSpinBox, QWidget)

from engine.config.schema import ROLES, Config, parse_symbols, settings
from engine.config.stack import (NAME_RE, PLACEHOLDERS, READY_TIMEOUT_S, STRATEGY_SETTINGS,
                                 ProcessEntry, Ready)
from engine.config.stack_file import command_problem

from . import theme

POLICY_CHOICES = (("never", "never"), ("restart", "on crash"))
READY_CHOICES = ("its role's port accepts (a server), or at once",
                 "this port accepts", "a line of its output matches")


def unique_name(base: str, taken) -> str:
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


class _StackDialog(QDialog):
    """A form, a line saying what is wrong (OK is off until nothing is), OK and Cancel."""

    def __init__(self, title: str, stack: Config, taken, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.stack, self.taken = stack, set(taken)
        self.form = QFormLayout()
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.start_now = QCheckBox("Start it now (the others keep running)")
        self.start_now.setChecked(True)
        self.policy = QComboBox()
        for text, value in POLICY_CHOICES:
            self.policy.addItem(text, value)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                        QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def _finish(self) -> None:
        self.form.addRow("On crash", self.policy)
        self.form.addRow("", self.start_now)
        self.form.addRow(self.problem)
        self.form.addRow(self.buttons)
        self.setLayout(self.form)
        self.check()

    def check(self, *_args) -> str:
        """What is wrong ('' when nothing): shown, and OK is off while there is."""
        try:
            self.entry()
            why = ""
        except ValueError as exc:
            why = str(exc)
        self.problem.setText(f"<span style='color:{theme.RED}'>\u26a0 {why}</span>"
                             if why else "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not why)
        return why

    def _name(self) -> str:
        name = self.name.text().strip()
        if not NAME_RE.match(name):
            raise ValueError("a name is 1 to 40 letters, digits, '_', '.' or '-'")
        if name in self.taken:
            raise ValueError(f"there is a process called {name!r} already")
        return name

    def entry(self) -> ProcessEntry:
        raise NotImplementedError


class AddStrategyDialog(_StackDialog):
    """A Strategy of its own account: its name, account and settings (the stack's by
    default; only those set apart from the stack's are its own)."""

    def __init__(self, stack: Config, taken, parent: Optional[QWidget] = None):
        super().__init__("Add a Strategy", stack, taken, parent)
        self.name = QLineEdit(unique_name("strategy", self.taken))
        self.account = QLineEdit()
        self.account.setPlaceholderText("its name")
        self.form.addRow("Name", self.name)
        self.form.addRow("Account", self.account)
        self.fields = {}
        declared = dict(settings())
        for key in STRATEGY_SETTINGS[:-1] + ("symbols",):
            s = declared[key]
            if key == "symbols":
                w = QLineEdit()
                w.setPlaceholderText(f"the stack's ({len(stack.symbols)})")
                w.setToolTip("The symbols it trades, a subset of the stack's (empty: all)")
                w.textChanged.connect(self.check)
            else:
                w = QSpinBox()
                w.setRange(int(s.low), int(s.high))
                w.setValue(getattr(stack, key))
                w.setToolTip(s.help[:1].upper() + s.help[1:])
                w.valueChanged.connect(self.check)
            self.fields[key] = w
            self.form.addRow(s.label or key, w)
        for w in (self.name, self.account):
            w.textChanged.connect(self.check)
        self._finish()

    def entry(self) -> ProcessEntry:
        name = self._name()
        account = self.account.text().strip() or None
        own = {}
        for key, w in self.fields.items():
            if isinstance(w, QLineEdit):
                if w.text().strip():
                    symbols = parse_symbols(w.text())
                    if set(symbols) - set(self.stack.symbols):
                        raise ValueError("it can trade only the stack's symbols, not "
                                         + ", ".join(sorted(set(symbols)
                                                            - set(self.stack.symbols))))
                    own[key] = symbols
            elif w.value() != getattr(self.stack, key):
                own[key] = w.value()
        entry = ProcessEntry(name, "strategy", settings=own, account=account,
                             on_crash=self.policy.currentData())
        entry.config(self.stack)  # settings that do not go together: said here
        return entry


class AddCommandDialog(_StackDialog):
    """Another team's program in a role: the command line (placeholders such as
    {order_port} are the stack's addresses), its folder, when it is ready."""

    def __init__(self, stack: Config, taken, parent: Optional[QWidget] = None):
        super().__init__("Add a command", stack, taken, parent)
        self.name = QLineEdit(unique_name("peer", self.taken))
        self.role = QComboBox()
        self.role.addItems(ROLES)
        self.role.setCurrentText("strategy")
        self.command = QLineEdit()
        self.command.setPlaceholderText('{python} their_strategy.py --port {order_port}')
        self.command.setToolTip("The program and its arguments, as in a terminal. "
                                "Placeholders: " + ", ".join("{" + p + "}"
                                                             for p in PLACEHOLDERS))
        self.cwd = QLineEdit()
        self.cwd.setPlaceholderText("the desk's folder")
        browse = QPushButton("Browse\u2026")
        browse.clicked.connect(self._browse)
        folder = QHBoxLayout()
        folder.addWidget(self.cwd, 1)
        folder.addWidget(browse)
        self.ready = QComboBox()
        self.ready.addItems(READY_CHOICES)
        self.ready_value = QLineEdit()
        self.ready_value.setPlaceholderText("a port, or a regular expression")
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(0.5, 600)
        self.timeout.setValue(READY_TIMEOUT_S)
        self.timeout.setSuffix(" s")
        self.form.addRow("Name", self.name)
        self.form.addRow("Role", self.role)
        self.form.addRow("Command", self.command)
        self.form.addRow("Folder", folder)
        self.form.addRow("Ready when", self.ready)
        self.form.addRow("", self.ready_value)
        self.form.addRow("Ready timeout", self.timeout)
        for w in (self.name, self.command, self.cwd, self.ready_value):
            w.textChanged.connect(self.check)
        self.role.currentIndexChanged.connect(self.check)
        self.ready.currentIndexChanged.connect(self.check)
        self._finish()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Its working folder", self.cwd.text())
        if folder:
            self.cwd.setText(folder)

    def entry(self) -> ProcessEntry:
        name = self._name()
        text = self.command.text().strip()
        if not text:
            raise ValueError("what does it run? a command line is needed")
        try:
            argv = shlex.split(text, posix=sys.platform != "win32")
        except ValueError as exc:
            raise ValueError(f"the command line: {exc}") from None
        cwd = self.cwd.text().strip() or None
        problem = command_problem(argv, self.stack, cwd)
        if problem:
            raise ValueError(problem)
        choice = self.ready.currentIndex()
        value = self.ready_value.text().strip()
        ready = None
        if choice == 1:
            if not value.isdigit() and not value.startswith("{"):
                raise ValueError("ready: which port? a number or a placeholder")
            ready = Ready(port=int(value) if value.isdigit() else value,
                          timeout=self.timeout.value())
        elif choice == 2:
            if not value:
                raise ValueError("ready: which line? a regular expression")
            ready = Ready(output=value, timeout=self.timeout.value())
        entry = ProcessEntry(name, self.role.currentText(), command=tuple(argv), cwd=cwd,
                             ready=ready, on_crash=self.policy.currentData())
        entry.ready_port(self.stack)  # a placeholder that is not there: said here
        return entry
