"""Gateway: streams prices (one geometric random walk per symbol, or a CSV replay) and news
sentiment to any number of TCP clients, as `*`-delimited text frames.

    python -m engine.gateway [--price-port 5001] [--news-port 5002] [--prices-csv FILE]
"""
from __future__ import annotations

import csv
import json
import logging
import math
import os
import time
import zlib
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .config import Config
from .net import EventLoop, PortInUse, Server, open_servers, shedding
from .protocol import Sentiment, encode_price_rounds, to_cents
from .runtime import Reporter, ServerProcess, fatal, process_main, server_tls
from .stats import Stats

START_PRICES = {"AAPL": 172.50, "MSFT": 325.20, "GOOG": 135.40, "AMZN": 145.80,
                "TSLA": 242.10, "NVDA": 480.00, "META": 310.00, "NFLX": 440.00}
MIN_PRICE = 0.01


def start_price(symbol: str) -> float:
    """A known symbol's usual price, else one between $10 and $500 drawn from its name (the
    same every run), so a generated universe does not start as 500 lines at $100."""
    if symbol in START_PRICES:
        return START_PRICES[symbol]
    u = zlib.crc32(symbol.encode("ascii")) / 2**32
    return round(10.0 * 50.0 ** u, 2)

BATCH_BYTES = 64 * 1024  # about this much per send when the tick interval is 0
FLOOD_BACKLOG = 256 * 1024  # ... and no more while a client's backlog is larger
# Where the walk is, in the log folder (the session's): a Gateway restarted within a session
# goes on from the last prices instead of jumping back to the start prices.
WALK_FILE = "gateway_walk.json"
WALK_SAVE_S = 1.0


class RandomWalk:
    """One geometric random walk per symbol; each round moves every symbol once."""

    def __init__(self, symbols: Sequence[str], seed: Optional[int] = None, sigma: float = 0.0015):
        self.symbols = tuple(symbols)
        self.rng = np.random.default_rng(seed)
        self.sigma = sigma
        self.prices = np.array([start_price(s) for s in self.symbols])

    def _encode(self, path: np.ndarray) -> bytes:
        """Rounds of prices (rows) as frames, in whole cents (the one price encoder)."""
        return encode_price_rounds(self.symbols,
                                   np.maximum(np.rint(path * 100), 1).astype(np.int64))

    def state(self) -> dict:
        """Where the walk is: each symbol's price and the generator's state (JSON-able)."""
        return {"symbols": list(self.symbols), "prices": self.prices.tolist(),
                "rng": self.rng.bit_generator.state}

    def resume(self, state: dict) -> bool:
        """Go on from `state` (a walk of the same symbols); False when it does not fit."""
        if state.get("symbols") != list(self.symbols) or \
                len(state.get("prices") or ()) != len(self.symbols):
            return False
        self.prices = np.array(state["prices"], dtype=np.float64)
        self.rng.bit_generator.state = state["rng"]
        return True

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


