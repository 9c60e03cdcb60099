"""Settings: the fields engine.config declares with a label (symbols, moving-average windows,
sentiment thresholds, quantity, tick interval), each widget made from its declaration.

Above them, whose settings: the stack's (every process), or one process's (picked here, or
by a click on its title in the Processes panel or its node on the System map). The stack's
are editable only while every process is stopped and applied on the next start (the adapter
asks `pending_config()` before starting and replaces the controller when it changed); what
the user changes there is remembered in QSettings, and a value that came from a command-line
flag is used for this run only and never saved. A process's are its own over the stack's
(two Strategies with other windows): editable while it is stopped, applied to its next
start, kept in the stack (File > Save stack as...), the fields its role does not use off."""
from __future__ import annotations

from typing import Dict, Optional

from dataclasses import replace
from typing import List

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QGridLayout, QHBoxLayout, QLabel,
                               QLineEdit, QSpinBox, QVBoxLayout, QWidget)

from engine.config.saved import saved_text
from engine.config.schema import Config, Setting, parse_symbols, settings
from engine.config.stack import STRATEGY_SETTINGS

from . import theme

ORGANIZATION = "IPC Trading Desk"
APPLICATION = "Desk"
GROUP = "settings"
STACK = None  # the target "the whole stack"
# the labelled settings each role uses (the rest are off when one of its processes is picked)
ROLE_FIELDS = {"strategy": set(STRATEGY_SETTINGS) | {"symbols"},
               "gateway": {"symbols", "tick_interval"}, "orderbook": {"symbols"},
               "order_manager": {"symbols"}}


def make_field(s: Setting, kind: type) -> QWidget:
    """The widget of one setting, from its declaration."""
    if kind is tuple:
        w = QLineEdit()
    elif kind is float:
        w = QDoubleSpinBox()
        w.setRange(s.low, s.high)
        w.setDecimals(s.decimals)
        w.setSingleStep(s.step)
    else:
        w = QSpinBox()
        w.setRange(int(s.low), int(s.high))
    if s.suffix and not isinstance(w, QLineEdit):
        w.setSuffix(s.suffix)
    w.setToolTip(s.tip or s.help[:1].upper() + s.help[1:])
    return w


