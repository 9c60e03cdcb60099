"""The pieces of the charts (pyqtgraph): plots that share a time axis, a cheap grid, the
threshold bands of the sentiment plot, the crosshair lines, and a watcher of the viewport's
paint events. ChartsPanel (charts.py) puts them together."""
from __future__ import annotations

import math
import os
import time
from collections import deque
from typing import List

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QLineF, QObject, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPen
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from . import theme
from .chart_model import fit
from .guard import guarded

AXIS_WIDTH = 64
# Data lines use 1 px cosmetic pens: Qt strokes wider antialiased lines as polygons, which
# costs ~10x more to paint when a curve holds thousands of points (143 vs 16 ms a frame for
# 10 minutes of five symbols).
LINE_W = 1.0
# 'peak' downsampling keeps a min and a max per bin: ~2 points a pixel column is all a line
# can show, and painting (antialiased) costs in proportion to the points
DOWNSAMPLE_FACTOR = float(os.environ.get("IPCDESK_DOWNSAMPLE_FACTOR", "1.0"))


def tune(curve):
    curve.opts["autoDownsampleFactor"] = DOWNSAMPLE_FACTOR
    return curve


def line_pen(color: str, style=Qt.PenStyle.SolidLine):
    return pg.mkPen(color, width=LINE_W, style=style)


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
            ("#e6edf3", DASHED, f"MA {cfg.short_window}"),
            ("#f0883e", DOTTED, f"MA {cfg.long_window}"),
            (theme.BUY, "\u25b2", "BUY"), (theme.SELL, "\u25bc", "SELL")]


def shrinkable(label: pg.LabelItem) -> pg.LabelItem:
    """A LabelItem that never asks for more width than it gets: pyqtgraph makes a label's
    text width its minimum (on every resize too), so a long plot title widened the charts past
    the window and pushed the legends out of sight. Its text is clipped instead."""
    update = label.updateMin

    def update_min():
        update()
        label.setMinimumWidth(0)
        hints = label._sizeHint
        hints[Qt.SizeHint.MinimumSize] = (0, hints[Qt.SizeHint.MinimumSize][1])
        label.updateGeometry()
    label.updateMin = update_min
    label.setFlag(label.GraphicsItemFlag.ItemClipsChildrenToShape)
    label.opts["justify"] = "left"  # clipped, a title keeps its beginning
    update_min()
    return label


def new_plot(glw: pg.GraphicsLayoutWidget, row: int, show_time: bool,
             on_manual_range) -> pg.PlotItem:
    """A plot of the column: a time axis (shown on the bottom one only), x panned by the
    user, y fitted by the panel from the samples in view."""
    axis = pg.DateAxisItem(orientation="bottom")
    p = glw.addPlot(row=row, col=0, axisItems={"bottom": axis})
    p.setMouseEnabled(x=True, y=False)
    p.hideButtons()
    p.setMenuEnabled(False)
    p.setClipToView(True)
    shrinkable(p.titleLabel)
    p.setDownsampling(auto=True, mode="peak")
    p.getAxis("left").setWidth(AXIS_WIDTH)
    for name in ("left", "bottom"):
        ax = p.getAxis(name)
        ax.setPen(pg.mkPen(theme.GRID))
        ax.setTextPen(pg.mkPen(theme.MUTED))
    if not show_time:
        p.getAxis("bottom").setStyle(showValues=False)
        p.getAxis("bottom").setHeight(6)
    # x follows the clock (or the user); y is fitted from the samples in view, which costs
    # far less than pyqtgraph's auto-range over every item each frame
    p.disableAutoRange()
    p.vb.sigRangeChangedManually.connect(on_manual_range)
    p.grid = GridItem(p.vb, axis, p.getAxis("left"))
    return p


