"""The desk window: charts in the middle (with the watchlist and the universe map beside them
when there are more than a handful of symbols); processes and settings on top; orders and positions
on the right; logs below; the status line at the bottom. Docks can be moved; geometry, dock
layout and settings are remembered in QSettings.

Closing never freezes the window: it asks every process to stop in order (without waiting),
shows "stopping...", and finishes once all have exited (the controller escalates to
terminate/kill for a hung child), then unlinks the shared memory."""
from __future__ import annotations

import time
from typing import Optional

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QSplitter, QWidget

from . import theme
from .charts import ChartsPanel
from .log_view import LogView
from .menus import DeskMenus
from .orders_view import OrdersListener, OrdersView
from .process_panel import ProcessPanel
from .recorder import RecordControls
from .settings_panel import SettingsPanel, save_settings
from .system_map import SystemMap
from .watchlist import WatchlistPanel

TITLE = "IPC Trading Desk"
STATE_VERSION = 3
ORDERS_SLACK = 36  # px over the orders table's computed minimum (fonts vary a little)
SHUTDOWN_LIMIT_S = 15.0  # after this, close() blocks and kills what is left


def fmt_us(v) -> str:
    if v is None:
        return "-"
    return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} \u00b5s"


def fmt_bytes(n: int) -> str:
    return f"{n:,} B"


def first_size(screen, want=(1400, 900)) -> tuple:
    """The window's size on a first run: 1400 x 900, or less on a small (or scaled: a 1366 x
    768 laptop at 125 % has 1093 x 614 to offer) screen, leaving room for its frame."""
    if screen is None:
        return want
    avail = screen.availableGeometry()
    return (min(want[0], int(avail.width() * 0.95)), min(want[1], int(avail.height() * 0.9)))


class StatusLine:
    """The figures in the status bar, refreshed twice a second."""

    FEED = {"live": (theme.GREEN, "\u25cf feed live"),
            "stale": (theme.AMBER, "\u25a0 feed stale"),
            "waiting": (theme.MUTED, "\u25cb waiting for prices"),
            "off": (theme.MUTED, "\u25cb feed off")}

    def __init__(self, window: "MainWindow"):
        bar = window.statusBar()
        bar.setSizeGripEnabled(True)
        self.labels = {}
        for key, tip in (("feed", "Prices in shared memory: stale when the OrderBook is gone "
                                  "or no update for 2 s"),
                         ("ticks", "Ticks a second the OrderBook applies to shared memory"),
                         ("latency", "Tick-to-ack: OrderBook receipt to OrderManager "
                                     "acknowledgement, as the Strategy measures it"),
                         ("orders", "Orders the OrderManager logged (all runs)"),
                         ("rejected", "Frames the processes rejected (bad_frames)"),
                         ("shm", "Shared-memory footprint: price book + signal book"),
                         ("fps", "Chart frames rendered a second")):
            lbl = QLabel()
            lbl.setToolTip(tip)
            self.labels[key] = lbl
            bar.addWidget(lbl)
        self.message = QLabel()
        self.message.setStyleSheet("QLabel { border: none; }")
        self.message.setOpenExternalLinks(True)  # "video saved: <file>" opens it
        bar.addWidget(self.message, 1)
        self._message_until = 0.0
        self.text = ""

    def show_message(self, text: str, color: str = theme.TEXT, seconds: float = 8.0) -> None:
        self.message.setText(f"<span style='color:{color}'>{text}</span>")
        self._message_until = time.monotonic() + seconds

    def update(self, figures: dict, fps: float, paused: bool) -> None:
        L = self.labels
        color, text = self.FEED.get(figures["feed"], (theme.MUTED, figures["feed"]))
        L["feed"].setText(f"<span style='color:{color}'>{text}</span>")
        L["ticks"].setText(f"<b>{figures['ticks_per_s']:,.0f}</b> ticks/s")
        L["latency"].setText(f"tick\u2192ack p50 <b>{fmt_us(figures['ack_p50_us'])}</b>  "
                             f"p99 <b>{fmt_us(figures['ack_p99_us'])}</b>")
        L["orders"].setText(f"orders <b>{figures['orders']:,}</b>")
        bad = figures["bad_frames"]
        L["rejected"].setText(f"rejected <b style='color:{theme.AMBER if bad else theme.TEXT}'>"
                              f"{bad:,}</b>")
        L["shm"].setText(f"shm <b>{fmt_bytes(figures['shm_bytes'])}</b>")
        L["fps"].setText("chart <b>paused</b>" if paused else f"chart <b>{fps:.0f}</b> fps")
        self.text = " | ".join(lbl.text() for lbl in L.values())
        if self._message_until and time.monotonic() > self._message_until:
            self.message.setText("")
            self._message_until = 0.0


