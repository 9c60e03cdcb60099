"""The charts' legends, in a column of their own beside the plots (a legend never covers
data), and what they list: a pen and an entry a symbol, or a mover."""
from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt

from .. import theme
from .pens import line_pen

LEGEND_W = 132  # px: the legends' column, beside the plots (a legend never covers data)


class SideLegend(pg.LabelItem):
    """A plot's legend in a column of its own to the right of the plot: one line an entry,
    a coloured mark (a line, a dash or a triangle) and rich text."""

    def __init__(self):
        self._html = None
        self._entries: list = []
        self.hidden: set = set()  # entries whose series the user hid (drawn struck through)
        self.on_click = None  # (entry index) -> None: a click on an entry
        super().__init__("", justify="left", size="8.5pt", color=theme.TEXT)

        self.setFlag(self.GraphicsItemFlag.ItemClipsChildrenToShape)
        self.setToolTip("Click an entry to hide or show its series")

    def updateMin(self) -> None:
        """A fixed width whatever the text (pyqtgraph sizes a label to its text): the plots
        beside it keep their width while the entries change."""
        super().updateMin()
        self.setMinimumWidth(LEGEND_W)
        self.setMaximumWidth(LEGEND_W)
        height = self._sizeHint[Qt.SizeHint.MinimumSize][1]
        for hint in (Qt.SizeHint.MinimumSize, Qt.SizeHint.PreferredSize):
            self._sizeHint[hint] = (LEGEND_W, height)
        self._sizeHint[Qt.SizeHint.MaximumSize] = (LEGEND_W, -1)
        self.updateGeometry()

    def set_entries(self, entries) -> None:
        """entries: (colour, mark, html) each; mark is a few characters such as '\u2501\u2501'.
        A hidden entry is drawn muted and struck through."""
        self._entries = list(entries)
        html = "<br>".join(
            f"<span style='color:{theme.GREY}'>{mark}&nbsp;<s>{text}</s></span>"
            if i in self.hidden else f"<span style='color:{color}'>{mark}</span>&nbsp;{text}"
            for i, (color, mark, text) in enumerate(self._entries))
        if html != self._html:  # setText re-lays the item out: only when it changed
            self._html = html
            self.setText(html)

    def restyle(self) -> None:
        """The palette changed: the legend's own text colour (its entries' colours are the
        panel's to set again)."""
        self.opts["color"] = theme.TEXT
        self._html = None

    def entry_at(self, y: float) -> int:
        """The entry at height `y` (the legend's own coordinates), or -1."""
        n = len(self._entries)
        rect = self.item.mapRectToParent(self.item.boundingRect())
        if not n or not rect.top() <= y < rect.bottom():
            return -1
        return min(int((y - rect.top()) / (rect.height() / n)), n - 1)

    def toggle(self, index: int) -> bool:
        """Hide or show entry `index`; returns whether it is shown now."""
        self.hidden ^= {index}
        self.set_entries(self._entries)
        return index not in self.hidden

    def mouseClickEvent(self, ev) -> None:  # pyqtgraph's click, not a C++ virtual
        i = self.entry_at(ev.pos().y())
        if i < 0 or self.on_click is None:
            ev.ignore()
            return
        ev.accept()
        self.on_click(i)

    @property
    def html(self) -> str:
        return self._html or ""


SOLID, DASHED, DOTTED = "\u2501\u2501", "\u2505\u2505", "\u2509\u2509"


def pct_pens(n: int, universe: bool, movers: int = 5) -> list:
    """The % change curves' pens: one a symbol, or a universe's best movers solid and its
    worst dashed."""
    if universe:
        return [line_pen(theme.symbol_color(i), Qt.PenStyle.SolidLine if i < movers
                         else Qt.PenStyle.DashLine) for i in range(2 * movers)]
    return [line_pen(theme.symbol_color(i)) for i in range(n)]


def pct_entries(symbols, change, cols, universe: bool, movers: int = 5) -> list:
    """The % change legend: each drawn symbol with its change over the window, coloured."""
    entries = []
    for k, j in enumerate(cols):
        text = f"<b>{symbols[j]}</b>"
        ch = change[j] if j < len(change) else math.nan
        if math.isfinite(ch):
            col = theme.BUY if ch > 0.0005 else theme.SELL if ch < -0.0005 else theme.MUTED
            text += f" <span style='color:{col}'>{ch:+.2f}%</span>"
        entries.append((theme.symbol_color(k), DASHED if universe and k >= movers else SOLID,
                        text))
    return entries


def price_entries(selected: str, index: int, cfg) -> list:
    """The price legend: the symbol, both moving averages, the fills' marks."""
    return [(theme.symbol_color(index), SOLID, f"<b>{selected}</b>"),
            (theme.MA_SHORT, DASHED, f"MA {cfg.short_window}"),
            (theme.MA_LONG, DOTTED, f"MA {cfg.long_window}"),
            (theme.BUY, "\u25b2", "BUY"), (theme.SELL, "\u25bc", "SELL")]

