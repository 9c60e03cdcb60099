"""The System map: the architecture drawn live. The four processes and the desk are nodes
(their state's colour, pid and CPU), the shared-memory segment a block (name, size, rows,
updates a second), and each TCP link and shared-memory access an edge with its frames/s,
bytes/s, clients, rejections and last error; a dot runs along an edge while frames flow on
it, and an edge turns amber when a steady stream has stalled and red when an end is down.
Under it, tick-to-ack hop by hop (p50 / p99 over the last seconds) and a histogram of it.

A node is a role: several processes of one role (two Strategies) are one node that names
them; an external one (another team's program) is drawn with its state and CPU as ours are,
its links from the reports of our processes at the other end.

The figures are gui/models/system.py's, from the processes' own reports, refreshed twice a
second; the dots move at 30 frames a second while the map is on screen and not at all
while it is hidden. A click on a process node selects it and offers Start / Stop / Restart
/ Kill (of each of its processes)."""
from __future__ import annotations

import math
import time
from typing import Optional, Tuple

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QMenu, QSizePolicy, QWidget

from engine.config.schema import ROLES as PROCESS_NAMES  # the map's four nodes
from gui.models.desk import state_word, verbs_allowed
from gui.models.system import LINKS, NODE_TITLES, NODES, PORT_OF, SystemModel, SystemView

from . import theme
from .guard import guarded

REFRESH_MS = 500
ANIMATE_MS = 33
STATUS_COLORS = {"flowing": theme.GREEN, "idle": theme.MUTED, "off": theme.GREY,
                 "stalled": theme.AMBER,
                 "down": theme.RED}
NODE_W, NODE_H = 150, 54


