"""The desk where users start it: a double click (any working directory), small or scaled
screens, and the platform's own font size."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from engine.config.schema import Config


@pytest.mark.slow
def test_desk_started_from_an_unwritable_folder_runs_trades_and_logs(qtbot, make_desk,
                                                                     fast_config, tmp_path,
                                                                     monkeypatch):
    """A double-clicked launcher may start in C:\\Windows\\System32 or /: nothing may be
    written there; the logs and the order log go to the per-user data folder."""
    from PySide6.QtGui import QDesktopServices
    cwd = tmp_path / "read-only"
    cwd.mkdir()
    os.chmod(cwd, 0o555)
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("IPCDESK_DATA", str(tmp_path / "data"))
    cfg = Config(**{f.name: getattr(fast_config, f.name) for f in dataclasses.fields(Config)
                    if f.name != "log_dir"})  # the default log folder
    logs = tmp_path / "data" / "logs"
    assert Path(cfg.log_dir) == logs
    try:
        adapter, window = make_desk(cfg)
        window.process_panel.start_all.click()
        qtbot.waitUntil(lambda: window.orders_view.row_count() >= 1, timeout=30_000)
        assert (logs / "orders.jsonl").read_text(encoding="utf-8").strip()
        for name in ("gateway", "orderbook", "strategy", "order_manager"):
            assert (logs / f"{name}.log").exists()
        opened = []
        monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
        window.log_view.folder_button.click()
        assert [Path(u.toLocalFile()) for u in opened] == [logs]
        assert str(logs) in window.log_view.folder_button.toolTip()
        assert list(cwd.iterdir()) == []
    finally:
        os.chmod(cwd, 0o755)


def test_first_window_fits_a_small_scaled_screen():
    from PySide6.QtCore import QRect

    from gui.window.main_window import first_size

    class Screen:  # a 1366 x 768 laptop at 125 %: 1093 x 614 logical pixels, minus a taskbar
        def availableGeometry(self):
            return QRect(0, 0, 1093, 574)

    w, h = first_size(Screen())
    assert w <= 1093 and h <= 574
    assert first_size(None) == (1400, 900)


def test_fixed_width_text_follows_the_platform_font_size(qtbot):
    """macOS's UI font is 13 pt, where a fixed 9 pt reads tiny."""
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    from gui.app import make_app
    from gui.views import theme
    make_app()
    old = QApplication.font()
    try:
        big = QFont(old)
        big.setPointSizeF(13.0)
        QApplication.setFont(big)
        assert theme.mono_font().pointSizeF() == pytest.approx(13.0)
    finally:
        QApplication.setFont(old)


def test_each_launch_of_the_desk_is_a_session_of_its_own(qtbot, config, qsettings):
    """Two launches, one after the other, each get a new folder under the log folder (their
    own orders.jsonl, numbering from 1, flat positions), never the previous session's; the
    `latest` pointer follows the newer one."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from engine.records.sessions import latest_session
    from gui.app import run_gui
    from gui.window.main_window import MainWindow

    def close_when_shown(folders):
        wins = [w for w in QApplication.topLevelWidgets()
                if isinstance(w, MainWindow) and w.isVisible() and not w.closing]
        if not wins:
            QTimer.singleShot(20, lambda: close_when_shown(folders))
            return
        folders.append(Path(wins[0].adapter.config.log_dir))
        wins[0].close()

    folders = []
    for _ in range(2):
        QTimer.singleShot(0, lambda: close_when_shown(folders))
        assert run_gui(config, settings=qsettings) == 0
    first, second = folders
    assert first != second and first.parent == second.parent == Path(config.log_dir)
    assert (first / "summary.json").exists() and (second / "summary.json").exists()
    assert latest_session(config.log_dir) == second


def test_the_desk_has_its_icon_and_the_bundle_its_renderings(qapp, tmp_path):  # noqa: ARG001
    """The window, the taskbar and the dock show the desk's icon (from its one SVG); the
    bundle's build renders the same SVG into the .png, .ico and .icns each OS wants, which
    Qt reads back at their size (issue 28)."""
    import sys as _sys

    from PySide6.QtGui import QGuiApplication, QImage

    from gui.app import ICON, make_app
    from tests.support import ROOT
    app = make_app()
    icon = app.windowIcon()
    assert ICON.is_file() and not icon.isNull()
    assert {s.width() for s in icon.availableSizes()} >= {16, 32, 256}
    assert not icon.pixmap(32, 32).toImage().pixelColor(16, 16).alpha() == 0  # drawn
    _sys.path.insert(0, str(ROOT / "packaging"))
    try:
        from icons import render
    finally:
        _sys.path.remove(str(ROOT / "packaging"))
    made = render(tmp_path)
    for kind, size in (("png", 512), ("ico", 256), ("icns", 512)):
        image = QImage(str(made[kind]))
        assert not image.isNull() and image.width() == size, kind
    desktop = (ROOT / "packaging" / "ipcdesk.desktop").read_text(encoding="utf-8")
    assert "Icon=ipcdesk" in desktop and "Exec=ipcdesk" in desktop
    assert QGuiApplication.desktopFileName() == "ipcdesk"
