"""The desk's two palettes (dark and light) for Qt widgets and pyqtgraph, the colours every
view shares, and which one is used: the operating system's colour scheme, or the View menu's
choice."""
from __future__ import annotations

import re
from dataclasses import dataclass, fields

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QLineEdit, QWidget

@dataclass(frozen=True)
class Palette:
    """Every colour of the desk for one appearance. Text colours (`TEXT_ROLES`) are legible
    on every surface (`SURFACES`), contrast >= 4.5:1 (tests/gui/test_palette.py checks
    both palettes, and the desk rendered in each)."""
    name: str
    bg: str          # window
    panel: str       # panels, tables, menus
    panel_alt: str   # a table's alternate rows
    plot_bg: str     # charts and the System map
    header: str      # table headers, tooltips
    button: str
    button_hover: str
    tab_selected: str
    border: str
    grid: str        # axis lines, scroll bar handles
    grid_rgba: tuple  # the charts' grid lines over plot_bg
    text: str
    muted: str       # secondary text, axis text
    grey: str        # what is off or stopped (still readable)
    disabled: str    # greyed-out controls (exempt from the contrast rule, as WCAG says)
    accent: str      # links, the selected series
    green: str
    red: str
    amber: str
    warn: str        # WARNING lines of a log
    buy: str
    sell: str
    ma_short: str    # the short moving average, the sentiment line
    ma_long: str
    highlight: str   # selection, checked buttons (white text on it)
    primary: str     # Start (white text on it)
    primary_hover: str
    danger: str      # Stop / Kill (text on it)
    danger_hover: str
    selection: str   # a table's selected rows (text on it)
    bull_zone: tuple  # the sentiment plot's shaded zones (rgba over plot_bg)
    bear_zone: tuple
    symbols: tuple   # one colour a symbol; no pure green/red (those mean BUY/SELL)

    TEXT_ROLES = ("text", "muted", "grey", "accent", "green", "red", "amber", "warn", "buy",
                  "sell", "ma_short", "ma_long")
    SURFACES = ("bg", "panel", "panel_alt", "plot_bg", "header", "button", "button_hover",
                "tab_selected", "selection")

    def text_pairs(self):
        """(what, foreground, background) for every text colour on every surface it can sit
        on, and for the buttons' own text: what the contrast rule is checked on."""
        for role in self.TEXT_ROLES + tuple(f"symbols[{i}]" for i in range(len(self.symbols))):
            fg = self.symbols[int(role[8:-1])] if role.startswith("symbols") \
                else getattr(self, role)
            for surface in self.SURFACES:
                yield f"{role} on {surface}", fg, getattr(self, surface)
        for surface in ("highlight", "primary", "primary_hover"):
            yield f"white on {surface}", "#ffffff", getattr(self, surface)
        for surface in ("danger", "danger_hover"):
            yield f"text on {surface}", self.text, getattr(self, surface)


DARK = Palette(
    name="dark", bg="#0f1318", panel="#161b22", panel_alt="#1b212a", plot_bg="#0d1117",
    header="#1c2128", button="#21262d", button_hover="#252b33", tab_selected="#1f2630",
    border="#2a313c", grid="#30363d", grid_rgba=(255, 255, 255, 20),
    text="#d6dde6", muted="#8b949e", grey="#8b949e", disabled="#484f58", accent="#58a6ff",
    green="#3fb950", red="#ff6b61", amber="#d29922", warn="#e3b341", buy="#2ecc71",
    sell="#ff5c5c", ma_short="#e6edf3", ma_long="#f0883e", highlight="#1f6feb",
    primary="#238636", primary_hover="#1a7f37", danger="#3d1518", danger_hover="#5a1d21",
    selection="#16294a", bull_zone=(46, 204, 113, 34), bear_zone=(255, 92, 92, 34),
    symbols=("#58a6ff", "#f0b72f", "#bc8cff", "#39d0d8", "#ff7eb6", "#ff9e64", "#a5d6ff",
             "#e3b341", "#d2a8ff", "#56d4dd"))

