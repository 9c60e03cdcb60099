"""Gateway: streams prices (one geometric random walk per symbol, or a CSV replay) and news
sentiment to any number of TCP clients, as `*`-delimited text frames.

    python -m engine.gateway [--price-port 5001] [--news-port 5002] [--prices-csv FILE]
"""
from __future__ import annotations

import csv
import logging
import math
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .config import Config
from .net import EventLoop, PortInUse, Server
from .protocol import Sentiment, encode_price_rounds, to_cents
from .runtime import Reporter, fatal, standalone_main
from .stats import Stats

START_PRICES = {"AAPL": 172.50, "MSFT": 325.20, "GOOG": 135.40, "AMZN": 145.80,
                "TSLA": 242.10, "NVDA": 480.00, "META": 310.00, "NFLX": 440.00}
MIN_PRICE = 0.01
BATCH_BYTES = 64 * 1024  # about this much per send when the tick interval is 0


class RandomWalk:
    """One geometric random walk per symbol; each round moves every symbol once."""

    def __init__(self, symbols: Sequence[str], seed: Optional[int] = None, sigma: float = 0.0015):
        self.symbols = tuple(symbols)
        self.rng = np.random.default_rng(seed)
        self.sigma = sigma
        self.prices = np.array([START_PRICES.get(s, 100.0) for s in self.symbols])

    def _encode(self, path: np.ndarray) -> bytes:
        """Rounds of prices (rows) as frames, in whole cents (the one price encoder)."""
        return encode_price_rounds(self.symbols,
                                   np.maximum(np.rint(path * 100), 1).astype(np.int64))

    def next_round(self) -> Tuple[bytes, int]:
        """The next tick of every symbol, encoded; returns (frames, count)."""
        z = self.rng.standard_normal(len(self.symbols))
        self.prices *= np.exp(self.sigma * z - 0.5 * self.sigma ** 2)
        np.maximum(self.prices, MIN_PRICE, out=self.prices)
        return self._encode(self.prices[None, :]), len(self.symbols)

    def next_batch(self, rounds: int) -> Tuple[bytes, int]:
        """`rounds` rounds at once (tick interval 0): the walk drawn for the whole batch with
        one cumulative sum and encoded in one go; returns (frames, count)."""
        steps = self.sigma * self.rng.standard_normal((rounds, len(self.symbols))) \
            - 0.5 * self.sigma ** 2
        path = self.prices * np.exp(np.cumsum(steps, axis=0))
        if path.min() < MIN_PRICE:  # the floor bends the walk: step round by round
            p = self.prices.copy()
            for r in range(rounds):
                p = np.maximum(p * np.exp(steps[r]), MIN_PRICE)
                path[r] = p
        self.prices = path[-1].copy()
        return self._encode(path), path.size


class CsvReplay:
    """Replays `timestamp,symbol,price` rows; rows with the same timestamp form one round.
    Loops at the end. Rows of symbols not configured, or with bad prices, are skipped."""

    def __init__(self, path: str, symbols: Sequence[str], log: logging.Logger):
        self.rounds: List[Tuple[bytes, int]] = []
        wanted = set(symbols)
        skipped = 0
        groups: Dict[str, List[Tuple[str, int]]] = {}
        order: List[str] = []
        with Path(path).open(newline="", encoding="utf-8-sig") as fh:  # Excel adds a BOM
            for row in csv.reader(fh):
                if len(row) < 3 or row[0].strip().lower() == "timestamp":
                    continue
                ts, sym, price = row[0].strip(), row[1].strip().upper(), row[2].strip()
                try:
                    value = float(price)
                except ValueError:
                    skipped += 1
                    continue
                if sym not in wanted or not math.isfinite(value) or to_cents(value) < 1:
                    skipped += 1
                    continue
                if ts not in groups:
                    groups[ts] = []
                    order.append(ts)
                groups[ts].append((sym, to_cents(value)))
        for ts in order:
            syms, cents = zip(*groups[ts])
            self.rounds.append((encode_price_rounds(syms, [cents]), len(syms)))
        if not self.rounds:
            raise ValueError(f"{path}: no usable timestamp,symbol,price rows for {sorted(wanted)}")
        log.info("replaying %d rounds (%d ticks) from %s%s", len(self.rounds),
                 sum(n for _, n in self.rounds), path,
                 f"; skipped {skipped} rows" if skipped else "")
        self._i = 0
        self.log = log

    def next_batch(self, rounds: int) -> Tuple[bytes, int]:
        parts = [self.next_round() for _ in range(rounds)]
        return b"".join(d for d, _ in parts), sum(n for _, n in parts)

    def next_round(self) -> Tuple[bytes, int]:
        r = self.rounds[self._i]
        self._i += 1
        if self._i == len(self.rounds):
            self._i = 0
            self.log.info("CSV replay reached the end; starting again")
        return r


