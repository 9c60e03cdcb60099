"""A universe on the desk: past a handful of symbols the window shows a watchlist (a model
sorted and filtered in place), a map of every symbol and the best and worst movers, and the
symbol picked in either is the one charted; the positions pane is a model too. Fed through
real shared memory (no processes): the books are written here as the OrderBook and the
Strategy would."""
from __future__ import annotations

import math
import os
import time

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from engine.config.schema import universe
from engine.protocol import Confirm

pytestmark = pytest.mark.timeout(60)

N = 60


@pytest.fixture
def universe_window(qtbot, config, qsettings):
    from gui.sources.confirmations import OrdersListener
    from gui.sources.controller import ControllerAdapter
    from gui.window.main_window import MainWindow
    adapter = ControllerAdapter(config.replace(symbols=universe(N)))
    ctl = adapter.controller
    ctl.memory.ensure()
    ctl.memory.book.set_writer(os.getpid())
    listener = OrdersListener("127.0.0.1", 9)  # never started
    window = MainWindow(adapter, qsettings, listener=listener)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.charts.stop()
    window.close()
    qtbot.waitUntil(lambda: window.shutdown_done, timeout=20_000)
    adapter.close()


def write_round(ctl, k: int) -> np.ndarray:
    """Symbol j moves by (j - N/2) * k / 100 % (so the best movers are the last symbols and
    the worst the first), and the Strategy's MAs follow (its positions in the signal book
    are not what the watchlist shows: the account's, from the confirmations, are)."""
    j = np.arange(N)
    prices = 100.0 * (1 + (j - N / 2) * k / 10_000)
    ctl.memory.book.update_rows(j, prices, np.ones(N, dtype=np.int64), time.perf_counter_ns())
    pos = np.where(j % 2 == 0, 99, 0)
    ctl.memory.signal_book.publish_rows(j, prices - 0.01 * (j % 2), prices, pos, 1)
    ctl.memory.signal_book.set_sentiment(75)
    return prices


