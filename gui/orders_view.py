"""Orders: a confirmation listener on the OrderManager's confirmations port, the orders table
(newest on top; sortable by any column and filtered by a text box, through a proxy model),
the orders the OrderManager rejected with their reasons (a tab of their own), the position
per symbol beside them (models updated in place), and an export of the session's orders
as CSV.

The listener is a QTcpSocket on the GUI thread's event loop: connecting and reading never
block. It reconnects with capped backoff (<= 1 s) whenever the OrderManager goes away, and
decodes `*`-delimited JSON confirm frames with engine.protocol (bad frames are counted and
skipped)."""
from __future__ import annotations

import math
import time
from collections import deque
from pathlib import Path
from typing import Deque, Dict, List, Optional

import shiboken6
from PySide6.QtCore import (QAbstractTableModel, QModelIndex, QObject, QRegularExpression,
                            QSortFilterProxyModel, Qt, QTimer, Signal)
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtNetwork import QAbstractSocket, QSslCertificate, QSslSocket, QTcpSocket
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QPushButton, QSplitter,
                               QTableView, QTabWidget, QVBoxLayout, QWidget)

from engine.net.client import connect_timeout
from engine.protocol import Confirm, Rejection, SessionRequest, auth_frame
from engine.records.order_log import ORDERS_FILE, read_order_log, write_orders_csv
from engine.trading.pnl import PnLBook

from . import theme
from .chart_model import SMALL_UNIVERSE
from .guard import guarded
from .model import ConfirmStream, PositionBook

BACKOFF_START_MS = 50
BACKOFF_CAP_MS = 1000
MAX_ROWS = 5000
MAX_REFUSED = 1000  # rejected orders the Rejected tab keeps (newest first)
SORT_ROLE = Qt.ItemDataRole.UserRole  # a cell's value to sort by (numbers as numbers)


def _fit_columns(table, samples) -> int:
    """Fixed widths that fit the sample text and the (bold) header; the last column stretches."""
    data_fm = table.fontMetrics()
    head = table.horizontalHeader()
    bold = QFont(head.font())
    bold.setBold(True)
    head_fm = QFontMetrics(bold)
    model = table.model()
    total = 0
    for col, sample in enumerate(samples):
        title = str(model.headerData(col, Qt.Orientation.Horizontal) or "")
        width = max(data_fm.horizontalAdvance(sample), head_fm.horizontalAdvance(title)) + 12
        head.resizeSection(col, width)
        total += width
    return total