class GridItem(pg.GraphicsObject):
    """Grid lines at the axes' major ticks, drawn in one pass in the ViewBox's pixels.

    pyqtgraph's own grid (showGrid) is drawn by each AxisItem into a QPicture replayed every
    paint, ~3 ms per axis per frame here; this costs one drawLines call."""

    def __init__(self, vb, xaxis=None, yaxis=None, y_values=None):
        super().__init__()
        self.vb, self.xaxis, self.yaxis, self.y_values = vb, xaxis, yaxis, y_values
        self.pen = QPen(QColor(255, 255, 255, 20))
        self.pen.setCosmetic(True)
        self.setParentItem(vb)
        self.setZValue(-100)  # under the curves
        vb.sigResized.connect(self._resized)

    def _resized(self, *_):
        self.prepareGeometryChange()

    def boundingRect(self):
        return self.vb.boundingRect()

    @staticmethod
    def _majors(axis, lo: float, hi: float, size: float):
        if size <= 0 or not hi > lo:
            return []
        if isinstance(axis, pg.DateAxisItem) and getattr(axis, "fontMetrics", None) is None:
            # a DateAxisItem measures its labels in its own paint; ours may come first
            axis.fontMetrics = QFontMetrics(axis.style.get("tickFont") or QFont())
        levels = axis.tickValues(lo, hi, size)
        values = list(levels[0][1]) if levels else []
        if len(values) < 4 and len(levels) > 1:
            values += list(levels[1][1])
        return values

    def paint(self, p, *args):
        # never let an exception out of a C++ virtual: Qt is mid-paint and cannot handle it
        guarded("the chart grid's paint", self._paint, p)

    def _paint(self, p):
        r = self.vb.boundingRect()
        (x0, x1), (y0, y1) = self.vb.viewRange()
        w, h = r.width(), r.height()
        lines = []
        if self.xaxis is not None and x1 > x0:
            for v in self._majors(self.xaxis, x0, x1, w):
                px = r.left() + (v - x0) / (x1 - x0) * w
                lines.append(QLineF(px, r.top(), px, r.bottom()))
        if y1 > y0:
            ys = self.y_values if self.y_values is not None else (
                self._majors(self.yaxis, y0, y1, h) if self.yaxis is not None else [])
            for v in ys:
                py = r.bottom() - (v - y0) / (y1 - y0) * h
                lines.append(QLineF(r.left(), py, r.right(), py))
        if lines:
            p.setPen(self.pen)
            p.drawLines(lines)


class ViewportWatcher(QObject):
    """Counts the plot viewport's paint events; hides the crosshair when the mouse leaves."""

    def __init__(self, on_leave, parent=None):
        super().__init__(parent)
        self.count = 0
        self.on_leave = on_leave

    def eventFilter(self, obj, ev):
        guarded("the chart viewport's event filter", self._seen, ev)  # a C++ virtual
        return False

    def _seen(self, ev) -> None:
        t = ev.type()
        if t == QEvent.Type.Paint:
            self.count += 1
        elif t == QEvent.Type.Leave:
            self.on_leave()


class ThresholdBands:
    """The sentiment plot's bullish and bearish thresholds: dashed lines and shaded zones."""

    def __init__(self, plot: pg.PlotItem):
        self.bull_zone = self._zone((60, 100), (46, 204, 113, 34))
        self.bear_zone = self._zone((0, 40), (255, 92, 92, 34))
        for z in (self.bull_zone, self.bear_zone):
            plot.addItem(z)
        self.bull_line = self._line(60, theme.BUY, "bullish > {value:.0f}", [(1, 1), (1, 1)])
        self.bear_line = self._line(40, theme.SELL, "bearish < {value:.0f}", [(1, 0), (1, 0)])
        for line in (self.bull_line, self.bear_line):
            plot.addItem(line)

    @staticmethod
    def _zone(region, rgba) -> pg.LinearRegionItem:
        z = pg.LinearRegionItem(region, orientation="horizontal", movable=False,
                                brush=pg.mkBrush(*rgba), pen=pg.mkPen(None))
        z.setZValue(-10)
        for line in z.lines:
            line.setPen(pg.mkPen(None))
            line.setHoverPen(pg.mkPen(None))
        return z

    @staticmethod
    def _line(pos, color, label, anchors) -> pg.InfiniteLine:
        line = pg.InfiniteLine(pos=pos, angle=0, movable=False,
                               pen=pg.mkPen(color, width=1.2, style=Qt.PenStyle.DashLine),
                               label=label, labelOpts={"position": 0.985, "color": color,
                                                       "anchors": anchors,
                                                       "fill": (13, 17, 23, 200)})
        line.setZValue(20)  # labels above the sentiment curve
        return line

    def set(self, bullish: float, bearish: float) -> None:
        self.bull_zone.setRegion((bullish, 100))
        self.bear_zone.setRegion((0, bearish))
        self.bull_line.setValue(bullish)
        self.bear_line.setValue(bearish)


