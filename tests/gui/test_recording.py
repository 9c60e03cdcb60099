"""The desk records itself (gui/recorder.py) and plays its demo tour (gui/demo.py): real
windows off screen, the MP4 checked by decoding it."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("av")

from gui.recording.recorder import CAPTION_STRIP, fmt_clock
from gui.recording.video import probe


@pytest.mark.slow
def test_the_record_button_records_the_window_while_the_user_works(qtbot, make_desk, config,
                                                                   tmp_path):
    adapter, window = make_desk(config)
    controls = window.record
    controls.folder = tmp_path / "videos"
    assert controls.button.text() == "Record video" and not controls.indicator.isVisible()
    controls.button.click()
    assert controls.recorder.recording
    assert controls.action.isChecked() and controls.indicator.isVisible()
    qtbot.waitUntil(lambda: controls.recorder.elapsed() >= 2.5, timeout=10_000)
    window.charts.set_window(30.0)  # the user works: the picture changes
    window.log_view.setCurrentIndex(2)
    qtbot.waitUntil(lambda: controls.recorder.elapsed() >= 3.5, timeout=10_000)
    assert "REC 00:03" in controls.indicator.text()
    controls.action.trigger()  # the menu entry (Ctrl+R) stops it too
    assert not controls.recorder.recording and not controls.indicator.isVisible()
    videos = list((tmp_path / "videos").glob("desk-*.mp4"))
    assert len(videos) == 1 and controls.last_path == videos[0]
    assert "video saved" in window.status.message.text()
    info = probe(videos[0])
    assert (info["codec"], info["pix_fmt"], info["fps"]) == ("h264", "yuv420p", 30.0)
    assert (info["width"], info["height"]) == (window.width() // 2 * 2,
                                               window.height() // 2 * 2)
    # the wall clock: 30 frame times a second, however many captures came late
    assert info["duration"] == pytest.approx(info["frames"] / 30, abs=0.05)
    assert 3.4 <= info["duration"] <= 6.0
    assert info["distinct_sampled"] >= 2
    # on a laptop's screen the message is whole (it was cut at the right), its link legible
    window.resize(1366, 768)
    window.reset_layout()  # (the layout a laptop's window has)
    window.resize(1366, 768)
    msg = window.status.message
    qtbot.waitUntil(lambda: window.width() <= 1366, timeout=2_000)
    from PySide6.QtGui import QTextDocument
    doc = QTextDocument()
    doc.setHtml(msg.text())
    qtbot.waitUntil(lambda: msg.width() >= msg.fontMetrics().horizontalAdvance(
        doc.toPlainText()), timeout=2_000)


def test_closing_the_window_while_recording_finishes_the_file(qtbot, make_desk, config,
                                                              tmp_path):
    adapter, window = make_desk(config)
    window.record.folder = tmp_path
    window.record.toggle()
    qtbot.waitUntil(lambda: window.record.recorder.elapsed() >= 1.0, timeout=10_000)
    window.close()
    qtbot.waitUntil(lambda: window.shutdown_done, timeout=20_000)
    (video,) = tmp_path.glob("desk-*.mp4")
    assert probe(video)["frames"] >= 30


def test_the_stop_waits_for_an_encoder_that_is_behind(qtbot, tmp_path):
    """While recording, a capture the encoder has no room for is refused (the desk never
    waits) and the next covers its frame times; the capture at the stop waits instead, so
    the file lasts until the stop however far behind the encoder was."""
    from PySide6.QtWidgets import QLabel

    from gui.recording.recorder import Recorder
    label = QLabel("recording")
    label.resize(320, 200)
    label.show()
    qtbot.addWidget(label)
    recorder = Recorder(label)
    assert recorder.start(tmp_path / "behind.mp4")
    real_put, waited = recorder.writer.put, []

    def behind(frame, repeat=1, keep=None, wait=0.0):  # no room unless the caller waits
        waited.append(wait)
        return real_put(frame, repeat, keep, wait) if wait > 0 else False
    recorder.writer.put = behind
    qtbot.waitUntil(lambda: recorder.elapsed() >= 1.0, timeout=10_000)
    assert recorder.written == 1  # only the first frame (before the encoder fell behind)
    path = recorder.stop()
    assert waited[-1] > 0 and all(w == 0 for w in waited[:-1])
    frames = probe(path)["frames"]
    assert frames >= 30 and frames == recorder.written


def test_a_recording_that_cannot_start_says_why_and_the_desk_goes_on(qtbot, make_desk,
                                                                     config, tmp_path):
    adapter, window = make_desk(config)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    window.record.folder = blocker
    window.record.toggle()
    assert not window.record.recorder.recording
    assert not window.record.action.isChecked()
    assert "cannot write" in window.status.message.text()


def test_fmt_clock():
    assert [fmt_clock(s) for s in (0, 42.9, 61, 3725)] == ["00:00", "00:42", "01:01",
                                                           "1:02:05"]


@pytest.mark.slow
def test_the_demo_tour_plays_every_step_and_records_it_with_captions(qtbot, make_desk,
                                                                     fast_config, tmp_path):
    """The tour of `launcher.py --demo-video`, its holds shortened: every step comes true on
    a real stack (the OrderBook killed from outside among them) and the video has the
    caption strip under the window."""
    from gui.demo import DemoTour
    adapter, window = make_desk(fast_config)
    window.resize(1280, 720)  # fewer pixels than the usual test desk to render and encode
    window.reset_layout()  # (the layout a first run makes at this size)
    out = tmp_path / "demo.mp4"
    tour = DemoTour(window, out, scale=0.06)
    shown = []  # (the step whose outcome is on screen, logs in view, charts' height)

    def seen(index):
        if index:
            shown.append((tour.steps[index - 1].caption,
                           not window.log_dock.visibleRegion().isEmpty(),
                           window.charts.height()))
    tour.stepStarting.connect(seen)
    with qtbot.waitSignal(tour.finished, timeout=120_000) as done:
        assert tour.start()
    ok, report = done.args
    assert ok, report
    assert len(report) == len(tour.steps) == 15
    # its log steps show the logs, and leave the charts their room (they were crushed)
    logs = [s for s in shown if s[0].startswith("Each process writes its own log")]
    assert len(logs) == 4 and all(visible for _, visible, _ in logs), logs
    assert all(h >= 0.5 * window.height() for _, _, h in shown), shown
    assert any("Kill the OrderBook" in line for line in report)
    assert adapter.view("orderbook").restarts >= 1 and adapter.view("gateway").restarts >= 1
    assert not adapter.any_active()

    info = probe(out)
    assert (info["codec"], info["fps"]) == ("h264", 30.0)
    assert (info["width"], info["height"]) == (window.width() // 2 * 2,
                                               (window.height() + CAPTION_STRIP) // 2 * 2)
    assert info["duration"] == pytest.approx(tour.video["seconds"], abs=0.05)
    assert info["distinct_sampled"] >= 5
    # the strip holds white caption text on its dark band
    import av
    with av.open(str(out)) as c:
        frame = next(c.decode(video=0)).to_ndarray(format="gray")
    strip = frame[-CAPTION_STRIP + 8:, :]
    assert strip.max() > 200 and np.median(strip) < 40


def test_a_demo_that_cannot_record_says_why(qtbot, make_desk, config, tmp_path):
    from gui.demo import DemoTour
    adapter, window = make_desk(config)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    tour = DemoTour(window, blocker / "demo.mp4")
    with qtbot.waitSignal(tour.finished, timeout=10_000) as done:
        assert not tour.start()
    ok, report = done.args
    assert not ok and any("cannot write" in line for line in report)
    assert not adapter.any_active()  # nothing was started