class OrdersListener(QObject):
    """Connects to host:port, reconnects after any loss, emits decoded confirmations."""

    confirmsReceived = Signal(list)       # [(received_epoch_s, Confirm), ...]
    stateReceived = Signal(object)        # the session so far (SessionState), on each connect
    rejectionsReceived = Signal(list)     # [Rejection, ...]: order frames refused, and why
    connectionChanged = Signal(bool)

    def __init__(self, host: str, port: int, auth_token: Optional[str] = None,
                 max_frame: int = 64 * 1024, parent: Optional[QObject] = None,
                 tls_ca: Optional[str] = None):
        super().__init__(parent)
        self.host, self.port, self.auth_token = host, port, auth_token
        self.tls_ca = tls_ca  # TLS (QSslSocket) to an OrderManager whose certificate it signs
        self.stream = ConfirmStream(max_frame)
        self.connected = False
        self.connects = 0          # successful connections (reconnects = connects - 1)
        self.attempts = 0
        self._backoff = BACKOFF_START_MS
        self._running = False
        self.sock = self._new_socket()
        self.retry = QTimer(self)
        self.retry.setSingleShot(True)
        self.retry.timeout.connect(self._connect)
        # a connect that neither succeeds nor fails soon is given up and retried (on Windows
        # a refused connect to this machine takes about 2 s: see engine.net.connect_timeout)
        self.give_up = QTimer(self)
        self.give_up.setSingleShot(True)
        self.give_up.timeout.connect(self._on_connect_timeout)

    def _new_socket(self) -> QTcpSocket:
        if self.tls_ca:
            sock = QSslSocket(self)
            tls = sock.sslConfiguration()
            tls.setCaCertificates(QSslCertificate.fromPath(self.tls_ca))
            tls.setPeerVerifyMode(QSslSocket.PeerVerifyMode.VerifyPeer)
            sock.setSslConfiguration(tls)
            sock.encrypted.connect(self._on_connected)  # talk only once it is encrypted
        else:
            sock = QTcpSocket(self)
            sock.connected.connect(self._on_connected)
        sock.disconnected.connect(self._on_disconnected)
        sock.errorOccurred.connect(self._on_error)
        sock.readyRead.connect(self._on_ready_read)
        return sock

    @property
    def bad_frames(self) -> int:
        return self.stream.bad_frames

    def start(self) -> None:
        self._running = True
        self._connect()

    def stop(self) -> None:
        self._running = False
        self.retry.stop()
        self.give_up.stop()
        # After a refused connect Qt keeps that attempt's descriptor open until the next
        # connect (abort() of an unconnected socket does nothing): a stopped listener would
        # hold it for good. Deleting the socket closes it; a fresh one serves a new start.
        # (Never called from one of the socket's own signals.)
        old, self.sock = self.sock, self._new_socket()
        old.blockSignals(True)
        old.abort()
        shiboken6.delete(old)
        self._set_connected(False)

    def set_endpoint(self, host: str, port: int, auth_token: Optional[str] = None) -> None:
        if (host, port, auth_token) == (self.host, self.port, self.auth_token):
            return
        self.host, self.port, self.auth_token = host, port, auth_token
        if self._running:
            self.sock.abort()
            self._set_connected(False)
            self._backoff = BACKOFF_START_MS
            self._connect()

    # -- socket events ------------------------------------------------------------------
    def _connect(self) -> None:
        if not self._running:
            return
        if self.sock.state() != QAbstractSocket.SocketState.UnconnectedState:
            self.sock.abort()
        self.attempts += 1
        self.give_up.start(int(connect_timeout(self.host) * 1000))
        if self.tls_ca:
            self.sock.connectToHostEncrypted(self.host, self.port)
        else:
            self.sock.connectToHost(self.host, self.port)

    def _on_connect_timeout(self) -> None:
        if self.sock.state() != QAbstractSocket.SocketState.ConnectedState:
            self.sock.abort()
            self._set_connected(False)
            self._schedule()

    def _schedule(self) -> None:
        if not self._running or self.retry.isActive():
            return
        self.retry.start(self._backoff)
        self._backoff = min(self._backoff * 2, BACKOFF_CAP_MS)

    def _on_connected(self) -> None:
        self.give_up.stop()
        s = self.sock
        # a TCP self-connect (nobody listening, and the kernel picked the target port as
        # our source port) would squat the OrderManager's port: drop it and retry
        if s.localPort() == s.peerPort() and s.localAddress() == s.peerAddress():
            s.abort()
            self._schedule()
            return
        self._backoff = BACKOFF_START_MS
        self.stream.reset()
        self.connects += 1
        if self.auth_token:
            s.write(auth_frame(self.auth_token))
        # the session so far first (an OrderManager of ours answers with its state and its
        # latest orders; another one sends only live confirmations, which is fine)
        s.write(SessionRequest().encode())
        self._set_connected(True)

    def _on_disconnected(self) -> None:
        self._set_connected(False)
        self._schedule()

    def _on_error(self, _err) -> None:
        if self.sock.state() != QAbstractSocket.SocketState.ConnectedState:
            self._set_connected(False)
            self._schedule()

    def _on_ready_read(self) -> None:
        data = bytes(self.sock.readAll())
        if not data:
            return
        now, batch, refused = time.time(), [], []
        for item in self.stream.feed(data):
            if isinstance(item, Confirm):
                batch.append((item.time if item.replay and item.time else now, item))
                continue
            if isinstance(item, Rejection):
                refused.append(item)
                continue
            if batch:  # what came before the state, then the state
                self.confirmsReceived.emit(batch)
                batch = []
            self.stateReceived.emit(item)
        if batch:
            self.confirmsReceived.emit(batch)
        if refused:
            self.rejectionsReceived.emit(refused)

    def _set_connected(self, value: bool) -> None:
        if value != self.connected:
            self.connected = value
            self.connectionChanged.emit(value)


