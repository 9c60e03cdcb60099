"""The desk's saved settings: what it remembers of the Settings panel, read back as typed
values and merged under the command line (a flag given wins)."""
from __future__ import annotations

import math
from typing import Set

from .schema import Config, settings


def parse_saved(raw: dict) -> dict:
    """Typed values of the desk's settings from what a settings store returned (INI files give
    back strings); unreadable values are left out."""
    out = {}
    for name, s in settings():
        if not s.label or raw.get(name) in (None, ""):
            continue
        try:
            value = s.parse(raw[name])
        except (TypeError, ValueError):
            continue
        if isinstance(value, float) and not math.isfinite(value):
            continue
        out[name] = value
    return out


def merge_saved(config: Config, saved: dict, explicit: Set[str] = frozenset()) -> Config:
    """Saved settings as defaults: each saved value replaces the config's unless the user gave
    its flag. An invalid combination is dropped field by field (never fatal)."""
    wanted = {k: v for k, v in parse_saved(saved).items() if k not in explicit}
    try:  # fields that only make sense together (short < long, bearish <= bullish)
        return config.replace(**wanted) if wanted else config
    except ValueError:
        pass
    cfg = config
    for key, value in wanted.items():
        try:
            cfg = cfg.replace(**{key: value})
        except ValueError:
            continue
    return cfg


def saved_text(value) -> str:
    """How a setting is stored: symbols comma-separated, the rest as they print."""
    return ",".join(value) if isinstance(value, tuple) else str(value)