class CrosshairLines:
    """A dashed vertical line in every plot and a horizontal one in the plot under the
    cursor."""

    def __init__(self, plots: dict):
        self.lines = {}
        for key, p in plots.items():
            v = pg.InfiniteLine(angle=90, movable=False,
                                pen=pg.mkPen("#8b949e", width=1, style=Qt.PenStyle.DashLine))
            h = pg.InfiniteLine(angle=0, movable=False,
                                pen=pg.mkPen("#8b949e", width=1, style=Qt.PenStyle.DashLine))
            for line in (v, h):
                line.setVisible(False)
                line.setZValue(50)
                p.addItem(line, ignoreBounds=True)
            self.lines[key] = (v, h)

    def show(self, key: str, x: float, y: float) -> None:
        for k, (v, h) in self.lines.items():
            v.setPos(x)
            v.setVisible(True)
            h.setVisible(k == key)
            if k == key:
                h.setPos(y)

    def hide(self) -> None:
        for v, h in self.lines.values():
            v.setVisible(False)
            h.setVisible(False)


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


FEED_BADGES = {"live": f"<span style='color:{theme.GREEN}'>\u25cf live</span>",
               "stale": f"<span style='color:{theme.AMBER}'>\u25a0 feed stale: showing the "
                        f"last prices</span>",
               "waiting": f"<span style='color:{theme.MUTED}'>\u25cb waiting for prices</span>",
               "off": f"<span style='color:{theme.MUTED}'>\u25cb feed off</span>"}


def plot_titles(feed: str, selected: str, cfg, movers: int = 0) -> List[str]:
    """The three plots' titles: what each shows, and the feed's state on the first (a
    universe draws only its `movers` best and worst symbols there)."""
    first = (f"Best {movers}, worst {movers} of {len(cfg.symbols):,}" if movers
             else "All symbols")
    parts = ((first, f" \u00b7 % change in the window</span> &nbsp; {FEED_BADGES[feed]}"),
             (selected, f" \u00b7 price, MA {cfg.short_window} / MA {cfg.long_window}, "
                        f"fills</span>"),
             ("News sentiment", f" \u00b7 buys need &gt; {cfg.bullish}, sells need &lt; "
                                f"{cfg.bearish}</span>"),
             ("Session P&amp;L", " \u00b7 average cost, open positions marked to the last "
                                 "prices; dots: fills</span>"))
    return [f"<span style='color:{theme.TEXT}'>{title}</span>"
            f"<span style='color:{theme.MUTED}'>{what}" for title, what in parts]


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


def axis_with_zero(p: pg.PlotItem, label: str, units: str) -> None:
    """A y axis in plain units (no SI prefix) and a dashed line at zero."""
    p.setLabel("left", label, units=units)
    p.getAxis("left").enableAutoSIPrefix(False)
    p.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(
        theme.MUTED, width=1, style=Qt.PenStyle.DashLine)))


