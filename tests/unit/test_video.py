"""engine/video.py: frames in, an H.264 MP4 out, checked by decoding the file."""
from __future__ import annotations

import sys

import numpy as np
import pytest

pytest.importorskip("av")

from gui.recording.video import VideoUnavailable, VideoWriter, probe


def moving_bar(i: int, h: int = 121, w: int = 201) -> np.ndarray:
    frame = np.zeros((h, w, 4), np.uint8)
    frame[..., 3] = 255
    x = (i * 9) % (w - 20)
    frame[:, x:x + 20, 1] = 255  # a green bar that moves
    return frame


def put(writer, frame, repeat=1):
    assert writer.put(frame, repeat, wait=10.0)  # the encoder may be behind: wait for room


def test_frames_repeats_and_an_odd_size_make_a_playable_mp4(tmp_path):
    path = tmp_path / "clip.mp4"
    writer = VideoWriter(path, 201, 121, fps=30)
    for i in range(45):
        put(writer, moving_bar(i), repeat=2 if i % 3 == 0 else 1)  # 15 late captures
    writer.close()
    assert writer.frames == 60 and writer.captured == 45
    info = probe(path)
    # H.264, yuv420p (which every player and browser plays): the size made even for it
    assert (info["codec"], info["pix_fmt"]) == ("h264", "yuv420p")
    assert (info["width"], info["height"]) == (200, 120)
    assert info["fps"] == 30.0 and info["frames"] == 60
    assert info["duration"] == pytest.approx(2.0, abs=0.05)
    assert info["distinct_sampled"] >= 3  # a video, not one picture


def test_a_frame_of_another_size_is_scaled_to_the_video(tmp_path):
    writer = VideoWriter(tmp_path / "scaled.mp4", 100, 60, fps=10)
    put(writer, moving_bar(0, 240, 400))  # a 2x screen's frame into a 1x video
    put(writer, moving_bar(1, 60, 100))
    writer.close()
    info = probe(tmp_path / "scaled.mp4")
    assert (info["width"], info["height"], info["frames"]) == (100, 60, 2)


def test_a_full_backlog_refuses_instead_of_blocking(tmp_path):
    writer = VideoWriter(tmp_path / "busy.mp4", 1280, 720, fps=30, backlog=1)
    big = np.random.default_rng(1).integers(0, 255, (720, 1280, 4), dtype=np.uint8)
    taken = sum(writer.put(big) for _ in range(50))  # as fast as the caller can
    writer.close()
    assert taken < 50 and writer.refused == 50 - taken
    assert writer.frames == taken


def test_a_put_that_waits_is_taken_once_the_encoder_makes_room(tmp_path):
    """The last capture of a recording (at its stop) waits instead of being refused."""
    writer = VideoWriter(tmp_path / "last.mp4", 1280, 720, fps=30, backlog=1)
    big = np.random.default_rng(2).integers(0, 255, (720, 1280, 4), dtype=np.uint8)
    while writer.put(big):  # until the encoder is behind
        pass
    assert writer.refused == 1
    assert writer.put(big, 3, wait=10.0)
    writer.close()
    assert writer.refused == 1 and writer.frames == (writer.captured - 1) + 3


def test_without_pyav_the_message_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # import av -> ImportError
    with pytest.raises(VideoUnavailable, match="needs PyAV.*pip install -r requirements.txt"):
        VideoWriter(tmp_path / "x.mp4", 64, 64)


def test_a_file_that_cannot_be_made_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file", encoding="utf-8")
    with pytest.raises(VideoUnavailable, match="cannot write"):
        VideoWriter(blocker / "x.mp4", 64, 64)


def test_the_encoder_benchmark_runs_and_prints_its_figures(capsys):
    from tools.bench.encoders import main
    assert main(["--seconds", "0.5", "ultrafast"]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("ultrafast") and "% of a core" in line and "kB per 10 s" in line