LIGHT = Palette(
    name="light", bg="#f6f8fa", panel="#ffffff", panel_alt="#f6f8fa", plot_bg="#ffffff",
    header="#eef1f4", button="#f3f5f7", button_hover="#e6eaef", tab_selected="#ffffff",
    border="#d0d7de", grid="#afb8c1", grid_rgba=(0, 0, 0, 22),
    text="#1f2328", muted="#555e69", grey="#5f6872", disabled="#a0a8b1", accent="#0757b8",
    green="#176f2c", red="#b91c2a", amber="#845700", warn="#845700", buy="#176f2c",
    sell="#b91c2a", ma_short="#424a53", ma_long="#a84300", highlight="#0969da",
    primary="#1a7f37", primary_hover="#176f2c", danger="#ffebe9", danger_hover="#ffd8d3",
    selection="#dbe9ff", bull_zone=(26, 127, 55, 30), bear_zone=(207, 34, 46, 26),
    symbols=("#0550ae", "#7d4e00", "#6639ba", "#0f6a72", "#a4286f", "#8a4600", "#3e5f8a",
             "#6b4f00", "#7c3aad", "#0d6169"))

PALETTES = {"dark": DARK, "light": LIGHT}
CHOICES = ("system", "light", "dark")  # the View menu's: follow the OS, or force one

# The palette in use, and its colours under the names every view reads at draw time
# (theme.TEXT, theme.BUY...): use() rebinds them, and `notifier().changed` tells the views
# that keep a colour (pens, stylesheets) to take the new ones.
current: Palette = DARK
BG = PANEL = PANEL_ALT = PLOT_BG = BORDER = TEXT = MUTED = GRID = ACCENT = ""
GREEN = RED = AMBER = GREY = BUY = SELL = WARN = MA_SHORT = MA_LONG = ""
SYMBOL_COLORS: tuple = ()
STATE_COLORS: dict = {}


def _bind(p: Palette) -> None:
    global current, BG, PANEL, PANEL_ALT, PLOT_BG, BORDER, TEXT, MUTED, GRID, ACCENT
    global GREEN, RED, AMBER, GREY, BUY, SELL, WARN, MA_SHORT, MA_LONG, SYMBOL_COLORS
    global STATE_COLORS
    current = p
    BG, PANEL, PANEL_ALT, PLOT_BG, BORDER = p.bg, p.panel, p.panel_alt, p.plot_bg, p.border
    TEXT, MUTED, GRID, ACCENT, GREY = p.text, p.muted, p.grid, p.accent, p.grey
    GREEN, RED, AMBER, WARN, BUY, SELL = p.green, p.red, p.amber, p.warn, p.buy, p.sell
    MA_SHORT, MA_LONG, SYMBOL_COLORS = p.ma_short, p.ma_long, p.symbols
    STATE_COLORS = {"running": GREEN, "starting": AMBER, "stopping": AMBER, "stopped": GREY,
                    "crashed": RED, "killed": RED, "waiting": ACCENT}


_bind(DARK)


_qcolors: dict = {}


def qcolor(color: str) -> QColor:
    """A QColor for '#rrggbb', made once (a table asks for its cells' colours per paint)."""
    c = _qcolors.get(color)
    if c is None:
        c = _qcolors[color] = QColor(color)
    return c


def rgba(color: str, alpha: int) -> tuple:
    c = QColor(color)
    return (c.red(), c.green(), c.blue(), alpha)


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

