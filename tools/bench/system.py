"""What the engine costs the machine: `cpu` (the whole engine at the default demo rate) and
`footprint` (bytes of every shared-memory segment)."""
from __future__ import annotations

from engine.control.lifecycle import State
from engine.shm.stack import footprint as books_footprint

from .common import BenchContext, cpu_over, pump, wait


def cpu(ctx: BenchContext) -> dict:
    window = ctx.pick(30.0, 6.0, 1.5)
    cfg = ctx.config(seed=None)  # the default demo: 10 rounds/s, news every second
    ctl = ctx.controller(cfg)
    try:
        ctl.start_all()
        wait(ctl, lambda: all(ctl.state(n) == State.RUNNING for n in ctl.procs)
             and ctl.memory.book.update_counter > 0, 30, "the stack to run")
        pump(ctl, ctx.pick(2.0, 2.0, 0.5))  # imports and connections done
        per, wall, how = cpu_over(ctl, window)
        ctl.stop_all_and_wait()
    finally:
        ctl.close()
    total = round(sum(per.values()), 2)
    res = {"percent_of_one_core": total, "per_process_percent": per,
           "window_s": round(wall, 1), "source": how,
           "tick_interval_s": cfg.tick_interval, "news_interval_s": cfg.news_interval}
    ctx.say(f"cpu at the default demo rate: {total}% of one core over {wall:.0f} s ("
            + ", ".join(f"{n} {v}%" for n, v in per.items()) + f"; from {how})")
    return res


def footprint(ctx: BenchContext) -> dict:
    cfg = ctx.config()
    ctl = ctx.controller(cfg, targets={})
    try:
        ctl.memory.ensure()
        fp = books_footprint(cfg.symbols)
        res = {"symbols": len(cfg.symbols), "price_book_bytes": ctl.memory.book.nbytes,
               "signal_book_bytes": ctl.memory.signal_book.nbytes,
               "total_bytes": ctl.memory.nbytes, "per_symbol_bytes": fp["per_symbol"],
               "header_bytes_per_segment": ctl.memory.book.nbytes - 32 * len(cfg.symbols),
               "os_mapped_bytes": ctl.memory.book.segment_size + ctl.memory.signal_book.segment_size}
    finally:
        ctl.close()
    ctx.say(f"shared memory: {res['total_bytes']} bytes for {res['symbols']} symbols "
            f"(price book {res['price_book_bytes']}, signal book "
            f"{res['signal_book_bytes']}; {res['per_symbol_bytes']} bytes a symbol + "
            f"2 x {res['header_bytes_per_segment']} header; the OS maps "
            f"{res['os_mapped_bytes']})")
    return res
