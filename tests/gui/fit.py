"""What a window cuts short: every visible piece of text measured against the room it has
(labels, buttons, check boxes, tabs, table headers, dock titles, the charts' titles), for
the tests that render the desk at each size a user has. A text is cut when its width is more
than its room; an eliding label counts as cut when it elides."""
from __future__ import annotations

from typing import List, Tuple

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics, QTextDocument
from PySide6.QtWidgets import (QAbstractButton, QCheckBox, QDockWidget, QLabel, QTabBar,
                               QTableView, QWidget)

SLACK = 1  # pixels of rounding


def plain(text: str) -> str:
    if "<" in text and ">" in text:
        doc = QTextDocument()
        doc.setHtml(text)
        return doc.toPlainText()
    return text


def _shown(w: QWidget, top: QWidget) -> bool:
    return w.isVisibleTo(top) and w.isVisible() and w.width() > 0 and w.height() > 0


def where(w: QWidget) -> str:
    names = []
    while w is not None and len(names) < 4:
        names.append(w.objectName() or type(w).__name__)
        w = w.parentWidget()
    return "/".join(reversed(names))


def cut_texts(top: QWidget) -> List[Tuple[str, str, int, int]]:
    """(where, text, width it needs, width it has) of each text `top` shows cut short."""
    out = []
    for lbl in top.findChildren(QLabel):
        if not _shown(lbl, top) or lbl.wordWrap():
            continue
        for line in plain(lbl.text()).splitlines():
            need = lbl.fontMetrics().horizontalAdvance(line.strip())
            room = lbl.contentsRect().width()
            if line.strip() and need > room + SLACK:
                out.append((where(lbl), line.strip(), need, room))
                break
    for b in top.findChildren(QAbstractButton):
        if not _shown(b, top) or not b.text():
            continue
        if isinstance(b, QCheckBox):  # its box, spacing and text: the style knows
            need = b.sizeHint().width()
        else:
            need = b.fontMetrics().horizontalAdvance(b.text().replace("&", "")) + 8
        if need > b.width() + SLACK:
            out.append((where(b), b.text(), need, b.width()))
    for bar in top.findChildren(QTabBar):
        if not _shown(bar, top):
            continue
        for i in range(bar.count()):
            need = bar.fontMetrics().horizontalAdvance(bar.tabText(i)) + 8
            room = bar.tabRect(i).width()
            if room and need > room + SLACK:
                out.append((where(bar), bar.tabText(i), need, room))
    for table in top.findChildren(QTableView):
        if not _shown(table, top):
            continue
        head = table.horizontalHeader()
        bold = QFont(head.font())
        bold.setBold(True)
        fm = QFontMetrics(bold)
        model = table.model()
        for c in range(model.columnCount() if model is not None else 0):
            if head.isSectionHidden(c):
                continue
            title = str(model.headerData(c, Qt.Orientation.Horizontal) or "")
            x = head.sectionViewportPosition(c)
            visible = max(0, min(x + head.sectionSize(c), head.viewport().width()) - max(x, 0))
            need = fm.horizontalAdvance(title) + 12
            if title and visible < need - SLACK:
                out.append((where(table), title, need, visible))
    for dock in top.findChildren(QDockWidget):
        if _shown(dock, top):
            need = dock.fontMetrics().horizontalAdvance(dock.windowTitle()) + 60
            if need > dock.width() + SLACK:
                out.append((where(dock), dock.windowTitle(), need, dock.width()))
    return out


def cut_chart_titles(charts) -> List[Tuple[str, str, int, int]]:
    """The plots' titles (pyqtgraph LabelItems) against the width of their plot."""
    out = []
    for key, plot in charts.plots.items():
        item = plot.titleLabel
        if not item.isVisible() or not item.text:
            continue
        need = item.item.boundingRect().width()  # the text as drawn
        room = item.boundingRect().width() or plot.vb.sceneBoundingRect().width()
        if need > room + SLACK:
            out.append((f"chart {key}", plain(item.text), int(need), int(room)))
    return out


def crowded_axes(charts) -> List[Tuple[str, str]]:
    """(plot, what) for each chart axis whose labels overprint one another, or whose title is
    longer than its plot is tall (it would run into the next plot's)."""
    from PySide6.QtGui import QImage, QPainter
    out = []
    for key, p in charts.plots.items():
        for side in ("left", "bottom"):
            ax = p.getAxis(side)
            if not ax.isVisible() or not ax.style["showValues"]:
                continue
            image = QImage(4, 4, QImage.Format.Format_ARGB32)
            painter = QPainter(image)
            try:
                specs = ax.generateDrawSpecs(painter)
            finally:
                painter.end()
            rects = [r for r, _flags, _text in (specs[2] if specs else [])]
            for i, r in enumerate(rects):
                if any(r.adjusted(1, 1, -1, -1).intersects(o) for o in rects[:i]):
                    out.append((key, f"{side} labels overprint"))
                    break
        ax = p.getAxis("left")
        if ax.label.isVisible() and ax.label.boundingRect().width() > p.vb.height() + SLACK:
            out.append((key, f"axis title {ax.labelString()!r} longer than the plot"))
    return out
