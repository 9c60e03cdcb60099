"""PriceSampler: the desk's one reader of the shared-memory books. Every frame (a QTimer at
`fps`) its ChartData (gui/models/chart_data.py, no Qt) copies what changed into the
history, and `sampled` says so; the charts draw from `data` then, the watchlist twice a
second. It also keeps what every view agrees on: the selected symbol (kept at every frame),
the latest prices P&L is marked to (`marks`), and the fill markers (from confirmations).

Shared memory holds only the latest price of each symbol: a frame that samples nothing new
adds nothing, so an idle desk costs little."""
from __future__ import annotations

import time
from typing import Dict, List, Optional

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from ..models.chart_data import ChartData

DEFAULT_FPS = 30
HISTORY_S = 600.0


class PriceSampler(QObject):
    sampled = Signal(float, bool)  # the frame's time (epoch s), and whether anything was new
    reset = Signal()               # new symbols: a new `data` (views rebuild what they draw)
    symbolSelected = Signal(str)   # the symbol every view shows in detail

    def __init__(self, adapter, fps: int = DEFAULT_FPS, history_s: float = HISTORY_S,
                 parent: Optional[QObject] = None):
        super().__init__(parent)
        self.adapter = adapter
        self.fps = fps
        self.history_s = float(history_s)
        self.selected: Optional[str] = None
        self._apply_config(adapter.config)
        adapter.configChanged.connect(self._on_config_changed)
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(max(1, int(round(1000 / fps))))
        self.timer.timeout.connect(self.sample)
        self.timer.start()

    # -- configuration --------------------------------------------------------------------
    def _apply_config(self, config) -> None:
        self.config = config
        self.symbols: List[str] = list(config.symbols)
        self.data = ChartData(self.symbols, self.history_s, self.fps)
        self.universe = self.data.universe
        keep = self.selected if self.selected in self.symbols else self.symbols[0]
        self.selected = None
        self.select(keep)

    def _on_config_changed(self, config) -> None:
        if tuple(config.symbols) != tuple(self.symbols):
            self._apply_config(config)
            self.reset.emit()
        else:
            self.config = config
            self.data.reset_sources()  # a new controller: new segments

    # -- what the views share -------------------------------------------------------------
    def select(self, symbol: str) -> None:
        """Show `symbol` in detail everywhere (kept at every frame from now on)."""
        if symbol not in self.symbols or symbol == self.selected:
            return
        self.selected = symbol
        self.data.set_focus(self.symbols.index(symbol))
        self.symbolSelected.emit(symbol)

    @property
    def selected_index(self) -> int:
        return self.symbols.index(self.selected)

    def marks(self) -> Dict[str, float]:
        """The latest price of each symbol that has one (what P&L is marked to)."""
        return {s: float(p) for s, p in zip(self.symbols, self.data.last) if p == p}

    def add_fills(self, items: list) -> None:
        """Confirmations [(received, Confirm)]: a marker each on the price and P&L charts."""
        for t, c in items:
            self.data.add_fill(t, c.symbol, c.price, c.side == "BUY", c.order_id)

    # -- the frame ------------------------------------------------------------------------
    def sample(self) -> None:
        now = time.time()
        running = self.adapter.model.role_running("strategy")
        changed = self.data.sample(now, self.adapter.price_book, self.adapter.signal_book,
                                   running)
        self.sampled.emit(now, changed)

    def stop(self) -> None:
        self.timer.stop()
