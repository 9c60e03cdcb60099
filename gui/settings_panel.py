"""Settings: symbols, moving-average windows, sentiment thresholds, quantity and tick interval.

Editable only while every process is stopped; applied on the next start (the adapter asks
`pending_config()` before starting and replaces the controller when it changed). The main
window remembers the applied values in QSettings."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDoubleSpinBox, QGridLayout, QLabel, QLineEdit, QSpinBox,
                               QVBoxLayout, QWidget)

from engine.config import Config

from . import theme
from .model import _as_symbols


class SettingsPanel(QWidget):
    edited = Signal()

    def __init__(self, adapter, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.adapter = adapter
        self.symbols = QLineEdit()
        self.symbols.setToolTip("Comma-separated symbols, e.g. AAPL,MSFT,GOOG")
        self.short_window = QSpinBox()
        self.short_window.setRange(1, 10_000)
        self.long_window = QSpinBox()
        self.long_window.setRange(2, 100_000)
        self.bullish = QSpinBox()
        self.bullish.setRange(0, 100)
        self.bearish = QSpinBox()
        self.bearish.setRange(0, 100)
        self.qty = QSpinBox()
        self.qty.setRange(1, 1_000_000)
        self.tick_interval = QDoubleSpinBox()
        self.tick_interval.setRange(0.0, 60.0)
        self.tick_interval.setDecimals(3)
        self.tick_interval.setSingleStep(0.01)
        self.tick_interval.setSuffix(" s")
        self.tick_interval.setToolTip("Seconds between price ticks of each symbol "
                                      "(0 = as fast as possible)")
        self.short_window.setToolTip("Short moving-average window, in ticks")
        self.long_window.setToolTip("Long moving-average window, in ticks")
        self.bullish.setToolTip("Buy only when sentiment is above this")
        self.bearish.setToolTip("Sell only when sentiment is below this")
        self.qty.setToolTip("Shares per position")
        self.fields = (self.symbols, self.short_window, self.long_window, self.bullish,
                       self.bearish, self.qty, self.tick_interval)

        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(5)

        def label(text):
            lbl = QLabel(text)
            lbl.setObjectName("muted")
            return lbl

        grid.addWidget(label("Symbols"), 0, 0)
        grid.addWidget(self.symbols, 0, 1, 1, 3)
        grid.addWidget(label("Short MA"), 1, 0)
        grid.addWidget(self.short_window, 1, 1)
        grid.addWidget(label("Long MA"), 1, 2)
        grid.addWidget(self.long_window, 1, 3)
        grid.addWidget(label("Bullish >"), 2, 0)
        grid.addWidget(self.bullish, 2, 1)
        grid.addWidget(label("Bearish <"), 2, 2)
        grid.addWidget(self.bearish, 2, 3)
        grid.addWidget(label("Qty"), 3, 0)
        grid.addWidget(self.qty, 3, 1)
        grid.addWidget(label("Tick every"), 3, 2)
        grid.addWidget(self.tick_interval, 3, 3)
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

        self.load(adapter.config)
        self.symbols.textEdited.connect(self._on_edited)
        for w in self.fields[1:]:
            w.valueChanged.connect(self._on_edited)
        adapter.set_config_provider(self.pending_config)
        adapter.stateChanged.connect(self._on_state_changed)
        adapter.configChanged.connect(self._on_config_changed)
        self._on_state_changed()

    # -- values ---------------------------------------------------------------------------
    def load(self, config: Config) -> None:
        self.symbols.setText(",".join(config.symbols))
        self.short_window.setValue(config.short_window)
        self.long_window.setValue(config.long_window)
        self.bullish.setValue(config.bullish)
        self.bearish.setValue(config.bearish)
        self.qty.setValue(config.qty)
        self.tick_interval.setValue(config.tick_interval)

    def values(self) -> dict:
        return {"symbols": _as_symbols(self.symbols.text()),
                "short_window": self.short_window.value(),
                "long_window": self.long_window.value(),
                "bullish": self.bullish.value(), "bearish": self.bearish.value(),
                "qty": self.qty.value(), "tick_interval": round(self.tick_interval.value(), 6)}

    def pending_config(self) -> Config:
        """The Config the next start uses; ValueError when the values do not fit together."""
        return self.adapter.config.replace(**self.values())

    # -- handlers -------------------------------------------------------------------------
    def _on_edited(self, *_):
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
                              f"remembered between runs.</span>")
        else:
            self.note.setText(f"<span style='color:{theme.AMBER}'>\u25cf Changed: applied "
                              f"when you start.</span>")

    def is_locked(self) -> bool:
        return not self.short_window.isEnabled()


# -- persistence (QSettings) --------------------------------------------------------------
ORGANIZATION = "IPC Trading Desk"
APPLICATION = "Desk"
GROUP = "settings"


def load_saved(store) -> dict:
    """Raw saved values from a QSettings (strings with an INI store; parse with
    model.parse_saved / model.merge_saved)."""
    from .model import SETTINGS_FIELDS
    out = {}
    store.beginGroup(GROUP)
    try:
        for key in SETTINGS_FIELDS:
            if store.contains(key):
                out[key] = store.value(key)
    finally:
        store.endGroup()
    return out


def save_settings(store, config: Config) -> None:
    from .model import settings_of
    store.beginGroup(GROUP)
    try:
        for key, value in settings_of(config).items():
            store.setValue(key, ",".join(value) if isinstance(value, tuple) else value)
    finally:
        store.endGroup()
    store.sync()