def test_a_universe_shows_the_watchlist_the_map_and_the_movers(qtbot, universe_window):
    w = universe_window
    charts, watch = w.charts, w.watchlist
    assert charts.universe and watch.isVisible() and not w.orders_view.pos_pane.isVisible()
    ctl = w.adapter.controller
    for k in range(1, 8):
        write_round(ctl, k)
        qtbot.wait(60)
    qtbot.waitUntil(lambda: len(charts.movers) == 10, timeout=3_000)
    names = [charts.symbols[j] for j in charts.movers]
    assert names[:5] == list(universe(N)[-5:][::-1])  # the best first
    assert names[5:] == list(universe(N)[:5][::-1])   # then the worst, the worst last
    # one line a mover, none for the rest; the legend names them beside the plot
    drawn = [c for c in charts.pct_curves if c.xData is not None and len(c.xData)]
    assert len(charts.pct_curves) == 10 and len(drawn) == 10
    assert all(n in charts.pct_legend.html for n in names)
    legend, plot = charts.pct_legend.sceneBoundingRect(), charts.pct_plot.vb.sceneBoundingRect()
    assert legend.left() >= plot.right() - 1, "a legend never covers a plot"

    # positions: the session's (confirmations of two accounts), the picked account's
    fills = [Confirm(order_id=j + 1, side="BUY", qty=10, symbol=universe(N)[j], price=100.0,
                     account="fast") for j in range(0, N, 3)]
    fills.append(Confirm(order_id=N + 1, side="SELL", qty=7, symbol=universe(N)[1],
                         price=100.0, account="slow"))
    w.listener.received(b"".join(c.encode() for c in fills))
    w.orders_view.pick_account("fast")
    watch.refresh()
    # the watchlist: sorted by change, best first, values from the books
    model = watch.model
    qtbot.waitUntil(lambda: model.symbol_at(0) == universe(N)[-1], timeout=3_000)
    assert model.rowCount() == N
    assert model.data(model.index(0, 6)) == ("+10" if (N - 1) % 3 == 0 else "0")
    assert model.data(model.index(0, 5)) == "\u25bc"  # short below long (odd rows)
    # filter and held-only, then sort by symbol
    watch.filter_box.setText("AA")
    assert all("AA" in model.symbol_at(r) for r in range(model.rowCount()))
    watch.filter_box.clear()
    watch.held_box.setChecked(True)
    assert model.rowCount() == len(range(0, N, 3))
    w.orders_view.pick_account("slow")  # another account: its own positions
    watch.refresh()
    assert [model.symbol_at(r) for r in range(model.rowCount())] == [universe(N)[1]]
    assert model.data(model.index(0, 6)) == "-7"
    w.orders_view.pick_account(None)  # every account: the net
    watch.refresh()
    assert model.rowCount() == len(range(0, N, 3)) + 1
    watch.held_box.setChecked(False)
    watch.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    syms = [model.symbol_at(r) for r in range(model.rowCount())]
    assert syms == sorted(syms)

    # a row picked is the symbol charted; a reorder keeps the selection on that symbol
    watch.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    watch.table.selectRow(3)
    picked = model.symbol_at(3)
    assert charts.selected == picked
    for k in range(8, 12):  # the order turns around: the worst become the best
        prices = write_round(ctl, -k)
        qtbot.wait(60)
    qtbot.waitUntil(lambda: model.symbol_at(0) == universe(N)[0], timeout=3_000)
    row = watch.table.selectionModel().currentIndex().row()
    assert model.symbol_at(row) == picked
    # the selected symbol's price line is its own, at every frame
    qtbot.waitUntil(lambda: charts.price_curve.yData is not None and len(
        charts.price_curve.yData) and charts.price_curve.yData[-1] ==
        prices[charts.symbols.index(picked)], timeout=3_000)

    # a click on the map picks the symbol of that cell
    m = watch.map
    qtbot.waitUntil(lambda: np.isfinite(m.change).all(), timeout=3_000)
    cell = 7
    scene = m.vb.mapViewToScene(QPointF(cell % m.cols + 0.5, cell // m.cols + 0.5))
    assert m.symbol_at(scene) == universe(N)[cell]
    with qtbot.waitSignal(w.sampler.symbolSelected, timeout=1_000):
        m._clicked(type("Click", (), {"scenePos": lambda self: scene})())
    assert charts.selected == universe(N)[cell]
    assert math.isfinite(m.scale) and m.scale > 0
    # a symbol picked on the charts' own selector: the watchlist follows
    charts.symbol_box.setCurrentText(universe(N)[11])
    current = watch.table.selectionModel().currentIndex().row()
    assert model.symbol_at(current) == universe(N)[11] == charts.selected


def test_positions_are_a_model_updated_in_place(qtbot, bare_adapter):
    from gui.sources.confirmations import OrdersListener
    from gui.sources.prices import PriceSampler
    from gui.views.orders import OrdersView
    listener = OrdersListener("127.0.0.1", 9)  # never started: we hand it bytes ourselves
    sampler = PriceSampler(bare_adapter)
    view = OrdersView(bare_adapter, listener, listener.session, sampler)
    try:
        pm = view.pos_model
        configured = list(bare_adapter.config.symbols)
        assert pm.symbols == configured  # a handful: each has its row from the start
        resets, inserts = [], []
        pm.modelReset.connect(lambda: resets.append(1))
        pm.rowsInserted.connect(lambda *a: inserts.append(a[1:]))
        listener.received(
            Confirm(order_id=1, side="BUY", qty=10, symbol=configured[0], price=1.0).encode()
            + Confirm(order_id=2, side="SELL", qty=20, symbol=configured[0], price=1.0).encode()
            + Confirm(order_id=3, side="BUY", qty=5, symbol="ZZZ", price=2.0).encode())
        assert not resets and inserts == [(len(configured), len(configured))]
        assert pm.data(pm.index(0, 1)) == "-10" and pm.data(pm.index(0, 3)) == "2"
        assert pm.data(pm.index(0, 2)) == "+0.00"  # bought 10 and sold 20 at 1.00: even
        assert pm.symbols[-1] == "ZZZ" and pm.data(pm.index(len(configured), 1)) == "+5"
        assert view.position(configured[0]) == -10
    finally:
        sampler.stop()
        view.deleteLater()
        sampler.deleteLater()
        listener.deleteLater()


def test_a_handful_of_symbols_keeps_the_three_charts(qtbot, bare_adapter, qsettings):
    from gui.sources.confirmations import OrdersListener
    from gui.window.main_window import MainWindow
    listener = OrdersListener("127.0.0.1", 9)
    window = MainWindow(bare_adapter, qsettings, listener=listener)
    try:
        window.show()
        qtbot.waitExposed(window)
        assert not window.charts.universe and not window.watchlist.isVisible()
        assert len(window.charts.pct_curves) == len(bare_adapter.config.symbols)
        assert window.orders_view.pos_pane.isVisible()
    finally:
        window.charts.stop()
        window.close()
        qtbot.waitUntil(lambda: window.shutdown_done, timeout=20_000)
