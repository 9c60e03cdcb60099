"""The desk window: charts in the middle (with the watchlist and the universe map beside them
when there are more than a handful of symbols); processes and settings on top; orders and positions
on the right; logs below; the status line at the bottom. Docks can be moved; geometry, dock
layout and settings are remembered in QSettings.

The window wires the desk: it makes the sources (the controller adapter it is given, the
confirmation listener, the price sampler) and the models they keep (the order session, the
frame meter), and hands each view the ones it reads. No view holds another view: what two
views share (the selected symbol, the marks, the session's P&L) lives in a source or a model.

Closing never freezes the window: it asks every process to stop in order (without waiting),
shows "stopping...", and finishes once all have exited (the controller escalates to
terminate/kill for a hung child), then unlinks the shared memory."""
from __future__ import annotations

import time
from typing import Optional

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QSplitter, QWidget

from ..models.rates import FrameMeter
from ..models.session import OrderSession
from ..recording.recorder import RecordControls
from ..sources.confirmations import OrdersListener
from ..sources.floor import FloorProbe
from ..sources.prices import PriceSampler
from ..views import theme
from ..views.charts.panel import ChartsPanel
from ..views.log_view import LogView
from ..views.orders import OrdersView
from ..views.process_panel import ProcessPanel, state_text
from ..views.settings_panel import SettingsPanel, save_settings
from ..views.system_map import SystemMap
from ..views.watchlist import WatchlistPanel
from .menus import DeskMenus
from .stack_actions import StackActions
from .status_line import StatusLine

TITLE = "IPC Trading Desk"
STATE_VERSION = 3
ORDERS_SLACK = 36  # px over the orders table's computed minimum (fonts vary a little)
COMPACT_SIZE = (1600, 950)  # a window smaller than this gets the compact layout
SHUTDOWN_LIMIT_S = 15.0  # after this, close() blocks and kills what is left


