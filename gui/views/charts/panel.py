"""Frame-driven charts over the shared-memory books (pyqtgraph).

Every frame the PriceSampler (gui/sources/prices.py) samples the books into its ChartData;
the panel then calls setData once per curve with the samples in view. Nothing is redrawn per
message; curves clip to the view and downsample with the 'peak' method.

Four plots share one time axis: all symbols as % change from the left edge of the window
(with the live change in the legend); the selected symbol in price units with the Strategy's
moving averages and BUY / SELL triangles where confirmations arrived; news sentiment with the
thresholds and shaded zones; the session's P&L. Auto-scroll follows the right edge; panning
back stops it, the Live button resumes it. Pause freezes the drawing (sampling goes on). A
crosshair shows the values under the cursor. `fps()` counts frames rendered in the last
second. A palette change (View > Appearance, or the OS's) redraws every colour at once.
A live view draws a frame a change; prices that change often (the demo's 10 a second) carry
the scroll, and a frame of scroll alone comes only between slower ones. Long: four plots, the
frame and its rules, following and pausing belong to one panel.
"""
from __future__ import annotations

import math
import time
from typing import List, Optional

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ...models.chart_data import EQUITY_EVERY_S, MOVERS, visible
from ...models.rates import FrameMeter
from .. import theme
from ..guard import guarded
from .legend import pct_entries, pct_pens, price_entries
from .overlays import ViewportWatcher
from .pens import line_pen, tune
from .plots import ChartPlots, fit_y
from .toolbar import ChartToolbar, fitting, plot_title_forms, readout_text
from .tools import ChartTools

DEFAULT_WINDOW_S = 60.0
# with no live feed and nothing new, a frame would draw the same picture again: draw
# at most this often then (an idle desk used 17% of a core redrawing nothing at 30 fps)
IDLE_FRAME_S = 0.5
# changes at least this often carry the scroll (no frame of scroll alone between them)
CARRY_S = 0.2