class SystemMap(QWidget):
    processSelected = Signal(str)

    def __init__(self, adapter, listener=None, frames=None, parent: Optional[QWidget] = None):
        super().__init__(parent)
        # sources: the controller's adapter, the confirmation listener (is the desk
        # connected); model: the frame meter the charts tick (the desk's frames a second)
        self.adapter, self.listener, self.frames = adapter, listener, frames
        self.model = SystemModel()
        self.view = SystemView()
        self.selected: Optional[str] = None
        self.phase = 0.0
        self.refreshes = 0
        self.paints = 0
        self._last_anim = time.monotonic()
        self.setMinimumSize(320, 280)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.refresh_timer = QTimer(self)
        self.refresh_timer.setInterval(REFRESH_MS)
        self.refresh_timer.timeout.connect(self.refresh)
        self.refresh_timer.start()
        self.anim = QTimer(self)
        self.anim.setInterval(ANIMATE_MS)
        self.anim.timeout.connect(self._animate)
        adapter.stateChanged.connect(lambda *_: self.refresh())
        self.refresh()

    # -- figures ----------------------------------------------------------------------------
    def snapshot(self) -> Tuple[dict, dict, dict]:
        """What the model needs, from the adapter (never from a socket)."""
        ctl, cfg = self.adapter.controller, self.adapter.config
        roster = ctl.roster
        procs = {}
        for role in PROCESS_NAMES:
            names = roster.with_role(role)
            elsewhere = [e.name for e in roster.remote if e.role == role] or (
                [role] if role in cfg.remote and not names else [])
            if not names:
                procs[role] = {"remote": bool(elsewhere), "state": "remote" if elsewhere
                               else "stopped", "names": elsewhere}
                continue
            views = [self.adapter.view(n) for n in names]
            ours = [n for n in names if not roster[n].external]
            reporting = next((n for n in ours if ctl.status(n).last_report is not None), None)
            p = ctl.status(reporting) if reporting else None
            procs[role] = {"state": self.model.role_of([state_word(v.state, v.detail)
                                                        for v in views]),
                           "pid": views[0].pid if len(views) == 1 else None,
                           "cpu": sum(v.cpu_percent for v in views),
                           "stats": p.stats if p is not None else None,
                           "time": p.last_report if p is not None else None,
                           "names": names if names != [role] else [],
                           "external": [n for n in names if roster[n].external]}
        # the stack's shared memory, price and signal books, as the status bar counts it
        shm = {"name": cfg.shm_name, "bytes": ctl.memory.nbytes,
               "rows": len(cfg.symbols)}
        desk = {"connected": bool(self.listener is not None and self.listener.connected),
                "fps": self.frames.rate() if self.frames is not None else 0.0}
        return procs, shm, desk

    def refresh(self) -> None:
        guarded("the system map's refresh", self._refresh)

    def _refresh(self) -> None:
        self.view = self.model.view(*self.snapshot())
        self.refreshes += 1
        if self.shown:
            self.update()

    def link(self, key: str):
        return self.view.links[key]

    def node(self, key: str):
        return self.view.nodes[key]

    # -- animation --------------------------------------------------------------------------
    @property
    def shown(self) -> bool:
        """On screen: visible, and not behind another dock's tab."""
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def set_shown(self, shown: bool) -> None:
        """Its dock came to the front (or went behind): the dots run only while it shows."""
        if shown:
            self._last_anim = time.monotonic()
            self.anim.start()
            self.refresh()
        else:
            self.anim.stop()

    def hideEvent(self, ev) -> None:  # a C++ virtual: nothing here raises
        self.anim.stop()

    def _animate(self) -> None:
        now = time.monotonic()
        self.phase = (self.phase + (now - self._last_anim) * 0.8) % 1.0
        self._last_anim = now
        if self.shown and any(lv.status == "flowing" for lv in self.view.links.values()):
            self.update()

    # -- geometry ---------------------------------------------------------------------------
    def _diagram(self) -> QRectF:
        """The part of the widget the nodes live in (the hops and histogram are below)."""
        return QRectF(8, 8, max(self.width() - 16, 100), max(self.height() * 0.78, 100))

    def node_rect(self, key: str) -> QRectF:
        d = self._diagram()
        fx, fy = NODES[key]
        w = min(NODE_W if key != "shm" else NODE_W + 20, d.width() * 0.42)
        h = NODE_H + (16 if key == "shm" else 0)  # its name, size, rows and rate
        c = QPointF(d.left() + fx * d.width(), d.top() + fy * d.height() / 0.78 * 0.95)
        return QRectF(c.x() - w / 2, c.y() - h / 2, w, h)

    def _ends(self, src: str, dst: str, offset: float) -> Tuple[QPointF, QPointF]:
        a, b = self.node_rect(src), self.node_rect(dst)
        ca, cb = a.center(), b.center()
        dx, dy = cb.x() - ca.x(), cb.y() - ca.y()
        length = math.hypot(dx, dy) or 1.0
        nx, ny = -dy / length * offset, dx / length * offset  # parallel lanes (orders/acks)
        return (_edge_point(a, cb, QPointF(nx, ny)), _edge_point(b, ca, QPointF(nx, ny)))

    # -- painting ---------------------------------------------------------------------------
    def paintEvent(self, ev) -> None:  # a C++ virtual
        guarded("the system map's paint", self._paint)

    def _paint(self) -> None:
        self.paints += 1
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(theme.PLOT_BG))
        small = QFont(self.font())
        small.setPointSizeF(max(small.pointSizeF() - 1, 7))
        for spec in LINKS:
            self._paint_link(p, spec, small)
        for key in NODES:
            self._paint_node(p, key, small)
        self._paint_hops(p, small)
        p.end()

    def _paint_link(self, p: QPainter, spec, font: QFont) -> None:
        lv = self.view.links.get(spec.key)
        if lv is None:
            return
        offset = {"orders": -7.0, "acks": 7.0}.get(spec.key, 0.0)
        a, b = self._ends(spec.src, spec.dst, offset)
        color = QColor(STATUS_COLORS.get(lv.status, theme.MUTED))
        pen = QPen(color, 2.0 if lv.status not in ("idle", "off") else 1.4)
        if spec.kind == "shm":
            pen.setStyle(Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.drawLine(a, b)
        _arrow(p, a, b, color)
        if lv.status == "flowing":  # a dot running along it
            t = (self.phase * (1.0 + min(math.log10(1 + lv.frames_per_s), 3.0))) % 1.0
            dot = QPointF(a.x() + (b.x() - a.x()) * t, a.y() + (b.y() - a.y()) * t)
            p.setBrush(color)
            p.setPen(Qt.PenStyle.NoPen)
            p.drawEllipse(dot, 4.0, 4.0)
            p.setBrush(Qt.BrushStyle.NoBrush)
        port = PORT_OF.get(spec.key)
        title = spec.label + (f" :{getattr(self.adapter.config, port)}" if port else "")
        lines = [title] if lv.status == "off" else [title, lv.text()]
        if lv.status in ("down", "stalled") and lv.error:
            lines.append(lv.error[:48])
        elif lv.status == "stalled":
            lines.append("stalled")
        mid = QPointF((a.x() + b.x()) / 2, (a.y() + b.y()) / 2)
        _label(p, mid, lines, font, color, offset)

    def _paint_node(self, p: QPainter, key: str, font: QFont) -> None:
        nv = self.view.nodes.get(key)
        r = self.node_rect(key)
        if key == "shm":
            color = QColor(theme.ACCENT if nv and nv.state == "up" else theme.GREY)
        elif key == "desk":
            color = QColor(theme.ACCENT)
        else:
            color = QColor(theme.STATE_COLORS.get(nv.state if nv else "stopped", theme.GREY)
                           if nv and nv.state != "remote" else theme.ACCENT)
        fill = QColor(color)
        fill.setAlpha(38)
        path = QPainterPath()
        path.addRoundedRect(r, 7 if key != "shm" else 2, 7 if key != "shm" else 2)
        p.fillPath(path, fill)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(color, 2.6 if key == self.selected else 1.4))
        p.drawPath(path)
        p.setPen(QColor(theme.TEXT))
        bold = QFont(font)
        bold.setBold(True)
        p.setFont(bold)
        title_h = p.fontMetrics().height() + 6
        title = NODE_TITLES[key]
        if nv is not None and len(nv.names) > 1:
            title += f" ×{len(nv.names)}"
        p.drawText(QRectF(r.left() + 4, r.top() + 3, r.width() - 8, title_h),
                   Qt.AlignmentFlag.AlignCenter, title)
        p.setFont(font)
        p.setPen(QColor(theme.MUTED))
        p.drawText(r.adjusted(4, title_h, -4, -2),
                   Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, _node_line(nv))

    def _paint_hops(self, p: QPainter, font: QFont) -> None:
        top = self._diagram().bottom() + 4
        area = QRectF(10, top, self.width() - 20, self.height() - top - 6)
        if area.height() < 30:
            return
        p.setFont(font)
        p.setPen(QColor(theme.MUTED))
        v = self.view
        head = "tick\u2192ack hop by hop: a typical order's p50 / each hop's p99, us"
        if v.tick_to_ack:
            head += (f"  (total {v.tick_to_ack[0]:,.0f} / {v.tick_to_ack[1]:,.0f} over "
                     f"{v.hop_window_s:.0f} s)")
        else:
            head += ": no acknowledged order in the last seconds"
        p.drawText(QRectF(area.left(), area.top(), area.width(), 16),
                   Qt.AlignmentFlag.AlignLeft, head)
        hist_w = min(170.0, area.width() * 0.35)
        y = area.top() + 18
        p.setPen(QColor(theme.TEXT))
        for title, p50, p99 in v.hops:
            text = f"{title}: " + ("-" if p50 is None else f"{p50:,.0f} / {p99:,.0f}")
            p.drawText(QRectF(area.left(), y, area.width() - hist_w - 8, 15),
                       Qt.AlignmentFlag.AlignLeft, text)
            y += 14
        self._paint_histogram(p, QRectF(area.right() - hist_w, area.top() + 18, hist_w,
                                        area.height() - 20))

    def _paint_histogram(self, p: QPainter, r: QRectF) -> None:
        counts = self.view.histogram
        if not counts or r.height() < 20 or not max(counts):
            return
        top = max(counts)
        w = r.width() / len(counts)
        color = QColor(theme.ACCENT)
        for i, n in enumerate(counts):
            h = (r.height() - 12) * n / top
            p.fillRect(QRectF(r.left() + i * w + 0.5, r.bottom() - 12 - h, w - 1, h), color)
        p.setPen(QColor(theme.MUTED))
        p.drawText(QRectF(r.left(), r.bottom() - 11, r.width(), 11),
                   Qt.AlignmentFlag.AlignLeft, "0.1 ms")
        p.drawText(QRectF(r.left(), r.bottom() - 11, r.width(), 11),
                   Qt.AlignmentFlag.AlignRight, "100 ms")

    # -- clicks -----------------------------------------------------------------------------
    def node_at(self, pos: QPointF) -> Optional[str]:
        for key in PROCESS_NAMES:
            if self.node_rect(key).contains(pos):
                return key
        return None

    def mousePressEvent(self, ev) -> None:  # a C++ virtual
        guarded("the system map's click", self._click, ev.position(), ev.globalPosition())

    def _click(self, pos: QPointF, global_pos: QPointF) -> None:
        key = self.node_at(pos)
        if key is None:
            return
        self.select(key)
        if not self.adapter.controller.roster.with_role(key):  # none runs here
            return
        menu = self.menu_for(key)
        menu.popup(global_pos.toPoint())

    def select(self, key: str) -> None:
        """Select a role's node; the first of its processes is the one selected."""
        self.selected = key
        names = self.adapter.controller.roster.with_role(key)
        self.processSelected.emit(names[0] if names else key)
        self.update()

    def menu_for(self, key: str) -> QMenu:
        """Start / Stop / Restart / Kill of each process of the role."""
        menu = QMenu(self)
        names = self.adapter.controller.roster.with_role(key)
        for i, name in enumerate(names):
            if i:
                menu.addSeparator()
            title = self.adapter.model.title(name)
            allowed = verbs_allowed(self.adapter.model.state(name))
            for verb in ("start", "stop", "restart", "kill"):
                action = menu.addAction(f"{verb.capitalize()} {title}")
                action.setEnabled(allowed[verb])  # not Start on a running one
                action.triggered.connect(
                    lambda _=False, v=verb, n=name: getattr(self.adapter, v)(n))
        return menu


