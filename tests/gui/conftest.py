"""Fixtures for the desk's pytest-qt tests: off screen, private settings, a fast stack, and a
desk window that is always shut down (every child stopped, shared memory unlinked), even when
the test fails. The leak check (tests/leaks.py) then fails a test that left anything behind."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from PySide6.QtCore import QSettings  # noqa: E402

SHUTDOWN_MS = 20_000


@pytest.fixture(scope="session", autouse=True)
def desk_app():
    """The one QApplication of the session, made before any test's leak check begins: Qt
    opens a socket or two of its own for the session (the desktop bus) when it starts."""
    from gui.app import make_app
    return make_app()


@pytest.fixture
def fast_config(config):
    """Orders come fast: short windows, and bullish = bearish = 50 (strict > and <), so
    almost every sentiment lets a crossover trade."""
    return config.replace(tick_interval=0.02, news_interval=0.1, short_window=2,
                          long_window=4, bullish=50, bearish=50)


@pytest.fixture
def qsettings(tmp_path):
    """A settings file of this test only: the user's own settings are never touched."""
    return QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)


def watch_for_bugs(adapter):
    """An exception the adapter caught while polling (it keeps the desk alive and shows a
    message) is a bug the test must not pass over."""
    adapter.bugs = []
    adapter.errorOccurred.connect(
        lambda text: text.startswith("poll failed") and adapter.bugs.append(text))


def shutdown(qtbot, window, adapter):
    try:
        if not window.shutdown_done:
            window.close()
            qtbot.waitUntil(lambda: window.shutdown_done, timeout=SHUTDOWN_MS)
    finally:
        adapter.close()  # idempotent; blocks and kills whatever is left
        window.deleteLater()


@pytest.fixture
def make_desk(qtbot, qsettings):
    """make_desk(config) -> (adapter, window), shown; shut down at teardown."""
    from gui.app import build_desk, make_app
    made = []

    def make(config, settings=qsettings, explicit=(), plan=None):
        make_app()
        adapter, window = build_desk(config, settings=settings, explicit=set(explicit),
                                     plan=plan)
        made.append((window, adapter))
        watch_for_bugs(adapter)
        # the offscreen screen is 800 x 800, where the first size would be smaller: the
        # tests see the desk as on a usual desktop (first_size has a test of its own)
        if not window.restored_geometry:
            window.resize(1400, 900)
        window.show()
        qtbot.waitExposed(window)
        return adapter, window

    yield make
    for window, adapter in reversed(made):
        shutdown(qtbot, window, adapter)
    for _, adapter in made:
        assert not adapter.bugs, adapter.bugs


@pytest.fixture
def desk(make_desk, fast_config):
    adapter, window = make_desk(fast_config)
    return window


@pytest.fixture
def bare_adapter(qtbot, config):
    """An adapter over a controller that never starts a process (shared memory on demand)."""
    from gui.app import make_app
    from gui.sources.controller import ControllerAdapter
    make_app()
    adapter = ControllerAdapter(config)
    watch_for_bugs(adapter)
    yield adapter
    adapter.close()
    assert not adapter.bugs, adapter.bugs


@pytest.fixture
def start_all(qtbot):
    """start_all(window): click Start all and wait until every row reads running."""
    def go(window, timeout_ms: int = 20_000):
        panel = window.process_panel
        panel.start_all.click()
        qtbot.waitUntil(lambda: all(panel.state_of(n) == "running" for n in panel.rows),
                        timeout=timeout_ms)
    return go


@pytest.fixture
def refuse_two_orders():
    """refuse_two_orders(port): send the OrderManager a bad side and an unknown symbol, and
    wait for both rejections."""
    import socket

    def go(port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b'{"side":"HOLD","symbol":"AAPL","qty":1,"price":1}*'
                      b'{"side":"BUY","symbol":"ZZZZ","qty":1,"price":1}*')
            s.settimeout(5)
            got = b""
            while got.count(b"*") < 2:
                got += s.recv(4096)
        return got
    return go
