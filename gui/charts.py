"""Timer-driven charts over the shared-memory books (pyqtgraph).

Shared memory holds only the latest price of each symbol, so every frame (a QTimer at `fps`)
the panel copies `ctl.book.snapshot()` and `ctl.signal_book.read_all()` into its own
preallocated history rings, then calls setData once per curve. Nothing is redrawn per
message; curves clip to the view and downsample with the 'peak' method.

Three plots share one time axis:
* all symbols as % change from the left edge of the window (their price levels differ too
  much for one price axis), with the live price and change in the legend;
* the selected symbol in price units with the Strategy's short and long moving averages
  (signal book rows) and BUY / SELL triangles where confirmations arrived;
* news sentiment with the bullish / bearish thresholds and shaded zones.

Auto-scroll follows the right edge; panning back stops it, returning to the right edge (or
the Live button) resumes it. Pause freezes the drawing (sampling goes on). A crosshair shows
the values under the cursor. `fps()` counts frames actually rendered in the last second.
"""
from __future__ import annotations

import math
import os
import time
from collections import deque
from typing import Dict, List, Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QLineF, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPen
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QVBoxLayout, QWidget)

from . import theme
from .model import Ring, State, feed_state

DEFAULT_FPS = 30
DEFAULT_WINDOW_S = 60.0
HISTORY_S = 600.0
WINDOWS = (("30 s", 30.0), ("1 min", 60.0), ("2 min", 120.0), ("5 min", 300.0),
           ("10 min", 600.0))
MAX_MARKERS = 2000
SENTIMENT_REPEAT_S = 0.25
# with no live feed and nothing new, a frame would draw the same picture again: draw
# at most this often then (an idle desk used 17% of a core redrawing nothing at 30 fps)
IDLE_FRAME_S = 0.5
AXIS_WIDTH = 64
# Data lines use 1 px cosmetic pens: Qt strokes wider antialiased lines as polygons, which
# costs ~10x more to paint when a curve holds thousands of points (143 vs 16 ms a frame for
# 10 minutes of five symbols).
LINE_W = 1.0
# 'peak' downsampling keeps a min and a max per bin: ~2 points a pixel column is all a line
# can show, and painting (antialiased) costs in proportion to the points
DOWNSAMPLE_FACTOR = float(os.environ.get("IPCDESK_DOWNSAMPLE_FACTOR", "1.0"))


def _tune(curve):
    curve.opts["autoDownsampleFactor"] = DOWNSAMPLE_FACTOR
    return curve


def _fmt_time(t: float, decimals: int = 1) -> str:
    frac = f"{t % 1:.{decimals}f}"[1:] if decimals else ""
    return time.strftime("%H:%M:%S", time.localtime(t)) + frac


def _first_finite(values: np.ndarray) -> np.ndarray:
    """Per column, the first finite value (NaN when there is none)."""
    if not len(values):
        return np.full(values.shape[1], np.nan)
    ok = np.isfinite(values)
    idx = ok.argmax(axis=0)
    base = values[idx, np.arange(values.shape[1])]
    base[~ok.any(axis=0)] = np.nan
    return base


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
        try:
            self._paint(p)
        except Exception:  # e.g. a DateAxisItem that has not measured its font yet
            pass

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


class _ViewportWatcher(QObject):
    """Counts the plot viewport's paint events; hides the crosshair when the mouse leaves."""

    def __init__(self, on_leave, parent=None):
        super().__init__(parent)
        self.count = 0
        self.on_leave = on_leave

    def eventFilter(self, obj, ev):
        try:
            t = ev.type()
            if t == QEvent.Type.Paint:
                self.count += 1
            elif t == QEvent.Type.Leave:
                self.on_leave()
        except Exception:  # never raise out of a C++ virtual (see GridItem.paint)
            pass
        return False


