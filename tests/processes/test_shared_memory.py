"""SharedPriceBook and SignalBook: real segments, real spawned processes."""
import math
import multiprocessing as mp
import os
import subprocess
import sys
import textwrap
import time

import pytest

from engine.shm.price_book import SharedPriceBook
from engine.shm.segment import HEADER_BYTES, StaleSegmentInUse, segment_exists
from engine.shm.signal_book import SignalBook
from engine.shm.stack import footprint
from tests.standins import pausing_writer, price_writer, reader_check, torn
from tests.support import ROOT, unique_shm_name

SYMS = ("AAPL", "MSFT", "GOOG", "AMZN", "TSLA")


def test_update_read_snapshot_footprint(shm_name):
    with SharedPriceBook(SYMS, name=shm_name) as book:
        assert book.nbytes == HEADER_BYTES + 32 * len(SYMS) == 288
        assert book.segment_size >= book.nbytes
        assert book.read("AAPL") is None
        book.update("AAPL", 172.53, recv_ns=42)
        book.update("AAPL", 172.60, recv_ns=43)
        row = book.read_row("AAPL")
        assert (row.price, row.seq, row.recv_ns) == (172.60, 2, 43)
        snap = book.snapshot()
        assert snap.dtype.names == ("symbol", "price", "seq", "recv_ns")
        assert snap["symbol"].tolist() == [s.encode() for s in SYMS]
        assert math.isnan(snap["price"][1])
        snap["price"][0] = 1.0  # a copy: the book is untouched
        assert book.read("AAPL") == 172.60
        assert book.update_counter == 2


def test_doorbells_for_28_readers_and_the_places_of_the_gone(shm_name):
    """Ten Strategies side by side each register a wake-up port: four a header slot, 28 in
    all, any port number (the high ones make the word negative), every one rung; a full
    book gives the place of a reader that is gone to a new one."""
    with SharedPriceBook(SYMS, name=shm_name) as book:
        ports = [1024 + 2000 * i for i in range(SharedPriceBook.MAX_DOORBELLS - 1)] + [65535]
        assert SharedPriceBook.MAX_DOORBELLS == 28
        for p in ports:
            assert book.add_doorbell(p)
        assert book.add_doorbell(ports[3])  # (twice: once)
        assert sorted(book.doorbell_ports()) == sorted(ports)
        assert not book.add_doorbell(60000)  # full
        other = SharedPriceBook.attach(shm_name)  # what the OrderBook (another process) sees
        assert sorted(other.doorbell_ports()) == sorted(ports)
        other.close()
        gone = {ports[5], ports[17]}
        assert book.add_doorbell(60000, in_use=lambda p: p not in gone)
        # (the first slot with a reader gone is cleaned up: its gone ones go)
        assert book.has_doorbell(60000) and not book.has_doorbell(ports[5])
        assert len(book.doorbell_ports()) == 28
        book.remove_doorbell(65535)
        assert not book.has_doorbell(65535) and book.has_doorbell(ports[0])
        assert not book.add_doorbell(0) and not book.add_doorbell(70000)


def test_update_many_counts_every_tick(shm_name):
    with SharedPriceBook(SYMS, name=shm_name) as book:
        assert book.update_many({0: (10.0, 3), 4: (20.0, 2)}, recv_ns=7) == 5
        assert book.read_row("AAPL").seq == 3 and book.read_row("TSLA").seq == 2
        assert book.update_counter == 5 and book.last_update_ns == 7


def test_rows_written_and_read_as_arrays_agree_with_one_by_one(shm_name):
    """update_rows / read_columns (a universe's round) against update_many / read_rows."""
    import numpy as np
    with SharedPriceBook(SYMS, name=shm_name) as book:
        book.update_many({1: (5.0, 1)}, recv_ns=3)
        assert book.update_rows(np.array([0, 1, 4]), np.array([10.0, 11.0, 20.0]),
                                np.array([3, 1, 2]), recv_ns=7) == 6
        assert book.update_rows(np.array([], dtype=int), np.array([]), np.array([]), 9) == 0
        assert book.read_rows([0, 1, 4]) == [(10.0, 3, 7), (11.0, 2, 7), (20.0, 2, 7)]
        assert book.read_row("GOOG").seq == 0
        prices, seqs, recv = book.read_columns(np.array([4, 0, 1]))
        assert prices.tolist() == [20.0, 10.0, 11.0] and seqs.tolist() == [2, 3, 2]
        assert recv.tolist() == [7, 7, 7]
        assert book.update_counter == 7 and book.last_update_ns == 7