def first_size(screen, want=(1400, 900)) -> tuple:
    """The window's size on a first run: 1400 x 900, or less on a small (or scaled: a 1366 x
    768 laptop at 125 % has 1093 x 614 to offer) screen, leaving room for its frame."""
    if screen is None:
        return want
    avail = screen.availableGeometry()
    return (min(want[0], int(avail.width() * 0.95)), min(want[1], int(avail.height() * 0.9)))



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
        # the palette the user chose last (View > Appearance), before any view is built
        saved = settings.value("view/palette", "") if settings is not None else ""
        if saved in theme.CHOICES and saved != theme.choice():
            theme.apply_theme(QApplication.instance(), saved)
        cfg = adapter.config
        # sources and the models they keep
        self.listener = listener or OrdersListener(
            cfg.connect_host, cfg.confirm_port, cfg.auth_token, cfg.max_frame, self,
            tls_ca=cfg.tls_ca, session=OrderSession())
        self.session = self.listener.session
        self.sampler = PriceSampler(adapter, fps=fps, parent=self)
        self.listener.confirmsReceived.connect(self.sampler.add_fills)
        self.frames = FrameMeter()  # chart frames drawn: the charts tick it, others read it
        # views
        self.charts = ChartsPanel(adapter, self.sampler, self.session, self.frames)
        self._build_centre(cfg)
        self.process_panel = ProcessPanel(adapter)
        self.settings_panel = SettingsPanel(adapter)
        self.orders_view = OrdersView(adapter, self.listener, self.session, self.sampler)
        self.log_view = LogView(adapter)
        self.floor_probe = FloorProbe(self)  # the kernel's cost of each hop, once measured
        self.system_map = SystemMap(adapter, self.listener, self.frames, self.floor_probe)

        self.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.TopDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.process_dock = self._dock("Processes", self.process_panel,
                                       Qt.DockWidgetArea.TopDockWidgetArea)
        self.settings_dock = self._dock("Settings", self.settings_panel,
                                        Qt.DockWidgetArea.TopDockWidgetArea)
        # (tabs until reset_layout lays the desk out for its size: side by side, they would
        # make a window asked to be 1280 px wide 1394 px before it is shown)
        self.tabifyDockWidget(self.process_dock, self.settings_dock)
        self.process_dock.raise_()
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
        self.stack = StackActions(self)  # open, save, add and remove processes
        self._build_menu()
        self.process_panel.processSelected.connect(self.settings_panel.select)
        self.process_panel.checkRequested.connect(lambda name: self.stack.check(name))
        self.system_map.processSelected.connect(self.settings_panel.select)
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

        size = first_size(self.screen())
        self.resize(*size)
        if not self._restore():  # a first run: the layout of this size (compact on a laptop)
            self.reset_layout(QSize(*size))
        self.update_status()
        self.listener.start()

    def _build_centre(self, cfg) -> None:
        """The charts in the middle; with a universe (more than a handful of symbols) the
        watchlist and its map beside them, the charts then drawing the best and worst movers
        and the symbol picked."""
        self.watchlist = WatchlistPanel(self.sampler, self.session)
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
        """File, View, Processes and Help (gui/window/menus.py)."""
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

    def reset_layout(self, size: Optional[QSize] = None) -> None:
        """Every dock shown, docked where it starts and at its first size (View menu), for a
        window of `size` (default: its size now; a window not yet shown may have grown past
        the size it was asked for, to hold the docks as they were)."""
        docks = (self.process_dock, self.settings_dock, self.orders_dock, self.log_dock,
                 self.system_dock)
        size = QSize(size or self.size())  # (docks side by side for a moment must not widen it)
        for d in docks:  # (out of every tab group first: none is left over, empty)
            d.setFloating(False)
            self.removeDockWidget(d)
        self.resize(size)  # (what compact() and watchlist_needs_the_width() go by)
        wide_centre = self.watchlist_needs_the_width()
        for d in docks:
            d.setFloating(False)
            if wide_centre and d is not self.process_dock:
                # a laptop's window with a watchlist: every dock a tab above, so the
                # watchlist and the charts share the whole width (the charts at least half)
                self.tabifyDockWidget(self.process_dock, d)
            else:
                self.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea if wide_centre
                                   else d.default_area, d)
            d.show()
        if wide_centre:
            self.process_dock.raise_()
            self.layout().activate()  # (see below)
            self.resize(size)
            self.default_layout()
            return
        if self.compact():
            # a laptop's window: the processes take the width (their buttons whole), the
            # settings behind them; the logs a tab beside the orders and the System map, so
            # the charts take the whole height
            self.tabifyDockWidget(self.process_dock, self.settings_dock)
            self.process_dock.raise_()
            self.tabifyDockWidget(self.orders_dock, self.system_dock)
            self.tabifyDockWidget(self.orders_dock, self.log_dock)
        else:
            self.splitDockWidget(self.process_dock, self.settings_dock,
                                 Qt.Orientation.Horizontal)
            self.tabifyDockWidget(self.orders_dock, self.system_dock)
        self.orders_dock.raise_()
        # a window not yet shown keeps the minimum size its layout had when last activated
        # (docks side by side: wider than asked) until it is activated again
        self.layout().activate()
        self.resize(size)
        self.default_layout()

    def watchlist_needs_the_width(self) -> bool:
        """A watchlist, the orders beside it and charts of at least half the window do not
        fit side by side (below about 2,100 px): the docks become tabs above the centre."""
        if not self.sampler.universe:
            return False
        beside = self.watchlist.wanted_width + self.orders_view.minimumSizeHint().width() \
            + ORDERS_SLACK
        return beside > self.width() // 2

    def compact(self) -> bool:
        """A window smaller than a desktop's (a 1366 x 768 laptop, 150 % scaling): the
        layout that leaves the charts room."""
        return self.width() < COMPACT_SIZE[0] or self.height() < COMPACT_SIZE[1]

    def show_system_map(self, shown: bool = True) -> None:
        """The System map in front of the Orders (the demo tour shows it), or the Orders."""
        (self.system_dock if shown else self.orders_dock).raise_()

    def _on_process_selected(self, name: str) -> None:
        self.status.show_message(f"{self.adapter.model.title(name)} selected on the System map",
                                 theme.ACCENT, 4.0)

    # -- settings -----------------------------------------------------------------------
    def default_layout(self) -> None:
        w = max(self.width(), 1000)
        if self.watchlist_needs_the_width() or self.compact():
            if self.sampler.universe:  # the docks are tabs above: the centre has the width
                side = min(self.watchlist.wanted_width, self.width() // 2)  # charts >= half
                self.centre.setSizes([side, self.width() - side])
                return
            orders = max(int(w * 0.36), self.orders_view.minimumSizeHint().width()
                         + ORDERS_SLACK)
            self.resizeDocks([self.orders_dock], [orders], Qt.Orientation.Horizontal)
            return
        self.resizeDocks([self.process_dock, self.settings_dock], [w - 430, 430],
                         Qt.Orientation.Horizontal)
        orders = max(min(700, int(w * 0.5)),  # (room for the Account column too)
                     self.orders_view.minimumSizeHint().width() + ORDERS_SLACK)
        self.resizeDocks([self.orders_dock], [orders], Qt.Orientation.Horizontal)
        self.resizeDocks([self.log_dock], [196], Qt.Orientation.Vertical)
        if self.sampler.universe:
            self._make_room()

    def set_palette(self, choice: str) -> None:
        """View > Appearance: follow the OS's light/dark setting, or force one (remembered)."""
        p = theme.apply_theme(QApplication.instance(), choice)
        if self.settings is not None:
            self.settings.setValue("view/palette", choice)
        for c in theme.CHOICES:
            self.menus.actions[f"palette_{c}"].setChecked(c == choice)
        self.adapter.say(f"appearance: {choice} ({p.name} palette)")

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
        if self.sampler.universe:
            self.watchlist.set_config(self.adapter.model.charted(config))
        self.watchlist.setVisible(self.sampler.universe)
        if self.sampler.universe and not was:
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
        # the OrderManager reports what it logged every 0.5 s; the session holds its count
        # (its state on each connection, then every confirmation at once): never show fewer
        figures["orders"] = max(figures["orders"], self.session.orders)
        self.status.update(figures, self.frames.rate(), self.charts.paused)

    def _on_error(self, text: str) -> None:
        self.status.show_message("\u26a0 " + text, theme.RED, 12.0)

    def _on_state_changed(self, name, state, pid, exitcode, detail) -> None:
        title = self.adapter.model.title(name)
        if state == "crashed" and not self.closing:
            self.status.show_message(f"\u26a0 {title} {state_text(state, detail)}",
                                     theme.RED, 10.0)
        elif state in ("starting", "running"):  # its crash is no longer news
            self.status.clear_message(f"\u26a0 {title} ")

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
        self.sampler.stop()
        self.charts.stop()
        self.listener.stop()
        self.floor_probe.join()  # (its echo process ends with its ~1 s measurement)
        self.adapter.close()  # quick now; escalates and kills whatever is left
        self.shutdown_done = True
        self.shutdownFinished.emit()
        QTimer.singleShot(0, self.close)  # not from inside closeEvent
