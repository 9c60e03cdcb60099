"""`python -m tools.bench`: run the sections, print every figure, write the report."""
from __future__ import annotations

import datetime as _dt
import logging
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

from engine.config.flags import parser_for
from engine.platforms.paths import default_output

from . import METHOD, QUICK_SKIPS, SECTIONS
from .common import BenchContext
from .report import bounds, figures_table, load_average, machine_info, write_report


def parse(argv):
    parser = parser_for("python -m tools.bench", "Measure the engine with real processes.")
    parser.add_argument("--quick", action="store_true",
                        help="shorter runs (under a minute); the figures are noisier")
    parser.add_argument("--smoke", action="store_true",
                        help="the shortest runs that still give every figure of --quick (about "
                             "15 s): shows the benchmark works; its figures are not worth "
                             "quoting")
    parser.add_argument("--only", default=None,
                        help="comma-separated sections (default: all; --quick leaves out "
                             "breakdown): " + ", ".join(SECTIONS))
    parser.add_argument("--out", default=str(default_output("performance_report.md")),
                        help="the Markdown report (default %(default)s)")
    parser.add_argument("--json", default=None,
                        help="the raw figures (default: the report's name with .json)")
    parser.add_argument("--soak-minutes", type=float, default=None,
                        help="how long the soak section runs (default 10; --quick 1)")
    parser.add_argument("--shm-name", default=f"ipcbench{os.getpid() % 100000}_",
                        help="prefix of the shared-memory names the runs use")
    ns = parser.parse_args(argv)
    ns.quick = ns.quick or ns.smoke  # a smoke run is a quick one, shorter still
    if ns.only is None:
        ns.sections = [s for s in SECTIONS if not (ns.quick and s in QUICK_SKIPS)]
    else:
        ns.sections = [s.strip() for s in ns.only.split(",") if s.strip()]
    unknown = set(ns.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    return ns


def run_sections(ctx: BenchContext, sections, notes: List[str]) -> Dict[str, dict]:
    """Each section in turn; one that fails is reported and the others still run."""
    results: Dict[str, dict] = {}
    ctx.results = results  # (a section may read an earlier one's: breakdown the floor's)
    for name, section in SECTIONS.items():
        if name not in sections:
            continue
        try:
            results[name] = section(ctx)
        except Exception as exc:  # report what failed, go on with the rest
            logging.getLogger("bench").exception("section %s failed", name)
            notes.append(f"section {name} failed: {exc!r}")
            results[name] = {"error": repr(exc)}
    return results


def explain(rows: List[dict], measured: dict, notes: List[str]) -> None:
    """A note for each missed target, and what bounds it from this run's own figures."""
    why = bounds(measured)
    bounded = []
    for row in rows:
        if row["met"] is False:
            notes.append(f"target missed: {row['figure']} = {row['value']} {row['unit']} "
                         f"(target {row['target']})")
            bounded += [p for p in why if row["figure"].startswith(p) and p not in bounded]
    notes += [f"what bounds {p}, measured in this run: {why[p]}" for p in bounded]


def main(argv=None) -> int:
    ns = parse(argv)
    args = sys.argv[1:] if argv is None else argv
    command = "python -m tools.bench" + ("".join(" " + shlex.quote(a) for a in args))
    meta = {"date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "command": command, "quick": ns.quick, "smoke": ns.smoke, "machine": machine_info(),
            "load_before": load_average(), "sections": ns.sections}
    out_path = Path(ns.out)
    json_path = Path(ns.json) if ns.json else out_path.with_suffix(".json")
    for folder in {out_path.parent, json_path.parent}:  # before the runs, not after them
        folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    notes: List[str] = []
    with tempfile.TemporaryDirectory(prefix="ipcbench") as tmp:
        ctx = BenchContext(ns.quick, ns.shm_name, Path(tmp), smoke=ns.smoke)
        ctx.soak_s = ns.soak_minutes * 60 if ns.soak_minutes else None
        m = meta["machine"]
        ctx.say(f"benchmark ({ctx.pick('full', 'quick', 'smoke')}) on {m['processor']}, "
                f"{m['cpus']} CPUs, Python {m['python']}; load {meta['load_before']}")
        results = run_sections(ctx, ns.sections, notes)
    meta["load_after"] = load_average()
    meta["duration_s"] = round(time.monotonic() - started, 1)
    measured = {k: v for k, v in results.items() if "error" not in v}
    rows = figures_table(measured, command)
    explain(rows, measured, notes)
    write_report(out_path, json_path, meta, results, rows, notes, list(SECTIONS), METHOD)
    ctx.say(f"report written to {out_path} and {json_path} ({meta['duration_s']} s)")
    return 1 if any("error" in v for v in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
