"""The desk's menu bar: File (open and save the stack, record, export, the log folder, quit),
View (each dock, reset the layout, the light or dark palette), Processes (start and stop
all, add a Strategy or a command, and each process's verbs, Remove for a stopped one: listed again whenever the stack
changes) and Help (About, with the version and the docs' pages). Standard shortcuts where the platform has one
(Quit is Ctrl+Q / Cmd+Q, through the ordered stop of closing the window)."""
from __future__ import annotations

import platform
import sys
from typing import Dict

from PySide6 import __version__ as PYSIDE_VERSION
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QMessageBox

from engine.platforms.paths import APP_NAME, PROJECT_ROOT

from ..models.desk import verbs_allowed
from ..models.help import HELP_PAGES, anchor
from ..views import theme


def version() -> str:
    """The installed package's version, or the checkout's pyproject.toml's."""
    try:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as dist_version
        return dist_version("ipc-trading-desk")
    except (ImportError, PackageNotFoundError):
        pass
    try:
        for line in (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8").splitlines():
            if line.startswith("version"):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "unknown"


def about_text() -> str:
    readme = PROJECT_ROOT / "README.md"
    link = QUrl.fromLocalFile(str(readme)).toString()
    sections = "".join(
        f"<li><a href='{QUrl.fromLocalFile(str(PROJECT_ROOT / page)).toString()}"
        f"{'#' + anchor(heading) if heading else ''}'>{title}</a></li>"
        for title, page, heading in HELP_PAGES)
    return (f"<h3>{APP_NAME} {version()}</h3>"
            f"<p>Four trading processes over TCP sockets and shared memory, started, stopped, "
            f"watched and charted by this desk.</p>"
            f"<p>Python {platform.python_version()} on {sys.platform}, Qt {qVersion()}, "
            f"PySide6 {PYSIDE_VERSION}</p>"
            f"<p>The <a href='{link}'>README</a> ({readme}) and the pages beside it (docs/) "
            f"have the rest:</p>"
            f"<ul>{sections}</ul>")


class DeskMenus:
    """Builds the menu bar of `window` (a MainWindow) and keeps its actions by name, so
    tests and the keyboard reach the same thing."""

    def __init__(self, window):
        self.window = window
        self.actions: Dict[str, QAction] = {}
        bar = window.menuBar()
        self._file(bar.addMenu("&File"))
        self._view(bar.addMenu("&View"))
        self.processes_menu = bar.addMenu("&Processes")
        self._processes(self.processes_menu)
        self._help(bar.addMenu("&Help"))
        window.adapter.rosterChanged.connect(self._on_roster_changed)
        window.adapter.stateChanged.connect(self._on_state_changed)

    def _add(self, menu, key: str, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.actions[key] = action
        return action

    def _file(self, menu) -> None:
        w = self.window
        self._add(menu, "open_stack", "Open stack\u2026", lambda: w.stack.open_stack(),
                  QKeySequence.StandardKey.Open, "Run the processes of a stack file (.toml)")
        self._add(menu, "save_stack", "Save stack as\u2026", lambda: w.stack.save_stack_as(),
                  QKeySequence.StandardKey.SaveAs,
                  "The stack as it runs now, to a file --stack and Open stack read")
        menu.addSeparator()
        w.record.add_to(menu)
        self.actions["record"] = w.record.action
        menu.addSeparator()
        tools = w.charts.tools
        self._add(menu, "export_png", "Export charts as PNG\u2026",
                  lambda: tools.ask_and_export("png"), "Ctrl+E")
        self._add(menu, "export_svg", "Export charts as SVG\u2026",
                  lambda: tools.ask_and_export("svg"))
        self._add(menu, "export_csv", "Export price data as CSV\u2026",
                  lambda: tools.ask_and_export("csv"))
        self._add(menu, "export_orders", "Export orders as CSV\u2026",
                  w.orders_view._on_export, "Ctrl+Shift+E",
                  "The session's orders (its order log) as a CSV file")
        menu.addSeparator()
        self._add(menu, "log_folder", "Open log folder", w.log_view.open_log_folder, "Ctrl+L")
        menu.addSeparator()
        # the platform's Quit keys; Ctrl+Q (Cmd+Q on macOS) where it names none (Windows,
        # some Linux desktops and the offscreen platform)
        keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Quit) or \
            [QKeySequence("Ctrl+Q")]
        quit_ = self._add(menu, "quit", "Quit", w.close, None,
                          "Stop every process in order, then close")
        quit_.setShortcuts(keys)
        quit_.setMenuRole(QAction.MenuRole.QuitRole)

    def _view(self, menu) -> None:
        w = self.window
        for i, dock in enumerate((w.process_dock, w.settings_dock, w.orders_dock,
                                  w.log_dock, w.system_dock), start=1):
            action = dock.toggleViewAction()
            action.setShortcut(QKeySequence(f"Ctrl+{i}"))
            menu.addAction(action)
            self.actions[f"dock_{dock.windowTitle().lower()}"] = action
        menu.addSeparator()
        self._add(menu, "reset_layout", "Reset layout", w.reset_layout, "Ctrl+0",
                  "Every dock back in its place and size")
        menu.addSeparator()
        look = menu.addMenu("Appearance")
        group = QActionGroup(self.window)
        for choice, text, tip in (
                ("system", "Follow the system", "Light or dark as the operating system is set"),
                ("light", "Light", "The light palette, whatever the system says"),
                ("dark", "Dark", "The dark palette, whatever the system says")):
            action = self._add(look, f"palette_{choice}", text,
                               lambda _=False, c=choice: w.set_palette(c), tip=tip)
            action.setCheckable(True)
            action.setChecked(choice == theme.choice())
            group.addAction(action)

    def _processes(self, menu) -> None:
        a, w = self.window.adapter, self.window
        before = set(self.actions)
        self._add(menu, "start_all", "Start all", a.start_all, "F5")
        self._add(menu, "stop_all", "Stop all", a.stop_all, "Shift+F5")
        menu.addSeparator()
        self._add(menu, "add_strategy", "Add Strategy\u2026", lambda: w.stack.add_strategy(),
                  "Ctrl+Shift+N", "Another Strategy on its own account, started at once")
        self._add(menu, "add_command", "Add command\u2026", lambda: w.stack.add_command(),
                  None, "Another team's program in a role, started at once")
        menu.addSeparator()
        for name in a.model.shown():
            if a.model.is_remote(name):
                continue
            sub = menu.addMenu(a.model.title(name))
            for verb in ("start", "stop", "restart", "kill"):
                self._add(sub, f"{verb}_{name}", verb.capitalize(),
                          lambda _=False, v=verb, n=name: getattr(a, v)(n))
            sub.addSeparator()
            if a.model.is_external(name):
                self._add(sub, f"check_{name}", "Check\u2026",
                          lambda _=False, n=name: w.stack.check(n), None,
                          "Check it against the assignment's contract: a report card")
            self._add(sub, f"remove_{name}", "Remove from the stack",
                      lambda _=False, n=name: w.stack.remove(n), None,
                      "Only while it is stopped")
        self._process_keys = set(self.actions) - before
        self._on_state_changed()

    def _on_roster_changed(self) -> None:
        """Processes came or went: the Processes menu lists them again."""
        for key in self._process_keys:
            del self.actions[key]
        self.processes_menu.clear()
        self._processes(self.processes_menu)

    def _on_state_changed(self, *_args) -> None:
        """Each process's verbs as its row's buttons have them (not Start on a running one),
        Start all while one is stopped, Stop all while one runs; Remove for a stopped one."""
        model = self.window.adapter.model
        states = [s for s in (model.state(n) for n in model.names) if s is not None]
        for name in model.names:
            state = model.state(name)
            if state is None:
                continue
            allowed = dict(verbs_allowed(state), remove=state.finished)
            for verb, ok in allowed.items():
                action = self.actions.get(f"{verb}_{name}")
                if action is not None:
                    action.setEnabled(ok)
        for key, verb in (("start_all", "start"), ("stop_all", "stop")):
            if key in self.actions:
                self.actions[key].setEnabled(any(verbs_allowed(s)[verb] for s in states))

    def _help(self, menu) -> None:
        self._add(menu, "readme", "README", self.open_readme,
                  QKeySequence.StandardKey.HelpContents)
        about = self._add(menu, "about", f"About {APP_NAME}", self.show_about)
        about.setMenuRole(QAction.MenuRole.AboutRole)

    def open_readme(self) -> bool:
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(PROJECT_ROOT / "README.md")))

    def show_about(self) -> QMessageBox:
        box = QMessageBox(self.window)
        box.setWindowTitle(f"About {APP_NAME}")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(about_text())
        box.open()  # not exec(): the desk keeps polling its processes
        return box
