"""The benchmark's report: every figure with its target, what bounds a missed target (from
the run's own measurements), and the Markdown and JSON files. Long: the rows of every
section and the report's tables live together so that a figure's row and its note agree
(the ratio rows of issue 27 are in ratios.py)."""
from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from .ratios import hop_bounds, ratio_rows

TARGETS = {
    "ingest_ticks_per_s": (">=", 5_000_000),
    "e2e_ticks_per_s": (">=", 2_000_000),
    "tick_to_ack_p50_us": ("<=", 250),
    "tick_to_ack_p99_us": ("<=", 1000),
    "cpu_percent_of_one_core": ("<=", 3.0),
    "chart_fps": (">=", 30),
    "chart_ingest_slowdown_percent": ("<=", 10),
    # scale (issue 13): 500 symbols at the default rates, and 5,000
    "scale500_tick_to_ack_p99_us": ("<=", 5000),
    "scale500_cpu_percent": ("<=", 15.0),
    "scale5000_tick_to_ack_p50_us": ("<=", 5000),
    # the desk (issue 27) draws what changed: it keeps up with a frame a change it sampled
    "scale500_desk_frames_per_change": (">=", 1.0),
    "scale5000_desk_frames_per_change": (">=", 1.0),
    "scale5_desk_cpu_percent": ("<=", 15.0),
    "scale500_desk_cpu_percent": ("<=", 35.0),
    # open stack (issue 24): ten Strategies side by side, 50 symbols, the desk drawing
    "strategies_desk_frames_per_change": (">=", 1.0),
}
# targets relative to the same run's five-symbol row: at most this many times its figure
SCALE_RELATIVE = {("500", "tick_to_decision_us", "p50"): 1.5,
                  ("500", "tick_to_ack_us", "p50"): 1.5, ("500", "tick_to_ack_us", "p99"): 3,
                  ("5000", "tick_to_ack_us", "p50"): 5, ("5000", "tick_to_ack_us", "p99"): 5}