def test_every_write_leaves_the_seqlock_even_and_readers_never_wait(shm_name):
    """Each writer, one row or a batch, makes the write sequence odd and then even again:
    one left odd would make every reader wait a second for it and then read rows that may
    tear. After each write the sequence is even and has moved by 2."""
    import numpy as np

    from engine.shm.segment import H_WSEQ
    with SharedPriceBook(SYMS, name=shm_name) as book, \
            SignalBook(SYMS, name=shm_name + "_s") as sig:
        rows = np.arange(len(SYMS))
        writes = [
            (book, lambda: book.update("AAPL", 1.0)),
            (book, lambda: book.update_many({0: (2.0, 3), 1: (3.0, 1)}, time.perf_counter_ns())),
            (book, lambda: book.update_rows(rows, np.full(5, 4.0), np.ones(5, dtype=np.int64),
                                            time.perf_counter_ns())),
            (book, lambda: book.set_writer(os.getpid())),
            (sig, lambda: sig.publish("AAPL", 1.0, 2.0, 10, time.perf_counter_ns())),
            (sig, lambda: sig.publish_rows(rows, np.ones(5), np.ones(5), np.zeros(5, np.int64),
                                           time.perf_counter_ns())),
            (sig, lambda: sig.set_sentiment(55)),
        ]
        for target, write in writes:
            before = target._h[H_WSEQ]
            write()
            after = target._h[H_WSEQ]
            assert after % 2 == 0 and after == before + 2, (write, before, after)


def test_attach_by_name_sees_symbols_and_prices(shm_name):
    with SharedPriceBook(SYMS, name=shm_name) as book:
        book.update("GOOG", 135.4)
        reader = SharedPriceBook.attach(shm_name)
        assert reader.symbols == SYMS and not reader.owner
        assert reader.read("GOOG") == 135.4
        reader.close()
        assert segment_exists(shm_name)


def test_attach_rejects_wrong_kind(shm_name):
    with SharedPriceBook(SYMS, name=shm_name):
        with pytest.raises(ValueError):
            SignalBook.attach(shm_name)


def test_signal_book(shm_name):
    with SignalBook(SYMS, name=shm_name + "_s") as sig:
        assert sig.sentiment is None
        sig.set_sentiment(73)
        sig.publish("MSFT", 101.5, 100.25, -10, 99)
        other = SignalBook.attach(shm_name + "_s")
        sent, rows = other.read_all()
        assert sent == 73
        assert rows[1]["short_ma"] == 101.5 and rows[1]["position"] == -10
        other.close()
    fp = footprint(SYMS)
    assert fp == {"price_book": 288, "signal_book": HEADER_BYTES + 40 * 5,
                  "total": 288 + HEADER_BYTES + 40 * 5, "per_symbol": 32 + 40}


def test_updates_propagate_to_another_process(shm_name):
    ctx = mp.get_context("spawn")
    lock = ctx.Lock()
    start = ctx.Event()
    with SharedPriceBook(SYMS, name=shm_name, lock=lock) as book:
        p = ctx.Process(target=price_writer, args=(shm_name, lock, 2000, start))
        p.start()
        start.set()
        p.join(30)
        assert p.exitcode == 0
        assert book.read("AAPL") == 2000.0
        assert book.read_row("MSFT").seq == 2000
        assert book.update_counter == 4000


def test_no_torn_rows_with_writer_and_readers_in_separate_processes(shm_name):
    ctx = mp.get_context("spawn")
    lock = ctx.Lock()
    start = ctx.Event()
    q = ctx.Queue()
    n = 300
    with SharedPriceBook(SYMS, name=shm_name, lock=lock) as book:
        w = ctx.Process(target=pausing_writer, args=(shm_name, lock, n, start, 0.002))
        r = ctx.Process(target=reader_check, args=(shm_name, 0.5, q))
        w.start()
        r.start()
        start.set()
        torn_here = reads = 0
        while w.is_alive():  # every read API, every row it returns
            a, m = book.read_row("AAPL"), book.read_row("MSFT")
            torn_here += torn([(a.price, a.seq, a.recv_ns), (a.price, a.seq, a.recv_ns)])
            torn_here += torn([(m.price, m.seq, m.recv_ns), (m.price, m.seq, m.recv_ns)])
            torn_here += torn(book.read_rows([0, 1]))
            snap = book.snapshot()
            torn_here += torn([(snap["price"][i], snap["seq"][i], snap["recv_ns"][i])
                                for i in (0, 1)])
            reads += 1
        torn_there, reads_there = q.get(timeout=60)
        w.join(60)
        r.join(60)
        assert w.exitcode == 0 and r.exitcode == 0
        assert reads > 50 and reads_there > 50  # the readers met the writer mid-write often
        assert torn_here == 0 and torn_there == 0
        assert book.read_row("AAPL").seq == n
        q.close()
        q.join_thread()


