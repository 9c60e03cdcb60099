"""One frozen Config for every process, each setting declared once.

A setting is a dataclass field whose metadata (`setting(...)`) holds its flag, help text,
bounds and, for those the desk edits, the label of its field in the Settings panel. The
command line (engine.config.flags), the saved settings (engine.config.saved) and the desk's
Settings panel are all derived from that: a new setting is one field here.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable, Optional, Tuple

from engine.platforms.paths import default_log_dir

DEFAULT_SYMBOLS = ("AAPL", "MSFT", "GOOG", "AMZN", "TSLA")
SYMBOL_RE = re.compile(r"^[A-Z0-9.\-]{1,8}$")
# macOS limits POSIX shared-memory names to 31 bytes including the leading slash.
MAX_SHM_NAME = 30
# Longest suffix added to shm_name for the second (signal) segment.
SIGNAL_SUFFIX = "_s"
TOKEN_ENV = "IPCDESK_AUTH_TOKEN"


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def numeric_host(host: str) -> str:
    """'localhost' as the IPv4 address every server and client agrees on: resolving the name
    may give ::1 first (Windows tries it and adds about a second to every connect) while a
    server bound through the same name may listen on 127.0.0.1 only."""
    return "127.0.0.1" if host.lower() == "localhost" else host


MAX_UNIVERSE = 17_576  # generated names: every three-letter code


def universe(n: int) -> tuple:
    """`n` symbols: the five defaults first, then three-letter codes spread over the
    alphabet (BQX, DGM, ...), the same every time."""
    if not 1 <= n <= MAX_UNIVERSE:
        raise ValueError(f"a universe has 1 to {MAX_UNIVERSE} symbols, not {n}")
    names = list(DEFAULT_SYMBOLS[:n])
    k = 0
    while len(names) < n:
        k += 1
        i = (k * 7919) % MAX_UNIVERSE  # 7919 is prime to 26**3: every code comes once
        names.append("".join(chr(65 + d) for d in (i // 676, i // 26 % 26, i % 26)))
    return tuple(names)


def parse_symbols(value) -> tuple:
    """'aapl, MSFT' (a flag, a saved string) or a list -> ('AAPL', 'MSFT'); a count
    ('500') -> that many generated symbols (see `universe`)."""
    if isinstance(value, str):
        if value.strip().isdigit():
            return universe(int(value))
        value = value.split(",")
    return tuple(str(s).strip().upper() for s in value if str(s).strip())


ROLES = ("gateway", "orderbook", "strategy", "order_manager")  # what a process can be


def parse_remote(value) -> tuple:
    """'gateway,order-manager' (a flag) or a list -> ('gateway', 'order_manager')."""
    if isinstance(value, str):
        value = value.split(",")
    names = []
    for v in value:
        name = str(v).strip().lower().replace("-", "_")
        name = {"ordermanager": "order_manager", "om": "order_manager"}.get(name, name)
        if name:
            names.append(name)
    return tuple(names)


@dataclass(frozen=True)
class Setting:
    """What a Config field is to the command line and to the desk."""
    flag: str
    help: str
    parse: Callable = str           # text (a flag, a saved value) -> value
    label: Optional[str] = None     # the desk's Settings panel shows and remembers it
    low: Optional[float] = None     # bounds of the panel's field
    high: Optional[float] = None
    decimals: int = 0
    step: float = 1.0
    suffix: str = ""
    tip: str = ""                   # the panel's tooltip (default: the help text)
    switch: bool = False            # a flag without a value (--sync-orders)


def setting(default=None, *, default_factory=None, repr=True, **meta):
    kwargs = {"default_factory": default_factory} if default_factory else {"default": default}
    return field(repr=repr, metadata={"setting": Setting(**meta)}, **kwargs)


@dataclass(frozen=True)
class Config:
    host: str = setting("127.0.0.1", flag="--host",
                        help="address clients connect to; servers listen on it too")
    bind: Optional[str] = setting(flag="--bind", help="address servers listen on (default: "
                                  "--host); a non-loopback address needs --auth-token, and "
                                  "--tls-cert/--tls-key or --insecure")
    auth_token: Optional[str] = setting(repr=False, flag="--auth-token",
                                        help=f"shared secret clients present first (or "
                                             f"env {TOKEN_ENV})")
    price_port: int = setting(5001, flag="--price-port", parse=int,
                              help="Gateway price stream port")
    news_port: int = setting(5002, flag="--news-port", parse=int,
                             help="Gateway news sentiment port")
    order_port: int = setting(5003, flag="--order-port", parse=int,
                              help="OrderManager order port")
    confirm_port: int = setting(5004, flag="--confirm-port", parse=int,
                                help="OrderManager confirmations broadcast port")
    symbols: tuple = setting(DEFAULT_SYMBOLS, flag="--symbols", parse=parse_symbols,
                             help="comma-separated symbols, or a count (500: the five "
                                  "defaults and 495 generated names)", label="Symbols",
                             tip="Comma-separated symbols, e.g. AAPL,MSFT,GOOG, or a count "
                                 "such as 500")
    short_window: int = setting(5, flag="--short-window", parse=int, label="Short MA",
                                help="short moving-average window, in ticks", low=1,
                                high=10_000)
    long_window: int = setting(20, flag="--long-window", parse=int, label="Long MA",
                               help="long moving-average window, in ticks", low=2,
                               high=100_000)
    bullish: int = setting(60, flag="--bullish", parse=int, label="Bullish >", low=0,
                           high=100, help="buy only when sentiment is above this")
    bearish: int = setting(40, flag="--bearish", parse=int, label="Bearish <", low=0,
                           high=100, help="sell only when sentiment is below this")
    qty: int = setting(10, flag="--qty", parse=int, label="Qty", low=1, high=1_000_000,
                       help="shares per position")
    account: Optional[str] = setting(flag="--account", help="a Strategy's account: the "
                                     "OrderManager keeps its orders, positions and P&L under "
                                     "it (default: the process's name, `strategy`)")
    tick_interval: float = setting(0.1, flag="--tick-interval", parse=float,
                                   help="seconds between price ticks of each symbol; 0 = as "
                                        "fast as possible", label="Tick every", low=0.0,
                                   high=60.0, decimals=3, step=0.01, suffix=" s")
    volatility: float = setting(0.3, flag="--volatility", parse=float,
                                help="the random walk's volatility: the standard deviation "
                                     "of a symbol's price change over a minute, in percent "
                                     "(0.3: a few tenths of a percent a minute, as a large "
                                     "stock on a calm day), whatever the tick interval")
    news_interval: float = setting(1.0, flag="--news-interval", parse=float,
                                   help="seconds between sentiment values")
    seed: Optional[int] = setting(flag="--seed", parse=int,
                                  help="random seed for prices and news (default: random)")
    shm_name: str = setting("ipcdesk_prices", flag="--shm-name",
                            help=f"shared-memory price book name, at most "
                                 f"{MAX_SHM_NAME - len(SIGNAL_SUFFIX)} characters")
    # the per-user data folder, never the working directory (see oscompat.data_dir)
    log_dir: str = setting(default_factory=default_log_dir, flag="--log-dir",
                           help="folder for <process>.log and orders.jsonl (default: the "
                                "per-user data folder)")
    prices_csv: Optional[str] = setting(flag="--prices-csv", help="replay timestamp,symbol,"
                                        "price rows from this CSV instead of a random walk")
    tls_cert: Optional[str] = setting(flag="--tls-cert", help="servers: their TLS "
                                      "certificate chain (PEM); with --tls-key")
    tls_key: Optional[str] = setting(flag="--tls-key", help="servers: the certificate's "
                                     "private key (PEM)")
    tls_ca: Optional[str] = setting(flag="--tls-ca", help="clients: connect with TLS and "
                                    "accept only a server certificate signed by this CA "
                                    "(PEM) for the --host they connect to")
    insecure: bool = setting(False, flag="--insecure", switch=True,
                             help="let servers listen beyond this machine without TLS: "
                                  "the token and every order then cross the network in "
                                  "clear text")
    remote: tuple = setting((), flag="--remote", parse=parse_remote,
                            help="processes that run on another machine (at --host), e.g. "
                                 "gateway,order_manager: the launcher and the desk neither "
                                 "start nor stop them")
    sync_orders: bool = setting(False, flag="--sync-orders", switch=True,
                                help="wait for the disk (fsync) before acknowledging orders, "
                                     "one fsync per batch that arrived together: orders then "
                                     "survive an OS crash or power cut, not only a crash of "
                                     "the OrderManager (costs: README)")
    strict_wire: bool = setting(False, flag="--strict-wire", switch=True,
                                help="read only the assignment's shapes: refuse the variants "
                                     "other teams send (prices with a timestamp or as JSON, "
                                     "orders as CSV or with sym/px, a peer's own id; "
                                     "docs/interoperating.md)")
    log_max_mb: float = setting(10.0, flag="--log-max-mb", parse=float,
                                help="each process log is rotated past this many MB, 3 old "
                                     "files kept (<name>.log.1 ...); the order log never is")
    max_clients: int = setting(1000, flag="--max-clients", parse=int,
                               help="clients each server holds at most; past it a new "
                                    "connection is closed at once (logged and counted)")
    spin_us: float = setting(0.0, flag="--spin-us", parse=float,
                             help="after handling an event, the Strategy and the OrderManager "
                                  "poll without sleeping for this many microseconds before "
                                  "they block again, so that the next event of a burst finds "
                                  "them awake (0: off; docs/performance.md measures it)")
    # Largest frame any decoder accepts, in bytes.
    max_frame: int = 64 * 1024
    # Bytes queued for one slow client before the server drops it.
    client_buffer_cap: int = 1024 * 1024
    # A Strategy writes what it sees (averages, position) to the signal book the desk charts;
    # in a stack of several, only the first does (the controller says which).
    publish_signals: bool = True

    def __post_init__(self) -> None:
        # absolute, so that every process (and a restarted one) means the same folder,
        # whatever its working directory
        object.__setattr__(self, "log_dir", str(Path(self.log_dir).expanduser().absolute()))
        if self.prices_csv:
            object.__setattr__(self, "prices_csv",
                               str(Path(self.prices_csv).expanduser().absolute()))
        object.__setattr__(self, "symbols", tuple(self.symbols))
        object.__setattr__(self, "remote", parse_remote(self.remote))
        for name in ("tls_cert", "tls_key", "tls_ca"):  # every process means the same file
            if getattr(self, name):
                object.__setattr__(self, name,
                                   str(Path(getattr(self, name)).expanduser().absolute()))
        self._check()

    def _check(self) -> None:
        symbols = self.symbols
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
        if self.account is not None and not re.match(r"^[A-Za-z0-9_.-]{1,40}$", self.account):
            raise ValueError("--account is 1 to 40 letters, digits, '_', '.' or '-'")
        if not 0 < self.volatility <= 100:
            raise ValueError("--volatility is a percent a minute, above 0 and at most 100")
        if self.tick_interval < 0 or self.news_interval <= 0:
            raise ValueError("intervals must be positive (tick interval 0 means as fast as possible)")
        if self.bind and not _is_loopback(self.bind) and not self.auth_token:
            raise ValueError(
                f"--bind {self.bind} listens beyond this machine: give --auth-token TOKEN "
                f"(or set {TOKEN_ENV}) so that only your clients are let in")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("--tls-cert and --tls-key go together")
        if self.bind and not _is_loopback(self.bind) and not (self.tls_cert or self.insecure):
            raise ValueError(
                f"--bind {self.bind} listens beyond this machine: give --tls-cert and "
                f"--tls-key (python -m engine.net.tls lab makes them), or --insecure to send the "
                f"token and the orders in clear text")
        unknown = set(self.remote) - set(ROLES)
        if unknown:
            raise ValueError(f"--remote: no process called {', '.join(sorted(unknown))} "
                             f"(choose from {', '.join(ROLES)})")
        if self.log_max_mb <= 0:
            raise ValueError("--log-max-mb must be positive")
        if not 0 <= self.spin_us <= 100_000:
            raise ValueError("--spin-us is 0 (off) to 100000 microseconds")
        if self.max_clients < 1:
            raise ValueError("--max-clients must be at least 1")
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


# -- what is declared ---------------------------------------------------------------------------
def settings() -> Tuple[Tuple[str, Setting], ...]:
    """(field name, Setting) of every field with a flag, in declaration order."""
    return tuple((f.name, f.metadata["setting"]) for f in fields(Config)
                 if "setting" in f.metadata)


def settings_fields() -> Tuple[str, ...]:
    """The fields the desk edits in its Settings panel and remembers between runs."""
    return tuple(name for name, s in settings() if s.label)
