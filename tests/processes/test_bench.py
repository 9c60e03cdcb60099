"""`python -m tools.bench --smoke` (every section of --quick, each as short as still gives its
figures) works end to end: real processes, a report and its JSON. No timing is asserted (the
figures depend on the machine); the figures must only exist."""
import json
import subprocess
import sys

import pytest

from tests.support import ROOT, unique_shm_name

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_smoke_bench_writes_report_and_json(tmp_path):
    out = tmp_path / "performance_report.md"
    res = subprocess.run([sys.executable, "-m", "tools.bench", "--smoke", "--out", str(out),
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
    assert r["floor"]["tick_to_ack_floor_demo_us"] > 0
    t2o = r["tick_to_order"]  # timed from outside: the bench's own Gateway and OrderManager
    assert t2o["count"] > 0 and 0 < t2o["p50"] <= t2o["p99"] and t2o["floor_us"] > 0
    assert any(f["figure"].startswith("tick-to-order over its floor") for f in data["figures"])
    assert "fps" in r["charts"] or "skipped" in r["charts"]
    text = out.read_text()
    for needle in ("Python", "machine", "## Method", "ticks/s", "tick-to-ack p99",
                   "(smoke: the shortest runs;"):
        assert needle in text
    for line in ("ingest:", "end to end:", "floor:", "latency (launcher)",
                 "latency (standalone strategy)", "tick-to-order (OrderBook + Strategy alone",
                 "cpu at the default demo rate",
                 "shared memory:", "charts"):
        assert line in res.stdout


def test_missed_targets_come_with_what_bounds_them():
    """bounds() turns this run's floor, breakdown and charts figures into the report's
    explanation of a missed target (plain data in, text out: no processes)."""
    from tools.bench import bounds
    pct = lambda p50, p99: {"p50": p50, "p99": p99, "max": p99, "count": 10}  # noqa: E731
    hops = ("OrderBook receipt -> Strategy awake", "awake -> order sending", "order send call",
            "sent -> OrderManager awake", "OrderManager awake -> handling",
            "OrderManager handling", "ack sent -> Strategy has it")
    results = {"floor": {"tick_to_ack_floor_us": 38.2, "order_codec_hot_us": pct(9.0, 12),
                         "order_codec_cold_us": pct(36.0, 50)},
               "breakdown": {h: pct(10.0 * (k + 1), 100.0 * (k + 1))
                             for k, h in enumerate(hops)},
               "charts": {"e2e": {"engine_cpu_percent_paused": 151.2, "cpus": 2,
                                  "gui_cpu_percent": 24.5}}}
    why = bounds(results)
    ack = why["tick-to-ack"]
    assert "38.2 us" in ack and "4.0x slower" in ack
    assert "130 us are Python work" in ack and "150 us sends and wake-ups" in ack  # 20+50+60
    assert "reach 700 us" in ack
    assert "151.2% of the 2 cores' 200%" in why["end-to-end slowdown"]
    assert bounds({}) == {}


def test_each_hop_is_shown_beside_its_floor_measured_in_the_same_run(tmp_path):
    """The report's hop table: each hop's p50 beside the floor of the kernel primitive it is
    (half a UDP round trip for the doorbell, half a TCP one for an order or its ack, the hot
    codec for Python work) and the ratio (issue 27, point 1)."""
    from tools.bench.latency import HOPS, hop_floors
    from tools.bench.report import _breakdown
    pct = lambda p50: {"p50": p50, "p99": 2 * p50, "max": 3 * p50, "count": 10}  # noqa: E731
    floor = {"udp_rtt_idle_us": pct(60.0), "tcp_rtt_idle_us": pct(80.0),
             "tcp_rtt_hot_us": pct(30.0), "order_codec_hot_us": pct(9.0),
             "tick_to_ack_floor_us": 110.0}
    floors = hop_floors(floor)
    assert set(floors) == set(HOPS)
    assert floors["OrderBook receipt -> Strategy awake"][0] == 30.0
    assert floors["sent -> OrderManager awake"][0] == floors["ack sent -> Strategy has it"][0] \
        == 40.0
    assert floors["OrderManager handling"][0] == 9.0 and floors["tick-to-ack"][0] == 110.0
    table = "\n".join(_breakdown({h: pct(120.0) for h in HOPS}, floor))
    assert "| OrderBook receipt -> Strategy awake | 120.0 | 240.0 | 360.0 | 30.0 | 4.0 x |" \
        in table
    assert "| tick-to-ack | 120.0 | 240.0 | 360.0 | 110.0 | 1.1 x |" in table
    assert "p50 / floor" in "\n".join(_breakdown({h: pct(1.0) for h in HOPS}))  # no floor


def scale_row(p50_d, p50_a, p99_a, cpu, fps, largest):
    lat = lambda p50, p99: {"p50": p50, "p99": p99, "max": p99, "count": 100}  # noqa: E731
    return {"tick_to_decision_us": lat(p50_d, 2 * p50_d), "tick_to_ack_us": lat(p50_a, p99_a),
            "orders_per_s": 12.5, "cpu_percent_total": cpu, "shm_bytes": 616,
            "shm_bytes_per_symbol": 72.0,
            "cpu_percent": {"gateway": 1, "orderbook": 1, "strategy": cpu - 3,
                            "order_manager": 1},
            "desk": {"fps": fps, "frame_ms": 6.5, "cpu_percent": 30, "first_prices_s": 2,
                     "stop_s": 1, "changes_per_s": 10.0,
                     "frames_per_change": round(fps / 10.0, 2)}, "nothing_lost": True,
            "order_bursts": {"count": 9, "median": 4, "largest": largest}}


def test_scale_rows_hold_their_targets_and_say_what_bounds_them():
    """The scale section's rows: 500 symbols against 1.5 x the same run's five-symbol
    figures and the fixed targets, 5,000 against theirs; a burst explains a missed one."""
    from tools.bench import bounds, figures_table
    results = {"scale": {"sizes": {"5": scale_row(300, 1000, 2000, 1.5, 30.1, 3),
                                   "500": scale_row(420, 9000, 16000, 6.0, 30.4, 267),
                                   "5000": scale_row(900, 70000, 200000, 40, 17.5, 2500)}}}
    results["scale"]["sizes"]["5000"]["desk"]["frames_per_change"] = 0.8  # fell behind
    rows = {r["figure"]: r for r in figures_table(results, "cmd")}
    assert rows["scale 500 symbols: tick-to-decision p50"]["met"] is True  # 420 <= 450
    assert rows["scale 500 symbols: tick-to-ack p50"]["target"] == "<= 1,500.0"
    assert rows["scale 500 symbols: tick-to-ack p50"]["met"] is False
    assert rows["scale 500 symbols: tick-to-ack p99"]["met"] is False
    assert rows["scale 500 symbols: engine CPU"]["met"] is True
    assert rows["scale 500 symbols: desk frames a change"]["met"] is True  # 30.4 for 10
    assert rows["scale 500 symbols: desk CPU"]["met"] is True  # 30 % <= 35
    assert rows["scale 5 symbols: desk CPU"]["met"] is False  # 30 % > 15
    assert rows["scale 5,000 symbols: tick-to-ack p50"]["met"] is False
    assert rows["scale 5,000 symbols: desk frames a change"]["met"] is False  # changes missed
    assert rows["scale 5 symbols: tick-to-ack p50"]["met"] is None  # the reference itself
    why = bounds(results)
    assert "up to 267 orders" in why["scale 500 symbols: tick-to-ack"]


def test_the_desk_bench_measures_a_universe(tmp_path):
    """tools.bench.desk_window (the scale section's run of one size): the real desk off screen
    starts
    its stack, and the figures come back with nothing lost."""
    pytest.importorskip("PySide6")
    out = tmp_path / "desk.json"
    res = subprocess.run([sys.executable, "-m", "tools.bench.desk_window", "--symbols", "50",
                          "--seconds", "2", "--json", str(out), "--shm-name",
                          unique_shm_name()[:20], "--workdir", str(tmp_path / "run")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["symbols"] == 50 and r["desk"]["universe"] and r["desk"]["fps"] > 0
    assert r["desk"]["changes_per_s"] > 0 and r["desk"]["frames_per_change"] >= 1.0
    assert r["ticks_sent"] == r["ticks_applied"] > 0 and r["nothing_lost"]
    assert set(r["cpu_percent"]) == {"gateway", "orderbook", "strategy", "order_manager"}
    assert r["tick_to_decision_us"]["count"] > 0 and r["exit_codes"]["strategy"] == 0
    assert r["shm_bytes"] == 2 * 128 + 72 * 50 and r["shm_bytes_per_symbol"] == 72.0


def test_the_soak_reports_each_processs_memory_over_the_run(tmp_path):
    """`--only soak`: each process's resident memory at the start, a fifth, half and the end
    of the run, its growth, the shape of it, and nothing lost (issue 27, point 5)."""
    out = tmp_path / "soak.md"
    res = subprocess.run([sys.executable, "-m", "tools.bench", "--only", "soak", "--smoke",
                          "--out", str(out), "--shm-name", unique_shm_name()[:20]],
                         cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    soak = json.loads(out.with_suffix(".json").read_text())["results"]["soak"]
    assert soak["nothing_lost"] and soak["orders"] > 0 and soak["symbols"] == 500
    assert set(soak["processes"]) == {"gateway", "orderbook", "strategy", "order_manager"}
    for p in soak["processes"].values():
        assert 0 < p["rss_start_mb"] and 0 < p["rss_end_mb"] and "bytes_per_order" in p
    assert len(soak["series"]["s"]) == len(soak["series"]["rss_mb"]["order_manager"]) >= 1
    assert "soak 500 symbols" in res.stdout


def test_the_json_libraries_are_measured_against_the_order_path():
    """`python -m tools.bench.json_libs`: the standard library's decode and ack always, a
    library's saving where one is installed, beside the OrderManager's own cost an order."""
    res = subprocess.run([sys.executable, "-m", "tools.bench.json_libs", "--n", "300"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "json (standard library)  decode an order" in res.stdout
    assert "us an order (hot, in-process)" in res.stdout


def test_issue_27s_targets_are_ratios_to_the_same_runs_floors():
    """Each latency target of issue 27 is a row whose value is a ratio to a floor measured in
    the same run, and a missed one comes with what holds it (plain data, no processes)."""
    from tools.bench import bounds
    from tools.bench.latency import HOPS
    from tools.bench.report import figures_table
    from tools.bench.tick_to_order import tick_to_order_samples
    pct = lambda p50, p99: {"p50": p50, "p99": p99, "max": p99, "count": 10}  # noqa: E731
    floor = {"udp_rtt_idle_us": pct(60.0, 90), "tcp_rtt_idle_us": pct(80.0, 99),
             "tcp_rtt_hot_us": pct(30.0, 40), "order_codec_hot_us": pct(10.0, 12),
             "order_codec_cold_us": pct(50.0, 60), "tick_to_ack_floor_us": 110.0,
             "tick_to_ack_floor_demo_us": 300.0}
    results = {"floor": floor, "latency": {"tick_to_ack_us": pct(220.0, 880.0),
                                           "tick_to_decision_us": pct(100.0, 200.0),
                                           "ticks_per_s": 1000.0},
               "spin": {"demo": [{"tick_to_ack_us": pct(900.0, 1500.0)}]},
               "tick_to_order": {**pct(330.0, 500.0), "floor_us": 110.0},
               "breakdown": {h: pct(100.0, 300.0) for h in HOPS},
               "soak": {"processes": {"strategy": {"growth_pct": 12.5, "rss_fifth_mb": 40,
                                                   "rss_end_mb": 45,
                                                   "last_half_growth_pct": 1.0}}}}
    rows = {r["figure"]: r for r in figures_table(results, "x")}
    ack = rows["tick-to-ack over its floor (launcher, 1,000 ticks/s), p50"]
    assert ack["value"] == 2.0 and ack["met"] is True  # 220 / 110
    assert rows["tick-to-ack over its floor (launcher, 1,000 ticks/s), p99"]["met"] is False
    assert rows["tick-to-ack over its floor (launcher, demo rate, --spin-us 0), p50"][
        "value"] == 3.0
    assert rows["tick-to-order over its floor (OrderBook + Strategy alone), p50"][
        "value"] == 3.0
    doorbell = rows["hop OrderBook receipt -> Strategy awake over its floor, p50"]
    assert doorbell["value"] == round(100 / 30, 2) and doorbell["met"] is False
    assert rows["hop sent -> OrderManager awake over its floor, p50"]["met"] is True  # 2.5
    assert rows["soak: strategy memory growth after the first fifth"]["met"] is False
    why = bounds(results)
    assert "5.0 x" in why["hop OrderManager handling"] and "tick-to-order" in why
    # an order is timed from the latest round sent before the OrderBook had its tick
    rounds = [1_000, 6_000, 11_000]
    arrivals = [(7_500, '{"tick_ns": 6100}'), (12_000, '{"tick_ns": 11050}'), (9, "junk")]
    assert tick_to_order_samples(rounds, arrivals) == [1_500, 1_000]
