"""The System map's figures under (or beside) its diagram: tick-to-ack hop by hop, p50 / p99
over the last seconds, and a histogram of it."""
from __future__ import annotations

import math
from typing import Optional

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter

from gui.models.system import HOP_TITLES

from . import theme


def paint_hops(p: QPainter, area: QRectF, v, font: QFont, drawn: list,
               floors: Optional[dict] = None) -> None:
    """The hops' head, a line a hop (in columns when the area is short) and the histogram
    (below the lines where there is room, else beside them, else none: the figures first).
    A hop whose floor is known (`floors`: {hop key: us}, what the kernel costs for it on
    this machine) says it and its p50's multiple of it. Each line drawn is added to `drawn`
    as (rect, text, text shown)."""
    if area.height() < 30:
        return
    p.setFont(font)
    p.setPen(QColor(theme.MUTED))
    head = "tick\u2192ack hop by hop: a typical order's p50 / each hop's p99, us"
    if v.tick_to_ack:
        head += (f"  (total {v.tick_to_ack[0]:,.0f} / {v.tick_to_ack[1]:,.0f} over "
                 f"{v.hop_window_s:.0f} s)")
    else:
        head += ": no acknowledged order in the last seconds"
    key_of = {title: key for key, title in HOP_TITLES}
    floors = floors or {}
    if floors:
        head = head.replace(", us", ", us (floor: what the kernel takes here)", 1)
    texts = []
    for title, p50, p99 in v.hops:
        text = f"{title}: " + ("-" if p50 is None else f"{p50:,.0f} / {p99:,.0f}")
        f = floors.get(key_of.get(title))
        if f and p50 is not None:
            text += f"  (floor {f:,.0f}, {p50 / f:.1f}\u00a0x)"
        texts.append(text)
    line_h = p.fontMetrics().height() + 1
    # the histogram below the lines where there is room (beside the diagram), else
    # beside them; the lines in columns when the map is short
    below = area.height() >= 2 * line_h + len(texts) * line_h + 50
    hist_w = 0.0 if below else min(170.0, area.width() * 0.35)
    # the head on two lines where the area has the height for them and two rows of hops
    head_h = 2 * line_h if below or area.height() >= 4 * line_h + 2 else line_h
    _hop_text(p, drawn, QRectF(area.left(), area.top(), area.width(), head_h), head)
    rows = max(1, int((area.height() - head_h - 2) // line_h))
    cols = max(1, math.ceil(len(texts) / rows))
    need = max((p.fontMetrics().horizontalAdvance(t) for t in texts), default=0) + 8
    if not below and cols * need > area.width() - hist_w - 8:
        hist_w = 0.0  # the figures before the picture of them
    col_w = (area.width() - hist_w - 8) / cols
    p.setPen(QColor(theme.TEXT))
    for i, text in enumerate(texts):
        c, r = divmod(i, rows)
        top = area.top() + head_h + 2 + r * line_h
        _hop_text(p, drawn, QRectF(area.left() + c * col_w, top, col_w - 6, line_h), text)
    if below:
        top = area.top() + head_h + 2 + len(texts) * line_h + 8
        _paint_histogram(p, v.histogram, QRectF(area.left(), top, area.width(),
                                                min(area.bottom() - top, 90)))
    elif hist_w:
        _paint_histogram(p, v.histogram, QRectF(area.right() - hist_w, area.top() + 18,
                                                hist_w, area.height() - 20))


def _hop_text(p: QPainter, drawn: list, r: QRectF, text: str) -> None:
    """A line of the hops (the head may wrap to two), cut with an ellipsis where its room
    is too short (recorded: the tests look for cut lines)."""
    fm = p.fontMetrics()
    lines = max(1, int(r.height() // fm.height()))
    shown = text if fm.boundingRect(QRect(0, 0, int(r.width()), 10_000), int(
        Qt.TextFlag.TextWordWrap), text).height() <= lines * fm.height() \
        else fm.elidedText(text, Qt.TextElideMode.ElideRight, int(r.width()) * lines)
    if lines == 1:
        shown = fm.elidedText(text, Qt.TextElideMode.ElideRight, int(r.width()))
    drawn.append((r, text, shown))
    p.drawText(r, int(Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap), shown)


def _paint_histogram(p: QPainter, counts, r: QRectF) -> None:
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
