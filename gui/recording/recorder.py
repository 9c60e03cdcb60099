"""The desk records itself: the window's own pixels, 30 frames a second, into an MP4
(engine/video.py encodes on a thread of its own).

A frame is what the window last painted, copied from its backing store (0.3 ms for 1400 x
900), where the platform keeps that as an image (the raster backing store: off screen, X11,
Windows); elsewhere `grab()`, which paints every widget again (18 ms at 5 symbols, 35 ms at
500). Either way it comes from the window itself, not from the screen, so a covered or off-screen
window records the same. The video's clock is the wall clock: a capture that comes late (or that
the encoder cannot take yet) is held for as many frame times as it missed.

With `captions` (the demo tour) the video is CAPTION_STRIP pixels taller than the window and
`caption` is written in that strip, under the window, covering nothing of it."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import numpy as np
from PySide6.QtCore import QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QWidget

from engine.platforms.paths import data_dir

from .video import VideoUnavailable, VideoWriter

FPS = 30


def videos_dir() -> Path:
    """Where recordings go unless told: the user's videos folder (~/Videos, ~/Movies,
    %USERPROFILE%\\Videos) / IPC Trading Desk; <data folder>/videos when IPCDESK_DATA is set
    (tests, a portable copy) or the platform names no videos folder."""
    import os

    from PySide6.QtCore import QStandardPaths

    from engine.platforms.paths import DATA_ENV
    movies = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
    if movies and not os.environ.get(DATA_ENV):
        return Path(movies) / "IPC Trading Desk"
    return data_dir() / "videos"


def video_name(now: Optional[float] = None) -> str:
    return time.strftime("desk-%Y-%m-%d_%H-%M-%S.mp4", time.localtime(now))


def window_image(window: QWidget) -> QImage:
    """A copy of the window's pixels, in device pixels: its backing store where that is an
    image of the window's size, else grab()."""
    store = window.backingStore()
    image = store.paintDevice() if store is not None else None
    if isinstance(image, QImage) and not image.isNull():
        dpr = window.devicePixelRatioF()
        if (image.width() >= int(window.width() * dpr) - 1 and
                image.height() >= int(window.height() * dpr) - 1):
            return image.copy(0, 0, int(window.width() * dpr), int(window.height() * dpr))
    return window.grab().toImage()


CAPTION_STRIP = 64  # px (logical) under the window in a captioned video


def with_caption(image: QImage, text: str, strip: int = CAPTION_STRIP) -> QImage:
    """The window's picture with a dark strip under it holding `text` in white, large enough
    to read in a video shrunk to half size; the strip covers nothing of the window."""
    dpr = image.devicePixelRatioF() if image.devicePixelRatioF() > 0 else 1.0
    out = QImage(image.width(), image.height() + int(strip * dpr), QImage.Format.Format_RGB32)
    out.setDevicePixelRatio(dpr)
    out.fill(QColor(10, 12, 16))
    p = QPainter(out)
    try:
        p.drawImage(0, 0, image)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        w, h = image.width() / dpr, image.height() / dpr
        p.fillRect(QRectF(0, h, w, 2), QColor(255, 80, 80))
        font = QFont()
        font.setPixelSize(20)
        font.setBold(True)
        p.setFont(font)
        p.setPen(QColor(255, 255, 255))
        p.drawText(QRectF(24, h + 2, w - 48, strip - 2),
                   int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), text)
    finally:
        p.end()
    return out