class Gateway(ServerProcess):
    """One run of the Gateway: its price and news servers, its feed (a random walk or a
    replay) and the loop that paces them."""
    name = "gateway"

    def __init__(self, config: Config, stop_event, reporter: Optional[Reporter] = None):
        super().__init__(config, stop_event, reporter)
        self.rng = np.random.default_rng(None if config.seed is None else config.seed + 1)
        self.latest_news: Optional[int] = None
        self.ticks_sent = self.news_sent = self.rounds = 0
        self.interval = config.tick_interval
        self.batch_rounds = max(1, BATCH_BYTES // (12 * len(config.symbols)))  # ~12 B a frame
        self.next_tick = self.next_news = time.perf_counter()

    def _step(self) -> float:
        now = time.perf_counter()
        self._prices(now)
        if now >= self.next_news:
            self._news(now)
        if now >= self.next_save:
            self._save_walk()
        return self._timeout()

    def _open(self) -> None:
        cfg, log = self.config, self.log
        context = server_tls(cfg, log)
        self.loop = EventLoop()
        try:
            self.prices, self.news = open_servers(
                self.loop, log, cfg.bind_host,
                [(cfg.price_port, "prices", {}),
                 (cfg.news_port, "news", {"on_connect": self._greet_news})],
                max_frame=cfg.max_frame, out_cap=cfg.client_buffer_cap,
                auth_token=cfg.auth_token, max_clients=cfg.max_clients, tls=context)
        except PortInUse as exc:
            self.loop.close()
            fatal(log, str(exc))
        try:
            self.feed = (CsvReplay(cfg.prices_csv, cfg.symbols, log) if cfg.prices_csv
                         else RandomWalk(cfg.symbols, cfg.seed))
        except (OSError, ValueError) as exc:
            self._close_servers()
            fatal(log, f"cannot replay prices: {exc}")
        self._resume_walk()
        self.reporter.running(price_port=self.prices.port, news_port=self.news.port)

    def _close_servers(self) -> None:
        self.prices.close()
        self.news.close()
        self.loop.close()

    def _walk_path(self) -> Path:
        return Path(self.config.log_dir) / WALK_FILE

    def _resume_walk(self) -> None:
        self.next_save = time.perf_counter() + WALK_SAVE_S
        if not isinstance(self.feed, RandomWalk):
            return
        try:
            state = json.loads(self._walk_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # a session's first Gateway: the walk starts at the start prices
        if self.feed.resume(state):
            self.log.info("going on with the session's walk from its last prices (%s)",
                          self._walk_path())

    def _save_walk(self) -> None:
        """Write where the walk is (atomically: a kill mid-write leaves the last good one)."""
        self.next_save = time.perf_counter() + WALK_SAVE_S
        if not isinstance(self.feed, RandomWalk):
            return
        path = self._walk_path()
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(self.feed.state()), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            self.log.warning("could not save the walk's state: %s", exc)

    def _close(self) -> None:
        self._save_walk()
        self._close_servers()
        final = self.stats()
        self.reporter.send(final)
        self.log.info("gateway stopping: %d ticks and %d news sent, %d slow clients dropped",
                      self.ticks_sent, self.news_sent, final.dropped_slow)

    def _greet_news(self, server: Server, peer) -> None:
        if self.latest_news is not None:  # a new client learns the current sentiment at once
            server.send(peer, Sentiment(self.latest_news).encode())

    def _flooding(self) -> bool:
        """Tick interval 0: generate while every client keeps up."""
        return (self.interval == 0 and self.prices.client_count > 0
                and self.prices.max_backlog() < FLOOD_BACKLOG)

    def _prices(self, now: float) -> None:
        if self.interval == 0:
            if self._flooding():  # a big batch at a time: one NumPy draw, encode and send
                self._send(*self.feed.next_batch(self.batch_rounds), self.batch_rounds)
        elif not self.prices.client_count:
            # nobody listens: hold the feed (a replay starts at its first row for the first
            # client) instead of generating ticks that reach no one
            self.next_tick = now + self.interval
        elif now >= self.next_tick:
            self._send(*self.feed.next_round(), 1)
            self.next_tick += self.interval
            if self.next_tick < now - self.interval:  # fell far behind (machine paused)
                self.next_tick = now + self.interval

    def _send(self, data: bytes, ticks: int, rounds: int) -> None:
        if self.prices.broadcast(data):
            self.ticks_sent += ticks
        self.rounds += rounds

    def _news(self, now: float) -> None:
        self.latest_news = int(self.rng.integers(0, 101))
        if self.news.broadcast(Sentiment(self.latest_news).encode()):
            self.news_sent += 1
        self.next_news += self.config.news_interval
        if self.next_news < now:
            self.next_news = now + self.config.news_interval

    def _timeout(self) -> float:
        if self._flooding():
            return 0.0
        wake = min(self.next_news, self.next_tick if self.interval else self.next_news)
        return min(max(wake - time.perf_counter(), 0.0), 0.1)

    def stats(self) -> Stats:
        prices, news = self.prices, self.news
        return Stats(ticks_sent=self.ticks_sent, news_sent=self.news_sent, rounds=self.rounds,
                     price_clients=prices.client_count, news_clients=news.client_count,
                     dropped_slow=prices.dropped_slow + news.dropped_slow,
                     refused_auth=prices.refused_auth + news.refused_auth,
                     **shedding(prices, news),
                     max_backlog=max(prices.max_backlog(), news.max_backlog()),
                     peak_backlog=max(prices.peak_backlog, news.peak_backlog),
                     links={"prices": {"frames": self.ticks_sent, "bytes": prices.bytes_out,
                                       "clients": prices.client_count},
                            "news": {"frames": self.news_sent, "bytes": news.bytes_out,
                                     "clients": news.client_count}})


def run_gateway(config: Config, stop_event, reporter: Optional[Reporter] = None) -> None:
    """The process target (picklable by name for `spawn`)."""
    Gateway(config, stop_event, reporter).run()


main = process_main("gateway", run_gateway,
                    "Gateway: price and news TCP servers (Ctrl+C stops it).")


if __name__ == "__main__":
    raise SystemExit(main())
