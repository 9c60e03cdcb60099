"""How the charts' data lines are drawn: cosmetic pens one pixel wide, and 'peak'
downsampling."""
from __future__ import annotations

import os

import pyqtgraph as pg
from PySide6.QtCore import Qt

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


def line_pen(color: str, style=Qt.PenStyle.SolidLine, width: float = LINE_W):
    return pg.mkPen(color, width=width, style=style)
