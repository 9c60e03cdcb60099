"""Errors at a C++ virtual's edge are reported once with their traceback, then counted:
never raised into Qt, never silently dropped."""
from gui.views import guard


def boom(n):
    raise ValueError(f"bad {n}")


def test_guarded_reports_once_then_counts(capsys):
    where = "test paint"
    before = guard.counts[where]
    assert guard.guarded(where, boom, 1, default="x") == "x"
    assert guard.guarded(where, boom, 1, default="x") == "x"
    err = capsys.readouterr().err
    assert err.count("error in test paint") == 1
    assert "ValueError: bad 1" in err
    assert guard.counts[where] - before == 2
    guard.guarded(where, boom, 2)  # a different error is shown too
    assert "ValueError: bad 2" in capsys.readouterr().err


def test_guarded_returns_the_result():
    assert guard.guarded("test ok", lambda a, b: a + b, 2, 3) == 5
