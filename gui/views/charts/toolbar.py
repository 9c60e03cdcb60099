"""The charts' toolbar (symbol, window, pause, live, the crosshair's readout) and the words
the charts show: each plot's title with the feed's state, and the readout under the cursor."""
from __future__ import annotations

import math
import time
from typing import List

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from gui.views import theme

WINDOWS = (("30 s", 30.0), ("1 min", 60.0), ("2 min", 120.0), ("5 min", 300.0),
           ("10 min", 600.0))


class ChartToolbar(QWidget):
    """Symbol, window, Pause and Live, and the crosshair's readout line."""

    def __init__(self, window_s: float, parent=None):
        super().__init__(parent)
        self.symbol_box = QComboBox()
        self.symbol_box.setMinimumWidth(90)
        self.symbol_box.setToolTip("Symbol shown in price units with its moving averages "
                                   "and fills")
        self.window_box = QComboBox()
        for text, secs in WINDOWS:
            self.window_box.addItem(text, secs)
            if secs == window_s:
                self.window_box.setCurrentIndex(self.window_box.count() - 1)
        self.window_box.setToolTip("Width of the rolling time window")
        self.pause_btn = QPushButton("\u275a\u275a  Pause")
        self.pause_btn.setCheckable(True)
        self.pause_btn.setToolTip("Freeze the charts (data keeps being recorded)")
        self.live_btn = QPushButton("\u21e5  Live")
        self.live_btn.setCheckable(True)
        self.live_btn.setChecked(True)
        self.live_btn.setToolTip("Follow the newest data (drag the chart left to look back)")
        self.readout = QLabel()
        self.readout.setObjectName("muted")
        self.readout.setFont(theme.mono_font())
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        # a long readout must never widen the window (it is clipped instead)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.readout.setMinimumWidth(0)
        tb = QHBoxLayout(self)
        tb.setContentsMargins(0, 0, 0, 0)
        tb.setSpacing(6)
        for text, w in (("Symbol", self.symbol_box), ("Window", self.window_box)):
            lbl = QLabel(text)
            lbl.setObjectName("muted")
            tb.addWidget(lbl)
            tb.addWidget(w)
        tb.addWidget(self.pause_btn)
        tb.addWidget(self.live_btn)
        tb.addSpacing(12)
        tb.addWidget(self.readout, 1)


def feed_badge(feed: str) -> str:
    """The feed's state beside a title, in the palette in use."""
    color, text = {"live": (theme.GREEN, "\u25cf live"),
                   "stale": (theme.AMBER, "\u25a0 feed stale: showing the last prices"),
                   "waiting": (theme.MUTED, "\u25cb waiting for prices"),
                   "off": (theme.MUTED, "\u25cb feed off")}[feed]
    return f"<span style='color:{color}'>{text}</span>"


TITLE_SIZE = "9.5pt"


def fitting(forms, plot) -> str:
    """Set the longest of a title's forms that fits its room (the title's column of the
    plot's layout, which the view box has too), measured as drawn; the last if none does."""
    widths = [w for w in (plot.titleLabel.boundingRect().width(), plot.vb.width()) if w > 0]
    room = min(widths) - 2 if widths else 10_000
    for form in forms:
        plot.setTitle(form, size=TITLE_SIZE)
        if plot.titleLabel.item.boundingRect().width() <= room:
            return form
    return forms[-1]


def plot_title_forms(feed: str, selected: str, cfg, movers: int = 0) -> List[List[str]]:
    """Each plot's title in its forms, longest first (what it shows, and the feed's state
    on the first; a universe draws only its `movers` best and worst symbols there): the
    panel shows the longest that fits its plot's width, never one cut short."""
    first = (f"Best {movers}, worst {movers} of {len(cfg.symbols):,}" if movers
             else "All symbols")
    short = f"{movers} + {movers} of {len(cfg.symbols):,}" if movers else "All symbols"
    badge = f" &nbsp; {feed_badge(feed)}"
    ma = f"MA {cfg.short_window} / MA {cfg.long_window}"
    forms = (
        [(first, " \u00b7 % change in the window" + badge), (first, " \u00b7 %" + badge),
         (short, " %" + badge), (short, "")],
        [(selected, f" \u00b7 price, {ma}, fills"), (selected, f" \u00b7 {ma}"),
         (selected, "")],
        [("News sentiment", f" \u00b7 buys need &gt; {cfg.bullish}, sells need &lt; "
                            f"{cfg.bearish}"),
         ("News sentiment", f" \u00b7 &gt; {cfg.bullish} buys, &lt; {cfg.bearish} sells"),
         ("Sentiment", f" &gt;{cfg.bullish} / &lt;{cfg.bearish}"), ("Sentiment", "")],
        [("Session P&amp;L", " \u00b7 average cost, open positions marked to the last "
                             "prices; dots: fills"),
         ("Session P&amp;L", " \u00b7 average cost; dots: fills"), ("Session P&amp;L", ""),
         ("P&amp;L", "")])
    return [[f"<span style='color:{theme.TEXT}'>{title}</span>"
             f"<span style='color:{theme.MUTED}'>{what}</span>" for title, what in plot]
            for plot in forms]


def readout_text(at: dict, key: str, x: float, y: float, symbols, sel: int, cfg) -> str:
    """The crosshair's line: the time, the cursor, and the values of the plot under it
    (`at` from ChartData.values_at)."""
    clock = time.strftime("%H:%M:%S", time.localtime(x)) + f"{x % 1:.1f}"[1:]
    parts = [f"<span style='color:{theme.TEXT}'>{clock}</span>"]
    if key == "pct":
        parts.append(f"cursor {y:+.3f}%")
        for j, (p, ch) in enumerate(at["prices"]):
            if math.isfinite(p):
                parts.append(f"<span style='color:{theme.symbol_color(j)}'>{symbols[j]}"
                             f"</span> {p:,.2f} ({ch:+.2f}%)")
    elif key == "price":
        parts.append(f"cursor {y:,.2f}")
        if at["prices"] and math.isfinite(at["prices"][sel][0]):
            parts.append(f"<span style='color:{theme.symbol_color(sel)}'>{symbols[sel]}"
                         f"</span> {at['prices'][sel][0]:,.2f}")
        for name, window in (("short", cfg.short_window), ("long", cfg.long_window)):
            if at[name] and math.isfinite(at[name][sel]):
                parts.append(f"MA {window} {at[name][sel]:,.2f}")
    elif key == "pnl":
        parts.append(f"cursor {y:+,.2f}")
        if math.isfinite(at.get("pnl", math.nan)):
            parts.append(f"P&L {at['pnl']:+,.2f}")
    else:
        parts.append(f"cursor {y:.1f}")
        if math.isfinite(at["sentiment"]):
            parts.append(f"sentiment {at['sentiment']:.0f}")
    return "  \u2502  ".join(parts)

