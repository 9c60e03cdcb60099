"""Checks of single values every message shares. `err` is the error to raise: a
LocalProtocolError where we build a message (our bug), a RemoteProtocolError where a peer's
frame is read."""
from __future__ import annotations

import math

from engine.config.schema import SYMBOL_RE

from .errors import LocalProtocolError, RemoteProtocolError


def check_symbol(value, err=RemoteProtocolError) -> str:
    if not isinstance(value, str) or not SYMBOL_RE.match(value):
        raise err(f"bad symbol: {value!r}")
    return value


def finite_positive(value, what: str, err=RemoteProtocolError) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise err(f"{what} is not a number: {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise err(f"{what} must be finite and positive: {value!r}")
    return value


__all__ = ["check_symbol", "finite_positive", "LocalProtocolError", "RemoteProtocolError"]