class ChartsPanel(QWidget):
    followingChanged = Signal(bool)

    def __init__(self, adapter, listener=None, fps: int = DEFAULT_FPS,
                 window_s: float = DEFAULT_WINDOW_S, history_s: float = HISTORY_S,
                 parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.adapter = adapter
        self.target_fps = fps
        self.window_s = float(window_s)
        self.history_s = float(history_s)
        self.paused = False
        self.following = True
        self.frames_rendered = 0
        self.frames_sampled = 0
        self.frame_ms = 0.0
        self._stamps: deque = deque(maxlen=1024)
        self._changed = True       # a sample arrived since the last render
        self._last_render = 0.0    # time.time() of the last render
        self._markers: Dict[str, deque] = {}
        self._markers_dirty = True
        self._book = None
        self._sig = None
        self._last_count = -1
        self._last_sig_count = -1
        self._last_sent = None
        self._last_sent_t = 0.0
        self._feed = "off"
        self._legend_next = 0.0
        self._hover = None  # (plot key, x, y) while the cursor is over a plot

        self._build_toolbar()
        self._build_plots()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 2)
        lay.setSpacing(4)
        lay.addLayout(self.toolbar)
        lay.addWidget(self.glw, 1)

        self._apply_config(adapter.config)
        adapter.configChanged.connect(self._on_config_changed)
        if listener is not None:
            listener.confirmsReceived.connect(self._on_confirms)

        self.paint_counter = _ViewportWatcher(self.hide_crosshair, self)
        self.glw.viewport().installEventFilter(self.paint_counter)

        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(max(1, int(round(1000 / fps))))
        self.timer.timeout.connect(self._on_frame)
        self.timer.start()

    # -- construction -------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        tb = QHBoxLayout()
        tb.setSpacing(6)
        self.symbol_box = QComboBox()
        self.symbol_box.setMinimumWidth(90)
        self.symbol_box.setToolTip("Symbol shown in price units with its moving averages "
                                   "and fills")
        self.symbol_box.currentTextChanged.connect(self._on_symbol_changed)
        self.window_box = QComboBox()
        for text, secs in WINDOWS:
            self.window_box.addItem(text, secs)
        self.window_box.setToolTip("Width of the rolling time window")
        self.window_box.currentIndexChanged.connect(self._on_window_changed)
        self.pause_btn = QPushButton("\u275a\u275a  Pause")
        self.pause_btn.setCheckable(True)
        self.pause_btn.setToolTip("Freeze the charts (data keeps being recorded)")
        self.pause_btn.toggled.connect(self.set_paused)
        self.live_btn = QPushButton("\u21e5  Live")
        self.live_btn.setCheckable(True)
        self.live_btn.setChecked(True)
        self.live_btn.setToolTip("Follow the newest data (drag the chart left to look back)")
        self.live_btn.clicked.connect(lambda: self.set_following(True))
        self.readout = QLabel()
        self.readout.setObjectName("muted")
        self.readout.setFont(theme.mono_font())
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        # a long readout must never widen the window (it is clipped instead)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.readout.setMinimumWidth(0)
        for text, w in (("Symbol", self.symbol_box), ("Window", self.window_box)):
            lbl = QLabel(text)
            lbl.setObjectName("muted")
            tb.addWidget(lbl)
            tb.addWidget(w)
        tb.addWidget(self.pause_btn)
        tb.addWidget(self.live_btn)
        tb.addSpacing(12)
        tb.addWidget(self.readout, 1)
        self.toolbar = tb
        self.window_box.blockSignals(True)
        for i, (_, secs) in enumerate(WINDOWS):
            if secs == self.window_s:
                self.window_box.setCurrentIndex(i)
        self.window_box.blockSignals(False)

    def _new_plot(self, row: int, show_time: bool) -> pg.PlotItem:
        axis = pg.DateAxisItem(orientation="bottom")
        p = self.glw.addPlot(row=row, col=0, axisItems={"bottom": axis})
        p.setMouseEnabled(x=True, y=False)
        p.hideButtons()
        p.setMenuEnabled(False)
        p.setClipToView(True)
        p.setDownsampling(auto=True, mode="peak")
        p.getAxis("left").setWidth(AXIS_WIDTH)
        for name in ("left", "bottom"):
            ax = p.getAxis(name)
            ax.setPen(pg.mkPen(theme.GRID))
            ax.setTextPen(pg.mkPen(theme.MUTED))
        if not show_time:
            p.getAxis("bottom").setStyle(showValues=False)
            p.getAxis("bottom").setHeight(6)
        # x follows the clock (or the user); y is fitted by _fit_y from the samples in view,
        # which costs far less than pyqtgraph's auto-range over every item each frame
        p.disableAutoRange()
        p.vb.sigRangeChangedManually.connect(self._on_manual_range)
        p.grid = GridItem(p.vb, axis, p.getAxis("left"))
        return p

    def _build_plots(self) -> None:
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.ci.setContentsMargins(2, 2, 6, 2)
        self.glw.ci.setSpacing(2)
        self.pct_plot = self._new_plot(0, False)
        self.price_plot = self._new_plot(1, False)
        self.sent_plot = self._new_plot(2, True)
        self.price_plot.setXLink(self.pct_plot)
        self.sent_plot.setXLink(self.pct_plot)
        lay = self.glw.ci.layout
        lay.setRowStretchFactor(0, 5)
        lay.setRowStretchFactor(1, 5)
        lay.setRowStretchFactor(2, 3)
        self.plots = {"pct": self.pct_plot, "price": self.price_plot, "sent": self.sent_plot}

        self.pct_plot.setLabel("left", "change", units="%")
        self.pct_plot.getAxis("left").enableAutoSIPrefix(False)
        self.pct_plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(
            theme.MUTED, width=1, style=Qt.PenStyle.DashLine)))
        self.pct_legend = self.pct_plot.addLegend(
            offset=(6, 4), labelTextColor=theme.TEXT, brush=pg.mkBrush(13, 17, 23, 210),
            pen=pg.mkPen(theme.BORDER), labelTextSize="8.5pt", colCount=5)

        self.price_plot.setLabel("left", "price", units="$")
        self.price_plot.getAxis("left").enableAutoSIPrefix(False)
        self.price_legend = self.price_plot.addLegend(
            offset=(6, 4), labelTextColor=theme.TEXT, brush=pg.mkBrush(13, 17, 23, 210),
            pen=pg.mkPen(theme.BORDER), labelTextSize="8.5pt", colCount=5)
        self.price_curve = self.price_plot.plot(pen=pg.mkPen(theme.ACCENT, width=LINE_W),
                                                connect="finite")
        self.short_curve = self.price_plot.plot(pen=pg.mkPen("#e6edf3", width=LINE_W,
                                                             style=Qt.PenStyle.DashLine),
                                                connect="finite")
        self.long_curve = self.price_plot.plot(pen=pg.mkPen("#f0883e", width=LINE_W,
                                                            style=Qt.PenStyle.DotLine),
                                               connect="finite")
        self.buy_scatter = pg.ScatterPlotItem(symbol="t1", size=13, brush=pg.mkBrush(theme.BUY),
                                              pen=pg.mkPen("#0b2e17", width=1))
        self.sell_scatter = pg.ScatterPlotItem(symbol="t", size=13, brush=pg.mkBrush(theme.SELL),
                                               pen=pg.mkPen("#3a0b0b", width=1))
        self.price_plot.addItem(self.buy_scatter)
        self.price_plot.addItem(self.sell_scatter)
        for item, name in ((self.price_curve, "price"), (self.short_curve, "short MA"),
                           (self.long_curve, "long MA"), (self.buy_scatter, "BUY"),
                           (self.sell_scatter, "SELL")):
            self.price_legend.addItem(item, name)

        sp = self.sent_plot
        sp.setLabel("left", "sentiment")
        sp.setYRange(0, 100, padding=0.04)
        sp.getAxis("left").setTicks([[(v, str(v)) for v in (0, 25, 50, 75, 100)]])
        sp.grid.y_values = (25, 50, 75)
        self.bull_zone = pg.LinearRegionItem((60, 100), orientation="horizontal", movable=False,
                                             brush=pg.mkBrush(46, 204, 113, 34),
                                             pen=pg.mkPen(None))
        self.bear_zone = pg.LinearRegionItem((0, 40), orientation="horizontal", movable=False,
                                             brush=pg.mkBrush(255, 92, 92, 34),
                                             pen=pg.mkPen(None))
        for z in (self.bull_zone, self.bear_zone):
            z.setZValue(-10)
            for line in z.lines:
                line.setPen(pg.mkPen(None))
                line.setHoverPen(pg.mkPen(None))
            sp.addItem(z)
        self.bull_line = pg.InfiniteLine(
            pos=60, angle=0, movable=False,
            pen=pg.mkPen(theme.BUY, width=1.2, style=Qt.PenStyle.DashLine),
            label="bullish > {value:.0f}",
            labelOpts={"position": 0.985, "color": theme.BUY, "anchors": [(1, 1), (1, 1)],
                       "fill": (13, 17, 23, 200)})
        self.bear_line = pg.InfiniteLine(
            pos=40, angle=0, movable=False,
            pen=pg.mkPen(theme.SELL, width=1.2, style=Qt.PenStyle.DashLine),
            label="bearish < {value:.0f}",
            labelOpts={"position": 0.985, "color": theme.SELL, "anchors": [(1, 0), (1, 0)],
                       "fill": (13, 17, 23, 200)})
        for line in (self.bull_line, self.bear_line):
            line.setZValue(20)  # labels above the sentiment curve
            sp.addItem(line)
        self.sent_curve = sp.plot(pen=pg.mkPen("#e6edf3", width=LINE_W), stepMode="left")
        for c in (self.price_curve, self.short_curve, self.long_curve, self.sent_curve):
            _tune(c)
        self.sent_now = pg.TextItem(color=theme.TEXT, anchor=(1, 0))

        self.crosshair = {}
        for key, p in self.plots.items():
            v = pg.InfiniteLine(angle=90, movable=False,
                                pen=pg.mkPen("#8b949e", width=1, style=Qt.PenStyle.DashLine))
            h = pg.InfiniteLine(angle=0, movable=False,
                                pen=pg.mkPen("#8b949e", width=1, style=Qt.PenStyle.DashLine))
            for line in (v, h):
                line.setVisible(False)
                line.setZValue(50)
                p.addItem(line, ignoreBounds=True)
            self.crosshair[key] = (v, h)
        self._mouse_proxy = pg.SignalProxy(self.glw.scene().sigMouseMoved, rateLimit=60,
                                           slot=self._on_mouse_moved)
        self.glw.viewport().setMouseTracking(True)

    # -- configuration --------------------------------------------------------------------
    def _apply_config(self, config) -> None:
        self.config = config
        self.symbols: List[str] = list(config.symbols)
        n = len(self.symbols)
        cap = int(self.history_s * self.target_fps) + 16
        self.prices = Ring(cap, n)
        self.mas = Ring(cap, 2 * n)
        self.sentiment = Ring(int(self.history_s / SENTIMENT_REPEAT_S * 2) + 16, 1)
        self._pct = np.full((n, 2 * cap), np.nan)
        self._book = self._sig = None
        self._last_count = self._last_sig_count = -1
        self._last_sent = None
        for sym in self.symbols:
            self._markers.setdefault(sym, deque(maxlen=MAX_MARKERS))
        self._markers_dirty = True

        self.pct_legend.clear()
        for c in getattr(self, "pct_curves", []):
            self.pct_plot.removeItem(c)
        self.pct_curves = []
        self._legend_labels = []
        for i, sym in enumerate(self.symbols):
            c = _tune(self.pct_plot.plot(pen=pg.mkPen(theme.symbol_color(i), width=LINE_W),
                                         connect="finite", name=sym))
            self.pct_curves.append(c)
        self._legend_labels = [label for _, label in self.pct_legend.items]

        current = self.symbol_box.currentText()
        self.symbol_box.blockSignals(True)
        self.symbol_box.clear()
        self.symbol_box.addItems(self.symbols)
        self.symbol_box.blockSignals(False)
        self.select_symbol(current if current in self.symbols else self.symbols[0])

        self.bull_zone.setRegion((config.bullish, 100))
        self.bear_zone.setRegion((0, config.bearish))
        self.bull_line.setValue(config.bullish)
        self.bear_line.setValue(config.bearish)
        self._set_ma_names()
        self._update_titles(force=True)

    def _on_config_changed(self, config) -> None:
        old = self.config
        if tuple(config.symbols) != tuple(old.symbols):
            self._apply_config(config)
        else:
            self.config = config
            self.bull_zone.setRegion((config.bullish, 100))
            self.bear_zone.setRegion((0, config.bearish))
            self.bull_line.setValue(config.bullish)
            self.bear_line.setValue(config.bearish)
            self._set_ma_names()
            self._book = self._sig = None  # new controller: new segments
            self._last_count = self._last_sig_count = -1

    def _set_ma_names(self) -> None:
        cfg = self.config
        for sample, label in self.price_legend.items:
            item = sample.item
            if item is self.short_curve:
                label.setText(f"MA {cfg.short_window}")
            elif item is self.long_curve:
                label.setText(f"MA {cfg.long_window}")
            elif item is self.price_curve:
                label.setText(self.selected)

    # -- user controls --------------------------------------------------------------------
    def select_symbol(self, symbol: str) -> None:
        if symbol not in self.symbols:
            return
        self.selected = symbol
        self.sel_index = self.symbols.index(symbol)
        if self.symbol_box.currentText() != symbol:
            self.symbol_box.setCurrentText(symbol)
        color = theme.symbol_color(self.sel_index)
        self.price_curve.setPen(pg.mkPen(color, width=LINE_W))
        self._markers_dirty = True
        if hasattr(self, "config"):
            self._set_ma_names()
            self._update_titles(force=True)
        if self.paused:
            self._render(time.time())

    def _on_symbol_changed(self, text: str) -> None:
        if text:
            self.select_symbol(text)

    def _on_window_changed(self, i: int) -> None:
        secs = self.window_box.itemData(i)
        if secs:
            self.set_window(float(secs))

    def set_window(self, seconds: float) -> None:
        self.window_s = float(seconds)
        i = self.window_box.findData(self.window_s)
        if i >= 0 and i != self.window_box.currentIndex():
            self.window_box.blockSignals(True)
            self.window_box.setCurrentIndex(i)
            self.window_box.blockSignals(False)
        self.set_following(True)

    def set_paused(self, paused: bool) -> None:
        self.paused = bool(paused)
        if self.pause_btn.isChecked() != self.paused:
            self.pause_btn.setChecked(self.paused)
        self.pause_btn.setText("\u25b6  Resume" if self.paused else "\u275a\u275a  Pause")

    def set_following(self, following: bool) -> None:
        changed = following != self.following
        self.following = following
        self.live_btn.setChecked(following)
        if following and not self.paused:
            self._scroll(time.time())
        if changed:
            self.followingChanged.emit(following)

    def _anchor(self, now: float) -> float:
        """Right edge while following: now while prices flow; the last sample when the feed
        is stale, so the last prices stay in view."""
        last = self.prices.last()
        if last is None or self._feed in ("live", "waiting"):
            return now
        return last[0] + 0.02 * self.window_s

    def _scroll(self, now: float) -> None:
        right = self._anchor(now)
        self.pct_plot.setXRange(right - self.window_s, right, padding=0)

    def _on_manual_range(self, *_args) -> None:
        (left, right), _ = self.pct_plot.vb.viewRange()
        now = time.time()
        anchor = self._anchor(now)
        tol = max(0.5, 0.02 * self.window_s)
        follow = right >= anchor - tol
        if follow and abs((right - left) - self.window_s) > 0.01 * self.window_s:
            self.window_s = right - left  # zoomed with the wheel: keep the new width
        self.set_following(follow)
        if self.paused:  # curves hold only what was in view: draw the new range
            self._render(now)

    # -- confirmations --------------------------------------------------------------------
    def _on_confirms(self, items: list) -> None:
        for t, c in items:
            self._markers.setdefault(c.symbol, deque(maxlen=MAX_MARKERS)).append(
                (t, c.price, c.side == "BUY"))
            if c.symbol == getattr(self, "selected", None):
                self._markers_dirty = True

    def marker_count(self, symbol: Optional[str] = None) -> int:
        if symbol is None:
            return sum(len(d) for d in self._markers.values())
        return len(self._markers.get(symbol, ()))

    # -- the frame ------------------------------------------------------------------------
    def _on_frame(self) -> None:
        t0 = time.perf_counter()
        now = time.time()
        self._sample(now)
        if not self.paused:
            if (self._feed not in ("live", "waiting") and not self._changed
                    and not self._markers_dirty and now - self._last_render < IDLE_FRAME_S):
                return
            self._render(now)
            self._changed, self._last_render = False, now
            self.frames_rendered += 1
            self._stamps.append(time.perf_counter())
            cost = (time.perf_counter() - t0) * 1000
            self.frame_ms = cost if self.frame_ms == 0 else 0.9 * self.frame_ms + 0.1 * cost

    def _sample(self, now: float) -> None:
        """Copy what changed in shared memory into the rings (at most one row per frame)."""
        book, sig = self.adapter.price_book, self.adapter.signal_book
        if book is not self._book:
            self._book, self._last_count = book, -1
            if book is not None:
                self._book_rows = np.array([book.index.get(s, 0) for s in self.symbols])
        if sig is not self._sig:
            self._sig, self._last_sig_count = sig, -1
            if sig is not None:
                self._sig_rows = np.array([sig.index.get(s, 0) for s in self.symbols])
        self._feed = feed_state(book)
        if book is not None:
            count = book.update_counter
            if count != self._last_count and count:
                self._last_count = count
                snap = book.snapshot()
                self.prices.append(now, snap["price"][self._book_rows])
                self.frames_sampled += 1
                self._changed = True
        if sig is not None:
            sent, rows = sig.read_all()
            count = sig.update_counter
            if count != self._last_sig_count and count:
                self._last_sig_count = count
                rows = rows[self._sig_rows]
                self.mas.append(now, np.concatenate((rows["short_ma"], rows["long_ma"])))
                self._changed = True
            if sent is not None:
                alive = self.adapter.state("strategy") == State.RUNNING
                if sent != self._last_sent or (alive and now - self._last_sent_t >=
                                               SENTIMENT_REPEAT_S):
                    self.sentiment.append(now, (float(sent),))
                    self._last_sent, self._last_sent_t = sent, now
                    self._changed = True

    @staticmethod
    def _visible(t: np.ndarray, left: float, right: float) -> slice:
        """Indexes of the samples in view, plus one on each side so lines reach the edges."""
        i0 = max(int(np.searchsorted(t, left)) - 1, 0)
        i1 = min(int(np.searchsorted(t, right)) + 1, len(t))
        return slice(i0, i1)

    def _render(self, now: float) -> None:
        """setData once per curve with the samples in view (the rings stay untouched)."""
        if self.following:
            self._scroll(now)
        (left, right), _ = self.pct_plot.vb.viewRange()
        t, v = self.prices.view()
        sl = self._visible(t, left, right)
        t, v = t[sl], v[sl]
        n = len(t)
        if n:
            base = _first_finite(v[1:] if n > 1 and t[0] < left else v)
            pct = self._pct[:, :n]
            np.divide(v.T, base[:, None], out=pct)
            pct -= 1.0
            pct *= 100.0
            for j, c in enumerate(self.pct_curves):
                c.setData(t, pct[j])
            price = v[:, self.sel_index]
            self.price_curve.setData(t, price)
            self._fit_y(self.pct_plot, pct, min_span=0.05)
        else:
            for c in self.pct_curves:
                c.setData([], [])
            self.price_curve.setData([], [])
        mt, mv = self.mas.view()
        sl = self._visible(mt, left, right)
        if sl.stop > sl.start:
            j, k = self.sel_index, len(self.symbols)
            short, long_ = mv[sl, j], mv[sl, k + j]
            self.short_curve.setData(mt[sl], short)
            self.long_curve.setData(mt[sl], long_)
        else:
            short = long_ = None
            self.short_curve.setData([], [])
            self.long_curve.setData([], [])
        if n:
            self._fit_y(self.price_plot, price, short, long_, min_span=0.02)
        st, sv = self.sentiment.view()
        sl = self._visible(st, left, right)
        if sl.stop > sl.start:
            self.sent_curve.setData(st[sl], sv[sl, 0])
        else:
            self.sent_curve.setData([], [])
        if self._markers_dirty:
            self._draw_markers()
        # pyqtgraph settles auto-range and the view transform lazily at paint time, and what
        # that changes asks for a second paint: settle them now, one paint per frame
        for p in self.plots.values():
            p.vb.prepareForPaint()
        self._update_titles()  # only when the feed state changed
        if now >= self._legend_next:
            self._legend_next = now + 0.5
            self._update_legend(*self.prices.view())
            if self._hover is not None:
                self._update_readout(*self._hover)

    @staticmethod
    def _fit_y(plot, *arrays, min_span: float) -> None:
        """Fit the y range to the finite values of `arrays` (what is in view)."""
        lo, hi = math.inf, -math.inf
        for a in arrays:
            if a is None or not len(a):
                continue
            flat = np.ravel(a)
            a_lo, a_hi = np.fmin.reduce(flat), np.fmax.reduce(flat)  # NaN-skipping, quiet
            if math.isfinite(a_lo) and math.isfinite(a_hi):
                lo, hi = min(lo, a_lo), max(hi, a_hi)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return
        if hi - lo < min_span:
            mid = (hi + lo) / 2
            lo, hi = mid - min_span / 2, mid + min_span / 2
        pad = (hi - lo) * 0.08
        lo, hi = lo - pad, hi + pad
        (cur_lo, cur_hi) = plot.vb.viewRange()[1]
        eps = 1e-9 * max(1.0, abs(lo), abs(hi))
        if abs(cur_lo - lo) > eps or abs(cur_hi - hi) > eps:
            plot.setYRange(lo, hi, padding=0)

    def _draw_markers(self) -> None:
        self._markers_dirty = False
        m = self._markers.get(self.selected)
        if not m:
            self.buy_scatter.setData([], [])
            self.sell_scatter.setData([], [])
            return
        arr = np.array(m, dtype=float)
        buy = arr[:, 2] > 0
        self.buy_scatter.setData(arr[buy, 0], arr[buy, 1])
        self.sell_scatter.setData(arr[~buy, 0], arr[~buy, 1])

    def _update_legend(self, t, v) -> None:
        if not len(t):
            return
        last = v[-1]
        (left, _), _ = self.pct_plot.vb.viewRange()
        base = _first_finite(v[min(int(np.searchsorted(t, left)), len(t) - 1):])
        for j, label in enumerate(self._legend_labels):
            p, b = last[j], base[j]
            if not math.isfinite(p):
                text = self.symbols[j]
            else:
                ch = (p / b - 1) * 100 if math.isfinite(b) and b else 0.0
                col = theme.BUY if ch > 0.0005 else theme.SELL if ch < -0.0005 else theme.MUTED
                text = f"<b>{self.symbols[j]}</b> <span style='color:{col}'>{ch:+.2f}%</span>"
                if len(self.symbols) <= 3:
                    text += f" {p:,.2f}"

            label.setText(text)

    def _update_titles(self, force: bool = False) -> None:
        feed = self._feed
        if not force and feed == getattr(self, "_title_feed", None):
            return
        self._title_feed = feed
        badge = {"live": f"<span style='color:{theme.GREEN}'>\u25cf live</span>",
                 "stale": f"<span style='color:{theme.AMBER}'>\u25a0 feed stale: showing the "
                          f"last prices</span>",
                 "waiting": f"<span style='color:{theme.MUTED}'>\u25cb waiting for prices</span>",
                 "off": f"<span style='color:{theme.MUTED}'>\u25cb feed off</span>"}[feed]
        self.pct_plot.setTitle(f"<span style='color:{theme.TEXT}'>All symbols</span>"
                               f"<span style='color:{theme.MUTED}'> \u00b7 % change from the "
                               f"window start</span> &nbsp; {badge}", size="9.5pt")
        cfg = self.config
        self.price_plot.setTitle(
            f"<span style='color:{theme.TEXT}'>{self.selected}</span>"
            f"<span style='color:{theme.MUTED}'> \u00b7 price, MA {cfg.short_window} / MA "
            f"{cfg.long_window}, fills</span>", size="9.5pt")
        self.sent_plot.setTitle(
            f"<span style='color:{theme.TEXT}'>News sentiment</span>"
            f"<span style='color:{theme.MUTED}'> \u00b7 buys need &gt; {cfg.bullish}, sells "
            f"need &lt; {cfg.bearish}</span>", size="9.5pt")

    # -- crosshair ------------------------------------------------------------------------
    def _on_mouse_moved(self, evt) -> None:
        pos = evt[0]
        for key, p in self.plots.items():
            if p.vb.sceneBoundingRect().contains(pos):
                mp = p.vb.mapSceneToView(pos)
                self.show_crosshair(key, mp.x(), mp.y())
                return
        self.hide_crosshair()

    def show_crosshair(self, key: str, x: float, y: float) -> str:
        """Crosshair at (x, y) of plot `key` ('pct', 'price' or 'sent'); returns the readout."""
        for k, (v, h) in self.crosshair.items():
            v.setPos(x)
            v.setVisible(True)
            h.setVisible(k == key)
            if k == key:
                h.setPos(y)
        self._hover = (key, x, y)
        return self._update_readout(key, x, y)

    def hide_crosshair(self) -> None:
        for v, h in self.crosshair.values():
            v.setVisible(False)
            h.setVisible(False)
        self._hover = None
        self.readout.setText("")
        self.readout.setToolTip("")

    def _update_readout(self, key: str, x: float, y: float) -> str:
        parts = [f"<span style='color:{theme.TEXT}'>{_fmt_time(x)}</span>"]
        t, v = self.prices.view()
        if key == "pct":
            parts.append(f"cursor {y:+.3f}%")
            if len(t):
                i = min(max(int(np.searchsorted(t, x)) - 1, 0), len(t) - 1)
                (left, _), _ = self.pct_plot.vb.viewRange()
                base = _first_finite(v[min(int(np.searchsorted(t, left)), len(t) - 1):])
                for j, s in enumerate(self.symbols):
                    p = v[i, j]
                    if math.isfinite(p):
                        ch = (p / base[j] - 1) * 100 if math.isfinite(base[j]) else 0.0
                        parts.append(f"<span style='color:{theme.symbol_color(j)}'>{s}</span> "
                                     f"{p:,.2f} ({ch:+.2f}%)")
        elif key == "price":
            parts.append(f"cursor {y:,.2f}")
            j = self.sel_index
            if len(t):
                i = min(max(int(np.searchsorted(t, x)) - 1, 0), len(t) - 1)
                if math.isfinite(v[i, j]):
                    parts.append(f"<span style='color:{theme.symbol_color(j)}'>{self.selected}"
                                 f"</span> {v[i, j]:,.2f}")
            mt, mv = self.mas.view()
            if len(mt):
                i = min(max(int(np.searchsorted(mt, x)) - 1, 0), len(mt) - 1)
                s_ma, l_ma = mv[i, j], mv[i, len(self.symbols) + j]
                if math.isfinite(s_ma):
                    parts.append(f"MA {self.config.short_window} {s_ma:,.2f}")
                if math.isfinite(l_ma):
                    parts.append(f"MA {self.config.long_window} {l_ma:,.2f}")
        else:
            parts.append(f"cursor {y:.1f}")
            st, sv = self.sentiment.view()
            if len(st):
                i = min(max(int(np.searchsorted(st, x, side="right")) - 1, 0), len(st) - 1)
                parts.append(f"sentiment {sv[i, 0]:.0f}")
        text = "  \u2502  ".join(parts)
        self.readout.setText(text)
        # a narrow window clips the line: the tooltip always has all of it
        self.readout.setToolTip(text)
        return text

    # -- measuring ------------------------------------------------------------------------
    def fps(self, over: float = 1.0) -> float:
        """Frames actually rendered (sampled + setData) per second, over the last `over` s."""
        now = time.perf_counter()
        n = 0
        for s in reversed(self._stamps):
            if s < now - over:
                break
            n += 1
        return n / over

    def frame_times(self) -> list:
        """perf_counter() of the latest rendered frames (up to 1024), oldest first."""
        return list(self._stamps)

    def paints(self) -> int:
        """Paint events of the plot viewport so far (what reached the screen)."""
        return self.paint_counter.count

    def point_count(self) -> int:
        """Samples in the price history (what the price curves draw from)."""
        return self.prices.count

    def stop(self) -> None:
        self.timer.stop()
