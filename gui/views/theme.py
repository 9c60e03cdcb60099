"""One dark theme for Qt widgets and pyqtgraph, and the colours every view shares."""
from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLineEdit, QWidget

BG = "#0f1318"        # window
PANEL = "#161b22"     # panels, tables
PANEL_ALT = "#1b212a"
PLOT_BG = "#0d1117"
BORDER = "#2a313c"
TEXT = "#d6dde6"
MUTED = "#8b949e"
GRID = "#30363d"
ACCENT = "#58a6ff"

GREEN = "#3fb950"
RED = "#f85149"
AMBER = "#d29922"
GREY = "#6e7681"

BUY = "#2ecc71"
SELL = "#ff5c5c"

# one colour per symbol; no pure green/red (those mean BUY/SELL)
SYMBOL_COLORS = ("#58a6ff", "#f0b72f", "#bc8cff", "#39d0d8", "#ff7eb6", "#ff9e64",
                 "#a5d6ff", "#e3b341", "#d2a8ff", "#56d4dd")

STATE_COLORS = {"running": GREEN, "starting": AMBER, "stopping": AMBER, "stopped": GREY,
                "crashed": RED, "killed": RED, "waiting": ACCENT}


def symbol_color(i: int) -> str:
    return SYMBOL_COLORS[i % len(SYMBOL_COLORS)]


def mono_font() -> QFont:
    """The fixed-width font for numbers and logs, at the size of the platform's own UI font
    (9 pt on Windows and most Linux desktops, 13 pt on macOS, where a fixed 9 pt is tiny)."""
    f = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    ui = QApplication.font().pointSizeF()
    f.setPointSizeF(ui if ui > 0 else 9.0)
    return f


# a header's room on its right for the sort arrow, which Qt draws over the text's end
SORT_ROOM = 16

STYLESHEET = f"""
QMainWindow, QWidget {{ background: {BG}; color: {TEXT}; }}
QMainWindow::separator {{ background: {BORDER}; width: 2px; height: 2px; }}
QDockWidget {{ color: {MUTED}; font-weight: 600; }}
QDockWidget::title {{ background: {PANEL}; padding: 4px 8px; border-bottom: 1px solid {BORDER}; }}
QFrame#card {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 6px; }}
QFrame#card QLabel {{ background: transparent; }}
QLabel#heading {{ color: {TEXT}; font-weight: 600; }}
QLabel#muted {{ color: {MUTED}; }}
QPushButton {{ background: #21262d; border: 1px solid #363b42; border-radius: 4px;
               padding: 3px 10px; color: {TEXT}; }}
QPushButton:hover {{ background: #2d333b; border-color: #4b535d; }}
QPushButton:pressed {{ background: #161b22; }}
QPushButton:checked {{ background: #1f6feb; border-color: #388bfd; }}
QPushButton:disabled {{ color: #484f58; border-color: #262b31; background: #171b20; }}
QPushButton#primary {{ background: #238636; border-color: #2ea043; font-weight: 600; }}
QPushButton#primary:hover {{ background: #2ea043; }}
QPushButton#danger {{ background: #3d1518; border-color: #8e2c2c; }}
QPushButton#danger:hover {{ background: #5a1d21; }}
QPushButton#primary:disabled, QPushButton#danger:disabled {{ background: #171b20;
               border-color: #262b31; color: #484f58; }}
QTableView, QTableWidget, QPlainTextEdit {{ background: {PANEL}; alternate-background-color:
               {PANEL_ALT}; gridline-color: {BORDER}; border: 1px solid {BORDER};
               selection-background-color: #1f6feb55; }}
QHeaderView::section {{ background: #1c2128; color: {MUTED}; border: none;
               border-right: 1px solid {BORDER}; border-bottom: 1px solid {BORDER};
               padding: 3px {SORT_ROOM}px 3px 6px; font-weight: 600; }}
QCheckBox::indicator {{ width: 12px; height: 12px; border: 1px solid {MUTED};
               border-radius: 3px; background: {PLOT_BG}; }}
QCheckBox::indicator:hover {{ border-color: {TEXT}; }}
QCheckBox::indicator:checked {{ background: {ACCENT}; border-color: {ACCENT}; }}
QTabWidget::pane {{ border: 1px solid {BORDER}; top: -1px; }}
QTabBar::tab {{ background: {PANEL}; color: {MUTED}; padding: 4px 12px; border: 1px solid {BORDER};
               border-bottom: none; margin-right: 2px; border-top-left-radius: 4px;
               border-top-right-radius: 4px; }}
QTabBar::tab:selected {{ background: #1f2630; color: {TEXT}; }}
QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox {{ background: #0d1117; border: 1px solid #363b42;
               border-radius: 4px; padding: 2px 6px; color: {TEXT}; min-height: 20px; }}
QLineEdit:disabled, QSpinBox:disabled, QDoubleSpinBox:disabled {{ color: #6e7681; }}
QComboBox QAbstractItemView {{ background: {PANEL}; selection-background-color: #1f6feb; }}
QStatusBar {{ background: {PANEL}; border-top: 1px solid {BORDER}; color: {TEXT}; }}
QStatusBar QLabel {{ padding: 0 8px; border-right: 1px solid {BORDER}; }}
QStatusBar QLabel#rec {{ border-right: none; }}
QToolButton#record {{ background: #21262d; border: 1px solid #363b42; border-radius: 4px;
               padding: 1px 10px; margin: 2px 4px; color: {TEXT}; }}
QToolButton#record:hover {{ background: #2d333b; }}
QToolButton#record:checked {{ background: #3d1518; border-color: #8e2c2c; }}
QMenuBar {{ background: {PANEL}; color: {TEXT}; border-bottom: 1px solid {BORDER}; }}
QMenuBar::item:selected {{ background: #2d333b; }}
QMenu {{ background: {PANEL}; color: {TEXT}; border: 1px solid {BORDER}; }}
QMenu::item:selected {{ background: #1f6feb; }}
QMenu::separator {{ height: 1px; background: {BORDER}; margin: 4px 8px; }}
QToolTip {{ background: #1c2128; color: {TEXT}; border: 1px solid {BORDER}; }}
QScrollBar:vertical {{ background: {PANEL}; width: 10px; }}
QScrollBar::handle:vertical {{ background: #30363d; border-radius: 4px; min-height: 20px; }}
QScrollBar:horizontal {{ background: {PANEL}; height: 10px; }}
QScrollBar::handle:horizontal {{ background: #30363d; border-radius: 4px; min-width: 20px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
"""