def run_gateway(config: Config, stop_event, reporter: Optional[Reporter] = None) -> None:
    log = logging.getLogger("gateway")
    reporter = reporter or Reporter(None, "gateway")
    loop = EventLoop()
    rng = np.random.default_rng(None if config.seed is None else config.seed + 1)
    latest_news: List[int] = []

    def greet_news(server: Server, peer) -> None:
        if latest_news:  # a new client learns the current sentiment at once
            server.send(peer, Sentiment(latest_news[0]).encode())

    common = dict(max_frame=config.max_frame, out_cap=config.client_buffer_cap,
                  auth_token=config.auth_token)
    prices = None
    try:
        prices = Server(loop, config.bind_host, config.price_port, "prices", log, **common)
        news = Server(loop, config.bind_host, config.news_port, "news", log,
                      on_connect=greet_news, **common)
    except PortInUse as exc:
        if prices is not None:
            prices.close()
        loop.close()
        fatal(log, str(exc))
    try:
        feed = (CsvReplay(config.prices_csv, config.symbols, log) if config.prices_csv
                else RandomWalk(config.symbols, config.seed))
    except (OSError, ValueError) as exc:
        prices.close(); news.close(); loop.close()
        fatal(log, f"cannot replay prices: {exc}")
    reporter.running(price_port=prices.port, news_port=news.port)

    ticks_sent = news_sent = rounds = 0
    interval = config.tick_interval
    batch_rounds = max(1, BATCH_BYTES // (12 * len(config.symbols)))  # ~12 bytes a frame
    now = time.perf_counter()
    next_tick = now
    next_news = now

    def stats():
        return Stats(ticks_sent=ticks_sent, news_sent=news_sent, rounds=rounds,
                     price_clients=prices.client_count, news_clients=news.client_count,
                     dropped_slow=prices.dropped_slow + news.dropped_slow,
                     refused_auth=prices.refused_auth + news.refused_auth,
                     max_backlog=max(prices.max_backlog(), news.max_backlog()),
                     peak_backlog=max(prices.peak_backlog, news.peak_backlog))

    try:
        while not stop_event.is_set():
            now = time.perf_counter()
            if interval == 0:
                # as fast as the clients read: generate while every client keeps up, a big
                # batch at a time (one NumPy draw, one encode, one send)
                if prices.client_count and prices.max_backlog() < 256 * 1024:
                    data, n = feed.next_batch(batch_rounds)
                    if prices.broadcast(data):
                        ticks_sent += n
                    rounds += batch_rounds
            elif not prices.client_count:
                # nobody listens: hold the feed (a replay starts at its first row for the
                # first client) instead of generating ticks that reach no one
                next_tick = now + interval
            elif now >= next_tick:
                data, n = feed.next_round()
                rounds += 1
                if prices.broadcast(data):
                    ticks_sent += n
                next_tick += interval
                if next_tick < now - interval:  # fell far behind (machine paused): resync
                    next_tick = now + interval
            if now >= next_news:
                value = int(rng.integers(0, 101))
                latest_news[:] = [value]
                if news.broadcast(Sentiment(value).encode()):
                    news_sent += 1
                next_news += config.news_interval
                if next_news < now:
                    next_news = now + config.news_interval
            if interval == 0 and prices.client_count and prices.max_backlog() < 256 * 1024:
                timeout = 0.0
            else:
                wake = min(next_news, next_tick if interval else next_news)
                timeout = min(max(wake - time.perf_counter(), 0.0), 0.1)
            loop.poll(timeout)
            reporter.maybe(stats)
    finally:
        prices.close()
        news.close()
        loop.close()
        final = stats()
        reporter.send(final)
        log.info("gateway stopping: %d ticks and %d news sent, %d slow clients dropped",
                 ticks_sent, news_sent, final.dropped_slow)


def main(argv=None) -> int:
    return standalone_main("gateway", run_gateway,
                           "Gateway: price and news TCP servers (Ctrl+C stops it).", argv)


if __name__ == "__main__":
    raise SystemExit(main())