class ChartPlots:
    """The column of plots on one time axis (% change, the picked symbol's price, sentiment,
    the session's P&L), with their curves, legends, threshold bands and crosshair lines (what
    ChartsPanel draws into)."""

    def __init__(self, on_manual_range, on_mouse_moved):
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.ci.setContentsMargins(2, 2, 6, 2)
        self.glw.ci.setSpacing(2)
        rows = {"pct": (False, 5), "price": (False, 5), "sent": (False, 3), "pnl": (True, 3)}
        self.plots = {}
        for i, (key, (show_time, stretch)) in enumerate(rows.items()):
            self.plots[key] = new_plot(self.glw, i, show_time, on_manual_range)
            self.glw.ci.layout.setRowStretchFactor(i, stretch)
        self.pct_plot, self.price_plot, self.sent_plot, self.pnl_plot = self.plots.values()
        for plot in (self.price_plot, self.sent_plot, self.pnl_plot):
            plot.setXLink(self.pct_plot)
        self._build_pct_plot()
        self._build_price_plot()
        self._build_sentiment_plot()
        self._build_pnl_plot()
        self.crosshair = CrosshairLines(self.plots)
        self._mouse_proxy = pg.SignalProxy(self.glw.scene().sigMouseMoved, rateLimit=60,
                                           slot=on_mouse_moved)
        self.glw.viewport().setMouseTracking(True)

    def _build_pct_plot(self) -> None:
        p = self.pct_plot
        axis_with_zero(p, "change", units="%")
        self.pct_legend = SideLegend()
        self.glw.addItem(self.pct_legend, row=0, col=1)

    def _build_price_plot(self) -> None:
        p = self.price_plot
        p.setLabel("left", "price", units="$")
        p.getAxis("left").enableAutoSIPrefix(False)
        self.price_legend = SideLegend()
        self.glw.addItem(self.price_legend, row=1, col=1)
        self.price_curve = tune(p.plot(pen=line_pen(theme.ACCENT), connect="finite"))
        self.short_curve = tune(p.plot(pen=line_pen("#e6edf3", Qt.PenStyle.DashLine),
                                       connect="finite"))
        self.long_curve = tune(p.plot(pen=line_pen("#f0883e", Qt.PenStyle.DotLine),
                                      connect="finite"))
        self.buy_scatter = pg.ScatterPlotItem(symbol="t1", size=13, brush=pg.mkBrush(theme.BUY),
                                              pen=pg.mkPen("#0b2e17", width=1))
        self.sell_scatter = pg.ScatterPlotItem(symbol="t", size=13, brush=pg.mkBrush(theme.SELL),
                                               pen=pg.mkPen("#3a0b0b", width=1))
        p.addItem(self.buy_scatter)
        p.addItem(self.sell_scatter)

    def _build_sentiment_plot(self) -> None:
        sp = self.sent_plot
        sp.setLabel("left", "sentiment")
        sp.setYRange(0, 100, padding=0.04)
        sp.getAxis("left").setTicks([[(v, str(v)) for v in (0, 25, 50, 75, 100)]])
        sp.grid.y_values = (25, 50, 75)
        self.bands = ThresholdBands(sp)
        self.bull_line, self.bear_line = self.bands.bull_line, self.bands.bear_line
        self.sent_curve = tune(sp.plot(pen=line_pen("#e6edf3"), stepMode="left"))

    def _build_pnl_plot(self) -> None:
        """The session's total P&L over time (an equity curve), the fills marked on it."""
        p = self.pnl_plot
        axis_with_zero(p, "P&L", units="$")
        self.pnl_curve = tune(p.plot(pen=line_pen(theme.ACCENT), connect="finite"))
        self.pnl_buys = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(theme.BUY))
        self.pnl_sells = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(theme.SELL))
        p.addItem(self.pnl_buys)
        p.addItem(self.pnl_sells)


def fit_y(plot, *arrays, min_span: float) -> None:
    """Fit the y range to the finite values of `arrays` (what is in view)."""
    bounds = fit(arrays, min_span)
    if bounds is None:
        return
    lo, hi = bounds
    cur_lo, cur_hi = plot.vb.viewRange()[1]
    eps = 1e-9 * max(1.0, abs(lo), abs(hi))
    if abs(cur_lo - lo) > eps or abs(cur_hi - hi) > eps:
        plot.setYRange(lo, hi, padding=0)


class FrameMeter:
    """When frames were rendered: the frame rate over the last second, for the status line
    and the benchmarks."""

    def __init__(self, keep: int = 1024):
        self._stamps: deque = deque(maxlen=keep)

    def tick(self) -> None:
        self._stamps.append(time.perf_counter())

    def rate(self, over: float = 1.0) -> float:
        now = time.perf_counter()
        n = 0
        for s in reversed(self._stamps):
            if s < now - over:
                break
            n += 1
        return n / over

    def times(self) -> list:
        return list(self._stamps)