def _node_line(nv) -> str:
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


def _edge_point(r: QRectF, toward: QPointF, shift: QPointF) -> QPointF:
    """Where the line from r's centre (shifted) toward `toward` leaves r."""
    c = r.center() + shift
    dx, dy = toward.x() + shift.x() - c.x(), toward.y() + shift.y() - c.y()
    if dx == 0 and dy == 0:
        return c
    sx = (r.width() / 2 + 4) / abs(dx) if dx else math.inf
    sy = (r.height() / 2 + 4) / abs(dy) if dy else math.inf
    s = min(sx, sy)
    return QPointF(c.x() + dx * s, c.y() + dy * s)


def _arrow(p: QPainter, a: QPointF, b: QPointF, color: QColor) -> None:
    angle = math.atan2(b.y() - a.y(), b.x() - a.x())
    size = 8.0
    pts = [b, QPointF(b.x() - size * math.cos(angle - 0.4), b.y() - size * math.sin(angle - 0.4)),
           QPointF(b.x() - size * math.cos(angle + 0.4), b.y() - size * math.sin(angle + 0.4))]
    path = QPainterPath(pts[0])
    path.lineTo(pts[1])
    path.lineTo(pts[2])
    path.closeSubpath()
    p.fillPath(path, color)


def _label(p: QPainter, mid: QPointF, lines, font: QFont, color: QColor, offset: float) -> None:
    p.setFont(font)
    fm = p.fontMetrics()
    w = max(fm.horizontalAdvance(s) for s in lines) + 10
    h = fm.height() * len(lines) + 4
    x = mid.x() - w / 2 + (offset * 9 if offset else 0)
    r = QRectF(x, mid.y() - h / 2, w, h)
    bg = QColor(theme.PLOT_BG)
    bg.setAlpha(225)
    p.fillRect(r, bg)
    p.setPen(color)
    p.drawText(r, Qt.AlignmentFlag.AlignCenter, "\n".join(lines))

