"""PriceIngest: the OrderBook's core. Price frames in, validated, applied to the price book
a chunk at a time; no socket."""
from __future__ import annotations

import logging
from functools import partial

from engine.measure.rejections import Rejections, Variants, reason_of
from engine.protocol import FrameDecoder, PriceScanner, RemoteProtocolError, parse_price
from engine.protocol.variants import PRICE_EXPECTED, read_price_variant
from engine.shm.price_book import SharedPriceBook


class PriceIngest:
    """Decodes price frames, validates each, and applies every chunk to the book as one batch.
    Sans-socket, so tests and the benchmark drive it with plain bytes.

    A chunk is handled whole: FrameDecoder.feed_block cuts it at the last delimiter and
    PriceScanner validates all its frames at once (NumPy for big chunks), reducing them to the
    latest price and tick count of each symbol for one update_many().

    A frame the scanner refuses may be in another team's shape (a third field, JSON:
    engine.protocol.variants): unless `strict`, it is read as such, counted in `variants`, and
    its ticks applied after the chunk's others (a chunk gives the latest price of a symbol:
    only a chunk mixing both shapes for one symbol could see an older one win)."""

    def __init__(self, book: SharedPriceBook, symbols, log: logging.Logger, max_frame: int,
                 strict: bool = False, peer: str = "the gateway"):
        self.book = book
        self.log = log
        self.decoder = FrameDecoder(max_frame)
        # symbol bytes -> row index, only for the configured symbols
        self.rows = {s.encode("ascii"): book.index[s] for s in symbols}
        self.scanner = PriceScanner(self.rows, max_frame)
        self.rejections = Rejections(log, "price frame")
        self.variants = Variants(log, "prices")
        self.strict, self.peer = strict, peer
        self.applied = 0
        self._oversize_seen = 0

    def reset(self) -> None:
        """A new connection: a partial frame of the old one is lost (and counted)."""
        if self.decoder.eof_partial():
            self.rejections.reject("partial frame at disconnect")
        self.decoder = FrameDecoder(self.decoder.max_frame)
        self._oversize_seen = 0

    def feed(self, data: bytes, recv_ns: int) -> int:
        block = self.decoder.feed_block(data)
        if self.scanner.is_small(block):  # a round of a handful of symbols: a dict
            latest, rejected, oversize = self.scanner.scan(block) if block else ({}, (), 0)
            apply = partial(self.book.update_many, latest)
        else:  # a universe, or a full-speed chunk: arrays, no Python step per symbol
            rows, prices, ticks, rejected, oversize = self.scanner.scan_arrays(block)
            apply = partial(self.book.update_rows, rows, prices, ticks)
        oversize += self.decoder.oversize - self._oversize_seen
        self._oversize_seen = self.decoder.oversize
        for _ in range(oversize):
            self.rejections.reject("frame over the size cap",
                                   f"more than {self.decoder.max_frame} bytes")
        late = {}
        for f in rejected:
            self._reject(f, late)
        n = apply(recv_ns)
        if late:
            n += self.book.update_many(late, recv_ns)
        self.applied += n
        return n

    def _reject(self, frame: bytes, late: dict) -> None:
        """Refuse a frame, or read it in another team's shape into `late`
        ({row: (price, ticks)})."""
        try:
            sym, _ = parse_price(frame)
        except RemoteProtocolError as exc:
            if not self.strict and self._variant(frame, late):
                return
            self.rejections.reject(reason_of(exc), f"{exc} ({PRICE_EXPECTED})")
            return
        self.rejections.reject("unknown symbol", repr(sym))

    def _variant(self, frame: bytes, late: dict) -> bool:
        try:
            name, ticks = read_price_variant(frame)
        except RemoteProtocolError:
            return False
        known = []
        for sym, price in ticks:
            row = self.rows.get(sym.encode("ascii"))
            if row is None:
                self.rejections.reject("unknown symbol", repr(sym))
            else:
                known.append((row, price))
        if not known:
            return True
        for r, p in known:
            _, n = late.get(r, (0.0, 0))
            late[r] = (p, n + 1)
        self.variants.accept(name, self.peer, len(known))
        return True

