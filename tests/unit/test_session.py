"""Sessions: a folder a launch, named by its start, the newest one easy to find."""
import json
import os
import time

from engine.records.sessions import LATEST, latest_session, start_session, write_summary


def test_each_launch_gets_a_folder_and_latest_points_at_the_newest(tmp_path):
    now = time.mktime((2026, 11, 23, 14, 5, 12, 0, 0, -1))
    first = start_session(tmp_path / "logs", now)
    again = start_session(tmp_path / "logs", now)  # the same second: a suffix
    assert first.name == "2026-11-23_14-05-12" and again.name == "2026-11-23_14-05-12-2"
    assert first.is_dir() and again.is_dir()
    assert latest_session(tmp_path / "logs") == again
    assert (tmp_path / "logs" / "latest.txt").read_text(encoding="utf-8") == again.name + "\n"
    link = tmp_path / "logs" / LATEST
    if link.is_symlink():  # where the platform lets us link (Windows may not)
        assert os.readlink(link) == again.name and link.resolve() == again.resolve()
    path = write_summary(again, {"orders_logged": 3})
    assert json.loads(path.read_text(encoding="utf-8")) == {"orders_logged": 3}
    assert latest_session(tmp_path / "nowhere") is None


def test_a_real_folder_named_latest_is_left_alone(tmp_path):
    (tmp_path / LATEST).mkdir()
    (tmp_path / LATEST / "mine.txt").write_text("x", encoding="utf-8")
    folder = start_session(tmp_path)
    assert (tmp_path / LATEST / "mine.txt").exists() and latest_session(tmp_path) == folder


def test_a_walk_goes_on_from_its_saved_state_and_only_for_its_own_symbols():
    """What a restarted Gateway does within a session: the same prices and the same next
    rounds as if it had never stopped (the state survives JSON); another universe's state
    is refused."""
    from engine.trading.market import RandomWalk
    walk = RandomWalk(["AAPL", "MSFT"], seed=3)
    for _ in range(7):
        walk.next_round()
    saved = json.loads(json.dumps(walk.state()))
    expected = [walk.next_round() for _ in range(3)]
    again = RandomWalk(["AAPL", "MSFT"], seed=None)
    assert again.resume(saved)
    assert [again.next_round() for _ in range(3)] == expected
    assert not RandomWalk(["AAPL"], seed=1).resume(saved)
