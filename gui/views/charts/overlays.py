"""What lies over the plots: the sentiment plot's threshold bands, the crosshair lines, and
a watcher of the viewport's paint events (a frame that reached the screen; the cursor
leaving)."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt

from .. import theme
from ..guard import guarded


class ViewportWatcher(QObject):
    """Counts the plot viewport's paint events; hides the crosshair when the mouse leaves;
    says when the viewport's size changed (the titles are fitted to it)."""

    def __init__(self, on_leave, parent=None, on_resize=None):
        super().__init__(parent)
        self.count = 0
        self.on_leave = on_leave
        self.on_resize = on_resize

    def eventFilter(self, obj, ev):
        guarded("the chart viewport's event filter", self._seen, ev)  # a C++ virtual
        return False

    def _seen(self, ev) -> None:
        t = ev.type()
        if t == QEvent.Type.Paint:
            self.count += 1
        elif t == QEvent.Type.Leave:
            self.on_leave()
        elif t == QEvent.Type.Resize and self.on_resize is not None:
            self.on_resize()


LABEL_AT = 0.015  # of the plot's width, from the left


class ThresholdBands:
    """The sentiment plot's bullish and bearish thresholds: dashed lines and shaded zones."""

    def __init__(self, plot: pg.PlotItem):
        self.bull_zone = self._zone((60, 100))
        self.bear_zone = self._zone((0, 40))
        for z in (self.bull_zone, self.bear_zone):
            plot.addItem(z)
        # their labels at the left end: the right end is where the newest sentiment is drawn
        self.bull_line = self._line(60, "bullish > {value:.0f}", [(0, 1), (0, 1)])
        self.bear_line = self._line(40, "bearish < {value:.0f}", [(0, 0), (0, 0)])
        for line in (self.bull_line, self.bear_line):
            plot.addItem(line)
        self.restyle()

    def restyle(self) -> None:
        t = theme.current
        for zone, rgba, line, color in ((self.bull_zone, t.bull_zone, self.bull_line, t.buy),
                                        (self.bear_zone, t.bear_zone, self.bear_line, t.sell)):
            zone.setBrush(pg.mkBrush(*rgba))
            line.setPen(pg.mkPen(color, width=1.2, style=Qt.PenStyle.DashLine))
            line.label.setColor(color)
            line.label.fill = pg.mkBrush(*theme.rgba(t.plot_bg, 200))
            line.label.update()

    @staticmethod
    def _zone(region) -> pg.LinearRegionItem:
        z = pg.LinearRegionItem(region, orientation="horizontal", movable=False,
                                pen=pg.mkPen(None))
        z.setZValue(-10)
        for line in z.lines:
            line.setPen(pg.mkPen(None))
            line.setHoverPen(pg.mkPen(None))
        return z

    @staticmethod
    def _line(pos, label, anchors) -> pg.InfiniteLine:
        line = pg.InfiniteLine(pos=pos, angle=0, movable=False, label=label,
                               labelOpts={"position": LABEL_AT, "anchors": anchors})
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
            v = pg.InfiniteLine(angle=90, movable=False)
            h = pg.InfiniteLine(angle=0, movable=False)
            for line in (v, h):
                line.setVisible(False)
                line.setZValue(50)
                p.addItem(line, ignoreBounds=True)
            self.lines[key] = (v, h)
        self.restyle()

    def restyle(self) -> None:
        pen = pg.mkPen(theme.MUTED, width=1, style=Qt.PenStyle.DashLine)
        for v, h in self.lines.values():
            v.setPen(pen)
            h.setPen(pen)

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

