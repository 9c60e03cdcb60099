"""Where the Gateway's prices come from (engine.trading.market): a CSV replay plays every
round of its file, the last one too, in order, and only then starts again; the random walk
moves as a market does."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from engine.trading.market import CsvReplay


def test_a_replay_plays_every_round_then_starts_again(tmp_path, caplog):
    csv = tmp_path / "prices.csv"
    csv.write_text("timestamp,symbol,price\n"
                   "1,AAPL,100.00\n1,MSFT,200.00\n"
                   "2,AAPL,101.00\n"
                   "3,AAPL,102.00\n3,MSFT,201.50\n", encoding="utf-8")
    replay = CsvReplay(str(csv), ["AAPL", "MSFT"], logging.getLogger("replay"))
    with caplog.at_level(logging.INFO, logger="replay"):
        played = [replay.next_round() for _ in range(4)]
    assert [d for d, _ in played] == [b"AAPL,100.00*MSFT,200.00*", b"AAPL,101.00*",
                                      b"AAPL,102.00*MSFT,201.50*", b"AAPL,100.00*MSFT,200.00*"]
    assert [n for _, n in played] == [2, 1, 2, 2]
    assert sum("reached the end" in r.getMessage() for r in caplog.records) == 1
    data, ticks = replay.next_batch(3)  # a batch runs on from where the replay is
    assert data == b"AAPL,101.00*AAPL,102.00*MSFT,201.50*AAPL,100.00*MSFT,200.00*"
    assert ticks == 5


def test_the_walk_moves_a_few_tenths_of_a_percent_a_minute_by_default():
    """AAPL +9 % in three minutes, +-5 % a minute typical, is no market (issue 26, point 11):
    by default a minute's change deviates by 0.3 %, at any tick interval."""
    from engine.config.schema import Config
    from engine.trading.market import RandomWalk, sigma_per_round
    cfg = Config()
    assert cfg.volatility == 0.3
    for interval in (0.1, 0.02, 1.0):
        walk = RandomWalk([f"S{i}" for i in range(400)], seed=3,
                          sigma=sigma_per_round(cfg.volatility, interval))
        start = walk.prices.copy()
        rounds = int(round(60 / interval))
        walk.next_batch(rounds)
        minute = np.log(walk.prices / start) * 100  # % a minute, 400 symbols
        assert 0.25 < minute.std() < 0.35, (interval, minute.std())
    with pytest.raises(ValueError):
        Config(volatility=0)