class ReadOnlyTable(QAbstractTableModel):
    """A read-only table of COLUMNS over `_len()` rows; data() is a C++ virtual, so it is
    guarded (an exception must not escape into Qt) and answered by `_data`."""

    COLUMNS: tuple = ()
    WHAT = "a table"
    # the roles a view asks for that these tables answer; a repaint asks ~14 roles a cell,
    # and answering the rest with None in C++ terms first keeps a 30-row repaint cheap
    ROLES = frozenset((Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole,
                       Qt.ItemDataRole.FontRole, Qt.ItemDataRole.TextAlignmentRole))

    def _len(self) -> int:
        raise NotImplementedError

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else self._len()

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role not in self.ROLES:
            return None
        return guarded(f"the {self.WHAT}'s data()", self._data, index, role)

    def _data(self, index, role):
        raise NotImplementedError


class NewestFirstTable(ReadOnlyTable):
    """At most max_rows rows in `rows`, newest on top: add() puts a batch on top and drops
    the oldest past the bound. A subclass keeping more per row extends _put and _drop."""

    def __init__(self, max_rows: int, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.rows: Deque = deque()
        self.max_rows = max_rows

    def _len(self) -> int:
        return len(self.rows)

    def _put(self, item) -> None:
        self.rows.appendleft(item)

    def _drop(self) -> None:
        self.rows.pop()

    def add(self, items: list) -> int:
        """items oldest first; they go on top, newest first. Returns how many were put (a
        batch longer than the bound keeps its newest)."""
        items = items[-self.max_rows:]
        if not items:
            return 0
        self.beginInsertRows(QModelIndex(), 0, len(items) - 1)
        for item in items:
            self._put(item)
        self.endInsertRows()
        extra = len(self.rows) - self.max_rows
        if extra > 0:
            self.beginRemoveRows(QModelIndex(), self.max_rows, len(self.rows) - 1)
            for _ in range(extra):
                self._drop()
            self.endRemoveRows()
        return len(items)

    def clear(self) -> None:
        self.beginResetModel()
        self._reset()
        self.endResetModel()

    def _reset(self) -> None:
        self.rows.clear()


class OrdersModel(NewestFirstTable):
    COLUMNS = ("Time", "Order", "Side", "Qty", "Symbol", "Price")
    WHAT = "orders table"
    ROLES = ReadOnlyTable.ROLES | {SORT_ROLE}

    def __init__(self, max_rows: int = MAX_ROWS, parent: Optional[QObject] = None):
        super().__init__(max_rows, parent)  # rows newest first: (epoch_s, Confirm)
        self._texts: Deque[tuple] = deque()  # each row's cells, formatted once
        self.total = 0
        self._buy = QColor(theme.BUY)
        self._sell = QColor(theme.SELL)
        self._muted = QColor(theme.MUTED)
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
            return (t, c.order_id, c.side, c.qty, c.symbol, c.price)[col]
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 2:
                return self._buy if c.side == "BUY" else self._sell
            if col == 0:
                return self._muted
        if role == Qt.ItemDataRole.FontRole and col == 2:
            return self._bold
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col in (1, 3, 5):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def add(self, items: List[tuple]) -> int:
        """(epoch_s, Confirm) items oldest first; they go on top, newest first."""
        n = super().add(items)
        self.total += n
        return n

    def _put(self, item) -> None:
        t, c = item
        super()._put(item)
        self._texts.appendleft((  # formatted once, not at every repaint
            time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}",
            str(c.order_id), c.side, str(c.qty), c.symbol, f"{c.price:,.2f}"))

    def _drop(self) -> None:
        super()._drop()
        self._texts.pop()

    def _reset(self) -> None:
        super()._reset()
        self._texts.clear()
        self.total = 0


