"""What the desk does to its stack from the menus: File > Open stack... and Save stack as...
(a TOML stack file, docs/stacks.md), Processes > Add Strategy..., Add command..., Remove,
and Check... of another team's process (engine.check). Each asks with a dialog (or takes a path or an entry: tests and the demo) and acts
through the adapter, which says what went wrong in the status line and the Desk log."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtWidgets import QDialog, QFileDialog

from engine.check.of_stack import check_of

from ..views import theme
from ..views.check_dialog import CheckDialog
from ..views.stack_dialogs import AddCommandDialog, AddStrategyDialog

FILTER = "Stack files (*.toml);;All files (*)"


class StackActions:
    def __init__(self, window):
        self.window = window
        self.adapter = window.adapter
        self.dialog: Optional[QDialog] = None  # the one open (tests reach into it)

    def _folder(self) -> str:
        path = self.adapter.model.stack_path
        return str(Path(path).parent if path else Path.home())

    # -- files -------------------------------------------------------------------------------
    def open_stack(self, path: Optional[str] = None) -> bool:
        """Run another stack (every process must be stopped first)."""
        if self.adapter.any_active():
            self.window.status.show_message("Stop every process before opening a stack",
                                            theme.AMBER)
            return False
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.window, "Open a stack", self._folder(),
                                                  FILTER)
            if not path:
                return False
        ok = self.adapter.open_stack(path)
        if ok:
            self.window.status.show_message(f"Stack {Path(path).name}: "
                                            f"{', '.join(self.adapter.model.names)}")
        return ok

    def save_stack_as(self, path: Optional[str] = None) -> bool:
        """The stack as it runs now (its processes, their settings, the stack's) to a file
        that --stack and File > Open stack read back."""
        if path is None:
            default = str(Path(self._folder()) / (Path(self.adapter.model.stack_path).name
                                                  if self.adapter.model.stack_path
                                                  else "my-stack.toml"))
            path, _ = QFileDialog.getSaveFileName(self.window, "Save the stack as", default,
                                                  FILTER)
            if not path:
                return False
        ok = self.adapter.save_stack(path)
        if ok:
            self.window.status.show_message(f"Stack saved to {path}")
        return ok

    # -- processes ---------------------------------------------------------------------------
    def _ask(self, dialog) -> bool:
        self.dialog = dialog
        dialog.accepted.connect(lambda: self.adapter.add_process(
            dialog.entry(), start=dialog.start_now.isChecked()))
        dialog.open()  # not exec(): the desk keeps polling its processes meanwhile
        return True

    def add_strategy(self) -> AddStrategyDialog:
        """Processes > Add Strategy...: a Strategy of its own account, started at once."""
        d = AddStrategyDialog(self.adapter.config, self.adapter.model.plan().names,
                              self.window)
        self._ask(d)
        return d

    def add_command(self) -> AddCommandDialog:
        """Processes > Add command...: another team's program in a role."""
        d = AddCommandDialog(self.adapter.config, self.adapter.model.plan().names, self.window)
        self._ask(d)
        return d

    def check(self, name: str) -> CheckDialog:
        """Check...: another team's process against the assignment's contract (a copy of it,
        with ports of its own), its card in a dialog."""
        model = self.adapter.model
        role, commands = check_of(model.entry(name), model.plan())
        d = CheckDialog(name, role, commands, self.window, self._folder())
        self.dialog = d
        d.open()
        d.start()
        return d

    def remove(self, name: str) -> bool:
        """Take a stopped process out of the stack."""
        return self.adapter.remove_process(name)
