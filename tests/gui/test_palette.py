"""The light and the dark palette: every text colour legible on every surface (WCAG contrast
>= 4.5:1, data lines >= 3:1), the OS's colour scheme followed, View > Appearance forcing
either (remembered), and the desk switched while it runs showing no colour of the other
palette: every label, table cell, log line, chart title, legend, axis and curve is checked
against the palette in use."""
from __future__ import annotations

import re

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLabel, QWidget

from gui.views import theme
from gui.views.charts.legend import SideLegend
from gui.views.log_view import LogPane
from gui.views.system_map import status_color

TEXT_MIN, LINE_MIN = 4.5, 3.0
HEX = re.compile(r"color:\s*(#[0-9a-fA-F]{6})")


@pytest.fixture
def palette_back():
    """Whatever a test chose, the next one starts in the default (dark, following the OS)."""
    yield
    theme.apply_theme(QApplication.instance(), "system")
    assert theme.current is theme.DARK


@pytest.mark.parametrize("palette", list(theme.PALETTES.values()), ids=lambda p: p.name)
def test_every_text_colour_is_legible_on_every_surface(palette):
    low = [(what, round(theme.contrast(fg, bg), 2)) for what, fg, bg in palette.text_pairs()
           if theme.contrast(fg, bg) < TEXT_MIN]
    assert not low, low
    # the map's link colours are text colours of the palette too
    theme._bind(palette)
    try:
        for status in ("flowing", "idle", "off", "stalled", "down"):
            assert theme.contrast(status_color(status), palette.plot_bg) >= TEXT_MIN
    finally:
        theme._bind(theme.DARK)


def test_the_choice_follows_the_os_unless_forced():
    assert theme.resolve("system", "light") is theme.LIGHT
    assert theme.resolve("system", "dark") is theme.DARK
    assert theme.resolve("system", "") is theme.DARK  # the OS says nothing: the desk's own
    assert theme.resolve("light", "dark") is theme.LIGHT
    assert theme.resolve("dark", "light") is theme.DARK


def colours_shown(window):
    """(what, colour, background, minimum) for what the desk shows now: labels' text and
    rich text, table cells, log lines, the charts' titles, legends, axes and curves."""
    t = theme.current
    out = []
    for w in [window] + window.findChildren(QWidget):
        if not w.isVisibleTo(window):
            continue
        if isinstance(w, QLabel):
            fg = w.palette().color(w.foregroundRole()).name()
            for c in [fg] + HEX.findall(w.text()) + HEX.findall(w.styleSheet()):
                out.append((f"label {w.text()[:40]!r}", c, t.panel, TEXT_MIN))
        if isinstance(w, QAbstractItemView) and w.model() is not None:
            m = w.model()
            for r in range(min(m.rowCount(), 30)):
                for col in range(m.columnCount()):
                    c = m.data(m.index(r, col), Qt.ItemDataRole.ForegroundRole)
                    if c is not None:
                        out.append((f"{type(m).__name__}[{r},{col}]", c.name(), t.panel,
                                    TEXT_MIN))
        if isinstance(w, LogPane):
            block = w.document().begin()
            while block.isValid():
                it = block.begin()
                while not it.atEnd():
                    fmt = it.fragment().charFormat()
                    out.append((f"log line {block.text()[:40]!r}",
                                fmt.foreground().color().name(), t.panel, TEXT_MIN))
                    it += 1
                block = block.next()
    charts = window.charts
    for key, p in charts.plots.items():
        for side in ("left", "bottom"):
            out.append((f"{key} axis text", p.getAxis(side).textPen().color().name(),
                        t.plot_bg, TEXT_MIN))
        for c in HEX.findall(p.titleLabel.text):
            out.append((f"{key} title", c, t.plot_bg, TEXT_MIN))
        for item in p.listDataItems():
            if isinstance(item, pg.ScatterPlotItem):  # a mark: its fill
                out.append((f"{key} marks", item.opts["brush"].color().name(), t.plot_bg,
                            LINE_MIN))
            elif item.opts.get("pen") is not None:
                out.append((f"{key} curve", item.opts["pen"].color().name(), t.plot_bg,
                            LINE_MIN))
    for legend in charts.glw.ci.items:
        if isinstance(legend, SideLegend):
            for c in HEX.findall(legend.html) + [legend.opts["color"]]:
                out.append(("legend", c, t.plot_bg, TEXT_MIN))
    for line in (charts.bull_line, charts.bear_line):
        out.append(("threshold label", line.label.color.name(), t.plot_bg, TEXT_MIN))
    assert charts.glw.backgroundBrush().color().name() == t.plot_bg
    return out


def illegible(window):
    return [(what, c, bg, round(theme.contrast(c, bg), 2))
            for what, c, bg, least in colours_shown(window) if theme.contrast(c, bg) < least]


@pytest.mark.parametrize("first, then", [("dark", "light"), ("light", "dark")])
def test_the_desk_switched_while_it_runs_shows_only_the_new_palettes_colours(
        qtbot, make_desk, fast_config, start_all, palette_back, first, then):
    theme.apply_theme(QApplication.instance(), first)
    adapter, window = make_desk(fast_config)
    start_all(window)
    qtbot.waitUntil(lambda: window.orders_view.row_count() >= 2, timeout=20_000)
    window.log_view.setCurrentWidget(window.log_view.panes["order_manager"])
    qtbot.waitUntil(lambda: window.log_view.panes["order_manager"].lines() > 2, timeout=5_000)
    assert not illegible(window)
    window.menus.actions[f"palette_{then}"].trigger()
    assert theme.current is theme.PALETTES[then]
    assert window.menus.actions[f"palette_{then}"].isChecked()
    assert not illegible(window), illegible(window)
    # what the views draw from now on is in the new palette too
    qtbot.waitUntil(lambda: window.orders_view.row_count() >= 4, timeout=20_000)
    assert not illegible(window), illegible(window)
    assert f"appearance: {then}" in window.log_view.text("launcher")


def test_the_choice_is_remembered_and_the_os_scheme_followed(
        qtbot, make_desk, config, qsettings, palette_back, monkeypatch):
    adapter, window = make_desk(config)
    window.menus.actions["palette_light"].trigger()
    assert qsettings.value("view/palette") == "light"
    window.close()
    qtbot.waitUntil(lambda: window.shutdown_done, timeout=10_000)
    theme.apply_theme(QApplication.instance(), "dark")
    _, again = make_desk(config)  # a new start with the same settings
    assert theme.current is theme.LIGHT and again.menus.actions["palette_light"].isChecked()
    # "Follow the system": the OS switches to dark, then to light, while the desk runs
    again.menus.actions["palette_system"].trigger()
    monkeypatch.setattr(theme, "os_scheme", lambda: "dark")
    theme.on_os_scheme(QApplication.instance())
    assert theme.current is theme.DARK and not illegible(again)
    monkeypatch.setattr(theme, "os_scheme", lambda: "light")
    theme.on_os_scheme(QApplication.instance())
    assert theme.current is theme.LIGHT and not illegible(again), illegible(again)
    # forced, the OS's switches leave it alone
    again.menus.actions["palette_dark"].trigger()
    theme.on_os_scheme(QApplication.instance())
    assert theme.current is theme.DARK
    again.resize(QSize(1280, 720))
