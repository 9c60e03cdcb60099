"""The plots of the charts (pyqtgraph): plots that share a time axis, a cheap grid, the
y range fitted to what is in view, and the cosmetic pens data lines are drawn with."""
from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QLineF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPen

from ...models.chart_data import fit, visible
from .. import theme
from ..guard import guarded
from .legend import DASHED, SOLID, SideLegend
from .overlays import CrosshairLines, ThresholdBands
from .pens import line_pen, tune

AXIS_WIDTH = 64
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
    if not show_time:
        p.getAxis("bottom").setStyle(showValues=False)
        p.getAxis("bottom").setHeight(6)
    # x follows the clock (or the user); y is fitted from the samples in view, which costs
    # far less than pyqtgraph's auto-range over every item each frame
    p.disableAutoRange()
    p.vb.sigRangeChangedManually.connect(on_manual_range)
    p.grid = GridItem(p.vb, axis, p.getAxis("left"))
    p.fixed_ticks = None  # (value, ...) of a plot whose ticks are fixed (the sentiment's)
    p.vb.sigResized.connect(lambda *_: guarded("fitting an axis", fit_axis, p))
    return p


def fit_axis(p: pg.PlotItem) -> None:
    """A y axis for its plot's height, however short the window makes it: its title only
    where it fits along the axis (the plot's own title names it anyway), and fixed ticks
    thinned until no two of their labels overprint (pyqtgraph thins its own)."""
    ax, h = p.getAxis("left"), p.vb.height()
    if h <= 0:
        return
    wanted = ax.label.boundingRect().width() <= h
    if ax.style["showValues"] and wanted != ax.label.isVisible():
        ax.showLabel(wanted)
    if p.fixed_ticks:
        line = QFontMetrics(ax.style.get("tickFont") or QFont()).height() + 2
        values = p.fixed_ticks
        while len(values) > 2 and h / (len(values) - 1) < line:
            values = values[::2] if len(values) % 2 else values[::len(values) - 1]
        ax.setTicks([[(v, str(v)) for v in values]])


class GridItem(pg.GraphicsObject):
    """Grid lines at the axes' major ticks, drawn in one pass in the ViewBox's pixels.

    pyqtgraph's own grid (showGrid) is drawn by each AxisItem into a QPicture replayed every
    paint, ~3 ms per axis per frame here; this costs one drawLines call."""

    def __init__(self, vb, xaxis=None, yaxis=None, y_values=None):
        super().__init__()
        self.vb, self.xaxis, self.yaxis, self.y_values = vb, xaxis, yaxis, y_values
        self.restyle()
        self.setParentItem(vb)
        self.setZValue(-100)  # under the curves
        vb.sigResized.connect(self._resized)

    def restyle(self) -> None:
        self.pen = QPen(QColor(*theme.current.grid_rgba))
        self.pen.setCosmetic(True)
        self.update()

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


