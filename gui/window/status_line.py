"""The status bar's figures, refreshed twice a second, and its passing messages."""
from __future__ import annotations

import re
import time

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel

from ..models.system import fmt_bytes
from ..views import theme


def fmt_us(v) -> str:
    if v is None:
        return "-"
    return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} \u00b5s"



REJECTED_TIP = "Frames the processes rejected (bad_frames)"


class StatusLine:
    """The figures in the status bar, refreshed twice a second."""

    @staticmethod
    def feed_words(feed: str):
        """(colour, words) of the feed's state, in the palette in use."""
        return {"live": (theme.GREEN, "\u25cf feed live"),
                "stale": (theme.AMBER, "\u25a0 feed stale"),
                "waiting": (theme.MUTED, "\u25cb waiting for prices"),
                "off": (theme.MUTED, "\u25cb feed off")}.get(feed, (theme.MUTED, feed))

    def __init__(self, window):
        bar = window.statusBar()
        bar.setSizeGripEnabled(True)
        self.labels = {}
        for key, tip in (("feed", "Prices in shared memory: stale when the OrderBook is gone "
                                  "or no update for 2 s"),
                         ("ticks", "Ticks a second the OrderBook applies to shared memory"),
                         ("latency", "Tick-to-ack: OrderBook receipt to OrderManager "
                                     "acknowledgement, as the Strategy measures it"),
                         ("orders", "Orders the OrderManager logged (all runs)"),
                         ("rejected", REJECTED_TIP),
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
        # a menu item's or button's status tip goes in the message place: QStatusBar would
        # hide the figures (feed, ticks, latency) for as long as the mouse rests on it
        self.tip = ""
        self.tips = _TipCatcher(self._on_tip, window)
        window.installEventFilter(self.tips)

    def _on_tip(self, text: str) -> None:
        if not self._message_until:  # a message of ours stays until its time is up
            self.message.setText(f"<span style='color:{theme.MUTED}'>{text}</span>"
                                 if text else "")
        self.tip = text

    def show_message(self, text: str, color: str = "", seconds: float = 8.0) -> None:
        self.message.setText(f"<span style='color:{color or theme.TEXT}'>{text}</span>")
        self._message_until = time.monotonic() + seconds

    def clear_message(self, starting: str) -> None:
        """Take our message down now if it begins with `starting` (a crash's, once the
        process runs again: the status line says what is so)."""
        if self._message_until and re.sub(r"<[^>]*>", "", self.message.text()).startswith(starting):
            self.message.setText("")
            self._message_until = 0.0

    def update(self, figures: dict, fps: float, paused: bool) -> None:
        L = self.labels
        color, text = self.feed_words(figures["feed"])
        L["feed"].setText(f"<span style='color:{color}'>{text}</span>")
        L["ticks"].setText(f"<b>{figures['ticks_per_s']:,.0f}</b> ticks/s")
        L["latency"].setText(f"tick\u2192ack p50 <b>{fmt_us(figures['ack_p50_us'])}</b>  "
                             f"p99 <b>{fmt_us(figures['ack_p99_us'])}</b>")
        L["orders"].setText(f"orders <b>{figures['orders']:,}</b>")
        bad = figures["bad_frames"]
        variants = figures.get("variants") or {}
        other = sum(variants.values())
        L["rejected"].setText(f"rejected <b style='color:{theme.AMBER if bad else theme.TEXT}'>"
                              f"{bad:,}</b>" + (f" \u00b7 other shapes <b>{other:,}</b>"
                                                if other else ""))
        L["rejected"].setToolTip(REJECTED_TIP + ("\n\nRead in other teams' shapes "
                                                 "(--strict-wire refuses them):\n" + "\n".join(
                                                     f"  {k:,}  {name}" for name, k in
                                                     sorted(variants.items())) if other else ""))
        L["shm"].setText(f"shm <b>{fmt_bytes(figures['shm_bytes'])}</b>")
        L["fps"].setText("chart <b>paused</b>" if paused else f"chart <b>{fps:.0f}</b> fps")
        self.text = " | ".join(lbl.text() for lbl in L.values())
        if self._message_until and time.monotonic() > self._message_until:
            self.message.setText("")
            self._message_until = 0.0



class _TipCatcher(QObject):
    """Takes the status-tip events that reach the window (a hovered menu item, a button),
    which QMainWindow would show as a status-bar message over the figures."""

    def __init__(self, show, parent):
        super().__init__(parent)
        self.show = show

    def eventFilter(self, obj, event) -> bool:  # a C++ virtual: nothing here raises
        if event.type() == QEvent.Type.StatusTip:
            try:
                self.show(event.tip())
            except Exception:  # noqa: BLE001 (never out of a virtual)
                pass
            return True
        return False
