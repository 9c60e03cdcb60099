"""The desk laid out at one size under one display scaling, in a process of its own (Qt reads
QT_SCALE_FACTOR once, when its application starts): what it cuts short, printed as JSON.

    QT_SCALE_FACTOR=2 python -m tests.gui.scaled --size 1280x720 --symbols 50 [--png out.png]

The size is the window's in logical pixels (a 2560 x 1440 screen at 200 % offers 1280 x
720); tests/gui/test_desk_scaling.py runs it for each size, scaling and symbol count."""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def measure(window, app) -> dict:
    from tests.gui.fit import crowded_axes, cut_chart_titles, cut_texts
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:  # the titles fit once the plots' resize is laid out
        app.processEvents()
        if not cut_chart_titles(window.charts):
            break
        time.sleep(0.02)
    buttons = [b.text() for row in window.process_panel.rows.values()
               for b in (row.start, row.stop, row.restart, row.kill)
               if b.visibleRegion().boundingRect().width() < b.width() - 1]
    narrow = window.watchlist.isVisible() and \
        window.charts.width() < window.width() // 2 - 20
    return {"size": [window.width(), window.height()],
            "ratio": window.devicePixelRatioF(),
            "cut": [list(map(str, c)) for c in cut_texts(window)
                    + cut_chart_titles(window.charts) + crowded_axes(window.charts)],
            "buttons_cut": buttons,
            "charts_narrow": [window.charts.width(), window.width()] if narrow else None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--symbols", default="5")
    parser.add_argument("--palette", default="dark")
    parser.add_argument("--png", default="")
    ns = parser.parse_args(argv)
    from PySide6.QtCore import QSettings, QSize

    from engine.config.schema import Config, parse_symbols
    from gui.app import build_desk, make_app
    from gui.views.theme import apply_theme
    app = make_app()
    apply_theme(app, ns.palette)
    w, h = (int(v) for v in ns.size.split("x"))
    tmp = tempfile.mkdtemp(prefix="ipcdesk-scaled-")
    config = Config().replace(log_dir=tmp, symbols=parse_symbols(ns.symbols))
    adapter, window = build_desk(config, QSettings(os.path.join(tmp, "desk.ini"),
                                                   QSettings.Format.IniFormat))
    try:
        window.resize(w, h)
        window.reset_layout(QSize(w, h))
        window.show()
        app.processEvents()
        window.reset_layout()
        result = measure(window, app)
        if ns.png:
            window.grab().save(ns.png)
        window.close()
        deadline = time.monotonic() + 20
        while not window.shutdown_done and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
    finally:
        adapter.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
