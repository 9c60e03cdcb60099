"""The fixtures every test may use: a shared-memory name of its own, and a Config on free
ports wired to it. Every test runs under the leak check (tests/leaks.py)."""
from __future__ import annotations

import pytest

from engine import testing
from engine.config.schema import Config
from tests.support import unique_shm_name

pytest_plugins = ("tests.leaks",)


@pytest.fixture
def shm_name():
    return unique_shm_name()


@pytest.fixture
def config(tmp_path, shm_name) -> Config:
    return testing.stack_config(tmp_path / "logs", shm_name=shm_name, seed=7,
                                tick_interval=0.02, news_interval=0.2)