class RejectedModel(NewestFirstTable):
    """The order frames the OrderManager refused (as it tells a desk), newest first: rows
    are Rejection messages."""
    COLUMNS = ("Time", "Reason", "Frame")
    WHAT = "rejected orders table"
    ROLES = ReadOnlyTable.ROLES | {Qt.ItemDataRole.ToolTipRole, SORT_ROLE}

    def __init__(self, max_rows: int = MAX_REFUSED, parent: Optional[QObject] = None):
        super().__init__(max_rows, parent)
        self._amber = QColor(theme.AMBER)
        self._muted = QColor(theme.MUTED)

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
            return self._amber if col == 1 else self._muted if col == 0 else None
        return None


def sorted_filtered(model: QAbstractTableModel, parent: QObject) -> QSortFilterProxyModel:
    """A proxy that sorts by each cell's value (SORT_ROLE) and keeps the rows in which any
    cell's text holds the filter text (any case)."""
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setFilterKeyColumn(-1)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    return proxy


def set_filter_text(proxy: QSortFilterProxyModel, text: str) -> None:
    proxy.setFilterRegularExpression(QRegularExpression(
        QRegularExpression.escape(text),
        QRegularExpression.PatternOption.CaseInsensitiveOption))


class PositionsModel(ReadOnlyTable):
    """Position, fills and P&L per symbol (a PositionBook and a PnLBook, average cost, marked
    to `marks()`), updated in place: a row appears when its symbol first trades (or is
    configured, for a handful of symbols), and only the rows that traded are redrawn."""

    COLUMNS = ("Symbol", "Pos", "P&L", "Fills")
    WHAT = "positions table"
    ROLES = ReadOnlyTable.ROLES | {Qt.ItemDataRole.ToolTipRole}

    def __init__(self, book: PositionBook, pnl: PnLBook, marks=dict,
                 parent: Optional[QObject] = None):
        super().__init__(parent)
        self.book, self.pnl, self.marks = book, pnl, marks
        self.symbols: List[str] = []
        self._row: Dict[str, int] = {}

    def _len(self) -> int:
        return len(self.symbols)

    def _data(self, index, role):
        if not index.isValid():
            return None
        sym, col = self.symbols[index.row()], index.column()
        pos = self.book.positions.get(sym, 0)
        if col == 2:
            return self._pnl(sym, role)
        if role == Qt.ItemDataRole.DisplayRole:
            return (sym, f"{pos:+,d}" if pos else "0", None, str(self.book.fills.get(sym, 0)))[col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 1:
            return QColor(theme.BUY if pos > 0 else theme.SELL if pos < 0 else theme.MUTED)
        if role == Qt.ItemDataRole.TextAlignmentRole and col:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _pnl(self, sym: str, role):
        h = self.pnl.holdings.get(sym)
        if h is None:
            return "" if role == Qt.ItemDataRole.DisplayRole else None
        u = h.unrealized(self.marks().get(sym))
        total = h.realized + (0.0 if math.isnan(u) else u)
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{total:+,.2f}"
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(theme.BUY if total > 0.005 else theme.SELL if total < -0.005
                          else theme.MUTED)
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"{sym}: average cost {h.average:,.4f}, realized {h.realized:+,.2f}, "
                    f"unrealized {'-' if math.isnan(u) else f'{u:+,.2f}'} (marked to the last "
                    f"price in shared memory)")
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def refresh_pnl(self) -> None:
        """Prices move: redraw the P&L column (a handful of rows on screen)."""
        if self.symbols:
            self.dataChanged.emit(self.index(0, 2), self.index(len(self.symbols) - 1, 2))

    def set_symbols(self, symbols: List[str]) -> None:
        self.beginResetModel()
        self.symbols = list(symbols)
        self._row = {s: i for i, s in enumerate(self.symbols)}
        self.endResetModel()

    def changed(self, symbols) -> None:
        """These symbols traded: new rows for new ones, one redraw of the rows that moved."""
        new = [s for s in dict.fromkeys(symbols) if s not in self._row]
        if new:
            first = len(self.symbols)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for s in new:
                self._row[s] = len(self.symbols)
                self.symbols.append(s)
            self.endInsertRows()
        rows = [self._row[s] for s in symbols]
        if rows:
            self.dataChanged.emit(self.index(min(rows), 1), self.index(max(rows), 3))