def as_bgra(image: QImage) -> np.ndarray:
    """The image's pixels as a height x width x 4 BGRA array (a view: keep the image alive)."""
    if image.format() not in (QImage.Format.Format_RGB32,
                              QImage.Format.Format_ARGB32,
                              QImage.Format.Format_ARGB32_Premultiplied):
        image = image.convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    rows = rows.reshape(image.height(), image.bytesPerLine() // 4, 4)
    return rows[:, :image.width()], image


class Recorder(QObject):
    """Records `window` while running. started(path), stopped(path, figures) and
    failed(message) say what happened; `elapsed()` feeds the REC indicator."""

    started = Signal(str)
    stopped = Signal(str, dict)
    failed = Signal(str)

    def __init__(self, window: QWidget, fps: int = FPS, parent: Optional[QObject] = None):
        super().__init__(parent or window)
        self.window = window
        self.fps = fps
        self.captions = False  # a strip under the window for `caption` (set before start)
        self.caption = ""
        self.writer: Optional[VideoWriter] = None
        self.path: Optional[Path] = None
        self.capture_ms = 0.0  # a frame's capture (copy, caption, hand-over), averaged
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(max(1, int(1000 / fps / 2)))  # twice a frame time: never late by one
        self.timer.timeout.connect(self._tick)
        self._t0 = 0.0

    @property
    def recording(self) -> bool:
        return self.writer is not None

    def elapsed(self) -> float:
        return time.monotonic() - self._t0 if self.writer is not None else 0.0

    def start(self, path=None) -> bool:
        """Start recording to `path` (default: videos folder, named by date and time)."""
        if self.writer is not None:
            return True
        path = Path(path) if path else videos_dir() / video_name()
        # the video in the window's size in (logical) pixels: a 2x screen does not make a
        # four times larger file
        try:
            self.writer = VideoWriter(path, self.window.width(), self.window.height() +
                                      (CAPTION_STRIP if self.captions else 0), fps=self.fps)
        except VideoUnavailable as exc:
            self.failed.emit(str(exc))
            return False
        self.path = path
        self._t0 = time.monotonic()
        self.written = 0
        self.timer.start()
        self._tick()
        self.started.emit(str(path))
        return True

    def stop(self) -> Optional[Path]:
        """Finish the file (the last frame held to the moment of the stop); its path."""
        writer = self.writer
        if writer is None:
            return None
        self._tick(last=True)  # up to now, waiting for the encoder if it is behind
        self.timer.stop()
        self.writer = None
        path = self.path
        try:
            writer.close()
        except VideoUnavailable as exc:
            self.failed.emit(str(exc))
            return None
        figures = {"seconds": round(writer.seconds, 2), "frames": writer.frames,
                   "captured": writer.captured, "refused": writer.refused,
                   "capture_ms": round(self.capture_ms, 2),
                   "width": writer.width, "height": writer.height, "fps": writer.fps}
        self.stopped.emit(str(path), figures)
        return path

    def _tick(self, last: bool = False) -> None:
        """Capture the window for the frame times due since the last capture. A capture the
        encoder has no room for is refused (the desk never waits on it) and the next one
        covers its frame times; the `last` one, at the stop, waits for room instead."""
        writer = self.writer
        if writer is None:
            return
        if writer.error is not None:
            self.writer = None
            self.timer.stop()
            try:
                writer.close()
            except VideoUnavailable as exc:
                self.failed.emit(str(exc))
            return
        due = int((time.monotonic() - self._t0) * self.fps) + 1  # frame times so far
        missed = due - self.written
        if missed <= 0:
            return
        t = time.perf_counter()
        image = window_image(self.window)
        if self.captions:
            image = with_caption(image, self.caption)
        pixels, owner = as_bgra(image)
        if writer.put(pixels, missed, keep=owner, wait=5.0 if last else 0.0):
            self.written = due
        cost = (time.perf_counter() - t) * 1e3
        self.capture_ms = cost if self.capture_ms == 0 else 0.95 * self.capture_ms + 0.05 * cost


def fmt_clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def dot_icon(color: str, round_: bool = False, size: int = 12):
    """A record button's icon: a round dot (record) or a square (stop)."""
    from PySide6.QtGui import QIcon, QPixmap
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(color))
    if round_:
        p.drawEllipse(1, 1, size - 2, size - 2)
    else:
        p.drawRect(2, 2, size - 4, size - 4)
    p.end()
    return QIcon(pm)