def test_reader_exit_neither_unlinks_nor_warns(tmp_path):
    """The resource-tracker pitfall: a reader (separate interpreter, or spawned child sharing
    the owner's tracker) that exits must not unlink the segment or make the tracker complain."""
    name = unique_shm_name()
    script = tmp_path / "owner.py"
    script.write_text(textwrap.dedent(f"""
        import multiprocessing as mp, subprocess, sys
        from engine.shm.price_book import SharedPriceBook
        from engine.shm.segment import segment_exists
        from tests.standins import attach_and_exit
        if __name__ == "__main__":
            book = SharedPriceBook(["AAPL"], name={name!r})
            book.update("AAPL", 1.5)
            p = mp.get_context("spawn").Process(target=attach_and_exit, args=({name!r},))
            p.start(); p.join()
            assert p.exitcode == 0
            # a reader in its own interpreter (as in its own terminal)
            subprocess.run([sys.executable, "-c",
                "from engine.shm.price_book import SharedPriceBook as B;"
                "b = B.attach({name!r}); assert b.read('AAPL') == 1.5; b.close()"], check=True)
            assert segment_exists({name!r}), "a reader unlinked the segment"
            book.close(); book.unlink()
            print("OK")
    """))
    # the checkout on the path of the script and of the reader it starts (as a user's
    # `python -m` from the checkout would have it)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=60, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "OK"
    assert res.stderr == "", f"unexpected warnings: {res.stderr}"
    assert not segment_exists(name)


def test_stale_segment_of_dead_owner_is_replaced(shm_name):
    stale = SharedPriceBook(SYMS, name=shm_name)
    stale._h[8] = 2 ** 22 + 12345  # owner pid that does not exist
    stale.close()  # "crashed": closed without unlink
    book = SharedPriceBook(SYMS, name=shm_name)
    assert book.replaced_stale
    book.close()
    book.unlink()


def test_segment_of_live_owner_is_refused(shm_name):
    with SharedPriceBook(SYMS, name=shm_name):
        import os
        with pytest.raises(StaleSegmentInUse):
            # same pid counts as "ours" (replace), so pretend another live process owns it
            other = SharedPriceBook.attach(shm_name)
            other._h[8] = os.getppid()
            other.close()
            SharedPriceBook(SYMS, name=shm_name)


def test_name_length_limit():
    with pytest.raises(ValueError):
        SharedPriceBook(SYMS, name="x" * 31)


def test_reader_waits_for_a_paused_writer_and_gives_up_on_a_dead_one(shm_name):
    with SharedPriceBook(SYMS, name=shm_name) as book:
        book.update("AAPL", 1.0)
        book._begin()  # a writer mid-write...
        t0 = time.perf_counter()
        assert book.read("AAPL") == 1.0  # ...that never finishes: the reader gives up
        waited = time.perf_counter() - t0
        assert waited >= SharedPriceBook.STUCK_AFTER_S
        t0 = time.perf_counter()
        book.read("AAPL")  # and does not wait for that same dead writer again
        assert time.perf_counter() - t0 < 0.5
        book.set_writer(1)  # a new writer repairs the seqlock
        book.update("AAPL", 2.0)
        assert book.read("AAPL") == 2.0


def test_windows_takes_over_a_stale_segment_another_process_holds_open(shm_name, monkeypatch):
    """Windows cannot unlink: a segment whose owner died lives on while another process (a
    Strategy started by hand) holds it open, and creating it again raised a bare
    FileExistsError. Simulated here: the name is kept, as Windows would keep it."""
    import multiprocessing

    from engine.shm import segment as smu
    monkeypatch.setattr(smu, "UNLINK_REMOVES_NAME", False)
    dead = multiprocessing.get_context("spawn").Process(target=int)
    dead.start()
    dead.join()
    held = SharedPriceBook(["AAPL", "MSFT"], name=shm_name)  # what the other process holds
    held._h[smu.H_OWNER] = dead.pid
    new = SharedPriceBook(["AAPL", "MSFT"], name=shm_name)  # same layout: taken over
    try:
        assert new.replaced_stale and new.owner
        new.update("MSFT", 321.5)
        assert held.read("MSFT") == 321.5  # the old reader sees the new owner's writes
        held._h[smu.H_OWNER] = dead.pid
        with pytest.raises(smu.StaleSegmentInUse) as exc:  # other symbols: a clear refusal
            SharedPriceBook(["AAPL", "GOOG"], name=shm_name)
        assert "still holds it open" in str(exc.value)
    finally:
        held.close()
        new.close()
        new.unlink()


def test_a_book_this_process_still_holds_is_never_replaced(shm_name):
    """A second book of the same name in the same process (a second controller by mistake)
    must not unlink the first one's segment from under it and its readers."""
    with SharedPriceBook(SYMS, name=shm_name) as first:
        with pytest.raises(StaleSegmentInUse):
            SharedPriceBook(SYMS, name=shm_name)
        reader = SharedPriceBook.attach(shm_name)
        assert reader.created_ns == first.created_ns
        reader.close()
