"""`python -m engine.bench --quick` works end to end: real processes, a report and its JSON.
No timing is asserted (the figures depend on the machine); the figures must only exist."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT, unique_shm_name

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_quick_bench_writes_report_and_json(tmp_path):
    out = tmp_path / "performance_report.md"
    res = subprocess.run([sys.executable, "-m", "engine.bench", "--quick", "--out", str(out),
                          "--shm-name", unique_shm_name()[:20]],
                         cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    data = json.loads(out.with_suffix(".json").read_text())
    r = data["results"]
    assert r["ingest"]["lost"] == 0 and r["ingest"]["bad_frames"] == 0
    assert r["ingest"]["ticks_per_s"] > 0
    assert r["e2e"]["lost"] == 0 and r["e2e"]["ticks_per_s"] > 0
    for mode in ("latency", "standalone"):
        for kind in ("tick_to_decision_us", "tick_to_ack_us"):
            lat = r[mode][kind]
            assert lat["count"] > 0 and lat["p50"] <= lat["p99"] <= lat["max"]
    assert r["cpu"]["percent_of_one_core"] >= 0
    assert r["footprint"]["total_bytes"] == 288 + 328
    assert r["floor"]["tcp_rtt_idle_us"]["count"] > 0
    assert "fps" in r["charts"] or "skipped" in r["charts"]
    text = out.read_text()
    for needle in ("Python", "machine", "## Method", "ticks/s", "tick-to-ack p99"):
        assert needle in text
    for line in ("ingest:", "end to end:", "floor:", "latency (launcher)",
                 "latency (standalone strategy)", "cpu at the default demo rate",
                 "shared memory:", "charts"):
        assert line in res.stdout
