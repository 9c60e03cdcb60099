"""Exceptions at the edge of a C++ virtual (paint, eventFilter, a model's data()) must not
escape into Qt, which cannot unwind through them; they must not vanish either. `guarded`
reports each distinct error once on stderr with its traceback (then only counts it, so a
paint that fails 30 times a second does not flood the log) and returns a default."""
from __future__ import annotations

import sys
import traceback
from collections import Counter
from typing import Callable, TypeVar

T = TypeVar("T")
MAX_DISTINCT = 50  # distinct (where, error) pairs printed; after that only counted

counts: Counter = Counter()  # where -> errors caught there (the tests read it)
_printed: set = set()


def report(where: str, exc: BaseException) -> None:
    counts[where] += 1
    key = (where, type(exc).__name__, str(exc))
    if key in _printed or len(_printed) >= MAX_DISTINCT:
        return
    _printed.add(key)
    print(f"desk: error in {where} (shown once; later ones only counted):", file=sys.stderr)
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)


def guarded(where: str, fn: Callable[..., T], *args, default=None) -> T:
    try:
        return fn(*args)
    except Exception as exc:  # reported and counted, see report()
        report(where, exc)
        return default
