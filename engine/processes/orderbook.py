"""OrderBook: reads the Gateway's price stream and keeps the latest price of every symbol in
shared memory (SharedPriceBook): the assignment's OrderBook, whose book is a price book (the
latest price a symbol), not a book of orders. Its core is PriceIngest (engine.trading.ingest);
this is the socket and the book around it. Reconnects by itself when the Gateway goes away.

    python -m engine.orderbook [--price-port 5001] [--shm-name NAME]

Under the launcher it attaches to the segment the launcher owns; alone, it attaches to an
existing segment of that name or creates (and at exit unlinks) its own.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from typing import Optional

from engine.config.schema import Config
from engine.measure.stats import Stats
from engine.net import tls
from engine.net.client import ConnectionClosed, Outage, connect, recv_some
from engine.net.doorbell import Ringer
from engine.shm.price_book import SharedPriceBook
from engine.shm.segment import StaleSegmentInUse
from engine.trading.ingest import PriceIngest

from .reports import Reporter
from .shell import fatal, process_main


def open_book(config: Config, lock, log: logging.Logger) -> SharedPriceBook:
    """Attach to the launcher's segment, or create our own when running alone."""
    try:
        book = SharedPriceBook.attach(config.shm_name, lock=lock)
    except FileNotFoundError:
        book = SharedPriceBook(config.symbols, name=config.shm_name, lock=lock)
        log.info("created shared price book %r (%d bytes)%s", book.name, book.nbytes,
                 ": replaced a stale segment left by a crashed run" if book.replaced_stale
                 else "")
        return book
    missing = [s for s in config.symbols if s not in book.index]
    if missing:
        book.close()
        raise ValueError(f"shared price book {config.shm_name!r} has no row for {missing}; "
                         f"it was made for {list(book.symbols)}")
    log.info("attached to shared price book %r (%d bytes, %d symbols)", book.name,
             book.nbytes, len(book.symbols))
    return book


DRAIN_LIMIT_S = 0.5


def drain(sock: socket.socket, ingest: PriceIngest, limit_s: float = DRAIN_LIMIT_S) -> None:
    """Apply what the Gateway sent before it stopped (the launcher stops the Gateway first):
    until the socket is quiet for 50 ms or closed, and never longer than `limit_s`, since a
    Gateway that still runs (each process in its own terminal) would keep it busy for ever."""
    sock.settimeout(0.05)
    end = time.monotonic() + limit_s
    try:
        while time.monotonic() < end:
            data = recv_some(sock)
            if not data:
                return
            ingest.feed(data, time.perf_counter_ns())
    except ConnectionClosed:
        pass


def run_orderbook(config: Config, stop_event, reporter: Optional[Reporter] = None,
                  lock=None) -> None:
    reporter = reporter or Reporter(None, "orderbook")
    log = logging.getLogger(reporter.name)  # its name in the stack: its log's
    try:
        tls.for_client(config)  # a CA file that cannot be used: said now, in one line
        book = open_book(config, lock, log)
    except (ValueError, StaleSegmentInUse) as exc:
        fatal(log, str(exc))
    book.set_writer(os.getpid())
    ingest = PriceIngest(book, config.symbols, log, config.max_frame, strict=config.strict_wire,
                         peer=f"the gateway at {config.host}:{config.price_port}")
    outage = Outage(log, f"gateway prices at {config.host}:{config.price_port}")
    reporter.running(shm=book.name, shm_bytes=book.nbytes)

    def stats():
        return Stats(ticks_applied=ingest.applied, bad_frames=ingest.rejections.total,
                     rejection_reasons=dict(ingest.rejections.by_reason),
                     wire_variants=dict(ingest.variants.by_name),
                     reconnects=max(outage.outages - (0 if outage.ever_connected else 1), 0),
                     connected=outage.up, shm_bytes=book.nbytes,
                     links={"prices": outage.link(ingest.applied, bytes=received[0],
                                                  rejected=ingest.rejections.total),
                            "shm_write": {"frames": ingest.applied}})

    sock: Optional[socket.socket] = None
    ringer = Ringer()
    received = [0]  # bytes from the Gateway, over every connection
    try:
        while not stop_event.is_set():
            if sock is None:
                sock = connect(config.connect_host, config.price_port, stop_event, outage,
                               auth_token=config.auth_token, tls=tls.for_client(config),
                               while_waiting=lambda: reporter.maybe(stats))
                if sock is None:
                    break
                sock.settimeout(0.1)
                ingest.reset()
            try:
                data = recv_some(sock)
                if data:
                    received[0] += len(data)
            except ConnectionClosed as exc:
                sock.close()
                sock = None
                outage.lost(str(exc))
                reporter.send(stats())
                continue
            if data and outage.down_since is not None:
                outage.confirmed()
            if data and ingest.feed(data, time.perf_counter_ns()):
                ringer.ring(book.doorbell_ports())  # wake the readers waiting for prices
            reporter.maybe(stats)
        if sock is not None:  # drain what the Gateway sent before it stopped
            drain(sock, ingest)
    finally:
        if sock is not None:
            sock.close()
        ringer.close()
        final = stats()
        book.set_writer(0)
        owner = book.owner
        book.close()
        if owner:
            book.unlink()
        reporter.send(final)
        log.info("orderbook stopping: %d ticks applied, %d bad frames rejected",
                 final.ticks_applied, final.bad_frames)


main = process_main("orderbook", run_orderbook,
                    "OrderBook: Gateway prices into shared memory (Ctrl+C stops it).")
