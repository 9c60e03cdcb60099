"""MP4 video from frames in memory: H.264, yuv420p, constant frame rate, which every common
player and every browser plays on Windows, macOS and Linux.

The encoder is PyAV (FFmpeg's libraries with x264, in its wheel). It was chosen by measurement
over an ffmpeg binary (imageio-ffmpeg) and Qt Multimedia; README "Recording a demo" has the
figures. Encoding runs on a thread of its own: PyAV releases the GIL while x264 works, so the
thread that hands frames over (the desk's GUI thread) only copies them.

    writer = VideoWriter(path, width, height, fps=30)
    writer.put(frame)       # a BGRA array, height x width x 4 (any size: scaled to width x height)
    writer.put(frame, 3)    # the same frame for three frame times (the capture was late)
    writer.close()          # the file is complete; writer.frames, writer.captured ...

No Qt here: the desk's recorder (gui/recorder.py) gives it the window's pixels."""
from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Optional

INSTALL_HINT = "python -m pip install -r requirements.txt"


class VideoUnavailable(RuntimeError):
    """Recording cannot work here (no PyAV, no H.264 encoder, a file that cannot be made):
    the message says why and what to do, in one line a person can act on."""


def _codec_module():
    try:
        import av
    except ImportError as exc:
        raise VideoUnavailable(f"recording video needs PyAV ({exc.name or exc} is missing): "
                               f"install it with  {INSTALL_HINT}") from None
    return av


def even(n: int) -> int:
    """yuv420p halves the chroma in both directions: sizes must be even."""
    return max(2, int(n) - int(n) % 2)


class VideoWriter:
    """Frames in, an MP4 out, on a thread of its own. put() never blocks: when the encoder is
    behind by `backlog` frames it refuses the frame (returns False) and the caller hands the
    next one over for more frame times, so the video's clock stays the wall clock."""

    CODEC = "libx264"

    def __init__(self, path, width: int, height: int, fps: int = 30, crf: int = 23,
                 preset: str = "superfast", backlog: int = 4):
        av = _codec_module()
        self.path = Path(path)
        self.width, self.height, self.fps = even(width), even(height), int(fps)
        self.frames = 0        # frame times written (what the file holds)
        self.captured = 0      # distinct frames handed over
        self.refused = 0       # frames refused because the encoder was behind
        self.error: Optional[BaseException] = None
        self._av = av
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._container = av.open(str(self.path), mode="w")
        except (OSError, av.FFmpegError) as exc:
            raise VideoUnavailable(f"cannot write {self.path}: {exc}") from None
        try:
            stream = self._container.add_stream(self.CODEC, rate=self.fps)
        except (ValueError, av.FFmpegError) as exc:  # a PyAV built without x264
            self._container.close()
            raise VideoUnavailable(f"this PyAV has no H.264 encoder ({self.CODEC}: {exc}); "
                                   f"install the wheel pinned in requirements.txt") from None
        stream.width, stream.height = self.width, self.height
        stream.pix_fmt = "yuv420p"
        # x264's own threads: two, leaving the engine's processes their cores (2-core machine)
        stream.options = {"crf": str(crf), "preset": preset, "threads": "2"}
        self._stream = stream
        self._queue: "queue.Queue" = queue.Queue(maxsize=backlog)
        self._thread = threading.Thread(target=self._run, name="video-writer", daemon=True)
        self._thread.start()
        self.started = time.monotonic()

    # -- the caller's side ----------------------------------------------------------------
    def put(self, frame, repeat: int = 1, keep=None, wait: float = 0.0) -> bool:
        """Hand over one BGRA frame (height x width x 4, uint8) for `repeat` frame times.
        `keep`: an object that owns the frame's memory, held until it is encoded. False when
        the encoder is behind (nothing was taken) or has failed. `wait`: seconds to wait for
        the encoder to make room (0: refuse at once, as a live capture must)."""
        if self.error is not None or repeat < 1:
            return False
        try:
            if wait > 0:
                self._queue.put((frame, int(repeat), keep), timeout=wait)
            else:
                self._queue.put_nowait((frame, int(repeat), keep))
        except queue.Full:
            self.refused += 1
            return False
        self.captured += 1
        return True

    def close(self, timeout: float = 30.0) -> None:
        """Encode what is queued, finish the file. Raises VideoUnavailable if encoding failed."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)
        if self.error is not None:
            raise VideoUnavailable(f"the video {self.path} could not be written: {self.error}")

    @property
    def seconds(self) -> float:
        return self.frames / self.fps

    # -- the encoder's thread -------------------------------------------------------------
    def _run(self) -> None:
        av, stream, container = self._av, self._stream, self._container
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    break
                frame, repeat, _keep = item
                vf = av.VideoFrame.from_ndarray(frame, format="bgra")
                vf = vf.reformat(width=self.width, height=self.height, format="yuv420p")
                for _ in range(repeat):
                    vf.pts = self.frames
                    for packet in stream.encode(vf):
                        container.mux(packet)
                    self.frames += 1
            for packet in stream.encode():  # flush the encoder's delayed frames
                container.mux(packet)
        except Exception as exc:  # a full disk, a frame of the wrong shape...
            self.error = exc
            while True:  # never leave the caller blocked on a full queue
                try:
                    if self._queue.get_nowait() is None:
                        break
                except queue.Empty:
                    break
        finally:
            try:
                container.close()
            except Exception as exc:
                self.error = self.error or exc


def probe(path) -> dict:
    """What a decoder finds in a video: codec, pixel format, size, frame rate, frame count,
    duration (s) and the size in bytes, read by decoding every frame (tests and the README's
    figures; ffprobe says the same)."""
    av = _codec_module()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames, distinct = 0, set()
        for frame in container.decode(stream):
            frames += 1
            if frames % 15 == 1:  # a sample of the pictures, to tell a still from a video
                distinct.add(hash(frame.to_ndarray(format="gray").tobytes()))
        rate = stream.average_rate or stream.base_rate
        duration = (float(container.duration) / av.time_base if container.duration
                    else (frames / float(rate) if rate else 0.0))
        return {"codec": stream.codec_context.name, "pix_fmt": stream.codec_context.pix_fmt,
                "width": stream.codec_context.width, "height": stream.codec_context.height,
                "fps": float(rate) if rate else 0.0, "frames": frames,
                "duration": round(duration, 3), "bytes": Path(path).stat().st_size,
                "distinct_sampled": len(distinct)}
