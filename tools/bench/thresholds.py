"""Where a universe's array paths start to pay: one round of prices handled frame by frame or
with NumPy (the OrderBook), and symbol by symbol or as arrays (the Strategy), each measured
"cold", i.e. after 100 ms asleep as the processes are at the default rate (NumPy's fixed cost
is several times its hot cost then). The crossing points set fastpath._SCALAR_BELOW and
strategy.VECTOR_FROM.

    python -m tools.bench.thresholds 8 64 300 500 1000
"""
from __future__ import annotations

import logging
import os
import sys
import time

import numpy as np

from engine.config.schema import universe
from engine.measure.latency import Latency
from engine.shm.price_book import SharedPriceBook
from engine.shm.signal_book import SignalBook
from engine.trading.ingest import PriceIngest
from engine.trading.market import RandomWalk
from engine.trading.signals import SignalEngine
from engine.trading.vector_signals import VectorSignalEngine

ROUNDS, SKIP, SLEEP_S = 25, 5, 0.1


def ingest_cold(symbols, numpy_path: bool) -> float:
    """Median microseconds for PriceIngest.feed of one round, after sleeping."""
    walk = RandomWalk(symbols, seed=1)
    book = SharedPriceBook(symbols, name=f"thr{os.getpid()}{int(numpy_path)}")
    try:
        ingest = PriceIngest(book, symbols, logging.getLogger("thresholds"), 65536)
        scanner = ingest.scanner
        scanner.is_small = (lambda b: not scanner._known) if numpy_path else (lambda b: True)
        times = []
        for _ in range(ROUNDS):
            data = walk.next_round()[0]
            time.sleep(SLEEP_S)
            t0 = time.perf_counter_ns()
            ingest.feed(data, t0)
            times.append((time.perf_counter_ns() - t0) / 1e3)
    finally:
        book.close()
        book.unlink()
    return float(np.median(times[SKIP:]))


def strategy_cold(symbols) -> tuple:
    """Median microseconds for the Strategy's round (read, decide, record, publish), as
    arrays and symbol by symbol, each after sleeping."""
    n = len(symbols)
    walk = RandomWalk(symbols, seed=1)
    book = SharedPriceBook(symbols, name=f"thr{os.getpid()}p")
    sig = SignalBook(symbols, name=f"thr{os.getpid()}s")
    try:
        arrays, each = VectorSignalEngine(symbols), SignalEngine(symbols)
        arrays.on_sentiment(50)
        each.on_sentiment(50)
        rows, row_list = np.arange(n), list(range(n))
        seen, seen_list, lat = np.zeros(n, dtype=np.uint64), [0] * n, Latency()
        t_arrays, t_each = [], []
        for _ in range(ROUNDS):
            book.update_rows(rows, walk.prices.copy(), np.ones(n, dtype=np.int64), 1)
            walk.next_round()
            time.sleep(SLEEP_S)
            t0 = time.perf_counter_ns()
            prices, seqs, recv = book.read_columns(rows)
            changed = np.flatnonzero(seqs != seen)
            seen[changed] = seqs[changed]
            arrays.on_prices(changed, prices[changed])
            short, long_ = arrays.means(changed)
            lat.record_many(t0 - recv[changed])
            sig.publish_rows(changed, short, long_, arrays.positions[changed], t0)
            t_arrays.append((time.perf_counter_ns() - t0) / 1e3)
            time.sleep(SLEEP_S)
            t0 = time.perf_counter_ns()
            for j, (price, seq, recv_ns) in enumerate(book.read_rows(row_list)):
                if seq != seen_list[j]:
                    seen_list[j] = seq
                    each.on_price(symbols[j], price)
                    s, lg = each.averages(symbols[j])
                    lat.record(t0 - recv_ns)
                    sig.publish(symbols[j], s, lg, each.position(symbols[j]), t0)
            t_each.append((time.perf_counter_ns() - t0) / 1e3)
    finally:
        for b in (book, sig):
            b.close()
            b.unlink()
    return float(np.median(t_arrays[SKIP:])), float(np.median(t_each[SKIP:]))


def main(argv=None) -> int:
    sizes = [int(a) for a in (sys.argv[1:] if argv is None else argv)] or [8, 64, 300, 500]
    print("symbols | OrderBook round: frame by frame / NumPy us | Strategy round: symbol by "
          "symbol / arrays us   (cold: after 100 ms asleep)")
    for n in sizes:
        symbols = universe(n)
        scalar, vector = ingest_cold(symbols, False), ingest_cold(symbols, True)
        arrays, each = strategy_cold(symbols)
        print(f"{n:7,} | {scalar:8.0f} / {vector:8.0f} | {each:8.0f} / {arrays:8.0f}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