def _plain_table(table: QTableView) -> None:
    """The desk's table look: alternating rows, no grid, no row numbers, fixed-width digits."""
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(20)
    table.setFont(theme.mono_font())
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setStretchLastSection(True)


def _sorted_table(proxy: QSortFilterProxyModel, column: int) -> QTableView:
    """A plain table over a sorting proxy: whole rows selected, a click on a header sorts by
    it, and at first it is sorted by `column`, newest (highest) first."""
    table = QTableView()
    table.setModel(proxy)
    table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    _plain_table(table)
    table.setSortingEnabled(True)
    table.sortByColumn(column, Qt.SortOrder.DescendingOrder)
    return table


def _titled(title: str, widget: QWidget) -> QWidget:
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(2)
    label = QLabel(title)
    label.setObjectName("muted")
    lay.addWidget(label)
    lay.addWidget(widget)
    return box


class OrdersView(QWidget):
    """Orders table (newest on top) with a running count, and positions per symbol beside it."""

    def __init__(self, adapter, listener: OrdersListener, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.adapter = adapter
        self.listener = listener
        self.positions = PositionBook()
        self.pnl = PnLBook()  # average cost: the OrderManager's session, then every fill
        self.marks = dict  # symbol -> last price; the window gives the charts' latest

        top = self._header_row()
        self.model = OrdersModel(parent=self)
        self.proxy = sorted_filtered(self.model, self)
        self.table = self._orders_table()
        self.refused = RejectedModel(parent=self)
        self.refused_proxy = sorted_filtered(self.refused, self)
        self.refused_table = self._refused_table()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.table, "Orders")
        self.tabs.addTab(self.refused_table, "Rejected")
        self.tabs.setCornerWidget(self._tools(), Qt.Corner.TopRightCorner)
        self.pos_model = PositionsModel(self.positions, self.pnl, lambda: self.marks(), self)
        self.pnl_timer = QTimer(self)
        self.pnl_timer.setInterval(500)
        self.pnl_timer.timeout.connect(self._refresh_pnl)
        self.pnl_timer.start()
        self.pos_table = QTableView()
        self.pos_table.setModel(self.pos_model)
        _plain_table(self.pos_table)
        need = _fit_columns(self.pos_table, ("GOOG", "-000", "-0,000.00", "000")) + \
            2 * self.pos_table.frameWidth() + 2
        self.pos_table.setMinimumWidth(need)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.tabs)
        self.pos_pane = _titled("Positions", self.pos_table)
        split.addWidget(self.pos_pane)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([390, need])
        split.setChildrenCollapsible(False)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(4)
        lay.addLayout(top)
        lay.addWidget(split, 1)

        listener.confirmsReceived.connect(self._on_confirms)
        listener.stateReceived.connect(self._on_state)
        listener.rejectionsReceived.connect(self._on_rejections)
        listener.connectionChanged.connect(self._on_connection_changed)
        adapter.configChanged.connect(self._on_config_changed)
        self._on_config_changed(adapter.config)
        self._on_connection_changed(listener.connected)

    def _header_row(self) -> QHBoxLayout:
        """The count, the rejections and the P&L; the listener's link at the right."""
        self.header = QLabel()
        self.header.setObjectName("heading")
        self.link = QLabel()
        self.link.setObjectName("muted")
        top = QHBoxLayout()
        top.addWidget(self.header)
        top.addStretch(1)
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
        table = _sorted_table(self.refused_proxy, 0)  # by time
        _fit_columns(table, ("00:00:00", "order: unknown symbol"))
        return table

    def _orders_table(self) -> QTableView:
        table = _sorted_table(self.proxy, 1)  # by order id
        fixed = _fit_columns(table, ("00:00:00.000", "0000", "SELL", "000", "GOOG"))
        # room for every column, the price too, and the scroll bar: with a font a little
        # wider than expected (an X11 desktop) the price was clipped behind a scroll bar
        price = table.fontMetrics().horizontalAdvance("00,000.00") + 12
        table.setMinimumWidth(fixed + price + 2 * table.frameWidth()
                              + table.verticalScrollBar().sizeHint().width())
        return table

    # -- handlers -----------------------------------------------------------------------
    def _on_confirms(self, items: list) -> None:
        self.model.add(items)
        for _, c in items:
            if not c.replay:  # a replayed order is already in the session's totals
                self.positions.apply(c)
                self.pnl.fill(c.symbol, c.side, c.qty, c.price)
        self.pos_model.changed([c.symbol for _, c in items])
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
            return write_orders_csv(read_order_log(log), path)
        rows = ({"order_id": c.order_id, "time": t, "side": c.side, "qty": c.qty,
                 "symbol": c.symbol, "price": c.price, "client_order_id": c.client_order_id}
                for t, c in reversed(self.model.rows))
        return write_orders_csv(rows, path)

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
        self.model.total = state.orders - state.replay  # the replays count as they come
        self.positions.reset_to(state)
        self.pnl.seed(state.positions, state.fills, state.pnl or {})
        self.pos_model.changed(sorted(state.positions))
        self._update_header()

    def _on_connection_changed(self, connected: bool) -> None:
        color = theme.GREEN if connected else theme.AMBER
        text = "connected" if connected else "reconnecting\u2026"
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
                                             if s not in listed and self.positions.fills.get(s)])
        self.pos_pane.setVisible(not universe)
        self.listener.set_endpoint(config.connect_host, config.confirm_port, config.auth_token)
        self._update_header()

    # -- drawing ------------------------------------------------------------------------
    def _refresh_pnl(self) -> None:
        self.pos_model.refresh_pnl()
        self._update_header()

    def pnl_total(self) -> float:
        """The session's total P&L, NaN before its first order (the equity curve's value)."""
        return self.pnl.total(self.marks())

    def _update_header(self) -> None:
        bad = self.listener.bad_frames
        extra = f"  \u00b7  <span style='color:{theme.AMBER}'>{bad} bad frames</span>" \
            if bad else ""
        total = self.pnl_total()
        pnl = "" if math.isnan(total) else (
            f"  \u00b7  P&amp;L <span style='color:"
            f"{theme.BUY if total > 0.005 else theme.SELL if total < -0.005 else theme.MUTED}'>"
            f"{total:+,.2f}</span>")
        figures = self.adapter.model.figures()
        refused, reasons = figures["rejected"], figures["rejections"]
        rejected = (f"  \u00b7  <span style='color:{theme.AMBER}'>{refused:,} rejected</span>"
                    if refused else "")
        self.header.setText(f"Orders  <span style='color:{theme.ACCENT}'>"
                            f"{self.model.total:,}</span> confirmed{rejected}{pnl}{extra}")
        self.tabs.setTabText(1, f"Rejected ({len(self.refused.rows):,})" if self.refused.rows
                             else "Rejected")
        tip = ("P&L of the session by average cost: realized, plus the open positions marked "
               "to the last prices in shared memory.")
        if reasons:
            tip += "\n\nOrders the OrderManager rejected, by reason:\n" + "\n".join(
                f"  {n:,}  {why}" for why, n in sorted(reasons.items(), key=lambda x: -x[1]))
        self.header.setToolTip(tip)

    # -- for tests ----------------------------------------------------------------------
    def row_count(self) -> int:
        return self.model.rowCount()

    def position(self, symbol: str) -> int:
        return self.positions.positions.get(symbol, 0)
