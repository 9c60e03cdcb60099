"""Where the System map's parts go (gui/views/system_map.py paints them): the diagram of
nodes and the hop-by-hop figures (below the diagram, or beside it in a wide, short map), each
node's box, the ends of a link (two lanes side by side for orders and acks), and a link's
label beside its own link, covering no node, no other label and no figure."""
from __future__ import annotations

import math
from typing import Dict, Tuple

from PySide6.QtCore import QPointF, QRectF, QSizeF
from PySide6.QtGui import QFont, QFontMetrics

from gui.models.system import NODES

NODE_W, NODE_H = 150, 54


class MapGeometry:
    """The map's layout in a widget of `width` x `height` with `font`, `hops` lines of hop
    figures and each node's height as its text needs (`node_h`)."""

    def __init__(self, width: int, height: int, font: QFont, hops: int,
                 node_h: Dict[str, float]):
        self.width, self.height, self.font = width, height, font
        self.hops, self.node_h = hops, node_h

    def diagram(self) -> QRectF:
        """The part of the widget the nodes live in: above the hops, or beside them in a
        wide, short map (the tabs above a watchlist)."""
        if self.hops_beside():
            return QRectF(8, 8, self.width - self.hops_width() - 24, self.height - 16)
        return QRectF(8, 8, max(self.width - 16, 100),
                      max(self.height - self.hops_height() - 10, 100))

    def hops_height(self) -> float:
        """The hops' room below the diagram: a fifth of the map, or what their lines need in
        as many columns as fit beside the histogram (at most 45 % of the map)."""
        small = QFont(self.font)
        small.setPointSizeF(max(small.pointSizeF() - 1, 7))
        fm = QFontMetrics(small)
        line_h = fm.height() + 1
        n = self.hops or 4
        # the longest hop's line, with its floor
        need = fm.horizontalAdvance("\u2192 sent, handled by the OrderManager: 12,345 / "
                                    "56,789  (floor 123, 152.4 x)") + 8
        room = self.width - 20 - min(170.0, (self.width - 20) * 0.35) - 8
        cols = max(1, min(n, int(room // need)))
        lines = 2 + math.ceil(n / cols)  # (the head may take two)
        return min(max(self.height * 0.22, lines * line_h + 14), self.height * 0.45)

    def hops_beside(self) -> bool:
        return self.width >= 900 and self.width >= 2.6 * self.height

    def hops_width(self) -> float:
        return min(480.0, self.width * 0.36)

    def hops_area(self) -> QRectF:
        if self.hops_beside():
            w = self.hops_width()
            return QRectF(self.width - w - 10, 10, w, self.height - 16)
        top = self.diagram().bottom() + 4
        return QRectF(10, top, self.width - 20, self.height - top - 6)

    def node_rect(self, key: str) -> QRectF:
        d = self.diagram()
        fx, fy = NODES[key]
        w = min(NODE_W if key != "shm" else NODE_W + 20, d.width() * 0.42)
        # its title and figures (the shared memory's name, size, rows and rate): as tall as
        # they need once painted (_fit_nodes)
        h = max(NODE_H + (16 if key == "shm" else 0), self.node_h.get(key, 0))
        tall = d.height() * 1.2 if self.hops_beside() else d.height() * 1.22
        c = QPointF(d.left() + fx * d.width(), d.top() + fy * tall)
        return QRectF(c.x() - w / 2, c.y() - h / 2, w, h)

    def ends(self, src: str, dst: str, offset: float) -> Tuple[QPointF, QPointF]:
        a, b = self.node_rect(src), self.node_rect(dst)
        ca, cb = a.center(), b.center()
        dx, dy = cb.x() - ca.x(), cb.y() - ca.y()
        length = math.hypot(dx, dy) or 1.0
        nx, ny = -dy / length * offset, dx / length * offset  # parallel lanes (orders/acks)
        return (edge_point(a, cb, QPointF(nx, ny)), edge_point(b, ca, QPointF(nx, ny)))


def node_line(nv) -> str:
    """A node's figures under its title."""
    if nv is None:
        return ""
    if nv.key == "shm":
        return nv.detail
    if nv.key == "desk":
        return "charts, orders, logs"
    names = ""
    if nv.names:
        names = ", ".join(n + (" (ext.)" if n in nv.external else "") for n in nv.names) + "\n"
    if nv.state == "remote":
        return names + "remote (another machine)"
    text = nv.state
    if nv.pid:
        text += f" \u00b7 pid {nv.pid}"
    if nv.state == "running":  # (no-break spaces: a narrow node never wraps "0.8 / % CPU")
        text += f" \u00b7 {nv.cpu_percent:.1f}\u00a0%\u00a0CPU"
    return names + text


def edge_point(r: QRectF, toward: QPointF, shift: QPointF) -> QPointF:
    """Where the line from r's centre (shifted) toward `toward` leaves r."""
    c = r.center() + shift
    dx, dy = toward.x() + shift.x() - c.x(), toward.y() + shift.y() - c.y()
    if dx == 0 and dy == 0:
        return c
    sx = (r.width() / 2 + 4) / abs(dx) if dx else math.inf
    sy = (r.height() / 2 + 4) / abs(dy) if dy else math.inf
    s = min(sx, sy)
    return QPointF(c.x() + dx * s, c.y() + dy * s)


def place_label(a: QPointF, b: QPointF, size: QSizeF, offset: float, taken, room: QRectF,
                lines=()):
    """(rect, free): where a link's label goes, on the link or just beside it (a lane's own
    side first: orders left, acks right), at its middle or further along it, covering
    nothing in `taken` (nodes, labels placed before, the hops), inside `room`, and over no
    other link's line if it can (`lines`). Not free: nowhere beside its link is; the place
    that covers least."""
    w, h = size.width(), size.height()
    steep = abs(b.y() - a.y()) > abs(b.x() - a.x())
    side = -1.0 if offset < 0 else 1.0

    def covered(r: QRectF) -> float:
        return (sum(_area(r.intersected(t)) for t in taken)
                + w * h - _area(r.intersected(room)))  # what lies outside counts too

    def crossed(r: QRectF) -> float:
        return sum(_area(r.intersected(t)) for t in lines)
    candidates = []
    for t in (0.5, 0.38, 0.62, 0.26, 0.74):
        m = QPointF(a.x() + (b.x() - a.x()) * t, a.y() + (b.y() - a.y()) * t)
        centred = QRectF(m.x() - w / 2, m.y() - h / 2, w, h)
        if steep:  # beside a vertical link: its lane's side, then the other
            near = [centred.translated(side * (w / 2 + 6), 0),
                    centred.translated(-side * (w / 2 + 6), 0)]
        else:      # over a horizontal one, then above or below it
            near = [centred.translated(0, -h / 2 - 3), centred.translated(0, h / 2 + 3)]
        candidates += ([centred.translated(offset * 9, 0)] if not (steep and offset) else []) \
            + near
    best = min(candidates, key=lambda r: (covered(r) > 0.5 and covered(r), crossed(r) > 0.5))
    return best, covered(best) <= 0.5


def _area(r: QRectF) -> float:
    return max(r.width(), 0.0) * max(r.height(), 0.0)
