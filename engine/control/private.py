"""A stack of its own: free ports and a shared-memory name nobody else uses, so that a tool's
stack (the screenshot, the demo video, the tests, the bench) never meets a desk that runs."""
from __future__ import annotations

import os
import uuid

from engine.config.schema import Config
from engine.net.ports import free_ports


def unique_shm_name(prefix: str = "ipct") -> str:
    """`<prefix><pid>_<8 hex>`: unique on this machine, within the 28 characters a price book
    name may have (macOS), and recognisable as this process's."""
    return f"{prefix}{os.getpid() % 100000}_{uuid.uuid4().hex[:8]}"


PORTS = ("price_port", "news_port", "order_port", "confirm_port")


def private_stack(config: Config, said=frozenset(), shm_prefix: str = "ipcd") -> Config:
    """`config` on ports nobody uses and a shared-memory name of its own, except where the
    user said otherwise (`said`: the fields given as flags), so that a tool's stack (the
    screenshot, the demo video) never meets a desk that is running."""
    changes = {}
    if not set(said) & set(PORTS):
        changes.update(zip(PORTS, free_ports(len(PORTS))))
    if "shm_name" not in said:
        changes["shm_name"] = unique_shm_name(shm_prefix)
    return config.replace(**changes)

