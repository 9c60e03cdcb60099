"""What a user does to the charts besides watching: export the charts as a picture (PNG by
pyqtgraph's exporter, SVG by Qt's) and the price chart's data as CSV, zoom the price chart's y
axis (the wheel over it, or over its axis for y alone; Live fits it again), and hide or show
a series by clicking its legend entry. A right click on the charts offers the exports."""
from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401  (pg.exporters)
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog, QMenu

# the price legend's entries (chart_parts.price_entries), in order
PRICE_SERIES = ("price_curve", "short_curve", "long_curve", "buy_scatter", "sell_scatter")


class ChartTools:
    def __init__(self, panel):
        self.panel = panel
        self.price_y_manual = False  # the user zoomed the price's y: no fitting until Live
        panel.price_plot.setMouseEnabled(x=True, y=True)
        panel.price_plot.vb.sigRangeChangedManually.connect(self._on_price_range)
        panel.followingChanged.connect(self._on_following)
        panel.live_btn.clicked.connect(self._fit_again)
        panel.pct_legend.on_click = self._toggle_pct
        panel.price_legend.on_click = self._toggle_price
        panel.glw.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        panel.glw.customContextMenuRequested.connect(self._menu)

    # -- y zoom ---------------------------------------------------------------------------
    def _on_price_range(self, mask) -> None:
        if mask is None or (len(mask) > 1 and mask[1]):
            self.price_y_manual = True

    def _on_following(self, following: bool) -> None:
        if following:
            self._fit_again()

    def _fit_again(self) -> None:
        self.price_y_manual = False

    # -- series ---------------------------------------------------------------------------
    def _toggle_pct(self, index: int) -> None:
        shown = self.panel.pct_legend.toggle(index)
        curves = self.panel.pct_curves
        if index < len(curves):
            curves[index].setVisible(shown)

    def _toggle_price(self, index: int) -> None:
        shown = self.panel.price_legend.toggle(index)
        if index < len(PRICE_SERIES):
            getattr(self.panel, PRICE_SERIES[index]).setVisible(shown)

    # -- export ---------------------------------------------------------------------------
    def export_image(self, path: Path) -> Path:
        """The charts as they are drawn now, to a PNG (or any image suffix Qt writes) or,
        for .svg, a vector picture."""
        path = Path(path)
        scene = self.panel.glw.scene()
        self.panel.hide_crosshair()  # where the mouse was is not part of the picture
        if path.suffix.lower() == ".svg":
            self._export_svg(path)
        else:
            exporter = pg.exporters.ImageExporter(scene)
            exporter.parameters()["width"] = max(int(self.panel.glw.width()), 1)
            exporter.export(str(path))
        self.panel.adapter.say(f"exported the charts to {path}")
        return path

    def _export_svg(self, path: Path) -> None:
        """The view drawn by Qt's own SVG painter. (pyqtgraph's SVGExporter fails on the
        paths Qt 6.10 and newer write, pyqtgraph issue 3485.)"""
        from PySide6.QtCore import QRectF, QSize
        from PySide6.QtGui import QPainter
        from PySide6.QtSvg import QSvgGenerator
        view = self.panel.glw
        w, h = max(view.width(), 1), max(view.height(), 1)
        gen = QSvgGenerator()
        gen.setFileName(str(path))
        gen.setSize(QSize(w, h))
        gen.setViewBox(QRectF(0, 0, w, h))
        gen.setTitle("IPC Trading Desk charts")
        painter = QPainter(gen)
        try:
            view.render(painter)
        finally:
            painter.end()

    def export_csv(self, path: Path) -> Path:
        """The price chart's data in view (the picked symbol's price and both moving
        averages, each as time and value columns), as pyqtgraph's CSV exporter writes it."""
        path = Path(path)
        pg.exporters.CSVExporter(self.panel.price_plot).export(str(path))
        self.panel.adapter.say(f"exported the price chart's data to {path}")
        return path

    def _menu(self, pos: QPoint) -> None:
        menu = QMenu(self.panel.glw)
        menu.addAction("Export charts as PNG\u2026", lambda: self.ask_and_export("png"))
        menu.addAction("Export charts as SVG\u2026", lambda: self.ask_and_export("svg"))
        menu.addAction("Export price data as CSV\u2026", lambda: self.ask_and_export("csv"))
        menu.exec(self.panel.glw.mapToGlobal(pos))

    def ask_and_export(self, kind: str) -> None:
        what = {"png": "PNG images (*.png)", "svg": "SVG pictures (*.svg)",
                "csv": "CSV files (*.csv)"}[kind]
        default = Path(self.panel.adapter.config.log_dir) / f"charts.{kind}"
        path, _ = QFileDialog.getSaveFileName(self.panel, "Export the charts", str(default),
                                              what)
        if path:
            (self.export_csv if kind == "csv" else self.export_image)(Path(path))
