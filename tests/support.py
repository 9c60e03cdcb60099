"""What tests share besides fixtures: where the checkout is, shared-memory names of this run,
and the controllers of module-scoped fixtures (whose children outlive single tests on
purpose; the leak check leaves them to their fixture's own teardown)."""
from __future__ import annotations

import os
from pathlib import Path

from engine import testing

ROOT = Path(__file__).resolve().parents[1]
SHM_PREFIX = "ipct"
SHARED_CONTROLLERS: list = []


def shm_prefix() -> str:
    """Per test run, so parallel runs on one machine never see each other's segments."""
    return f"{SHM_PREFIX}{os.getpid() % 100000}_"


def unique_shm_name() -> str:
    return testing.unique_shm_name(SHM_PREFIX)
