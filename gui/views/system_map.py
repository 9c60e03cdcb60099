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

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSizeF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QMenu, QSizePolicy, QToolTip, QWidget

from engine.config.schema import ROLES as PROCESS_NAMES  # the map's four nodes
from gui.models.desk import state_word, verbs_allowed
from gui.models.system import LINKS, NODE_TITLES, NODES, PORT_OF, SystemModel, SystemView

from . import theme
from .guard import guarded
from .map_geometry import MapGeometry, node_line, place_label
from .map_hops import paint_hops
from ..sources.floor import FloorProbe

REFRESH_MS = 500
ANIMATE_MS = 33


def status_color(status: str) -> str:
    """A link's colour for its status, in the palette in use."""
    return {"flowing": theme.GREEN, "idle": theme.MUTED, "off": theme.GREY,
            "stalled": theme.AMBER, "down": theme.RED}.get(status, theme.MUTED)




class SystemMap(QWidget):
    processSelected = Signal(str)

    def __init__(self, adapter, listener=None, frames=None, probe=None,
                 parent: Optional[QWidget] = None):
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
        self.setMinimumSize(320, 200)  # (a tab above a watchlist: the charts keep the height)
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
        theme.notifier().changed.connect(self.update)  # painted from the palette in use
        # each hop beside what the kernel costs on this machine, measured once shown
        self.floors: dict = {}
        self.probe = probe if probe is not None else FloorProbe(self)
        self.probe.measured.connect(self.set_floors)
        if self.probe.floors:
            self.floors = dict(self.probe.floors)
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
        """Its dock came to the front (or went behind): the dots run only while it shows;
        the first time, the floor of the hops is measured (FloorProbe)."""
        if shown:
            self.probe.start()
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
    @property
    def geometry_(self) -> MapGeometry:
        return MapGeometry(self.width(), self.height(), self.font(), len(self.view.hops),
                           getattr(self, "_node_h", {}))

    def node_rect(self, key: str) -> QRectF:
        return self.geometry_.node_rect(key)

    def _hops_area(self) -> QRectF:
        return self.geometry_.hops_area()

    def _ends(self, src: str, dst: str, offset: float) -> Tuple[QPointF, QPointF]:
        return self.geometry_.ends(src, dst, offset)

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
        self._fit_nodes(small)
        # what was drawn where (the tests check that no text covers another or a node)
        self.drawn = {"nodes": [self.node_rect(k) for k in NODES], "labels": [],
                      "label_text": [], "omitted": [], "hops": []}
        labels = [self._paint_link(p, spec) for spec in LINKS]
        # the lines, that a label had better not cover (but for its own)
        self._lines = [QRectF(a, b).normalized().adjusted(-3, -3, 3, 3) if a is not None
                       else None for a, b, *_ in (lb or (None, None) for lb in labels)]
        for key in NODES:
            self._paint_node(p, key, small)
        # the links' labels last, each where it covers no node and no other label
        p.setFont(small)
        for i, label in enumerate(labels):
            if label is not None:
                self._paint_label(p, i, *label)
        self._paint_hops(p, small)
        p.end()

    def _fit_nodes(self, font: QFont) -> None:
        """Each node tall enough for its title and its wrapped line of figures."""
        bold = QFont(font)
        bold.setBold(True)
        title_h = QFontMetrics(bold).height() + 6
        fm = QFontMetrics(font)
        self._node_h = {}
        for key in NODES:
            w = int(self.node_rect(key).width()) - 8
            text = fm.boundingRect(QRect(0, 0, max(w, 10), 10_000), int(
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                node_line(self.view.nodes.get(key)))
            self._node_h[key] = title_h + text.height() + 6

    def _paint_link(self, p: QPainter, spec):
        """The link's line, arrow and moving dot; returns its label (a, b, lines, colour,
        offset) to be placed once every node is drawn."""
        lv = self.view.links.get(spec.key)
        if lv is None:
            return None
        offset = {"orders": -7.0, "acks": 7.0}.get(spec.key, 0.0)
        a, b = self._ends(spec.src, spec.dst, offset)
        color = QColor(status_color(lv.status))
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
        # the side of the lane (orders and acks run side by side): its label's side too
        lane = (a.x() + b.x()) / 2 - (self.node_rect(spec.src).center().x()
                                      + self.node_rect(spec.dst).center().x()) / 2 \
            if abs(b.y() - a.y()) > abs(b.x() - a.x()) else \
            (a.y() + b.y()) / 2 - (self.node_rect(spec.src).center().y()
                                   + self.node_rect(spec.dst).center().y()) / 2
        return a, b, lines, color, math.copysign(abs(offset), lane) if offset else 0.0

    def _paint_label(self, p: QPainter, i: int, a: QPointF, b: QPointF, lines,
                     color: QColor, offset: float) -> None:
        """The label beside its link, whole where there is room, else in a shorter form
        (its title and error, then its title alone), else none: never over a node or another
        label. The whole label is the tooltip of the label or of the line."""
        fm = p.fontMetrics()
        others = [r for j, r in enumerate(self._lines) if r is not None and j != i]
        taken = self.drawn["nodes"] + self.drawn["labels"] + [self._hops_area()]
        forms = [lines]
        if len(lines) > 2:
            forms.append([lines[0], lines[-1]])
        if len(lines) > 1:
            forms.append(lines[:1])
        for form in forms:
            size = QSizeF(max(fm.horizontalAdvance(s) for s in form) + 10,
                          fm.height() * len(form) + 4)
            r, free = place_label(a, b, size, offset, taken, QRectF(self.rect()), others)
            if free:
                break
        else:  # no room beside its link even for its title: the line alone (and its tip)
            self.drawn["omitted"].append((self._lines[i], lines))
            return
        self.drawn["labels"].append(r)
        self.drawn["label_text"].append((form, lines))
        bg = QColor(theme.PLOT_BG)
        bg.setAlpha(225)
        p.fillRect(r, bg)
        p.setPen(color)
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, "\n".join(form))

    def label_tip(self, pos: QPointF) -> str:
        """The whole label under `pos` (a shortened one's figures and error)."""
        drawn = getattr(self, "drawn", {})
        shown = zip(drawn.get("labels", ()), (lines for _f, lines in drawn.get("label_text", ())))
        for r, lines in list(shown) + drawn.get("omitted", []):
            if r.contains(pos):
                return "\n".join(lines)
        return ""

    def event(self, ev) -> bool:  # a C++ virtual
        if ev.type() == QEvent.Type.ToolTip:
            tip = guarded("the system map's tooltip", self.label_tip, QPointF(ev.pos())) or ""
            if tip:
                QToolTip.showText(ev.globalPos(), tip, self)
            else:
                QToolTip.hideText()
                ev.ignore()
            return True
        return super().event(ev)

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
                   Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, node_line(nv))

    def set_floors(self, floors: dict) -> None:
        self.floors = dict(floors)
        self.update()

    def _paint_hops(self, p: QPainter, font: QFont) -> None:
        paint_hops(p, self._hops_area(), self.view, font, self.drawn["hops"], self.floors)

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
