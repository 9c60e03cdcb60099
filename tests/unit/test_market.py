"""Where the Gateway's prices come from (engine.trading.market): a CSV replay plays every
round of its file, the last one too, in order, and only then starts again."""
from __future__ import annotations

import logging

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