def stylesheet(p: Palette) -> str:
    """The desk's Qt stylesheet in palette `p`."""
    return f"""
QMainWindow, QWidget {{ background: {p.bg}; color: {p.text}; }}
QMainWindow::separator {{ background: {p.border}; width: 2px; height: 2px; }}
QDockWidget {{ color: {p.muted}; font-weight: 600; }}
QDockWidget::title {{ background: {p.panel}; padding: 4px 8px;
               border-bottom: 1px solid {p.border}; }}
QFrame#card {{ background: {p.panel}; border: 1px solid {p.border}; border-radius: 6px; }}
QFrame#card QLabel {{ background: transparent; }}
QLabel#heading {{ color: {p.text}; font-weight: 600; }}
QLabel#muted {{ color: {p.muted}; }}
QPushButton {{ background: {p.button}; border: 1px solid {p.border}; border-radius: 4px;
               padding: 3px 10px; color: {p.text}; }}
QPushButton:hover {{ background: {p.button_hover}; border-color: {p.grid}; }}
QPushButton:pressed {{ background: {p.panel}; }}
QPushButton:checked {{ background: {p.highlight}; border-color: {p.highlight}; color: #ffffff; }}
QPushButton:disabled {{ color: {p.disabled}; border-color: {p.border}; background: {p.bg}; }}
QPushButton#primary {{ background: {p.primary}; border-color: {p.primary_hover};
               font-weight: 600; color: #ffffff; }}
QPushButton#primary:hover {{ background: {p.primary_hover}; }}
QPushButton#danger {{ background: {p.danger}; border-color: {p.red}; }}
QPushButton#danger:hover {{ background: {p.danger_hover}; }}
QPushButton#primary:disabled, QPushButton#danger:disabled {{ background: {p.bg};
               border-color: {p.border}; color: {p.disabled}; }}
QTableView, QTableWidget, QPlainTextEdit {{ background: {p.panel}; alternate-background-color:
               {p.panel_alt}; gridline-color: {p.border}; border: 1px solid {p.border};
               selection-background-color: {p.selection}; selection-color: {p.text}; }}
QHeaderView::section {{ background: {p.header}; color: {p.muted}; border: none;
               border-right: 1px solid {p.border}; border-bottom: 1px solid {p.border};
               padding: 3px {SORT_ROOM}px 3px 6px; font-weight: 600; }}
QCheckBox::indicator {{ width: 12px; height: 12px; border: 1px solid {p.muted};
               border-radius: 3px; background: {p.plot_bg}; }}
QCheckBox::indicator:hover {{ border-color: {p.text}; }}
QCheckBox::indicator:checked {{ background: {p.accent}; border-color: {p.accent}; }}
QTabWidget::pane {{ border: 1px solid {p.border}; top: -1px; }}
QTabBar::tab {{ background: {p.panel}; color: {p.muted}; padding: 4px 12px;
               border: 1px solid {p.border}; border-bottom: none; margin-right: 2px;
               border-top-left-radius: 4px; border-top-right-radius: 4px; }}
QTabBar::tab:selected {{ background: {p.tab_selected}; color: {p.text}; }}
QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox {{ background: {p.plot_bg};
               border: 1px solid {p.border}; border-radius: 4px; padding: 2px 6px;
               color: {p.text}; min-height: 20px; }}
QLineEdit:disabled, QSpinBox:disabled, QDoubleSpinBox:disabled {{ color: {p.disabled}; }}
QComboBox QAbstractItemView {{ background: {p.panel}; selection-background-color:
               {p.highlight}; selection-color: #ffffff; }}
QStatusBar {{ background: {p.panel}; border-top: 1px solid {p.border}; color: {p.text}; }}
QStatusBar QLabel {{ padding: 0 8px; border-right: 1px solid {p.border}; }}
QStatusBar QLabel#rec {{ border-right: none; }}
QToolButton#record {{ background: {p.button}; border: 1px solid {p.border}; border-radius: 4px;
               padding: 1px 10px; margin: 2px 4px; color: {p.text}; }}
QToolButton#record:hover {{ background: {p.button_hover}; }}
QToolButton#record:checked {{ background: {p.danger}; border-color: {p.red}; }}
QMenuBar {{ background: {p.panel}; color: {p.text}; border-bottom: 1px solid {p.border}; }}
QMenuBar::item:selected {{ background: {p.button_hover}; }}
QMenu {{ background: {p.panel}; color: {p.text}; border: 1px solid {p.border}; }}
QMenu::item:selected {{ background: {p.highlight}; color: #ffffff; }}
QMenu::item:disabled {{ color: {p.disabled}; }}
QMenu::separator {{ height: 1px; background: {p.border}; margin: 4px 8px; }}
QToolTip {{ background: {p.header}; color: {p.text}; border: 1px solid {p.border}; }}
QScrollBar:vertical {{ background: {p.panel}; width: 10px; }}
QScrollBar::handle:vertical {{ background: {p.grid}; border-radius: 4px; min-height: 20px; }}
QScrollBar:horizontal {{ background: {p.panel}; height: 10px; }}
QScrollBar::handle:horizontal {{ background: {p.grid}; border-radius: 4px; min-width: 20px; }}
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


def qt_palette(p: Palette) -> QPalette:
    pal = QPalette()
    for role, color in ((QPalette.ColorRole.Window, p.bg), (QPalette.ColorRole.WindowText, p.text),
                        (QPalette.ColorRole.Base, p.panel),
                        (QPalette.ColorRole.AlternateBase, p.panel_alt),
                        (QPalette.ColorRole.Text, p.text), (QPalette.ColorRole.Button, p.button),
                        (QPalette.ColorRole.ButtonText, p.text),
                        (QPalette.ColorRole.Highlight, p.highlight),
                        (QPalette.ColorRole.HighlightedText, "#ffffff"),
                        (QPalette.ColorRole.ToolTipBase, p.header),
                        (QPalette.ColorRole.ToolTipText, p.text),
                        (QPalette.ColorRole.PlaceholderText, p.muted),
                        # links (About, "video saved") in the accent, not Qt's own blue
                        (QPalette.ColorRole.Link, p.accent),
                        (QPalette.ColorRole.LinkVisited, p.accent)):
        pal.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(p.disabled))
    return pal


def os_scheme() -> str:
    """'light', 'dark' or '' (unknown) from the operating system's colour scheme."""
    app = QGuiApplication.instance()
    if app is None:
        return ""
    scheme = app.styleHints().colorScheme()
    return {Qt.ColorScheme.Light: "light", Qt.ColorScheme.Dark: "dark"}.get(scheme, "")


