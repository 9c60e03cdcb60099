"""Settings: the fields engine.config declares with a label (symbols, moving-average windows,
sentiment thresholds, quantity, tick interval), each widget made from its declaration.

Editable only while every process is stopped; applied on the next start (the adapter asks
`pending_config()` before starting and replaces the controller when it changed). What the
user changes here is remembered in QSettings; a value that came from a command-line flag is
used for this run only and never saved."""
from __future__ import annotations

from typing import Dict, Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDoubleSpinBox, QGridLayout, QLabel, QLineEdit, QSpinBox,
                               QVBoxLayout, QWidget)

from engine.config.saved import saved_text
from engine.config.schema import Config, Setting, parse_symbols, settings

from . import theme

ORGANIZATION = "IPC Trading Desk"
APPLICATION = "Desk"
GROUP = "settings"


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
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(6)
        lay.addLayout(grid)
        lay.addWidget(self.note)
        lay.addStretch(1)

    # -- values ---------------------------------------------------------------------------
    def load(self, config: Config) -> None:
        for name, w in self.widgets.items():
            value = getattr(config, name)
            w.blockSignals(True)
            if isinstance(w, QLineEdit):
                w.setText(",".join(value))
            else:
                w.setValue(value)
            w.blockSignals(False)
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

    def pending_config(self) -> Config:
        """The Config the next start uses; ValueError when the values do not fit together."""
        return self.adapter.config.replace(**self.values())

    # -- handlers -------------------------------------------------------------------------
    def _on_edited(self, *_):
        now = self.values()
        for name, value in now.items():
            if value != self._loaded.get(name) or name in self.user_set:
                self.user_set[name] = value
        self._update_note()
        self.edited.emit()

    def _on_state_changed(self, *_):
        locked = self.adapter.any_active()
        for w in self.fields:
            w.setEnabled(not locked)
        self._update_note()

    def _on_config_changed(self, config) -> None:
        self.load(config)
        self._update_note()

    def _update_note(self) -> None:
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
        return not self.fields[1].isEnabled()


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
