"""What encoding the desk's video costs, per x264 preset: 1400x900 BGRA frames handed to
engine.video.VideoWriter at 30 frames/s in real time for `--seconds`, as the desk's recorder
hands them over. Frames are a dark chart-like picture with a moving block, as a desk's frames
change little from one to the next. With `python -m tools.bench.desk_window --record` (the charts' frame
rate while recording) these figures chose the preset (README "Recording a demo").

    python -m tools.bench.encoders --seconds 10 superfast veryfast
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from gui.recording.video import VideoWriter, probe

W, H, FPS = 1400, 900, 30


def frames(n: int = 60):
    rng = np.random.default_rng(1)
    base = np.zeros((H, W, 4), np.uint8)
    base[...] = (30, 26, 22, 255)
    for _ in range(40):
        y = int(rng.integers(0, H - 2))
        base[y:y + 2, :, :3] = rng.integers(60, 255, 3)
    out = []
    for i in range(n):
        f = base.copy()
        x = (i * 7) % (W - 200)
        f[300:500, x:x + 200, :3] = (40, 200, 90)
        out.append(f)
    return out


def measure(preset: str, seconds: float, folder: Path) -> dict:
    """Hand frames over as the desk's recorder does: one each frame time, sleeping between
    (the GUI thread's event loop), a refused one held for the next frame time too."""
    pictures = frames()
    path = folder / f"{preset}.mp4"
    writer = VideoWriter(path, W, H, fps=FPS, preset=preset)
    t0, cpu0 = time.perf_counter(), os.times()
    written, handing, i = 0, 0.0, 0
    while True:
        now = time.perf_counter()
        if now - t0 >= seconds:
            break
        due = int((now - t0) * FPS) + 1  # frame times so far
        if due > written:
            t = time.perf_counter()
            if writer.put(pictures[i % len(pictures)], due - written):
                written = due
            handing += time.perf_counter() - t
            i += 1
        time.sleep(max(0.0, t0 + written / FPS - time.perf_counter()))
    writer.close()
    wall = time.perf_counter() - t0
    cpu1 = os.times()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    info = probe(path)
    return {"preset": preset, "encoder_percent": round(100 * (cpu - handing) / wall, 1),
            "put_ms": round(1e3 * handing / max(1, i), 2), "frames": info["frames"],
            "captured": writer.captured, "refused": writer.refused,
            "kbytes_per_10s": round(info["bytes"] / 1e3 * 10 / info["duration"])}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.encoders",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("presets", nargs="*", default=["ultrafast", "superfast", "veryfast"])
    parser.add_argument("--seconds", type=float, default=10.0)
    ns = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ipcdesk-enc-") as tmp:
        for preset in ns.presets:
            r = measure(preset, ns.seconds, Path(tmp))
            print(f"{r['preset']:10s} encoder {r['encoder_percent']:5.1f} % of a core; "
                  f"put() {r['put_ms']:.2f} ms a frame; {r['frames']} frames "
                  f"({r['captured']} distinct, {r['refused']} refused: encoder behind); "
                  f"{r['kbytes_per_10s']} kB per 10 s")
    if hasattr(os, "getloadavg"):
        print("load average: %.2f %.2f %.2f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
