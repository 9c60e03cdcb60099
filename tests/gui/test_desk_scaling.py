"""The desk under 150 % and 200 % display scaling (QT_SCALE_FACTOR, read once when Qt starts:
a process a combination, tests/gui/scaled.py): on the screens that scale so (1920 x 1080
and 2560 x 1440 at 150 %, 2560 x 1440 and 3840 x 2160 at 200 %), with 5, 50 and 500 symbols,
no label, button, tab, header, title or axis is cut short or overprinted, every process's
buttons show whole, and beside a watchlist the charts keep half the width."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENS = [(1.5, (1920, 1080)), (1.5, (2560, 1440)), (2.0, (2560, 1440)), (2.0, (3840, 2160))]


def combos():
    for scale, (w, h) in SCREENS:
        for symbols in (5, 50, 500):
            yield pytest.param(scale, (w, h), symbols, id=f"{w}x{h}@{scale:.0%}-{symbols}")


@pytest.mark.slow
@pytest.mark.parametrize("scale,screen,symbols", combos())
def test_nothing_is_cut_under_display_scaling(scale, screen, symbols):
    # the window a first run makes on that screen: the whole of it, in logical pixels
    size = (round(screen[0] / scale), round(screen[1] / scale))
    env = dict(os.environ, QT_SCALE_FACTOR=str(scale), QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-m", "tests.gui.scaled", "--size",
                          f"{size[0]}x{size[1]}", "--symbols", str(symbols)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ratio"] == scale  # (the scaling took)
    assert result["size"] == list(size)
    assert not result["cut"], result["cut"]
    assert not result["buttons_cut"], result["buttons_cut"]
    assert result["charts_narrow"] is None, result["charts_narrow"]