class SettingsPanel(QWidget):
    edited = Signal()

    def __init__(self, adapter, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.adapter = adapter
        self.widgets: Dict[str, QWidget] = {}
        self.kinds: Dict[str, type] = {}
        # what the user changed here (field -> value): the only values ever saved
        self.user_set: Dict[str, object] = {}
        self._loaded: Dict[str, object] = {}
        self.target: Optional[str] = STACK  # whose settings are shown
        self._stack_values: Optional[dict] = None  # the stack's, while a process is shown
        defaults = Config.__dataclass_fields__
        for name, s in settings():
            if s.label:
                kind = type(defaults[name].default) if name != "symbols" else tuple
                self.kinds[name] = kind
                self.widgets[name] = make_field(s, kind)
                setattr(self, name, self.widgets[name])  # panel.short_window, ... for tests
        self.fields = tuple(self.widgets.values())
        self._lay_out({name: s.label for name, s in settings() if s.label})

        self.load(adapter.config)
        for name, w in self.widgets.items():
            (w.textEdited if isinstance(w, QLineEdit) else w.valueChanged).connect(
                self._on_edited)
        adapter.set_config_provider(self.pending_config)
        adapter.stateChanged.connect(self._on_state_changed)
        adapter.configChanged.connect(self._on_config_changed)
        adapter.rosterChanged.connect(self._fill_targets)
        self._fill_targets()
        self._on_state_changed()

    def _lay_out(self, labels: Dict[str, str]) -> None:
        """Text fields take a row of their own; the others go two to a row."""
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(5)
        row, col = 0, 0
        for name, text in labels.items():
            lbl = QLabel(text)
            lbl.setObjectName("muted")
            if isinstance(self.widgets[name], QLineEdit):
                row, col = (row + 1, 0) if col else (row, 0)
                grid.addWidget(lbl, row, 0)
                grid.addWidget(self.widgets[name], row, 1, 1, 3)
                row += 1
                continue
            grid.addWidget(lbl, row, col)
            grid.addWidget(self.widgets[name], row, col + 1)
            row, col = (row, 2) if col == 0 else (row + 1, 0)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.RichText)
        self.target_box = QComboBox()
        # (as narrow as the fields below: a long process name must not widen the dock)
        self.target_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.target_box.setMinimumContentsLength(14)
        self.target_box.setToolTip("Whose settings: the stack's (every process), or one "
                                   "process's own over them")
        self.target_box.currentIndexChanged.connect(
            lambda _i: self.select(self.target_box.currentData()))
        top = QHBoxLayout()
        whose = QLabel("Settings of")
        whose.setObjectName("muted")
        top.addWidget(whose)
        top.addWidget(self.target_box, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(6)
        lay.addLayout(top)
        lay.addLayout(grid)
        lay.addWidget(self.note)
        lay.addStretch(1)

    # -- values ---------------------------------------------------------------------------
    def load(self, config: Config) -> None:
        self._load_values({name: getattr(config, name) for name in self.widgets})
        self._loaded = self.values()

    def values(self) -> dict:
        out = {}
        for name, w in self.widgets.items():
            if isinstance(w, QLineEdit):
                out[name] = parse_symbols(w.text())
            elif isinstance(w, QDoubleSpinBox):
                out[name] = round(w.value(), 6)
            else:
                out[name] = w.value()
        return out

    def stack_values(self) -> dict:
        """The stack's values as edited (kept aside while a process's are shown)."""
        return self.values() if self.target is STACK else dict(self._stack_values or {})

    def pending_config(self) -> Config:
        """The Config the next start uses; ValueError when the values do not fit together."""
        return self.adapter.config.replace(**self.stack_values())

    # -- whose settings ---------------------------------------------------------------------
    def _fill_targets(self) -> None:
        """The stack, then each process of ours (an external one's settings are its command)."""
        model = self.adapter.model
        names: List[str] = [n for n in model.names if not model.is_external(n)]
        self.target_box.blockSignals(True)
        self.target_box.clear()
        self.target_box.addItem("the stack", STACK)
        for n in names:
            self.target_box.addItem(f"{model.title(n)} ({model.role(n)})"
                                    if model.title(n) != model.role(n) else model.title(n), n)
        self.target_box.blockSignals(False)
        self.select(self.target if self.target in names else STACK)

    def select(self, name: Optional[str]) -> None:
        """Show the settings of process `name` (STACK: the stack's)."""
        model = self.adapter.model
        if name is not STACK and (name not in model.names or model.is_external(name)):
            return
        if name != self.target:
            if self.target is STACK:
                self._stack_values = self.values()
            self.target = name
        i = self.target_box.findData(name)
        if i >= 0 and i != self.target_box.currentIndex():
            self.target_box.blockSignals(True)
            self.target_box.setCurrentIndex(i)
            self.target_box.blockSignals(False)
        if name is STACK:
            self._load_values(self._stack_values or self._loaded)
            self._stack_values = None
        else:
            self._load_values({k: getattr(self._process_config(name), k)
                               for k in self.widgets})
        self._on_state_changed()

    def _process_config(self, name: str) -> Config:
        """A process's settings over the stack's as edited."""
        return self.adapter.model.entry(name).config(self.pending_or_applied())

    def pending_or_applied(self) -> Config:
        try:
            return self.pending_config()
        except ValueError:
            return self.adapter.config

    def _load_values(self, values: dict) -> None:
        """Fields shown with these values (those absent keep theirs), no edit signalled."""
        for name, w in self.widgets.items():
            value = values.get(name)
            if value is None:
                continue
            w.blockSignals(True)
            if isinstance(w, QLineEdit):
                w.setText(",".join(value))
            else:
                w.setValue(value)
            w.blockSignals(False)

    def _apply_to_process(self) -> Optional[str]:
        """A process's fields as edited, into its own settings (those that differ from the
        stack's); what is wrong, or None."""
        name = self.target
        entry = self.adapter.model.entry(name)
        stack = self.pending_or_applied()
        fields = ROLE_FIELDS.get(entry.role, set())
        own = {k: v for k, v in entry.settings.items() if k not in self.widgets}
        for k, v in self.values().items():
            if k in fields and v != getattr(stack, k):
                own[k] = v
        new = replace(entry, settings=own)
        try:
            new.config(stack)
        except ValueError as exc:
            return str(exc)
        if new != entry and not self.adapter.update_process(new):
            return "not applied (see the Desk log)"
        return None

    # -- handlers -------------------------------------------------------------------------
    def _on_edited(self, *_):
        if self.target is not STACK:
            self._process_problem = self._apply_to_process()
            self._update_note()
            self.edited.emit()
            return
        now = self.values()
        for name, value in now.items():
            if value != self._loaded.get(name) or name in self.user_set:
                self.user_set[name] = value
        self._update_note()
        self.edited.emit()

    def _on_state_changed(self, *_):
        if self.target is STACK:
            locked = self.adapter.any_active()
            used = set(self.widgets)
        else:
            state = self.adapter.model.state(self.target)
            locked = state is not None and state.active
            used = ROLE_FIELDS.get(self.adapter.model.role(self.target), set())
        for name, w in self.widgets.items():
            w.setEnabled(not locked and name in used)
        self._update_note()

    def _on_config_changed(self, config) -> None:
        self.load(config)
        self._stack_values = None if self.target is STACK else self.values()
        if self.target is not STACK:
            self.select(self.target)
        self._update_note()

    _process_problem: Optional[str] = None

    def _update_note(self) -> None:
        if self.target is not STACK:
            title = self.adapter.model.title(self.target)
            state = self.adapter.model.state(self.target)
            if state is not None and state.active:
                text = (f"<span style='color:{theme.MUTED}'>Locked while {title} runs: stop "
                        f"it to edit its own settings.</span>")
            elif self._process_problem:
                text = f"<span style='color:{theme.RED}'>\u26a0 {self._process_problem}</span>"
            else:
                own = self.adapter.model.entry(self.target).settings
                text = (f"<span style='color:{theme.MUTED}'>{title}'s own settings over the "
                        f"stack's ({', '.join(sorted(own)) or 'none yet'}): used from its "
                        f"next start.</span>")
            self.note.setText(text)
            return
        if self.adapter.any_active():
            self.note.setText(f"<span style='color:{theme.MUTED}'>Locked while "
                              f"processes run: stop all to edit.</span>")
            return
        try:
            cfg = self.pending_config()
        except ValueError as exc:
            self.note.setText(f"<span style='color:{theme.RED}'>\u26a0 {exc}</span>")
            return
        if cfg == self.adapter.config:
            self.note.setText(f"<span style='color:{theme.MUTED}'>Applied on the next start; "
                              f"what you change here is remembered.</span>")
        else:
            self.note.setText(f"<span style='color:{theme.AMBER}'>\u25cf Changed: applied "
                              f"when you start.</span>")

    def is_locked(self) -> bool:
        return not self.short_window.isEnabled()


# -- persistence (QSettings) --------------------------------------------------------------
def load_saved(store) -> dict:
    """Raw saved values from a QSettings (strings with an INI store; engine.config's
    parse_saved / merge_saved read them)."""
    out = {}
    store.beginGroup(GROUP)
    try:
        for name, s in settings():
            if s.label and store.contains(name):
                out[name] = store.value(name)
    finally:
        store.endGroup()
    return out


def save_settings(store, values: dict) -> None:
    """Remember these settings (what the user changed in the panel), leaving the others."""
    if not values:
        return
    store.beginGroup(GROUP)
    try:
        for name, value in values.items():
            store.setValue(name, saved_text(value))
    finally:
        store.endGroup()
    store.sync()