class ChartsPanel(QWidget):
    followingChanged = Signal(bool)
    symbolSelected = Signal(str)  # the symbol whose price chart is shown

    def __init__(self, adapter, sampler, session, frames: Optional[FrameMeter] = None,
                 window_s: float = DEFAULT_WINDOW_S, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.adapter = adapter
        self.sampler = sampler   # the books, sampled every frame; the selected symbol
        self.session = session   # the session's orders: its P&L is the equity curve
        self.target_fps = sampler.fps
        self.window_s = float(window_s)
        self.paused = False
        self.following = True
        self.stopped = False
        self.frames_rendered = 0
        self.frame_ms = 0.0
        self.meter = frames if frames is not None else FrameMeter()
        self._changed = True       # a sample arrived since the last render
        self._last_render = 0.0    # time.time() of the last render
        self._change_at, self._change_gap = 0.0, 1.0  # the last change, their mean interval
        self._markers_dirty = True
        self._legend_next = 0.0
        self._title_feed = None
        self._hover = None  # (plot key, x, y) while the cursor is over a plot
        self._equity_next = 0.0
        self._fills_drawn = -1

        self._build_toolbar()
        self._build_plots()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 2)
        lay.setSpacing(4)
        lay.addWidget(self.bar)
        lay.addWidget(self.glw, 1)

        self.pct_curves: List[pg.PlotDataItem] = []
        self._apply_config()
        adapter.configChanged.connect(self._on_config_changed)
        sampler.reset.connect(self._apply_config)
        sampler.symbolSelected.connect(self._show_symbol)
        sampler.sampled.connect(self._on_sampled)

        self.tools = ChartTools(self)  # export, the price's y zoom, legend clicks
        self.paint_counter = ViewportWatcher(self.hide_crosshair, self)
        self.glw.viewport().installEventFilter(self.paint_counter)
        theme.notifier().changed.connect(self.restyle)

    def restyle(self) -> None:
        """The palette changed: every pen, legend and title in its colours, drawn now."""
        self.view.restyle()
        for c, pen in zip(self.pct_curves, pct_pens(len(self.symbols), self.universe)):
            c.setPen(pen)
        self._legend_next = self._equity_next = 0.0
        self._show_symbol(self.selected)  # its pen, the averages' names, the titles
        self._render(time.time())

    # the history, as the sampler keeps it
    data = property(lambda self: self.sampler.data)
    symbols = property(lambda self: self.sampler.symbols)
    universe = property(lambda self: self.sampler.universe)
    selected = property(lambda self: self.sampler.selected)
    sel_index = property(lambda self: self.sampler.selected_index)
    prices = property(lambda self: self.data.prices)

    # -- construction -------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        self.bar = ChartToolbar(self.window_s)
        self.symbol_box, self.window_box = self.bar.symbol_box, self.bar.window_box
        self.pause_btn, self.live_btn, self.readout = (self.bar.pause_btn, self.bar.live_btn,
                                                      self.bar.readout)
        self.symbol_box.currentTextChanged.connect(self._on_symbol_changed)
        self.window_box.currentIndexChanged.connect(self._on_window_changed)
        self.pause_btn.toggled.connect(self.set_paused)
        self.live_btn.clicked.connect(lambda: self.set_following(True))

    def _build_plots(self) -> None:
        self.view = ChartPlots(self._on_manual_range, self._on_mouse_moved)
        for name in ("glw", "plots", "pct_plot", "price_plot", "sent_plot", "pnl_plot",
                     "pnl_curve", "pnl_buys", "pnl_sells", "pct_legend", "pnl_legend",
                     "account_curves",
                     "price_legend", "price_curve", "short_curve", "long_curve", "buy_scatter",
                     "sell_scatter", "sent_curve", "bands", "bull_line", "bear_line",
                     "crosshair"):
            setattr(self, name, getattr(self.view, name))
        # the titles fit their plots: fitted again once a resize is laid out
        self.pct_plot.vb.sigResized.connect(lambda *_: guarded(
            "fitting the charts' titles", self._update_titles))

    # -- configuration --------------------------------------------------------------------
    def _apply_config(self) -> None:
        """New symbols (the sampler has a new history): one % change curve a symbol (a
        handful) or one a mover (a universe: the best MOVERS solid, the worst dashed)."""
        config = self.sampler.config
        self.view.clear_accounts()  # (a new history: its accounts start again)
        for c in self.pct_curves:
            self.pct_plot.removeItem(c)
        self.pct_curves = [tune(self.pct_plot.plot(pen=pen, connect="finite"))
                           for pen in pct_pens(len(self.symbols), self.universe)]
        self.movers: List[int] = []
        self._legend_next = 0.0
        self.symbol_box.blockSignals(True)
        self.symbol_box.clear()
        self.symbol_box.addItems(self.symbols)
        self.symbol_box.blockSignals(False)
        self._show_symbol(self.selected)
        self._apply_thresholds(config)

    def _apply_thresholds(self, config) -> None:
        # the averages and thresholds drawn are those of the Strategy that publishes them
        # (the stack's first; its own settings may differ from the stack's)
        self.config = self.adapter.model.charted(config)
        self.bands.set(config.bullish, config.bearish)
        self._set_ma_names()
        self._update_titles(force=True)

    def _on_config_changed(self, config) -> None:
        if tuple(config.symbols) == tuple(self.symbols):  # (new symbols: the sampler resets)
            self._apply_thresholds(config)

    def _set_ma_names(self) -> None:
        self.price_legend.set_entries(price_entries(self.selected, self.sel_index, self.config))

    # -- user controls --------------------------------------------------------------------
    def select_symbol(self, symbol: str) -> None:
        """Chart `symbol` in detail (every view follows: the sampler keeps the selection)."""
        self.sampler.select(symbol)

    def _show_symbol(self, symbol: str) -> None:
        if self.symbol_box.currentText() != symbol:
            self.symbol_box.setCurrentText(symbol)
        self.price_curve.setPen(line_pen(theme.symbol_color(self.sel_index)))
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
        last = self.data.prices.last()
        if last is None or self.data.feed in ("live", "waiting"):
            return now
        return last[0] + 0.02 * self.window_s

    def _scroll(self, now: float) -> None:
        right = self._anchor(now)
        self.pct_plot.setXRange(right - self.window_s, right, padding=0)

    def _on_manual_range(self, *_args) -> None:
        (left, right), _ = self.pct_plot.vb.viewRange()
        now = time.time()
        tol = max(0.5, 0.02 * self.window_s)
        follow = right >= self._anchor(now) - tol
        if follow and abs((right - left) - self.window_s) > 0.01 * self.window_s:
            self.window_s = right - left  # zoomed with the wheel: keep the new width
        self.set_following(follow)
        if self.paused:  # curves hold only what was in view: draw the new range
            self._render(now)

    def marker_count(self, symbol: Optional[str] = None) -> int:
        return self.data.marker_count(symbol)

    # -- the frame ------------------------------------------------------------------------
    def _on_sampled(self, now: float, changed: bool) -> None:
        """The sampler took a frame: draw it (unless paused, or idle and drawn lately)."""
        t0 = time.perf_counter()
        self._changed |= changed
        if changed:
            gap, self._change_at = now - self._change_at, now
            if 0 < gap < 5:
                self._change_gap = 0.8 * self._change_gap + 0.2 * gap
        fills = self.data.fills_added
        if fills != self._fills_drawn:  # new fills of some symbol: its markers again
            self._fills_drawn = fills
            self._markers_dirty = True
        if self.paused or self.stopped:
            return
        if not self._changed and not self._markers_dirty and self._unmoved(now):
            return
        self._render(now)
        self._changed, self._last_render = False, now
        self.frames_rendered += 1
        self.meter.tick()
        cost = (time.perf_counter() - t0) * 1000
        self.frame_ms = cost if self.frame_ms == 0 else 0.9 * self.frame_ms + 0.1 * cost

    def _unmoved(self, now: float) -> bool:
        """No new frame would show anything new: a live view scrolled less than a pixel since
        (not 30 frames a second of 10 rounds), or one whose frequent changes carry the scroll
        and the next is not late yet; an idle one drawn under IDLE_FRAME_S ago."""
        since = now - self._last_render
        if self.data.feed not in ("live", "waiting") or not self.following:
            return since < IDLE_FRAME_S
        if since * self.pct_plot.vb.width() / self.window_s < 1.0:
            return True
        gap = self._change_gap
        return gap < CARRY_S and now - self._change_at < 1.5 * gap

    def _render(self, now: float) -> None:
        """setData once per curve with the samples in view (the rings stay untouched)."""
        if self.following:
            self._scroll(now)
        (left, right), _ = self.pct_plot.vb.viewRange()
        legend_due = now >= self._legend_next  # twice a second: the changes, computed once
        change = self.data.changes(left)[1] if legend_due else None
        if legend_due and self.universe:
            self.movers = self.data.movers(change)
        t, pct, v = self.data.pct_view(left, right, self.movers if self.universe else None)
        for j, c in enumerate(self.pct_curves):
            if j < len(pct):
                c.setData(t, pct[j])
            else:
                c.setData([], [])
        fit_y(self.pct_plot, pct, min_span=0.05)
        self._render_price(left, right)
        self.sent_curve.setData(*self.data.sentiment_view(left, right))
        self._render_equity(now, left, right)
        if self._markers_dirty:
            self._markers_dirty = False
            buys, sells = self.data.fills(self.selected)
            self.buy_scatter.setData(buys[:, 0], buys[:, 1])
            self.sell_scatter.setData(sells[:, 0], sells[:, 1])
        # pyqtgraph settles auto-range and the view transform lazily at paint time, and what
        # that changes asks for a second paint: settle them now, one paint per frame
        for p in self.plots.values():
            p.vb.prepareForPaint()
        self._update_titles()  # only when the feed state changed
        if legend_due:
            self._legend_next = now + 0.5
            self._update_legend(change)
            if self._hover is not None:
                self._update_readout(*self._hover)

    def _render_equity(self, now: float, left: float, right: float) -> None:
        """The session's P&L, sampled and drawn twice a second: its whole history (at most 10
        minutes of 2 points a second; the plot clips to the view), the fills as dots on it;
        with several accounts, one curve each (the account the desk shows drawn bold) and
        each one's latest P&L in the legend."""
        if now < self._equity_next and not self.paused:
            return
        self._equity_next = now + EQUITY_EVERY_S
        marks = self.sampler.marks()
        accounts = self.session.account_pnls(marks)
        several = len(accounts) > 1
        self.data.add_equity(now, self.session.pnl_total(marks), accounts if several else None)
        t, v, (ft, at, buy) = self.data.equity_view(-math.inf, math.inf)
        self.pnl_curve.setData(t, v)
        self.pnl_buys.setData(ft[buy], at[buy])
        self.pnl_sells.setData(ft[~buy], at[~buy])
        shown = [v[visible(t, left, right)]]
        shown += self.view.draw_accounts(self.data.account_equity_view(), accounts,
                                         self.session.picked, left, right)
        if any(len(a) for a in shown):
            fit_y(self.pnl_plot, *shown, min_span=1.0)

    def _render_price(self, left: float, right: float) -> None:
        """The selected symbol's price and MAs, from its every-frame history."""
        t, price, short, long_ = self.data.focus_view(left, right)
        self.price_curve.setData(t, price)
        self.short_curve.setData(t, short)
        self.long_curve.setData(t, long_)
        if len(t) and not self.tools.price_y_manual:
            fit_y(self.price_plot, price, short, long_, min_span=0.02)

    def _update_legend(self, change) -> None:
        cols = self.movers if self.universe else range(len(self.symbols))
        self.pct_legend.set_entries(pct_entries(self.symbols, change, cols, self.universe))

    def _update_titles(self, force: bool = False) -> None:
        feed = self.data.feed
        width = int(self.pct_plot.vb.width())  # (the plots' column, once laid out)
        if not force and (feed, width) == self._title_feed:
            return
        self._title_feed = (feed, width)
        for plot, forms in zip((self.pct_plot, self.price_plot, self.sent_plot, self.pnl_plot),
                               plot_title_forms(feed, self.selected, self.config,
                                                MOVERS if self.universe else 0)):
            fitting(forms, plot)

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
        self.crosshair.show(key, x, y)
        self._hover = (key, x, y)
        return self._update_readout(key, x, y)

    def hide_crosshair(self) -> None:
        self.crosshair.hide()
        self._hover = None
        self.readout.setText("")
        self.readout.setToolTip("")

    def _update_readout(self, key: str, x: float, y: float) -> str:
        (left, _), _ = self.pct_plot.vb.viewRange()
        if self.universe:  # the movers on the first plot, the selected symbol on the second
            cols = self.movers if key == "pct" else [self.sel_index]
            text = readout_text(self.data.values_at(x, left, cols), key, x, y,
                                [self.symbols[j] for j in cols], 0, self.config)
        else:
            text = readout_text(self.data.values_at(x, left), key, x, y, self.symbols,
                                self.sel_index, self.config)
        self.readout.setText(text)
        # a narrow window clips the line: the tooltip always has all of it
        self.readout.setToolTip(text)
        return text

    # -- measuring ------------------------------------------------------------------------
    def fps(self, over: float = 1.0) -> float:
        """Frames actually rendered (sampled + setData) per second, over the last `over` s."""
        return self.meter.rate(over)

    def frame_times(self) -> list:  # perf_counter() of the latest frames (<= 1024), in order
        return self.meter.times()

    def paints(self) -> int:  # paint events of the plots' viewport (what reached the screen)
        return self.paint_counter.count

    def point_count(self) -> int:  # samples in the price history (the curves draw from it)
        return self.data.prices.count

    def stop(self) -> None:
        """Draw no more (the window is closing)."""
        self.stopped = True
