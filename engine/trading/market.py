"""Where the Gateway's prices come from: one geometric random walk per symbol, or a CSV
replay. Each gives rounds of `*`-delimited price frames (engine.protocol's one encoder) and
knows nothing of sockets."""
from __future__ import annotations

import csv
import logging
import math
import zlib
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from engine.protocol import encode_price_rounds, to_cents

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


MIN_INTERVAL_S = 0.001  # a tick interval of 0 (as fast as possible) counts as this


def sigma_per_round(volatility_pct_per_min: float, tick_interval: float) -> float:
    """A round's log-return deviation for a walk whose changes over a minute deviate by
    `volatility_pct_per_min` percent: sigma * sqrt(rounds a minute) = the minute's."""
    rounds_a_minute = 60.0 / max(tick_interval, MIN_INTERVAL_S)
    return volatility_pct_per_min / 100.0 / math.sqrt(rounds_a_minute)


class RandomWalk:
    """One geometric random walk per symbol; each round moves every symbol once, by
    `sigma` (a round's deviation: sigma_per_round of the stack's --volatility; by default
    0.3 % a minute at a tick every 0.1 s)."""

    def __init__(self, symbols: Sequence[str], seed: Optional[int] = None,
                 sigma: Optional[float] = None):
        if sigma is None:
            sigma = sigma_per_round(0.3, 0.1)
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