def resolve(choice: str, os_says: str) -> Palette:
    """The palette for a View menu `choice` ('system', 'light', 'dark'): 'system' follows the
    OS's scheme, and is dark where the OS says nothing (the offscreen platform, old desktops)."""
    if choice in PALETTES:
        return PALETTES[choice]
    return PALETTES.get(os_says, DARK)


class ThemeNotifier(QObject):
    """`changed` after the palette changed (the choice, or the OS's scheme under 'system')."""
    changed = Signal()


_notifier = None
_choice = "system"


def notifier() -> ThemeNotifier:
    global _notifier
    if _notifier is None:
        _notifier = ThemeNotifier()
    return _notifier


def choice() -> str:
    return _choice


def apply_theme(app: QApplication, choice_: str = "") -> Palette:
    """Fusion style, the palette for `choice_` ('system', 'light', 'dark'; default: the last
    one) and its stylesheet; pyqtgraph colours to match. Under 'system', a change of the
    OS's scheme while the desk runs applies the other palette. Returns the palette."""
    global _choice
    first = not hasattr(app, "_ipcdesk_theme")
    if choice_:
        _choice = choice_ if choice_ in CHOICES else "system"
    p, old = resolve(_choice, os_scheme()), current
    changed = p is not old
    _bind(p)
    app.setStyle("Fusion")
    app.setPalette(qt_palette(p))
    app.setStyleSheet(stylesheet(p))
    configure_pyqtgraph()
    if first:
        app._ipcdesk_theme = True
        app.styleHints().colorSchemeChanged.connect(lambda *_: on_os_scheme(app))
    if changed:
        recolor_widgets(old, p)
        notifier().changed.emit()
    return p


_HEX = re.compile(r"#[0-9a-fA-F]{6}\b")


def colour_map(old: Palette, new: Palette) -> dict:
    """Each colour of `old` (lower case) -> the same role's colour in `new` (the first role
    where two roles share a colour)."""
    out: dict = {}
    for f in fields(Palette):
        a, b = getattr(old, f.name), getattr(new, f.name)
        pairs = zip(a, b) if f.name == "symbols" else [(a, b)]
        for x, y in pairs:
            if isinstance(x, str) and x.startswith("#"):
                out.setdefault(x.lower(), y)
    return out


def recolor(text: str, mapping: dict) -> str:
    """`text` (rich text, a stylesheet) with each colour of the old palette in the new's."""
    return _HEX.sub(lambda m: mapping.get(m.group(0).lower(), m.group(0)), text)


def recolor_widgets(old: Palette, new: Palette) -> int:
    """The palette changed: every label's rich text and every widget's own stylesheet in
    the new palette's colours (what a view set once and will not set again: a title, a
    note, a status message). Returns how many were changed."""
    mapping, n = colour_map(old, new), 0
    for top in QApplication.topLevelWidgets():
        for w in [top] + top.findChildren(QWidget):
            sheet = w.styleSheet()
            if "#" in sheet and recolor(sheet, mapping) != sheet:
                w.setStyleSheet(recolor(sheet, mapping))
                n += 1
            if isinstance(w, QLabel) and "#" in w.text():
                text = recolor(w.text(), mapping)
                if text != w.text():
                    w.setText(text)
                    n += 1
    return n


def on_os_scheme(app) -> None:
    """The OS switched between light and dark: follow it under 'system'."""
    if _choice == "system":
        apply_theme(app)


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