class MainWindow(QMainWindow):
    shutdownFinished = Signal()

    def __init__(self, adapter, settings: Optional[QSettings] = None,
                 listener: Optional[OrdersListener] = None, fps: int = 30,
                 parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.setObjectName("MainWindow")
        self.adapter = adapter
        self.settings = settings
        self.closing = False
        self.shutdown_done = False
        self.restored_geometry = False
        cfg = adapter.config
        self.listener = listener or OrdersListener(cfg.connect_host, cfg.confirm_port, cfg.auth_token,
                                                   cfg.max_frame, self, tls_ca=cfg.tls_ca)

        self.charts = ChartsPanel(adapter, self.listener, fps=fps)
        self._build_centre(cfg)
        self.process_panel = ProcessPanel(adapter)
        self.settings_panel = SettingsPanel(adapter)
        self.orders_view = OrdersView(adapter, self.listener)
        self.orders_view.marks = self.charts.marks  # P&L marked to what the charts show
        self.charts.pnl_source = self.orders_view.pnl_total  # the equity curve
        self.log_view = LogView(adapter)
        self.system_map = SystemMap(adapter, self.listener, self.charts)

        self.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.TopDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.process_dock = self._dock("Processes", self.process_panel,
                                       Qt.DockWidgetArea.TopDockWidgetArea)
        self.settings_dock = self._dock("Settings", self.settings_panel,
                                        Qt.DockWidgetArea.TopDockWidgetArea)
        self.splitDockWidget(self.process_dock, self.settings_dock, Qt.Orientation.Horizontal)
        self.orders_dock = self._dock("Orders", self.orders_view,
                                      Qt.DockWidgetArea.RightDockWidgetArea)
        self.log_dock = self._dock("Logs", self.log_view.panel(),
                                   Qt.DockWidgetArea.BottomDockWidgetArea)
        self.system_dock = self._dock("System", self.system_map,
                                      Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.orders_dock, self.system_dock)
        self.orders_dock.raise_()
        self.system_dock.visibilityChanged.connect(self.system_map.set_shown)
        self.system_map.processSelected.connect(self._on_process_selected)

        self.status = StatusLine(self)
        self.record = RecordControls(self)
        self._build_menu()
        self.listener.confirmsReceived.connect(lambda _items: self.update_status())
        adapter.errorOccurred.connect(self._on_error)
        adapter.configChanged.connect(self._on_config_changed)
        adapter.stateChanged.connect(self._on_state_changed)

        self.status_timer = QTimer(self)
        self.status_timer.setInterval(500)
        self.status_timer.timeout.connect(self.update_status)
        self.status_timer.start()
        self._shutdown_timer = QTimer(self)
        self._shutdown_timer.setInterval(50)
        self._shutdown_timer.timeout.connect(self._check_shutdown)

        self.resize(*first_size(self.screen()))
        if not self._restore():
            self.default_layout()
        self.update_status()
        self.listener.start()

    def _build_centre(self, cfg) -> None:
        """The charts in the middle; with a universe (more than a handful of symbols) the
        watchlist and its map beside them, the charts then drawing the best and worst movers
        and the symbol picked."""
        self.watchlist = WatchlistPanel(self.charts)
        self.watchlist.symbolPicked.connect(self.charts.select_symbol)
        self.charts.symbolSelected.connect(self.watchlist.show_symbol)
        self.centre = QSplitter(Qt.Orientation.Horizontal)
        self.centre.setObjectName("centre")
        self.centre.addWidget(self.watchlist)
        self.centre.addWidget(self.charts)
        self.centre.setStretchFactor(0, 2)
        self.centre.setStretchFactor(1, 3)
        self.centre.setChildrenCollapsible(False)
        self.setCentralWidget(self.centre)
        self._show_universe(cfg)

    def _build_menu(self) -> None:
        """File, View, Processes and Help (gui/menus.py)."""
        self.menus = DeskMenus(self)

    def _dock(self, title: str, widget: QWidget, area) -> QDockWidget:
        d = QDockWidget(title, self)
        d.setObjectName(f"dock_{title.lower()}")
        d.setWidget(widget)
        d.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable |
                      QDockWidget.DockWidgetFeature.DockWidgetFloatable |
                      QDockWidget.DockWidgetFeature.DockWidgetClosable)
        d.default_area = area
        self.addDockWidget(area, d)
        return d

    def reset_layout(self) -> None:
        """Every dock shown, docked where it starts and at its first size (View menu)."""
        for d in (self.process_dock, self.settings_dock, self.orders_dock, self.log_dock,
                  self.system_dock):
            d.setFloating(False)
            self.addDockWidget(d.default_area, d)
            d.show()
        self.splitDockWidget(self.process_dock, self.settings_dock, Qt.Orientation.Horizontal)
        self.tabifyDockWidget(self.orders_dock, self.system_dock)
        self.orders_dock.raise_()
        self.default_layout()

    def show_system_map(self, shown: bool = True) -> None:
        """The System map in front of the Orders (the demo tour shows it), or the Orders."""
        (self.system_dock if shown else self.orders_dock).raise_()

    def _on_process_selected(self, name: str) -> None:
        from .model import TITLES
        self.status.show_message(f"{TITLES.get(name, name)} selected on the System map",
                                 theme.ACCENT, 4.0)

    # -- settings -----------------------------------------------------------------------
    def default_layout(self) -> None:
        w = max(self.width(), 1000)
        self.resizeDocks([self.process_dock, self.settings_dock], [w - 430, 430],
                         Qt.Orientation.Horizontal)
        orders = max(min(560, int(w * 0.4)),
                     self.orders_view.minimumSizeHint().width() + ORDERS_SLACK)
        self.resizeDocks([self.orders_dock], [orders], Qt.Orientation.Horizontal)
        self.resizeDocks([self.log_dock], [196], Qt.Orientation.Vertical)
        if self.charts.universe:
            self._make_room()

    def _restore(self) -> bool:
        """Geometry and dock layout of the last run; False when there is none."""
        s = self.settings
        if s is None:
            return False
        geo = s.value("window/geometry")
        if isinstance(geo, QByteArray) and not geo.isEmpty():
            self.restored_geometry = bool(self.restoreGeometry(geo))
        state = s.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            return bool(self.restoreState(state, STATE_VERSION))
        return False

    def save(self) -> None:
        s = self.settings
        if s is None:
            return
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(STATE_VERSION))
        try:
            self.settings_panel.pending_config()
        except ValueError:  # what the user typed does not fit together: keep what was saved
            return
        save_settings(s, self.settings_panel.user_set)  # never a value from a flag

    def _show_universe(self, config) -> None:
        was = self.watchlist.isVisibleTo(self)
        if self.charts.universe:
            self.watchlist.set_config(config)
        self.watchlist.setVisible(self.charts.universe)
        if self.charts.universe and not was:
            self._make_room()

    def _make_room(self) -> None:
        """A universe: the orders as narrow as they fit, the watchlist as wide as its columns
        (at most about half of the middle), the charts the rest."""
        orders = self.orders_view.minimumSizeHint().width() + ORDERS_SLACK
        self.resizeDocks([self.orders_dock], [orders], Qt.Orientation.Horizontal)
        w = max(self.width() - orders, 800)
        side = min(self.watchlist.wanted_width, int(w * 0.48))
        self.centre.setSizes([side, w - side])

    def _on_config_changed(self, config) -> None:
        self._show_universe(config)
        if self.settings is not None:
            save_settings(self.settings, self.settings_panel.user_set)

    # -- status -------------------------------------------------------------------------
    def update_status(self) -> None:
        if self.shutdown_done:
            return
        figures = self.adapter.model.figures()
        # the OrderManager reports what it logged every 0.5 s; the Orders table holds the
        # session's count (its state on each connection, then every confirmation at once):
        # never show fewer than those
        figures["orders"] = max(figures["orders"], self.orders_view.model.total)
        self.status.update(figures, self.charts.fps(), self.charts.paused)

    def _on_error(self, text: str) -> None:
        self.status.show_message("\u26a0 " + text, theme.RED, 12.0)

    def _on_state_changed(self, name, state, pid, exitcode, detail) -> None:
        if state == "crashed" and not self.closing:
            from .model import TITLES
            from .process_panel import state_text
            self.status.show_message(f"\u26a0 {TITLES.get(name, name)} "
                                     f"{state_text(state, detail)}", theme.RED, 10.0)

    # -- shutdown -----------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        if self.shutdown_done:
            event.accept()
            return
        event.ignore()
        try:
            if self.closing:  # asked twice: stop waiting politely
                self._finish_shutdown()
            else:
                self.begin_shutdown()
        except Exception:  # never raise out of a C++ virtual
            import traceback
            traceback.print_exc()
            self.adapter.close()
            self.shutdown_done = True
            QTimer.singleShot(0, self.close)

    def begin_shutdown(self) -> None:
        """Stop every process in order without blocking; the window closes when all are gone."""
        if self.closing:
            return
        self.closing = True
        self.record.stop()  # the video ends here, complete, before anything stops
        self.save()
        self.status.show_message("stopping\u2026 (every process is asked to stop; close again "
                                 "to force)", theme.AMBER, 60.0)
        for d in (self.process_dock, self.settings_dock):
            d.widget().setEnabled(False)
        self._shutdown_started = time.monotonic()
        self.adapter.stop_all()
        self._shutdown_timer.start()
        self._check_shutdown()

    def _check_shutdown(self) -> None:
        if not self.adapter.any_active() or \
                time.monotonic() - self._shutdown_started > SHUTDOWN_LIMIT_S:
            self._finish_shutdown()

    def _finish_shutdown(self) -> None:
        if self.shutdown_done:
            return
        self._shutdown_timer.stop()
        self.status_timer.stop()
        self.charts.stop()
        self.listener.stop()
        self.adapter.close()  # quick now; escalates and kills whatever is left
        self.shutdown_done = True
        self.shutdownFinished.emit()
        QTimer.singleShot(0, self.close)  # not from inside closeEvent