def luminance(color: str) -> float:
    """WCAG relative luminance of '#rrggbb'."""
    c = QColor(color)

    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21; text wants >= 4.5)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def apply_theme(app: QApplication) -> None:
    """Fusion style, a dark palette and the stylesheet; pyqtgraph colours to match."""
    app.setStyle("Fusion")
    pal = QPalette()
    for role, color in ((QPalette.ColorRole.Window, BG), (QPalette.ColorRole.WindowText, TEXT),
                        (QPalette.ColorRole.Base, PANEL),
                        (QPalette.ColorRole.AlternateBase, PANEL_ALT),
                        (QPalette.ColorRole.Text, TEXT), (QPalette.ColorRole.Button, "#21262d"),
                        (QPalette.ColorRole.ButtonText, TEXT),
                        (QPalette.ColorRole.Highlight, "#1f6feb"),
                        (QPalette.ColorRole.HighlightedText, "#ffffff"),
                        (QPalette.ColorRole.ToolTipBase, "#1c2128"),
                        (QPalette.ColorRole.ToolTipText, TEXT),
                        (QPalette.ColorRole.PlaceholderText, MUTED),
                        # links (About, "video saved") in the accent, not Qt's dark blue
                        (QPalette.ColorRole.Link, ACCENT),
                        (QPalette.ColorRole.LinkVisited, ACCENT)):
        pal.setColor(role, QColor(color))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#6e7681"))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#484f58"))
    app.setPalette(pal)
    app.setStyleSheet(STYLESHEET)
    configure_pyqtgraph()


def configure_pyqtgraph() -> None:
    import pyqtgraph as pg
    pg.setConfigOptions(background=PLOT_BG, foreground=MUTED, antialias=True)


def filter_box(placeholder: str, tip: str, min_width: int = 60,
               max_width: int = 140) -> QLineEdit:
    """The desk's filter boxes (logs, orders, watchlist): a placeholder, a clear button."""
    box = QLineEdit()
    box.setPlaceholderText(placeholder)
    box.setToolTip(tip)
    box.setClearButtonEnabled(True)
    box.setMinimumWidth(min_width)
    box.setMaximumWidth(max_width)
    return box


def tool_row(margins=(0, 0, 0, 2)):
    """(widget, its row layout) for a row of small controls."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(*margins)
    row.setSpacing(4)
    return box, row
