"""UniverseMap: every symbol as a cell coloured by its change % (red down, green up, a
symmetric scale); a click picks the symbol, hovering names it."""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QColor

from . import theme
from .guard import guarded


class UniverseMap(pg.GraphicsLayoutWidget):
    """Every symbol as a cell coloured by its change % (red down, green up, symmetric
    scale): a click picks the symbol, hovering names it."""

    symbolPicked = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.vb = self.addViewBox(lockAspect=True, enableMouse=False)
        self.vb.invertY(True)
        self.vb.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.vb.addItem(self.image)
        self.mark = pg.QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self.vb.addItem(self.mark)
        self.restyle()
        theme.notifier().changed.connect(self.restyle)
        self.symbols: list = []
        self.cols = 1
        self.scale = 1.0
        self.change = np.empty(0)
        self.scene().sigMouseClicked.connect(self._clicked)
        self.scene().sigMouseMoved.connect(self._moved)
        self.setMouseTracking(True)

    def restyle(self) -> None:
        """Colours from the palette in use: falls red, rises green, no change the border's
        grey (drawn again with the next changes)."""
        t = theme.current
        self.setBackground(t.plot_bg)
        self.mark.setPen(pg.mkPen(t.accent, width=2, cosmetic=True))
        cmap = pg.ColorMap([0.0, 0.5, 1.0], [QColor(t.sell), QColor(t.border), QColor(t.buy)])
        self.lut = cmap.getLookupTable(0.0, 1.0, 255)

    def set_symbols(self, symbols) -> None:
        self.symbols = list(symbols)
        self.change = np.full(len(self.symbols), np.nan)
        self._layout()

    def _layout(self) -> None:
        """Square cells in a grid of the widget's own shape, filling it."""
        if not hasattr(self, "change"):  # a resize while Qt builds the widget
            return
        n = max(len(self.symbols), 1)
        aspect = max(self.width(), 1) / max(self.height(), 1)
        self.cols = max(1, min(n, math.ceil(math.sqrt(n * aspect))))
        rows = math.ceil(n / self.cols)
        self.vb.setRange(xRange=(0, self.cols), yRange=(0, rows), padding=0.01)
        if len(self.change):
            self.update(self.change)

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        guarded("the universe map's resize", self._layout)

    def update(self, change: np.ndarray) -> None:
        """New changes (%), one per symbol: the image and its symmetric scale."""
        self.change = change
        n, cols = len(change), self.cols
        rows = math.ceil(max(n, 1) / cols)
        grid = np.full(rows * cols, np.nan)
        grid[:n] = change
        finite = np.abs(change[np.isfinite(change)])
        self.scale = max(0.1, float(np.percentile(finite, 95))) if finite.size else 1.0
        img = np.clip((grid.reshape(rows, cols) / self.scale + 1.0) / 2.0, 0.0, 1.0)
        rgba = self.lut[np.nan_to_num(img * 254, nan=127).astype(np.intp)]
        rgba = np.concatenate((rgba, np.full(rgba.shape[:2] + (1,), 255, np.uint8)), axis=2)
        rgba[np.isnan(grid.reshape(rows, cols))] = theme.rgba(theme.PLOT_BG, 255)  # no price
        self.image.setImage(rgba, autoLevels=False)

    def select(self, symbol: str) -> None:
        if symbol in self.symbols:
            i = self.symbols.index(symbol)
            self.mark.setRect(i % self.cols, i // self.cols, 1, 1)

    def symbol_at(self, scene_pos) -> Optional[str]:
        if not self.vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.vb.mapSceneToView(scene_pos)
        c, r = math.floor(p.x()), math.floor(p.y())
        i = r * self.cols + c
        if 0 <= c < self.cols and 0 <= i < len(self.symbols):
            return self.symbols[i]
        return None

    def _clicked(self, ev) -> None:
        sym = self.symbol_at(ev.scenePos())
        if sym is not None:
            self.symbolPicked.emit(sym)

    def _moved(self, pos) -> None:
        sym = self.symbol_at(pos)
        if sym is None:
            self.setToolTip("")
            return
        ch = self.change[self.symbols.index(sym)]
        self.setToolTip(f"{sym} {ch:+.2f}%" if math.isfinite(ch) else f"{sym}: no price yet")