def axis_with_zero(p: pg.PlotItem, label: str, units: str) -> pg.InfiniteLine:
    """A y axis in plain units (no SI prefix) and a dashed line at zero (returned)."""
    p.setLabel("left", label, units=units)
    p.getAxis("left").enableAutoSIPrefix(False)
    zero = pg.InfiniteLine(pos=0, angle=0)
    p.addItem(zero)
    return zero


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
        self.restyle()
        self._mouse_proxy = pg.SignalProxy(self.glw.scene().sigMouseMoved, rateLimit=60,
                                           slot=on_mouse_moved)
        self.glw.viewport().setMouseTracking(True)

    def _build_pct_plot(self) -> None:
        p = self.pct_plot
        self.pct_zero = axis_with_zero(p, "change", units="%")
        self.pct_legend = SideLegend()
        self.glw.addItem(self.pct_legend, row=0, col=1)

    def _build_price_plot(self) -> None:
        p = self.price_plot
        p.setLabel("left", "price", units="$")
        p.getAxis("left").enableAutoSIPrefix(False)
        self.price_legend = SideLegend()
        self.glw.addItem(self.price_legend, row=1, col=1)
        self.price_curve = tune(p.plot(connect="finite"))  # (its pen: the symbol's colour)
        self.short_curve = tune(p.plot(connect="finite"))
        self.long_curve = tune(p.plot(connect="finite"))
        self.buy_scatter = pg.ScatterPlotItem(symbol="t1", size=13)
        self.sell_scatter = pg.ScatterPlotItem(symbol="t", size=13)
        p.addItem(self.buy_scatter)
        p.addItem(self.sell_scatter)

    def _build_sentiment_plot(self) -> None:
        sp = self.sent_plot
        sp.setLabel("left", "sentiment")
        sp.setYRange(0, 100, padding=0.04)
        sp.fixed_ticks = (0, 25, 50, 75, 100)  # (fewer where the plot is short: fit_axis)
        fit_axis(sp)
        sp.grid.y_values = (25, 50, 75)
        self.bands = ThresholdBands(sp)
        self.bull_line, self.bear_line = self.bands.bull_line, self.bands.bear_line
        self.sent_curve = tune(sp.plot(stepMode="left", connect="finite"))  # (a gap breaks it)

    def _build_pnl_plot(self) -> None:
        """The session's total P&L over time (an equity curve), the fills marked on it; with
        several accounts, a curve each (drawn by ChartsPanel)."""
        p = self.pnl_plot
        self.pnl_zero = axis_with_zero(p, "P&L", units="$")
        self.pnl_legend = SideLegend()  # with several accounts: the total and each one
        self.glw.addItem(self.pnl_legend, row=3, col=1)
        self.account_curves = {}  # account -> its curve (ChartsPanel makes them)
        self.pnl_curve = tune(p.plot(connect="finite"))
        self.pnl_buys = pg.ScatterPlotItem(size=6, pen=None)
        self.pnl_sells = pg.ScatterPlotItem(size=6, pen=None)
        p.addItem(self.pnl_buys)
        p.addItem(self.pnl_sells)

    def restyle(self) -> None:
        """Every colour of the plots from the palette in use (at construction, and when the
        palette changes: the desk follows a light/dark switch without a restart). The
        curves that change colour with the data (the symbols', the accounts') and the
        legends' entries are drawn again by the panel on its next frame."""
        t = theme.current
        self.glw.setBackground(t.plot_bg)
        for p in self.plots.values():
            for name in ("left", "bottom"):
                ax = p.getAxis(name)
                ax.setPen(pg.mkPen(t.grid))
                ax.setTextPen(pg.mkPen(t.muted))
            p.grid.restyle()
        for zero in (self.pct_zero, self.pnl_zero):
            zero.setPen(pg.mkPen(t.muted, width=1, style=Qt.PenStyle.DashLine))
        self.short_curve.setPen(line_pen(t.ma_short, Qt.PenStyle.DashLine))
        self.long_curve.setPen(line_pen(t.ma_long, Qt.PenStyle.DotLine))
        self.sent_curve.setPen(line_pen(t.ma_short))
        self.pnl_curve.setPen(line_pen(t.accent))
        outline = pg.mkPen(t.plot_bg, width=1)  # a triangle stands out from the curve under it
        self.buy_scatter.setBrush(pg.mkBrush(t.buy))
        self.buy_scatter.setPen(outline)
        self.sell_scatter.setBrush(pg.mkBrush(t.sell))
        self.sell_scatter.setPen(outline)
        self.pnl_buys.setBrush(pg.mkBrush(t.buy))
        self.pnl_sells.setBrush(pg.mkBrush(t.sell))
        self.bands.restyle()
        self.crosshair.restyle()
        for legend in (self.pct_legend, self.price_legend, self.pnl_legend):
            legend.restyle()


    def draw_accounts(self, curves, latest, picked, left: float, right: float) -> list:
        """A P&L curve an account (`curves`: {account: (times, P&L)}), the one shown bold,
        and the legend: the total, then each account's latest P&L (`latest`). Returns the
        values in view (to fit the axis to)."""
        entries, shown = [], []
        for k, (account, (t, v)) in enumerate(curves.items()):
            curve = self.account_curves.get(account)
            color = theme.symbol_color(k + 1)
            if curve is None:
                curve = self.account_curves[account] = tune(self.pnl_plot.plot(
                    connect="finite"))
            bold = account == picked
            curve.setPen(line_pen(color, Qt.PenStyle.SolidLine if bold
                                  else Qt.PenStyle.DashLine, width=2.4 if bold else 1.2))
            curve.setData(t, v)
            shown.append(v[visible(t, left, right)])
            last = latest.get(account, math.nan)
            name = f"<b>{account}</b>" if bold else (account or "(none)")
            entries.append((color, SOLID if bold else DASHED,
                            f"{name} {'' if math.isnan(last) else f'{last:+,.2f}'}"))
        if entries:
            t, v = self.pnl_curve.getData()
            total = v[-1] if v is not None and len(v) else math.nan
            entries.insert(0, (theme.ACCENT, SOLID, "total " + (
                "" if math.isnan(total) else f"{total:+,.2f}")))
        self.pnl_legend.set_entries(entries)
        return shown

    def clear_accounts(self) -> None:
        for c in self.account_curves.values():
            self.pnl_plot.removeItem(c)
        self.account_curves.clear()


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

