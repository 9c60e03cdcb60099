"""Gateway: streams prices (one geometric random walk per symbol, or a CSV replay) and news
sentiment to any number of TCP clients, as `*`-delimited text frames.

    python -m engine.gateway [--price-port 5001] [--news-port 5002] [--prices-csv FILE]
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Optional

import numpy as np

from engine.config.schema import Config
from engine.measure.stats import Stats
from engine.net.loop import EventLoop
from engine.net.ports import PortInUse
from engine.net.server import Server, open_servers, shed_totals
from engine.protocol import Sentiment
from engine.trading.market import CsvReplay, RandomWalk, sigma_per_round

from .reports import Reporter
from .shell import ServerProcess, fatal, process_main, server_tls

BATCH_BYTES = 64 * 1024  # about this much per send when the tick interval is 0
FLOOD_BACKLOG = 256 * 1024  # ... and no more while a client's backlog is larger
# Where the walk is, in the log folder (the session's): a Gateway restarted within a session
# goes on from the last prices instead of jumping back to the start prices.
WALK_FILE = "gateway_walk.json"
WALK_SAVE_S = 1.0


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
                         else RandomWalk(cfg.symbols, cfg.seed, sigma_per_round(
                             cfg.volatility, cfg.tick_interval)))
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
                     **shed_totals(prices, news),
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