def machine_info() -> dict:
    info = {"platform": platform.platform(), "python": sys.version.split()[0],
            "implementation": platform.python_implementation(), "numpy": np.__version__,
            "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["processor"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 ** 2, 1)
                break
    except OSError:
        pass
    return info


def load_average() -> Optional[List[float]]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def check(key: str, value) -> Optional[bool]:
    if value is None:
        return None
    op, bound = TARGETS[key]
    return value >= bound if op == ">=" else value <= bound


class Rows(list):
    """The report's figure rows: name, value, unit, target, met, note, and the command."""

    def __init__(self, command: str):
        super().__init__()
        self.command = command

    def add(self, name, value, unit, key=None, note="", bound=None) -> None:
        """`key` names a target of TARGETS; `bound` is one of this run's own ("<=", x)."""
        target = met = None
        if key:
            op, limit = TARGETS[key]
            target = f"{op} {limit:,}"
            met = check(key, value)
        elif bound is not None and value is not None:
            op, limit = bound
            target = f"{op} {limit:,.1f}"
            met = value <= limit if op == "<=" else value >= limit
        self.append({"figure": name, "value": value, "unit": unit, "target": target,
                     "met": met, "note": note, "command": self.command})


def figures_table(results: dict, command: str) -> List[dict]:
    """One row per reported figure, section by section."""
    rows = Rows(command)
    for part in (_throughput_rows, _latency_rows, ratio_rows, _system_rows, _chart_rows,
                 _scale_rows, _strategies_rows):
        part(rows, results)
    return list(rows)


def _throughput_rows(rows: Rows, r: dict) -> None:
    if "ingest" in r:
        i = r["ingest"]
        rows.add("ingest (OrderBook, blaster feed)", round(i["ticks_per_s"]), "ticks/s",
                 "ingest_ticks_per_s", f"{i['ticks']:,} sent, lost {i['lost']}, rejected "
                 f"{i['bad_frames']}; median of {i['runs']}: "
                 + ", ".join(f"{x / 1e6:.1f} M" for x in i["ticks_per_s_all"]))
    if "e2e" in r:
        e = r["e2e"]
        rows.add("end to end (Gateway generator -> shm)", round(e["ticks_per_s"]), "ticks/s",
                 "e2e_ticks_per_s", f"{e['window_s']} s window; sent {e['ticks_sent']:,} = "
                 f"applied {e['ticks_applied']:,}" if not e["lost"] else f"LOST {e['lost']}")


def _latency_rows(rows: Rows, r: dict) -> None:
    for sec, title in (("latency", "launcher"), ("standalone", "standalone Strategy")):
        if sec not in r:
            continue
        lat = r[sec]
        for kind in ("tick_to_decision_us", "tick_to_ack_us"):
            d = lat[kind]
            for q in ("p50", "p99", "max"):
                key = None
                if kind == "tick_to_ack_us" and q in ("p50", "p99"):
                    key = f"tick_to_ack_{q}_us"
                rows.add(f"{kind[:-3].replace('_', '-')} {q} ({title})", d[q], "us", key,
                         f"{d['count']} samples at {lat['ticks_per_s']:,.0f} ticks/s")


def _system_rows(rows: Rows, r: dict) -> None:
    if "cpu" in r:
        c = r["cpu"]
        rows.add("CPU, whole engine at the default demo rate", c["percent_of_one_core"],
                 "% of one core", "cpu_percent_of_one_core",
                 ", ".join(f"{n} {v}" for n, v in c["per_process_percent"].items()))
    if "footprint" in r:
        f = r["footprint"]
        rows.add("shared memory, all segments", f["total_bytes"], "bytes", None,
                 f"{f['symbols']} symbols; OS maps {f['os_mapped_bytes']}")
        rows.add("shared memory per symbol", f["per_symbol_bytes"], "bytes", None,
                 f"price row 32 + signal row 40; + {f['header_bytes_per_segment']} header a "
                 f"segment")


def _chart_rows(rows: Rows, r: dict) -> None:
    c = r.get("charts") or {}
    if "fps" not in c:
        return
    rows.add("chart frame rate, OrderBook ingesting at full speed", c["fps"], "frames/s",
             "chart_fps", c.get("note", ""))
    rows.add("ingest slowdown while charts draw", c["ingest_slowdown_percent"], "%",
             "chart_ingest_slowdown_percent", c.get("slowdown_note", ""))
    if "e2e" in c:
        e = c["e2e"]
        rows.add("chart frame rate, Gateway at full speed", e["fps"], "frames/s", "chart_fps",
                 e.get("note", ""))
        rows.add("end-to-end slowdown while charts draw", e["ingest_slowdown_percent"], "%",
                 "chart_ingest_slowdown_percent", e.get("slowdown_note", ""))


def _scale_rows(rows: Rows, r: dict) -> None:
    sizes = (r.get("scale") or {}).get("sizes") or {}
    five = sizes.get("5")
    for n, s in sizes.items():
        title = f"scale {int(n):,} symbols"
        for kind in ("tick_to_decision_us", "tick_to_ack_us"):
            for q in ("p50", "p99"):
                key = bound = None
                times = SCALE_RELATIVE.get((n, kind, q))
                if times and five and five[kind][q]:
                    bound = ("<=", round(times * five[kind][q], 1))
                if n == "500" and kind == "tick_to_ack_us" and q == "p99":
                    key = "scale500_tick_to_ack_p99_us"
                if n == "5000" and kind == "tick_to_ack_us" and q == "p50":
                    key = "scale5000_tick_to_ack_p50_us"
                rows.add(f"{title}: {kind[:-3].replace('_', '-')} {q}", s[kind][q], "us",
                         key, f"{s[kind]['count']} samples" + (
                             f" (target: {times:g} x the 5-symbol row)" if bound else ""),
                         bound)
        b = s.get("order_bursts") or {}
        rows.add(f"{title}: orders", s["orders_per_s"], "orders/s", None,
                 f"in {b.get('count', 0)} bursts, median {b.get('median', 0)}, largest "
                 f"{b.get('largest', 0)}; nothing lost: {s['nothing_lost']}")
        rows.add(f"{title}: engine CPU", s["cpu_percent_total"], "% of one core",
                 "scale500_cpu_percent" if n == "500" else None,
                 ", ".join(f"{k} {v}" for k, v in s["cpu_percent"].items()))
        d = s.get("desk")
        if d:
            rows.add(f"{title}: desk frames a change", d.get("frames_per_change"), "frames",
                     {"500": "scale500_desk_frames_per_change",
                      "5000": "scale5000_desk_frames_per_change"}.get(n),
                     f"{d['fps']} frames/s for {d.get('changes_per_s')} changes/s; "
                     f"{d['frame_ms']} ms a frame; first prices {d['first_prices_s']} s after "
                     f"Start all, stopped in {d['stop_s']} s")
            rows.add(f"{title}: desk CPU", d["cpu_percent"], "% of one core",
                     {"5": "scale5_desk_cpu_percent", "500": "scale500_desk_cpu_percent"}.get(n),
                     "the desk's process, charts, tables and map included")


def _strategies_rows(rows: Rows, r: dict) -> None:
    st = r.get("strategies")
    if not st or "each" not in st:
        return
    title = f"{st['strategies']} Strategies, {st['symbols']} symbols"
    bound = ("<=", round(1.5 * st["one_p50_us"], 1)) if st["one_p50_us"] else None
    rows.add(f"{title}: one Strategy alone, tick-to-ack p50", st["one_p50_us"], "us", None,
             f"{st['one_samples']} samples, the same desk, stack and symbols")
    for name, e in st["each"].items():
        rows.add(f"{title}: {name} tick-to-ack p50", e["p50_us"], "us", None,
                 f"{e['ratio']} x alone; p99 {e['p99_us']} us; {e['samples']} samples "
                 f"(target: 1.5 x the lone Strategy's)", bound)
    rows.add(f"{title}: desk frames a change", st.get("desk_frames_per_change"), "frames",
             "strategies_desk_frames_per_change",
             f"{st['desk_fps']} frames/s; alone: {st['one_desk_fps']} frames/s")
    rows.add(f"{title}: nothing lost", int(bool(st["nothing_lost"])), "yes = 1", None,
             f"ticks {st['ticks_sent']:,} sent, {st['ticks_applied']:,} applied; orders "
             f"{st['orders_sent']:,} sent, {st['orders_acked']:,} acked, "
             f"{st['orders_logged']:,} logged, {st['order_log_lines']:,} log lines")
    for k, f in st.get("om_fan_in", {}).items():
        rows.add(f"OrderManager alone: acks of {k} orders sent at once, p50", f["p50_us"], "us",
                 None, f"p99 {f['p99_us']} us over {f['orders']} orders")


def _scale(sc: dict) -> List[str]:
    lines = ["## Scale: the whole desk and stack at the default rates", "",
             "| symbols | tick-to-decision p50 / p99 us | tick-to-ack p50 / p99 us | orders/s "
             "(largest burst) | engine CPU % (gateway, orderbook, strategy, order manager) | "
             "desk frames/s (ms a frame) | shared memory bytes | nothing lost |",
             "| ---: | --- | --- | --- | --- | --- | ---: | --- |"]
    for n, s in sc["sizes"].items():
        d, a, desk = s["tick_to_decision_us"], s["tick_to_ack_us"], s.get("desk")
        per = ", ".join(str(v) for v in s["cpu_percent"].values())
        lines.append(
            f"| {int(n):,} | {d['p50']} / {d['p99']} | {a['p50']} / {a['p99']} | "
            f"{s['orders_per_s']} ({(s.get('order_bursts') or {}).get('largest', '-')}) | "
            f"{s['cpu_percent_total']} ({per}) | "
            + (f"{desk['fps']} ({desk['frame_ms']})" if desk else "not measured")
            + f" | {s.get('shm_bytes', 0):,} | {'yes' if s['nothing_lost'] else '**no**'} |")
    return lines + ["", "Each row is one run of the desk off screen (1400x900) that starts "
                    "its stack with Start all and is closed the normal way; latencies are the "
                    "Strategy's over the whole run; 'nothing lost': every tick sent was "
                    "applied and every order sent was acked and logged exactly once.", ""]


def bounds(results: dict) -> Dict[str, str]:
    """What holds back the figures that can miss their targets, from this run's own
    measurements (the floor, breakdown and charts sections): {figure name prefix: text}."""
    out: Dict[str, str] = {}
    parts = []
    f = results.get("floor") or {}
    if "tick_to_ack_floor_us" in f:
        hot, cold = f["order_codec_hot_us"]["p50"], f["order_codec_cold_us"]["p50"]
        parts.append(f"the wake-ups alone (half a UDP and one TCP round trip between "
                     f"processes that sleep 5 ms between ticks) take "
                     f"{f['tick_to_ack_floor_us']} us, and Python code on the path runs "
                     f"{cold / hot:.1f}x slower than in a hot loop (one order encoded and "
                     f"decoded: {hot} us back to back, {cold} us after sleeping)")
    b = results.get("breakdown") or {}
    work = ("awake -> order sending", "OrderManager awake -> handling",
            "OrderManager handling")
    hops = ("OrderBook receipt -> Strategy awake", "order send call",
            "sent -> OrderManager awake", "ack sent -> Strategy has it")
    if all(k in b for k in work + hops):
        parts.append(f"hop by hop (p50) {sum(b[k]['p50'] for k in work):.0f} us are Python "
                     f"work in the Strategy and the OrderManager and "
                     f"{sum(b[k]['p50'] for k in hops):.0f} us sends and wake-ups with the "
                     f"Python around them; the hops' p99s reach "
                     f"{max(b[k]['p99'] for k in work + hops):.0f} us, a woken process "
                     f"waiting for one of the {os.cpu_count()} cores")
    if parts:
        out["tick-to-ack"] = "; ".join(parts) + "."
    out.update(hop_bounds(results))
    st = results.get("strategies") or {}
    if st.get("cpu_percent"):
        strat = sum(v for k, v in st["cpu_percent"].items()
                    if k not in ("gateway", "orderbook", "order_manager"))
        per_round = strat / 100 * 0.1 * 1000  # ms of CPU a round (10 rounds a second)
        fan = st.get("om_fan_in", {}).get(str(st["strategies"]), {})
        out[f"{st['strategies']} Strategies"] = (
            f"the {st['strategies']} Strategies wake on the same tick and use {per_round:.1f} "
            f"ms of CPU between them each round ({strat:.1f}% of a core at 10 rounds a "
            f"second): on {os.cpu_count()} cores the OrderManager waits for a core about "
            f"{per_round / (os.cpu_count() or 1):.1f} ms while they decide; alone it acks "
            f"{st['strategies']} orders sent at once in {fan.get('p50_us', '?')} us (p50)")
    sizes = (results.get("scale") or {}).get("sizes") or {}
    for n, s in sizes.items():
        b = s.get("order_bursts") or {}
        if b.get("largest"):
            out[f"scale {int(n):,} symbols: tick-to-ack"] = (
                f"orders come in bursts: a news value past a threshold lets every symbol "
                f"whose averages agree trade on its next tick, so one round made up to "
                f"{b['largest']} orders (median burst {b['median']}); a round's orders leave in "
                f"one write and are logged and acked as one batch, but each is still built, "
                f"encoded, validated, numbered and logged in Python (about 23 us hot in the "
                f"OrderManager alone: `python -m tools.bench.json_libs`), so the last of a "
                f"burst waits for all before it")
        d = s.get("desk") or {}
        if d.get("fps") and d.get("cpu_percent"):
            render = d["fps"] * d["frame_ms"] / 10
            out[f"scale {int(n):,} symbols: desk CPU"] = (
                f"the desk drew {d['fps']} frames/s for {d.get('changes_per_s')} changes/s; "
                f"sampling and setData took {d['frame_ms']} ms a frame ({render:.1f}% of a "
                f"core) and the rest of its {d['cpu_percent']}% is mostly Qt painting those "
                f"frames: pyqtgraph repaints the four plots with their eight axes and grids on "
                f"every frame (docs/performance.md, 'The desk's CPU', has the profile)")
    e = (results.get("charts") or {}).get("e2e") or {}
    if "engine_cpu_percent_paused" in e:
        out["end-to-end slowdown"] = (
            f"with the charts paused the Gateway and the OrderBook used "
            f"{e['engine_cpu_percent_paused']}% of the {e['cpus']} cores' "
            f"{100 * e['cpus']}% (two processes that each wait on the other through the "
            f"socket), and drawing took {e['gui_cpu_percent']}% of a core: the two cores "
            f"are shared by three busy processes. (Over the blaster, which leaves most of a "
            f"core idle, the same charts cost the ingest nothing measurable.)")
    return out


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _length(meta: dict) -> str:
    if meta.get("smoke"):
        return " (smoke: the shortest runs; these figures show it works, not how fast)"
    return " (quick: shorter runs)" if meta["quick"] else ""


def _head(meta: dict) -> List[str]:
    m = meta["machine"]
    return ["# Performance report", "",
            "Generated by `python -m tools.bench` (do not edit by hand: rerun it).", "",
            f"- date: {meta['date']}",
            f"- command: `{meta['command']}`" + _length(meta),
            f"- machine: {m['processor']}, {m['cpus']} CPUs"
            + (f", {m['memory_gb']} GB" if "memory_gb" in m else ""),
            f"- OS: {m['platform']}",
            f"- Python {m['python']} ({m['implementation']}), NumPy {m['numpy']}",
            f"- load average before / after: {meta['load_before']} / {meta['load_after']}",
            f"- duration: {meta['duration_s']} s", ""]


def _figures(rows: List[dict], meta: dict, sections) -> List[str]:
    lines = ["## Figures", "", "| figure | value | unit | target | met | notes |",
             "| --- | ---: | --- | --- | --- | --- |"]
    for row in rows:
        met = {True: "yes", False: "**no**", None: ""}[row["met"]]
        lines.append(f"| {row['figure']} | {_fmt(row['value'])} | {row['unit']} | "
                     f"{row['target'] or ''} | {met} | {row['note']} |")
    return lines + ["", f"Every figure above came from `{meta['command']}`; one section "
                    "alone: `python -m tools.bench --only SECTION` (" + ", ".join(sections)
                    + ").", ""]


FLOOR_ROWS = (("tcp_rtt_hot_us", "TCP, back to back"),
              ("tcp_rtt_idle_us", "TCP, 5 ms apart (as at 1,000 ticks/s)"),
              ("udp_rtt_hot_us", "UDP, back to back"), ("udp_rtt_idle_us", "UDP, 5 ms apart"),
              ("tcp_rtt_demo_us", "TCP, 100 ms apart (the demo rate)"),
              ("udp_rtt_demo_us", "UDP, 100 ms apart"),
              ("order_codec_hot_us", "encode + decode one order (Python), back to back"),
              ("order_codec_cold_us", "the same after 5 ms asleep while other work ran"))


def _floor(f: dict) -> List[str]:
    lines = ["## Floor: what any implementation pays on this machine", "",
             "| | p50 us | p99 us | max us |", "| --- | ---: | ---: | ---: |"]
    for key, title in [(k, t) for k, t in FLOOR_ROWS if k in f]:
        d = f[key]
        lines.append(f"| {title} | {d['p50']} | {d['p99']} | {d['max']} |")
    return lines + ["", "tick-to-ack needs at least half a UDP round trip (the doorbell wakes "
                    "the Strategy) plus one TCP round trip (order out, ack back) between "
                    f"processes that sleep between ticks: about {f['tick_to_ack_floor_us']} us "
                    "here before any Python work, and Python work on that path runs several "
                    "times slower than in a hot loop (last two rows).", ""]


def _breakdown(b: dict, floor: Optional[dict] = None) -> List[str]:
    """The hops of tick-to-ack, each beside its floor (the same run's) and its ratio to it."""
    from .latency import hop_floors
    floors = hop_floors(floor) if floor and "tick_to_ack_floor_us" in floor else {}
    lines = ["## Where tick-to-ack goes (1,000 ticks/s, launcher)", "",
             "| hop | p50 us | p99 us | max us | floor us | p50 / floor | the floor is |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for hop, d in b.items():
        f, what = floors.get(hop, (None, ""))
        ratio = f"{d['p50'] / f:.1f} x" if f else "-"
        lines.append(f"| {hop} | {d['p50']} | {d['p99']} | {d['max']} | "
                     f"{f if f else '-'} | {ratio} | {what} |")
    return lines + ["", "(From the Strategy's and the OrderManager's trace hooks around the "
                    "doorbell wait, the order send and the order handling; p50s of hops do not "
                    "add up to the p50 of the whole.)", ""]


def write_report(path: Path, json_path: Path, meta: dict, results: dict, rows: List[dict],
                 notes: List[str], sections, method: str) -> None:
    lines = _head(meta) + _figures(rows, meta, sections)
    if "tcp_rtt_idle_us" in results.get("floor", {}):
        lines += _floor(results["floor"])
    if "tick-to-ack" in results.get("breakdown", {}):
        lines += _breakdown(results["breakdown"], results.get("floor"))
    if (results.get("scale") or {}).get("sizes"):
        lines += _scale(results["scale"])
    if "skipped" in results.get("charts", {}):
        lines += [f"Charts: not measured ({results['charts']['skipped']}).", ""]
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    lines += ["## Method", "", "```", method.strip("\n"), "```", "",
              f"Raw figures: `{json_path.name}`.", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    json_path.write_text(json.dumps({"meta": meta, "results": results, "figures": rows},
                                    indent=2, default=str) + "\n", encoding="utf-8")
