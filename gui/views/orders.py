"""The Orders pane: the orders table (newest on top; sortable by any column, filtered by a
text box and by account, through proxy models), the orders the OrderManager rejected with
their reasons (a tab of their own), the count and P&L of the account shown (or of the
session) in its header, the positions beside it, and an export of the session's orders as
CSV. The account picked here is the session's: the positions, the watchlist's position
column and the P&L chart's highlighted curve follow it."""
from __future__ import annotations

import math
import time
from collections import deque
from pathlib import Path
from typing import Deque, Optional

from PySide6.QtCore import QObject, QRegularExpression, QSortFilterProxyModel, Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton,
                               QSplitter, QTableView, QTabWidget, QVBoxLayout, QWidget)

from engine.records.order_log import ORDERS_FILE, read_order_log, write_orders_csv

from ..models.chart_data import SMALL_UNIVERSE
from ..models.session import pnl_color_sign
from . import theme
from .positions import PositionsModel, sign_color
from .tables import (SORT_ROLE, NewestFirstTable, ReadOnlyTable, fit_columns, plain_table,
                     set_filter_text, sorted_filtered, sorted_table, titled)

MAX_ROWS = 5000
MAX_REFUSED = 1000  # rejected orders the Rejected tab keeps (newest first)


ALL_ACCOUNTS = "All accounts"
ACCOUNT_COLUMN = 6


class OrdersModel(NewestFirstTable):
    COLUMNS = ("Time", "Order", "Side", "Qty", "Symbol", "Price", "Account")
    WHAT = "orders table"
    ROLES = ReadOnlyTable.ROLES | {SORT_ROLE}

    def __init__(self, max_rows: int = MAX_ROWS, parent: Optional[QObject] = None):
        super().__init__(max_rows, parent)  # rows newest first: (epoch_s, Confirm)
        self._texts: Deque[tuple] = deque()  # each row's cells, formatted once
        self._bold = QFont()
        self._bold.setBold(True)

    def _data(self, index, role):
        if not index.isValid():
            return None
        t, c = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._texts[index.row()][col]
        if role == SORT_ROLE:
            return (t, c.order_id, c.side, c.qty, c.symbol, c.price, c.account or "")[col]
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 2:
                return theme.qcolor(theme.BUY if c.side == "BUY" else theme.SELL)
            if col in (0, ACCOUNT_COLUMN):
                return theme.qcolor(theme.MUTED)
        if role == Qt.ItemDataRole.FontRole and col == 2:
            return self._bold
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col in (1, 3, 5):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _put(self, item) -> None:
        t, c = item
        super()._put(item)
        self._texts.appendleft((  # formatted once, not at every repaint
            time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}",
            str(c.order_id), c.side, str(c.qty), c.symbol, f"{c.price:,.2f}", c.account or ""))

    def _drop(self) -> None:
        super()._drop()
        self._texts.pop()

    def _reset(self) -> None:
        super()._reset()
        self._texts.clear()


class RejectedModel(NewestFirstTable):
    """The order frames the OrderManager refused (as it tells a desk), newest first: rows
    are Rejection messages."""
    COLUMNS = ("Time", "Reason", "Frame")
    WHAT = "rejected orders table"
    ROLES = ReadOnlyTable.ROLES | {Qt.ItemDataRole.ToolTipRole, SORT_ROLE}

    def __init__(self, max_rows: int = MAX_REFUSED, parent: Optional[QObject] = None):
        super().__init__(max_rows, parent)

    def _data(self, index, role):
        if not index.isValid():
            return None
        r, col = self.rows[index.row()], index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            stamp = time.strftime("%H:%M:%S", time.localtime(r.time))
            return (stamp, r.reason, r.frame)[col]
        if role == SORT_ROLE:
            return (r.time, r.reason, r.frame)[col]
        if role == Qt.ItemDataRole.ForegroundRole:
            return theme.qcolor(theme.AMBER if col == 1 else theme.MUTED) if col < 2 else None
        return None


