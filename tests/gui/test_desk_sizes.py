"""The desk at every size a user has (issue 26): at 1280 x 720, 1366 x 768, 1920 x 1080 and
2560 x 1440, with 5, 50 and 500 symbols, no label, button, tab, table header, dock title or
chart title is cut short (its text measured against the room it has: tests/gui/fit.py), and
every row of the Processes shows its buttons whole. The layout is the one a first run makes
at that size (View > Reset layout)."""
from __future__ import annotations

import pytest

from engine.config.schema import parse_symbols

from .fit import cut_chart_titles, cut_texts

SIZES = [(1280, 720), (1366, 768), (1920, 1080), (2560, 1440)]


def at_size(qtbot, window, size) -> None:
    """The window at `size` with the layout a first run makes there."""
    window.resize(*size)
    window.reset_layout()  # (the compact layout lets a small window be small)
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=5_000)
    window.reset_layout()
    try:  # (the titles are fitted to the plots' width when the charts' view is resized)
        qtbot.waitUntil(lambda: not cut_chart_titles(window.charts), timeout=2_000)
    except qtbot.TimeoutError:
        pass  # said below, with the others


# A watchlist beside the charts and the orders does not fit 1366 px yet: its last columns
# (Signal, Pos) are cut, and the charts get less than half the width. Still open in issue 26
# (strict: a fix makes these fail, and the mark goes).
NOT_YET = pytest.mark.xfail(strict=True, reason="a watchlist's last columns are cut at a "
                                                "laptop's width (issue 26, point 13)")


def combos():
    for size in SIZES:
        for symbols in (5, 50, 500):
            marks = [NOT_YET] if symbols > 5 and size[0] < 1600 else []
            yield pytest.param(size, symbols, marks=marks, id=f"{size[0]}x{size[1]}-{symbols}")


@pytest.mark.slow
@pytest.mark.parametrize("size,symbols", combos())
def test_nothing_is_cut_at_any_size(qtbot, make_desk, config, size, symbols):
    if symbols != 5:
        config = config.replace(symbols=parse_symbols(str(symbols)))
    _, window = make_desk(config)
    at_size(qtbot, window, size)
    cut = cut_texts(window) + cut_chart_titles(window.charts)
    assert not cut, cut
    for row in window.process_panel.rows.values():
        for b in (row.start, row.stop, row.restart, row.kill):
            assert b.visibleRegion().boundingRect().width() >= b.width() - 1, b.text()
