"""One frozen Config for every process, and the command-line flags that build it.

Every process (`python -m engine.<name>`) and the launcher accept the same flags, so a
stack started one process per terminal agrees on ports, symbols and names with one started
by the launcher.
"""
from __future__ import annotations

import argparse
import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from .oscompat import default_log_dir

DEFAULT_SYMBOLS = ("AAPL", "MSFT", "GOOG", "AMZN", "TSLA")
SYMBOL_RE = re.compile(r"^[A-Z0-9.\-]{1,8}$")
# macOS limits POSIX shared-memory names to 31 bytes including the leading slash.
MAX_SHM_NAME = 30
# Longest suffix added to shm_name for the second (signal) segment.
SIGNAL_SUFFIX = "_s"


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def numeric_host(host: str) -> str:
    """'localhost' as the IPv4 address every server and client agrees on: resolving the name
    may give ::1 first (Windows tries it and adds about a second to every connect) while a
    server bound through the same name may listen on 127.0.0.1 only."""
    return "127.0.0.1" if host.lower() == "localhost" else host


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    price_port: int = 5001
    news_port: int = 5002
    order_port: int = 5003
    confirm_port: int = 5004
    symbols: tuple = DEFAULT_SYMBOLS
    tick_interval: float = 0.1
    news_interval: float = 1.0
    short_window: int = 5
    long_window: int = 20
    bullish: int = 60
    bearish: int = 40
    qty: int = 10
    seed: Optional[int] = None
    shm_name: str = "ipcdesk_prices"
    # the per-user data folder, never the working directory (see oscompat.data_dir)
    log_dir: str = field(default_factory=default_log_dir)
    prices_csv: Optional[str] = None
    # Largest frame any decoder accepts, in bytes.
    max_frame: int = 64 * 1024
    # Bytes queued for one slow client before the server drops it.
    client_buffer_cap: int = 1024 * 1024
    # Address servers bind to; None means `host`.
    bind: Optional[str] = None
    auth_token: Optional[str] = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # absolute, so that every process (and a restarted one) means the same folder,
        # whatever its working directory
        object.__setattr__(self, "log_dir", str(Path(self.log_dir).expanduser().absolute()))
        if self.prices_csv:
            object.__setattr__(self, "prices_csv",
                               str(Path(self.prices_csv).expanduser().absolute()))
        symbols = tuple(self.symbols)
        object.__setattr__(self, "symbols", symbols)
        if not symbols:
            raise ValueError("at least one symbol is needed")
        for s in symbols:
            if not SYMBOL_RE.match(s):
                raise ValueError(f"bad symbol {s!r}: 1-8 characters of A-Z, 0-9, '.', '-'")
        if len(set(symbols)) != len(symbols):
            raise ValueError("symbols must be unique")
        if len(self.shm_name) + len(SIGNAL_SUFFIX) > MAX_SHM_NAME:
            raise ValueError(
                f"--shm-name {self.shm_name!r} is too long: at most "
                f"{MAX_SHM_NAME - len(SIGNAL_SUFFIX)} characters (macOS limit)")
        if not re.match(r"^[A-Za-z0-9_]+$", self.shm_name):
            raise ValueError("--shm-name may hold only letters, digits and '_'")
        if not (1 <= self.short_window < self.long_window):
            raise ValueError("need 1 <= --short-window < --long-window")
        if not (0 <= self.bearish <= self.bullish <= 100):
            raise ValueError("need 0 <= --bearish <= --bullish <= 100")
        if self.qty <= 0:
            raise ValueError("--qty must be positive")
        if self.tick_interval < 0 or self.news_interval <= 0:
            raise ValueError("intervals must be positive (tick interval 0 means as fast as possible)")
        if self.bind and not _is_loopback(self.bind) and not self.auth_token:
            raise ValueError(
                f"--bind {self.bind} listens beyond this machine: give --auth-token TOKEN "
                "(or set IPCDESK_AUTH_TOKEN) so that only your clients are let in")
        for name in ("price_port", "news_port", "order_port", "confirm_port"):
            port = getattr(self, name)
            if not (0 <= port <= 65535):
                raise ValueError(f"{name} out of range: {port}")

    # Derived names ---------------------------------------------------------
    @property
    def signal_shm_name(self) -> str:
        return self.shm_name + SIGNAL_SUFFIX

    @property
    def bind_host(self) -> str:
        return numeric_host(self.bind or self.host)

    @property
    def connect_host(self) -> str:
        """Where clients connect (`host`, with 'localhost' as 127.0.0.1)."""
        return numeric_host(self.host)

    @property
    def log_path(self) -> Path:
        return Path(self.log_dir)

    def replace(self, **changes) -> "Config":
        return dataclasses.replace(self, **changes)


