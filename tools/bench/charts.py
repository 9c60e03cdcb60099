"""`charts`: the desk's ChartsPanel drawn off screen while the engine ingests at full speed.
The measurement itself is the desk's (tools/bench/chart_window.py): it runs as a process of
its own and hands its figures over as JSON."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .common import ROOT, BenchContext


def charts(ctx: BenchContext) -> dict:
    """Over the blaster-fed OrderBook, and in full runs over the Gateway at full speed too."""
    res = _measure(ctx, "ingest")
    if "skipped" in res or ctx.quick:
        return res
    res["e2e"] = _measure(ctx, "e2e")
    return res


def _measure(ctx: BenchContext, feed: str) -> dict:
    out = Path(ctx.workdir) / f"charts_{feed}.json"
    cmd = [sys.executable, "-m", "tools.bench.chart_window", "--feed", feed, "--json", str(out),
           "--shm-name", f"{ctx.shm_base}c{feed[0]}", "--window", str(ctx.pick(6.0, 2.0, 0.4))]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        why = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        if "ModuleNotFoundError" in proc.stderr or "ImportError" in proc.stderr:
            res = {"skipped": f"the desk's charts cannot be imported: {why}"}
            ctx.say(f"charts: skipped ({res['skipped']})")
            return res
        raise RuntimeError(f"the chart benchmark over {feed} failed: {why}")
    res = json.loads(out.read_text(encoding="utf-8"))
    ctx.say(f"charts over {feed}: {res['fps']} frames/s ({res['paints_per_s']} paints/s) at a "
            f"{res['target_fps']} fps target, {res['note']}; {res['slowdown_note']}: "
            f"{res['ingest_slowdown_percent']}% slower")
    return res
