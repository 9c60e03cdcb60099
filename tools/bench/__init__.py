"""`python -m tools.bench`: measure the engine with real processes and write the report.

    python -m tools.bench            full run (a few minutes), writes performance_report.md/.json
    python -m tools.bench --quick    the same figures from shorter runs (under a minute)
    python -m tools.bench --only ingest,latency   some sections only

Every section starts real processes (spawn) through the ProcessController, on free loopback
ports and a fresh shared-memory name, with logs and the order log in a temporary folder, and
stops and unlinks everything at the end. Definitions follow DESIGN.md section 6.

Sections:
  ingest      a blaster process sends N pre-encoded `SYMBOL,PRICE*` frames over TCP as fast as
              the socket takes them; the real OrderBook process validates and applies them.
              Ticks/s = N / (time the book's counter reached N - time of the first send);
              N sent must equal N applied, with no frame rejected.
  e2e         the real Gateway (tick interval 0: as fast as the clients read) and OrderBook;
              ticks/s the book's counter grows over a window, then ticks sent == applied.
  floor       one loopback TCP and UDP round trip between two Python processes, back to
              back, 5 ms apart (the far end sleeps in between, as at 1,000 ticks/s) and
              100 ms apart (the demo rate).
  latency     the whole stack at 1,000 ticks/s (5 symbols every 5 ms) under the launcher's
              controller: tick-to-decision and tick-to-ack from the Strategy, p50/p99/max.
  standalone  the same, but the Strategy is `python -m engine.strategy` in its own process,
              as a user starts it in a terminal (it learns of prices the same way: the
              OrderBook rings its UDP doorbell; stopped with Ctrl+C, figures via --stats-json).
  tick_to_order  the OrderBook and the Strategy alone at 1,000 ticks/s, timed from outside by
              one process of the bench's that plays the Gateway and a plain OrderManager:
              the order's arrival minus the send of its tick's round, beside its floor.
  breakdown   (not in --quick) the latency run again with the engine's trace hooks on
              (engine/trace.py) around the Strategy's doorbell wait and order send and the
              OrderManager's handling: tick-to-ack hop by hop.
  cpu         the whole engine at the default demo rate: CPU time of the four processes over
              wall time, from /proc/<pid>/stat (Linux) or each process's own os.times().
  footprint   bytes of every shared-memory segment, per symbol and in all.
  charts      the desk's ChartsPanel (tools/bench/chart_window.py, a process of its own; off
              screen, its own 30 fps, 5 symbols, 60 s of history)
              while the engine ingests at full speed: frames/s, and the ingest rate in
              alternating windows with the charts drawing and paused. Over the blaster-fed
              OrderBook, and in full runs over the Gateway at tick interval 0 too.
  scale       (not in --quick) the whole desk (tools/bench/desk_window.py) and its stack at
              the default rates with 5, 50, 500 and 5,000 symbols, 15 s each (5,000:
              60 s): tick-to-decision and tick-to-ack p50/p99 (the Strategy's, over the whole
              run), orders/s, each process's CPU, the desk's CPU, frames/s, frames a change
              (it draws what changed: >= 1 keeps up) and frame time, and whether anything
              was lost (ticks sent == applied, every order acked and logged once).
  strategies  (not in --quick) the whole desk with 50 symbols at the default rates, 30 s with
              one Strategy, then 30 s with ten side by side (each its own account and
              windows): nothing lost, the desk's frames/s, and each Strategy's tick-to-ack
              p50 over the lone one's (target: within 1.5 x).
  spin        (not in --quick) the stack at 1,000 ticks/s (20 s) and at the default demo rate
              (30 s), with --spin-us 0, 150 and 500: tick-to-ack p50/p99 and each process's CPU,
              what the IdleStrategy buys beside what it costs.
  soak        (not in --quick) the engine with 500 symbols at the default rates for 10
              minutes (`--only soak --quick`: 1 minute): each process's resident memory at
              the start, after a fifth of the run and at the end, its growth a minute and a
              thousand orders, and nothing lost.
"""
from __future__ import annotations

from .charts import charts
from .floor import floor
from .ingest import e2e, ingest
from .latency import breakdown, latency, standalone
from .report import TARGETS, bounds, figures_table, write_report
from .scale import scale
from .soak import soak
from .spin import spin
from .strategies import strategies
from .system import cpu, footprint
from .tick_to_order import tick_to_order

# the sections, in the order they run
SECTIONS = {"ingest": ingest, "e2e": e2e, "floor": floor, "latency": latency,
            "standalone": standalone, "tick_to_order": tick_to_order,
            "breakdown": breakdown, "cpu": cpu,
            "footprint": footprint, "charts": charts, "scale": scale,
            "strategies": strategies, "spin": spin, "soak": soak}
# diagnostic, or minutes long: --quick stays under a minute without them
# (`--only scale --quick` runs scale with 4 s a size)
QUICK_SKIPS = ("breakdown", "scale", "strategies", "spin", "soak")
METHOD = __doc__.split("Sections:", 1)[1].rstrip()

__all__ = ["SECTIONS", "QUICK_SKIPS", "METHOD", "TARGETS", "bounds", "figures_table",
           "write_report"]