class OrdersView(QWidget):
    """Orders table (newest on top) with the session's count and P&L, and positions per
    symbol beside it. Sources: the confirmation listener (its signals say when), the
    sampler (the prices P&L is marked to); model: the session the listener keeps."""

    def __init__(self, adapter, listener, session, sampler,
                 parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.adapter = adapter
        self.listener = listener
        self.session = session
        self.sampler = sampler

        top = self._header_row()
        self.model = OrdersModel(parent=self)
        # model -> the account shown (exact, on its column) -> sorted and filtered by text
        self.account_proxy = QSortFilterProxyModel(self)
        self.account_proxy.setSourceModel(self.model)
        self.account_proxy.setFilterKeyColumn(ACCOUNT_COLUMN)
        self.proxy = sorted_filtered(self.account_proxy, self)
        self.table = self._orders_table()
        self.refused = RejectedModel(parent=self)
        self.refused_proxy = sorted_filtered(self.refused, self)
        self.refused_table = self._refused_table()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.table, "Orders")
        self.tabs.addTab(self.refused_table, "Rejected")
        self.tabs.setCornerWidget(self._tools(), Qt.Corner.TopRightCorner)
        self.pos_model = PositionsModel(session, sampler.marks, self)
        self.pnl_timer = QTimer(self)
        self.pnl_timer.setInterval(500)
        self.pnl_timer.timeout.connect(self._refresh_pnl)
        self.pnl_timer.start()
        self.pos_table = QTableView()
        self.pos_table.setModel(self.pos_model)
        plain_table(self.pos_table)
        need = fit_columns(self.pos_table, ("GOOG", "-000", "-0,000.00", "000")) + \
            2 * self.pos_table.frameWidth() + 2
        self.pos_table.setMinimumWidth(need)

        # the positions beside the orders where the pane is wide enough for both, else
        # under them (a laptop's window: the charts keep the width)
        self.split = split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tabs)
        self.pos_pane = titled("Positions", self.pos_table)
        split.addWidget(self.pos_pane)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 0)  # (what is left goes to the orders: their account)
        split.setChildrenCollapsible(False)
        self._pos_width = need

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(4)
        lay.addLayout(top)
        lay.addWidget(split, 1)

        listener.confirmsReceived.connect(self._on_confirms)
        listener.stateReceived.connect(self._on_state)
        listener.rejectionsReceived.connect(self._on_rejections)
        listener.connectionChanged.connect(self._on_connection_changed)
        adapter.stateChanged.connect(lambda *_: self._on_connection_changed())
        session.on_pick(self._on_pick)
        adapter.configChanged.connect(self._on_config_changed)
        self._on_config_changed(adapter.config)
        self._on_connection_changed()

    def resizeEvent(self, ev) -> None:  # a C++ virtual: nothing here raises
        """The positions beside the orders where both fit (20 px over: no flapping), else
        under them."""
        super().resizeEvent(ev)
        w, h = ev.size().width(), ev.size().height()
        both = self.tabs.minimumSizeHint().width() + self._pos_width + 24
        flat = self.split.orientation() == Qt.Orientation.Horizontal
        if not flat and w >= both + 20 or flat and w < both:
            self.split.setOrientation(Qt.Orientation.Vertical if flat else
                                      Qt.Orientation.Horizontal)
            self.split.setSizes([3 * h // 5, 2 * h // 5] if flat else [w - self._pos_width,
                                                                      self._pos_width])

    def _header_row(self) -> QHBoxLayout:
        """The count, the rejections and the P&L; the account shown and the listener's link
        at the right."""
        self.header = QLabel()
        self.header.setObjectName("heading")
        self.link = QLabel()
        self.link.setObjectName("muted")
        self.account_box = QComboBox()
        self.account_box.addItem(ALL_ACCOUNTS, None)
        self.account_box.setToolTip("Show one account's orders, positions and P&L (each "
                                    "Strategy trades on its own account; 'anon' holds the "
                                    "orders of peers that name none)")
        self.account_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.account_box.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.account_box.currentIndexChanged.connect(
            lambda _i: self.session.pick(self.account_box.currentData()))
        top = QHBoxLayout()
        top.addWidget(self.header)
        top.addStretch(1)
        top.addWidget(self.account_box)
        top.addWidget(self.link)
        return top

    def _tools(self) -> QWidget:
        """Beside the tabs: the filter (both tables) and the CSV export."""
        box, row = theme.tool_row()
        self.filter_box = theme.filter_box(
            "Filter\u2026", "Show the rows in which any cell holds this text (a symbol, a "
            "side, an order id, a reason)")
        self.filter_box.textChanged.connect(self.set_filter)
        self.export_button = QPushButton("Export CSV\u2026")
        self.export_button.setToolTip("The session's orders (its whole order log, "
                                      "orders.jsonl) as a CSV file")
        self.export_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.export_button.clicked.connect(self._on_export)
        row.addWidget(self.filter_box)
        row.addWidget(self.export_button)
        return box

    def _refused_table(self) -> QTableView:
        table = sorted_table(self.refused_proxy, 0)  # by time
        fit_columns(table, ("00:00:00", "order: unknown symbol"))
        return table

    def _orders_table(self) -> QTableView:
        table = sorted_table(self.proxy, 1)  # by order id
        fixed = fit_columns(table, ("00:00:00.000", "0000", "SELL", "000", "GOOG",
                                    "00,000.00", "strategy"))
        # room for every column, the account's title too (it was cut to 'Acc'), and the
        # scroll bar (with a font a little wider than expected, an X11 desktop, the price was
        # clipped behind a scroll bar); the account, last, takes what is left
        table.setMinimumWidth(fixed + 2 * table.frameWidth()
                              + table.verticalScrollBar().sizeHint().width())
        return table

    # -- handlers -----------------------------------------------------------------------
    def _on_confirms(self, items: list) -> None:
        self.model.add(items)
        self.pos_model.changed([c.symbol for _, c in items])
        self._update_accounts()
        self._update_header()

    def _update_accounts(self) -> None:
        """A choice for every account seen in the session (the combo grows, never jumps)."""
        known = {self.account_box.itemData(i) for i in range(self.account_box.count())}
        for account in self.session.accounts():
            if account not in known:
                self.account_box.addItem(account or "(none)", account)

    def pick_account(self, account) -> None:
        """Show `account`'s orders, positions and P&L (None: every account)."""
        self._update_accounts()
        self.session.pick(account)

    def _on_pick(self, account) -> None:
        i = self.account_box.findData(account)
        if i < 0 and account is not None:
            self.account_box.addItem(account or "(none)", account)
            i = self.account_box.count() - 1
        if i != self.account_box.currentIndex():
            self.account_box.blockSignals(True)
            self.account_box.setCurrentIndex(max(i, 0))
            self.account_box.blockSignals(False)
        pattern = "" if account is None else "^" + QRegularExpression.escape(account) + "$"
        self.account_proxy.setFilterRegularExpression(QRegularExpression(pattern))
        self.pos_model.refresh()
        self._update_header()

    def _on_rejections(self, items: list) -> None:
        self.refused.add(items)
        self._update_header()

    def set_filter(self, text: str) -> None:
        for proxy in (self.proxy, self.refused_proxy):
            set_filter_text(proxy, text)
        if self.filter_box.text() != text:
            self.filter_box.setText(text)

    def export_orders_csv(self, path: Path) -> int:
        """The session's orders as CSV: its order log when the OrderManager runs on this
        machine (every order, the table holding only the latest), else what the table has."""
        config = self.adapter.config
        log = Path(config.log_dir) / ORDERS_FILE
        if "order_manager" not in config.remote and log.exists():
            n = write_orders_csv(read_order_log(log), path)
        else:
            rows = ({"order_id": c.order_id, "time": t, "side": c.side, "qty": c.qty,
                     "symbol": c.symbol, "price": c.price,
                     "client_order_id": c.client_order_id, "account": c.account}
                    for t, c in reversed(self.model.rows))
            n = write_orders_csv(rows, path)
        self.adapter.say(f"exported {n:,} orders to {path}")
        return n

    def _on_export(self) -> None:
        stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
        default = Path(self.adapter.config.log_dir) / f"orders-{stamp}.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export the session's orders",
                                              str(default), "CSV files (*.csv)")
        if path:
            self.export_orders_csv(Path(path))

    def _on_state(self, state) -> None:
        """A (re)connection: the table starts again from the OrderManager's session (its
        latest orders follow as replays), positions and the count are the session's own."""
        self.model.clear()
        self.refused.clear()  # its latest rejections follow as replays too
        self.pos_model.changed(sorted(state.positions))
        self._update_accounts()
        self._update_header()

    def _om_expected(self) -> bool:
        """Should the listener be connected? An OrderManager of the stack is starting or
        running, or runs on another machine (then it may be there at any moment)."""
        ctl = self.adapter.controller
        if "order_manager" in self.adapter.config.remote or \
                any(e.role == "order_manager" for e in ctl.roster.remote):
            return True
        return any(ctl.state(n).active for n in ctl.roster.with_role("order_manager"))

    def _on_connection_changed(self, _connected=None) -> None:
        """connected; reconnecting... only while an OrderManager should be there; else what
        is so: none runs (before Start all, after Stop all)."""
        if self.listener.connected:
            color, text = theme.GREEN, "connected"
        elif self._om_expected():
            color, text = theme.AMBER, "reconnecting\u2026"
        else:
            color, text = theme.GREY, "OrderManager not running"
        self.link.setText(f"<span style='color:{color}'>\u25cf</span> {text}")
        self.link.setToolTip(f"confirmations from the OrderManager at "
                             f"{self.listener.host}:{self.listener.port}")
        self._update_header()

    def _on_config_changed(self, config) -> None:
        # a handful of symbols: each has a row from the start; a universe: the ones that
        # traded (its watchlist shows every position, so the pane makes room for the charts)
        universe = len(config.symbols) > SMALL_UNIVERSE
        listed = [] if universe else list(config.symbols)
        self.pos_model.set_symbols(listed + [s for s in self.pos_model.symbols
                                             if s not in listed and self.session.fills.get(s)])
        self.pos_pane.setVisible(not universe)
        self.listener.set_endpoint(config.connect_host, config.confirm_port, config.auth_token)
        self._update_header()

    # -- drawing ------------------------------------------------------------------------
    def _refresh_pnl(self) -> None:
        self.pos_model.refresh_pnl()
        self._update_header()

    def _update_header(self) -> None:
        bad = self.listener.bad_frames
        extra = f"  \u00b7  <span style='color:{theme.AMBER}'>{bad} bad frames</span>" \
            if bad else ""
        picked = self.session.picked
        total = self.session.pnl_total(self.sampler.marks(), picked)
        pnl = "" if math.isnan(total) else (
            f"  \u00b7  P&amp;L <span style='color:{sign_color(pnl_color_sign(total))}'>"
            f"{total:+,.2f}</span>")
        figures = self.adapter.model.figures()
        refused, reasons = figures["rejected"], figures["rejections"]
        rejected = (f"  \u00b7  <span style='color:{theme.AMBER}'>{refused:,} rejected</span>"
                    if refused else "")
        if picked is None:
            self.header.setText(f"Orders  <span style='color:{theme.ACCENT}'>"
                                f"{self.session.orders:,}</span> confirmed{rejected}{pnl}"
                                f"{extra}")
        else:
            n = self.session.account_orders.get(picked, 0)
            self.header.setText(f"{picked or '(none)'}  <span style='color:{theme.ACCENT}'>"
                                f"{n:,}</span> of {self.session.orders:,} orders{pnl}{extra}")
        self.tabs.setTabText(1, f"Rejected ({len(self.refused.rows):,})" if self.refused.rows
                             else "Rejected")
        tip = ("P&L by average cost: realized, plus the open positions marked to the last "
               "prices in shared memory; the session's is the sum of its accounts'.")
        pnls = self.session.account_pnls(self.sampler.marks())
        if len(pnls) > 1:
            tip += "\n\nBy account:\n" + "\n".join(
                f"  {a or '(none)'}: {'-' if math.isnan(v) else f'{v:+,.2f}'}"
                for a, v in pnls.items())
        if reasons:
            tip += "\n\nOrders the OrderManager rejected, by reason:\n" + "\n".join(
                f"  {n:,}  {why}" for why, n in sorted(reasons.items(), key=lambda x: -x[1]))
        self.header.setToolTip(tip)

    # -- for tests ----------------------------------------------------------------------
    def row_count(self) -> int:
        return self.model.rowCount()

    def position(self, symbol: str, account=None) -> int:
        return self.session.position(symbol, account)