def _symbols(text: str) -> tuple:
    return tuple(s.strip().upper() for s in text.split(",") if s.strip())


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    d = Config()
    g = parser.add_argument_group("stack configuration (the same for every process)")
    g.add_argument("--host", default=d.host,
                   help="address clients connect to (default %(default)s)")
    g.add_argument("--bind", default=None,
                   help="address servers listen on (default: --host). A non-loopback "
                        "address needs --auth-token")
    g.add_argument("--auth-token", default=None,
                   help="shared secret clients present first (or env IPCDESK_AUTH_TOKEN)")
    g.add_argument("--price-port", type=int, default=d.price_port,
                   help="Gateway price stream port (default %(default)s)")
    g.add_argument("--news-port", type=int, default=d.news_port,
                   help="Gateway news sentiment port (default %(default)s)")
    g.add_argument("--order-port", type=int, default=d.order_port,
                   help="OrderManager order port (default %(default)s)")
    g.add_argument("--confirm-port", type=int, default=d.confirm_port,
                   help="OrderManager confirmations broadcast port (default %(default)s)")
    g.add_argument("--symbols", type=_symbols, default=d.symbols,
                   help="comma-separated symbols (default %s)" % ",".join(d.symbols))
    g.add_argument("--shm-name", default=d.shm_name,
                   help="shared-memory price book name, at most %d characters (default %%(default)s)"
                        % (MAX_SHM_NAME - len(SIGNAL_SUFFIX)))
    g.add_argument("--log-dir", default=d.log_dir,
                   help="folder for <process>.log and orders.jsonl (default: the per-user "
                        "data folder, %(default)s)")
    g.add_argument("--tick-interval", type=float, default=d.tick_interval,
                   help="seconds between price ticks of each symbol; 0 = as fast as possible "
                        "(default %(default)s)")
    g.add_argument("--news-interval", type=float, default=d.news_interval,
                   help="seconds between sentiment values (default %(default)s)")
    g.add_argument("--short-window", type=int, default=d.short_window,
                   help="short moving-average window in ticks (default %(default)s)")
    g.add_argument("--long-window", type=int, default=d.long_window,
                   help="long moving-average window in ticks (default %(default)s)")
    g.add_argument("--bullish", type=int, default=d.bullish,
                   help="buy only when sentiment is above this (default %(default)s)")
    g.add_argument("--bearish", type=int, default=d.bearish,
                   help="sell only when sentiment is below this (default %(default)s)")
    g.add_argument("--qty", type=int, default=d.qty,
                   help="shares per position (default %(default)s)")
    g.add_argument("--seed", type=int, default=None,
                   help="random seed for prices and news (default: random)")
    g.add_argument("--prices-csv", default=None,
                   help="replay timestamp,symbol,price rows from this CSV instead of a random walk")
    return parser


def from_args(ns: argparse.Namespace) -> Config:
    import os
    token = ns.auth_token or os.environ.get("IPCDESK_AUTH_TOKEN") or None
    return Config(
        host=ns.host, bind=ns.bind, auth_token=token,
        price_port=ns.price_port, news_port=ns.news_port,
        order_port=ns.order_port, confirm_port=ns.confirm_port,
        symbols=ns.symbols, shm_name=ns.shm_name, log_dir=ns.log_dir,
        tick_interval=ns.tick_interval, news_interval=ns.news_interval,
        short_window=ns.short_window, long_window=ns.long_window,
        bullish=ns.bullish, bearish=ns.bearish, qty=ns.qty, seed=ns.seed,
        prices_csv=ns.prices_csv,
    )


def parse_args(argv: Optional[Sequence[str]] = None, description: str = "",
               parser: Optional[argparse.ArgumentParser] = None):
    """Parse the shared flags (plus any the caller added to `parser`).

    Returns (config, namespace). An invalid combination exits with a one-line message.
    """
    parser = parser or argparse.ArgumentParser(description=description)
    add_arguments(parser)
    ns = parser.parse_args(argv)
    try:
        cfg = from_args(ns)
    except ValueError as exc:
        parser.error(str(exc))
    return cfg, ns