class RecordControls(QObject):
    """The Record button and REC indicator in the status line, the Desk menu's "Record video"
    (Ctrl+R, Cmd+R on macOS) and "Open videos folder", over one Recorder of `window`."""

    def __init__(self, window, folder: Optional[Path] = None):
        super().__init__(window)
        from PySide6.QtGui import QAction, QKeySequence
        from PySide6.QtWidgets import QLabel, QToolButton
        self.window = window
        self.folder = Path(folder) if folder else videos_dir()
        self.recorder = Recorder(window)
        self.last_path: Optional[Path] = None

        self.action = QAction("Record video", window)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence("Ctrl+R"))
        self.action.setStatusTip("Record the desk window to an MP4 file (30 frames/s) until "
                                 "pressed again")
        self.action.triggered.connect(self.toggle)
        self.open_action = QAction("Open videos folder", window)
        self.open_action.triggered.connect(self.open_folder)

        self.button = QToolButton()
        self.button.setObjectName("record")
        self.button.setDefaultAction(self.action)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.indicator = QLabel()
        self.indicator.setObjectName("rec")
        self.indicator.hide()
        bar = window.statusBar()
        bar.addPermanentWidget(self.indicator)
        bar.addPermanentWidget(self.button)

        self.clock = QTimer(self)
        self.clock.setInterval(250)
        self.clock.timeout.connect(self._show_time)
        self.recorder.started.connect(self._on_started)
        self.recorder.stopped.connect(self._on_stopped)
        self.recorder.failed.connect(self._on_failed)
        from gui.views import theme
        theme.notifier().changed.connect(self._label)  # its icons in the palette's colours
        self._label()

    def add_to(self, menu) -> None:
        menu.addAction(self.action)
        menu.addAction(self.open_action)

    def toggle(self) -> None:
        if self.recorder.recording:
            self.recorder.stop()
        else:
            self.recorder.start(self.folder / video_name())
        self._label()

    def stop(self) -> None:
        if self.recorder.recording:
            self.recorder.stop()
            self._label()

    def open_folder(self) -> bool:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices
        self.folder.mkdir(parents=True, exist_ok=True)
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.folder)))

    def _label(self) -> None:
        from gui.views import theme
        on = self.recorder.recording
        self.action.blockSignals(True)
        self.action.setChecked(on)
        self.action.blockSignals(False)
        self.action.setText("Stop recording" if on else "Record video")  # the button too
        # a red dot to record, a square in the text's colour to stop (the palette in use)
        self.action.setIcon(dot_icon(theme.TEXT) if on else dot_icon(theme.RED, round_=True))
        self.indicator.setVisible(on)
        self._show_time()

    def _show_time(self) -> None:
        from gui.views import theme
        if self.recorder.recording:
            self.indicator.setText(f"<b style='color:{theme.RED}'>\u25cf REC "
                                   f"{fmt_clock(self.recorder.elapsed())}</b>")

    def _on_started(self, path: str) -> None:
        self.clock.start()
        self._label()
        self.window.adapter.say(f"recording a video to {path}")
        self.window.status.show_message(f"recording to {path}", seconds=4.0)

    def _on_stopped(self, path: str, figures: dict) -> None:
        from PySide6.QtCore import QUrl
        self.clock.stop()
        self.last_path = Path(path)
        self._label()
        self.window.adapter.say(f"video saved: {path} ({figures['seconds']:.0f} s)")
        url = QUrl.fromLocalFile(path).toString()
        self.window.status.show_message(  # short enough for a laptop's status bar
            f"video saved: <a href='{url}'>{Path(path).name}</a> ({figures['seconds']:.0f} s)",
            seconds=30.0)
        self.window.status.message.setToolTip(
            f"{path}\n{figures['width']}x{figures['height']}, {figures['seconds']:.0f} s "
            f"(File > Open videos folder)")

    def _on_failed(self, message: str) -> None:
        from gui.views import theme
        self.clock.stop()
        self._label()
        self.window.status.show_message("\u26a0 " + message, theme.RED, 15.0)
