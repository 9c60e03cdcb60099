"""Stand-in children for tests that start real spawned processes that are not the engine's
own four. They are module-level so that a spawned child imports them by name, and in this
module, which imports nothing of the tests', so that a child does not import pytest and a
test module first (that took 0.3 to 0.45 CPU-s a child, more than the child's own work)."""
from __future__ import annotations

import time


# -- children of a ProcessController (config, stop_event, reporter) ---------------------------
def idle_target(config, stop_event, reporter=None, **kwargs):
    """Runs until stopped, reporting counters that grow (5 ticks, 1 order every 20 ms)."""
    from engine.measure.stats import Stats
    reporter.running()
    n = 0
    while not stop_event.wait(0.02):
        n += 5
        reporter.maybe(lambda: Stats(ticks_applied=n, orders_logged=n // 5, bad_frames=1))
    reporter.send(Stats(ticks_applied=n, orders_logged=n // 5, bad_frames=1))


def crash_target(config, stop_event, reporter=None, **kwargs):
    """Runs for 0.3 s, then exits 3."""
    reporter.running()
    stop_event.wait(0.3)
    raise SystemExit(3)


def crash_at_once(config, stop_event, reporter=None):
    raise SystemExit(3)


def stubborn_target(config, stop_event, reporter=None, **kwargs):
    """Ignores a polite terminate (SIGTERM) and its stop flag: only a kill ends it."""
    import signal
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    reporter.running()
    while True:
        time.sleep(0.05)


# -- shared-memory writers and readers -------------------------------------------------------
def price_writer(name, lock, n, start_evt):
    """Writes rows 0 and 1 n times; price and recv_ns carry the same number."""
    from engine.shm.price_book import SharedPriceBook
    book = SharedPriceBook.attach(name, lock=lock)
    start_evt.wait(10)
    for k in range(1, n + 1):
        # a torn row would show price and recv_ns apart
        book.update_many({0: (float(k), 1), 1: (float(k), 1)}, recv_ns=k)
    book.close()


def pausing_writer(name, lock, n, start_evt, pause_s):
    """Writes price and recv_ns of two rows in two halves with a pause between them, inside
    the seqlock (as a writer descheduled mid-write would): a reader that does not retry
    sees price != recv_ns, or one row ahead of the other, every time it lands in a pause.
    It pauses as long between writes (a writer that never paused there would starve the
    readers, who can only finish a read between two writes)."""
    from engine.shm.price_book import SharedPriceBook
    from engine.shm.segment import H_UPDATES
    book = SharedPriceBook.attach(name, lock=lock)
    s, f, q = book._stride, book._f, book._q
    start_evt.wait(10)
    for k in range(1, n + 1):
        book._begin()
        f[0 * s + 1] = k            # first half: both prices
        f[1 * s + 1] = k
        time.sleep(pause_s)
        q[0 * s + 3] = k            # second half: both receive times and counters
        q[1 * s + 3] = k
        q[0 * s + 2] += 1
        q[1 * s + 2] += 1
        book._h[H_UPDATES] += 2
        book._end()
        time.sleep(pause_s)  # and as long between writes: readers get their turn
    book.close()


def torn(rows) -> int:
    """Rows of one consistent read: AAPL and MSFT were written as one (price == recv_ns ==
    k in both)."""
    (pa, sa, ra), (pm, sm, rm) = rows
    return int(sa > 0 and not (pa == ra == pm == rm and sa == sm))


def reader_check(name, seconds, result_q):
    """A reader in a process of its own, without the writers' lock (a Strategy started in
    its own terminal): every snapshot it takes must be whole."""
    from engine.shm.price_book import SharedPriceBook
    book = SharedPriceBook.attach(name)
    n_torn = reads = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        snap = book.snapshot()
        n_torn += torn([(snap["price"][i], snap["seq"][i], snap["recv_ns"][i]) for i in (0, 1)])
        reads += 1
    book.close()
    result_q.put((n_torn, reads))


def attach_and_exit(name):
    from engine.shm.price_book import SharedPriceBook
    b = SharedPriceBook.attach(name)
    b.read("AAPL")
    b.close()
