"""The icon's renderings, made at build time from its one source, gui/resources/ipcdesk.svg:
ipcdesk.png (512 px: the Linux bundle and .desktop entry), ipcdesk.ico (Windows: the .exe
and the taskbar) and ipcdesk.icns (macOS: the .app). Qt renders the SVG and writes all three
(its image plugins write .ico and .icns), so the build needs nothing besides PySide6.

    python packaging/icons.py OUT_DIR
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "gui" / "resources" / "ipcdesk.svg"


def render(out_dir: Path, size: int = 512) -> dict:
    """{"png": path, "ico": path, "icns": path} rendered into `out_dir`."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer
    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (fonts, plugins)
    out_dir.mkdir(parents=True, exist_ok=True)
    made = {}
    for kind, px in (("png", size), ("ico", 256), ("icns", size)):
        image = QImage(px, px, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        QSvgRenderer(str(SOURCE)).render(painter)
        painter.end()
        path = out_dir / f"ipcdesk.{kind}"
        if not image.save(str(path), kind.upper()):
            raise RuntimeError(f"Qt could not write {path} (no {kind} image plugin?)")
        made[kind] = path
    return made


if __name__ == "__main__":
    print(render(Path(sys.argv[1] if len(sys.argv) > 1 else "build/icons")))
